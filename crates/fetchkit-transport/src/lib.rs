//! Streamed HTTP downloads that are hashed while they stream, resumed when interrupted,
//! verified before they count, and written atomically.
//!
//! **Layer 1.** This is the only fetchkit crate that names `reqwest`; everything above it
//! downloads through here. It builds on `fetchkit-retry` for backoff decisions and writer
//! factories, and knows nothing of registries, indexes or mirrors. It never prints and never
//! reads the environment: timeouts, proxies and retries are the caller's settings.
//!
//! The design in one paragraph: [`download_with_factory`] asks the server, and only once the
//! answer is a success asks the [`AsyncWriterFactory`] for a writer (so an error page never
//! lands in a file). The body streams through a gzip decoder when the server encoded it, then
//! into the writer, while SHA-256 (and SHA-512 when expected or asked for) run over the same
//! decoded bytes on their own threads once the body is large. Size and digests are checked
//! before the factory commits; a mismatch is permanent and leaves nothing behind. A body that
//! breaks off on a server with ranges and a strong validator continues from the bytes already
//! written (`Range` + `If-Range`), with the hash state carried over; any other transient
//! failure starts over with a fresh writer. Failures say whether they are transient
//! ([`Error::is_transient`]) and show URLs only through [`RedactedUrl`].
//!
//! Taskcluster's negotiated downloads build on the same core: [`object`] negotiates with an
//! object service and verifies the data against the object's hashes, [`artifact`] resolves a
//! task artifact through the queue, and [`taskcluster`] holds the client they share
//! (Hawk-signed API calls, credentials that never print).
//!
//! Hashing is selective on purpose: SHA-512 costs about twice SHA-256 on CPUs with SHA
//! extensions, so computing it unasked would halve the speed of every large download. SHA-256
//! is computed by default and can be turned off where nobody reads it.
//!
//! ```no_run
//! use fetchkit_transport::{Client, Download, Retry, download_to_file};
//!
//! # async fn example() -> Result<(), fetchkit_transport::Error> {
//! let client = Client::new()?;
//! let download = Download::parse("http://127.0.0.1:8080/file.tar.gz")?
//!     .sha256("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".parse().unwrap());
//! let done = download_to_file(&client, &Retry::default(), &download, "file.tar.gz".as_ref()).await?;
//! // Expected, so computed and verified.
//! assert!(done.sha256.is_some());
//! # let _ = done.size;
//! # Ok(())
//! # }
//! ```

pub mod artifact;
mod client;
mod conditional;
mod digest;
mod download;
mod error;
mod hashing;
pub mod object;
mod redact;
pub mod taskcluster;

pub use crate::client::{Client, ClientBuilder, USER_AGENT};
pub use crate::conditional::{Fetched, Validator, fetch_conditional};
pub use crate::digest::{DigestParseError, Expected, Sha256Digest, Sha512Digest};
pub use crate::download::{
    Download, Downloaded, Progress, Renew, RenewError, download_to_buf, download_to_file,
    download_to_vec, download_with_factory,
};
pub use crate::error::{Error, ErrorKind, status_is_transient};
pub use crate::redact::RedactedUrl;

// The retry vocabulary callers need to call the functions above, re-exported so a user of
// this crate alone does not have to add `fetchkit-retry` to name it.
pub use fetchkit_retry::{AsyncWriterFactory, AtomicFile, Retry, RetryPolicy, SliceFactory};
