//! The journal: one line per `.crate` file verified and put in place, appended as it happens.
//!
//! A run killed at any point (kill -9 included) leaves every line it wrote, so the next run
//! trusts those files without hashing them again and fetches only the rest. A line is written
//! with one `write` to a file opened for appending, after the file's rename: a line never
//! claims a file that is not there. A torn last line (power loss) is ignored, and the file it
//! would have vouched for is hashed again.
//!
//! ```text
//! ok <name> <version> <sha256> <size>
//! ```

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::MirrorError;

/// What the journal knows of one verified file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified {
    pub(crate) sha256: String,
    pub(crate) size: u64,
}

#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    /// Keyed by (name, version) as written in the index.
    known: HashMap<(String, String), Verified>,
}

impl Journal {
    pub(crate) fn open(path: &Path) -> Result<Journal, MirrorError> {
        let known = match std::fs::read(path) {
            Ok(bytes) => parse(&bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(error) => return Err(MirrorError::io(path)(error)),
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(MirrorError::io(path))?;
        Ok(Journal {
            path: path.to_owned(),
            file: Mutex::new(file),
            known,
        })
    }

    pub(crate) fn get(&self, name: &str, version: &str) -> Option<&Verified> {
        self.known.get(&(name.to_owned(), version.to_owned()))
    }

    /// Appends a line for a file now in place.
    pub(crate) fn record(
        &self,
        name: &str,
        version: &str,
        sha256: &str,
        size: u64,
    ) -> Result<(), MirrorError> {
        let line = format!("ok {name} {version} {sha256} {size}\n");
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line.as_bytes())
            .map_err(MirrorError::io(&self.path))
    }
}

fn parse(bytes: &[u8]) -> HashMap<(String, String), Verified> {
    let mut known = HashMap::new();
    // Only whole lines: a last line without its newline may be torn.
    let whole = match bytes.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => &bytes[..=end],
        None => return known,
    };
    for line in String::from_utf8_lossy(whole).lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if let ["ok", name, version, sha256, size] = fields[..]
            && sha256.len() == 64
            && let Ok(size) = size.parse()
        {
            known.insert(
                (name.to_owned(), version.to_owned()),
                Verified {
                    sha256: sha256.to_owned(),
                    size,
                },
            );
        }
    }
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_or_foreign_line_is_ignored() {
        let sha = "a".repeat(64);
        let text = format!(
            "ok a 1.0.0 {sha} 10\nok b 2.0.0 {sha} x\ngarbage\nok c 1.0.0 {sha} 3\nok d 1.0.0 {sha} 4"
        );
        let known = parse(text.as_bytes());
        let mut names: Vec<&str> = known.keys().map(|(name, _)| name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(known[&("c".into(), "1.0.0".into())].size, 3);
    }
}
