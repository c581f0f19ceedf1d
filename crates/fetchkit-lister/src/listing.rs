//! From rows to pages: which crates are listed, their versions grouped, ordered and turned into
//! lines. Pure: the archive reader feeds rows in, [`Builder::finish`] hands the listing out.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use fetchkit_transport::Sha256Digest;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::rows::{CrateRow, DeletedRow, VersionRow};
use crate::template::push_hex;
use crate::{DumpTime, ListOptions, State, Timestamp};

/// The result of one listing run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listing {
    /// The dump's `timestamp` (from its `metadata.json`).
    pub dump_timestamp: Timestamp,
    /// One page per listed crate with at least one version, in the order of each crate's first
    /// row in `versions.csv` (as Software Heritage's lister orders them).
    pub pages: Vec<Page>,
    /// Crates deleted from the registry (`data/deleted_crates.csv`, when the dump has it and it
    /// comes before the needed tables end, as it does in the registry's own dumps), filtered
    /// by `deleted_at` the way crates are filtered by `updated_at`.
    pub deleted: Vec<DeletedCrate>,
    /// Counts.
    pub stats: Stats,
    /// The dump is not newer than the state's: it was listed already, so nothing is listed.
    pub stale: bool,
    previous: Option<Timestamp>,
}

impl Listing {
    /// The state to save once this listing's output is safely written: the dump's timestamp,
    /// or the previous state's when that is later (a stale dump never moves the state back).
    pub fn next_state(&self) -> State {
        State {
            last_dump: self.previous.map_or(self.dump_timestamp, |previous| {
                previous.max(self.dump_timestamp)
            }),
        }
    }
}

/// What a listing counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Crates listed (pages).
    pub crates: u64,
    /// Versions listed (lines).
    pub versions: u64,
    /// Listed versions that are yanked.
    pub yanked: u64,
    /// Deleted crates reported.
    pub deleted: u64,
    /// Rows read from `crates.csv` (0 when a stale dump was not read further).
    pub crates_read: u64,
    /// Rows read from `versions.csv` (0 when a stale dump was not read further).
    pub versions_read: u64,
}

/// All versions of one crate, in semver order.
///
/// Versions that are valid semver come first, ordered by semver precedence (pre-releases
/// before their release; build metadata breaking ties). Versions that are not valid semver
/// (a few old crates have some) follow, ordered as strings. A version number that appears in
/// several rows is listed once, from its last row. (Software Heritage's lister orders with
/// Python's `LooseVersion2` instead, which puts `1.0.0-alpha` after `1.0.0`.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Page {
    /// The crate's name.
    #[serde(serialize_with = "serialize_str")]
    pub name: Arc<str>,
    /// One line per version.
    pub versions: Vec<VersionLine>,
}

/// One version of a crate: what a loader needs to fetch and check it.
///
/// Serializes as `name`, `version`, `crate_file`, `filename` (`{name}-{version}.crate`, as
/// Software Heritage's page lines have it), `checksum` (lower-case hex), `yanked` and
/// `last_update` (the version's `updated_at`, exactly as the dump wrote it).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionLine {
    /// The crate's name (shared with its page).
    pub name: Arc<str>,
    /// The version number, as the dump has it.
    pub version: String,
    /// The crate file's URL, from the crate-file template.
    pub crate_file: String,
    /// The crate file's SHA-256.
    pub checksum: Sha256Digest,
    /// Whether the version is yanked.
    pub yanked: bool,
    /// The version's `updated_at`.
    pub last_update: DumpTime,
}

impl VersionLine {
    /// `{name}-{version}.crate`.
    pub fn filename(&self) -> String {
        format!("{}-{}.crate", self.name, self.version)
    }
}

impl Serialize for VersionLine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut line = serializer.serialize_struct("VersionLine", 7)?;
        line.serialize_field("name", &*self.name)?;
        line.serialize_field("version", &self.version)?;
        line.serialize_field("crate_file", &self.crate_file)?;
        line.serialize_field("filename", &self.filename())?;
        line.serialize_field("checksum", &Hex(&self.checksum))?;
        line.serialize_field("yanked", &self.yanked)?;
        line.serialize_field("last_update", &self.last_update)?;
        line.end()
    }
}

/// A crate deleted from the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeletedCrate {
    /// Its name.
    pub name: String,
    /// When it was deleted, as the dump wrote it.
    pub deleted_at: DumpTime,
}

pub(crate) fn serialize_str<S: Serializer>(
    value: &Arc<str>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

/// Serializes a digest as lower-case hex.
pub(crate) struct Hex<'a>(pub(crate) &'a Sha256Digest);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(64);
        push_hex(&mut text, &self.0.0);
        serializer.serialize_str(&text)
    }
}

/// Whether something updated at `at` is listed: always on a first run, else when it is
/// strictly later than the threshold (the last dump's timestamp minus the overlap).
pub(crate) fn is_new(at: Timestamp, threshold: Option<Timestamp>) -> bool {
    threshold.is_none_or(|threshold| at > threshold)
}

/// Orders a crate's versions (see [`Page`]) and keeps one line per version number: the one
/// from the last row.
pub(crate) fn sort_versions(lines: &mut Vec<VersionLine>) {
    // Stable, so lines with the same number stay in row order and the last row wins below.
    lines.sort_by_cached_key(|line| VersionKey::of(&line.version));
    lines.dedup_by(|later, earlier| {
        if later.version == earlier.version {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
}

#[derive(Debug, PartialEq, Eq)]
enum VersionKey {
    Semver(semver::Version),
    Other(String),
}

impl VersionKey {
    fn of(version: &str) -> VersionKey {
        match semver::Version::parse(version) {
            Ok(parsed) => VersionKey::Semver(parsed),
            Err(_) => VersionKey::Other(version.to_owned()),
        }
    }
}

impl PartialOrd for VersionKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for VersionKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (VersionKey::Semver(a), VersionKey::Semver(b)) => a.cmp(b),
            (VersionKey::Other(a), VersionKey::Other(b)) => a.cmp(b),
            (VersionKey::Semver(_), VersionKey::Other(_)) => Ordering::Less,
            (VersionKey::Other(_), VersionKey::Semver(_)) => Ordering::Greater,
        }
    }
}

const NO_PAGE: u32 = u32::MAX;

/// Hashes crate ids (one multiply, folded): every version row looks its crate up, and the
/// default SipHash is a tenth of a full listing's time.
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_i32(&mut self, id: i32) {
        self.0 = u64::from(id as u32);
    }

    fn finish(&self) -> u64 {
        let product = u128::from(self.0) * 0x9e37_79b9_7f4a_7c15;
        (product as u64) ^ (product >> 64) as u64
    }
}

type IdMap<V> = HashMap<i32, V, BuildHasherDefault<IdHasher>>;

/// A listed crate: its name, and its page once it has a version.
#[derive(Debug)]
struct Slot {
    name: Arc<str>,
    page: u32,
}

/// A version row, kept compactly until the listing is built.
#[derive(Debug)]
struct Record {
    /// The crate's id while reading; its page (or `NO_PAGE`) once pages are assigned.
    key: u32,
    yanked: bool,
    updated_at: DumpTime,
    checksum: Sha256Digest,
    num: Box<str>,
}

/// Version records in fixed-size chunks: growing never copies, and building the listing frees
/// each chunk as soon as its records became lines, so the two never both exist in full.
#[derive(Debug, Default)]
struct Records {
    chunks: Vec<Vec<Record>>,
}

impl Records {
    const CHUNK: usize = 32 << 10;

    fn push(&mut self, record: Record) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < Self::CHUNK => chunk.push(record),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(record);
                self.chunks.push(chunk);
            }
        }
    }
}

/// Collects rows, in whatever order the archive has them, into a [`Listing`].
///
/// Version rows are kept as compact records until [`finish`](Builder::finish): only then are
/// all versions of a crate known, so each page is allocated once at its exact size and each
/// line's URL built once. Rows of crates that are not listed are dropped as soon as
/// `crates.csv` has been read (in the registry's dumps it comes first).
#[derive(Debug)]
pub(crate) struct Builder<'o> {
    options: &'o ListOptions,
    threshold: Option<Timestamp>,
    dump_timestamp: Option<Timestamp>,
    /// Listed crates by id, complete once `crates_done`.
    crates: IdMap<Slot>,
    crates_done: bool,
    records: Records,
    deleted: Vec<DeletedCrate>,
    crates_read: u64,
    versions_read: u64,
}

impl<'o> Builder<'o> {
    pub(crate) fn new(options: &'o ListOptions) -> Builder<'o> {
        Builder {
            options,
            threshold: options
                .since
                .map(|state| state.last_dump.saturating_sub(options.overlap)),
            dump_timestamp: None,
            crates: IdMap::default(),
            crates_done: false,
            records: Records::default(),
            deleted: Vec::new(),
            crates_read: 0,
            versions_read: 0,
        }
    }

    pub(crate) fn metadata(&mut self, timestamp: Timestamp) {
        self.dump_timestamp = Some(timestamp);
    }

    /// The dump is known and not newer than the state's: there is nothing to list.
    pub(crate) fn is_stale(&self) -> bool {
        match (self.dump_timestamp, self.options.since) {
            (Some(dump), Some(state)) => dump <= state.last_dump,
            _ => false,
        }
    }

    pub(crate) fn crate_row(&mut self, row: CrateRow<'_>) {
        self.crates_read += 1;
        if is_new(row.updated_at, self.threshold) {
            // A repeated id replaces the earlier row, as in Software Heritage's lister.
            self.crates.insert(
                row.id,
                Slot {
                    name: row.name.into(),
                    page: NO_PAGE,
                },
            );
        } else {
            self.crates.remove(&row.id);
        }
    }

    /// `crates.csv` is complete: later version rows of crates not listed can be dropped.
    pub(crate) fn crates_done(&mut self) {
        self.crates_done = true;
    }

    pub(crate) fn version_row(&mut self, row: VersionRow<'_>) {
        self.versions_read += 1;
        if self.crates_done && !self.crates.contains_key(&row.crate_id) {
            return;
        }
        self.records.push(Record {
            key: row.crate_id as u32,
            yanked: row.yanked,
            updated_at: row.updated_at,
            checksum: row.checksum,
            num: row.num.into(),
        });
    }

    pub(crate) fn deleted_row(&mut self, row: DeletedRow<'_>) {
        if is_new(row.deleted_at.timestamp(), self.threshold) {
            self.deleted.push(DeletedCrate {
                name: row.name.to_owned(),
                deleted_at: row.deleted_at,
            });
        }
    }

    /// The listing; `dump_timestamp` is the dump's (the caller checked it was read).
    pub(crate) fn finish(mut self, dump_timestamp: Timestamp) -> Listing {
        let stale = self.is_stale();
        if stale {
            self.records = Records::default();
            self.deleted.clear();
        }

        // Pages in the order of each crate's first version row, and their sizes.
        let mut pages = Vec::new();
        let mut sizes: Vec<usize> = Vec::new();
        for record in self.records.chunks.iter_mut().flatten() {
            let page = match self.crates.get_mut(&(record.key as i32)) {
                Some(slot) => {
                    if slot.page == NO_PAGE {
                        slot.page = pages.len() as u32;
                        pages.push(Page {
                            name: slot.name.clone(),
                            versions: Vec::new(),
                        });
                        sizes.push(0);
                    }
                    sizes[slot.page as usize] += 1;
                    slot.page
                }
                None => NO_PAGE,
            };
            record.key = page;
        }

        // Records become lines, a chunk at a time, in row order.
        let templates = &self.options.templates;
        for chunk in &mut self.records.chunks {
            for record in std::mem::take(chunk) {
                let Some(page) = pages.get_mut(record.key as usize) else {
                    continue;
                };
                if page.versions.capacity() == 0 {
                    page.versions.reserve_exact(sizes[record.key as usize]);
                }
                let crate_file =
                    templates.crate_file_url(&page.name, &record.num, &record.checksum);
                page.versions.push(VersionLine {
                    name: page.name.clone(),
                    version: record.num.into_string(),
                    crate_file,
                    checksum: record.checksum,
                    yanked: record.yanked,
                    last_update: record.updated_at,
                });
            }
        }

        let mut stats = Stats {
            crates_read: self.crates_read,
            versions_read: self.versions_read,
            ..Stats::default()
        };
        for page in &mut pages {
            sort_versions(&mut page.versions);
            stats.versions += page.versions.len() as u64;
            stats.yanked += page.versions.iter().filter(|line| line.yanked).count() as u64;
        }
        stats.crates = pages.len() as u64;
        stats.deleted = self.deleted.len() as u64;
        Listing {
            dump_timestamp,
            pages,
            deleted: self.deleted,
            stats,
            stale,
            previous: self.options.since.map(|state| state.last_dump),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Templates;

    fn line(version: &str, marker: u8) -> VersionLine {
        VersionLine {
            name: "a".into(),
            version: version.into(),
            crate_file: String::new(),
            checksum: Sha256Digest([marker; 32]),
            yanked: false,
            last_update: DumpTime::parse("2017-11-30 03:33:14").unwrap(),
        }
    }

    /// Sorts versions given in row order and shows the result as `version/marker` items.
    #[track_caller]
    fn check_order(rows: &[(&str, u8)], expected: &str) {
        let mut lines: Vec<_> = rows.iter().map(|(v, m)| line(v, *m)).collect();
        sort_versions(&mut lines);
        let actual: Vec<String> = lines
            .iter()
            .map(|line| format!("{}/{}", line.version, line.checksum.0[0]))
            .collect();
        assert_eq!(actual.join(" "), expected);
    }

    #[test]
    fn versions_sort_by_semver() {
        check_order(
            &[
                ("1.0.0", 0),
                ("0.10.0", 0),
                ("1.0.0-alpha", 0),
                ("0.9.0", 0),
            ],
            "0.9.0/0 0.10.0/0 1.0.0-alpha/0 1.0.0/0",
        );
        check_order(
            &[
                ("1.0.0-rc.1", 0),
                ("1.0.0-alpha.1", 0),
                ("1.0.0-alpha", 0),
                ("1.0.0-beta", 0),
                ("1.0.0+build", 0),
                ("1.0.0", 0),
            ],
            "1.0.0-alpha/0 1.0.0-alpha.1/0 1.0.0-beta/0 1.0.0-rc.1/0 1.0.0/0 1.0.0+build/0",
        );
        check_order(
            &[("0.1.3-experimental", 0), ("0.1.2", 0), ("0.1.1", 0)],
            "0.1.1/0 0.1.2/0 0.1.3-experimental/0",
        );
    }

    #[test]
    fn non_semver_versions_come_last_as_strings() {
        check_order(
            &[
                ("0.0.1-001", 0),
                ("2.0.0", 0),
                ("0.3.0-alpha.01", 0),
                ("1.0", 0),
            ],
            "2.0.0/0 0.0.1-001/0 0.3.0-alpha.01/0 1.0/0",
        );
    }

    #[test]
    fn a_repeated_version_keeps_its_last_row() {
        check_order(
            &[
                ("1.0.0", 1),
                ("0.1.0", 2),
                ("1.0.0", 3),
                ("1.0.0", 4),
                ("0.1.0", 5),
            ],
            "0.1.0/5 1.0.0/4",
        );
        check_order(&[("x", 1), ("x", 2)], "x/2");
    }

    #[test]
    fn strictly_later_is_new() {
        let at = |text| Timestamp::parse(text).unwrap();
        let state = at("2022-08-15 13:52:11.642129");
        assert!(is_new(at("2022-08-15 13:52:11.642128"), None));
        assert!(!is_new(at("2022-08-15 13:52:11.642128"), Some(state)));
        assert!(!is_new(at("2022-08-15 13:52:11.642129"), Some(state)));
        assert!(is_new(at("2022-08-15 13:52:11.64213"), Some(state)));
        assert!(is_new(at("2022-08-15 13:52:11.642129001Z"), Some(state)));
    }

    fn templates() -> Templates {
        Templates::new(
            "https://static.registry.example/crates/{crate}/{crate}-{version}.crate",
            "https://registry.example/crates/{crate}",
        )
        .unwrap()
    }

    fn version(crate_id: i32, num: &'static str) -> VersionRow<'static> {
        VersionRow {
            crate_id,
            num,
            updated_at: DumpTime::parse("2017-11-30 03:33:14").unwrap(),
            yanked: false,
            checksum: Sha256Digest([1; 32]),
        }
    }

    fn krate(id: i32, name: &'static str, updated_at: &str) -> CrateRow<'static> {
        CrateRow {
            id,
            name,
            updated_at: Timestamp::parse(updated_at).unwrap(),
        }
    }

    /// Pages as `name: versions`, in listing order.
    fn pages(listing: &Listing) -> Vec<String> {
        listing
            .pages
            .iter()
            .map(|page| {
                let versions: Vec<&str> = page
                    .versions
                    .iter()
                    .map(|line| line.version.as_str())
                    .collect();
                format!("{}: {}", page.name, versions.join(" "))
            })
            .collect()
    }

    #[test]
    fn pages_follow_the_first_version_row_of_each_crate() {
        let options = ListOptions::new(templates());
        let at = Timestamp::parse("2022-08-08T02:00:27Z").unwrap();
        // Crates first, as in the registry's dumps.
        let mut builder = Builder::new(&options);
        builder.crate_row(krate(1, "one", "2022-01-01 00:00:00"));
        builder.crate_row(krate(2, "two", "2022-01-01 00:00:00"));
        builder.crate_row(krate(3, "three", "2022-01-01 00:00:00"));
        builder.crates_done();
        for row in [
            version(3, "1.0.0"),
            version(1, "0.2.0"),
            version(3, "0.1.0"),
            version(1, "0.1.0"),
        ] {
            builder.version_row(row);
        }
        let first = builder.finish(at);
        assert_eq!(pages(&first), ["three: 0.1.0 1.0.0", "one: 0.1.0 0.2.0"]);
        // Versions first: the same listing.
        let mut builder = Builder::new(&options);
        for row in [
            version(3, "1.0.0"),
            version(1, "0.2.0"),
            version(3, "0.1.0"),
            version(1, "0.1.0"),
        ] {
            builder.version_row(row);
        }
        builder.crate_row(krate(1, "one", "2022-01-01 00:00:00"));
        builder.crate_row(krate(2, "two", "2022-01-01 00:00:00"));
        builder.crate_row(krate(3, "three", "2022-01-01 00:00:00"));
        builder.crates_done();
        assert_eq!(builder.finish(at), first);
    }

    #[test]
    fn a_repeated_crate_id_takes_its_last_row() {
        let mut options = ListOptions::new(templates());
        options.since = Some(State {
            last_dump: Timestamp::parse("2022-06-01 00:00:00").unwrap(),
        });
        let mut builder = Builder::new(&options);
        builder.crate_row(krate(1, "old-name", "2022-01-01 00:00:00"));
        builder.crate_row(krate(1, "new-name", "2022-07-01 00:00:00"));
        builder.crate_row(krate(2, "listed", "2022-07-01 00:00:00"));
        builder.crate_row(krate(2, "listed", "2022-01-01 00:00:00"));
        builder.crates_done();
        builder.version_row(version(1, "1.0.0"));
        builder.version_row(version(2, "1.0.0"));
        let listing = builder.finish(Timestamp::parse("2022-08-01 00:00:00").unwrap());
        assert_eq!(pages(&listing), ["new-name: 1.0.0"]);
        assert_eq!(listing.stats.crates_read, 4);
        assert_eq!(listing.stats.versions_read, 2);
    }

    #[test]
    fn version_lines_serialize_with_filename() {
        let options = ListOptions::new(templates());
        let mut builder = Builder::new(&options);
        builder.metadata(Timestamp::parse("2022-08-08T02:00:27Z").unwrap());
        builder.crate_row(CrateRow {
            id: 1,
            name: "pin-project",
            updated_at: Timestamp::parse("2022-08-15 13:52:11.642129").unwrap(),
        });
        builder.crates_done();
        builder.version_row(VersionRow {
            crate_id: 1,
            num: "1.0.12",
            updated_at: DumpTime::parse("2022-08-15 13:52:11.642129+00").unwrap(),
            yanked: true,
            checksum: Sha256Digest([0xad; 32]),
        });
        let listing = builder.finish(Timestamp::parse("2022-08-08T02:00:27Z").unwrap());
        let json = serde_json::to_string(&listing.pages[0].versions[0]).unwrap();
        assert_eq!(
            json,
            format!(
                "{{\"name\":\"pin-project\",\"version\":\"1.0.12\",\"crate_file\":\
                 \"https://static.registry.example/crates/pin-project/pin-project-1.0.12.crate\",\
                 \"filename\":\"pin-project-1.0.12.crate\",\"checksum\":\"{}\",\"yanked\":true,\
                 \"last_update\":\"2022-08-15 13:52:11.642129+00\"}}",
                "ad".repeat(32)
            )
        );
        assert_eq!(listing.stats.yanked, 1);
    }
}
