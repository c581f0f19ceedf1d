//! Safe extraction of zip and `.tar.gz` archives into a fresh folder.
//!
//! Every entry's name passes [`path::entry_path`] before anything is written; devices and
//! FIFOs are refused; setuid, setgid and sticky bits are dropped. Symbolic links are created
//! only after every file and folder, so no entry can be written *through* a link the same
//! archive planted, and each link is checked twice: lexically from its name, then physically
//! once it exists. Limits on the unpacked size, the number of entries and the ratio of
//! unpacked to compressed bytes stop archive bombs while they unpack, counting the bytes
//! actually written, not the sizes an archive declares.

mod path;
mod tar;
mod zip;

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub use self::tar::extract_tar_gz;
pub(crate) use self::tar::extract_tar_gz_until;
pub use self::zip::extract_zip;
pub(crate) use self::zip::extract_zip_until;

use tokio_util::sync::CancellationToken;

/// How much an archive may unpack to. The defaults suit source packages and stop bombs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Bytes of file contents, all entries together.
    pub max_unpacked_bytes: u64,
    /// Entries of any kind.
    pub max_entries: u64,
    /// Unpacked bytes per compressed byte read, over the whole archive. Checked once more
    /// than [`Limits::RATIO_GRACE`] bytes are unpacked, so a small, very compressible file
    /// does not trip it.
    pub max_ratio: u64,
}

impl Limits {
    /// Unpacked bytes before the ratio is enforced.
    pub const RATIO_GRACE: u64 = 16 << 20;

    /// The defaults with another size limit.
    pub fn with_max_unpacked_bytes(mut self, bytes: u64) -> Limits {
        self.max_unpacked_bytes = bytes;
        self
    }

    /// The defaults with another entry limit.
    pub fn with_max_entries(mut self, entries: u64) -> Limits {
        self.max_entries = entries;
        self
    }

    /// The defaults with another ratio limit.
    pub fn with_max_ratio(mut self, ratio: u64) -> Limits {
        self.max_ratio = ratio;
        self
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_unpacked_bytes: 16 << 30,
            max_entries: 1_000_000,
            // Source text compresses 4-10x; only generated filler reaches 100x.
            max_ratio: 200,
        }
    }
}

/// What an extraction wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extracted {
    /// Regular files (hard links included).
    pub files: u64,
    /// Folders.
    pub folders: u64,
    /// Symbolic links.
    pub links: u64,
    /// Bytes of file contents.
    pub bytes: u64,
}

/// Why an archive was not extracted. Nothing of it is kept when this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// An entry's name or link target is unsafe.
    #[error("archive entry {entry:?}: {reason}")]
    Unsafe {
        /// The entry's name as the archive spells it.
        entry: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An entry is of a kind that is never extracted.
    #[error("archive entry {entry:?} is a {kind}, which is never extracted")]
    Unsupported {
        /// The entry's name.
        entry: String,
        /// `device file`, `FIFO`, …
        kind: &'static str,
    },
    /// A limit was exceeded; the message names it and how to raise it.
    #[error("archive exceeds the limit of {limit}: {detail}")]
    Limit {
        /// The limit, in words.
        limit: String,
        /// What the archive reached.
        detail: String,
    },
    /// Two entries claim the same path in incompatible ways.
    #[error("archive entry {entry:?}: {reason}")]
    Conflict {
        /// The entry's name.
        entry: String,
        /// What it collides with.
        reason: String,
    },
    /// The data is not a readable archive of the expected kind.
    #[error("not a valid {format} archive: {message}")]
    Corrupt {
        /// `zip`, `gzip` or `tar`.
        format: &'static str,
        /// What the reader said.
        message: String,
    },
    /// Writing the extracted files failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Extraction was asked to stop.
    #[error("extraction was interrupted")]
    Interrupted,
}

impl ExtractError {
    /// Whether the same archive may extract next time: only a passing disk error.
    pub fn is_transient(&self) -> bool {
        matches!(self, ExtractError::Io { source, .. } if matches!(
            source.kind(),
            io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ))
    }

    fn io(path: &Path, source: io::Error) -> ExtractError {
        ExtractError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Writes checked entries under `root`, counting against the limits.
struct Writer<'a> {
    root: &'a Path,
    /// The archive format, for errors.
    format: &'static str,
    limits: Limits,
    extracted: Extracted,
    entries: u64,
    /// Folders known to exist, so each file does not stat its parents again.
    folders: HashSet<PathBuf>,
    /// Links to create at the end: (relative path, target, entry name).
    links: Vec<(PathBuf, PathBuf, String)>,
    buffer: Vec<u8>,
    /// Stops the extraction between two reads when cancelled.
    cancel: Option<CancellationToken>,
}

/// How an archive names its entries in errors: lossy text of the raw name.
fn shown(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

impl<'a> Writer<'a> {
    fn new(
        root: &'a Path,
        format: &'static str,
        limits: Limits,
        cancel: Option<CancellationToken>,
    ) -> Writer<'a> {
        let mut folders = HashSet::new();
        folders.insert(PathBuf::new());
        Writer {
            root,
            format,
            limits,
            extracted: Extracted::default(),
            entries: 0,
            folders,
            links: Vec::new(),
            buffer: vec![0; 256 << 10],
            cancel,
        }
    }

    fn check_cancelled(&self) -> Result<(), ExtractError> {
        match &self.cancel {
            Some(cancel) if cancel.is_cancelled() => Err(ExtractError::Interrupted),
            _ => Ok(()),
        }
    }

    /// Counts one entry against the entry limit.
    fn count_entry(&mut self) -> Result<(), ExtractError> {
        self.check_cancelled()?;
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ExtractError::Limit {
                limit: format!("{} entries", self.limits.max_entries),
                detail: "it has more".into(),
            });
        }
        Ok(())
    }

    /// The checked relative path of entry `name`.
    fn path(name: &[u8]) -> Result<Option<PathBuf>, ExtractError> {
        path::entry_path(name).map_err(|reason| ExtractError::Unsafe {
            entry: shown(name),
            reason,
        })
    }

    fn folder(&mut self, name: &[u8]) -> Result<(), ExtractError> {
        let Some(relative) = Self::path(name)? else {
            return Ok(());
        };
        self.ensure_folder(&relative)?;
        Ok(())
    }

    fn ensure_folder(&mut self, relative: &Path) -> Result<(), ExtractError> {
        if self.folders.contains(relative) {
            return Ok(());
        }
        let full = self.root.join(relative);
        match fs::create_dir_all(&full) {
            Ok(()) => {}
            Err(source) if full.is_file() => {
                return Err(ExtractError::Conflict {
                    entry: relative.display().to_string(),
                    reason: format!("a file is in the way of a folder ({source})"),
                });
            }
            Err(source) => return Err(ExtractError::io(&full, source)),
        }
        // Count each new folder once, parents included.
        let mut folder = Some(relative);
        while let Some(path) = folder.filter(|path| !path.as_os_str().is_empty()) {
            if !self.folders.insert(path.to_owned()) {
                break;
            }
            self.extracted.folders += 1;
            folder = path.parent();
        }
        Ok(())
    }

    /// Writes a regular file from `data`. `compressed` reports the compressed bytes consumed
    /// so far, for the ratio limit.
    fn file(
        &mut self,
        name: &[u8],
        mode: Option<u32>,
        data: &mut dyn Read,
        compressed: &dyn Fn() -> u64,
    ) -> Result<(), ExtractError> {
        let relative = Self::path(name)?.ok_or_else(|| ExtractError::Unsafe {
            entry: shown(name),
            reason: "a file cannot be the folder itself",
        })?;
        if let Some(parent) = relative.parent() {
            self.ensure_folder(parent)?;
        }
        if self.folders.contains(&relative) {
            return Err(ExtractError::Conflict {
                entry: shown(name),
                reason: "a folder of the same name is already extracted".into(),
            });
        }
        let full = self.root.join(&relative);
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            // Permission bits only: setuid, setgid and sticky are dropped.
            options.mode(mode.map_or(0o644, |mode| mode & 0o777));
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options
            .open(&full)
            .map_err(|source| ExtractError::io(&full, source))?;
        loop {
            let read = match data.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(ExtractError::Corrupt {
                        format: self.format,
                        message: error.to_string(),
                    });
                }
            };
            self.count_bytes(read as u64, compressed())?;
            file.write_all(&self.buffer[..read])
                .map_err(|source| ExtractError::io(&full, source))?;
        }
        self.extracted.files += 1;
        Ok(())
    }

    fn count_bytes(&mut self, bytes: u64, compressed: u64) -> Result<(), ExtractError> {
        self.check_cancelled()?;
        self.extracted.bytes += bytes;
        let unpacked = self.extracted.bytes;
        if unpacked > self.limits.max_unpacked_bytes {
            return Err(ExtractError::Limit {
                limit: format!("{} unpacked bytes", self.limits.max_unpacked_bytes),
                detail: format!("it unpacks to more than {unpacked} bytes"),
            });
        }
        if unpacked > Limits::RATIO_GRACE && unpacked / compressed.max(1) > self.limits.max_ratio {
            return Err(ExtractError::Limit {
                limit: format!(
                    "a compression ratio of {}:1 (a zip bomb?)",
                    self.limits.max_ratio
                ),
                detail: format!("{unpacked} bytes unpacked from {compressed} compressed bytes"),
            });
        }
        Ok(())
    }

    /// A hard link to an entry extracted earlier.
    fn hard_link(&mut self, name: &[u8], target: &[u8]) -> Result<(), ExtractError> {
        let relative = Self::path(name)?.ok_or_else(|| ExtractError::Unsafe {
            entry: shown(name),
            reason: "a link cannot be the folder itself",
        })?;
        let target_path = path::entry_path(target)
            .ok()
            .flatten()
            .ok_or(ExtractError::Unsafe {
                entry: shown(name),
                reason: "the hard link's target is not a safe path in the archive",
            })?;
        let full_target = self.root.join(&target_path);
        // Links do not exist yet (they come last), so this is a file this archive wrote.
        if !fs::symlink_metadata(&full_target).is_ok_and(|metadata| metadata.is_file()) {
            return Err(ExtractError::Conflict {
                entry: shown(name),
                reason: format!(
                    "hard link to {}, which is not a file extracted before it",
                    shown(target)
                ),
            });
        }
        if let Some(parent) = relative.parent() {
            self.ensure_folder(parent)?;
        }
        let full = self.root.join(&relative);
        if full == full_target {
            return Ok(());
        }
        let _ = fs::remove_file(&full);
        fs::hard_link(&full_target, &full).map_err(|source| ExtractError::io(&full, source))?;
        self.extracted.files += 1;
        Ok(())
    }

    /// A symbolic link, created by [`Writer::finish`].
    fn symlink(&mut self, name: &[u8], target: &[u8]) -> Result<(), ExtractError> {
        let relative = Self::path(name)?.ok_or_else(|| ExtractError::Unsafe {
            entry: shown(name),
            reason: "a link cannot be the folder itself",
        })?;
        let target =
            path::link_target(&relative, target).map_err(|reason| ExtractError::Unsafe {
                entry: shown(name),
                reason,
            })?;
        self.links.push((relative, target, shown(name)));
        Ok(())
    }

    /// Creates the links, then checks where each really leads.
    fn finish(mut self) -> Result<Extracted, ExtractError> {
        let root =
            fs::canonicalize(self.root).map_err(|source| ExtractError::io(self.root, source))?;
        let links = std::mem::take(&mut self.links);
        for (relative, target, _) in &links {
            if let Some(parent) = relative.parent() {
                self.ensure_folder(parent)?;
            }
            let full = self.root.join(relative);
            create_symlink(target, &full).map_err(|source| match source.kind() {
                io::ErrorKind::AlreadyExists => ExtractError::Conflict {
                    entry: relative.display().to_string(),
                    reason: "a link has the path of another entry".into(),
                },
                _ => ExtractError::io(&full, source),
            })?;
            self.extracted.links += 1;
        }
        for (relative, _, entry) in &links {
            // `..` after a link climbs from the link's target, not from its folder: only the
            // resolved path tells where a chain of links leads. A dangling link passed the
            // lexical check and leads nowhere.
            if let Ok(resolved) = fs::canonicalize(self.root.join(relative))
                && !resolved.starts_with(&root)
            {
                return Err(ExtractError::Unsafe {
                    entry: entry.clone(),
                    reason: "the link leads outside the folder through other links",
                });
            }
        }
        Ok(self.extracted)
    }
}

#[cfg(unix)]
fn create_symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn create_symlink(_target: &Path, _link: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symbolic links in archives are extracted on Unix only",
    ))
}

/// Opens `path` for reading, as an extraction error.
fn open(path: &Path) -> Result<File, ExtractError> {
    File::open(path).map_err(|source| ExtractError::io(path, source))
}
