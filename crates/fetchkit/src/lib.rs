//! fetchkit: get packages from registries and artifact stores reliably and fast.
//!
//! **Layer 4, the umbrella.** This crate has no code of its own: it re-exports the fetchkit
//! crates under short names so an application can depend on one crate, while a library that
//! needs one capability can depend on that crate alone (each is useful without the others).
//!
//! | module | crate | what it does |
//! |---|---|---|
//! | [`retry`] | `fetchkit-retry` | backoff decisions with jitter and `Retry-After`, writer factories; no network |
//! | [`transport`] | `fetchkit-transport` | streamed downloads: hashed, gzip-decoded, resumed, verified, atomic |
//! | [`protocols`] | `fetchkit-protocols` | fetch protocols: Orbit-compatible configuration, command and archive protocols, safe extraction, content checksums |
//! | [`index_cache`] | `fetchkit-index-cache` | cargo's index cache format, index paths, sparse-index client |
//! | [`lister`] | `fetchkit-lister` | registry database-dump listing, incremental |
//! | [`mirror`] | `fetchkit-mirror` | verified, resumable registry mirrors that cargo builds from, and their server |
//!
//! ```no_run
//! use fetchkit::transport::{Client, Download, Retry, download_to_file};
//!
//! # async fn example() -> Result<(), fetchkit::transport::Error> {
//! let client = Client::new()?;
//! let download = Download::parse("http://127.0.0.1:8080/data.bin")?.size(1024);
//! download_to_file(&client, &Retry::default(), &download, "data.bin".as_ref()).await?;
//! # Ok(())
//! # }
//! ```

pub use fetchkit_index_cache as index_cache;
pub use fetchkit_lister as lister;
pub use fetchkit_mirror as mirror;
pub use fetchkit_protocols as protocols;
pub use fetchkit_retry as retry;
pub use fetchkit_transport as transport;
