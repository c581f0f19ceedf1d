//! Where a mirror takes index lines and `.crate` files from: a sparse index over HTTP, or a
//! cargo home's own caches (no network at all).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fetchkit_index_cache::{CacheFile, SparseIndex, index_path};
use fetchkit_transport::{Client, Download, ErrorKind, Retry, Sha256Digest, download_with_factory};
use semver::Version;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::MirrorError;
use crate::body::{Body, CrateBody};
use crate::layout::{MirrorDir, prefix};

/// Where the mirror takes its data from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Upstream {
    /// A cargo home (`$CARGO_HOME`): index lines from cargo's index caches
    /// (`registry/index/*/.cache`), `.crate` files from its download cache
    /// (`registry/cache/*`), every file checked against its index `cksum`. A project built once
    /// can so be carried into a network that has no registry.
    CargoHome(PathBuf),
    /// A sparse index (`sparse+http://…/`), with `.crate` files from its `config.json`'s `dl`.
    Sparse(String),
    /// The database dump given to [`Mirror::dump`](crate::Mirror::dump) itself, for a registry
    /// whose index cannot be read: index lines are written from the dump's tables (with its
    /// checksums as `cksum`), and `.crate` files are downloaded from `dl`, a template in
    /// cargo's `config.json` syntax; `None` takes the registry layout next to a dump's URL
    /// (`<base>/crates/{crate}/{crate}-{version}.crate`).
    Dump {
        /// Where the `.crate` files are.
        dl: Option<String>,
    },
}

/// One version's line of an index file, with the fields a mirror needs read out of it.
#[derive(Debug, Clone)]
pub(crate) struct IndexLine {
    /// The line as upstream has it, without its newline: written to the mirror unchanged.
    pub(crate) raw: Vec<u8>,
    pub(crate) name: String,
    pub(crate) vers: String,
    pub(crate) version: Version,
    pub(crate) cksum: String,
    pub(crate) yanked: bool,
    /// Which of the upstream's registries it came from (a cargo home may hold several).
    pub(crate) origin: usize,
}

#[derive(Deserialize)]
struct LineFields {
    name: String,
    vers: String,
    cksum: String,
    #[serde(default)]
    yanked: bool,
}

impl IndexLine {
    /// Reads the fields out of a raw index line; `None` for a line cargo would skip too.
    pub(crate) fn parse(raw: &[u8], origin: usize) -> Option<IndexLine> {
        let fields: LineFields = serde_json::from_slice(raw).ok()?;
        let version = Version::parse(&fields.vers).ok()?;
        let valid_sum = fields.cksum.len() == 64
            && fields
                .cksum
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        (valid_sum && crate::select::valid_name(&fields.name)).then(|| IndexLine {
            raw: raw.to_owned(),
            name: fields.name,
            vers: fields.vers,
            version,
            cksum: fields.cksum,
            yanked: fields.yanked,
            origin,
        })
    }
}

/// An upstream, opened.
#[derive(Debug)]
pub(crate) enum Source {
    CargoHome(CargoHomeSource),
    Sparse(Box<SparseSource>),
    Dump(Box<DumpSource>),
}

impl Source {
    pub(crate) async fn open(
        upstream: &Upstream,
        dir: &MirrorDir,
        client: Option<Client>,
        retry: Retry,
    ) -> Result<Source, MirrorError> {
        match upstream {
            Upstream::CargoHome(home) => Ok(Source::CargoHome(CargoHomeSource::open(home)?)),
            Upstream::Dump { .. } => Err(MirrorError::InvalidArgument {
                what: "upstream",
                value: "the database dump".into(),
                reason: "no dump was given".into(),
            }),
            Upstream::Sparse(url) => {
                let client = client_or_default(client)?;
                let index =
                    SparseIndex::new(client.clone(), retry.clone(), url).map_err(|source| {
                        MirrorError::Index {
                            name: "config.json".into(),
                            source: Box::new(source),
                        }
                    })?;
                let (config, _) = index.config().await.map_err(|source| MirrorError::Index {
                    name: "config.json".into(),
                    source: Box::new(source),
                })?;
                if config.auth_required {
                    return Err(MirrorError::Folder {
                        dir: PathBuf::from(url),
                        reason: "the registry requires authentication, which fetchkit mirror \
                                 does not support yet"
                            .into(),
                    });
                }
                Ok(Source::Sparse(Box::new(SparseSource {
                    index,
                    client,
                    retry,
                    dl: config.dl,
                    cache: dir.upstream_cache(),
                })))
            }
        }
    }

    /// How errors name this upstream.
    pub(crate) fn describe(&self) -> String {
        match self {
            Source::CargoHome(source) => format!("the cargo home {}", source.home.display()),
            Source::Sparse(source) => format!("the index {}", source.index.url()),
            Source::Dump(source) => format!("the database dump {}", source.dump),
        }
    }

    /// The crate's index lines, in upstream's order; `None` when upstream has no such crate.
    pub(crate) async fn index(&self, name: &str) -> Result<Option<Vec<IndexLine>>, MirrorError> {
        match self {
            Source::CargoHome(source) => {
                let (registries, name) = (source.registries.clone(), name.to_owned());
                blocking(move || cargo_home_index(&registries, &name)).await
            }
            Source::Sparse(source) => source.index(name).await,
            Source::Dump(source) => match source.lines.get(&name.to_ascii_lowercase()) {
                Some(lines) => Ok(Some(lines.clone())),
                None => source.mirrored(name),
            },
        }
    }

    /// The `.crate` file of `line`, checked against its `cksum`; a large body is in `spill`.
    pub(crate) async fn fetch(
        &self,
        line: &IndexLine,
        spill: PathBuf,
    ) -> Result<Body, MirrorError> {
        match self {
            Source::CargoHome(source) => {
                let (home, line) = (source.home.clone(), line.clone());
                let registries = source.registries.clone();
                blocking(move || cargo_home_crate(&home, &registries, &line))
                    .await
                    .map(Body::Memory)
            }
            Source::Sparse(source) => {
                fetch_from(&source.client, &source.retry, &source.dl, line, spill).await
            }
            Source::Dump(source) => {
                fetch_from(&source.client, &source.retry, &source.dl, line, spill).await
            }
        }
    }
}

/// The caller's client, else a new one with the defaults.
pub(crate) fn client_or_default(client: Option<Client>) -> Result<Client, MirrorError> {
    match client {
        Some(client) => Ok(client),
        None => Client::new().map_err(|source| MirrorError::Download {
            name: "(client)".into(),
            version: String::new(),
            source: Box::new(source),
        }),
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, MirrorError> + Send + 'static,
) -> Result<T, MirrorError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
}

#[derive(Debug)]
pub(crate) struct CargoHomeSource {
    home: PathBuf,
    /// `registry/index/<dir>` folders holding a `.cache`, sorted.
    registries: Vec<PathBuf>,
}

impl CargoHomeSource {
    fn open(home: &Path) -> Result<CargoHomeSource, MirrorError> {
        let index = home.join("registry").join("index");
        let mut registries = Vec::new();
        match std::fs::read_dir(&index) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(MirrorError::io(&index))?;
                    if entry.path().join(".cache").is_dir() {
                        registries.push(entry.path());
                    }
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(MirrorError::io(&index)(error)),
        }
        if registries.is_empty() {
            return Err(MirrorError::Folder {
                dir: home.to_owned(),
                reason: "no registry index cache in this cargo home (has cargo fetched anything \
                         with it?)"
                    .into(),
            });
        }
        registries.sort();
        Ok(CargoHomeSource {
            home: home.to_owned(),
            registries,
        })
    }
}

fn cargo_home_index(
    registries: &[PathBuf],
    name: &str,
) -> Result<Option<Vec<IndexLine>>, MirrorError> {
    let mut lines = Vec::new();
    let mut found = false;
    for (origin, registry) in registries.iter().enumerate() {
        let path = registry.join(".cache").join(index_path(name));
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(MirrorError::io(&path)(error)),
        };
        let cache = CacheFile::parse(&bytes).map_err(|error| MirrorError::Io {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string()),
        })?;
        found = true;
        lines.extend(
            cache
                .effective_entries()
                .filter_map(|entry| IndexLine::parse(entry.blob(), origin)),
        );
    }
    Ok(found.then_some(lines))
}

fn cargo_home_crate(
    home: &Path,
    registries: &[PathBuf],
    line: &IndexLine,
) -> Result<Vec<u8>, MirrorError> {
    let file_name = format!("{}-{}.crate", line.name, line.vers);
    let cache = home.join("registry").join("cache");
    // The download cache folder has the index folder's name; another registry's copy is
    // taken too if its checksum is right.
    let mut candidates: Vec<PathBuf> = registries
        .get(line.origin)
        .and_then(|registry| registry.file_name())
        .map(|dir| cache.join(dir).join(&file_name))
        .into_iter()
        .collect();
    if let Ok(entries) = std::fs::read_dir(&cache) {
        for entry in entries.flatten() {
            let path = entry.path().join(&file_name);
            if !candidates.contains(&path) {
                candidates.push(path);
            }
        }
    }
    let mut mismatch = None;
    for path in candidates {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(MirrorError::io(&path)(error)),
        };
        let actual = sha256_hex(&bytes);
        if actual == line.cksum {
            return Ok(bytes);
        }
        mismatch.get_or_insert(MirrorError::Checksum {
            name: line.name.clone(),
            version: line.vers.clone(),
            source_name: path.display().to_string(),
            expected: line.cksum.clone(),
            actual,
        });
    }
    Err(mismatch.unwrap_or_else(|| MirrorError::NotDownloaded {
        name: line.name.clone(),
        version: line.vers.clone(),
        home: home.to_owned(),
    }))
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256Digest(Sha256::digest(bytes).into()).to_hex()
}

#[derive(Debug)]
pub(crate) struct SparseSource {
    index: SparseIndex,
    client: Client,
    retry: Retry,
    dl: String,
    cache: PathBuf,
}

impl SparseSource {
    async fn index(&self, name: &str) -> Result<Option<Vec<IndexLine>>, MirrorError> {
        let outcome = self
            .index
            .fetch(name, &self.cache)
            .await
            .map_err(|source| MirrorError::Index {
                name: name.to_owned(),
                source: Box::new(source),
            })?;
        if matches!(outcome, fetchkit_index_cache::FetchOutcome::Missing { .. }) {
            return Ok(None);
        }
        let path = self.cache.join(index_path(name));
        // Read in place, as the index cache reads and writes it: a small file just written,
        // in the page cache.
        let bytes = std::fs::read(&path).map_err(MirrorError::io(&path))?;
        let cache = CacheFile::parse(&bytes).map_err(|error| MirrorError::Io {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, error.to_string()),
        })?;
        Ok(Some(
            cache
                .effective_entries()
                .filter_map(|entry| IndexLine::parse(entry.blob(), 0))
                .collect(),
        ))
    }
}

/// A registry known only from its database dump: index lines made from the dump, files from
/// `dl`.
#[derive(Debug)]
pub(crate) struct DumpSource {
    /// How errors name it.
    pub(crate) dump: String,
    /// Per lowercase name, the crate's lines.
    pub(crate) lines: BTreeMap<String, Vec<IndexLine>>,
    pub(crate) client: Client,
    pub(crate) retry: Retry,
    pub(crate) dl: String,
    /// The mirror being filled: what an earlier run wrote from an earlier dump.
    pub(crate) mirror: MirrorDir,
}

impl DumpSource {
    /// A crate this run's (incremental) listing did not name: the lines an earlier run wrote
    /// from its dump, so that a lock file or `--crate` can still name a crate mirrored
    /// before. `None` when the mirror has no such crate either.
    fn mirrored(&self, name: &str) -> Result<Option<Vec<IndexLine>>, MirrorError> {
        let path = self.mirror.index_file(name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(
                bytes
                    .split(|&byte| byte == b'\n')
                    .filter_map(|line| IndexLine::parse(line, 0))
                    .collect(),
            )),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(MirrorError::io(path)(error)),
        }
    }
}

/// Downloads `line`'s file from the `dl` template, verifying its `cksum` as it streams.
async fn fetch_from(
    client: &Client,
    retry: &Retry,
    dl: &str,
    line: &IndexLine,
    spill: PathBuf,
) -> Result<Body, MirrorError> {
    let url = download_url(dl, &line.name, &line.vers, &line.cksum);
    let download_error = |source| MirrorError::Download {
        name: line.name.clone(),
        version: line.vers.clone(),
        source: Box::new(source),
    };
    let expected: Sha256Digest =
        line.cksum
            .parse()
            .map_err(
                |error: fetchkit_transport::DigestParseError| MirrorError::IndexLine {
                    path: format!("{} {}", line.name, line.vers),
                    line: 0,
                    reason: error.to_string(),
                },
            )?;
    let download = Download::parse(&url)
        .map_err(download_error)?
        .sha256(expected);
    let mut body = CrateBody::new(spill.clone());
    let downloaded = download_with_factory(client, retry, &download, &mut body).await;
    match downloaded {
        Ok(_) => body.finish().await.map_err(MirrorError::io(&spill)),
        Err(error) => {
            body.discard().await;
            match error.kind() {
                ErrorKind::DigestMismatch {
                    expected, actual, ..
                } => Err(MirrorError::Checksum {
                    name: line.name.clone(),
                    version: line.vers.clone(),
                    source_name: download.url.to_string(),
                    expected: expected.clone(),
                    actual: actual.clone(),
                }),
                _ => Err(download_error(error)),
            }
        }
    }
}

/// Expands cargo's `dl` template for one version; with no marker, cargo appends
/// `/{crate}/{version}/download`.
pub(crate) fn download_url(dl: &str, name: &str, version: &str, cksum: &str) -> String {
    const MARKERS: [&str; 5] = [
        "{crate}",
        "{version}",
        "{prefix}",
        "{lowerprefix}",
        "{sha256-checksum}",
    ];
    if !MARKERS.iter().any(|marker| dl.contains(marker)) {
        return format!("{}/{name}/{version}/download", dl.trim_end_matches('/'));
    }
    dl.replace("{crate}", name)
        .replace("{version}", version)
        .replace("{prefix}", &prefix(name, false))
        .replace("{lowerprefix}", &prefix(name, true))
        .replace("{sha256-checksum}", cksum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_urls_follow_cargos_markers() {
        let cases = [
            (
                "http://127.0.0.1:1/api/v1/crates",
                "http://127.0.0.1:1/api/v1/crates/Serde/1.0.0/download",
            ),
            (
                "http://127.0.0.1:1/{prefix}/{lowerprefix}/{crate}-{version}.crate?s={sha256-checksum}",
                "http://127.0.0.1:1/Se/rd/se/rd/Serde-1.0.0.crate?s=abc",
            ),
        ];
        for (template, expected) in cases {
            assert_eq!(download_url(template, "Serde", "1.0.0", "abc"), expected);
        }
    }

    #[test]
    fn index_lines_cargo_would_skip_are_skipped() {
        let sum = "0".repeat(64);
        let good =
            format!(r#"{{"name":"a","vers":"1.0.0","deps":[],"cksum":"{sum}","yanked":true}}"#);
        let line = IndexLine::parse(good.as_bytes(), 2).unwrap();
        assert_eq!(
            (line.yanked, line.origin, line.raw.len()),
            (true, 2, good.len())
        );
        for bad in [
            format!(r#"{{"name":"a","vers":"x","cksum":"{sum}"}}"#),
            r#"{"name":"a","vers":"1.0.0","cksum":"short"}"#.to_owned(),
            format!(r#"{{"name":"a/b","vers":"1.0.0","cksum":"{sum}"}}"#),
            "not json".to_owned(),
        ] {
            assert!(IndexLine::parse(bad.as_bytes(), 0).is_none(), "{bad}");
        }
    }
}
