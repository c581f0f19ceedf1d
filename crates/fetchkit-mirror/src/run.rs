//! A mirror run: list → fetch → verify → lay out.
//!
//! The order is what makes a run safe to kill at any moment: every `.crate` file is verified in
//! a temporary file and renamed into place, then journaled; index files are written last, and
//! list only versions whose file is in place. A server never offers a version it cannot
//! deliver, and the next run picks up exactly where this one stopped.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fetchkit_lister::Listing;
use fetchkit_transport::{Client, Retry};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::body::Body;
use crate::dump::{self, DumpReport, DumpSource};
use crate::journal::Journal;
use crate::layout::{Layout, MirrorDir};
use crate::select::{NameFilter, Versions, WantedCrates, choose};
use crate::upstream::{self, IndexLine, Source, sha256_hex};
use crate::{CrateSpec, MirrorError, Upstream};

/// Files fetched at once unless told otherwise: enough to hide a loopback or LAN round trip,
/// few enough not to be taken for an attack by a registry's front end.
pub const DEFAULT_JOBS: usize = 16;

/// Base URL written into `config.json` unless told otherwise; `fetchkit serve` replaces its
/// address with the one it is reached at.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// Attempts per file when the bytes arrive but hash wrong (the transport already retries
/// network failures; a corrupting proxy or a flipped bit is worth a fresh download or two).
const CHECKSUM_ATTEMPTS: u32 = 3;

/// What a run reports as it goes; every method has a default that does nothing.
pub trait Progress: Send + Sync {
    /// The database dump starts to be read (again, on a retry): `total` compressed bytes when
    /// known, `position` of them kept from an earlier attempt.
    fn dump_start(&self, _total: Option<u64>, _position: u64) {}
    /// `bytes` more compressed bytes of the dump were read.
    fn dump_advance(&self, _bytes: u64) {}
    /// The index files are read: `files` `.crate` files of `crates` crates are selected.
    fn selected(&self, _crates: usize, _files: usize) {}
    /// A file is in place: already verified (`fetched == false`) or fetched now.
    fn file_done(&self, _name: &str, _version: &str, _bytes: u64, _fetched: bool) {}
    /// A file could not be mirrored.
    fn file_failed(&self, _name: &str, _version: &str, _error: &MirrorError) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Crates selected.
    pub crates: usize,
    /// `.crate` files selected.
    pub files: usize,
    /// Files that were already in place and verified.
    pub present: usize,
    /// Files fetched (or copied) and verified in this run.
    pub fetched: usize,
    /// Bytes of the files fetched.
    pub fetched_bytes: u64,
    /// Index files written or changed.
    pub index_files_written: usize,
    /// What failed; the next run retries all of it.
    pub failures: Vec<Failure>,
    /// Whether the run stopped at its first failure (without `keep_going`), leaving files
    /// unfetched.
    pub stopped_early: bool,
    /// What the database dump listed, when one was given.
    pub dump: Option<DumpReport>,
}

/// One thing a run could not do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Failure {
    /// The crate, when the failure is about one.
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
    /// The version, when the failure is about one file.
    pub version: Option<String>,
    /// The error, one line.
    pub error: String,
    /// Whether trying again soon may succeed.
    pub transient: bool,
}

impl Failure {
    fn new(crate_name: Option<&str>, version: Option<&str>, error: &MirrorError) -> Failure {
        Failure {
            crate_name: crate_name.map(str::to_owned),
            version: version.map(str::to_owned),
            error: error.to_string(),
            transient: error.is_transient(),
        }
    }
}

/// A configured mirror run. See the crate documentation for an example.
#[derive(Clone)]
pub struct Mirror {
    dir: PathBuf,
    upstream: Upstream,
    layout: Layout,
    base_url: String,
    lockfiles: Vec<PathBuf>,
    crates: Vec<CrateSpec>,
    dependencies: bool,
    dump: Option<DumpSource>,
    versions: Versions,
    skip_yanked: bool,
    filter: NameFilter,
    jobs: usize,
    keep_going: bool,
    client: Option<Client>,
    retry: Retry,
    progress: Arc<dyn Progress>,
}

impl std::fmt::Debug for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("dir", &self.dir)
            .field("upstream", &self.upstream)
            .field("layout", &self.layout)
            .field("jobs", &self.jobs)
            .finish_non_exhaustive()
    }
}

impl Mirror {
    /// A run that fills the folder `dir` from `upstream`; it selects nothing until given lock
    /// files or crates.
    pub fn new(dir: impl Into<PathBuf>, upstream: Upstream) -> Mirror {
        Mirror {
            dir: dir.into(),
            upstream,
            layout: Layout::default(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            lockfiles: Vec::new(),
            crates: Vec::new(),
            dependencies: true,
            dump: None,
            versions: Versions::default(),
            skip_yanked: false,
            filter: NameFilter::default(),
            jobs: DEFAULT_JOBS,
            keep_going: false,
            client: None,
            retry: Retry::default(),
            progress: Arc::new(NoProgress),
        }
    }

    /// Whether the dependencies of the versions [`crate_spec`](Mirror::crate_spec)s choose are
    /// mirrored too, recursively, so that the named crates build from the mirror (default:
    /// yes). Each dependency's requirement is resolved with the same version policy and
    /// filters; dev-dependencies are left out, optional and target-specific ones are not. Lock
    /// files are closed already, and a dump's crates are the registry's.
    pub fn dependencies(mut self, yes: bool) -> Mirror {
        self.dependencies = yes;
        self
    }

    /// Also mirrors every crate the registry's database dump lists (all their versions, as
    /// narrowed by the filters and the version policy). The listing is incremental: once a run
    /// has completed without failures, the next lists only crates changed since that dump.
    pub fn dump(mut self, dump: DumpSource) -> Mirror {
        self.dump = Some(dump);
        self
    }

    /// The `.crate` layout (a folder keeps the one it was made with).
    pub fn layout(mut self, layout: Layout) -> Mirror {
        self.layout = layout;
        self
    }

    /// Where the folder will be served, for `config.json`'s `dl`.
    pub fn base_url(mut self, url: impl Into<String>) -> Mirror {
        self.base_url = url.into();
        self
    }

    /// Mirrors the registry packages of this `Cargo.lock`.
    pub fn lockfile(mut self, path: impl Into<PathBuf>) -> Mirror {
        self.lockfiles.push(path.into());
        self
    }

    /// Mirrors this crate (the versions `versions` keeps of those matching).
    pub fn crate_spec(mut self, spec: CrateSpec) -> Mirror {
        self.crates.push(spec);
        self
    }

    /// Which versions of each `crate_spec` crate (lock file pins are always mirrored).
    pub fn versions(mut self, versions: Versions) -> Mirror {
        self.versions = versions;
        self
    }

    /// Leaves out yanked versions of `crate_spec` crates (a lock file may pin a yanked version;
    /// it is mirrored anyway, since the lock file cannot build without it).
    pub fn skip_yanked(mut self, yes: bool) -> Mirror {
        self.skip_yanked = yes;
        self
    }

    /// Which crate names take part.
    pub fn filter(mut self, filter: NameFilter) -> Mirror {
        self.filter = filter;
        self
    }

    /// Files fetched at once.
    pub fn jobs(mut self, jobs: usize) -> Mirror {
        self.jobs = jobs.max(1);
        self
    }

    /// Goes on past failures instead of stopping at the first (the report lists them either
    /// way).
    pub fn keep_going(mut self, yes: bool) -> Mirror {
        self.keep_going = yes;
        self
    }

    /// The HTTP client for a sparse upstream (timeouts, proxy, user agent).
    pub fn client(mut self, client: Client) -> Mirror {
        self.client = Some(client);
        self
    }

    /// The retry policy of each request.
    pub fn retry(mut self, retry: Retry) -> Mirror {
        self.retry = retry;
        self
    }

    /// Where progress goes.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Mirror {
        self.progress = progress;
        self
    }

    /// Runs: selects, fetches what is missing, writes the index. `Err` only when nothing
    /// could be done (the folder, a lock file or the upstream unusable); failures of single
    /// crates and files are in the report.
    pub async fn run(&self) -> Result<Report, MirrorError> {
        let dir = MirrorDir::new(&self.dir, self.layout);
        let _lock = prepare(&dir)?;
        let journal = Arc::new(Journal::open(&dir.journal())?);

        let mut wanted = WantedCrates::default();
        for lockfile in &self.lockfiles {
            wanted.add_lockfile(lockfile)?;
        }
        for spec in &self.crates {
            wanted.add_spec(spec, self.dependencies);
        }
        let dumped = self.list_dump(&dir).await?;
        let dump_checksums = match &dumped {
            Some((listing, _)) => {
                for page in listing.pages() {
                    wanted.add_spec(
                        &CrateSpec {
                            name: page.name.to_string(),
                            req: None,
                        },
                        false,
                    );
                }
                dump::checksums(listing)
            }
            None => BTreeMap::new(),
        };
        wanted.retain(&self.filter);
        if wanted.crates.is_empty() {
            // An unchanged dump, say: upstream is not even asked for its `config.json`.
            return self
                .finish(&dir, Report::default(), Vec::new(), dumped)
                .await;
        }

        let source = self.open_source(&dir, dumped.as_ref()).await?;
        let source = Arc::new(source);
        let upstream = source.describe();
        let mut report = Report {
            crates: wanted.crates.len(),
            ..Report::default()
        };

        let mut indexes = self
            .read_indexes_and_dependencies(&source, &mut wanted, &mut report)
            .await;
        report.crates = wanted.crates.len();

        // The files to have, per crate; one per version.
        let mut planned: Vec<(String, usize)> = Vec::new();
        for (key, wanted) in &wanted.crates {
            let Some(lines) = indexes.get(key) else {
                continue;
            };
            let (chosen, errors) =
                choose(wanted, lines, self.versions, self.skip_yanked, &upstream);
            for error in &errors {
                report
                    .failures
                    .push(Failure::new(Some(&wanted.name), None, error));
            }
            let mut versions = HashSet::new();
            let dumped = dump_checksums.get(key);
            for at in chosen {
                let line = &lines[at];
                let dumped = dumped.and_then(|sums| sums.get(&line.vers));
                if let Some(dumped) = dumped.filter(|&dumped| *dumped != line.cksum) {
                    report.failures.push(Failure::new(
                        Some(&line.name),
                        Some(&line.vers),
                        &MirrorError::DumpChecksum {
                            name: line.name.clone(),
                            version: line.vers.clone(),
                            dumped: dumped.clone(),
                            indexed: line.cksum.clone(),
                        },
                    ));
                    continue;
                }
                if versions.insert(lines[at].vers.clone()) {
                    planned.push((key.clone(), at));
                }
            }
        }
        report.files = planned.len();
        self.progress.selected(report.crates, report.files);

        let (placed, written) = self
            .fetch_files(&dir, &source, &journal, &indexes, planned, &mut report)
            .await;
        // Durable before indexed: one sync for the whole run rather than one per file.
        if !written.is_empty() {
            sync_to_disk(&dir, written).await?;
        }

        // Index files last, and only for versions now in place.
        let mut index_written = Vec::new();
        for (key, lines) in &mut indexes {
            let fresh: Vec<&IndexLine> = placed
                .get(key)
                .map(|ats| ats.iter().map(|&at| &lines[at]).collect())
                .unwrap_or_default();
            if fresh.is_empty() {
                continue;
            }
            match write_index_file(&dir, &fresh) {
                Ok(true) => {
                    report.index_files_written += 1;
                    index_written.push(dir.index_file(&fresh[0].name));
                }
                Ok(false) => {}
                Err(error) => {
                    report
                        .failures
                        .push(Failure::new(Some(&fresh[0].name), None, &error))
                }
            }
        }
        self.finish(&dir, report, index_written, dumped).await
    }

    /// Lists the dump, if one was given; for a dump-only upstream, first makes sure its files
    /// can be found, so that a missing `--dl` is said before a long read.
    async fn list_dump(
        &self,
        dir: &MirrorDir,
    ) -> Result<Option<(Listing, DumpReport)>, MirrorError> {
        let from_dump = matches!(self.upstream, Upstream::Dump { .. });
        let Some(dump) = &self.dump else {
            return if from_dump {
                Err(MirrorError::InvalidArgument {
                    what: "upstream",
                    value: "the database dump".into(),
                    reason: "no dump was given".into(),
                })
            } else {
                Ok(None)
            };
        };
        if from_dump {
            self.dump_dl(dump)?;
        }
        let listed = dump::list(
            dump,
            dir,
            &self.filter,
            from_dump,
            self.client.clone(),
            &self.retry,
            self.progress.clone(),
        )
        .await?;
        Ok(Some(listed))
    }

    /// Where a dump-only registry's `.crate` files are.
    fn dump_dl(&self, dump: &DumpSource) -> Result<String, MirrorError> {
        if let Upstream::Dump { dl: Some(dl) } = &self.upstream {
            return Ok(dl.clone());
        }
        dump.derived_dl()?
            .ok_or_else(|| MirrorError::InvalidArgument {
                what: "upstream",
                value: dump.to_string(),
                reason: "a dump on disk says nothing of where the crate files are: give their \
                         URL template (--dl)"
                    .into(),
            })
    }

    /// The upstream, opened: for a dump-only one, the lines written from the listing.
    async fn open_source(
        &self,
        dir: &MirrorDir,
        dumped: Option<&(Listing, DumpReport)>,
    ) -> Result<Source, MirrorError> {
        match (&self.upstream, &self.dump, dumped) {
            (Upstream::Dump { .. }, Some(dump), Some((listing, _))) => {
                Ok(Source::Dump(Box::new(upstream::DumpSource {
                    dump: dump.to_string(),
                    lines: dump::index_lines(listing),
                    client: upstream::client_or_default(self.client.clone())?,
                    retry: self.retry.clone(),
                    dl: self.dump_dl(dump)?,
                    mirror: dir.clone(),
                })))
            }
            _ => Source::open(&self.upstream, dir, self.client.clone(), self.retry.clone()).await,
        }
    }

    /// The end of every run: `config.json`, a sync of what the index wrote, and the dump's
    /// state when nothing failed.
    async fn finish(
        &self,
        dir: &MirrorDir,
        mut report: Report,
        mut index_written: Vec<PathBuf>,
        dumped: Option<(Listing, DumpReport)>,
    ) -> Result<Report, MirrorError> {
        let config = dir.index_dir().join("config.json");
        let wanted_config = dir.registry_config(&self.base_url);
        if std::fs::read(&config).ok().as_deref() != Some(&wanted_config[..]) {
            dir.write_atomically(&config, &wanted_config)?;
            index_written.push(config);
        }
        // So that a run that returned survives a power cut whole.
        if !index_written.is_empty() {
            sync_to_disk(dir, index_written).await?;
        }
        // The listing moves on only once everything it named is in place: a failed file is
        // listed again by the next run, whatever dumps come in between.
        if let Some((listing, mut dump_report)) = dumped {
            if report.failures.is_empty() && !report.stopped_early && !listing.stale {
                dump::save_state(dir, &listing)?;
                dump_report.state_saved = true;
            }
            report.dump = Some(dump_report);
        }
        Ok(report)
    }

    /// The index files of the wanted crates, then those of the dependencies of `--crate`
    /// crates, a round per level of the graph, adding them to `wanted`.
    async fn read_indexes_and_dependencies(
        &self,
        source: &Arc<Source>,
        wanted: &mut WantedCrates,
        report: &mut Report,
    ) -> BTreeMap<String, Vec<IndexLine>> {
        let mut indexes = self.read_indexes(source, wanted, report).await;
        let mut asked: HashSet<String> = wanted.crates.keys().cloned().collect();
        while wanted.add_dependencies(&indexes, self.versions, self.skip_yanked, &self.filter) {
            let unasked = WantedCrates {
                crates: wanted
                    .crates
                    .iter()
                    .filter(|(key, _)| !asked.contains(*key))
                    .map(|(key, wanted)| (key.clone(), wanted.clone()))
                    .collect(),
            };
            asked.extend(unasked.crates.keys().cloned());
            indexes.extend(self.read_indexes(source, &unasked, report).await);
        }
        indexes
    }

    /// Index files, many at once: for a sparse upstream each is a request.
    async fn read_indexes(
        &self,
        source: &Arc<Source>,
        wanted: &WantedCrates,
        report: &mut Report,
    ) -> BTreeMap<String, Vec<IndexLine>> {
        let permits = Arc::new(Semaphore::new(self.jobs));
        let mut tasks = JoinSet::new();
        for (key, wanted) in &wanted.crates {
            let (source, permits) = (source.clone(), permits.clone());
            let (key, name) = (key.clone(), wanted.name.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = source.index(&name).await;
                (key, name, result)
            });
        }
        let mut indexes = BTreeMap::new();
        while let Some(joined) = tasks.join_next().await {
            let (key, name, result) =
                joined.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
            match result {
                Ok(Some(lines)) => {
                    indexes.insert(key, lines);
                }
                Ok(None) => report.failures.push(Failure::new(
                    Some(&name),
                    None,
                    &MirrorError::NoSuchCrate {
                        name: name.clone(),
                        upstream: source.describe(),
                    },
                )),
                Err(error) => report
                    .failures
                    .push(Failure::new(Some(&name), None, &error)),
            }
        }
        indexes
    }

    /// Puts every planned file in place; returns, per crate, the lines whose file is there.
    async fn fetch_files(
        &self,
        dir: &MirrorDir,
        source: &Arc<Source>,
        journal: &Arc<Journal>,
        indexes: &BTreeMap<String, Vec<IndexLine>>,
        planned: Vec<(String, usize)>,
        report: &mut Report,
    ) -> (BTreeMap<String, Vec<usize>>, Vec<PathBuf>) {
        let permits = Arc::new(Semaphore::new(self.jobs));
        let mut tasks = JoinSet::new();
        let mut placed: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut written = Vec::new();
        let mut pending = planned.into_iter();
        // Without `keep_going`, a crate already failed (no index file, say) stops the run too.
        let mut failed = !report.failures.is_empty();
        loop {
            // Start files while permits last, so a failure without `keep_going` stops the
            // run after the files in flight rather than after every queued one.
            while (self.keep_going || !failed) && tasks.len() < self.jobs * 2 {
                let Some((key, at)) = pending.next() else {
                    break;
                };
                let line = indexes[&key][at].clone();
                let (dir, source, journal, permits) = (
                    dir.clone(),
                    source.clone(),
                    journal.clone(),
                    permits.clone(),
                );
                tasks.spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    let outcome = place_file(&dir, &source, &journal, &line).await;
                    (key, at, line, outcome)
                });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let (key, at, line, outcome) =
                joined.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
            match outcome {
                Ok(Placed::Present(size)) => {
                    report.present += 1;
                    self.progress.file_done(&line.name, &line.vers, size, false);
                    placed.entry(key).or_default().push(at);
                }
                Ok(Placed::Fetched(size)) => {
                    report.fetched += 1;
                    report.fetched_bytes += size;
                    self.progress.file_done(&line.name, &line.vers, size, true);
                    written.push(dir.crate_file(&line.name, &line.vers));
                    placed.entry(key).or_default().push(at);
                }
                Err(error) => {
                    failed = true;
                    self.progress.file_failed(&line.name, &line.vers, &error);
                    report
                        .failures
                        .push(Failure::new(Some(&line.name), Some(&line.vers), &error));
                }
            }
        }
        report.stopped_early = pending.next().is_some();
        for ats in placed.values_mut() {
            ats.sort_unstable();
        }
        (placed, written)
    }
}

/// [`MirrorDir::sync_to_disk`] off the async threads: a sync can take seconds.
async fn sync_to_disk(dir: &MirrorDir, written: Vec<PathBuf>) -> Result<(), MirrorError> {
    let dir = dir.clone();
    tokio::task::spawn_blocking(move || dir.sync_to_disk(&written))
        .await
        .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
}

/// Creates the folder and its state, takes its lock, checks the layout, and empties the
/// temporary folder of what a killed run left.
fn prepare(dir: &MirrorDir) -> Result<std::fs::File, MirrorError> {
    let state = dir.state_dir();
    std::fs::create_dir_all(&state).map_err(MirrorError::io(&state))?;
    let lock_path = dir.lock_file();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(MirrorError::io(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(MirrorError::Busy {
                dir: dir.root().to_owned(),
            });
        }
        Err(std::fs::TryLockError::Error(error)) => return Err(MirrorError::io(&lock_path)(error)),
    }
    let record = dir.layout_record();
    match std::fs::read_to_string(&record) {
        Ok(text) if text.trim() == dir.layout().name() => {}
        Ok(text) => {
            return Err(MirrorError::Folder {
                dir: dir.root().to_owned(),
                reason: format!(
                    "this mirror has the `{}` layout; it cannot take `{}` files too",
                    text.trim(),
                    dir.layout()
                ),
            });
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&record, format!("{}\n", dir.layout()))
                .map_err(MirrorError::io(&record))?;
        }
        Err(error) => return Err(MirrorError::io(&record)(error)),
    }
    let tmp = dir.tmp_dir();
    match std::fs::remove_dir_all(&tmp) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(MirrorError::io(&tmp)(error)),
    }
    std::fs::create_dir_all(&tmp).map_err(MirrorError::io(&tmp))?;
    Ok(lock)
}

enum Placed {
    /// Already there and verified, with its size.
    Present(u64),
    /// Fetched now, with its size.
    Fetched(u64),
}

async fn place_file(
    dir: &MirrorDir,
    source: &Source,
    journal: &Journal,
    line: &IndexLine,
) -> Result<Placed, MirrorError> {
    let path = dir.crate_file(&line.name, &line.vers);
    // A `stat`, done in place: handing it to the blocking pool costs more than it does.
    let size = std::fs::metadata(&path).ok().map(|meta| meta.len());
    if let Some(size) = size {
        let journaled = journal
            .get(&line.name, &line.vers)
            .is_some_and(|verified| verified.sha256 == line.cksum && verified.size == size);
        if journaled {
            return Ok(Placed::Present(size));
        }
        // There but not journaled (a run killed between rename and journal, or a file put
        // there by hand): hashing it is cheaper than fetching it.
        let hashed = path.clone();
        let actual = tokio::task::spawn_blocking(move || {
            std::fs::read(&hashed).map(|bytes| sha256_hex(&bytes))
        })
        .await
        .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
        if actual.is_ok_and(|actual| actual == line.cksum) {
            journal.record(&line.name, &line.vers, &line.cksum, size)?;
            return Ok(Placed::Present(size));
        }
    }
    let mut attempt = 1;
    let temporary = dir.temporary(&format!("{}-{}.crate", line.name, line.vers));
    let body = loop {
        match source.fetch(line, temporary.clone()).await {
            Ok(body) => break body,
            Err(error @ MirrorError::Checksum { .. }) if attempt < CHECKSUM_ATTEMPTS => {
                tracing::debug!(%error, attempt, "checksum mismatch, fetching again");
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    };
    let size = match body {
        // A small file is written in place: it goes to the page cache in microseconds, while a
        // trip through the blocking pool (two thread wake-ups) cost a fifth of a run's CPU on
        // the registry's typical 20 KB files.
        Body::Memory(bytes) => {
            std::fs::write(&temporary, &bytes).map_err(MirrorError::io(&temporary))?;
            dir.place(&temporary, &path)?;
            bytes.len() as u64
        }
        Body::File(spilled) => {
            let (dir, path) = (dir.clone(), path.clone());
            tokio::task::spawn_blocking(move || {
                let size = std::fs::metadata(&spilled)
                    .map_err(MirrorError::io(&spilled))?
                    .len();
                dir.place(&spilled, &path)?;
                Ok::<_, MirrorError>(size)
            })
            .await
            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))?
        }
    };
    journal.record(&line.name, &line.vers, &line.cksum, size)?;
    Ok(Placed::Fetched(size))
}

/// Writes a crate's index file: the lines of the versions placed now, refreshed from upstream
/// (a yank shows), and the lines of versions mirrored earlier whose file is still there. Upstream
/// order first, then earlier-only lines in their old order. Returns whether the file changed;
/// an unchanged file is not touched, so its ETag and date stay and cargo gets 304s.
fn write_index_file(dir: &MirrorDir, fresh: &[&IndexLine]) -> Result<bool, MirrorError> {
    let name = &fresh[0].name;
    let path = dir.index_file(name);
    let old = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(MirrorError::io(&path)(error)),
    };
    let mut versions: HashSet<&str> = fresh.iter().map(|line| line.vers.as_str()).collect();
    let mut lines: Vec<&[u8]> = fresh.iter().map(|line| &line.raw[..]).collect();
    let kept: Vec<IndexLine> = old
        .as_deref()
        .unwrap_or_default()
        .split(|&byte| byte == b'\n')
        .filter_map(|raw| IndexLine::parse(raw, 0))
        .collect();
    for line in &kept {
        if versions.insert(line.vers.as_str()) && dir.crate_file(&line.name, &line.vers).is_file() {
            lines.push(&line.raw);
        }
    }
    let mut bytes = Vec::with_capacity(lines.iter().map(|line| line.len() + 1).sum());
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    if old.as_deref() == Some(&bytes[..]) {
        return Ok(false);
    }
    dir.write_atomically(&path, &bytes)?;
    Ok(true)
}

/// Where a mirror folder with `layout` keeps a version's `.crate` file.
pub fn crate_file(root: &Path, layout: Layout, name: &str, version: &str) -> PathBuf {
    MirrorDir::new(root, layout).crate_file(name, version)
}
