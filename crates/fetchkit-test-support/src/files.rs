//! Looking at what a test left on disk.

use std::path::Path;

/// The names in `dir`, sorted: for asserting that a failed download left nothing behind (no
/// destination, no temp file) and a successful one left exactly its file.
///
/// Panics if the folder cannot be read: in a test that is the failure to report.
pub fn file_names(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: cannot list: {error}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| {
            let entry = entry.unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
            entry.file_name().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    names
}
