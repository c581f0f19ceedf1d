//! `fetchkit mirror verify`: re-hashes every `.crate` file a mirror's index lists, on every
//! core, and reports what is missing, corrupt or extra. It needs no network and no journal:
//! the index lines are the catalog, the files on disk the evidence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use fetchkit_index_cache::index_path;
use serde::Serialize;

use crate::MirrorError;
use crate::layout::{Layout, MirrorDir};
use crate::upstream::{IndexLine, sha256_hex};

/// What `verify` found. Paths are relative to the mirror folder, with `/` separators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The folder's layout.
    pub layout: String,
    /// `.crate` files the index lists.
    pub files: usize,
    /// Bytes hashed.
    pub bytes: u64,
    /// Listed but not there.
    pub missing: Vec<String>,
    /// There but hashing to something else than the index's `cksum`.
    pub corrupt: Vec<Corrupt>,
    /// There but listed nowhere (leftover temporary files included).
    pub extra: Vec<String>,
    /// Index lines that are not valid, or in the wrong crate's file.
    pub bad_index_lines: Vec<String>,
}

/// A file whose content is not what its index line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Corrupt {
    /// The file.
    pub path: String,
    /// The index's `cksum`.
    pub expected: String,
    /// What the file hashes to.
    pub actual: String,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.corrupt.is_empty()
            && self.extra.is_empty()
            && self.bad_index_lines.is_empty()
    }
}

/// Checks the mirror folder `root`, hashing on `jobs` threads.
pub fn verify(root: &Path, jobs: usize) -> Result<VerifyReport, MirrorError> {
    let dir = MirrorDir::new(root, layout_of(root)?);
    let mut report = VerifyReport {
        layout: dir.layout().to_string(),
        ..VerifyReport::default()
    };
    let index = dir.index_dir();
    if !index.is_dir() {
        return Err(MirrorError::Folder {
            dir: root.to_owned(),
            reason: "not a mirror (no index folder)".into(),
        });
    }
    // Every listed file and its checksum, by relative path.
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for file in walk(&index)? {
        let relative = relative(&index, &file);
        if relative == "config.json" {
            continue;
        }
        let bytes = std::fs::read(&file).map_err(MirrorError::io(&file))?;
        for (number, raw) in bytes.split(|&byte| byte == b'\n').enumerate() {
            if raw.is_empty() {
                continue;
            }
            let place = format!("index/{relative}:{}", number + 1);
            match IndexLine::parse(raw, 0) {
                None => report
                    .bad_index_lines
                    .push(format!("{place}: not a valid index line")),
                Some(line) if index_path(&line.name) != relative => report.bad_index_lines.push(
                    format!("{place}: a line of {} in another crate's file", line.name),
                ),
                Some(line) => {
                    expected.insert(dir.crate_path(&line.name, &line.vers), line.cksum);
                }
            }
        }
    }
    report.files = expected.len();

    let mut present = Vec::new();
    let crates_root = match dir.layout() {
        Layout::Sparse => root.join("crates"),
        _ => root.to_owned(),
    };
    if crates_root.is_dir() {
        let files = match dir.layout() {
            Layout::Sparse => walk(&crates_root)?,
            _ => top_level_crates(root)?,
        };
        for file in files {
            let relative = relative(root, &file);
            if expected.contains_key(&relative) {
                present.push(relative);
            } else {
                report.extra.push(relative);
            }
        }
    }
    if let Ok(leftovers) = walk(&dir.tmp_dir()) {
        report
            .extra
            .extend(leftovers.iter().map(|file| relative(root, file)));
    }
    present.sort();
    report.missing = expected
        .keys()
        .filter(|path| present.binary_search(path).is_err())
        .cloned()
        .collect();

    // Hash on `jobs` threads, each taking the next file.
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let hashed = Mutex::new(0u64);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = present.get(at) else {
                        break;
                    };
                    let outcome = std::fs::read(root.join(path)).map(|bytes| {
                        *hashed.lock().unwrap_or_else(|p| p.into_inner()) += bytes.len() as u64;
                        sha256_hex(&bytes)
                    });
                    results
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push((path.clone(), outcome));
                }
            });
        }
    });
    report.bytes = hashed.into_inner().unwrap_or_else(|p| p.into_inner());
    for (path, outcome) in results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
    {
        let want = &expected[&path];
        match outcome {
            Ok(actual) if actual == *want => {}
            Ok(actual) => report.corrupt.push(Corrupt {
                path,
                expected: want.clone(),
                actual,
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => report.missing.push(path),
            Err(error) => return Err(MirrorError::io(root.join(&path))(error)),
        }
    }
    report.missing.sort();
    report.corrupt.sort_by(|a, b| a.path.cmp(&b.path));
    report.extra.sort();
    Ok(report)
}

/// The layout the folder records, or, for a folder made by hand, the one its files suggest.
fn layout_of(root: &Path) -> Result<Layout, MirrorError> {
    let record = root.join(".fetchkit").join("layout");
    match std::fs::read_to_string(&record) {
        Ok(text) => text.trim().parse(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if root.join("crates").is_dir() {
                Ok(Layout::Sparse)
            } else {
                Ok(Layout::LocalRegistry)
            }
        }
        Err(error) => Err(MirrorError::io(&record)(error)),
    }
}

/// Every file below `folder`.
fn walk(folder: &Path) -> Result<Vec<PathBuf>, MirrorError> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(MirrorError::io(&folder))? {
            let entry = entry.map_err(MirrorError::io(&folder))?;
            let kind = entry.file_type().map_err(MirrorError::io(entry.path()))?;
            if kind.is_dir() {
                folders.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

fn top_level_crates(root: &Path) -> Result<Vec<PathBuf>, MirrorError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root).map_err(MirrorError::io(root))? {
        let path = entry.map_err(MirrorError::io(root))?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "crate")
            && path.is_file()
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn relative(base: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
