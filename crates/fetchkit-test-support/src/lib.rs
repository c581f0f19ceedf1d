//! A loopback HTTP/1.1 server with scripted faults, for fetchkit's tests.
//!
//! [`FaultServer`] serves [`Resource`]s on `127.0.0.1` and records every request it receives
//! (method, target, headers, body) before replying, so a test can assert what the client sent
//! even when the reply never comes. Each resource carries a script of [`Reply`]s: the Nth
//! request to its path gets the Nth entry (error statuses, `Retry-After`, redirects, resets
//! mid-body, short bodies, stalls, corrupted bytes) and later requests are served normally, with
//! optional ranges, validators, gzip and chunked framing. The server is written on raw TCP
//! rather than an HTTP library because the interesting faults live below HTTP: a reset after
//! exactly N body bytes or a connection that goes silent needs control of the socket, not of a
//! response object.
//!
//! Paths can also be answered by a function of the request ([`FaultServer::handle`] with a
//! [`HandlerReply`]); request bodies framed by `Content-Length` are read and recorded.
//! [`FakeTaskcluster`] uses that to run fakes of the Taskcluster object service and queue that
//! follow the services' schemas and check Hawk signatures, with the object data served as
//! ordinary resources so data GETs can be scripted like any other.
//!
//! [`SparseRegistry`] serves a cargo sparse registry on the same server (index files with
//! switchable validators, `config.json`, `.crate` files of tiny [`FakeCrate`]s that compile),
//! and [`CargoSandbox`] runs the real cargo that builds the tests against it in a throwaway
//! cargo home: cargo is the judge of the index caches fetchkit reads and writes.
//! [`DumpBuilder`] makes a registry database dump of the same crates, as the registry lays it
//! out today, for the lister and the mirror's dump source.
//!
//! Layer: dev-only. Nothing may depend on this crate except as a dev-dependency; it is for the
//! library's integration tests, the end-to-end tests of the `fetchkit` binary and
//! `cargo xtask demo`. It does not do TLS, HTTP/2, multipart ranges or chunked request bodies,
//! and it never sleeps: stalls last until the client or the server goes away.
//!
//! ```no_run
//! use fetchkit_test_support::{FaultServer, Reply, Resource};
//!
//! let server = FaultServer::start();
//! server.route(
//!     "/crate.tar.gz",
//!     Resource::new(vec![7u8; 1 << 20])
//!         .ranges(true)
//!         .etag("\"v1\"")
//!         .script([Reply::Status(503), Reply::ResetAfter(1000)]),
//! );
//! let url = server.url("/crate.tar.gz");
//! // ... point the client at `url`: it sees a 503, then a reset after 1000 bytes, then the
//! // body (a resuming client asks for `Range: bytes=1000-` with `If-Range: "v1"`).
//! assert_eq!(server.requests_to("/crate.tar.gz").len(), 3);
//! ```

pub mod archives;
mod cargo;
mod dump;
mod files;
mod handler;
mod registry;
mod request;
mod resource;
mod response;
mod server;
mod taskcluster;

pub use crate::cargo::CargoSandbox;
pub use crate::dump::DumpBuilder;
pub use crate::files::file_names;
pub use crate::handler::HandlerReply;
pub use crate::registry::{FakeCrate, FakeDependency, SparseRegistry, Validators};
pub use crate::request::RecordedRequest;
pub use crate::resource::{Reply, Resource};
pub use crate::server::FaultServer;
pub use crate::taskcluster::{ApiCall, FakeArtifact, FakeObject, FakeTaskcluster};
