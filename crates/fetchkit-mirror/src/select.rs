//! What to mirror: crates named on the command line or pinned by lock files, narrowed by name
//! globs, a shard, a version policy and yanked status.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use globset::{GlobSet, GlobSetBuilder};
use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::MirrorError;
use crate::upstream::IndexLine;

/// `NAME` or `NAME@REQ`: a crate, and optionally which of its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateSpec {
    /// The crate's name (any case; cargo's names are unique whatever the case).
    pub name: String,
    /// Which versions; `None` means every version, pre-releases included.
    pub req: Option<VersionReq>,
}

impl FromStr for CrateSpec {
    type Err = MirrorError;

    fn from_str(text: &str) -> Result<CrateSpec, MirrorError> {
        let invalid = |reason: String| MirrorError::InvalidArgument {
            what: "crate",
            value: text.to_owned(),
            reason,
        };
        let (name, req) = match text.split_once('@') {
            Some((name, req)) => (name, Some(req)),
            None => (text, None),
        };
        if !valid_name(name) {
            return Err(invalid(
                "a crate name is ASCII letters, digits, `-` and `_`".into(),
            ));
        }
        let req = req
            .map(|req| {
                VersionReq::parse(req)
                    .map_err(|error| invalid(format!("version requirement: {error}")))
            })
            .transpose()?;
        Ok(CrateSpec {
            name: name.to_owned(),
            req,
        })
    }
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Which of a crate's matching versions to mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Versions {
    /// Every one.
    #[default]
    All,
    /// The newest `n` (by semver precedence).
    Latest(usize),
}

impl FromStr for Versions {
    type Err = MirrorError;

    fn from_str(text: &str) -> Result<Versions, MirrorError> {
        let invalid = || MirrorError::InvalidArgument {
            what: "versions",
            value: text.to_owned(),
            reason: "expected `all`, `latest` or `latest-N` with N at least 1".into(),
        };
        match text {
            "all" => Ok(Versions::All),
            "latest" => Ok(Versions::Latest(1)),
            _ => match text.strip_prefix("latest-").map(str::parse::<usize>) {
                Some(Ok(count)) if count > 0 => Ok(Versions::Latest(count)),
                _ => Err(invalid()),
            },
        }
    }
}

/// `I/N`: this machine mirrors the crates whose name hashes to `I` of `N` (1-based), so that
/// `N` machines split one mirror without talking to each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, from 1 to `count`.
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

impl Shard {
    /// Whether `name` falls in this shard. The hash is FNV-1a of the lowercase name: stable
    /// across runs, machines and fetchkit versions, which is the whole point.
    pub fn contains(&self, name: &str) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in name.bytes() {
            hash ^= u64::from(byte.to_ascii_lowercase());
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash % self.count == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = MirrorError;

    fn from_str(text: &str) -> Result<Shard, MirrorError> {
        let parsed = text
            .split_once('/')
            .and_then(|(index, count)| Some((index.parse().ok()?, count.parse().ok()?)));
        match parsed {
            Some((index, count)) if count > 0 && (1..=count).contains(&index) => {
                Ok(Shard { index, count })
            }
            _ => Err(MirrorError::InvalidArgument {
                what: "shard",
                value: text.to_owned(),
                reason: "expected I/N with 1 <= I <= N".into(),
            }),
        }
    }
}

/// Which crate names take part.
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    shard: Option<Shard>,
}

impl NameFilter {
    /// Keeps names matching any of `include` (all names when empty) and none of `exclude`,
    /// in `shard` when given. Globs match whole names, case-insensitively.
    pub fn new(
        include: &[String],
        exclude: &[String],
        shard: Option<Shard>,
    ) -> Result<NameFilter, MirrorError> {
        let set = |globs: &[String]| -> Result<Option<GlobSet>, MirrorError> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut builder = GlobSetBuilder::new();
            for glob in globs {
                let glob = globset::GlobBuilder::new(glob)
                    .case_insensitive(true)
                    .build()
                    .map_err(|error| MirrorError::InvalidArgument {
                        what: "glob",
                        value: glob.clone(),
                        reason: error.kind().to_string(),
                    })?;
                builder.add(glob);
            }
            builder
                .build()
                .map(Some)
                .map_err(|error| MirrorError::InvalidArgument {
                    what: "glob",
                    value: globs.join(" "),
                    reason: error.to_string(),
                })
        };
        Ok(NameFilter {
            include: set(include)?,
            exclude: set(exclude)?,
            shard,
        })
    }

    /// Whether `name` takes part.
    pub fn admits(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|set| set.is_match(name))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(name))
            && self.shard.is_none_or(|shard| shard.contains(name))
    }
}

/// One version a lock file pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pin {
    pub(crate) version: Version,
    pub(crate) checksum: Option<String>,
}

/// Everything asked for one crate.
#[derive(Debug, Clone, Default)]
pub(crate) struct Wanted {
    /// The name as first seen (lock files and specs spell it as published).
    pub(crate) name: String,
    pub(crate) pins: Vec<Pin>,
    pub(crate) reqs: Vec<Option<VersionReq>>,
    /// Whether the dependencies of the versions `reqs` choose are wanted too.
    pub(crate) expand: bool,
    /// How many of `reqs` have had their dependencies added.
    pub(crate) expanded: usize,
}

/// The crates asked for, keyed by lowercase name.
#[derive(Debug, Clone, Default)]
pub(crate) struct WantedCrates {
    pub(crate) crates: BTreeMap<String, Wanted>,
}

impl WantedCrates {
    fn entry(&mut self, name: &str) -> &mut Wanted {
        self.crates
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| Wanted {
                name: name.to_owned(),
                ..Wanted::default()
            })
    }

    /// Adds a spec; with `expand`, the dependencies of the versions it chooses are added by
    /// [`WantedCrates::add_dependencies`]. Returns whether it asked for something new.
    pub(crate) fn add_spec(&mut self, spec: &CrateSpec, expand: bool) -> bool {
        let wanted = self.entry(&spec.name);
        wanted.expand |= expand;
        if wanted.reqs.contains(&spec.req) {
            return false;
        }
        wanted.reqs.push(spec.req.clone());
        true
    }

    /// Adds the dependencies (normal and build, optional ones and those of every target; not
    /// dev-dependencies, which only a workspace member's own tests use) of the versions chosen
    /// for every expanding crate's requirements not expanded yet, as expanding requirements in
    /// turn. `indexes` holds the lines read so far; a crate not read yet is expanded once it
    /// is. Returns whether anything was added: the caller reads the new crates' index files
    /// and calls again until nothing is.
    pub(crate) fn add_dependencies(
        &mut self,
        indexes: &BTreeMap<String, Vec<IndexLine>>,
        versions: Versions,
        skip_yanked: bool,
        filter: &NameFilter,
    ) -> bool {
        let mut found = Vec::new();
        for (key, wanted) in &mut self.crates {
            let Some(lines) = indexes.get(key).filter(|_| wanted.expand) else {
                continue;
            };
            for req in &wanted.reqs[wanted.expanded..] {
                for at in matching(lines, req.as_ref(), versions, skip_yanked) {
                    found.extend(dependencies(&lines[at]));
                }
            }
            wanted.expanded = wanted.reqs.len();
        }
        let mut added = false;
        for spec in found {
            if filter.admits(&spec.name) {
                added |= self.add_spec(&spec, true);
            }
        }
        added
    }

    /// Adds the registry packages of the lock file at `path`.
    pub(crate) fn add_lockfile(&mut self, path: &Path) -> Result<usize, MirrorError> {
        let text = std::fs::read_to_string(path).map_err(MirrorError::io(path))?;
        let packages = fetchkit_index_cache::parse_lockfile(&text).map_err(|source| {
            MirrorError::Lockfile {
                path: path.to_owned(),
                source,
            }
        })?;
        let mut added = 0;
        for package in packages.iter().filter(|package| package.is_from_registry()) {
            let version =
                Version::parse(&package.version).map_err(|error| MirrorError::InvalidArgument {
                    what: "locked version",
                    value: format!("{} {}", package.name, package.version),
                    reason: format!("{} (in {})", error, path.display()),
                })?;
            let pin = Pin {
                version,
                checksum: package.checksum.clone(),
            };
            let wanted = self.entry(&package.name);
            if !wanted.pins.contains(&pin) {
                wanted.pins.push(pin);
                added += 1;
            }
        }
        Ok(added)
    }

    pub(crate) fn retain(&mut self, filter: &NameFilter) {
        self.crates.retain(|_, wanted| filter.admits(&wanted.name));
    }
}

/// Picks, from a crate's index lines, the ones to mirror: every pinned version (which must
/// exist, with the locked checksum when the lock file has one) and, for each requirement, the
/// matching versions the policy keeps. Returns indexes into `lines`, sorted and unique.
pub(crate) fn choose(
    wanted: &Wanted,
    lines: &[IndexLine],
    versions: Versions,
    skip_yanked: bool,
    upstream: &str,
) -> (Vec<usize>, Vec<MirrorError>) {
    let mut chosen = Vec::new();
    let mut errors = Vec::new();
    for pin in &wanted.pins {
        // A version may be indexed twice (two registries in a cargo home): the locked
        // checksum says which one.
        let candidates: Vec<usize> = (0..lines.len())
            .filter(|&at| lines[at].version == pin.version)
            .collect();
        let matching = candidates.iter().copied().find(|&at| {
            pin.checksum
                .as_deref()
                .is_none_or(|checksum| checksum == lines[at].cksum)
        });
        match (matching, candidates.first()) {
            (Some(at), _) => chosen.push(at),
            (None, Some(&at)) => errors.push(MirrorError::LockedChecksum {
                name: wanted.name.clone(),
                version: pin.version.to_string(),
                locked: pin.checksum.clone().unwrap_or_default(),
                indexed: lines[at].cksum.clone(),
            }),
            (None, None) => errors.push(MirrorError::NoSuchVersion {
                name: wanted.name.clone(),
                version: pin.version.to_string(),
                upstream: upstream.to_owned(),
            }),
        }
    }
    for req in &wanted.reqs {
        let matching = matching(lines, req.as_ref(), versions, skip_yanked);
        if matching.is_empty() && !lines.is_empty() {
            errors.push(MirrorError::NoSuchVersion {
                name: wanted.name.clone(),
                version: req
                    .as_ref()
                    .map_or_else(|| "*".to_owned(), ToString::to_string),
                upstream: upstream.to_owned(),
            });
        }
        chosen.extend(matching);
    }
    chosen.sort_unstable();
    chosen.dedup();
    (chosen, errors)
}

/// The lines `req` matches (all for `None`) that the policy keeps, newest first.
fn matching(
    lines: &[IndexLine],
    req: Option<&VersionReq>,
    versions: Versions,
    skip_yanked: bool,
) -> Vec<usize> {
    let mut matching: Vec<usize> = (0..lines.len())
        .filter(|&at| !(skip_yanked && lines[at].yanked))
        .filter(|&at| req.is_none_or(|req| req.matches(&lines[at].version)))
        .collect();
    // Newest first, by precedence; build metadata, which precedence ignores, breaks ties the
    // same way every run.
    matching.sort_by(|&a, &b| {
        lines[b]
            .version
            .cmp_precedence(&lines[a].version)
            .then_with(|| lines[b].version.cmp(&lines[a].version))
    });
    if let Versions::Latest(count) = versions {
        matching.truncate(count);
    }
    matching
}

#[derive(Deserialize)]
struct LineDependencies {
    #[serde(default)]
    deps: Vec<LineDependency>,
}

#[derive(Deserialize)]
struct LineDependency {
    name: String,
    req: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    registry: Option<String>,
}

/// The dependencies of an index line that a build from this registry needs: by their real
/// name (a renamed one's `package`), with their requirement. Dependencies on other registries
/// and requirements that do not parse are left out.
fn dependencies(line: &IndexLine) -> Vec<CrateSpec> {
    let Ok(parsed) = serde_json::from_slice::<LineDependencies>(&line.raw) else {
        return Vec::new();
    };
    parsed
        .deps
        .into_iter()
        .filter(|dep| dep.kind.as_deref() != Some("dev") && dep.registry.is_none())
        .filter_map(|dep| {
            Some(CrateSpec {
                name: dep.package.unwrap_or(dep.name),
                req: Some(VersionReq::parse(&dep.req).ok()?),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(version: &str, yanked: bool) -> IndexLine {
        IndexLine {
            raw: Vec::new(),
            name: "demo".into(),
            vers: version.into(),
            version: Version::parse(version).unwrap(),
            cksum: format!("{version}-sum"),
            yanked,
            origin: 0,
        }
    }

    fn chosen_versions(
        wanted: &Wanted,
        lines: &[IndexLine],
        versions: Versions,
        skip_yanked: bool,
    ) -> Vec<String> {
        let (chosen, errors) = choose(wanted, lines, versions, skip_yanked, "up");
        assert!(errors.is_empty(), "{errors:?}");
        chosen.iter().map(|&at| lines[at].vers.clone()).collect()
    }

    #[test]
    fn specs_policies_and_yanked() {
        let lines = [
            line("0.9.0", false),
            line("1.0.0", false),
            line("1.1.0", true),
            line("1.2.0-rc.1", false),
            line("2.0.0", false),
        ];
        let wanted = |spec: &str| {
            let mut crates = WantedCrates::default();
            crates.add_spec(&spec.parse().unwrap(), false);
            crates.crates.into_values().next().unwrap()
        };
        let all = Versions::All;
        assert_eq!(
            chosen_versions(&wanted("demo"), &lines, all, false),
            ["0.9.0", "1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0"]
        );
        assert_eq!(
            chosen_versions(&wanted("demo@1"), &lines, all, false),
            ["1.0.0", "1.1.0"]
        );
        assert_eq!(
            chosen_versions(&wanted("demo@1"), &lines, all, true),
            ["1.0.0"]
        );
        assert_eq!(
            chosen_versions(&wanted("demo"), &lines, Versions::Latest(2), true),
            ["1.2.0-rc.1", "2.0.0"]
        );
        assert_eq!(
            chosen_versions(&wanted("DEMO@^1"), &lines, Versions::Latest(1), false),
            ["1.1.0"]
        );
    }

    #[test]
    fn pins_need_their_version_and_checksum() {
        let lines = [line("1.0.0", true), line("2.0.0", false)];
        let mut wanted = Wanted {
            name: "demo".into(),
            ..Wanted::default()
        };
        wanted.pins.push(Pin {
            version: Version::parse("1.0.0").unwrap(),
            checksum: Some("1.0.0-sum".into()),
        });
        // A yanked pin is still mirrored: the lock file needs it.
        assert_eq!(
            chosen_versions(&wanted, &lines, Versions::All, true),
            ["1.0.0"]
        );
        wanted.pins.push(Pin {
            version: Version::parse("2.0.0").unwrap(),
            checksum: Some("other".into()),
        });
        wanted.pins.push(Pin {
            version: Version::parse("3.0.0").unwrap(),
            checksum: None,
        });
        let (chosen, errors) = choose(&wanted, &lines, Versions::All, false, "up");
        assert_eq!(chosen, [0]);
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "demo 2.0.0: Cargo.lock says sha256 other, the index says 2.0.0-sum",
                "demo 3.0.0: up has no such version"
            ]
        );
    }

    #[test]
    fn arguments_parse_or_say_why_not() {
        assert_eq!("latest-3".parse::<Versions>().unwrap(), Versions::Latest(3));
        for bad in ["latest-0", "newest", "latest-x"] {
            assert!(bad.parse::<Versions>().is_err(), "{bad}");
        }
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["0/3", "4/3", "1/0", "1", "a/b"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert!("serde@>=1, <2".parse::<CrateSpec>().is_ok());
        assert_eq!(
            "se rde".parse::<CrateSpec>().unwrap_err().to_string(),
            "invalid crate \"se rde\": a crate name is ASCII letters, digits, `-` and `_`"
        );
        assert!("serde@=x".parse::<CrateSpec>().is_err());
    }

    #[test]
    fn shards_split_names_exactly_once() {
        let names: Vec<String> = (0..300).map(|n| format!("crate-{n}")).collect();
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        let mut sizes = [0; 3];
        for name in &names {
            let owners: Vec<usize> = (0..3).filter(|&at| shards[at].contains(name)).collect();
            assert_eq!(owners.len(), 1, "{name}");
            sizes[owners[0]] += 1;
            assert!(
                shards[owners[0]].contains(&name.to_uppercase()),
                "case does not move a crate"
            );
        }
        assert!(sizes.iter().all(|&size| size > 70), "{sizes:?}");
    }

    #[test]
    fn name_filters() {
        let filter = NameFilter::new(
            &["serde*".into(), "tokio".into()],
            &["*_derive".into()],
            None,
        )
        .unwrap();
        let admitted: Vec<&str> = ["serde", "Serde_json", "serde_derive", "tokio", "tokio-util"]
            .into_iter()
            .filter(|name| filter.admits(name))
            .collect();
        assert_eq!(admitted, ["serde", "Serde_json", "tokio"]);
        assert!(NameFilter::new(&["[".into()], &[], None).is_err());
    }
}
