//! The content checksum of a fetched package, computed as Orbit computes it, so that a
//! checksum Orbit recorded can be checked against what fetchkit fetched.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// Files Orbit writes next to a package and leaves out of its checksum.
const EXCLUDED_FILES: [&str; 3] = ["Orbit.lock", ".orbit-checksum", ".orbit-metadata"];

/// A package folder whose checksum could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChecksumError {
    /// A file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The package holds a symbolic link that leads outside it: it is not followed (it could
    /// point at any file of the machine).
    #[error("{0}: the symbolic link leads outside the package")]
    Symlink(PathBuf),
    /// A name that is not UTF-8 cannot be hashed as Orbit hashes names.
    #[error("{0}: the name is not UTF-8")]
    NotUtf8(PathBuf),
}

/// Orbit's checksum of the package in `root`, as 64 lowercase hex digits.
///
/// Every file below `root` (hidden ones included), by its path relative to `root` with `/`
/// between components, in byte order of those paths, except: `Orbit.lock`, `.orbit-checksum`
/// and `.orbit-metadata`; files in any folder holding a `CACHEDIR.TAG`; and files with a NUL
/// byte, which Orbit takes for binary and skips, name and content. Each kept file's content
/// is hashed with its carriage returns removed (so CRLF and LF files agree). The checksum is
/// the SHA-256 of the kept files' digests in order, followed by the SHA-256 of their paths
/// concatenated without a separator.
///
/// Orbit also honours its ignore files when it lists a package; fetchkit does not, so a
/// package with an ignore file that excludes something may checksum differently.
///
/// Symbolic links are followed, as Orbit follows them, but only inside `root`: a link that
/// leads outside is an error, and one that leads nowhere is skipped.
pub fn content_checksum(root: &Path) -> Result<String, ChecksumError> {
    let mut files = Vec::new();
    let canonical = std::fs::canonicalize(root).map_err(|source| ChecksumError::Io {
        path: root.to_owned(),
        source,
    })?;
    let mut walk = Walk {
        root,
        canonical_root: &canonical,
        open: vec![canonical.clone()],
        files: &mut files,
    };
    walk.collect(root)?;
    files.sort_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
    // Files are hashed on every core; only the combining below is in order.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = files.len().div_ceil(threads).max(1);
    let digests: Vec<Result<Vec<Option<[u8; 32]>>, ChecksumError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|(_, path)| file_digest(path)).collect())
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("hashing threads do not panic"))
            .collect()
    });
    let mut total = Sha256::new();
    let mut names = Sha256::new();
    let mut files = files.iter();
    for part in digests {
        for digest in part? {
            let (name, _) = files.next().expect("one digest per file");
            if let Some(digest) = digest {
                total.update(digest);
                names.update(name.as_bytes());
            }
        }
    }
    total.update(names.finalize());
    Ok(total
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

/// The digest of one file with its carriage returns removed, or `None` for a binary file (one
/// with a NUL byte), which Orbit leaves out.
fn file_digest(path: &Path) -> Result<Option<[u8; 32]>, ChecksumError> {
    let content = std::fs::read(path).map_err(|source| ChecksumError::Io {
        path: path.to_owned(),
        source,
    })?;
    if memchr::memchr(0, &content).is_some() {
        return Ok(None);
    }
    // Hash the runs between carriage returns: the same digest as hashing a copy without them,
    // with no copy and no byte-by-byte filter.
    let mut file = Sha256::new();
    let mut start = 0;
    for at in memchr::memchr_iter(b'\r', &content) {
        file.update(&content[start..at]);
        start = at + 1;
    }
    file.update(&content[start..]);
    Ok(Some(file.finalize().into()))
}

/// A walk over a package's files.
struct Walk<'a> {
    root: &'a Path,
    canonical_root: &'a Path,
    /// The real paths of the folders being walked, to stop at a link that loops back.
    open: Vec<PathBuf>,
    files: &'a mut Vec<(String, PathBuf)>,
}

impl Walk<'_> {
    /// Adds the files below `folder` as (relative name, path).
    fn collect(&mut self, folder: &Path) -> Result<(), ChecksumError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ChecksumError::Io { path, source }
        };
        if folder.join("CACHEDIR.TAG").is_file() {
            return Ok(());
        }
        for entry in std::fs::read_dir(folder).map_err(io(folder))? {
            let entry = entry.map_err(io(folder))?;
            let path = entry.path();
            let mut kind = entry.file_type().map_err(io(&path))?;
            if kind.is_symlink() {
                let Ok(target) = std::fs::canonicalize(&path) else {
                    continue;
                };
                if !target.starts_with(self.canonical_root) {
                    return Err(ChecksumError::Symlink(path));
                }
                if self.open.contains(&target) {
                    continue;
                }
                kind = std::fs::metadata(&target).map_err(io(&path))?.file_type();
                if kind.is_dir() {
                    self.open.push(target);
                    self.collect(&path)?;
                    self.open.pop();
                    continue;
                }
            }
            if kind.is_dir() {
                let real = std::fs::canonicalize(&path).map_err(io(&path))?;
                self.open.push(real);
                self.collect(&path)?;
                self.open.pop();
                continue;
            }
            let file_name = entry.file_name();
            if EXCLUDED_FILES.iter().any(|excluded| file_name == *excluded) {
                continue;
            }
            let relative = path.strip_prefix(self.root).unwrap_or(&path);
            let mut name = String::new();
            for component in relative.components() {
                let part = component
                    .as_os_str()
                    .to_str()
                    .ok_or_else(|| ChecksumError::NotUtf8(path.clone()))?;
                if !name.is_empty() {
                    name.push('/');
                }
                name.push_str(part);
            }
            self.files.push((name, path));
        }
        Ok(())
    }
}
