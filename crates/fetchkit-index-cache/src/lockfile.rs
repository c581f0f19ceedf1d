//! The packages a `Cargo.lock` names, and where each comes from.

use serde::Deserialize;

/// One `[[package]]` of a lock file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct LockedPackage {
    /// The crate's name, as published.
    pub name: String,
    /// The exact version, build metadata included.
    pub version: String,
    /// Where it comes from: `registry+URL` (a git index, or the default registry whatever
    /// replaces it), `sparse+URL`, `git+URL#REV`; none for path dependencies and workspace
    /// members.
    #[serde(default)]
    pub source: Option<String>,
    /// The SHA-256 of the `.crate` file (lock file format 2 and later).
    #[serde(default)]
    pub checksum: Option<String>,
}

impl LockedPackage {
    /// Whether the package comes from a registry (git or sparse index), not git or a path.
    pub fn is_from_registry(&self) -> bool {
        self.source
            .as_deref()
            .is_some_and(|source| source.starts_with("registry+") || source.starts_with("sparse+"))
    }
}

/// A lock file that is not TOML, or whose packages lack a name or version. The message says
/// where (line and column); the caller adds the file's path.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid Cargo.lock: {message}")]
pub struct LockfileError {
    message: String,
}

/// Reads the packages of a `Cargo.lock` (any format version cargo has written).
///
/// ```
/// use fetchkit_index_cache::parse_lockfile;
///
/// let lock = "version = 4\n\n[[package]]\nname = \"demo\"\nversion = \"0.1.0\"\n\
///             source = \"sparse+http://127.0.0.1:8000/index/\"\n";
/// let packages = parse_lockfile(lock).unwrap();
/// assert_eq!(packages[0].name, "demo");
/// assert!(packages[0].is_from_registry());
/// ```
pub fn parse_lockfile(text: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    #[derive(Deserialize)]
    struct Lockfile {
        #[serde(default)]
        package: Vec<LockedPackage>,
    }
    let lockfile: Lockfile = toml::from_str(text).map_err(|error| LockfileError {
        // toml's message spans several lines (it quotes the offending line); one is enough.
        message: one_line(&error),
    })?;
    Ok(lockfile.package)
}

fn one_line(error: &toml::de::Error) -> String {
    let message = error.message().trim();
    match error.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_of_each_lock_file_format() {
        // Format 1 kept checksums in `[metadata]`; later formats put them on the package.
        let v1 = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\
                  source = \"registry+https://index.example/\"\n\n\
                  [[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\
                  dependencies = [\"a 1.0.0 (registry+https://index.example/)\"]\n\n\
                  [metadata]\n\"checksum a 1.0.0 (registry+https://index.example/)\" = \"00\"\n";
        let v4 = "version = 4\n\n[[package]]\nname = \"b\"\nversion = \"1.1.0+build.7\"\n\
                  source = \"sparse+http://127.0.0.1:1/index/\"\nchecksum = \"11\"\n\n\
                  [[package]]\nname = \"g\"\nversion = \"0.1.0\"\n\
                  source = \"git+https://git.example/g#0123\"\n";
        let v1 = parse_lockfile(v1).unwrap();
        assert_eq!(
            v1.iter()
                .map(|package| (package.name.as_str(), package.is_from_registry()))
                .collect::<Vec<_>>(),
            [("a", true), ("app", false)]
        );
        let v4 = parse_lockfile(v4).unwrap();
        assert_eq!(v4[0].version, "1.1.0+build.7");
        assert_eq!(v4[0].checksum.as_deref(), Some("11"));
        assert!(v4[0].is_from_registry());
        assert!(!v4[1].is_from_registry());
        assert!(parse_lockfile("").unwrap().is_empty());
    }

    #[test]
    fn bad_lock_files_say_where_in_one_line() {
        for text in [
            "[[package]]\nname = \"a\"\n",
            "[[package]\nname = \"a\"\n",
            "version = 4\npackage = 3\n",
        ] {
            let error = parse_lockfile(text).unwrap_err().to_string();
            assert!(error.starts_with("invalid Cargo.lock: "), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
