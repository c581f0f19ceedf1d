//! What can go wrong in a mirror run, each error with the file, crate or flag it is about.

use std::path::PathBuf;

/// A mirror operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorError {
    /// Reading or writing a file or folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A `Cargo.lock` could not be read.
    #[error("{path}: {source}")]
    Lockfile {
        /// The lock file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: fetchkit_index_cache::LockfileError,
    },
    /// A `--crate`, `--versions`, `--shard` or glob value is not valid.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidArgument {
        /// Which kind of value (`crate`, `versions`, `shard`, `glob`, `base URL`).
        what: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The mirror folder cannot be used as asked.
    #[error("{dir}: {reason}")]
    Folder {
        /// The mirror folder.
        dir: PathBuf,
        /// Why not.
        reason: String,
    },
    /// Another run holds the mirror folder's lock.
    #[error("{dir}: another fetchkit mirror run is using this folder")]
    Busy {
        /// The mirror folder.
        dir: PathBuf,
    },
    /// The upstream has no index file for a crate.
    #[error("{name}: {upstream} has no such crate")]
    NoSuchCrate {
        /// The crate.
        name: String,
        /// Which upstream was asked.
        upstream: String,
    },
    /// The upstream's index has the crate but not this version.
    #[error("{name} {version}: {upstream} has no such version")]
    NoSuchVersion {
        /// The crate.
        name: String,
        /// The version.
        version: String,
        /// Which upstream was asked.
        upstream: String,
    },
    /// Fetching an index file from a sparse upstream failed.
    #[error("{name}: index file: {source}")]
    Index {
        /// The crate whose index file it is.
        name: String,
        /// The failure.
        #[source]
        source: Box<fetchkit_index_cache::SparseError>,
    },
    /// An index line could not be read.
    #[error("{path}:{line}: {reason}")]
    IndexLine {
        /// The index file.
        path: String,
        /// Its 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The lock file and the index disagree about a version's checksum.
    #[error("{name} {version}: Cargo.lock says sha256 {locked}, the index says {indexed}")]
    LockedChecksum {
        /// The crate.
        name: String,
        /// The version.
        version: String,
        /// The lock file's checksum.
        locked: String,
        /// The index's `cksum`.
        indexed: String,
    },
    /// The database dump could not be listed, or its state not kept.
    #[error("{}", name_once(dump, source))]
    Dump {
        /// The dump's path or URL, or the state file.
        dump: String,
        /// The failure.
        #[source]
        source: Box<fetchkit_lister::ListError>,
    },
    /// The database dump and the index disagree about a version's checksum.
    #[error("{name} {version}: the database dump says sha256 {dumped}, the index says {indexed}")]
    DumpChecksum {
        /// The crate.
        name: String,
        /// The version.
        version: String,
        /// The dump's checksum.
        dumped: String,
        /// The index's `cksum`.
        indexed: String,
    },
    /// A `.crate` file's SHA-256 is not its index `cksum`.
    #[error("{name} {version}: {source_name} has sha256 {actual}, the index says {expected}")]
    Checksum {
        /// The crate.
        name: String,
        /// The version.
        version: String,
        /// Where the bytes came from (a URL or a file).
        source_name: String,
        /// The index's `cksum`.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// The cargo home has no copy of a `.crate` file.
    #[error("{name} {version}: not in {home}'s download cache")]
    NotDownloaded {
        /// The crate.
        name: String,
        /// The version.
        version: String,
        /// The cargo home.
        home: PathBuf,
    },
    /// Downloading a `.crate` file failed (after the transport's retries).
    #[error("{name} {version}: {source}")]
    Download {
        /// The crate.
        name: String,
        /// The version.
        version: String,
        /// The failure.
        #[source]
        source: Box<fetchkit_transport::Error>,
    },
    /// The run was stopped before it finished.
    #[error("interrupted")]
    Interrupted,
}

impl MirrorError {
    /// Whether trying again later may succeed: the next run retries every file that failed
    /// either way, but a transient failure is worth retrying soon.
    pub fn is_transient(&self) -> bool {
        match self {
            MirrorError::Index { source, .. } => source.is_transient(),
            MirrorError::Download { source, .. } => source.is_transient(),
            MirrorError::Dump { source, .. } => source.is_transient(),
            // A body that hashes wrong came from a faulty path as often as from a faulty file.
            MirrorError::Checksum { .. } | MirrorError::Busy { .. } => true,
            MirrorError::Interrupted => true,
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> MirrorError {
        let path = path.into();
        move |source| MirrorError::Io { path, source }
    }
}

/// `source` prefixed with `what`, unless it names `what` already (an I/O or download error
/// does).
fn name_once(what: &str, source: &impl std::fmt::Display) -> String {
    let message = source.to_string();
    if message.contains(what) {
        message
    } else {
        format!("{what}: {message}")
    }
}
