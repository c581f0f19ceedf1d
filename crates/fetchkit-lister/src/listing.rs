//! From rows to pages: which crates are listed, their versions grouped, ordered and kept in a
//! compact table. Pure: the archive reader feeds rows in, [`Builder::finish`] hands the
//! listing out, and pages are made from the table only when asked for (or written straight
//! from it, see `json.rs`).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, mpsc};

use fetchkit_transport::Sha256Digest;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::metadata::Join;
use crate::order;
use crate::rows::{self, At, CrateRow, DeletedRow, DependencyRow, VersionRow};
use crate::template::hex_digits;
use crate::{DumpTime, ListError, ListOptions, State, Templates, Timestamp, VersionMetadata};

/// The result of one listing run.
///
/// It holds the listed versions in a compact table (about 70 bytes a version); [`pages`]
/// makes each [`Page`] when asked for, and [`write_json_lines`] writes the whole listing
/// without making them.
///
/// [`pages`]: Listing::pages
/// [`write_json_lines`]: Listing::write_json_lines
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listing {
    /// The dump's `timestamp` (from its `metadata.json`).
    pub dump_timestamp: Timestamp,
    /// Crates deleted from the registry (`data/deleted_crates.csv`, when the dump has it and it
    /// comes before the needed tables end, as it does in the registry's own dumps), filtered
    /// by `deleted_at` the way crates are filtered by `updated_at`.
    pub deleted: Vec<DeletedCrate>,
    /// Counts.
    pub stats: Stats,
    /// The dump is not newer than the state's: it was listed already, so nothing is listed.
    pub stale: bool,
    previous: Option<Timestamp>,
    pub(crate) templates: Templates,
    pub(crate) table: Table,
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

    /// The pages: one per listed crate with at least one version, in the order of each
    /// crate's first row in `versions.csv` (as Software Heritage's lister orders them). Each
    /// is made as the iterator reaches it.
    pub fn pages(&self) -> impl ExactSizeIterator<Item = Page> + '_ {
        (0..self.table.page_count()).map(|index| self.make_page(index))
    }

    /// The page at `index` in [`pages`](Self::pages) order.
    pub fn page(&self, index: usize) -> Option<Page> {
        (index < self.table.page_count()).then(|| self.make_page(index))
    }

    /// The origins of all pages (see [`Page::origin`]), made one at a time.
    pub fn origins(&self) -> impl ExactSizeIterator<Item = crate::Origin> + '_ {
        self.pages().map(|page| page.origin(&self.templates))
    }

    /// The templates the listing's URLs are made with.
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    fn make_page(&self, index: usize) -> Page {
        let name: Arc<str> = self.table.name(index).into();
        let versions = self
            .table
            .page_rows(index)
            .iter()
            .map(|&row| {
                let entry = self.table.rows.get(row as usize);
                let version = self.table.number(entry);
                VersionLine {
                    name: name.clone(),
                    version: version.to_owned(),
                    crate_file: self
                        .templates
                        .crate_file_url(&name, version, &entry.checksum),
                    checksum: entry.checksum,
                    yanked: entry.yanked,
                    last_update: entry.updated_at,
                    metadata: self.table.metadata(row),
                }
            })
            .collect();
        Page { name, versions }
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
    /// Rows read from `dependencies.csv` (0 without index metadata).
    pub dependencies_read: u64,
    /// Dependencies of the listed versions (0 without index metadata).
    pub dependencies: u64,
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
/// `last_update` (the version's `updated_at`, exactly as the dump wrote it); `metadata` is
/// not serialized, so the lines stay those Software Heritage's loader reads.
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
    /// What a registry index line needs besides: features, `links`, `rust_version` and
    /// dependencies. `Some` exactly when [`ListOptions::index_metadata`] was set.
    pub metadata: Option<Arc<VersionMetadata>>,
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
        serializer.serialize_str(hex_digits(&self.0.0).as_str())
    }
}

/// Whether something updated at `at` is listed: always on a first run, else when it is
/// strictly later than the threshold (the last dump's timestamp minus the overlap).
pub(crate) fn is_new(at: Timestamp, threshold: Option<Timestamp>) -> bool {
    threshold.is_none_or(|threshold| at > threshold)
}

/// An entry's version number: in the entry, or in the table's text.
fn number_in<'a>(numbers: &'a str, entry: &'a Entry) -> &'a str {
    entry.number.text(numbers)
}

/// A version number, in the entry itself when it is short (nearly every one is), else a span
/// of the table's text. Writing and ordering read entries in page order, all over memory; a
/// number beside its entry is one cache miss instead of two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Number {
    /// Inline: the length, then the text. Spilled: [`Number::SPILLED`], then the text's start
    /// and length in the table's text (little-endian `u32`s).
    bytes: [u8; 11],
}

impl Number {
    const INLINE: usize = 10;
    const SPILLED: u8 = u8::MAX;

    fn inline(text: &str) -> Option<Number> {
        let mut bytes = [0u8; 11];
        bytes
            .get_mut(1..=text.len())?
            .copy_from_slice(text.as_bytes());
        bytes[0] = text.len() as u8;
        Some(Number { bytes })
    }

    fn spilled(at: u32, length: u32) -> Number {
        let mut bytes = [0u8; 11];
        bytes[0] = Self::SPILLED;
        bytes[1..5].copy_from_slice(&at.to_le_bytes());
        bytes[5..9].copy_from_slice(&length.to_le_bytes());
        Number { bytes }
    }

    fn text<'a>(&'a self, numbers: &'a str) -> &'a str {
        match usize::from(self.bytes[0]) {
            length @ 0..=Self::INLINE => {
                // A whole `str` was copied in, so this is UTF-8.
                std::str::from_utf8(&self.bytes[1..=length]).unwrap_or_default()
            }
            _ => {
                let word = |at: usize| {
                    let mut word = [0u8; 4];
                    word.copy_from_slice(&self.bytes[at..at + 4]);
                    u32::from_le_bytes(word) as usize
                };
                let (at, length) = (word(1), word(5));
                &numbers[at..at + length]
            }
        }
    }
}

const NO_PAGE: u32 = u32::MAX;

/// Listings with this many rows are finished on several threads. Small in unit tests, so
/// that they take that path too.
const PARALLEL_FINISH_ROWS: usize = if cfg!(test) { 1 << 10 } else { 1 << 16 };

/// Hashes crate ids (one multiply, folded): every version row looks its crate up, and the
/// default SipHash is a tenth of a full listing's time. (Version ids too, for the index
/// metadata's join.)
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

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

pub(crate) type IdMap<V> = HashMap<i32, V, BuildHasherDefault<IdHasher>>;

/// What the listing knows of a crate id: not listed, listed (no version row yet), or its page.
const NOT_LISTED: u32 = u32::MAX;
const LISTED: u32 = u32::MAX - 1;

/// A crate id's page (or [`NOT_LISTED`], [`LISTED`]) and its count of version rows.
#[derive(Clone, Copy, Debug)]
struct Slot {
    page: u32,
    rows: u32,
}

impl Slot {
    const NOT_LISTED: Slot = Slot {
        page: NOT_LISTED,
        rows: 0,
    };
}

/// What the listing knows of each crate id.
///
/// `finish` looks every version row's crate up. The registry's ids are small and dense (they
/// count crates), so they index a plain array of eight bytes a crate, which stays in cache,
/// where a hash map's lookup was a cache miss per row. Ids past [`CrateSlots::DENSE`] go to a
/// map.
#[derive(Debug, Default)]
struct CrateSlots {
    dense: Vec<Slot>,
    sparse: IdMap<Slot>,
}

impl CrateSlots {
    const DENSE: usize = 1 << 24;

    fn get(&self, id: i32) -> Slot {
        match usize::try_from(id) {
            Ok(at) if at < Self::DENSE => self.dense.get(at).copied(),
            _ => self.sparse.get(&id).copied(),
        }
        .unwrap_or(Slot::NOT_LISTED)
    }

    /// The slot of a crate id that may be listed; `None` for one never listed.
    fn get_mut(&mut self, id: i32) -> Option<&mut Slot> {
        match usize::try_from(id) {
            Ok(at) if at < Self::DENSE => self.dense.get_mut(at),
            _ => self.sparse.get_mut(&id),
        }
    }

    fn set_listed(&mut self, id: i32, listed: bool) {
        let page = if listed { LISTED } else { NOT_LISTED };
        match usize::try_from(id) {
            Ok(at) if at < Self::DENSE => {
                if at >= self.dense.len() {
                    if !listed {
                        return;
                    }
                    self.dense.resize(at + 1, Slot::NOT_LISTED);
                }
                self.dense[at].page = page;
            }
            _ => {
                self.sparse.entry(id).or_insert(Slot::NOT_LISTED).page = page;
            }
        }
    }
}

impl CrateSlots {
    /// The ids of listed crates.
    fn listed(&self) -> IdSet {
        let mut bits = vec![0u64; self.dense.len().div_ceil(64)];
        for (at, slot) in self.dense.iter().enumerate() {
            if slot.page != NOT_LISTED {
                bits[at / 64] |= 1 << (at % 64);
            }
        }
        let others = self
            .sparse
            .iter()
            .filter(|(_, slot)| slot.page != NOT_LISTED)
            .map(|(&id, _)| (id, ()))
            .collect();
        IdSet { bits, others }
    }
}

/// A stretch of a text: crate names are kept one after another
/// in one string, where a string each was an allocation per crate, and a hash map of them a
/// cache miss per crate, on the parsing thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    at: u32,
    len: u32,
}

impl Span {
    fn text(self, text: &str) -> &str {
        &text[self.at as usize..self.at as usize + self.len as usize]
    }
}

/// Crate names by id: dense ids index an array, as in [`CrateSlots`]. An id not set, or
/// set to `""`, has the empty name.
#[derive(Debug, Default)]
struct Names {
    text: String,
    dense: Vec<Span>,
    sparse: IdMap<Span>,
}

impl Names {
    /// Sets `id`'s name; `false` when the names would pass 4 GiB in all.
    fn set(&mut self, id: i32, name: &str) -> bool {
        let span = if name.is_empty() {
            Span::default()
        } else {
            let Some(span) = u32::try_from(self.text.len())
                .ok()
                .zip(u32::try_from(name.len()).ok())
                .filter(|(at, len)| at.checked_add(*len).is_some())
                .map(|(at, len)| Span { at, len })
            else {
                return false;
            };
            self.text.push_str(name);
            span
        };
        match usize::try_from(id) {
            Ok(at) if at < CrateSlots::DENSE => {
                if at >= self.dense.len() {
                    if name.is_empty() {
                        return true;
                    }
                    self.dense.resize(at + 1, Span::default());
                }
                self.dense[at] = span;
            }
            _ => {
                self.sparse.insert(id, span);
            }
        }
        true
    }

    fn span(&self, id: i32) -> Span {
        match usize::try_from(id) {
            Ok(at) if at < CrateSlots::DENSE => self.dense.get(at).copied(),
            _ => self.sparse.get(&id).copied(),
        }
        .unwrap_or_default()
    }

    /// `id`'s name, when it has one (names are never empty).
    fn get(&self, id: i32) -> Option<&str> {
        Some(self.span(id).text(&self.text)).filter(|name| !name.is_empty())
    }
}

/// Each version row's page, in row order, and the crates that have pages: pages are made in
/// the order of each crate's first row.
#[derive(Debug)]
struct Walked {
    crates: CrateSlots,
    row_pages: Vec<u32>,
    page_crates: Vec<i32>,
}

impl Walked {
    fn new(crates: CrateSlots) -> Walked {
        Walked {
            crates,
            row_pages: Vec::new(),
            page_crates: Vec::new(),
        }
    }

    /// Takes the crate ids of the next rows.
    fn walk(&mut self, ids: impl IntoIterator<Item = i32>) {
        for crate_id in ids {
            let page = match self.crates.get_mut(crate_id) {
                Some(slot) if slot.page != NOT_LISTED => {
                    if slot.page == LISTED {
                        slot.page = self.page_crates.len() as u32;
                        self.page_crates.push(crate_id);
                    }
                    slot.rows += 1;
                    slot.page
                }
                _ => NO_PAGE,
            };
            self.row_pages.push(page);
        }
    }
}

/// A [`Walked`] on its own thread, fed crate ids in batches while the dump is read.
///
/// Finding a row's page is a cache miss, and the parsing thread sets the pace of a listing, so
/// that thread only notes the id; the walk runs where a core has time (decompression waits on
/// parsing through `versions.csv`) instead of after the last row.
#[derive(Debug)]
struct PageWalk {
    ids: Vec<i32>,
    batches: mpsc::Sender<Vec<i32>>,
    thread: std::thread::JoinHandle<Walked>,
}

impl PageWalk {
    const BATCH: usize = 1 << 15;

    /// Starts the walk with `crates`; `None` (the crates left where they were) when no thread
    /// can be started.
    fn start(crates: &mut CrateSlots) -> Option<PageWalk> {
        let (batches, received) = mpsc::channel::<Vec<i32>>();
        let (give, take) = mpsc::channel::<CrateSlots>();
        let thread = std::thread::Builder::new()
            .name("fetchkit-lister-pages".into())
            .spawn(move || {
                let mut walked = Walked::new(take.recv().unwrap_or_default());
                for batch in received {
                    walked.walk(batch);
                }
                walked
            })
            .ok()?;
        // The thread waits for them.
        let _ = give.send(std::mem::take(crates));
        Some(PageWalk {
            ids: Vec::with_capacity(Self::BATCH),
            batches,
            thread,
        })
    }

    fn push(&mut self, crate_id: i32) {
        self.ids.push(crate_id);
        if self.ids.len() == Self::BATCH {
            let batch = std::mem::replace(&mut self.ids, Vec::with_capacity(Self::BATCH));
            // A walk that stopped panicked; `finish` re-raises it.
            let _ = self.batches.send(batch);
        }
    }

    fn finish(self) -> Walked {
        let _ = self.batches.send(self.ids);
        drop(self.batches);
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// Puts the items of rows on pages `first_page..first_page + next.len()` at their pages'
/// next free places; `next` holds those places (counted from the start of all pages), and
/// `items` is the part of all pages' items that starts at `base`. `by_row` holds every row's
/// item, in row order, in consecutive parts.
fn scatter(
    by_row: &[Vec<order::Item>],
    row_pages: &[u32],
    first_page: usize,
    next: &mut [u32],
    items: &mut [order::Item],
    base: usize,
) {
    let mut first_row = 0;
    for part in by_row {
        let pages = &row_pages[first_row..first_row + part.len()];
        first_row += part.len();
        for (item, &page) in part.iter().zip(pages) {
            if let Some(slot) = (page as usize)
                .checked_sub(first_page)
                .and_then(|page| next.get_mut(page))
            {
                items[*slot as usize - base] = *item;
                *slot += 1;
            }
        }
    }
}

/// A set of crate ids: a bit an id (a few dozen kilobytes, which stay in cache while the
/// dump streams past) below [`CrateSlots::DENSE`], a map beyond.
#[derive(Debug, Default)]
struct IdSet {
    bits: Vec<u64>,
    others: IdMap<()>,
}

impl IdSet {
    fn contains(&self, id: i32) -> bool {
        match usize::try_from(id) {
            Ok(at) if at < CrateSlots::DENSE => self
                .bits
                .get(at / 64)
                .is_some_and(|word| word >> (at % 64) & 1 == 1),
            _ => self.others.contains_key(&id),
        }
    }
}

/// A version row, kept compactly: 64 bytes, one cache line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The crate's id.
    key: u32,
    number: Number,
    pub(crate) yanked: bool,
    pub(crate) updated_at: DumpTime,
    pub(crate) checksum: Sha256Digest,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 64);

/// The listed versions: pages' names, the rows as read, and for each page the numbers of its
/// rows in version order.
///
/// The rows stay where parsing put them: gathering them page by page would copy 130 MB into
/// fresh memory, and the kernel's first touch of fresh memory is the slow part.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    /// The pages' names: their text, one after another, and each page's span of it.
    name_text: String,
    name_spans: Vec<Span>,
    rows: Rows,
    /// Row numbers, page after page, each page's in version order.
    order: Vec<u32>,
    /// Where each page's row numbers start in `order`, and after the last one where they end.
    starts: Vec<usize>,
    /// The version numbers, one after another.
    numbers: String,
    /// Each row's index metadata, where the row is listed; empty without index metadata.
    metadata: Vec<Option<Arc<VersionMetadata>>>,
}

/// Equal when they list the same pages and versions, however the text is laid out (rows of
/// crates that were not listed may have left numbers behind).
impl PartialEq for Table {
    fn eq(&self, other: &Table) -> bool {
        let same_row = |a: u32, b: u32| {
            let (a_entry, b_entry) = (self.rows.get(a as usize), other.rows.get(b as usize));
            self.number(a_entry) == other.number(b_entry)
                && (a_entry.yanked, a_entry.updated_at, a_entry.checksum)
                    == (b_entry.yanked, b_entry.updated_at, b_entry.checksum)
                && self.metadata(a) == other.metadata(b)
        };
        self.page_count() == other.page_count()
            && (0..self.page_count()).all(|page| self.name(page) == other.name(page))
            && (0..self.page_count()).all(|page| {
                let (mine, theirs) = (self.page_rows(page), other.page_rows(page));
                mine.len() == theirs.len() && mine.iter().zip(theirs).all(|(&a, &b)| same_row(a, b))
            })
    }
}

impl Eq for Table {}

impl Table {
    pub(crate) fn page_count(&self) -> usize {
        self.name_spans.len()
    }

    /// A page's crate name.
    pub(crate) fn name(&self, page: usize) -> &str {
        self.name_spans[page].text(&self.name_text)
    }

    /// A page's row numbers, in version order.
    fn page_rows(&self, page: usize) -> &[u32] {
        &self.order[self.starts[page]..self.starts[page + 1]]
    }

    /// A row's index metadata.
    fn metadata(&self, row: u32) -> Option<Arc<VersionMetadata>> {
        self.metadata.get(row as usize).cloned().flatten()
    }

    /// A page's entries, in version order.
    pub(crate) fn versions(&self, page: usize) -> Versions<'_> {
        Versions {
            rows: &self.rows,
            order: self.order[self.starts[page]..self.starts[page + 1]].iter(),
        }
    }

    /// The entries of consecutive pages, in page order, appended to `out` in one loop of
    /// independent loads (their cache misses overlap); each page's end in `out` goes to
    /// `ends`.
    pub(crate) fn copy_versions(
        &self,
        pages: std::ops::Range<usize>,
        out: &mut Vec<Entry>,
        ends: &mut Vec<usize>,
    ) {
        let base = out.len();
        let first = self.starts[pages.start];
        out.extend(
            self.order[first..self.starts[pages.end]]
                .iter()
                .map(|&row| *self.rows.get(row as usize)),
        );
        ends.extend(
            self.starts[pages.start + 1..=pages.end]
                .iter()
                .map(|&end| base + end - first),
        );
    }

    pub(crate) fn number<'a>(&'a self, entry: &'a Entry) -> &'a str {
        number_in(&self.numbers, entry)
    }
}

/// A page's entries (see [`Table::versions`]).
#[derive(Clone)]
pub(crate) struct Versions<'t> {
    rows: &'t Rows,
    order: std::slice::Iter<'t, u32>,
}

impl<'t> Iterator for Versions<'t> {
    type Item = &'t Entry;

    fn next(&mut self) -> Option<&'t Entry> {
        self.order.next().map(|&row| self.rows.get(row as usize))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.order.size_hint()
    }
}

impl ExactSizeIterator for Versions<'_> {}

/// Values in fixed-size chunks: growing never copies or doubles the memory held.
#[derive(Clone, Debug)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    pub(crate) count: usize,
}

/// The version rows, in the order they were read.
type Rows = Chunked<Entry>;

impl<T> Default for Chunked<T> {
    fn default() -> Chunked<T> {
        Chunked {
            chunks: Vec::new(),
            count: 0,
        }
    }
}

impl<T> Chunked<T> {
    const CHUNK_BITS: u32 = 15;
    const CHUNK: usize = 1 << Self::CHUNK_BITS;

    /// Appends `value`.
    pub(crate) fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < Self::CHUNK => chunk.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.count += 1;
    }

    pub(crate) fn get(&self, at: usize) -> &T {
        &self.chunks[at >> Self::CHUNK_BITS][at & (Self::CHUNK - 1)]
    }

    pub(crate) fn get_mut(&mut self, at: usize) -> &mut T {
        &mut self.chunks[at >> Self::CHUNK_BITS][at & (Self::CHUNK - 1)]
    }

    /// All values, in the order they were pushed.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// All values, in the order they were pushed, handed out.
    pub(crate) fn into_values(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flatten()
    }
}

/// Collects rows, in whatever order the archive has them, into a [`Listing`].
///
/// Version rows are kept as compact entries until [`finish`](Builder::finish): only then are
/// all versions of a crate known, so they are grouped and ordered once. Rows of crates that
/// are not listed are dropped as soon as `crates.csv` has been read (in the registry's dumps
/// it comes first).
#[derive(Debug)]
pub(crate) struct Builder<'o> {
    options: &'o ListOptions,
    threshold: Option<Timestamp>,
    dump_timestamp: Option<Timestamp>,
    /// Listed crates' names by id, complete once `crates_done`.
    names: Names,
    /// Where each crate's rows go.
    crates: CrateSlots,
    /// Crate ids listed, once `crates.csv` is read and when not every crate is listed: rows of
    /// other crates are dropped as they come.
    listed: Option<IdSet>,
    /// Finds the rows' pages on another thread while the dump is read (rows that came after
    /// `crates.csv`, as in the registry's dumps).
    walk: Option<PageWalk>,
    rows: Rows,
    /// Each row's sort key, made as the row is read: parsing has time to spare while
    /// decompression sets the pace, and `finish` does not.
    items: Chunked<order::Item>,
    numbers: String,
    deleted: Vec<DeletedCrate>,
    crates_read: u64,
    versions_read: u64,
    /// With index metadata: the kept rows' metadata and their dependencies.
    join: Option<Join>,
}

impl<'o> Builder<'o> {
    pub(crate) fn new(options: &'o ListOptions) -> Builder<'o> {
        Builder {
            options,
            threshold: options
                .since
                .map(|state| state.last_dump.saturating_sub(options.overlap)),
            dump_timestamp: None,
            names: Names::default(),
            crates: CrateSlots::default(),
            listed: None,
            walk: None,
            rows: Rows::default(),
            items: Chunked::default(),
            numbers: String::new(),
            deleted: Vec::new(),
            crates_read: 0,
            versions_read: 0,
            join: options.index_metadata.then(Join::default),
        }
    }

    /// Whether the listing joins index metadata.
    pub(crate) fn index_metadata_wanted(&self) -> bool {
        self.join.is_some()
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

    pub(crate) fn crate_row(&mut self, row: CrateRow<'_>, at: At<'_>) -> Result<(), ListError> {
        self.crates_read += 1;
        let listed = is_new(row.updated_at, self.threshold)
            && self
                .options
                .crate_filter
                .as_ref()
                .is_none_or(|filter| filter(row.name));
        // Dependencies name any crate, listed or not, so index metadata keeps every name.
        if listed || self.join.is_some() {
            // A repeated id replaces the earlier row, as in Software Heritage's lister.
            if !self.names.set(row.id, row.name) {
                return Err(at.error(
                    "name",
                    row.name.as_bytes(),
                    "the dump's crate names exceed 4 GiB in all",
                ));
            }
        } else {
            self.names.set(row.id, "");
        }
        self.crates.set_listed(row.id, listed);
        Ok(())
    }

    /// `crates.csv` is complete: later version rows of crates not listed can be dropped.
    pub(crate) fn crates_done(&mut self) -> Result<(), ListError> {
        // A first run lists every crate of `crates.csv`; rows of crates missing from it are
        // dropped in `finish`, with the rest of the page work. A filter or index metadata
        // drops them as they come instead: the filter to save the memory of crates it
        // rejects, index metadata because its join needs to know the listed versions
        // before `dependencies.csv`.
        if self.threshold.is_some()
            || self.options.crate_filter.is_some()
            || self.options.index_metadata
        {
            self.listed = Some(self.crates.listed());
        }
        // Rows that come from now on get their pages found as they come, off this thread;
        // rows that came before (a dump with the tables the other way round) in `finish`.
        if self.rows.count == 0 && self.walk.is_none() {
            self.walk = PageWalk::start(&mut self.crates);
        }
        if let Some(join) = &mut self.join {
            join.crates_done();
        }
        self.index_metadata()
    }

    /// `versions.csv` (at `file`) is complete.
    pub(crate) fn versions_done(&mut self, file: &str) -> Result<(), ListError> {
        if let Some(join) = &mut self.join {
            join.versions_done(file);
        }
        self.index_metadata()
    }

    /// Once both tables are read, indexes the kept versions for the join.
    fn index_metadata(&mut self) -> Result<(), ListError> {
        let (Some(join), Some(listed)) = (&mut self.join, &self.listed) else {
            return Ok(());
        };
        let rows = &self.rows;
        let names = &self.names;
        join.index(
            |row| listed.contains(rows.get(row).key as i32),
            |id| names.get(id),
        )
    }

    /// Counts a `dependencies.csv` row (at `file`); whether its version may be listed.
    pub(crate) fn wants_dependencies_of(&mut self, version_id: i32, file: &str) -> bool {
        self.join
            .as_mut()
            .is_some_and(|join| join.wants(version_id, file))
    }

    /// A `dependencies.csv` row that [`wants_dependencies_of`](Self::wants_dependencies_of)
    /// let through.
    pub(crate) fn dependency_row(
        &mut self,
        row: DependencyRow<'_>,
        at: At<'_>,
    ) -> Result<(), ListError> {
        let names = &self.names;
        match &mut self.join {
            Some(join) => join.dependency(row, at, |id| names.get(id)),
            None => Ok(()),
        }
    }

    pub(crate) fn version_row(&mut self, row: VersionRow<'_>, at: At<'_>) -> Result<(), ListError> {
        self.versions_read += 1;
        // Only a bit is looked up here: finding the row's page would be a cache miss per row
        // on the parsing thread, which sets the pace; `finish` does it in one tight loop.
        if let Some(listed) = &self.listed
            && !listed.contains(row.crate_id)
        {
            return Ok(());
        }
        let key = row.crate_id as u32;
        let number = match Number::inline(row.num) {
            Some(number) => number,
            None => {
                let start = u32::try_from(self.numbers.len())
                    .ok()
                    .filter(|start| start.checked_add(row.num.len() as u32).is_some())
                    .filter(|_| row.num.len() <= u32::MAX as usize);
                let Some(start) = start else {
                    return Err(at.error(
                        "num",
                        row.num.as_bytes(),
                        "the dump's version numbers exceed 4 GiB in all",
                    ));
                };
                self.numbers.push_str(row.num);
                Number::spilled(start, row.num.len() as u32)
            }
        };
        if let Some(join) = &mut self.join {
            // The archive reader asks for the metadata columns whenever there is a join (see
            // `index_metadata_wanted`), so every row has them; one without would shift the
            // join's rows against these.
            let Some(metadata) = row.metadata else {
                unreachable!("index metadata reads its columns");
            };
            join.push(
                metadata.id,
                at.line,
                VersionMetadata {
                    features: rows::features(metadata.features, at)?,
                    links: metadata.links.map(str::to_owned),
                    rust_version: metadata.rust_version.map(str::to_owned),
                    dependencies: Vec::new(),
                },
            );
        }
        // Row numbers fit in 32 bits: four billion rows would be 256 GiB.
        self.items.push(order::Item {
            key: order::sort_key(row.num),
            row: self.rows.count as u32,
            yanked: row.yanked,
        });
        self.rows.push(Entry {
            key,
            number,
            yanked: row.yanked,
            updated_at: row.updated_at,
            checksum: row.checksum,
        });
        if let Some(walk) = &mut self.walk {
            walk.push(row.crate_id);
        }
        Ok(())
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
        let dependencies_read = self.join.as_ref().map_or(0, |join| join.dependencies_read);
        let stale = self.is_stale();
        if stale {
            self.rows = Rows::default();
            self.items = Chunked::default();
            self.deleted.clear();
            self.join = None;
        }

        // Each row's page: found while the dump was read (pages are made in the order of each
        // crate's first row), or now for rows that came before `crates.csv`.
        let rows = std::mem::take(&mut self.rows);
        let by_row = std::mem::take(&mut self.items).chunks;
        let walked = match self.walk.take().map(PageWalk::finish).filter(|_| !stale) {
            Some(walked) => walked,
            None => {
                let mut walked = Walked::new(std::mem::take(&mut self.crates));
                walked.walk(rows.entries().map(|entry| entry.key as i32));
                walked
            }
        };
        let parallel = rows.count >= PARALLEL_FINISH_ROWS;
        let Walked {
            crates,
            row_pages,
            page_crates,
        } = walked;
        // Pages' sizes and names in loops of independent lookups, which the processor overlaps.
        let page_sizes: Vec<usize> = page_crates
            .iter()
            .map(|&id| crates.get(id).rows as usize)
            .collect();
        let name_spans: Vec<Span> = page_crates.iter().map(|&id| self.names.span(id)).collect();
        drop((crates, page_crates));

        // Each page's rows together, in row order (a counting sort)...
        // Row numbers (and so positions) fit in 32 bits: four billion rows would be 256 GiB.
        let mut next = Vec::with_capacity(page_sizes.len());
        let mut total = 0;
        for size in &page_sizes {
            next.push(total as u32);
            total += size;
        }
        // ...then each page ordered by version, keeping one row per version number. Large
        // listings take two halves of the pages side by side: each thread scatters every row
        // but keeps only its half's, into items it allocates itself (so the kernel's first
        // touch of that memory happens on both cores), and goes on to order them.
        let threads = if total < PARALLEL_FINISH_ROWS {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, usize::from)
                .clamp(1, 4)
        };
        let numbers = &self.numbers;
        let number = |row: u32| number_in(numbers, rows.get(row as usize));
        let place_and_order = |first_page: usize, next: &mut [u32], base: usize, end: usize| {
            let mut items = vec![order::Item::default(); end - base];
            scatter(&by_row, &row_pages, first_page, next, &mut items, base);
            let sizes = &page_sizes[first_page..first_page + next.len()];
            let (kept, yanked) =
                order::order_pages(&mut items, sizes, &number, threads.div_ceil(2));
            (items, kept, yanked)
        };
        let halves = if parallel {
            let half = next.partition_point(|&start| (start as usize) < total / 2);
            let middle = next.get(half).map_or(total, |&start| start as usize);
            let (front_next, back_next) = next.split_at_mut(half);
            std::thread::scope(|scope| {
                let front = scope.spawn(|| place_and_order(0, front_next, 0, middle));
                let back = place_and_order(half, back_next, middle, total);
                let front = front
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                [front, back]
            })
        } else {
            let pages = next.len();
            [
                place_and_order(0, &mut next, 0, total),
                place_and_order(pages, &mut [], total, total),
            ]
        };
        drop((next, row_pages, by_row));

        // ...and the kept rows' numbers, page after page.
        let kept_rows = halves.iter().flat_map(|(_, kept, _)| kept).sum();
        let yanked = halves.iter().map(|(_, _, yanked)| yanked).sum();
        let mut order = Vec::with_capacity(kept_rows);
        let mut starts = Vec::with_capacity(page_sizes.len() + 1);
        let mut sizes = page_sizes.iter();
        for (items, kept, _) in &halves {
            let mut read = 0;
            // `kept` first: its end stops the zip before `sizes` moves on.
            for (kept, size) in kept.iter().zip(sizes.by_ref()) {
                starts.push(order.len());
                order.extend(items[read..read + kept].iter().map(|item| item.row));
                read += size;
            }
        }
        starts.push(order.len());
        drop(halves);
        // Index metadata stays only for the rows on pages.
        let (metadata, dependencies) = match self.join.take() {
            Some(join) => {
                let mut on_page = vec![false; rows.count];
                for &row in &order {
                    on_page[row as usize] = true;
                }
                let metadata = join.finish(|row| on_page[row]);
                let dependencies = metadata
                    .iter()
                    .flatten()
                    .map(|metadata| metadata.dependencies.len() as u64)
                    .sum();
                (metadata, dependencies)
            }
            None => (Vec::new(), 0),
        };
        let table = Table {
            name_text: self.names.text,
            name_spans,
            rows,
            order,
            starts,
            numbers: self.numbers,
            metadata,
        };

        let stats = Stats {
            crates: table.page_count() as u64,
            versions: table.order.len() as u64,
            yanked,
            deleted: self.deleted.len() as u64,
            crates_read: self.crates_read,
            versions_read: self.versions_read,
            dependencies_read,
            dependencies,
        };
        Listing {
            dump_timestamp,
            deleted: self.deleted,
            stats,
            stale,
            previous: self.options.since.map(|state| state.last_dump),
            templates: self.options.templates.clone(),
            table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: At<'static> = At {
        file: "d/data/versions.csv",
        line: 2,
    };

    #[test]
    fn numbers_up_to_ten_bytes_live_in_the_entry() {
        let mut text = String::from("ahead");
        for version in [
            "",
            "1.0.0",
            "1.2.3-beta",
            "1.2.3-beta1",
            "0.1.0-\u{fc}",
            "0.1.0-\u{fc}\u{fc}",
            "10.20.30-rc.1+build",
        ] {
            let number = match Number::inline(version) {
                Some(number) => {
                    assert!(version.len() <= Number::INLINE, "{version}");
                    number
                }
                None => {
                    assert!(version.len() > Number::INLINE, "{version}");
                    let at = text.len() as u32;
                    text.push_str(version);
                    Number::spilled(at, version.len() as u32)
                }
            };
            assert_eq!(number.text(&text), version);
        }
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
            metadata: None,
        }
    }

    fn krate(id: i32, name: &'static str, updated_at: &str) -> CrateRow<'static> {
        CrateRow {
            id,
            name,
            updated_at: Timestamp::parse(updated_at).unwrap(),
        }
    }

    /// Adds crate rows `(id, name, updated_at)`, in order.
    fn add_crates(builder: &mut Builder<'_>, rows: &[(i32, &'static str, &str)]) {
        for &(id, name, updated_at) in rows {
            builder.crate_row(krate(id, name, updated_at), AT).unwrap();
        }
    }

    /// Pages as `name: versions`, in listing order.
    fn pages(listing: &Listing) -> Vec<String> {
        listing
            .pages()
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
        add_crates(
            &mut builder,
            &[
                (1, "one", "2022-01-01 00:00:00"),
                (2, "two", "2022-01-01 00:00:00"),
                (3, "three", "2022-01-01 00:00:00"),
            ],
        );
        builder.crates_done().unwrap();
        for row in [
            version(3, "1.0.0"),
            version(1, "0.2.0"),
            version(3, "0.1.0"),
            version(1, "0.1.0"),
        ] {
            builder.version_row(row, AT).unwrap();
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
            builder.version_row(row, AT).unwrap();
        }
        add_crates(
            &mut builder,
            &[
                (1, "one", "2022-01-01 00:00:00"),
                (2, "two", "2022-01-01 00:00:00"),
                (3, "three", "2022-01-01 00:00:00"),
            ],
        );
        builder.crates_done().unwrap();
        assert_eq!(builder.finish(at), first);
    }

    #[test]
    fn large_listings_take_the_threaded_paths_to_the_same_pages() {
        // Rows interleaved across crates as in a dump, more than the threaded paths need, with
        // repeated numbers and pre-releases; crates first (pages found while reading) and
        // last (found in `finish`).
        let (crates, per_crate) = (300i32, 12i32);
        let mut rows = Vec::new();
        for version in 0..per_crate {
            for id in 0..crates {
                rows.push((
                    id,
                    match (version + id) % 3 {
                        0 => format!("{}.{}.0", version % 5, id % 7),
                        1 => format!("1.0.0-rc.{}", version % 4),
                        _ => format!("0.{version}.{id}"),
                    },
                ));
            }
        }
        assert!(rows.len() > PARALLEL_FINISH_ROWS);
        let expected: Vec<String> = (0..crates)
            .map(|id| {
                let mut versions: Vec<semver::Version> = rows
                    .iter()
                    .filter(|row| row.0 == id)
                    .map(|row| semver::Version::parse(&row.1).unwrap())
                    .collect();
                versions.sort();
                versions.dedup();
                let versions: Vec<String> = versions.iter().map(ToString::to_string).collect();
                format!("c{id}: {}", versions.join(" "))
            })
            .collect();
        let expected_versions: u64 = expected
            .iter()
            .map(|page| page.split(' ').count() as u64 - 1)
            .sum();
        let names: Vec<String> = (0..crates).map(|id| format!("c{id}")).collect();
        let options = ListOptions::new(templates());
        for crates_first in [true, false] {
            let mut builder = Builder::new(&options);
            let add_crates = |builder: &mut Builder<'_>| {
                for (id, name) in (0..crates).zip(&names) {
                    builder
                        .crate_row(
                            CrateRow {
                                id,
                                name,
                                updated_at: Timestamp::parse("2022-01-01 00:00:00").unwrap(),
                            },
                            AT,
                        )
                        .unwrap();
                }
                builder.crates_done().unwrap();
            };
            if crates_first {
                add_crates(&mut builder);
            }
            for (crate_id, num) in &rows {
                let mut row = version(*crate_id, "");
                row.num = num;
                builder.version_row(row, AT).unwrap();
            }
            if !crates_first {
                add_crates(&mut builder);
            }
            let listing = builder.finish(Timestamp::parse("2022-08-08T02:00:27Z").unwrap());
            assert_eq!(pages(&listing), expected, "crates first: {crates_first}");
            // Counted over both halves of the pages.
            assert_eq!(listing.stats.versions, expected_versions);
            assert_eq!(listing.stats.crates, crates as u64);
        }
    }

    #[test]
    fn a_repeated_crate_id_takes_its_last_row() {
        let mut options = ListOptions::new(templates());
        options.since = Some(State {
            last_dump: Timestamp::parse("2022-06-01 00:00:00").unwrap(),
        });
        let mut builder = Builder::new(&options);
        add_crates(
            &mut builder,
            &[
                (1, "old-name", "2022-01-01 00:00:00"),
                (1, "new-name", "2022-07-01 00:00:00"),
                (2, "listed", "2022-07-01 00:00:00"),
                (2, "listed", "2022-01-01 00:00:00"),
            ],
        );
        builder.crates_done().unwrap();
        builder.version_row(version(1, "1.0.0"), AT).unwrap();
        builder.version_row(version(2, "1.0.0"), AT).unwrap();
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
        builder
            .crate_row(
                CrateRow {
                    id: 1,
                    name: "pin-project",
                    updated_at: Timestamp::parse("2022-08-15 13:52:11.642129").unwrap(),
                },
                AT,
            )
            .unwrap();
        builder.crates_done().unwrap();
        builder
            .version_row(
                VersionRow {
                    crate_id: 1,
                    num: "1.0.12",
                    updated_at: DumpTime::parse("2022-08-15 13:52:11.642129+00").unwrap(),
                    yanked: true,
                    checksum: Sha256Digest([0xad; 32]),
                    metadata: None,
                },
                AT,
            )
            .unwrap();
        let listing = builder.finish(Timestamp::parse("2022-08-08T02:00:27Z").unwrap());
        let json = serde_json::to_string(&listing.page(0).unwrap().versions[0]).unwrap();
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
