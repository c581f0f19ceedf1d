//! The main job: list, fetch, verify and lay out a registry that cargo builds from.
//!
//! **Layer:** 3; it composes the index cache (cargo's index format, the sparse client, lock
//! files), the lister (the registry's database dump), the transport and the retry crates, and
//! is itself composed only by the `fetchkit` umbrella and the CLI.
//!
//! A [`Mirror`] run selects crates (from lock files, `NAME@REQ` specs and the registry's
//! database dump, narrowed by [`NameFilter`] and [`Versions`]), reads their index lines from an
//! [`Upstream`] (a sparse index, a cargo home's own caches with no network, or the dump
//! itself), puts every selected `.crate` file in
//! place verified against its index `cksum`, and writes index files holding upstream's lines
//! byte for byte, for the versions present only. The folder is a sparse registry as it stands
//! (serve it with [`serve::Server`], `fetchkit serve` or nginx) and, in the
//! [`Layout::LocalRegistry`] layout, a cargo local registry too.
//!
//! What makes it robust rather than merely fast:
//! - a file is written to a temporary file, checked, renamed, then **journaled**; a run killed
//!   at any point is resumed by the next, which fetches nothing already verified;
//! - index files are written last and list only versions whose file is in place, so a server
//!   never offers what it cannot deliver;
//! - failures are collected in the [`Report`] (the run goes on past them with
//!   [`Mirror::keep_going`]) and simply retried by the next run;
//! - [`verify()`] re-hashes everything and names what is missing, corrupt or extra;
//! - everything written is made durable with one file-system sync before any index file
//!   names it, rather than one `fsync` per file;
//! - a dump's listing state moves on only after a run with no failure, so a file that failed
//!   is listed again however many dumps later.
//!
//! ```no_run
//! use fetchkit_mirror::{Mirror, Upstream};
//!
//! # async fn example() -> Result<(), fetchkit_mirror::MirrorError> {
//! let report = Mirror::new("mirror", Upstream::CargoHome("/home/me/.cargo".into()))
//!     .lockfile("Cargo.lock")
//!     .run()
//!     .await?;
//! assert!(report.failures.is_empty());
//! let check = fetchkit_mirror::verify("mirror".as_ref(), 4)?;
//! assert!(check.is_clean());
//! # Ok(())
//! # }
//! ```

mod body;
mod dump;
mod error;
mod journal;
mod layout;
mod run;
mod select;
pub mod serve;
mod upstream;
mod verify;

pub use dump::{DumpReport, DumpSource};
pub use error::MirrorError;
pub use layout::{Layout, prefix};
pub use run::{
    DEFAULT_BASE_URL, DEFAULT_JOBS, Failure, Mirror, NoProgress, Progress, Report, crate_file,
};
pub use select::{CrateSpec, NameFilter, Shard, Versions};
pub use serve::{ServeError, Server};
pub use upstream::Upstream;
pub use verify::{Corrupt, VerifyReport, verify};
