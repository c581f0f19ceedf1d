//! Finding the package in what a protocol left behind: the folder of the shallowest manifest.
//!
//! Archives often wrap a package in a folder (`name-1.0/`), and a clone puts it one level
//! down; the manifest marks the package's root wherever it is. The search goes level by
//! level, so a package's own nested packages (deeper manifests) never compete with it, and
//! two manifests at the shallowest level are an error rather than a guess.

use std::fs;
use std::path::{Path, PathBuf};

/// Why no single package root was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// No file of that name anywhere.
    #[error(
        "no {manifest} in what the protocol fetched (use --manifest NAME if the package's manifest has another name)"
    )]
    Missing {
        /// The manifest's file name.
        manifest: String,
    },
    /// More than one at the shallowest level that has any.
    #[error("{count} {manifest} files at the same depth, cannot tell which is the package: {}", candidates.join(", "))]
    Ambiguous {
        /// The manifest's file name.
        manifest: String,
        /// How many.
        count: usize,
        /// Their folders, relative to the search root, sorted.
        candidates: Vec<String>,
    },
    /// A folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The folder below (or at) `root` holding the shallowest file named `manifest`. Symbolic
/// links are not followed.
pub fn find_package_root(root: &Path, manifest: &str) -> Result<PathBuf, ManifestError> {
    let mut level = vec![root.to_owned()];
    while !level.is_empty() {
        let mut found = Vec::new();
        let mut next = Vec::new();
        for folder in &level {
            let entries = fs::read_dir(folder).map_err(|source| ManifestError::Io {
                path: folder.clone(),
                source,
            })?;
            for entry in entries {
                let entry = entry.map_err(|source| ManifestError::Io {
                    path: folder.clone(),
                    source,
                })?;
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    next.push(entry.path());
                } else if kind.is_file() && entry.file_name() == manifest {
                    found.push(folder.clone());
                }
            }
        }
        match found.len() {
            0 => {
                next.sort();
                level = next;
            }
            1 => return Ok(found.remove(0)),
            count => {
                let mut candidates: Vec<String> = found
                    .iter()
                    .map(|folder| {
                        let relative = folder.strip_prefix(root).unwrap_or(folder);
                        if relative.as_os_str().is_empty() {
                            ".".to_owned()
                        } else {
                            relative.display().to_string()
                        }
                    })
                    .collect();
                candidates.sort();
                return Err(ManifestError::Ambiguous {
                    manifest: manifest.to_owned(),
                    count,
                    candidates,
                });
            }
        }
    }
    Err(ManifestError::Missing {
        manifest: manifest.to_owned(),
    })
}
