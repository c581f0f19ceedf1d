//! The incremental state: which dump the last complete run listed.

use std::io::{self, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{ListError, Timestamp};

/// What an incremental listing remembers between runs: the `timestamp` of the last dump it
/// listed completely. Stored as JSON, `{"last_dump": "2022-08-08T02:00:27.645191645+00:00"}`.
///
/// Save it (with [`Listing::next_state`](crate::Listing::next_state)) only after a run's output
/// is safely written: a failed or interrupted run must leave the previous state in place, so
/// the next run lists its crates again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The `timestamp` of the dump's `metadata.json`.
    pub last_dump: Timestamp,
}

impl State {
    /// Reads the state file; `None` when there is none yet (a first run).
    pub fn load(path: &Path) -> Result<Option<State>, ListError> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ListError::Io {
                    action: "read",
                    path: path.to_owned(),
                    source,
                });
            }
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|error| ListError::InvalidState {
                path: path.to_owned(),
                reason: error.to_string(),
            })
    }

    /// Writes the state file atomically: a temporary file in the same folder, flushed to disk,
    /// then renamed over `path`. A crash leaves either the old state or the new one.
    pub fn save(&self, path: &Path) -> Result<(), ListError> {
        let io_error = |source| ListError::Io {
            action: "write",
            path: path.to_owned(),
            source,
        };
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut json = serde_json::to_vec_pretty(self).map_err(|error| io_error(error.into()))?;
        json.push(b'\n');
        let mut file = tempfile::Builder::new()
            .prefix(".fetchkit-state-")
            .tempfile_in(folder)
            .map_err(io_error)?;
        file.write_all(&json).map_err(io_error)?;
        file.as_file().sync_all().map_err(io_error)?;
        file.persist(path).map_err(|error| io_error(error.error))?;
        // Make the rename itself durable; not every platform can open a folder to sync it.
        if let Ok(folder) = std::fs::File::open(folder) {
            let _ = folder.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.json");
        assert_eq!(State::load(&path).unwrap(), None);
        let state = State {
            last_dump: Timestamp::parse("2022-08-08T02:00:27.645191645Z").unwrap(),
        };
        state.save(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\n  \"last_dump\": \"2022-08-08T02:00:27.645191645+00:00\"\n}\n"
        );
        assert_eq!(State::load(&path).unwrap(), Some(state));
        // Saving again replaces the file and leaves no temporary file behind.
        let later = State {
            last_dump: Timestamp::parse("2022-09-05T02:00:27.687167108Z").unwrap(),
        };
        later.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), Some(later));
        let names: Vec<_> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"]);
    }

    #[test]
    fn a_corrupt_state_is_an_error_naming_the_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.json");
        std::fs::write(&path, "{\"last_dump\": \"last tuesday\"}").unwrap();
        let error = State::load(&path).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "invalid state file {}: invalid timestamp",
                path.display()
            )),
            "{error}"
        );
        std::fs::write(&path, "").unwrap();
        assert!(State::load(&path).is_err());
    }

    #[test]
    fn saving_into_a_missing_folder_fails_clearly() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("missing").join("state.json");
        let state = State {
            last_dump: Timestamp::from_unix(0, 0).unwrap(),
        };
        let error = state.save(&path).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("cannot write {}: ", path.display())),
            "{error}"
        );
    }
}
