//! What can go wrong while listing, with enough context to find the cause.

use std::io;
use std::path::PathBuf;

use fetchkit_transport::RedactedUrl;

/// A listing failed. Messages are one lower-case line that name the file (inside the archive,
/// as the archive spells it), the line and the column where it applies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// Downloading the dump failed (after the transport's own retries).
    #[error("cannot download the dump: {0}")]
    Transport(#[source] fetchkit_transport::Error),

    /// The compressed archive could not be read: a read error, corrupt gzip or tar data, or
    /// the data ended early. `member` is the archive member being read, when there was one.
    #[error("cannot read {}: {source}", .member.as_deref().unwrap_or("the dump archive"))]
    Read {
        /// The archive member being read.
        member: Option<String>,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A member ended before the length its tar header announced: the archive is truncated.
    #[error("{member}: truncated after {read} of {expected} bytes")]
    Truncated {
        /// The archive member.
        member: String,
        /// Bytes it had.
        read: u64,
        /// Bytes its header announced.
        expected: u64,
    },

    /// A member the listing needs is not in the archive.
    #[error("the dump has no {member}")]
    MissingMember {
        /// Which one (`metadata.json`, `data/crates.csv`, `data/versions.csv`, or with index
        /// metadata `data/dependencies.csv`).
        member: &'static str,
    },

    /// The archive holds a needed member twice (under two top-level folders, for example).
    #[error("the dump has two {member} members: {first} and {second}")]
    DuplicateMember {
        /// Which member.
        member: &'static str,
        /// The first one's path.
        first: String,
        /// The second one's path.
        second: String,
    },

    /// `metadata.json` is not what it should be.
    #[error("{member}: {reason}")]
    Metadata {
        /// The member's path in the archive.
        member: String,
        /// What is wrong.
        reason: String,
    },

    /// A CSV file lacks a column the listing needs.
    #[error("{file}: no {column} column")]
    MissingColumn {
        /// The member's path in the archive.
        file: String,
        /// The column (or the alternatives) looked for.
        column: &'static str,
    },

    /// A CSV record is not well-formed (for example, it has the wrong number of fields).
    #[error("{file}:{line}: {message}")]
    Csv {
        /// The member's path in the archive.
        file: String,
        /// The line the record starts on (1-based).
        line: u64,
        /// What is wrong.
        message: String,
    },

    /// A field has a value the listing cannot use.
    #[error("{file}:{line}: column {column}: {reason}, found {value:?}")]
    InvalidField {
        /// The member's path in the archive.
        file: String,
        /// The line the record starts on (1-based).
        line: u64,
        /// The column's header name.
        column: &'static str,
        /// The value (cut to 100 characters).
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A URL template is not usable.
    #[error("invalid {which} template {template:?}: {reason}")]
    Template {
        /// `crate-file` or `origin`.
        which: &'static str,
        /// The template as given.
        template: String,
        /// What is wrong with it.
        reason: String,
    },

    /// No URL templates can be derived from the dump's URL.
    #[error("cannot derive registry URLs from {url}: {reason}; give the templates explicitly")]
    CannotDerive {
        /// The dump's URL.
        url: RedactedUrl,
        /// Why not.
        reason: &'static str,
    },

    /// Reading or writing a local file failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// `open`, `read`, `write`, ...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The state file exists but cannot be understood.
    #[error("invalid state file {}: {reason}", .path.display())]
    InvalidState {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl ListError {
    /// Whether trying again may help: true only for transport failures the transport itself
    /// calls transient (a dump that does not parse will not parse the next time either).
    pub fn is_transient(&self) -> bool {
        match self {
            ListError::Transport(error) => error.is_transient(),
            _ => false,
        }
    }

    pub(crate) fn invalid_field(
        file: &str,
        line: u64,
        column: &'static str,
        value: &[u8],
        reason: impl Into<String>,
    ) -> ListError {
        let value = String::from_utf8_lossy(value);
        let value = match value.char_indices().nth(100) {
            Some((cut, _)) => format!("{}...", &value[..cut]),
            None => value.into_owned(),
        };
        ListError::InvalidField {
            file: file.to_owned(),
            line,
            column,
            value,
            reason: reason.into(),
        }
    }
}

impl fetchkit_retry::Transient for ListError {
    fn is_transient(&self) -> bool {
        ListError::is_transient(self)
    }
}
