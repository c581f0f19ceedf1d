//! `cargo xtask bench extract`: unpacking archives, fetchkit against Info-ZIP `unzip` and GNU
//! `tar xzf` on the same archives in one run, and fetchkit's streaming extraction of a tar.gz
//! from a loopback nginx against its two halves. Two archives, generated here once from a fixed
//! seed and kept under the target folder:
//!
//! - **small.zip**: 10,000 small files shaped like a source tree (about 200 folders, 200 B to
//!   16 KiB with a median near 3 KB, mostly text, one in ten incompressible and stored), deflated;
//! - **large.tar.gz**: about 500 MB of gzip (level 6), 1.2 to 1.6 GB unpacked: tens of thousands
//!   of text files (compressing about 3.9x) and two dozen incompressible 8 MiB binaries spread
//!   through them.
//!
//! Both hold one top folder `pkg/` with the manifest `pkg/Orbit.toml`, as packages do.
//!
//! Seven runs a round, each into a fresh folder that does not exist yet (created empty for
//! `tar`, which wants one), beside the archives on the same file system:
//!
//! - **fetchkit .zip** (`fetchkit extract small.zip --dest OUT`) and **unzip**
//!   (`unzip -q small.zip -d OUT`);
//! - **fetchkit .tar.gz** (`fetchkit extract large.tar.gz --dest OUT`) and **tar xzf**
//!   (`tar xzf large.tar.gz -C OUT`);
//! - **download** (`fetchkit download URL -o FILE`): the transfer half of streaming;
//! - **streaming** (`fetchkit extract URL --dest OUT`): download and extraction at once, the
//!   archive never stored;
//! - **fetch** (`fetchkit fetch URL --dest OUT`), for information: streaming plus finding the
//!   manifest and computing the package's content checksum, which it prints; the checksum must
//!   be the same in every round.
//!
//! Targets (the issue's): fetchkit no slower than `unzip` on the zip and than `tar xzf` on the
//! tar.gz; streaming within 1.15x of the slower of download-only and extract-only, which is what
//! overlapping the two should give. They are checked on paired ratios, as in `bench lister`:
//! each round's own ratio, then the median over the rounds; the ratio of the columns' medians is
//! printed beside it.
//!
//! Before every run `sync` writes back the previous run's output (so no run pays for another's
//! writeback), the clean page cache is dropped (see [`Bench::settle`]: on ext4 without a
//! journal, deleting 70,000 files slows the next minute's file creations sevenfold), and the
//! archive and the programs are read back in (so every tool starts from the page cache); after
//! it the output is checked and deleted, to keep the disk use to one unpacked tree. None of
//! that is timed. The check is cheap but catches a broken extraction that would look fast:
//! the sorted list of every file's path and size under the package root (the folder holding
//! `Orbit.toml`, since `fetch` moves the package itself into place) must hash to the list
//! recorded when the archive was written. Rounds run the seven forward, then backward.
//!
//! While the built CLI lacks `extract` or `fetch`, their columns are reported as not measured
//! and the peers still run.

use std::{
    collections::{BTreeSet, HashMap},
    fs,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, bail, format_err};
use flate2::{Compression, write::GzEncoder};
use sha2::{Digest, Sha256};
use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

use super::{
    MIB, NGINX, Nginx, TAR, UNZIP, lacks_command, pass, remove_path, verdict, warm_page_cache,
};
use crate::{flags, util};

/// `unzip / fetchkit` and `tar xzf / fetchkit` must be at least this: fetchkit no slower.
const TARGET_VS_PEER: f64 = 1.0;
/// `streaming / max(download, extract)` must be at most this.
const TARGET_STREAMING: f64 = 1.15;

/// The generators' seed: the same seed, the same archives.
const SEED: u64 = 0xe7_7ac7;
/// Part of the data folders' names: bump it whenever the generators change, so that a bench
/// does not reuse archives a previous generator wrote (hashing this file instead would also
/// regenerate 500 MB for every edited comment).
const GENERATOR: &str = "g1";

/// The manifest every package holds at its root, as fetchkit's `fetch` looks for by default.
const MANIFEST: &str = "Orbit.toml";
const MANIFEST_TEXT: &str = "[ip]\nname = \"bench\"\nversion = \"0.1.0\"\n";
/// A fixed modification time for every entry (2023-11-14), so the archives are the same bytes.
const MTIME: u64 = 1_700_000_000;

/// Each binary in the tar.gz: 8 MiB of pseudo-random bytes, which gzip cannot shrink.
const BINARY_BYTES: u64 = 8 * MIB;
/// The part of the tar.gz's compressed size that binaries take (the rest is text): with text
/// compressing about 3.9x this lands 500 MB of gzip at about 1.4 GB unpacked.
const BINARY_SHARE: f64 = 0.4;

const COLUMNS: [&str; 7] = [
    "fetchkit .zip",
    "unzip",
    "fetchkit .tar.gz",
    "tar xzf",
    "download",
    "streaming",
    "fetch",
];
const ZIP_FETCHKIT: usize = 0;
const UNZIP_COL: usize = 1;
const TAR_FETCHKIT: usize = 2;
const TAR_COL: usize = 3;
const DOWNLOAD: usize = 4;
const STREAMING: usize = 5;
const FETCH: usize = 6;
/// Folder and file names of each run's output, in [`COLUMNS`] order.
const SLUGS: [&str; 7] = [
    "fetchkit-zip",
    "unzip",
    "fetchkit-tar",
    "tar",
    "download.tar.gz",
    "streaming",
    "fetch",
];

/// One round's wall times, in [`COLUMNS`] order; `None` where the column was not measured.
type Row = [Option<Duration>; COLUMNS.len()];

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let values = flags::numbers(
        args,
        "bench extract",
        &[("rounds", 3), ("zip-files", 10_000), ("tar-mb", 500)],
    )?;
    let (rounds, zip_files, tar_mb) = (values[0], values[1], values[2]);
    if rounds == 0 || zip_files < 2 || tar_mb == 0 {
        bail!("bench extract: --rounds and --tar-mb must be at least 1, --zip-files at least 2");
    }

    let tools = super::ensure_tools(&[NGINX, UNZIP, TAR])?;
    let [nginx, unzip, tar]: [PathBuf; 3] = tools
        .try_into()
        .map_err(|_| format_err!("bench extract: expected three tool paths"))?;
    let unzip_version = first_line(&util::read(Command::new(&unzip).arg("-v"))?);
    let tar_version = first_line(&util::read(Command::new(&tar).arg("--version"))?);

    let target = util::target_dir()?;
    let fetchkit = super::build_cli_release(&target)?;
    let mut missing: [Option<String>; COLUMNS.len()] = Default::default();
    for (command, columns) in [
        ("extract", &[ZIP_FETCHKIT, TAR_FETCHKIT, STREAMING][..]),
        ("fetch", &[FETCH][..]),
    ] {
        if let Some(reason) = lacks_command(&fetchkit, command)? {
            println!("{reason}: its columns are not measured");
            for &column in columns {
                missing[column] = Some(reason.clone());
            }
        }
    }

    let dir = target.join("bench").join("extract");
    fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let zip = Archive::ensure(&dir, "small.zip", Kind::Zip, zip_files)?;
    let tgz = Archive::ensure(&dir, "large.tar.gz", Kind::TarGz, tar_mb)?;
    println!("{}: {}", zip.path.display(), zip.describe());
    println!("{}: {}", tgz.path.display(), tgz.describe());
    println!("peers: {unzip_version}; {tar_version}");

    let served = tgz
        .path
        .parent()
        .ok_or_else(|| format_err!("{}: no parent folder", tgz.path.display()))?;
    let drop_caches = fs::OpenOptions::new().write(true).open(DROP_CACHES).is_ok();
    if !drop_caches {
        println!(
            "{DROP_CACHES} is not writable (not root?): runs right after a deletion may pay \
             ext4's scan of recently deleted inodes"
        );
    }
    let mut programs = vec![fetchkit.clone(), unzip.clone(), tar.clone()];
    programs.extend(util::find_program("gzip", &[]));
    let server = Nginx::start(&nginx, &dir, served)?;
    let bench = Bench {
        dir: dir.clone(),
        fetchkit,
        unzip,
        tar,
        url: server.url("large.tar.gz"),
        zip,
        tgz,
        programs,
        drop_caches,
    };
    // Outputs a run that was stopped half-way left behind.
    for slug in SLUGS {
        remove_path(&dir.join(slug))?;
    }

    let mut samples: Vec<Row> = Vec::new();
    let mut checksums: Vec<String> = Vec::new();
    for round in 1..=rounds {
        println!("round {round}/{rounds}");
        // Forward in odd rounds, backward in even ones: no tool always runs right after the
        // same other one (whose writeback, cache pressure or freed memory it would inherit).
        let mut order: Vec<usize> = (0..COLUMNS.len()).collect();
        if round % 2 == 0 {
            order.reverse();
        }
        let mut row: Row = Default::default();
        for column in order {
            if missing[column].is_some() {
                continue;
            }
            let (wall, checksum) = bench.measure(column)?;
            row[column] = Some(wall);
            checksums.extend(checksum);
        }
        samples.push(row);
    }
    drop(server);

    let report = Report::new(samples, missing);
    let data = format!("{}; {}", bench.zip.describe(), bench.tgz.describe());
    println!();
    println!("archives: {data}");
    println!("peers: {unzip_version}; {tar_version}");
    if let Some(checksum) = checksums.first() {
        println!("fetch content checksum: {checksum}");
    }
    println!("{}", report.table());
    println!();
    println!("{}", report.ratio_table());
    println!();
    println!("{}", report.verdicts());
    println!("row for docs/benchmarks.md (header too if the table is new):");
    println!();
    println!(
        "{}",
        report.markdown(&super::today()?, &super::machine()?, &data)
    );
    if checksums.iter().any(|checksum| *checksum != checksums[0]) {
        bail!(
            "`fetchkit fetch` printed different content checksums in different rounds: {}",
            checksums.join(", ")
        );
    }
    Ok(())
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// What the runs need: the tools, the archives and where the tar.gz is served.
#[derive(Debug)]
struct Bench {
    dir: PathBuf,
    fetchkit: PathBuf,
    unzip: PathBuf,
    tar: PathBuf,
    url: String,
    zip: Archive,
    tgz: Archive,
    /// Every program a run starts (gzip is `tar xzf`'s), read in before each run.
    programs: Vec<PathBuf>,
    /// Whether `settle` may drop the page cache.
    drop_caches: bool,
}

impl Bench {
    /// One timed run of `column` into a fresh output; checks and deletes the output. Returns
    /// the wall time and, for `fetch`, the checksum it printed.
    fn measure(&self, column: usize) -> anyhow::Result<(Duration, Option<String>)> {
        let out = self.dir.join(SLUGS[column]);
        remove_path(&out)?;
        if column == TAR_COL {
            fs::create_dir(&out).with_context(|| format!("{}: cannot create", out.display()))?;
        }
        let archive = match column {
            ZIP_FETCHKIT | UNZIP_COL => &self.zip,
            _ => &self.tgz,
        };
        self.settle()?;
        // Local runs read the archive, URL runs have nginx read it: from memory for all. The
        // programs too, since `settle` dropped them from the page cache.
        warm_page_cache(&archive.path)?;
        for program in &self.programs {
            warm_page_cache(program)?;
        }

        let mut cmd = match column {
            ZIP_FETCHKIT | TAR_FETCHKIT => {
                let mut cmd = Command::new(&self.fetchkit);
                cmd.arg("extract")
                    .arg(&archive.path)
                    .arg("--dest")
                    .arg(&out);
                cmd
            }
            UNZIP_COL => {
                let mut cmd = Command::new(&self.unzip);
                cmd.arg("-q").arg(&archive.path).arg("-d").arg(&out);
                cmd
            }
            TAR_COL => {
                let mut cmd = Command::new(&self.tar);
                cmd.arg("xzf").arg(&archive.path).arg("-C").arg(&out);
                cmd
            }
            DOWNLOAD => {
                let mut cmd = Command::new(&self.fetchkit);
                cmd.args(["download", &self.url, "-o"])
                    .arg(&out)
                    .arg("--quiet");
                cmd
            }
            STREAMING => {
                let mut cmd = Command::new(&self.fetchkit);
                cmd.args(["extract", &self.url, "--dest"]).arg(&out);
                cmd
            }
            _ => {
                let mut cmd = Command::new(&self.fetchkit);
                cmd.args(["fetch", &self.url, "--dest"]).arg(&out);
                cmd
            }
        };
        let (wall, checksum) = if column == FETCH {
            let (wall, stdout) = super::time(|| util::read(&mut cmd))?;
            print!("{stdout}");
            let checksum = stdout
                .lines()
                .rev()
                .map(str::trim)
                .find(|line| !line.is_empty())
                .ok_or_else(|| format_err!("`fetchkit fetch` printed no checksum on stdout"))?
                .to_owned();
            (wall, Some(checksum))
        } else {
            let (wall, ()) = super::time(|| util::run(&mut cmd))?;
            (wall, None)
        };
        println!("{}: {:.3} s", COLUMNS[column], wall.as_secs_f64());

        if column == DOWNLOAD {
            let len = fs::metadata(&out)
                .with_context(|| format!("{}: not written", out.display()))?
                .len();
            if len != archive.summary.archive_bytes {
                bail!(
                    "{}: {len} bytes, expected {}",
                    out.display(),
                    archive.summary.archive_bytes
                );
            }
        } else {
            archive
                .summary
                .check(&out)
                .with_context(|| format!("{} wrote a wrong tree", COLUMNS[column]))?;
        }
        remove_path(&out)?;
        Ok((wall, checksum))
    }

    /// Readies the machine for a timed run: `sync` writes back every dirty page, so that no
    /// run pays for the writeback of the previous one's output (1.3 GB unpacked would shift
    /// the next run by seconds); then the clean page cache is dropped, when we may (root).
    ///
    /// The drop is for ext4 without a journal (this VM's root): creating an inode there scans
    /// the inode table for inodes deleted in the last 60 s (300 s while the table is dirty),
    /// and skips them, unless the table's blocks have left the cache. Right after deleting the
    /// previous run's 70,000 files, `unzip` of the small zip took 8 s instead of 1 s, nearly
    /// all in `recently_deleted`, and whichever tool ran next paid for it.
    fn settle(&self) -> anyhow::Result<()> {
        util::run(&mut Command::new("sync"))?;
        if self.drop_caches {
            fs::write(DROP_CACHES, "1\n")
                .with_context(|| format!("{DROP_CACHES}: cannot write"))?;
        }
        Ok(())
    }
}

/// Writing `1` drops the clean page cache (files' and the block device's).
const DROP_CACHES: &str = "/proc/sys/vm/drop_caches";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    TarGz,
}

/// A generated archive and what it unpacks to.
#[derive(Debug)]
struct Archive {
    path: PathBuf,
    summary: Summary,
}

impl Archive {
    /// The archive `name` in its own data folder, generated unless a complete one is there.
    /// `size` is the zip's file count or the tar.gz's compressed MB. The folder's name carries
    /// both and the generator, so other parameters get other data; the archive is written in a
    /// `.partial` folder renamed when done, and the summary is written last, so a folder with
    /// one is complete.
    fn ensure(dir: &Path, name: &str, kind: Kind, size: u64) -> anyhow::Result<Archive> {
        let label = match kind {
            Kind::Zip => format!("zip-{size}files"),
            Kind::TarGz => format!("targz-{size}mb"),
        };
        let data = dir.join(format!("data-{label}-seed{SEED:x}-{GENERATOR}"));
        let path = data.join(name);
        let summary_path = data.join("summary.txt");
        if summary_path.is_file() && path.is_file() {
            println!("reusing {}", path.display());
            let text = fs::read_to_string(&summary_path)
                .with_context(|| format!("{}: cannot read", summary_path.display()))?;
            let summary = Summary::parse(&text)
                .with_context(|| format!("{}: not a summary", summary_path.display()))?;
            return Ok(Archive { path, summary });
        }
        let partial = dir.join(format!("data-{label}-seed{SEED:x}-{GENERATOR}.partial"));
        remove_path(&partial)?;
        remove_path(&data)?;
        fs::create_dir_all(&partial)
            .with_context(|| format!("{}: cannot create", partial.display()))?;
        let file = partial.join(name);
        println!("generating {} (once; kept for later runs)", path.display());
        let (written, summary) = super::time(|| match kind {
            Kind::Zip => write_zip(&file, size),
            Kind::TarGz => write_tar_gz(&file, size * 1_000_000),
        })?;
        println!(
            "generated in {:.1} s: {}",
            written.as_secs_f64(),
            summary.describe()
        );
        fs::write(partial.join("summary.txt"), summary.to_text())
            .with_context(|| format!("{}: cannot write the summary", partial.display()))?;
        fs::rename(&partial, &data).with_context(|| {
            format!("{}: cannot rename to {}", partial.display(), data.display())
        })?;
        Ok(Archive { path, summary })
    }

    fn describe(&self) -> String {
        let name = self
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        format!("{name}: {}", self.summary.describe())
    }
}

/// What an archive unpacks to: counts, sizes, and the digest of its file listing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    files: u64,
    bytes: u64,
    archive_bytes: u64,
    /// SHA-256 of the sorted `PATH\tSIZE\n` lines of every file under the package root.
    listing: String,
}

impl Summary {
    fn from_files(files: &[(String, u64)], archive_bytes: u64) -> Summary {
        Summary {
            files: files.len() as u64,
            bytes: files.iter().map(|(_, size)| size).sum(),
            archive_bytes,
            listing: listing_digest(files),
        }
    }

    fn to_text(&self) -> String {
        format!(
            "files={} bytes={} archive_bytes={} listing={}\n",
            self.files, self.bytes, self.archive_bytes, self.listing
        )
    }

    fn parse(text: &str) -> anyhow::Result<Summary> {
        let words: HashMap<&str, &str> = text
            .split_whitespace()
            .filter_map(|word| word.split_once('='))
            .collect();
        let word = |key: &str| {
            words
                .get(key)
                .copied()
                .ok_or_else(|| format_err!("no `{key}` in `{}`", text.trim()))
        };
        let number = |key: &str| -> anyhow::Result<u64> {
            word(key)?
                .parse()
                .with_context(|| format!("`{key}` is not a whole number in `{}`", text.trim()))
        };
        Ok(Summary {
            files: number("files")?,
            bytes: number("bytes")?,
            archive_bytes: number("archive_bytes")?,
            listing: word("listing")?.to_owned(),
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} files, {:.1} MB unpacked, {:.1} MB archive",
            self.files,
            self.bytes as f64 / 1e6,
            self.archive_bytes as f64 / 1e6
        )
    }

    /// Fails unless the tree under `out` holds exactly these files with these sizes. The
    /// package root is `out` itself or its `pkg/`, whichever holds the manifest: `extract`,
    /// `unzip` and `tar` keep the archive's top folder, `fetch` moves the package into place.
    fn check(&self, out: &Path) -> anyhow::Result<()> {
        let root = [out.to_path_buf(), out.join("pkg")]
            .into_iter()
            .find(|root| root.join(MANIFEST).is_file())
            .ok_or_else(|| {
                format_err!(
                    "{}: no {MANIFEST} in it or in its pkg/ folder",
                    out.display()
                )
            })?;
        let mut files = Vec::new();
        walk(&root, "", &mut files)?;
        let found = Summary::from_files(&files, self.archive_bytes);
        if found != *self {
            bail!(
                "{}: {} files, {} bytes, listing {}; expected {} files, {} bytes, listing {}",
                root.display(),
                found.files,
                found.bytes,
                found.listing,
                self.files,
                self.bytes,
                self.listing
            );
        }
        Ok(())
    }
}

/// Every regular file under `dir`, as (`/`-separated path relative to the root, size).
/// Symbolic links and other kinds fail: the archives hold none.
fn walk(dir: &Path, prefix: &str, files: &mut Vec<(String, u64)>) -> anyhow::Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot list", dir.display()))?;
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| format_err!("{}: a name that is not UTF-8", dir.display()))?;
        let path = format!("{prefix}{name}");
        let kind = entry
            .file_type()
            .with_context(|| format!("{}: cannot stat", entry.path().display()))?;
        if kind.is_dir() {
            walk(&entry.path(), &format!("{path}/"), files)?;
        } else if kind.is_file() {
            let len = entry
                .metadata()
                .with_context(|| format!("{}: cannot stat", entry.path().display()))?
                .len();
            files.push((path, len));
        } else {
            bail!("{}: neither a file nor a folder", entry.path().display());
        }
    }
    Ok(())
}

/// SHA-256 of the sorted `PATH\tSIZE\n` lines, hex.
fn listing_digest(files: &[(String, u64)]) -> String {
    let mut lines: Vec<String> = files
        .iter()
        .map(|(path, size)| format!("{path}\t{size}\n"))
        .collect();
    lines.sort();
    let mut digest = Sha256::new();
    for line in lines {
        digest.update(line.as_bytes());
    }
    hex::encode(digest.finalize())
}

/// Seeded source-tree-like content: folder and file names, sizes, and text.
#[derive(Debug)]
struct Tree {
    rng: fastrand::Rng,
    /// The words text and names are made of; the first few are the most used.
    vocabulary: Vec<String>,
    /// Folders made so far, so that each is named once (its entry comes before its files).
    folders: BTreeSet<String>,
    /// Reused buffer for a file's contents.
    buffer: Vec<u8>,
}

/// Words of code that every source tree repeats, split at spaces; generated ones follow them.
const KEYWORDS: &str = "\
    fn let mut pub self return if else match use struct impl for in while = == { } ( ) -> => \
    :: & Some None Ok Err Result Option String Vec u64 usize bool true false const static \
    enum trait where type mod crate super async await // /// #[derive(Debug)] 0 1 value name \
    path data len";
/// Top folders of the tree, as in a package.
const AREAS: &[&str] = &["src", "tests", "docs", "examples", "benches", "vendor"];
/// Text file extensions, and the incompressible ones.
const TEXT_EXTENSIONS: &[&str] = &["rs", "rs", "rs", "md", "toml", "txt", "json"];
const BINARY_EXTENSIONS: &[&str] = &["png", "bin", "woff2", "gz"];

impl Tree {
    /// `salt` separates the archives' streams: the zip does not start like the tar.gz.
    fn new(salt: u64) -> Tree {
        let mut rng = fastrand::Rng::with_seed(SEED ^ salt);
        let mut vocabulary: Vec<String> = KEYWORDS.split_whitespace().map(str::to_owned).collect();
        const SYLLABLES: &[&str] = &[
            "ba", "ce", "di", "fo", "gu", "ka", "le", "mi", "no", "pu", "ra", "se", "ti", "vo",
            "za", "an", "er", "in", "on", "ul", "st", "tr", "ch", "sh", "qu",
        ];
        while vocabulary.len() < 600 {
            let mut word = String::new();
            for _ in 0..rng.usize(1..=4) {
                word += SYLLABLES[rng.usize(..SYLLABLES.len())];
            }
            if rng.u8(..4) == 0 {
                word += "_";
                word += SYLLABLES[rng.usize(..SYLLABLES.len())];
            }
            vocabulary.push(word);
        }
        Tree {
            rng,
            vocabulary,
            folders: BTreeSet::new(),
            buffer: Vec::new(),
        }
    }

    /// A word, the first ones far more often (roughly Zipf), as in real text and code.
    fn word(&mut self) -> &str {
        let index = self.word_index();
        &self.vocabulary[index]
    }

    fn word_index(&mut self) -> usize {
        let u = self.rng.f64();
        ((u * u * u * self.vocabulary.len() as f64) as usize).min(self.vocabulary.len() - 1)
    }

    /// A size drawn log-normally: `median` in the middle, `sigma` its spread in e-folds,
    /// clamped to `[min, max]`. Sums twelve uniforms for a standard normal draw.
    fn size(&mut self, median: f64, sigma: f64, min: u64, max: u64) -> u64 {
        let normal: f64 = (0..12).map(|_| self.rng.f64()).sum::<f64>() - 6.0;
        ((median * (sigma * normal).exp()) as u64).clamp(min, max)
    }

    /// The path of leaf folder `index` under `pkg/`: `AREA/GROUP/LEAF`, five leaves a group.
    fn folder(&mut self, index: u64) -> String {
        let group = index / 5;
        let area = AREAS[(group % AREAS.len() as u64) as usize];
        // The group's name comes from its number alone, so all five leaves agree on it.
        let keywords = KEYWORDS.split_whitespace().count();
        let group_word = self.vocabulary[keywords + (group as usize * 7919) % 500].clone();
        let leaf = self
            .word()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "");
        format!("pkg/{area}/{group_word}{group}/{leaf}{index}")
    }

    /// The folders `path` needs that were not made yet, outermost first.
    fn new_folders(&mut self, path: &str) -> Vec<String> {
        let mut made = Vec::new();
        for (end, _) in path.match_indices('/') {
            let folder = &path[..=end];
            if self.folders.insert(folder.to_owned()) {
                made.push(folder.to_owned());
            }
        }
        made
    }

    /// A file name in a folder, unique there by its number.
    fn file_name(&mut self, number: u64, binary: bool) -> String {
        let extension = if binary {
            BINARY_EXTENSIONS[self.rng.usize(..BINARY_EXTENSIONS.len())]
        } else {
            TEXT_EXTENSIONS[self.rng.usize(..TEXT_EXTENSIONS.len())]
        };
        let word = self
            .word()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "");
        format!("{word}_{number}.{extension}")
    }

    /// `size` bytes of code-like text in the buffer: indented lines of words and punctuation,
    /// one line in eight a copy of an earlier one (code repeats itself, and gzip finds it).
    /// Words come whole from the vocabulary, so generating a gigabyte stays quick in a debug
    /// build.
    fn text(&mut self, size: u64) -> &[u8] {
        const INDENT: &[u8] = b"                    ";
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        let mut depth = 0usize;
        // Where the recent lines start, for the copies.
        let mut lines: Vec<usize> = Vec::new();
        while (buffer.len() as u64) < size {
            let start = buffer.len();
            match self.rng.u8(..16) {
                0 | 1 => depth = (depth + 1).min(5),
                2 | 3 => depth = depth.saturating_sub(1),
                4 | 5 => {
                    buffer.push(b'\n');
                    continue;
                }
                6 | 7 if lines.len() > 1 => {
                    let from = lines[self
                        .rng
                        .usize(lines.len().saturating_sub(16)..lines.len() - 1)];
                    let end = lines[lines.len() - 1];
                    let line_end = buffer[from..end]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(end, |at| from + at + 1);
                    buffer.extend_from_within(from..line_end);
                    lines.push(start);
                    continue;
                }
                _ => {}
            }
            lines.push(start);
            buffer.extend_from_slice(&INDENT[..depth * 4]);
            for index in 0..self.rng.usize(2..10) {
                if index > 0 {
                    buffer.push(b' ');
                }
                let word = self.word_index();
                buffer.extend_from_slice(self.vocabulary[word].as_bytes());
            }
            buffer.extend_from_slice(match self.rng.u8(..4) {
                0 => b" {\n",
                1 => b",\n",
                _ => b";\n",
            });
        }
        buffer.truncate(size as usize);
        self.buffer = buffer;
        &self.buffer
    }

    /// `size` pseudo-random bytes in the buffer.
    fn binary(&mut self, size: u64) -> &[u8] {
        self.buffer.resize(size as usize, 0);
        self.rng.fill(&mut self.buffer);
        &self.buffer
    }
}

/// Writes the zip: `files` files in about 200 folders (one per fifty files), the manifest
/// first. Text is deflated at level 6; the incompressible tenth is stored, as `zip` falls back
/// to storing what deflate cannot shrink.
fn write_zip(path: &Path, files: u64) -> anyhow::Result<Summary> {
    let file =
        fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let mut zip = ZipWriter::new(BufWriter::new(file));
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .unix_permissions(0o644);
    // A level with `Stored` is an error in the zip crate.
    let stored = deflated
        .compression_method(CompressionMethod::Stored)
        .compression_level(None);
    let folder_options = SimpleFileOptions::default().unix_permissions(0o755);
    let mut tree = Tree::new(0x21b);
    let mut listing: Vec<(String, u64)> = Vec::new();
    let zip_err = |err: zip::result::ZipError| format_err!("{}: {err}", path.display());

    zip.add_directory("pkg/", folder_options).map_err(zip_err)?;
    tree.folders.insert("pkg/".to_owned());
    zip.start_file(format!("pkg/{MANIFEST}"), deflated)
        .map_err(zip_err)?;
    zip.write_all(MANIFEST_TEXT.as_bytes())?;
    listing.push((MANIFEST.to_owned(), MANIFEST_TEXT.len() as u64));

    let folders = (files / 50).max(1);
    // Uneven folders, as in real trees: each gets a weighted share of the files.
    let weights: Vec<f64> = (0..folders)
        .map(|_| 0.1 + tree.rng.f64() * tree.rng.f64() * 2.0)
        .collect();
    let total: f64 = weights.iter().sum();
    let mut left = files - 1;
    for (index, weight) in weights.iter().enumerate() {
        let index = index as u64;
        let count = if index + 1 == folders {
            left
        } else {
            ((((files - 1) as f64) * weight / total) as u64).min(left)
        };
        left -= count;
        let folder = tree.folder(index);
        for made in tree.new_folders(&format!("{folder}/")) {
            zip.add_directory(made, folder_options).map_err(zip_err)?;
        }
        for number in 0..count {
            let binary = tree.rng.u8(..10) == 0;
            let name = format!("{folder}/{}", tree.file_name(number, binary));
            let size = tree.size(3000.0, 0.9, 200, 16 * 1024);
            let (options, bytes) = if binary {
                (stored, tree.binary(size))
            } else {
                (deflated, tree.text(size))
            };
            zip.start_file(name.as_str(), options).map_err(zip_err)?;
            zip.write_all(bytes)
                .with_context(|| format!("{}: write failed", path.display()))?;
            let relative = name.strip_prefix("pkg/").unwrap_or(&name).to_owned();
            listing.push((relative, size));
        }
    }
    let mut writer = zip.finish().map_err(zip_err)?;
    writer
        .flush()
        .with_context(|| format!("{}: write failed", path.display()))?;
    let file = writer
        .into_inner()
        .map_err(|err| format_err!("{}: write failed: {}", path.display(), err.error()))?;
    file.sync_all()
        .with_context(|| format!("{}: fsync failed", path.display()))?;
    let archive_bytes = file
        .metadata()
        .with_context(|| format!("{}: cannot stat", path.display()))?
        .len();
    Ok(Summary::from_files(&listing, archive_bytes))
}

/// Counts the bytes written through it: how far the gzip output has got.
#[derive(Debug)]
struct Counting<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.count += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the tar.gz until its gzip output reaches `target` bytes: text files in folders of
/// 5 to 60, sizes log-normal around 8 KiB (200 B to 512 KiB), and 8 MiB binaries spread
/// evenly through them in `pkg/assets/`. Sizing by the compressed output rather than by a
/// file count keeps the archive near `target` whatever the text's ratio turns out to be.
fn write_tar_gz(path: &Path, target: u64) -> anyhow::Result<Summary> {
    let file =
        fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let counting = Counting {
        inner: BufWriter::with_capacity(MIB as usize, file),
        count: 0,
    };
    let mut tar = tar::Builder::new(GzEncoder::new(counting, Compression::new(6)));
    let mut tree = Tree::new(0x7a5);
    let mut listing: Vec<(String, u64)> = Vec::new();
    let write_err = || format!("{}: write failed", path.display());

    let binaries = ((target as f64 * BINARY_SHARE / BINARY_BYTES as f64).round() as u64).max(1);
    let text_target = target.saturating_sub(binaries * BINARY_BYTES);
    let compressed = |tar: &tar::Builder<GzEncoder<Counting<BufWriter<fs::File>>>>| {
        tar.get_ref().get_ref().count
    };

    for folder in tree.new_folders("pkg/") {
        append(&mut tar, &folder, None).with_context(write_err)?;
    }
    append(
        &mut tar,
        &format!("pkg/{MANIFEST}"),
        Some(MANIFEST_TEXT.as_bytes()),
    )
    .with_context(write_err)?;
    listing.push((MANIFEST.to_owned(), MANIFEST_TEXT.len() as u64));

    let mut binaries_written = 0u64;
    let mut folder_index = 0u64;
    loop {
        let text_done = compressed(&tar).saturating_sub(binaries_written * BINARY_BYTES);
        if text_done >= text_target {
            break;
        }
        // Binary k goes in once the text is (k + 1/2)/n of the way: spread evenly, none last.
        if binaries_written < binaries
            && text_done as f64
                >= (binaries_written as f64 + 0.5) / binaries as f64 * text_target as f64
        {
            add_binary(&mut tree, &mut tar, &mut listing, binaries_written)
                .with_context(write_err)?;
            binaries_written += 1;
            continue;
        }
        let folder = tree.folder(folder_index);
        folder_index += 1;
        for made in tree.new_folders(&format!("{folder}/")) {
            append(&mut tar, &made, None).with_context(write_err)?;
        }
        for number in 0..tree.rng.u64(5..=60) {
            let name = format!("{folder}/{}", tree.file_name(number, false));
            let size = tree.size(8192.0, 1.2, 200, 512 * 1024);
            let text = tree.text(size).to_vec();
            append(&mut tar, &name, Some(&text)).with_context(write_err)?;
            let relative = name.strip_prefix("pkg/").unwrap_or(&name).to_owned();
            listing.push((relative, size));
        }
    }
    while binaries_written < binaries {
        add_binary(&mut tree, &mut tar, &mut listing, binaries_written).with_context(write_err)?;
        binaries_written += 1;
    }

    let counting = tar
        .into_inner()
        .and_then(GzEncoder::finish)
        .with_context(write_err)?;
    let file = counting
        .inner
        .into_inner()
        .map_err(|err| format_err!("{}: write failed: {}", path.display(), err.error()))?;
    file.sync_all()
        .with_context(|| format!("{}: fsync failed", path.display()))?;
    Ok(Summary::from_files(&listing, counting.count))
}

/// Appends binary `number` under `pkg/assets/`.
fn add_binary<W: Write>(
    tree: &mut Tree,
    tar: &mut tar::Builder<W>,
    listing: &mut Vec<(String, u64)>,
    number: u64,
) -> io::Result<()> {
    for made in tree.new_folders("pkg/assets/") {
        append(tar, &made, None)?;
    }
    let name = format!("pkg/assets/{}", tree.file_name(number, true));
    let bytes = tree.binary(BINARY_BYTES).to_vec();
    append(tar, &name, Some(&bytes))?;
    listing.push((name["pkg/".len()..].to_owned(), BINARY_BYTES));
    Ok(())
}

/// Appends a folder (`contents` none) or a regular file, with fixed owner, mode and time.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    contents: Option<&[u8]>,
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(MTIME);
    header.set_uid(0);
    header.set_gid(0);
    match contents {
        None => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            header.set_cksum();
            tar.append_data(&mut header, name, io::empty())
        }
        Some(bytes) => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(bytes.len() as u64);
            header.set_cksum();
            tar.append_data(&mut header, name, bytes)
        }
    }
}

/// A paired ratio: the median of each round's own ratio, which the target is checked on, and
/// the same ratio of the columns' medians.
#[derive(Debug, Clone, Copy)]
struct Ratio {
    paired: f64,
    of_medians: f64,
}

/// The ratios reported, each computed from one round's times (or from the medians).
#[derive(Debug, Clone, Copy)]
enum Which {
    /// `unzip / fetchkit .zip`, target >= 1.
    Unzip,
    /// `tar xzf / fetchkit .tar.gz`, target >= 1.
    Tar,
    /// `streaming / max(download, fetchkit .tar.gz)`, target <= 1.15.
    Streaming,
    /// `fetch / streaming`, for information: what the manifest search and checksum add.
    Fetch,
}

const RATIOS: [Which; 4] = [Which::Unzip, Which::Tar, Which::Streaming, Which::Fetch];

impl Which {
    fn label(self) -> &'static str {
        match self {
            Which::Unzip => "unzip / fetchkit",
            Which::Tar => "tar xzf / fetchkit",
            Which::Streaming => "streaming / max(download, extract)",
            Which::Fetch => "fetch / streaming",
        }
    }

    /// The ratio of one round's (or the medians') times, if its columns were measured.
    fn of(self, times: &Row) -> Option<f64> {
        let secs = |column: usize| times[column].map(|d| d.as_secs_f64());
        match self {
            Which::Unzip => Some(secs(UNZIP_COL)? / secs(ZIP_FETCHKIT)?),
            Which::Tar => Some(secs(TAR_COL)? / secs(TAR_FETCHKIT)?),
            Which::Streaming => Some(secs(STREAMING)? / secs(DOWNLOAD)?.max(secs(TAR_FETCHKIT)?)),
            Which::Fetch => Some(secs(FETCH)? / secs(STREAMING)?),
        }
    }

    /// Whether `ratio` meets the target; `None` for the informational ratio.
    fn meets(self, ratio: f64) -> Option<bool> {
        match self {
            Which::Unzip | Which::Tar => Some(ratio >= TARGET_VS_PEER),
            Which::Streaming => Some(ratio <= TARGET_STREAMING),
            Which::Fetch => None,
        }
    }

    fn target(self) -> Option<String> {
        match self {
            Which::Unzip | Which::Tar => Some(format!(">= {TARGET_VS_PEER:.2}")),
            Which::Streaming => Some(format!("<= {TARGET_STREAMING:.2}")),
            Which::Fetch => None,
        }
    }

    /// `ratio` with two decimals, or three where two would show the target itself: a
    /// streaming ratio of 1.153 misses 1.15, and `1.15 FAIL` would look like a bug.
    fn show(self, ratio: f64) -> String {
        let limit = match self {
            Which::Unzip | Which::Tar => TARGET_VS_PEER,
            Which::Streaming => TARGET_STREAMING,
            Which::Fetch => return format!("{ratio:.2}"),
        };
        if format!("{ratio:.2}") == format!("{limit:.2}") {
            format!("{ratio:.3}")
        } else {
            format!("{ratio:.2}")
        }
    }
}

/// Every round's times per column (in [`COLUMNS`] order), why a column has none, and what
/// follows from them.
#[derive(Debug)]
struct Report {
    samples: Vec<Row>,
    missing: [Option<String>; COLUMNS.len()],
    medians: Row,
}

impl Report {
    fn new(samples: Vec<Row>, missing: [Option<String>; COLUMNS.len()]) -> Report {
        let medians = std::array::from_fn(|column| {
            let times: Vec<Duration> = samples.iter().filter_map(|round| round[column]).collect();
            (!times.is_empty()).then(|| super::median(&times))
        });
        Report {
            samples,
            missing,
            medians,
        }
    }

    fn ratio(&self, which: Which) -> Option<Ratio> {
        let of_medians = which.of(&self.medians)?;
        let mut paired: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|row| which.of(row))
            .collect();
        paired.sort_by(f64::total_cmp);
        let mid = paired.len() / 2;
        let paired = match paired.len() {
            0 => return None,
            n if n % 2 == 1 => paired[mid],
            _ => (paired[mid - 1] + paired[mid]) / 2.0,
        };
        Some(Ratio { paired, of_medians })
    }

    fn table(&self) -> String {
        let mut out = format!("{:<10}", "");
        for column in COLUMNS {
            out += &format!("{column:>18}");
        }
        let mut row = |label: &str, cells: &Row| {
            out += &format!("\n{label:<10}");
            for cell in cells {
                let cell = match cell {
                    Some(d) => format!("{:.3} s", d.as_secs_f64()),
                    None => "-".to_owned(),
                };
                out += &format!("{cell:>18}");
            }
        };
        for (index, round) in self.samples.iter().enumerate() {
            row(&format!("round {}", index + 1), round);
        }
        row("median", &self.medians);
        out
    }

    fn ratio_table(&self) -> String {
        let mut out = format!("{:<16}", "");
        for which in RATIOS {
            out += &format!("{:>38}", which.label());
        }
        let mut row = |label: &str, cells: [Option<f64>; 4]| {
            out += &format!("\n{label:<16}");
            for (which, cell) in RATIOS.into_iter().zip(cells) {
                let cell = cell.map_or("-".to_owned(), |r| which.show(r));
                out += &format!("{cell:>38}");
            }
        };
        for (index, round) in self.samples.iter().enumerate() {
            row(&format!("round {}", index + 1), RATIOS.map(|w| w.of(round)));
        }
        row(
            "median (paired)",
            RATIOS.map(|w| self.ratio(w).map(|r| r.paired)),
        );
        row(
            "of the medians",
            RATIOS.map(|w| self.ratio(w).map(|r| r.of_medians)),
        );
        out
    }

    fn verdicts(&self) -> String {
        let mut lines: Vec<String> = RATIOS
            .iter()
            .map(|&which| {
                let name = which.label();
                let target = which.target();
                match (self.ratio(which), target) {
                    (Some(ratio), Some(target)) => format!(
                        "{name} = {}, median of the rounds' own ratios (of the medians: {}) \
                         (target {target}): {}",
                        which.show(ratio.paired),
                        which.show(ratio.of_medians),
                        verdict(which.meets(ratio.paired) == Some(true))
                    ),
                    (Some(ratio), None) => format!(
                        "{name} = {:.2}, median of the rounds' own ratios (of the medians: {:.2}) \
                         (no target: what finding the manifest and the checksum add)",
                        ratio.paired, ratio.of_medians
                    ),
                    (None, Some(target)) => {
                        format!("{name} (target {target}): NOT MEASURED")
                    }
                    (None, None) => format!("{name}: not measured"),
                }
            })
            .collect();
        for (column, reason) in self.missing.iter().enumerate() {
            if let Some(reason) = reason {
                lines.push(format!("{} not measured: {reason}", COLUMNS[column]));
            }
        }
        lines.join("\n")
    }

    fn markdown(&self, date: &str, machine: &str, data: &str) -> String {
        let cell = |column: usize| match self.medians[column] {
            Some(d) => format!("{:.3} s", d.as_secs_f64()),
            None => "not measured".to_owned(),
        };
        let ratio = |which: Which| match self.ratio(which) {
            Some(r) => match which.meets(r.paired) {
                Some(ok) => format!(
                    "{} {} ({})",
                    which.show(r.paired),
                    pass(ok),
                    which.show(r.of_medians)
                ),
                None => format!("{:.2} ({:.2})", r.paired, r.of_medians),
            },
            None => "n/a".to_owned(),
        };
        format!(
            "| date | machine | archives | rounds | fetchkit .zip | unzip | fetchkit .tar.gz \
             | tar xzf | download | streaming | fetch | unzip / fetchkit (>= {TARGET_VS_PEER:.2}) \
             | tar xzf / fetchkit (>= {TARGET_VS_PEER:.2}) | streaming / max(download, extract) \
             (<= {TARGET_STREAMING:.2}) | fetch / streaming |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n\
             | {date} | {machine} | {data} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} \
             | {} | {} |",
            self.samples.len(),
            cell(ZIP_FETCHKIT),
            cell(UNZIP_COL),
            cell(TAR_FETCHKIT),
            cell(TAR_COL),
            cell(DOWNLOAD),
            cell(STREAMING),
            cell(FETCH),
            ratio(Which::Unzip),
            ratio(Which::Tar),
            ratio(Which::Streaming),
            ratio(Which::Fetch),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{COLUMNS, Report, Row, Summary, Tree, Which, listing_digest};

    fn row(ms: [u64; 7]) -> Row {
        ms.map(|ms| Some(Duration::from_millis(ms)))
    }

    fn report() -> Report {
        Report::new(
            vec![
                row([1000, 1100, 4000, 5000, 3000, 4400, 4800]),
                row([900, 1000, 4200, 4800, 3200, 4500, 5000]),
                row([1100, 1000, 4100, 5200, 2900, 4800, 5200]),
            ],
            Default::default(),
        )
    }

    /// Ratios are paired within rounds; streaming is held against the slower of its halves.
    #[test]
    fn verdicts_use_paired_ratios() {
        let expected = "\
unzip / fetchkit = 1.10, median of the rounds' own ratios (of the medians: 1.000) (target >= 1.00): target met
tar xzf / fetchkit = 1.25, median of the rounds' own ratios (of the medians: 1.22) (target >= 1.00): target met
streaming / max(download, extract) = 1.10, median of the rounds' own ratios (of the medians: 1.10) (target <= 1.15): target met
fetch / streaming = 1.09, median of the rounds' own ratios (of the medians: 1.11) (no target: what finding the manifest and the checksum add)";
        assert_eq!(report().verdicts(), expected);
    }

    #[test]
    fn missing_columns_are_named() {
        let mut missing: [Option<String>; COLUMNS.len()] = Default::default();
        missing[6] = Some("the built CLI has no `fetch`".to_owned());
        let mut samples = report().samples;
        for round in &mut samples {
            round[6] = None;
        }
        let report = Report::new(samples, missing);
        let verdicts = report.verdicts();
        assert!(
            verdicts.contains("fetch / streaming: not measured"),
            "{verdicts}"
        );
        assert!(
            verdicts.ends_with("fetch not measured: the built CLI has no `fetch`"),
            "{verdicts}"
        );
        assert!(report.markdown("d", "m", "a").ends_with(
            "| not measured | 1.10 PASS (1.000) | 1.25 PASS (1.22) | 1.10 PASS (1.10) | n/a |"
        ));
    }

    #[test]
    fn markdown_row() {
        let markdown = report().markdown(
            "2026-11-23",
            "2 cores, test cpu",
            "small.zip: x; large.tar.gz: y",
        );
        let lines: Vec<&str> = markdown.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].matches('|').count(), lines[1].matches('|').count());
        assert_eq!(
            lines[2],
            "| 2026-11-23 | 2 cores, test cpu | small.zip: x; large.tar.gz: y | 3 | 1.000 s | 1.000 s \
             | 4.100 s | 5.000 s | 3.000 s | 4.500 s | 5.000 s | 1.10 PASS (1.000) | 1.25 PASS (1.22) \
             | 1.10 PASS (1.10) | 1.09 (1.11) |"
        );
    }

    #[test]
    fn ratios_near_the_target_get_a_third_decimal() {
        assert_eq!(Which::Streaming.show(1.1527), "1.153");
        assert_eq!(Which::Streaming.show(1.1451), "1.145");
        assert_eq!(Which::Streaming.show(1.1649), "1.16");
        assert_eq!(Which::Unzip.show(0.998), "0.998");
        assert_eq!(Which::Fetch.show(1.149), "1.15");
    }

    #[test]
    fn summary_round_trip_and_listing_order() {
        let files = vec![("b/c.rs".to_owned(), 3), ("a.rs".to_owned(), 10)];
        let mut reversed = files.clone();
        reversed.reverse();
        assert_eq!(listing_digest(&files), listing_digest(&reversed));
        let summary = Summary::from_files(&files, 7);
        assert_eq!((summary.files, summary.bytes), (2, 13));
        assert_eq!(Summary::parse(&summary.to_text()).unwrap(), summary);
    }

    #[test]
    fn tree_is_seeded_and_sized() {
        let mut a = Tree::new(1);
        let mut b = Tree::new(1);
        assert_eq!(a.text(5000).to_vec(), b.text(5000).to_vec());
        assert_eq!(a.folder(12), b.folder(12));
        assert_eq!(a.text(777).len(), 777);
        assert_eq!(
            a.new_folders("pkg/src/x/"),
            ["pkg/", "pkg/src/", "pkg/src/x/"]
        );
        assert!(a.new_folders("pkg/src/y/") == ["pkg/src/y/"]);
    }
}
