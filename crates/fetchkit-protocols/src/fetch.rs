//! A whole fetch: select the protocol, run it in a fresh temporary folder, find the package's
//! manifest, check the content checksum, and move the package into place in one rename.
//!
//! The temporary folder is made beside the destination, so the final move is a rename on one
//! file system: the destination either does not change or holds the whole package. The folder
//! is removed on every path: success, failure, and cancellation through the
//! [`CancellationToken`], which stops a running command (killed and waited for) or download
//! before the folder goes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fetchkit_transport::{
    Client, Download, Retry, Sha256Digest, download_to_file, download_with_factory,
};
use tokio_util::sync::CancellationToken;

use crate::checksum::{ChecksumError, content_checksum};
use crate::config::{Builtin, Config, Selected};
use crate::error::{ConfigError, TemplateError};
use crate::extract::{ExtractError, Extracted, Limits, extract_tar_gz_until, extract_zip_until};
use crate::manifest::{ManifestError, find_package_root};
use crate::run::Run;
use crate::stream::TarGzExtractor;
use crate::template::Variables;

/// Where a command protocol's stdout and stderr go, piece by piece as they arrive.
pub type OutputSink = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// The manifest file name looked for when none is given.
pub const DEFAULT_MANIFEST: &str = "Orbit.toml";

/// A command protocol's time limit when neither the protocol nor the caller sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// One package to fetch.
#[derive(Clone, Debug)]
pub struct FetchRequest {
    source: String,
    dest: PathBuf,
    protocol: Option<String>,
    name: Option<String>,
    version: Option<String>,
    sha256: Option<Sha256Digest>,
    checksum: Option<String>,
    manifest: String,
}

impl FetchRequest {
    /// Fetch `source` into the folder `dest`, which must not exist or be empty.
    pub fn new(source: impl Into<String>, dest: impl Into<PathBuf>) -> FetchRequest {
        FetchRequest {
            source: source.into(),
            dest: dest.into(),
            protocol: None,
            name: None,
            version: None,
            sha256: None,
            checksum: None,
            manifest: DEFAULT_MANIFEST.to_owned(),
        }
    }

    /// Use this protocol instead of selecting one by the source.
    pub fn protocol(mut self, name: impl Into<String>) -> FetchRequest {
        self.protocol = Some(name.into());
        self
    }

    /// The package's name, for `{{ fetchkit.pkg.name }}`.
    pub fn name(mut self, name: impl Into<String>) -> FetchRequest {
        self.name = Some(name.into());
        self
    }

    /// The package's version (or tag), for `{{ fetchkit.pkg.version }}`.
    pub fn version(mut self, version: impl Into<String>) -> FetchRequest {
        self.version = Some(version.into());
        self
    }

    /// The SHA-256 the downloaded archive must have (built-in protocols only).
    pub fn sha256(mut self, digest: Sha256Digest) -> FetchRequest {
        self.sha256 = Some(digest);
        self
    }

    /// The content checksum (see [`content_checksum`]) the package must have.
    pub fn checksum(mut self, checksum: impl Into<String>) -> FetchRequest {
        self.checksum = Some(checksum.into().to_ascii_lowercase());
        self
    }

    /// The manifest's file name, which marks the package's root ([`DEFAULT_MANIFEST`]).
    pub fn manifest(mut self, name: impl Into<String>) -> FetchRequest {
        self.manifest = name.into();
        self
    }
}

/// What a fetch put where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fetched {
    /// The destination folder, now holding the package.
    pub dest: PathBuf,
    /// The protocol that ran.
    pub protocol: String,
    /// The package's content checksum, 64 lowercase hex digits.
    pub checksum: String,
    /// The archive's SHA-256, for the built-in protocols.
    pub archive_sha256: Option<Sha256Digest>,
    /// Where the manifest was, relative to what the protocol produced (`.` at its top).
    pub package_root: PathBuf,
}

/// Why a fetch failed. The destination is untouched and the temporary folder gone.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The configuration does not allow this fetch.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The protocol's command template cannot be filled for this fetch.
    #[error("protocol {protocol:?}: {source}")]
    Template {
        /// The protocol.
        protocol: String,
        /// Why.
        #[source]
        source: TemplateError,
    },
    /// The destination cannot receive the package.
    #[error("{path}: {reason}")]
    Destination {
        /// The destination.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file or folder of the fetch could not be made or moved.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The protocol's program does not exist.
    #[error("protocol {protocol:?}: program {program:?} not found")]
    ProgramNotFound {
        /// The protocol.
        protocol: String,
        /// The program.
        program: String,
    },
    /// The protocol's program could not be started or waited for.
    #[error("protocol {protocol:?}: cannot run {program:?}: {source}")]
    Spawn {
        /// The protocol.
        protocol: String,
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The program exited with a non-zero status.
    #[error(
        "protocol {protocol:?} failed with exit status {code}{}",
        tail(stderr_tail)
    )]
    Exited {
        /// The protocol.
        protocol: String,
        /// The exit status.
        code: i32,
        /// The last lines of its stderr, joined with ` | `.
        stderr_tail: String,
    },
    /// The program was killed by a signal.
    #[error(
        "protocol {protocol:?} was killed by signal {signal}{}",
        tail(stderr_tail)
    )]
    Signaled {
        /// The protocol.
        protocol: String,
        /// The signal's number.
        signal: i32,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// The program ran out of time and was killed.
    #[error(
        "protocol {protocol:?} did not finish within {after:?} and was killed{}",
        tail(stderr_tail)
    )]
    TimedOut {
        /// The protocol.
        protocol: String,
        /// Its time limit.
        after: Duration,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// The archive could not be downloaded, or was not the one expected (`--sha256`).
    #[error(transparent)]
    Download(#[from] fetchkit_transport::Error),
    /// The archive could not be extracted safely.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// No single package root in what the protocol produced.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The content checksum could not be computed.
    #[error(transparent)]
    Checksum(#[from] ChecksumError),
    /// The package is not the one expected (`--checksum`).
    #[error("content checksum mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// Asked for.
        expected: String,
        /// Computed.
        actual: String,
    },
    /// The fetch was cancelled.
    #[error("the fetch was interrupted")]
    Interrupted,
}

fn tail(stderr_tail: &str) -> String {
    if stderr_tail.is_empty() {
        String::new()
    } else {
        format!("; stderr: {stderr_tail}")
    }
}

impl FetchError {
    /// Whether the same fetch may succeed if tried again.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Download(error) => error.is_transient(),
            FetchError::Extract(error) => error.is_transient(),
            FetchError::Config(error) => error.is_transient(),
            FetchError::TimedOut { .. } => true,
            _ => false,
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
        move |source| FetchError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Fetches packages with one configuration, HTTP client and set of limits.
#[derive(Clone)]
pub struct Fetcher {
    config: Config,
    client: Client,
    retry: Retry,
    limits: Limits,
    timeout: Option<Duration>,
    output: Option<OutputSink>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("protocols", &self.config.protocols().len())
            .field("limits", &self.limits)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A fetcher with the default limits, the default command timeout, and command output
    /// discarded (except the stderr tail kept for errors).
    pub fn new(config: Config, client: Client, retry: Retry) -> Fetcher {
        Fetcher {
            config,
            client,
            retry,
            limits: Limits::default(),
            timeout: None,
            output: None,
            cancel: CancellationToken::new(),
        }
    }

    /// Limits for extracting archives.
    pub fn limits(mut self, limits: Limits) -> Fetcher {
        self.limits = limits;
        self
    }

    /// The time limit of command protocols, over a protocol's own `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Fetcher {
        self.timeout = Some(timeout);
        self
    }

    /// Where command protocols' stdout and stderr go.
    pub fn output(mut self, sink: OutputSink) -> Fetcher {
        self.output = Some(sink);
        self
    }

    /// A token that stops fetches when cancelled: they clean up and return
    /// [`FetchError::Interrupted`].
    pub fn cancel_token(mut self, token: CancellationToken) -> Fetcher {
        self.cancel = token;
        self
    }

    /// The configuration protocols are selected from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Fetches one package into `request`'s destination.
    pub async fn fetch(&self, request: &FetchRequest) -> Result<Fetched, FetchError> {
        let selected = self
            .config
            .select(&request.source, request.protocol.as_deref())?;
        let dest = &request.dest;
        check_destination(dest)?;
        let work = work_folder(dest)?;

        let (produced, archive_sha256) = match selected {
            Selected::Configured(protocol) => {
                let variables = Variables {
                    name: request.name.clone(),
                    version: request.version.clone(),
                    source: request.source.clone(),
                    tmp: work.path().to_string_lossy().into_owned(),
                };
                let mut argv = variables
                    .fill_command(&protocol.command)
                    .map_err(|source| FetchError::Template {
                        protocol: protocol.name.clone(),
                        source,
                    })?;
                if let Some(folder) = protocol.defined_in.parent() {
                    beside_config(&mut argv, folder);
                }
                Run {
                    protocol: &protocol.name,
                    argv: &argv,
                    folder: work.path(),
                    environment: variables.environment(&protocol.name),
                    timeout: self.timeout.or(protocol.timeout).unwrap_or(DEFAULT_TIMEOUT),
                    output: self.output.clone(),
                    cancel: &self.cancel,
                }
                .run()
                .await?;
                (work.path().to_owned(), None)
            }
            Selected::Builtin(builtin) => {
                let mut download = Download::parse(&request.source)?;
                if let Some(digest) = request.sha256 {
                    download = download.sha256(digest);
                }
                let (root, _, sha256) = match builtin {
                    Builtin::Tarball => self.download_tar_gz(&download, work.path()).await?,
                    Builtin::Standard => self.download_zip(&download, work.path()).await?,
                };
                (root, sha256)
            }
        };

        let manifest = request.manifest.clone();
        let search = produced.clone();
        let package = spawn_blocking(move || find_package_root(&search, &manifest)).await?;
        let hashed = package.clone();
        let checksum = spawn_blocking(move || content_checksum(&hashed)).await?;
        if let Some(expected) = &request.checksum
            && *expected != checksum
        {
            return Err(FetchError::ChecksumMismatch {
                expected: expected.clone(),
                actual: checksum,
            });
        }
        if self.cancel.is_cancelled() {
            return Err(FetchError::Interrupted);
        }
        install(&package, dest)?;
        let package_root = package
            .strip_prefix(&produced)
            .map(|relative| {
                if relative.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    relative.to_owned()
                }
            })
            .unwrap_or_default();
        drop(work);
        Ok(Fetched {
            dest: dest.clone(),
            protocol: selected.name().to_owned(),
            checksum,
            archive_sha256,
            package_root,
        })
    }

    /// Downloads the archive at `source` and extracts it safely into `dest` (which must not
    /// exist or be empty), in one rename: the archive part of a built-in protocol, without
    /// protocols, manifests or checksums. A `.tar.gz`, `.tgz` or `.crate` is extracted while
    /// it downloads; anything else is taken for a zip.
    pub async fn unpack(
        &self,
        source: &str,
        sha256: Option<Sha256Digest>,
        dest: &Path,
    ) -> Result<Unpacked, FetchError> {
        check_destination(dest)?;
        let work = work_folder(dest)?;
        let mut download = Download::parse(source)?;
        // Nobody asked for the archive's digest, so it is not computed: hashing every byte is
        // a noticeable share of a streamed extraction when both cores are busy unpacking.
        download.compute_sha256 = false;
        if let Some(digest) = sha256 {
            download = download.sha256(digest);
        }
        let (root, extracted, sha256) = match Builtin::for_source(source) {
            Builtin::Tarball => self.download_tar_gz(&download, work.path()).await?,
            Builtin::Standard => self.download_zip(&download, work.path()).await?,
        };
        if self.cancel.is_cancelled() {
            return Err(FetchError::Interrupted);
        }
        install(&root, dest)?;
        Ok(Unpacked {
            extracted,
            archive_sha256: sha256,
        })
    }

    /// Streams the archive into its extraction; returns the extracted folder.
    async fn download_tar_gz(
        &self,
        download: &Download,
        work: &Path,
    ) -> Result<(PathBuf, Extracted, Option<Sha256Digest>), FetchError> {
        let mut extractor = TarGzExtractor::new(work, self.limits);
        let result = tokio::select! {
            result = download_with_factory(&self.client, &self.retry, download, &mut extractor) => Some(result),
            () = self.cancel.cancelled() => None,
        };
        let downloaded = match result {
            None => {
                extractor.stop().await;
                return Err(FetchError::Interrupted);
            }
            Some(Err(error)) => {
                // The extraction's own error explains a broken pipe or failed commit better.
                if let Some(Err(extract)) = extractor.take_outcome() {
                    return Err(extract.into());
                }
                if let Some(extract) = extractor.stop().await {
                    return Err(extract.into());
                }
                return Err(error.into());
            }
            Some(Ok(downloaded)) => downloaded,
        };
        match extractor.take_outcome() {
            Some(Ok((root, extracted))) => Ok((root, extracted, downloaded.sha256)),
            Some(Err(error)) => Err(error.into()),
            None => Err(FetchError::Io {
                path: work.to_owned(),
                source: std::io::Error::other("the download committed no extraction"),
            }),
        }
    }

    /// Downloads the zip into the work folder, then extracts it beside.
    async fn download_zip(
        &self,
        download: &Download,
        work: &Path,
    ) -> Result<(PathBuf, Extracted, Option<Sha256Digest>), FetchError> {
        let archive = work.join("archive.zip");
        let downloaded = tokio::select! {
            result = download_to_file(&self.client, &self.retry, download, &archive) => result?,
            () = self.cancel.cancelled() => return Err(FetchError::Interrupted),
        };
        let root = work.join("unpacked");
        std::fs::create_dir(&root).map_err(FetchError::io(&root))?;
        let limits = self.limits;
        let (from, into) = (archive.clone(), root.clone());
        let cancel = self.cancel.clone();
        let extracted =
            spawn_blocking(move || extract_zip_until(&from, &into, limits, Some(cancel))).await?;
        // The archive is not part of the package; it goes before the manifest search.
        std::fs::remove_file(&archive).map_err(FetchError::io(&archive))?;
        Ok((root, extracted, downloaded.sha256))
    }
}

/// What [`Fetcher::unpack`] and [`unpack_file`] put in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unpacked {
    /// What the archive held.
    pub extracted: Extracted,
    /// The archive's SHA-256, when one was expected (and so verified).
    pub archive_sha256: Option<Sha256Digest>,
}

/// Extracts the archive file `archive` safely into `dest` (which must not exist or be empty),
/// in one rename. A name ending in `.tar.gz`, `.tgz` or `.crate` is a gzip-compressed tar,
/// anything else a zip. Blocking; cancelling `cancel` stops it, leaving nothing behind.
pub fn unpack_file(
    archive: &Path,
    dest: &Path,
    limits: Limits,
    cancel: &CancellationToken,
) -> Result<Unpacked, FetchError> {
    check_destination(dest)?;
    let work = work_folder(dest)?;
    let root = work.path().join("unpacked");
    std::fs::create_dir(&root).map_err(FetchError::io(&root))?;
    let extracted = match Builtin::for_source(&archive.to_string_lossy()) {
        Builtin::Tarball => {
            let file = std::fs::File::open(archive).map_err(FetchError::io(archive))?;
            let input = std::io::BufReader::with_capacity(256 << 10, file);
            extract_tar_gz_until(input, &root, limits, Some(cancel.clone()))?
        }
        Builtin::Standard => extract_zip_until(archive, &root, limits, Some(cancel.clone()))?,
    };
    install(&root, dest)?;
    Ok(Unpacked {
        extracted,
        archive_sha256: None,
    })
}

/// A fresh temporary folder beside `dest`, so the final move is a rename.
fn work_folder(dest: &Path) -> Result<tempfile::TempDir, FetchError> {
    let parent = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(FetchError::io(parent))?;
    tempfile::Builder::new()
        .prefix(".fetchkit-fetch-")
        .tempdir_in(parent)
        .map_err(FetchError::io(parent))
}

/// Makes paths relative to the configuration file's folder absolute, as Orbit does, since the
/// command runs elsewhere: the program when such a file exists there, and each argument with a
/// `/` in it that names an existing file or folder there. Plain words (`clone`, `main`) are
/// left alone even if a file of that name sits beside the configuration.
fn beside_config(argv: &mut [String], folder: &Path) {
    for (position, word) in argv.iter_mut().enumerate() {
        let path = Path::new(word.as_str());
        if path.is_absolute() || (position > 0 && !word.contains('/')) {
            continue;
        }
        if position == 0 && !word.contains('/') {
            // A bare program name is looked up on PATH, unless the configuration's folder has
            // it (Orbit's rule).
            if !folder.join(path).is_file() {
                continue;
            }
        }
        let candidate = folder.join(path);
        if candidate.exists() {
            *word = candidate.to_string_lossy().into_owned();
        }
    }
}

/// Runs blocking file work off the async threads.
async fn spawn_blocking<T: Send + 'static, E: Into<FetchError> + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, FetchError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(Into::into),
        Err(join) => Err(FetchError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(format!("a worker thread failed: {join}")),
        }),
    }
}

/// Fails early when the destination cannot take the package: it exists and is not an empty
/// folder.
fn check_destination(dest: &Path) -> Result<(), FetchError> {
    let refuse = |reason: &str| {
        Err(FetchError::Destination {
            path: dest.to_owned(),
            reason: reason.to_owned(),
        })
    };
    match std::fs::symlink_metadata(dest) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(FetchError::Io {
            path: dest.to_owned(),
            source,
        }),
        Ok(metadata) if !metadata.is_dir() => refuse("exists and is not a folder"),
        Ok(_) => match std::fs::read_dir(dest).map(|mut entries| entries.next().is_none()) {
            Ok(true) => Ok(()),
            Ok(false) => refuse("exists and is not empty"),
            Err(source) => Err(FetchError::Io {
                path: dest.to_owned(),
                source,
            }),
        },
    }
}

/// Moves the package into place in one rename (over an empty folder, if there is one).
fn install(package: &Path, dest: &Path) -> Result<(), FetchError> {
    match std::fs::rename(package, dest) {
        Ok(()) => Ok(()),
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::DirectoryNotEmpty | std::io::ErrorKind::AlreadyExists
            ) =>
        {
            Err(FetchError::Destination {
                path: dest.to_owned(),
                reason: "was filled while the package was fetched".into(),
            })
        }
        Err(source) => Err(FetchError::Io {
            path: dest.to_owned(),
            source,
        }),
    }
}
