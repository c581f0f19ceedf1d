//! Cargo's on-disk index cache format, byte for byte, and where a crate's files live.
//!
//! **Layer:** 2, beside `fetchkit-protocols` and `fetchkit-lister`, on `fetchkit-transport`
//! (only with the `sparse` feature); it knows nothing of mirrors or of the command line.
//!
//! Cargo keeps, for each registry, a cache of the index files it has fetched
//! (`registry/index/<registry>/.cache/<path>`): a small header with the *index version* (the
//! ETag or Last-Modified the file was fetched with), then each version's key and raw index
//! line, separated by NUL bytes. This crate reads such files in place and writes them so that
//! cargo reads them back, which lets fetchkit inspect cargo's caches, keep its own in the same
//! format, and warm cargo's before an offline build.
//!
//! The design decision: **blobs are never re-serialized.** An index line is stored, copied
//! and returned as the bytes the registry served, so a cache fetchkit writes is byte-identical
//! to the one cargo would write, and fields this crate does not know survive. Queries look at
//! keys (parsed as semver) and parse only the blobs of the candidates they try; the typed
//! [`IndexEntry`] is there for callers who want the fields.
//!
//! [`CargoHome`] knows where cargo keeps a sparse registry's cache (the folder name cargo
//! 1.85 and later computes from the URL, worked out the same way) and takes cargo's
//! package-cache lock, so that fetchkit can write there while cargo runs; [`parse_lockfile`]
//! reads the packages a `Cargo.lock` names.
//!
//! With the `sparse` feature, `SparseIndex` keeps a folder of such files up to date from a
//! sparse registry as cargo does (conditional requests from the recorded index version, `304`
//! leaves a file untouched, `404`/`410`/`451` remove it); it is the only part that does I/O
//! over the network, through `fetchkit-transport`.
//!
//! ```
//! use fetchkit_index_cache::{CacheFile, build_cache, index_path};
//!
//! let index = b"{\"name\":\"demo\",\"vers\":\"0.1.0\",\"deps\":[],\"cksum\":\"00\"}\n\
//!               {\"name\":\"demo\",\"vers\":\"0.2.0\",\"deps\":[],\"cksum\":\"11\",\"yanked\":true}\n";
//! let (bytes, skipped) = build_cache("etag: \"v1\"", index).unwrap();
//! assert!(skipped.is_empty());
//!
//! let cache = CacheFile::parse(&bytes).unwrap();
//! let newest = cache.newest_matching(&"*".parse().unwrap(), false).unwrap();
//! assert_eq!(newest.key(), "0.1.0");
//! assert_eq!(index_path("demo"), "de/mo/demo");
//! ```

mod cache;
mod cargo_home;
mod entry;
mod error;
mod lockfile;
mod path;
#[cfg(feature = "sparse")]
mod sparse;

pub use cache::{
    CACHE_VERSION, CacheEntry, CacheFile, CacheWriter, INDEX_SCHEMA_VERSION, WriteError,
    build_cache,
};
pub use cargo_home::{CargoHome, CargoHomeError, PackageCacheLock, registry_dir_name};
pub use entry::{IndexDependency, IndexEntry, UnknownFields};
pub use error::{CacheError, LineError};
pub use lockfile::{LockedPackage, LockfileError, parse_lockfile};
pub use path::index_path;
#[cfg(feature = "sparse")]
pub use sparse::{FetchOutcome, RegistryConfig, SparseError, SparseIndex, validator};
