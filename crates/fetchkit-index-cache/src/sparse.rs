//! A sparse-index client that keeps its cache in cargo's format (feature `sparse`).
//!
//! Each crate's index file is fetched with the validator its cache file recorded (`etag: …`
//! becomes `If-None-Match`, `last-modified: …` becomes `If-Modified-Since`), so an unchanged
//! file costs a `304` and leaves the cache file untouched; a `200` rewrites the cache file as
//! cargo would (temporary file, then rename, so no reader sees half a file); `404`, `410` and
//! `451` mean the registry has no such crate and remove the cache file. Many crates are
//! fetched at once, up to a bound.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fetchkit_transport::{Client, Fetched, RedactedUrl, Retry, Validator, fetch_conditional};
use serde::Deserialize;
use url::Url;

use crate::cargo_home::sparse_index_url;
use crate::{CacheFile, build_cache, index_path};

/// The statuses that mean "no such crate" to cargo 1.95.
const MISSING: &[u16] = &[404, 410, 451];

/// The largest index file accepted (the largest real ones are about 1 MB).
const INDEX_FILE_LIMIT: u64 = 64 << 20;

/// A sparse-index operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SparseError {
    /// The index URL is not a sparse index URL cargo would accept.
    #[error("invalid sparse index URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A crate name that cannot name an index file.
    #[error("invalid crate name {0:?}")]
    InvalidName(String),
    /// Fetching failed (after the transport's retries).
    #[error("{0}")]
    Transport(#[from] fetchkit_transport::Error),
    /// `config.json` is not what a registry serves.
    #[error("{url}: invalid config.json: {reason}")]
    Config {
        /// Where it came from.
        url: RedactedUrl,
        /// What is wrong.
        reason: String,
    },
    /// The server said "not modified" to a request that had no cache to compare with.
    #[error("{0}: 304 Not Modified to an unconditional request")]
    UnexpectedNotModified(RedactedUrl),
    /// Reading or writing the cache folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl SparseError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            SparseError::Transport(error) => error.is_transient(),
            SparseError::UnexpectedNotModified(_) => true,
            _ => false,
        }
    }
}

/// A registry's `config.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RegistryConfig {
    /// The crate download URL template (cargo's `dl`).
    pub dl: String,
    /// The web API's base URL, when the registry has one.
    #[serde(default)]
    pub api: Option<String>,
    /// Whether every request needs a token.
    #[serde(default, rename = "auth-required")]
    pub auth_required: bool,
}

/// What fetching one crate did to its cache file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchOutcome {
    /// The index file changed (or was not cached): the cache file was rewritten.
    Updated {
        /// Versions in the new cache file.
        versions: usize,
        /// Lines of the index file cargo would skip.
        skipped: usize,
    },
    /// The server answered `304`: the cache file is current and was not touched.
    Unchanged,
    /// The registry has no such crate (`404`, `410` or `451`): the cache file is gone.
    Missing {
        /// The status the server sent.
        status: u16,
    },
}

/// A sparse index at one URL, fetched into cache folders laid out like cargo's `.cache`.
#[derive(Debug, Clone)]
pub struct SparseIndex {
    client: Client,
    retry: Retry,
    base: Url,
}

impl SparseIndex {
    /// The index at `url`: `sparse+http(s)://…/` as cargo spells it (the `sparse+` prefix is
    /// optional here) ending in `/`, as cargo requires.
    pub fn new(client: Client, retry: Retry, url: &str) -> Result<SparseIndex, SparseError> {
        let base = sparse_index_url(url).map_err(|reason| SparseError::InvalidUrl {
            url: url.to_owned(),
            reason,
        })?;
        Ok(SparseIndex {
            client,
            retry,
            base,
        })
    }

    /// The index's base URL (without `sparse+`).
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// The URL of `name`'s index file.
    pub fn file_url(&self, name: &str) -> Result<RedactedUrl, SparseError> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !valid {
            return Err(SparseError::InvalidName(name.to_owned()));
        }
        let url = self
            .base
            .join(&index_path(name))
            .map_err(|_| SparseError::InvalidName(name.to_owned()))?;
        Ok(RedactedUrl::new(url))
    }

    /// Fetches and parses `config.json`.
    pub async fn config(&self) -> Result<(RegistryConfig, Vec<u8>), SparseError> {
        let url = RedactedUrl::new(
            self.base
                .join("config.json")
                .map_err(|_| SparseError::InvalidName("config.json".into()))?,
        );
        let fetched =
            fetch_conditional(&self.client, &self.retry, &url, None, &[], 1 << 20).await?;
        let Fetched::Body { body, .. } = fetched else {
            return Err(SparseError::UnexpectedNotModified(url));
        };
        let config = serde_json::from_slice(&body).map_err(|error| SparseError::Config {
            url,
            reason: error.to_string(),
        })?;
        Ok((config, body))
    }

    /// Brings `name`'s cache file in `cache_dir` (a folder laid out like cargo's `.cache`) up
    /// to date.
    pub async fn fetch(&self, name: &str, cache_dir: &Path) -> Result<FetchOutcome, SparseError> {
        let url = self.file_url(name)?;
        let path = cache_dir.join(index_path(name));
        let io = |source| SparseError::Io {
            path: path.clone(),
            source,
        };
        let cached = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(io(error)),
        };
        // A cache file cargo could not use has no validator either: fetch it whole.
        let validator = cached
            .as_deref()
            .and_then(|bytes| CacheFile::parse(bytes).ok())
            .and_then(|cache| validator(cache.index_version()));
        let fetched = fetch_conditional(
            &self.client,
            &self.retry,
            &url,
            validator.as_ref(),
            MISSING,
            INDEX_FILE_LIMIT,
        )
        .await?;
        match fetched {
            Fetched::NotModified if validator.is_some() => Ok(FetchOutcome::Unchanged),
            Fetched::NotModified => Err(SparseError::UnexpectedNotModified(url)),
            Fetched::Missing { status } => {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(io(error)),
                }
                Ok(FetchOutcome::Missing { status })
            }
            Fetched::Body {
                body,
                etag,
                last_modified,
            } => {
                // As cargo records it: the ETag if any, else Last-Modified, else `Unknown`.
                let index_version = match (etag, last_modified) {
                    (Some(etag), _) => format!("etag: {etag}"),
                    (None, Some(date)) => format!("last-modified: {date}"),
                    (None, None) => "Unknown".to_owned(),
                };
                let (bytes, skipped) = build_cache(&index_version, &body).map_err(|error| {
                    io(std::io::Error::new(std::io::ErrorKind::InvalidData, error))
                })?;
                let versions = CacheFile::parse(&bytes)
                    .map(|cache| cache.entries().len())
                    .unwrap_or_default();
                write_atomically(&path, &bytes).map_err(io)?;
                Ok(FetchOutcome::Updated {
                    versions,
                    skipped: skipped.len(),
                })
            }
        }
    }

    /// Fetches every crate of `names` into `cache_dir`, at most `concurrency` at once; the
    /// results come back in the order of `names`.
    pub async fn fetch_many(
        &self,
        names: &[String],
        cache_dir: &Path,
        concurrency: usize,
    ) -> Vec<Result<FetchOutcome, SparseError>> {
        self.fetch_all(names, cache_dir, concurrency, false)
            .await
            .into_iter()
            .map(|(_, result)| result)
            .collect()
    }

    /// Fetches the crates of `names` and, transitively, every crate their versions depend on
    /// (normal and build dependencies from this registry, of every version that is not
    /// yanked): what cargo's resolver may look at when it resolves them. Each crate is fetched
    /// once, dependencies as soon as their dependent's file is in; the results come back with
    /// their names, `names` first (without repeats), then the dependencies in the order they
    /// were found.
    pub async fn fetch_with_dependencies(
        &self,
        names: &[String],
        cache_dir: &Path,
        concurrency: usize,
    ) -> Vec<(String, Result<FetchOutcome, SparseError>)> {
        self.fetch_all(names, cache_dir, concurrency, true).await
    }

    async fn fetch_all(
        &self,
        names: &[String],
        cache_dir: &Path,
        concurrency: usize,
        follow_dependencies: bool,
    ) -> Vec<(String, Result<FetchOutcome, SparseError>)> {
        type Done = (usize, Result<FetchOutcome, SparseError>, Vec<String>);
        type Slot = (String, Option<Result<FetchOutcome, SparseError>>);
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::<Done>::new();
        let mut results: Vec<Slot> = Vec::new();
        // Crate names are unique whatever their case, as in cargo.
        let mut seen = std::collections::HashSet::new();
        let spawn = |tasks: &mut tokio::task::JoinSet<Done>,
                     results: &mut Vec<Slot>,
                     seen: &mut std::collections::HashSet<String>,
                     name: &str| {
            if follow_dependencies && !seen.insert(name.to_ascii_lowercase()) {
                return;
            }
            let at = results.len();
            results.push((name.to_owned(), None));
            let (index, name, folder, permits) = (
                self.clone(),
                name.to_owned(),
                cache_dir.to_owned(),
                permits.clone(),
            );
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = index.fetch(&name, &folder).await;
                let dependencies = match &result {
                    Ok(FetchOutcome::Updated { .. } | FetchOutcome::Unchanged)
                        if follow_dependencies =>
                    {
                        dependency_names(&folder.join(index_path(&name)))
                    }
                    _ => Vec::new(),
                };
                (at, result, dependencies)
            });
        };
        for name in names {
            spawn(&mut tasks, &mut results, &mut seen, name);
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((at, result, dependencies)) => {
                    for dependency in &dependencies {
                        spawn(&mut tasks, &mut results, &mut seen, dependency);
                    }
                    results[at].1 = Some(result);
                }
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(_) => {}
            }
        }
        results
            .into_iter()
            .map(|(name, result)| {
                let result = result.unwrap_or_else(|| {
                    Err(SparseError::Io {
                        path: cache_dir.to_owned(),
                        source: std::io::Error::other("the fetch was cancelled"),
                    })
                });
                (name, result)
            })
            .collect()
    }
}

/// The crates this registry must have for cargo to resolve any non-yanked version in the
/// cache file at `path`: normal and build dependencies without a `registry` of their own, by
/// their published name (`package` when renamed). Dev-dependencies of a dependency never
/// take part in resolution. A file that cannot be read gives none.
fn dependency_names(path: &Path) -> Vec<String> {
    #[derive(Deserialize)]
    struct Line {
        #[serde(default)]
        deps: Vec<Dependency>,
    }
    #[derive(Deserialize)]
    struct Dependency {
        name: String,
        #[serde(default)]
        package: Option<String>,
        #[serde(default)]
        kind: Option<String>,
        #[serde(default)]
        registry: Option<String>,
    }
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let Ok(cache) = CacheFile::parse(&bytes) else {
        return Vec::new();
    };
    let mut names = std::collections::BTreeSet::new();
    for entry in cache.entries() {
        if entry.yanked() != Some(false) {
            continue;
        }
        let Ok(line) = serde_json::from_slice::<Line>(entry.blob()) else {
            continue;
        };
        for dependency in line.deps {
            if dependency.kind.as_deref() == Some("dev") || dependency.registry.is_some() {
                continue;
            }
            names.insert(dependency.package.unwrap_or(dependency.name));
        }
    }
    names.into_iter().collect()
}

/// The conditional request cargo makes from a stored index version: `etag: X` sends
/// `If-None-Match: X`, `last-modified: X` sends `If-Modified-Since: X`; anything else, none.
pub fn validator(index_version: &str) -> Option<Validator> {
    let (key, value) = index_version.split_once(':')?;
    let value = value.trim();
    match key {
        "etag" => Some(Validator::ETag(value.to_owned())),
        "last-modified" => Some(Validator::LastModified(value.to_owned())),
        _ => None,
    }
}

/// Writes `bytes` to a temporary file beside `path` (creating its folders), then renames it
/// over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".fetchkit-")
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.persist(path).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_index_versions_give_cargos_conditional_requests() {
        assert_eq!(
            validator("etag: W/\"a6197f\""),
            Some(Validator::ETag("W/\"a6197f\"".into()))
        );
        assert_eq!(
            validator("last-modified: Sat, 21 Nov 2026 17:49:09 GMT"),
            Some(Validator::LastModified(
                "Sat, 21 Nov 2026 17:49:09 GMT".into()
            ))
        );
        assert_eq!(validator("Unknown"), None);
        assert_eq!(validator(""), None);
        assert_eq!(validator("0123456789abcdef0123456789abcdef01234567"), None);
    }
}
