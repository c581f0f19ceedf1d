//! Crates and versions listed from the public Rust registry's database dump, incrementally.
//!
//! **Layer 2**, beside `fetchkit-protocols` and `fetchkit-index-cache`. It builds on
//! `fetchkit-transport` to fetch the dump and knows nothing of mirrors, of how crate files are
//! downloaded, or of where its output goes. It never prints and reads no environment variables:
//! templates, state and overlap are the caller's settings, progress goes through
//! [`Progress`].
//!
//! The registry publishes its database as a `.tar.gz` of CSV tables. A listing reads three
//! members, `metadata.json` (the dump's `timestamp`), `data/crates.csv` and
//! `data/versions.csv` (and `data/deleted_crates.csv` when it comes along), and produces one
//! [`Page`] per crate: one [`VersionLine`] per version with its crate-file URL, SHA-256, yanked
//! flag and `updated_at`. [`Page::origin`] turns a page into the origin Software Heritage's
//! `crates` loader takes. With [`ListOptions::index_metadata`] it reads `data/dependencies.csv`
//! too, and each line carries the [`VersionMetadata`] a cargo registry index line needs
//! (features, `links`, `rust_version`, [`Dependency`]s), so a mirror can write an index from
//! the dump alone.
//!
//! Why it is shaped this way:
//!
//! - **One streaming pass.** gzip → tar → CSV with bounded buffers and no temporary files,
//!   decompression on one thread and parsing on another; reading stops once the three members
//!   are read, before the dump's big trailing tables ([`list_from_url`] parses while the
//!   download streams in, and abandons the transfer there). Index metadata reads on through
//!   `dependencies.csv`, streamed like the rest: each of its rows is dropped after one field
//!   unless its version is listed.
//! - **Tolerant of schema drift, strict about values.** Columns are found by header name
//!   (extra and reordered columns are fine; `checksum` and its successor `tar_sha256` are both
//!   read; timestamps with 0 to 9 fractional digits, with or without `+00`); members are found
//!   by path whatever the top folder is called and in any order. Every value used is checked,
//!   and a bad one is an error naming the file, line and column ([`ListError`]).
//! - **Incremental by crate.** With a [`State`] from the last complete run, only crates whose
//!   crate-level `updated_at` is later than that dump's timestamp minus an overlap (default one
//!   hour, for publishes that committed during the previous dump) are listed, each with all its
//!   versions. A dump not newer than the state lists nothing. The caller saves
//!   [`Listing::next_state`] only once the output is safely written, so a failed run is redone.
//!   (Software Heritage's lister never advances its state past the first run; this one does.)
//! - **A pure core.** Row parsing, grouping, version order, template expansion and state
//!   decisions are plain functions over data; the IO around them is thin.
//!
//! Cost: peak memory is about 100 bytes per version (about 210 MB for 2 million versions):
//! rows stay where parsing put them, as 64-byte entries, and a page is a list of row numbers
//! in version order. [`Listing::pages`] makes owned pages on demand, and
//! [`Listing::write_json_lines`] writes the listing from the table on up to four threads,
//! byte for byte what `serde_json` writes for the same values. Time against the
//! decompression bound and peer tools is measured by `cargo xtask bench lister` and recorded
//! in `docs/benchmarks.md`. Index metadata costs more, for listed versions only: reading
//! `dependencies.csv` (the dump's largest table, about 40 % of its bytes), a version-id map
//! (about 16 bytes a listed version), every crate's name (a few MB), and per listed version
//! about 150 bytes plus its features text, plus about 200 bytes per dependency (its strings
//! owned). With several dependencies to a version, a full listing with index metadata holds
//! gigabytes; a [`ListOptions::crate_filter`] keeps that to the crates a mirror wants.
//!
//! What it deliberately does not do: fetch crate files, read the registry's index, write index
//! lines, follow deletions beyond reporting them, or keep per-version state.
//!
//! ```no_run
//! use fetchkit_lister::{LineFormat, ListOptions, State, Templates, list_from_path};
//!
//! # async fn example() -> Result<(), fetchkit_lister::ListError> {
//! let templates = Templates::new(
//!     "https://static.registry.example/crates/{crate}/{crate}-{version}.crate",
//!     "https://registry.example/crates/{crate}",
//! )?;
//! let state_file = std::path::Path::new("lister-state.json");
//! let mut options = ListOptions::new(templates.clone());
//! options.since = State::load(state_file)?;
//! let listing = list_from_path("db-dump.tar.gz", &options).await?;
//! // One JSON line per crate, made on every core.
//! listing
//!     .write_json_lines(&mut std::io::stdout().lock(), LineFormat::Origins)
//!     .expect("stdout");
//! // Or the values themselves.
//! for page in listing.pages().take(3) {
//!     let origin = page.origin(&templates);
//!     eprintln!("{} has {} versions", origin.url, page.versions.len());
//! }
//! listing.next_state().save(state_file)?;
//! # Ok(())
//! # }
//! ```

mod archive;
mod error;
mod json;
mod listing;
mod metadata;
mod order;
mod origin;
mod remote;
mod rows;
mod state;
mod template;
mod timestamp;

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use fetchkit_transport::Progress;

pub use crate::error::ListError;
pub use crate::json::LineFormat;
pub use crate::listing::{DeletedCrate, Listing, Page, Stats, VersionLine};
pub use crate::metadata::{Dependency, DependencyKind, VersionMetadata};
pub use crate::origin::{Artifact, Checksums, CrateMetadata, LoaderArguments, Origin};
pub use crate::remote::{list_from_path, list_from_url};
pub use crate::state::State;
pub use crate::template::Templates;
pub use crate::timestamp::{DumpTime, Timestamp, TimestampError};

/// How far before the last dump's timestamp an incremental run looks, by default: a publish
/// that started before a dump was taken but committed after its snapshot carries an earlier
/// `updated_at` than the dump and is missing from it.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(3600);

/// What to list and how to name it.
#[derive(Clone)]
#[non_exhaustive]
pub struct ListOptions {
    /// The URL templates of crate files and origins.
    pub templates: Templates,
    /// The state of the last complete run; `None` lists every crate.
    pub since: Option<State>,
    /// Crates updated up to this long before `since` are listed again.
    pub overlap: Duration,
    /// Hears the compressed bytes as they are read.
    pub progress: Option<Arc<dyn Progress>>,
    /// Also read what a registry index line needs ([`VersionLine::metadata`]): features,
    /// `links` and `rust_version` from `versions.csv` (which must then have an `id` column)
    /// and the dependencies from `data/dependencies.csv` (which must then be in the dump).
    /// Dependencies are joined to versions by version id, so two listed versions with the
    /// same id are an error. Off by default: reading stops before `dependencies.csv`.
    pub index_metadata: bool,
    /// Lists only crates whose name it accepts (`None`: all). A crate it rejects is not
    /// listed and none of its versions or dependencies are kept, which bounds the memory of
    /// a listing for a part of the registry; deleted crates are reported and the state moves
    /// all the same.
    pub crate_filter: Option<CrateFilter>,
}

/// Whether a crate, by name, is to be listed (see [`ListOptions::crate_filter`]).
pub type CrateFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl ListOptions {
    /// A full listing with these templates and the default overlap.
    pub fn new(templates: Templates) -> ListOptions {
        ListOptions {
            templates,
            since: None,
            overlap: DEFAULT_OVERLAP,
            progress: None,
            index_metadata: false,
            crate_filter: None,
        }
    }
}

impl std::fmt::Debug for ListOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListOptions")
            .field("templates", &self.templates)
            .field("since", &self.since)
            .field("overlap", &self.overlap)
            .field("progress", &self.progress.is_some())
            .field("index_metadata", &self.index_metadata)
            .field("crate_filter", &self.crate_filter.is_some())
            .finish()
    }
}

/// Lists the dump read from `reader` (the `.tar.gz` bytes). Blocking: it decompresses on the
/// calling thread and parses on a second one, and returns once `metadata.json`,
/// `data/crates.csv` and `data/versions.csv` (and with index metadata `data/dependencies.csv`)
/// are read, without reading the rest of `reader`.
/// Progress hears the compressed bytes, with no total.
pub fn list_from_reader(reader: impl Read, options: &ListOptions) -> Result<Listing, ListError> {
    if let Some(progress) = &options.progress {
        progress.start(None, 0);
    }
    archive::list_stream(reader, options, options.progress.as_deref())
}
