//! What can go wrong in configuring and preparing a protocol. Messages are one line and name
//! the file (and line) or the template at fault.

use std::path::PathBuf;

/// A configuration that cannot be used, or a protocol that does not exist.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A configuration file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file the user's configuration includes could not be read.
    #[error("{path} (included by {by}): {source}")]
    Include {
        /// The included file.
        path: PathBuf,
        /// The user's configuration file, which includes it.
        by: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file is not valid: bad TOML, an unknown key in a `[[protocol]]`, an
    /// empty command, a bad glob, an `include` outside the user's file.
    #[error("{path}{}: {message}", at.map(|(line, column)| format!(":{line}:{column}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Line and column, when known.
        at: Option<(usize, usize)>,
        /// What is wrong.
        message: String,
    },
    /// A protocol was asked for by a name nothing defines.
    #[error("no protocol named {name:?} (known: {known})")]
    NoSuchProtocol {
        /// The name asked for.
        name: String,
        /// The names that exist, in selection order.
        known: String,
    },
    /// `[install] default-protocol` names a protocol nothing defines.
    #[error("{path}: default-protocol {name:?} names no protocol")]
    NoSuchDefault {
        /// The name.
        name: String,
        /// The file that set it.
        path: PathBuf,
    },
}

impl ConfigError {
    /// Whether trying again may succeed without changing the configuration: only when a file
    /// could not be read for a passing reason.
    pub fn is_transient(&self) -> bool {
        match self {
            ConfigError::Read { source, .. } | ConfigError::Include { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
            ),
            _ => false,
        }
    }
}

/// A command template that cannot be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `{{ key }}` names no variable.
    #[error("unknown variable {key:?} in {template:?} (known: {known})")]
    UnknownVariable {
        /// The key, trimmed.
        key: String,
        /// The template it is in.
        template: String,
        /// The variables there are.
        known: &'static str,
    },
    /// The variable exists but has no value for this fetch.
    #[error("variable {key:?} in {template:?} has no value: {hint}")]
    Unset {
        /// The key.
        key: String,
        /// The template it is in.
        template: String,
        /// How to give it one.
        hint: &'static str,
    },
    /// `{{` without its `}}`.
    #[error("unterminated {{{{ in {template:?}")]
    Unterminated {
        /// The template.
        template: String,
    },
    /// A substituted value would start an argument with `-`, where the program would take it
    /// for an option.
    #[error(
        "argument {position} would be {argument:?}: a value starting with '-' is refused where \
         it would become an option (put \"--\" before it in the command if it is meant as an operand)"
    )]
    OptionLike {
        /// The argument's position (the program is 0).
        position: usize,
        /// The argument after substitution.
        argument: String,
    },
}
