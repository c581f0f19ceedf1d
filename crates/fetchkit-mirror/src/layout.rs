//! Where everything lives in a mirror folder.
//!
//! ```text
//! DIR/index/config.json                      {"dl": "<base>/crates/{lowerprefix}/{crate}/{crate}-{version}.crate"}
//! DIR/index/<prefix>/<lowercase name>        upstream's index lines, byte for byte, for the versions present
//! DIR/crates/<lowerprefix>/<name>/<name>-<version>.crate                  (layout `sparse`)
//! DIR/<name>-<version>.crate                                              (layout `local-registry`)
//! DIR/.fetchkit/                             layout, journal, lock, index cache, temporary files
//! ```
//!
//! Paths on disk are the paths in URLs, so a static file server (nginx, `fetchkit serve`) serves
//! the folder as a sparse registry with no rewriting; the `local-registry` layout is also what
//! cargo's `local-registry` source reads.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use fetchkit_index_cache::index_path;

use crate::MirrorError;

/// How `.crate` files are laid out in a mirror folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Layout {
    /// `crates/<lowerprefix>/<name>/<name>-<version>.crate`: a sparse registry that stays
    /// browsable at any size (a full mirror holds about a million files).
    #[default]
    Sparse,
    /// `<name>-<version>.crate` at the top: a cargo local registry (`local-registry = "DIR"`),
    /// and still a sparse registry when served.
    LocalRegistry,
}

impl Layout {
    /// The name used on the command line and in the folder's record.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Sparse => "sparse",
            Layout::LocalRegistry => "local-registry",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Layout {
    type Err = MirrorError;

    fn from_str(text: &str) -> Result<Layout, MirrorError> {
        match text {
            "sparse" => Ok(Layout::Sparse),
            "local-registry" => Ok(Layout::LocalRegistry),
            _ => Err(MirrorError::InvalidArgument {
                what: "layout",
                value: text.to_owned(),
                reason: "expected `sparse` or `local-registry`".into(),
            }),
        }
    }
}

/// The folder of a crate's index file, as in cargo's `{prefix}` (`lowercase = false`) and
/// `{lowerprefix}` markers: `1`, `2`, `3/s`, `se/rd`.
pub fn prefix(name: &str, lowercase: bool) -> String {
    let name = if lowercase {
        name.to_ascii_lowercase()
    } else {
        name.to_owned()
    };
    match name.len() {
        0 => String::new(),
        1 => "1".into(),
        2 => "2".into(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    }
}

/// The paths of one mirror folder.
#[derive(Debug, Clone)]
pub(crate) struct MirrorDir {
    root: PathBuf,
    layout: Layout,
}

/// Names the mirror's temporary files apart, within a run and across runs.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl MirrorDir {
    pub(crate) fn new(root: &Path, layout: Layout) -> MirrorDir {
        MirrorDir {
            root: root.to_owned(),
            layout,
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn layout(&self) -> Layout {
        self.layout
    }

    /// `index/`.
    pub(crate) fn index_dir(&self) -> PathBuf {
        self.root.join("index")
    }

    pub(crate) fn index_file(&self, name: &str) -> PathBuf {
        self.index_dir().join(index_path(name))
    }

    /// The `.crate` file's path relative to the root, with `/` separators: also its URL path.
    pub(crate) fn crate_path(&self, name: &str, version: &str) -> String {
        match self.layout {
            Layout::Sparse => format!(
                "crates/{}/{name}/{name}-{version}.crate",
                prefix(name, true)
            ),
            Layout::LocalRegistry => format!("{name}-{version}.crate"),
        }
    }

    pub(crate) fn crate_file(&self, name: &str, version: &str) -> PathBuf {
        self.root.join(self.crate_path(name, version))
    }

    /// `.fetchkit/`: the mirror's own state, never served.
    pub(crate) fn state_dir(&self) -> PathBuf {
        self.root.join(".fetchkit")
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.state_dir().join("tmp")
    }

    pub(crate) fn journal(&self) -> PathBuf {
        self.state_dir().join("journal")
    }

    pub(crate) fn layout_record(&self) -> PathBuf {
        self.state_dir().join("layout")
    }

    pub(crate) fn lock_file(&self) -> PathBuf {
        self.state_dir().join("lock")
    }

    /// The database dump's listing state: the timestamp of the last dump a run completed.
    pub(crate) fn dump_state(&self) -> PathBuf {
        self.state_dir().join("dump-state.json")
    }

    /// Where a sparse upstream's index files are cached (cargo's format), so that the next
    /// run asks for them conditionally.
    pub(crate) fn upstream_cache(&self) -> PathBuf {
        self.state_dir().join("upstream-index")
    }

    /// A fresh temporary path in `.fetchkit/tmp`, on the same file system as every final
    /// path, so a rename puts it in place.
    pub(crate) fn temporary(&self, hint: &str) -> PathBuf {
        let serial = TEMPORARY.fetch_add(1, Ordering::Relaxed);
        self.tmp_dir()
            .join(format!("{}-{serial}-{hint}", std::process::id()))
    }

    /// Writes `bytes` to `path` through a temporary file, so that a reader (or a server) sees
    /// the old file or the new one, never half of one; creates the parent folders.
    pub(crate) fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), MirrorError> {
        let temporary = self.temporary("write");
        let mut file = std::fs::File::create(&temporary).map_err(MirrorError::io(&temporary))?;
        file.write_all(bytes).map_err(MirrorError::io(&temporary))?;
        drop(file);
        self.place(&temporary, path)
    }

    /// Renames the finished temporary file `temporary` to `path`, creating its folders.
    pub(crate) fn place(&self, temporary: &Path, path: &Path) -> Result<(), MirrorError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(MirrorError::io(parent))?;
        }
        std::fs::rename(temporary, path).map_err(|source| {
            let _ = std::fs::remove_file(temporary);
            MirrorError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// Makes everything written under the mirror so far durable: one `syncfs` of its file
    /// system on Linux, where it costs one flush instead of one `fsync` per file (which is what
    /// makes aria2c slow on small files); elsewhere each given file and its folder is synced.
    /// Called before index files name the files, so that after a power cut no index line
    /// offers a file that did not reach the disk.
    pub(crate) fn sync_to_disk(&self, written: &[PathBuf]) -> Result<(), MirrorError> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let _ = written;
            let root = std::fs::File::open(&self.root).map_err(MirrorError::io(&self.root))?;
            rustix::fs::syncfs(&root).map_err(|errno| MirrorError::Io {
                path: self.root.clone(),
                source: errno.into(),
            })
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let mut folders = std::collections::BTreeSet::new();
            for path in written {
                std::fs::File::open(path)
                    .and_then(|file| file.sync_all())
                    .map_err(MirrorError::io(path))?;
                if let Some(parent) = path.parent() {
                    folders.insert(parent.to_owned());
                }
            }
            // Folders cannot be opened for syncing on every platform; their entries are
            // best effort there.
            for folder in folders {
                if let Ok(folder) = std::fs::File::open(&folder) {
                    let _ = folder.sync_all();
                }
            }
            Ok(())
        }
    }

    /// `index/config.json` for a mirror served at `base_url`.
    pub(crate) fn registry_config(&self, base_url: &str) -> Vec<u8> {
        let base = base_url.trim_end_matches('/');
        let dl = match self.layout {
            Layout::Sparse => {
                format!("{base}/crates/{{lowerprefix}}/{{crate}}/{{crate}}-{{version}}.crate")
            }
            Layout::LocalRegistry => format!("{base}/{{crate}}-{{version}}.crate"),
        };
        let mut bytes = serde_json::to_vec_pretty(&serde_json::json!({ "dl": dl }))
            .expect("a JSON object of strings serializes");
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_cargo() {
        let cases = [
            ("a", "1", "1"),
            ("ab", "2", "2"),
            ("Abc", "3/A", "3/a"),
            ("Serde", "Se/rd", "se/rd"),
            ("lock_api", "lo/ck", "lo/ck"),
        ];
        for (name, prefix_as_is, lower) in cases {
            assert_eq!(
                (prefix(name, false), prefix(name, true)),
                (prefix_as_is.to_owned(), lower.to_owned()),
                "{name}"
            );
        }
    }

    #[test]
    fn crate_paths_per_layout() {
        let root = Path::new("/m");
        let sparse = MirrorDir::new(root, Layout::Sparse);
        assert_eq!(
            sparse.crate_path("Serde", "1.0.0+build.7"),
            "crates/se/rd/Serde/Serde-1.0.0+build.7.crate"
        );
        let local = MirrorDir::new(root, Layout::LocalRegistry);
        assert_eq!(local.crate_path("a", "0.1.0"), "a-0.1.0.crate");
        assert_eq!(
            sparse.index_file("Serde"),
            Path::new("/m/index/se/rd/serde")
        );
    }
}
