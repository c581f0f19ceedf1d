//! `cargo xtask bench lister`: a full listing of a synthetic registry database dump by
//! fetchkit, against its bound and two peers, in alternating rounds on one local file:
//!
//! - **fetchkit**: `fetchkit list crates --dump FILE … --quiet` from the release CLI, its
//!   stdout (the listing) sent to /dev/null; while the built CLI lacks that command, the `fetchkit-list` binary of
//!   `compat/db-dump-bench`, which calls `fetchkit_lister::list_from_path` the same way;
//! - **the decompression bound**: `compat/db-dump-bench`'s `inflate`, the same gzip backend
//!   (flate2 on zlib-rs) inflating the archive up to the end of `versions.csv` and nothing else;
//! - **db-dump**: dtolnay's crate from the public registry, its `Loader` with only the crates
//!   and versions callbacks (`compat/db-dump-bench`'s `db-dump-load`);
//! - **Software Heritage's lister**: `swh.lister` from PyPI in a venv, its `CratesLister` run
//!   without a scheduler by [`SWH_HARNESS`]: the dump is "downloaded" from the local file, then
//!   extracted, parsed, paged and turned into origins by the lister's own code.
//!
//! Not `-o /dev/null`: `-o` writes a temporary file beside its path and renames it over the
//! path, which replaces the /dev/null device with a regular file (checked after every run).
//!
//! Rounds run the tools forward, then backward (fetchkit, bound, db-dump, swh.lister; then
//! the reverse), with the dump read into the page cache before every run: no tool always
//! starts right after another's heavy run.
//!
//! The ratios the targets are checked on are paired: each round's own ratio (its fetchkit run
//! against the same round's peer run, minutes apart at most), then the median over the
//! rounds. On a VM whose speed drifts by 15 to 20% over a run, a ratio of the columns' medians
//! can divide one round's fetchkit by another round's bound; pairing cancels the drift. The
//! ratio of the medians is printed beside it.
//!
//! Every run goes through `/usr/bin/time -f %M` for its peak RSS. A peer that cannot be set up
//! or fails is reported as not measured, with the reason, and the bench goes on; fetchkit or
//! the bound failing is an error.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail, format_err};

use super::{Tool, pass, warm_page_cache};
use crate::{flags, gen_dump, util};

/// `fetchkit / decompression bound` must be at most this.
const TARGET_VS_BOUND: f64 = 1.3;
/// `db-dump / fetchkit` must be at least this.
const TARGET_VS_DB_DUMP: f64 = 3.0;
/// `Software Heritage / fetchkit` must be at least this.
const TARGET_VS_SWH: f64 = 20.0;
/// fetchkit's peak RSS must stay under this many MB (10^6 bytes).
const TARGET_RSS_MB: f64 = 600.0;

const CRATE_FILE_TEMPLATE: &str =
    "https://static.registry.example/crates/{crate}/{crate}-{version}.crate";
const ORIGIN_TEMPLATE: &str = "https://registry.example/crates/{crate}";

/// The Software Heritage version the harness was written against is whatever pip resolves;
/// the harness only relies on `get_pages`, `get_origins_from_page`, `finalize`, the URL
/// pattern attributes and `http_request` being a context manager with `iter_content`.
const SWH_PACKAGE: &str = "swh.lister";

const TIME: Tool = Tool {
    program: "time",
    package: "time",
    extra: &["/usr/bin/time"],
};

const COLUMNS: [&str; 4] = ["fetchkit", "inflate bound", "db-dump", "swh.lister"];
const FETCHKIT: usize = 0;
const BOUND: usize = 1;
const DB_DUMP: usize = 2;
const SWH: usize = 3;

/// Runs Software Heritage's `CratesLister` on a local dump, with no scheduler and no network:
/// `http_request` streams the local file where the lister expects the download, and everything
/// after it (saving to a temporary folder, extracting the three members, the CSV parse and join,
/// `LooseVersion2` sorting, pages, `ListedOrigin`s, `finalize`) is the lister's own code.
const SWH_HARNESS: &str = r#""""Software Heritage's crates lister on a local dump, for `cargo xtask bench lister`.

Usage: python swh_crates_harness.py DUMP.tar.gz CRATE_FILE_TEMPLATE ORIGIN_TEMPLATE
"""

import contextlib
import sys
import types
import uuid

from swh.lister.crates.lister import CratesLister, CratesListerState

dump, crate_file_template, origin_template = sys.argv[1:4]


class LocalDumpLister(CratesLister):
    CRATE_FILE_URL_PATTERN = crate_file_template
    CRATE_URL_PATTERN = origin_template

    def __init__(self):
        # Lister.__init__ needs a scheduler; set only what the crates lister uses.
        self.state = CratesListerState()
        self.index_metadata = {}
        self.all_crates_processed = False
        self.lister_obj = types.SimpleNamespace(id=uuid.uuid4())

    @contextlib.contextmanager
    def http_request(self, url, **kwargs):
        with open(dump, "rb") as f:
            chunks = lambda chunk_size: iter(lambda: f.read(chunk_size), b"")
            yield types.SimpleNamespace(iter_content=chunks)


lister = LocalDumpLister()
origins = artifacts = 0
for page in lister.get_pages():
    for origin in lister.get_origins_from_page(page):
        origins += 1
        artifacts += len(origin.extra_loader_arguments["artifacts"])
lister.finalize()
print(f"{origins} origins, {artifacts} artifacts, state {lister.state.index_last_update}")
"#;

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let values = flags::numbers(
        args,
        "bench lister",
        &[
            ("crates", 200_000),
            ("versions-per-crate", 10),
            ("rounds", 3),
        ],
    )?;
    let (crates, versions_per_crate, rounds) = (values[0], values[1], values[2]);
    if crates == 0 || versions_per_crate == 0 || rounds == 0 {
        bail!("bench lister: --crates, --versions-per-crate and --rounds must be at least 1");
    }

    let [time]: [PathBuf; 1] = super::ensure_tools(&[TIME])?
        .try_into()
        .map_err(|_| format_err!("bench lister: expected one tool path"))?;
    let target = util::target_dir()?;
    let dir = target.join("bench").join("lister");
    fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;

    let dump = dir.join(format!("db-dump-{crates}x{versions_per_crate}-new.tar.gz"));
    ensure_dump(&dump, crates, versions_per_crate)?;
    let dump_mb = fs::metadata(&dump)
        .with_context(|| format!("{}: cannot stat", dump.display()))?
        .len() as f64
        / 1e6;

    let fetchkit = fetchkit_command(&target, &dump)?;
    let compat = build_compat(&target, fetchkit.is_none())?;
    let (fetchkit_label, fetchkit_cmd) = match fetchkit {
        Some(cli) => ("fetchkit list crates (release CLI)".to_owned(), cli),
        None => {
            let mut cmd = Command::new(compat.join("fetchkit-list"));
            cmd.arg(&dump).args([CRATE_FILE_TEMPLATE, ORIGIN_TEMPLATE]);
            (
                "fetchkit_lister::list_from_path (compat/db-dump-bench fetchkit-list; the \
                 release CLI has no `list crates`)"
                    .to_owned(),
                cmd,
            )
        }
    };
    let mut bound_cmd = Command::new(compat.join("inflate"));
    bound_cmd.arg(&dump);
    let mut db_dump_cmd = Command::new(compat.join("db-dump-load"));
    db_dump_cmd.arg(&dump);

    let mut missing: [Option<String>; 4] = Default::default();
    let swh_cmd = match swh_command(&dir, &dump) {
        Ok(cmd) => Some(cmd),
        Err(err) => {
            let reason = format!("{err:#}");
            println!("swh.lister not measured: {reason}");
            missing[SWH] = Some(reason);
            None
        }
    };
    let mut commands: [Option<Command>; 4] = [
        Some(fetchkit_cmd),
        Some(bound_cmd),
        Some(db_dump_cmd),
        swh_cmd,
    ];

    println!("fetchkit runs as: {fetchkit_label}");
    let mut samples: Vec<[Option<Sample>; 4]> = Vec::new();
    for round in 1..=rounds {
        println!("round {round}/{rounds}");
        let mut row: [Option<Sample>; 4] = Default::default();
        // Forward in odd rounds, backward in even ones, so that no tool always runs right
        // after another one's (Software Heritage's 4.6 GB run leaves the machine busy
        // reclaiming memory for a while): each tool follows itself or a light one.
        let mut order = [FETCHKIT, BOUND, DB_DUMP, SWH];
        if round % 2 == 0 {
            order.reverse();
        }
        for column in order {
            let Some(cmd) = commands[column].as_mut() else {
                continue;
            };
            // Every tool starts with the dump in the page cache.
            warm_page_cache(&dump)?;
            match measure(&time, &dir, cmd, column == FETCHKIT) {
                Ok(sample) => row[column] = Some(sample),
                Err(err) if column == DB_DUMP || column == SWH => {
                    let reason = format!("{err:#}");
                    println!("{} not measured: {reason}", COLUMNS[column]);
                    missing[column] = Some(reason);
                    commands[column] = None;
                }
                Err(err) => return Err(err),
            }
        }
        samples.push(row);
    }

    let report = Report::new(samples, missing);
    let dump_text = format!(
        "{crates} crates x {versions_per_crate} versions ({dump_mb:.0} MB .tar.gz, new schema)"
    );
    println!();
    println!("dump: {dump_text}");
    println!("fetchkit: {fetchkit_label}");
    println!("{}", report.table());
    println!("{}", report.verdicts());
    println!("row for docs/benchmarks.md (header too if the table is new):");
    println!();
    println!(
        "{}",
        report.markdown(&super::today()?, &super::machine()?, &dump_text)
    );
    Ok(())
}

/// Generates the dump with `cargo xtask gen-dump` (in process) unless it is already there.
fn ensure_dump(dump: &Path, crates: u64, versions_per_crate: u64) -> anyhow::Result<()> {
    if dump.is_file() {
        println!("reusing {}", dump.display());
        return Ok(());
    }
    println!(
        "generating {} (a few minutes at full scale)",
        dump.display()
    );
    let args = [
        "--crates".to_owned(),
        crates.to_string(),
        "--versions-per-crate".to_owned(),
        versions_per_crate.to_string(),
        "--schema".to_owned(),
        "new".to_owned(),
        "-o".to_owned(),
        dump.display().to_string(),
    ];
    gen_dump::run(&args)
}

/// `fetchkit list crates …` from the release CLI, if it builds and has that command; `None`
/// (and why, printed) otherwise.
fn fetchkit_command(target: &Path, dump: &Path) -> anyhow::Result<Option<Command>> {
    let cli = match super::build_cli_release(target) {
        Ok(cli) => cli,
        Err(err) => {
            println!(
                "the release CLI did not build ({err:#}); timing fetchkit_lister::list_from_path \
                 through compat/db-dump-bench instead"
            );
            return Ok(None);
        }
    };
    let help = Command::new(&cli)
        .args(["list", "crates", "--help"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{} list crates --help`", cli.display()))?;
    if !help.status.success() {
        println!(
            "`fetchkit list crates --help` failed ({}): the built CLI has no `list crates`; \
             timing fetchkit_lister::list_from_path through compat/db-dump-bench instead",
            help.status
        );
        return Ok(None);
    }
    let mut cmd = Command::new(cli);
    cmd.args(["list", "crates", "--dump"]).arg(dump).args([
        "--crate-file-template",
        CRATE_FILE_TEMPLATE,
        "--origin-template",
        ORIGIN_TEMPLATE,
        "--quiet",
    ]);
    Ok(Some(cmd))
}

/// Builds `compat/db-dump-bench` in release mode in its own target folder and returns the
/// folder of its binaries. `lister` also builds the `fetchkit-list` stand-in.
fn build_compat(target: &Path, lister: bool) -> anyhow::Result<PathBuf> {
    let manifest = util::project_root()
        .join("compat")
        .join("db-dump-bench")
        .join("Cargo.toml");
    let compat_target = target.join("compat-db-dump-bench");
    let mut cmd = util::cargo();
    cmd.args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&compat_target);
    if lister {
        cmd.args(["--features", "lister"]);
    }
    util::run(&mut cmd)?;
    Ok(compat_target.join("release"))
}

/// The venv (made and filled with pip on first use) and the harness script; an error says
/// why Software Heritage's lister cannot be measured.
fn swh_command(dir: &Path, dump: &Path) -> anyhow::Result<Command> {
    let venv = dir.join("venv");
    let python = venv.join("bin").join("python");
    if !python.is_file() {
        util::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
            .context("cannot make a python venv")?;
    }
    let installed = Command::new(&python)
        .args(["-c", "import swh.lister.crates.lister"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        let mut pip = Command::new(venv.join("bin").join("pip"));
        pip.args(["install", "--quiet", SWH_PACKAGE]);
        let line = util::display(&pip);
        println!("$ {line}");
        let output = pip
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("could not start `{line}`"))?;
        if !output.status.success() {
            bail!(
                "`{line}` failed ({}): {}",
                output.status,
                last_lines(&output.stderr, 5)
            );
        }
    }
    let harness = dir.join("swh_crates_harness.py");
    fs::write(&harness, SWH_HARNESS)
        .with_context(|| format!("{}: cannot write", harness.display()))?;
    // The lister saves the "download" and extracts it under a temporary folder: keep that
    // beside the dump rather than wherever TMPDIR points.
    let scratch = dir.join("swh-tmp");
    fs::create_dir_all(&scratch)
        .with_context(|| format!("{}: cannot create", scratch.display()))?;
    let mut cmd = Command::new(python);
    cmd.arg(harness)
        .arg(dump)
        .args([CRATE_FILE_TEMPLATE, ORIGIN_TEMPLATE])
        .env("TMPDIR", scratch);
    Ok(cmd)
}

/// One timed run: wall clock and peak RSS.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    rss_kib: u64,
}

/// Runs `cmd` under `time -f %M`, echoing it and its stdout (or sending its stdout to
/// /dev/null, for the listing itself); fails with its last stderr lines unless it exits 0.
fn measure(time: &Path, dir: &Path, cmd: &Command, discard_stdout: bool) -> anyhow::Result<Sample> {
    let rss_file = dir.join("peak-rss.txt");
    let mut timed = Command::new(time);
    timed
        .args(["-f", "%M", "-o"])
        .arg(&rss_file)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null());
    let mut env = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            timed.env(key, value);
            env += &format!("{}={} ", key.to_string_lossy(), value.to_string_lossy());
        }
    }
    let mut line = format!("{env}{}", util::display(&timed));
    if discard_stdout {
        timed.stdout(Stdio::null());
        line += " >/dev/null";
    }
    println!("$ {line}");
    let (wall, output) = super::time(|| {
        timed
            .output()
            .with_context(|| format!("could not start `{line}`"))
    })?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    if !output.status.success() {
        bail!(
            "`{line}` failed ({}): {}",
            output.status,
            last_lines(&output.stderr, 5)
        );
    }
    check_dev_null()?;
    let rss = fs::read_to_string(&rss_file)
        .with_context(|| format!("{}: not written by time", rss_file.display()))?;
    let rss_kib = rss
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .ok_or_else(|| {
            format_err!(
                "{}: expected a KiB count, got `{}`",
                rss_file.display(),
                rss.trim()
            )
        })?;
    Ok(Sample { wall, rss_kib })
}

/// Fails if /dev/null is no longer the null device (a run renamed a file over it).
fn check_dev_null() -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let meta = fs::symlink_metadata("/dev/null").context("/dev/null: cannot stat")?;
    if !meta.file_type().is_char_device() {
        bail!(
            "/dev/null is no longer a character device (a command replaced it); restore it with \
             `mknod -m 666 /dev/null.new c 1 3 && mv -f /dev/null.new /dev/null`"
        );
    }
    Ok(())
}

fn last_lines(bytes: &[u8], count: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(count)..].join(" | ");
    if tail.is_empty() {
        "no output on stderr".to_owned()
    } else {
        tail
    }
}

/// Samples of every round per column (in [`COLUMNS`] order), why a column has none, and what
/// follows from them.
#[derive(Debug)]
struct Report {
    samples: Vec<[Option<Sample>; 4]>,
    missing: [Option<String>; 4],
    medians: [Option<Duration>; 4],
    peak_rss_kib: [Option<u64>; 4],
}

impl Report {
    fn new(samples: Vec<[Option<Sample>; 4]>, missing: [Option<String>; 4]) -> Report {
        let medians = std::array::from_fn(|column| {
            let walls: Vec<Duration> = samples
                .iter()
                .filter_map(|round| round[column].map(|s| s.wall))
                .collect();
            // A peer that failed part-way is not measured: partial medians mislead.
            (missing[column].is_none() && !walls.is_empty()).then(|| super::median(&walls))
        });
        let peak_rss_kib = std::array::from_fn(|column| {
            samples
                .iter()
                .filter_map(|round| round[column].map(|s| s.rss_kib))
                .max()
        });
        Report {
            samples,
            missing,
            medians,
            peak_rss_kib,
        }
    }

    fn secs(&self, column: usize) -> Option<f64> {
        self.medians[column].map(|d| d.as_secs_f64())
    }

    /// The median over the rounds of `numerator / denominator` within each round, and the
    /// ratio of the two columns' medians; `None` unless both columns were measured.
    fn ratio(&self, numerator: usize, denominator: usize) -> Option<Ratio> {
        let of_medians = self.secs(numerator)? / self.secs(denominator)?;
        let mut paired: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|round| {
                let (top, bottom) = (round[numerator]?, round[denominator]?);
                Some(top.wall.as_secs_f64() / bottom.wall.as_secs_f64())
            })
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

    fn vs_bound(&self) -> Option<Ratio> {
        self.ratio(FETCHKIT, BOUND)
    }

    fn vs_db_dump(&self) -> Option<Ratio> {
        self.ratio(DB_DUMP, FETCHKIT)
    }

    fn vs_swh(&self) -> Option<Ratio> {
        self.ratio(SWH, FETCHKIT)
    }

    fn fetchkit_rss_mb(&self) -> Option<f64> {
        self.peak_rss_kib[FETCHKIT].map(|kib| kib as f64 * 1024.0 / 1e6)
    }

    fn table(&self) -> String {
        let mut out = format!("{:<12}", "");
        for column in COLUMNS {
            out += &format!("{column:>22}");
        }
        let mut row = |label: &str, cells: [String; 4]| {
            out += &format!("\n{label:<12}");
            for cell in cells {
                out += &format!("{cell:>22}");
            }
        };
        for (index, round) in self.samples.iter().enumerate() {
            row(
                &format!("round {}", index + 1),
                round.map(|s| match s {
                    Some(s) => format!("{:.2} s {:>4.0} MB", s.wall.as_secs_f64(), mb(s.rss_kib)),
                    None => "-".to_owned(),
                }),
            );
        }
        row(
            "median",
            self.medians.map(|d| match d {
                Some(d) => format!("{:.2} s", d.as_secs_f64()),
                None => "not measured".to_owned(),
            }),
        );
        row(
            "peak RSS",
            self.peak_rss_kib.map(|kib| match kib {
                Some(kib) => format!("{:.0} MB", mb(kib)),
                None => "-".to_owned(),
            }),
        );
        out
    }

    fn verdicts(&self) -> String {
        let mut lines = vec![
            ratio_verdict(
                "fetchkit / inflate bound",
                self.vs_bound(),
                "<=",
                TARGET_VS_BOUND,
                self.vs_bound().map(|r| r.paired <= TARGET_VS_BOUND),
            ),
            ratio_verdict(
                "db-dump / fetchkit",
                self.vs_db_dump(),
                ">=",
                TARGET_VS_DB_DUMP,
                self.vs_db_dump().map(|r| r.paired >= TARGET_VS_DB_DUMP),
            ),
            ratio_verdict(
                "swh.lister / fetchkit",
                self.vs_swh(),
                ">=",
                TARGET_VS_SWH,
                self.vs_swh().map(|r| r.paired >= TARGET_VS_SWH),
            ),
            match self.fetchkit_rss_mb() {
                Some(rss) => format!(
                    "fetchkit peak RSS = {rss:.0} MB (target < {TARGET_RSS_MB:.0} MB): {}",
                    pass(rss < TARGET_RSS_MB)
                ),
                None => "fetchkit peak RSS: NOT MEASURED".to_owned(),
            },
        ];
        for (column, reason) in self.missing.iter().enumerate() {
            if let Some(reason) = reason {
                lines.push(format!("{} not measured: {reason}", COLUMNS[column]));
            }
        }
        lines.join("\n")
    }

    fn markdown(&self, date: &str, machine: &str, dump: &str) -> String {
        let cell = |column: usize| match (self.medians[column], self.peak_rss_kib[column]) {
            (Some(d), Some(kib)) => format!("{:.2} s, {:.0} MB", d.as_secs_f64(), mb(kib)),
            _ => "not measured".to_owned(),
        };
        let ratio = |value: Option<Ratio>, ok: Option<bool>| match (value, ok) {
            (Some(value), Some(ok)) => {
                format!("{:.2} {} ({:.2})", value.paired, pass(ok), value.of_medians)
            }
            _ => "n/a".to_owned(),
        };
        let rss = match self.fetchkit_rss_mb() {
            Some(rss) => format!("{rss:.0} MB {}", pass(rss < TARGET_RSS_MB)),
            None => "n/a".to_owned(),
        };
        format!(
            "| date | machine | dump | rounds | fetchkit | inflate bound | db-dump | swh.lister \
             | fetchkit / bound (<= {TARGET_VS_BOUND:.2}) | db-dump / fetchkit (>= \
             {TARGET_VS_DB_DUMP:.2}) | swh.lister / fetchkit (>= {TARGET_VS_SWH:.2}) \
             | fetchkit RSS (< {TARGET_RSS_MB:.0} MB) |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|\n\
             | {date} | {machine} | {dump} | {} | {} | {} | {} | {} | {} | {} | {} | {rss} |",
            self.samples.len(),
            cell(FETCHKIT),
            cell(BOUND),
            cell(DB_DUMP),
            cell(SWH),
            ratio(
                self.vs_bound(),
                self.vs_bound().map(|r| r.paired <= TARGET_VS_BOUND)
            ),
            ratio(
                self.vs_db_dump(),
                self.vs_db_dump().map(|r| r.paired >= TARGET_VS_DB_DUMP)
            ),
            ratio(
                self.vs_swh(),
                self.vs_swh().map(|r| r.paired >= TARGET_VS_SWH)
            ),
        )
    }
}

/// A ratio of two columns: the median of each round's own ratio, which the targets are
/// checked on, and the ratio of the columns' medians.
#[derive(Debug, Clone, Copy)]
struct Ratio {
    paired: f64,
    of_medians: f64,
}

fn ratio_verdict(
    name: &str,
    value: Option<Ratio>,
    op: &str,
    target: f64,
    ok: Option<bool>,
) -> String {
    match (value, ok) {
        (Some(value), Some(ok)) => {
            format!(
                "{name} = {:.2}, median of the rounds' own ratios (of the medians: {:.2}) \
                 (target {op} {target:.2}): {}",
                value.paired,
                value.of_medians,
                pass(ok)
            )
        }
        _ => format!("{name} (target {op} {target:.2}): NOT MEASURED"),
    }
}

/// MB (10^6 bytes) from KiB, as `time -f %M` reports.
fn mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Report, Sample};

    fn sample(ms: u64, rss_kib: u64) -> Option<Sample> {
        Some(Sample {
            wall: Duration::from_millis(ms),
            rss_kib,
        })
    }

    fn report() -> Report {
        Report::new(
            vec![
                [
                    sample(4000, 500_000),
                    sample(3500, 4000),
                    sample(15000, 900_000),
                    None,
                ],
                [
                    sample(4200, 520_000),
                    sample(3400, 4000),
                    sample(14000, 900_000),
                    None,
                ],
                [
                    sample(4100, 510_000),
                    sample(3600, 4000),
                    sample(16000, 900_000),
                    None,
                ],
            ],
            [None, None, None, Some("pip install failed".to_owned())],
        )
    }

    #[test]
    fn verdicts_use_medians_and_say_what_is_missing() {
        let expected = "\
fetchkit / inflate bound = 1.14, median of the rounds' own ratios (of the medians: 1.17) (target <= 1.30): PASS
db-dump / fetchkit = 3.75, median of the rounds' own ratios (of the medians: 3.66) (target >= 3.00): PASS
swh.lister / fetchkit (target >= 20.00): NOT MEASURED
fetchkit peak RSS = 532 MB (target < 600 MB): PASS
swh.lister not measured: pip install failed";
        assert_eq!(report().verdicts(), expected);
    }

    /// A machine that slows down over the run: the ratio of the medians divides one round's
    /// fetchkit by another round's bound and fails, while every round passes on its own.
    #[test]
    fn ratios_are_paired_within_rounds() {
        let rounds = [
            (2260, 1650),
            (2400, 2040),
            (2020, 1790),
            (1810, 1700),
            (2350, 1620),
        ];
        let report = Report::new(
            rounds
                .iter()
                .map(|&(fetchkit, bound)| [sample(fetchkit, 1), sample(bound, 1), None, None])
                .collect(),
            [None, None, Some("skipped".into()), Some("skipped".into())],
        );
        let ratio = report.vs_bound().unwrap();
        assert_eq!(
            format!("{:.2} {:.2}", ratio.paired, ratio.of_medians),
            "1.18 1.33"
        );
        assert!(report.vs_db_dump().is_none());
    }

    #[test]
    fn markdown_row() {
        let expected = "\
| date | machine | dump | rounds | fetchkit | inflate bound | db-dump | swh.lister | fetchkit / bound (<= 1.30) | db-dump / fetchkit (>= 3.00) | swh.lister / fetchkit (>= 20.00) | fetchkit RSS (< 600 MB) |
|---|---|---|---|---|---|---|---|---|---|---|---|
| 2025-01-02 | 2 cores, test cpu | 10 crates | 3 | 4.10 s, 532 MB | 3.50 s, 4 MB | 15.00 s, 922 MB | not measured | 1.14 PASS (1.17) | 3.75 PASS (3.66) | n/a | 532 MB PASS |";
        assert_eq!(
            report().markdown("2025-01-02", "2 cores, test cpu", "10 crates"),
            expected
        );
    }
}
