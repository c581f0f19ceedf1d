//! Cargo's home folder: which folder holds a registry's index cache, and the lock cargo takes
//! before it writes there.
//!
//! Cargo names each registry's folder `registry/index/<host>-<hash>`, where the hash is a
//! 64-bit `StableSipHasher128` hash of the source kind and the registry's canonical URL. Since
//! cargo 1.85 that hash is the same on every platform, so fetchkit computes the name rather
//! than guessing it from what is on disk: a fresh cargo home has no folder to find, and a
//! folder's contents (`config.json`, `.cache`) do not record the URL they came from. The real
//! cargo in the integration tests checks the computed name against the one it creates.

use std::fs::{File, OpenOptions};
use std::hash::{Hash as _, Hasher};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use url::Url;

/// Cargo's `SourceKind::SparseRegistry` discriminant, which it hashes before the URL.
const SPARSE_REGISTRY_KIND: isize = 3;

/// The file cargo locks exclusively while it resolves and downloads; its index cache writes
/// assert that they hold it.
const PACKAGE_CACHE_LOCK: &str = ".package-cache";

/// What cargo writes into `registry/` when it creates the folder, so that backup tools skip
/// it. Only the first line is meaningful (<https://bford.info/cachedir/>).
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
    # This file is a cache directory tag, written by fetchkit as cargo would.\n\
    # For information about cache directory tags see https://bford.info/cachedir/\n";

/// Something in a cargo home could not be worked out, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CargoHomeError {
    /// The URL is not a sparse registry URL cargo would accept.
    #[error("invalid sparse index URL {url:?}: {reason}")]
    InvalidIndexUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A file or folder of the cargo home could not be created, opened or locked.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl CargoHomeError {
    /// Whether trying again later may succeed: never for a bad URL; for I/O, when the system
    /// was out of something (an interrupted call, a full table of locks or files).
    pub fn is_transient(&self) -> bool {
        match self {
            CargoHomeError::InvalidIndexUrl { .. } => false,
            CargoHomeError::Io { source, .. } => matches!(
                source.kind(),
                ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::ResourceBusy
            ),
        }
    }
}

/// The folder name cargo (1.85 and later) gives the sparse registry at `index_url` under
/// `registry/index/`, `registry/cache/` and `registry/src/`: the URL's host (no port, no user),
/// a dash, and 16 hex digits of the hash of the registry's canonical URL.
///
/// `index_url` is spelled as in cargo's configuration, `sparse+http(s)://HOST/PATH/`; the
/// `sparse+` prefix may be left out. Cargo canonicalizes before hashing: the trailing slash and
/// a `.git` suffix are dropped. (It also lower-cases URLs of one particular code-hosting site,
/// which serves no sparse index; that rule is not reproduced.) Older cargos hashed with a
/// platform-dependent hasher and name the folder differently.
///
/// ```
/// use fetchkit_index_cache::registry_dir_name;
///
/// let name = registry_dir_name("sparse+http://127.0.0.1:8000/index/").unwrap();
/// assert_eq!(name, "127.0.0.1-d93c24d61016b71b");
/// ```
pub fn registry_dir_name(index_url: &str) -> Result<String, CargoHomeError> {
    let invalid = |reason| CargoHomeError::InvalidIndexUrl {
        url: index_url.to_owned(),
        reason,
    };
    let parsed = sparse_index_url(index_url).map_err(invalid)?;
    // Cargo keeps the `sparse+` prefix as part of the URL's scheme, and hashes it.
    let mut url =
        Url::parse(&format!("sparse+{}", parsed.as_str())).map_err(|_| invalid("not a URL"))?;
    let mut segments = url
        .path_segments_mut()
        .map_err(|()| invalid("not a hierarchical URL"))?;
    segments.pop_if_empty();
    drop(segments);
    if let Some(stem) = url.path().strip_suffix(".git").map(str::to_owned) {
        url.set_path(&stem);
    }

    let mut hasher = rustc_stable_hash::StableSipHasher128::new();
    SPARSE_REGISTRY_KIND.hash(&mut hasher);
    url.as_str().hash(&mut hasher);
    let hash: u64 = Hasher::finish(&hasher);
    let hex: String = hash
        .to_le_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok(format!("{}-{hex}", parsed.host_str().unwrap_or_default()))
}

/// The http(s) URL of a sparse index spelled as cargo accepts it, `sparse+` optional: or
/// what is wrong with it.
pub(crate) fn sparse_index_url(index_url: &str) -> Result<Url, &'static str> {
    let bare = index_url.strip_prefix("sparse+").unwrap_or(index_url);
    let url = Url::parse(bare).map_err(|_| "not a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("not http or https");
    }
    if !url.path().ends_with('/') {
        return Err("a sparse index URL must end with a slash");
    }
    Ok(url)
}

/// A cargo home (`$CARGO_HOME`, usually `~/.cargo`): the registry folders fetchkit can fill
/// for cargo, and the lock that keeps it from writing while cargo does.
#[derive(Debug, Clone)]
pub struct CargoHome {
    root: PathBuf,
}

impl CargoHome {
    /// The cargo home at `root`. Nothing is read or created until asked.
    pub fn new(root: impl Into<PathBuf>) -> CargoHome {
        CargoHome { root: root.into() }
    }

    /// The cargo home's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `registry/index/<name>`: where cargo keeps the sparse registry's `config.json` and
    /// `.cache` folder.
    pub fn index_dir(&self, index_url: &str) -> Result<PathBuf, CargoHomeError> {
        Ok(self
            .registry()
            .join("index")
            .join(registry_dir_name(index_url)?))
    }

    /// `registry/index/<name>/.cache`: the folder of index cache files, laid out by
    /// [`index_path`](crate::index_path).
    pub fn cache_dir(&self, index_url: &str) -> Result<PathBuf, CargoHomeError> {
        Ok(self.index_dir(index_url)?.join(".cache"))
    }

    /// Creates the registry's index folder (and `registry/CACHEDIR.TAG`, as cargo does when it
    /// creates `registry/`) and returns its path.
    pub fn create_index_dir(&self, index_url: &str) -> Result<PathBuf, CargoHomeError> {
        let dir = self.index_dir(index_url)?;
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CargoHomeError::Io { path, source }
        };
        let registry = self.registry();
        let tag = registry.join("CACHEDIR.TAG");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        match OpenOptions::new().write(true).create_new(true).open(&tag) {
            Ok(file) => {
                use std::io::Write as _;
                (&file)
                    .write_all(CACHEDIR_TAG.as_bytes())
                    .map_err(io(&tag))?;
            }
            Err(error) if error.kind() == ErrorKind::AlreadyExists => {}
            Err(error) => return Err(io(&tag)(error)),
        }
        Ok(dir)
    }

    /// Takes cargo's package-cache lock (`.package-cache`, exclusive), waiting for it as long as
    /// a cargo holds it. Creates the cargo home if it does not exist.
    pub fn lock_package_cache(&self) -> Result<PackageCacheLock, CargoHomeError> {
        let (file, path) = self.open_lock_file()?;
        file.lock().map_err(|source| CargoHomeError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(PackageCacheLock { _file: file, path })
    }

    /// Takes cargo's package-cache lock if nobody holds it; `None` when a cargo (or another
    /// fetchkit) does, so the caller can say it is waiting before it calls
    /// [`lock_package_cache`](CargoHome::lock_package_cache).
    pub fn try_lock_package_cache(&self) -> Result<Option<PackageCacheLock>, CargoHomeError> {
        let (file, path) = self.open_lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(PackageCacheLock { _file: file, path })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(source)) => Err(CargoHomeError::Io { path, source }),
        }
    }

    fn registry(&self) -> PathBuf {
        self.root.join("registry")
    }

    fn open_lock_file(&self) -> Result<(File, PathBuf), CargoHomeError> {
        let path = self.root.join(PACKAGE_CACHE_LOCK);
        let io = |source| CargoHomeError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.root).map_err(io)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        Ok((file, path))
    }
}

/// Cargo's package-cache lock, held until dropped.
#[derive(Debug)]
pub struct PackageCacheLock {
    /// Closing the file releases the lock.
    _file: File,
    path: PathBuf,
}

impl PackageCacheLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_follow_cargos_canonical_url() {
        // The first name was made by cargo 1.95 itself for that URL; the others are the same
        // registry spelled the ways cargo treats as the same.
        let expected = "127.0.0.1-d93c24d61016b71b";
        for url in [
            "sparse+http://127.0.0.1:8000/index/",
            "http://127.0.0.1:8000/index/",
        ] {
            assert_eq!(registry_dir_name(url).unwrap(), expected, "{url}");
        }
        assert_ne!(
            registry_dir_name("sparse+http://127.0.0.1:8001/index/").unwrap(),
            expected,
            "the port is hashed, though the folder name leaves it out"
        );
        for (url, reason) in [
            ("sparse+http://127.0.0.1:8000/index", "slash"),
            ("sparse+ftp://127.0.0.1/index/", "http"),
            ("sparse+not a url/", "URL"),
        ] {
            let error = registry_dir_name(url).unwrap_err().to_string();
            assert!(error.contains(reason), "{url}: {error}");
        }
    }

    #[test]
    fn the_package_cache_lock_excludes_a_second_holder() {
        let home = tempfile::tempdir().unwrap();
        let home = CargoHome::new(home.path().join("cargo"));
        let held = home
            .try_lock_package_cache()
            .unwrap()
            .expect("free at first");
        assert!(held.path().ends_with(".package-cache"));
        assert!(home.try_lock_package_cache().unwrap().is_none());
        drop(held);
        assert!(home.try_lock_package_cache().unwrap().is_some());
    }
}
