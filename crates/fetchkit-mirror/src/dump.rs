//! The registry's database dump as a source of what to mirror, incremental through the
//! lister's state, and, with no index upstream, of the index lines themselves.
//!
//! The state (`.fetchkit/dump-state.json`, the last dump's timestamp) is saved only after a run
//! in which every selected file was verified and every index file written; a run with any
//! failure lists the same crates again next time, so nothing the dump named is ever skipped.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use fetchkit_lister::{
    Dependency, ListOptions, Listing, State, Templates, VersionLine, VersionMetadata,
    list_from_path, list_from_url,
};
use fetchkit_transport::{Client, Retry};
use serde::Serialize;

use crate::layout::MirrorDir;
use crate::select::NameFilter;
use crate::upstream::IndexLine;
use crate::{MirrorError, Progress};

/// Where the database dump is: a local `.tar.gz` or an `http(s)` URL (read while it streams
/// in; only the tables needed are read).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DumpSource {
    /// A file on disk.
    Path(PathBuf),
    /// A URL.
    Url(String),
}

impl FromStr for DumpSource {
    type Err = MirrorError;

    fn from_str(text: &str) -> Result<DumpSource, MirrorError> {
        if text.starts_with("http://") || text.starts_with("https://") {
            url::Url::parse(text).map_err(|error| MirrorError::InvalidArgument {
                what: "dump URL",
                value: text.to_owned(),
                reason: error.to_string(),
            })?;
            Ok(DumpSource::Url(text.to_owned()))
        } else if text.is_empty() {
            Err(MirrorError::InvalidArgument {
                what: "dump",
                value: String::new(),
                reason: "expected a path or an http(s) URL".into(),
            })
        } else {
            Ok(DumpSource::Path(PathBuf::from(text)))
        }
    }
}

impl fmt::Display for DumpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpSource::Path(path) => write!(f, "{}", path.display()),
            DumpSource::Url(url) => {
                let redacted = url::Url::parse(url).map(fetchkit_transport::RedactedUrl::new);
                match redacted {
                    Ok(redacted) => write!(f, "{redacted}"),
                    Err(_) => f.write_str(url),
                }
            }
        }
    }
}

impl DumpSource {
    /// Cargo's `dl` template for the registry laid out next to this dump (`<base>/crates/
    /// {crate}/{crate}-{version}.crate`, as the public registry does); `None` for a file.
    pub(crate) fn derived_dl(&self) -> Result<Option<String>, MirrorError> {
        match self {
            DumpSource::Path(_) => Ok(None),
            DumpSource::Url(url) => {
                let url = url::Url::parse(url).expect("checked when parsed");
                let templates =
                    Templates::derived_from(&url).map_err(|source| self.error(source))?;
                Ok(Some(templates.crate_file().to_owned()))
            }
        }
    }

    fn error(&self, source: fetchkit_lister::ListError) -> MirrorError {
        MirrorError::Dump {
            dump: self.to_string(),
            source: Box::new(source),
        }
    }
}

/// What listing the dump gave, for the report.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct DumpReport {
    /// The dump's own timestamp.
    pub timestamp: String,
    /// The timestamp of the last dump a run completed, when there was one.
    pub since: Option<String>,
    /// Crates listed: all of them on a first run, those changed since on later ones.
    pub crates: usize,
    /// Whether the dump was not newer than the last one completed (nothing to list).
    pub stale: bool,
    /// Whether the state moved to this dump (only after a run without failures).
    pub state_saved: bool,
}

/// Lists the dump: only the crates the filter admits and, with a state in the mirror, only
/// those changed since that dump. `index_metadata` also reads what index lines need
/// (features, dependencies), for a mirror with no index upstream.
pub(crate) async fn list(
    dump: &DumpSource,
    dir: &MirrorDir,
    filter: &NameFilter,
    index_metadata: bool,
    client: Option<Client>,
    retry: &Retry,
    progress: Arc<dyn Progress>,
) -> Result<(Listing, DumpReport), MirrorError> {
    let state_file = dir.dump_state();
    let since = State::load(&state_file).map_err(|source| MirrorError::Dump {
        dump: state_file.display().to_string(),
        source: Box::new(source),
    })?;
    // The crate-file URLs the lister makes are not used: files come from the index's `dl` or
    // from the upstream's own template.
    let templates = Templates::new(
        "http://127.0.0.1/{crate}/{crate}-{version}.crate",
        "http://127.0.0.1/{crate}",
    )
    .expect("a valid template");
    let mut options = ListOptions::new(templates);
    options.since = since;
    options.index_metadata = index_metadata;
    let filter = filter.clone();
    options.crate_filter = Some(Arc::new(move |name: &str| filter.admits(name)));
    options.progress = Some(Arc::new(DumpProgress(progress)));
    let listing = match dump {
        DumpSource::Path(path) => list_from_path(path, &options).await,
        DumpSource::Url(url) => {
            let client = crate::upstream::client_or_default(client)?;
            let url = url::Url::parse(url).expect("checked when parsed");
            list_from_url(&client, retry, &url, &options).await
        }
    }
    .map_err(|source| dump.error(source))?;
    let report = DumpReport {
        timestamp: listing.dump_timestamp.to_string(),
        since: since.map(|state| state.last_dump.to_string()),
        crates: listing.pages().len(),
        stale: listing.stale,
        state_saved: false,
    };
    Ok((listing, report))
}

/// The lister's byte progress, passed on to the run's [`Progress`].
struct DumpProgress(Arc<dyn Progress>);

impl fetchkit_transport::Progress for DumpProgress {
    fn start(&self, total: Option<u64>, position: u64) {
        self.0.dump_start(total, position);
    }

    fn advance(&self, bytes: u64) {
        self.0.dump_advance(bytes);
    }
}

/// Saves the listing's state: the next run lists only what changed after this dump.
pub(crate) fn save_state(dir: &MirrorDir, listing: &Listing) -> Result<(), MirrorError> {
    let state_file = dir.dump_state();
    listing
        .next_state()
        .save(&state_file)
        .map_err(|source| MirrorError::Dump {
            dump: state_file.display().to_string(),
            source: Box::new(source),
        })
}

/// Per crate (lowercase name), the dump's SHA-256 of each version: checked against the index's
/// `cksum` when both exist.
pub(crate) fn checksums(listing: &Listing) -> BTreeMap<String, BTreeMap<String, String>> {
    listing
        .pages()
        .map(|page| {
            let sums = page
                .versions
                .iter()
                .map(|version| (version.version.clone(), version.checksum.to_hex()))
                .collect();
            (page.name.to_ascii_lowercase(), sums)
        })
        .collect()
}

/// Index lines written from the dump, per crate (lowercase name), for a mirror with no index
/// upstream. Versions that are not semver, which cargo would skip, are left out.
pub(crate) fn index_lines(listing: &Listing) -> BTreeMap<String, Vec<IndexLine>> {
    listing
        .pages()
        .map(|page| {
            let lines = page
                .versions
                .iter()
                .filter_map(|version| {
                    let metadata = version.metadata.as_deref()?;
                    let raw = index_line(version, metadata);
                    IndexLine::parse(&raw, 0)
                })
                .collect();
            (page.name.to_ascii_lowercase(), lines)
        })
        .collect()
}

/// A line of cargo's index format for `version`, as the registry writes it: features that use
/// `dep:` or `?/` go to `features2` with `"v": 2`, so that old cargo versions skip the line
/// instead of misreading it; dependencies sorted by name.
pub(crate) fn index_line(version: &VersionLine, metadata: &VersionMetadata) -> Vec<u8> {
    let features: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&metadata.features).unwrap_or_default();
    let (features2, features): (BTreeMap<_, _>, BTreeMap<_, _>) =
        features.into_iter().partition(|(_, enables)| {
            enables
                .iter()
                .any(|enable| enable.starts_with("dep:") || enable.contains("?/"))
        });
    let mut deps: Vec<LineDependency<'_>> = metadata
        .dependencies
        .iter()
        .map(LineDependency::from)
        .collect();
    deps.sort_by(|a, b| (a.name, a.kind, a.target).cmp(&(b.name, b.kind, b.target)));
    let line = Line {
        name: &version.name,
        vers: &version.version,
        deps,
        cksum: version.checksum.to_hex(),
        features,
        yanked: version.yanked,
        links: metadata.links.as_deref(),
        v: (!features2.is_empty()).then_some(2),
        features2: (!features2.is_empty()).then_some(features2),
        rust_version: metadata.rust_version.as_deref(),
    };
    serde_json::to_vec(&line).expect("strings and maps serialize")
}

#[derive(Serialize)]
struct Line<'a> {
    name: &'a str,
    vers: &'a str,
    deps: Vec<LineDependency<'a>>,
    cksum: String,
    features: BTreeMap<String, Vec<String>>,
    yanked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    links: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    v: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    features2: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rust_version: Option<&'a str>,
}

#[derive(Serialize)]
struct LineDependency<'a> {
    /// The name the dependent uses: the rename when there is one.
    name: &'a str,
    req: &'a str,
    features: &'a [String],
    optional: bool,
    default_features: bool,
    target: Option<&'a str>,
    kind: &'static str,
    /// The real name, for a renamed dependency.
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<&'a str>,
}

impl<'a> From<&'a Dependency> for LineDependency<'a> {
    fn from(dependency: &'a Dependency) -> LineDependency<'a> {
        let renamed = dependency.explicit_name.as_deref();
        LineDependency {
            name: renamed.unwrap_or(&dependency.name),
            req: &dependency.req,
            features: &dependency.features,
            optional: dependency.optional,
            default_features: dependency.default_features,
            target: dependency.target.as_deref(),
            kind: dependency.kind.as_str(),
            package: renamed.map(|_| dependency.name.as_str()),
        }
    }
}
