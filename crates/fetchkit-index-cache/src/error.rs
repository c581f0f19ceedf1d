//! What can be wrong with a cache file or an index line.

/// Why a cache file is not usable as a whole. Cargo treats every one of these as "no cache"
/// (and deletes the file when it next updates the crate); so does fetchkit, but it says which.
///
/// Messages are one lower-case line; the caller adds the file's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The file has no bytes at all.
    #[error("empty cache file")]
    Empty,

    /// The first byte is not the cache version fetchkit (and cargo) reads.
    #[error("unsupported cache version {found} (expected {expected})", expected = crate::CACHE_VERSION)]
    CacheVersion {
        /// The version byte the file has.
        found: u8,
    },

    /// The file ends inside the four bytes of the index schema version.
    #[error("cache header cut short after {length} bytes")]
    ShortHeader {
        /// How many bytes the file has.
        length: usize,
    },

    /// The index schema version is not exactly the one cargo writes.
    #[error("unsupported index schema version {found} (expected {expected})", expected = crate::INDEX_SCHEMA_VERSION)]
    SchemaVersion {
        /// The version the file has.
        found: u32,
    },

    /// Nothing follows the header: not even an (empty) index version.
    #[error("cache header has no index version")]
    NoIndexVersion,

    /// The index version is not UTF-8.
    #[error("index version is not UTF-8")]
    IndexVersionNotUtf8,

    /// A version key is not UTF-8 or not a semver version.
    #[error("invalid version key {key:?} at byte {at}: {reason}")]
    InvalidKey {
        /// The key, with any invalid UTF-8 replaced.
        key: String,
        /// Its byte offset in the file.
        at: usize,
        /// Why it is not a version.
        reason: String,
    },

    /// The file ends after a version key, without its blob. (Cargo panics on such a file;
    /// fetchkit never writes one.)
    #[error("version key {key:?} at byte {at} has no blob after it")]
    KeyWithoutBlob {
        /// The key.
        key: String,
        /// Its byte offset in the file.
        at: usize,
    },
}

impl CacheError {
    /// Always `false`: a malformed file stays malformed however often it is read again. (The
    /// method is here so that every fetchkit error answers the question.)
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// Why a line of an index file cannot go into a cache: cargo skips such lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line is not a JSON object with string `name` and `vers` fields.
    #[error("line {line}: not an index entry: {reason}")]
    NotAnEntry {
        /// 1-based line number in the index file.
        line: usize,
        /// What the JSON parser said.
        reason: String,
    },

    /// `vers` is not a semver version.
    #[error("line {line}: invalid version {version:?}: {reason}")]
    InvalidVersion {
        /// 1-based line number in the index file.
        line: usize,
        /// The `vers` value.
        version: String,
        /// What the semver parser said.
        reason: String,
    },
}
