//! `cargo xtask bench index-cache`: reading cargo's index cache files and answering "newest
//! non-yanked version matching REQ", fetchkit against the `tame-index` crate, on the same files
//! in one run. Two data sets, generated once by `compat/index-cache-bench`'s `gen-index-cache`
//! and kept under the target folder:
//!
//! - **single**: one cache file with 2,000 versions (heavy index lines, about 1.6 KB each);
//! - **folder**: 10,000 cache files in cargo's `.cache` layout, version counts spread like a
//!   real registry's (half the crates with one version, a few with hundreds).
//!
//! Four runners of `compat/index-cache-bench`, each a process that looks every crate up with
//! its tool's own path function, reads the file, parses it and answers four requirements:
//!
//! - **fetchkit**: `CacheFile::parse` and `newest_matching` (`fetchkit-query`);
//! - **read only**: the same reads and nothing else (`fetchkit-query --read-only`), the bound
//!   under every reader of these files: they carry no lengths, so every byte is scanned;
//! - **tame-index**: `IndexCache::cached_krate`, then `IndexEntry::iter` and
//!   `IndexEntryVersion::yanked` (the version and yanked flag without parsing the JSON), the
//!   fastest way its API offers for this query since 0.27 (`tame-index-query`);
//! - **tame-index IndexKrate**: the same file deserialized into an `IndexKrate`, the way in
//!   before 0.27 and the one that checks the index lines (`tame-index-query --krate`).
//!
//! Targets: `IndexKrate / fetchkit` at least 5 (the target, set against the parsing
//! reader); and fetchkit no slower than tame-index's skimming path. 5x over the skimming path
//! cannot be met by any reader that reads the files: it would have to finish before the read
//! alone does, which the bench shows with the read-only column and prints as a check.
//!
//! Each runner makes one untimed pass (page cache, allocator), then repeats whole passes until
//! `--min-ms` have gone by, and reports the time per pass measured inside the process
//! (reading, parsing, querying; not the start-up). The process's wall time is measured from
//! here too and shown in the round table. Every runner prints a checksum of its answers; the
//! bench fails unless all runs of a data set agree.
//!
//! Rounds run the eight (data set, runner) pairs forward, then backward, so that no runner
//! always follows the same one. The targets are checked on paired ratios, as in `bench
//! lister`: each round's own ratio, then the median over the rounds; the ratio of the columns'
//! medians is printed beside it.

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail, format_err};
use sha2::{Digest, Sha256};

use super::pass;
use crate::{flags, util};

/// `tame-index IndexKrate / fetchkit` (time per pass) must be at least this, on each data set.
const TARGET: f64 = 5.0;
/// `tame-index / fetchkit` (its skimming path) must be at least this: fetchkit no slower.
const TARGET_SKIM: f64 = 1.0;

/// The generator's seed: the same seed, the same files.
const SEED: u64 = 0x1dc_ca5e;

const COLUMNS: [&str; 4] = [
    "fetchkit",
    "read only",
    "tame-index",
    "tame-index IndexKrate",
];
const FETCHKIT: usize = 0;
const READ: usize = 1;
const TAME: usize = 2;
const TAME_KRATE: usize = 3;

/// One round's samples of a data set, in [`COLUMNS`] order.
type Row = [Option<Sample>; COLUMNS.len()];

/// The data sets, as `gen-index-cache` names their folders.
const SETS: [&str; 2] = ["single", "folder"];

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let values = flags::numbers(
        args,
        "bench index-cache",
        &[
            ("rounds", 5),
            ("crates", 10_000),
            ("versions", 2_000),
            ("min-ms", 1000),
        ],
    )?;
    let (rounds, crates, versions, min_ms) = (values[0], values[1], values[2], values[3]);
    if rounds == 0 || crates == 0 || versions == 0 || min_ms == 0 {
        bail!("bench index-cache: --rounds, --crates, --versions and --min-ms must be at least 1");
    }

    let target = util::target_dir()?;
    let bin = build_compat(&target)?;
    let data = ensure_data(
        &bin,
        &target.join("bench").join("index-cache"),
        crates,
        versions,
    )?;
    let sets: Vec<DataSet> = SETS
        .iter()
        .map(|name| DataSet::read(&data, name))
        .collect::<anyhow::Result<_>>()?;

    let min_ms = min_ms.to_string();
    let command = |column: usize, root: &Path| {
        let (program, extra): (&str, &[&str]) = match column {
            FETCHKIT => ("fetchkit-query", &[]),
            READ => ("fetchkit-query", &["--read-only"]),
            TAME => ("tame-index-query", &[]),
            _ => ("tame-index-query", &["--krate"]),
        };
        let mut cmd = Command::new(bin.join(program));
        cmd.arg(root).args(["--min-ms", &min_ms]).args(extra);
        cmd
    };

    let mut samples: Vec<Vec<Row>> = vec![Vec::new(); sets.len()];
    for round in 1..=rounds {
        println!("round {round}/{rounds}");
        let mut order: Vec<(usize, usize)> = (0..sets.len())
            .flat_map(|set| [FETCHKIT, READ, TAME, TAME_KRATE].map(|column| (set, column)))
            .collect();
        if round % 2 == 0 {
            order.reverse();
        }
        let mut row: Vec<Row> = vec![Default::default(); sets.len()];
        for (set, column) in order {
            row[set][column] = Some(measure(command(column, &sets[set].root))?);
        }
        for (set, row) in row.into_iter().enumerate() {
            samples[set].push(row);
        }
    }

    let reports: Vec<Report> = samples.into_iter().map(Report::new).collect();
    let date = super::today()?;
    let machine = super::machine()?;
    println!();
    let mut disagreements = Vec::new();
    for (set, report) in sets.iter().zip(&reports) {
        println!("{}: {}", set.name, set.describe());
        println!("{}", report.table(set));
        println!("{}", report.verdicts(set));
        println!();
        if let Some(problem) = report.disagreement() {
            disagreements.push(format!("{}: {problem}", set.name));
        }
    }
    println!("rows for docs/benchmarks.md (header too if the table is new):");
    println!();
    println!("{}", markdown_header());
    for (set, report) in sets.iter().zip(&reports) {
        println!("{}", report.markdown_row(&date, &machine, set));
    }
    if !disagreements.is_empty() {
        bail!(
            "the tools' answers differ, so their times are not comparable:\n{}",
            disagreements.join("\n")
        );
    }
    Ok(())
}

/// Builds `compat/index-cache-bench` in release mode in its own target folder and returns the
/// folder of its binaries.
fn build_compat(target: &Path) -> anyhow::Result<PathBuf> {
    let manifest = compat_dir().join("Cargo.toml");
    let compat_target = target.join("compat-index-cache-bench");
    util::run(
        util::cargo()
            .args(["build", "--release", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&compat_target),
    )?;
    Ok(compat_target.join("release"))
}

fn compat_dir() -> PathBuf {
    util::project_root()
        .join("compat")
        .join("index-cache-bench")
}

/// The data sets' folder, generated unless a complete one is there. Its name carries the
/// parameters and a digest of the generator's source and lock file, so a changed generator
/// writes new data rather than reusing stale files. Written beside and renamed; the summary
/// is the generator's last write, so a folder with one is complete.
fn ensure_data(bin: &Path, dir: &Path, crates: u64, versions: u64) -> anyhow::Result<PathBuf> {
    let mut digest = Sha256::new();
    for file in ["src/bin/gen-index-cache.rs", "Cargo.lock"] {
        let path = compat_dir().join(file);
        digest.update(fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?);
    }
    let generator = hex::encode(&digest.finalize()[..4]);
    let data = dir.join(format!(
        "data-{crates}x-{versions}v-seed{SEED:x}-{generator}"
    ));
    if data.join("summary.txt").is_file() {
        println!("reusing {}", data.display());
        return Ok(data);
    }
    let partial = dir.join(format!(
        "{}.partial",
        data.file_name().unwrap_or_default().to_string_lossy()
    ));
    if partial.exists() {
        fs::remove_dir_all(&partial)
            .with_context(|| format!("{}: cannot remove", partial.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    util::run(
        Command::new(bin.join("gen-index-cache"))
            .arg(&partial)
            .args(["--seed", &SEED.to_string()])
            .args(["--crates", &crates.to_string()])
            .args(["--versions", &versions.to_string()]),
    )?;
    fs::rename(&partial, &data)
        .with_context(|| format!("{}: cannot rename to {}", partial.display(), data.display()))?;
    Ok(data)
}

/// One data set: where it is and what the generator says it holds.
#[derive(Debug, Clone)]
struct DataSet {
    name: &'static str,
    root: PathBuf,
    files: u64,
    versions: u64,
    bytes: u64,
}

impl DataSet {
    /// Reads the set's line of `summary.txt` (`NAME key=value …`).
    fn read(data: &Path, name: &'static str) -> anyhow::Result<DataSet> {
        let path = data.join("summary.txt");
        let summary = fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let line = summary
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .ok_or_else(|| format_err!("{}: no line for `{name}`", path.display()))?;
        let words = key_values(line);
        let number = |key: &str| -> anyhow::Result<u64> {
            words
                .get(key)
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| format_err!("{}: `{name}` has no number `{key}`", path.display()))
        };
        Ok(DataSet {
            name,
            root: data.join(name),
            files: number("files")?,
            versions: number("versions")?,
            bytes: number("bytes")?,
        })
    }

    fn describe(&self) -> String {
        let files = if self.files == 1 {
            "1 file".to_owned()
        } else {
            format!("{} files", self.files)
        };
        format!(
            "{files}, {} versions, {:.1} MB",
            self.versions,
            self.bytes as f64 / 1e6
        )
    }
}

/// `key=value` words; other words are ignored.
fn key_values(line: &str) -> HashMap<&str, &str> {
    line.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .collect()
}

/// One runner process: its own time per pass, and what the process cost from outside.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    /// In-process time of one pass over the data set (read, parse, query).
    per_pass: Duration,
    passes: u64,
    /// Wall time of the whole process, measured here.
    wall: Duration,
    checksum: String,
    found: String,
    rejected: u64,
}

impl Sample {
    /// Reads the runner's `result passes=… per_pass_ns=… checksum=… found=… rejected=…` line.
    fn parse(stdout: &str, wall: Duration) -> anyhow::Result<Sample> {
        let line = stdout
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("result "))
            .ok_or_else(|| format_err!("no `result` line in `{}`", stdout.trim()))?;
        let words = key_values(line);
        let word = |key: &str| {
            words
                .get(key)
                .copied()
                .ok_or_else(|| format_err!("`{key}` missing from `result {line}`"))
        };
        let number = |key: &str| -> anyhow::Result<u64> {
            word(key)?
                .parse()
                .with_context(|| format!("`{key}` is not a whole number in `result {line}`"))
        };
        Ok(Sample {
            per_pass: Duration::from_nanos(number("per_pass_ns")?),
            passes: number("passes")?,
            wall,
            checksum: word("checksum")?.to_owned(),
            found: word("found")?.to_owned(),
            rejected: number("rejected")?,
        })
    }
}

/// Runs one runner, echoing it and its output; fails unless it exits 0 with a `result` line.
fn measure(mut cmd: Command) -> anyhow::Result<Sample> {
    let line = util::display(&cmd);
    println!("$ {line}");
    let (wall, output) = super::time(|| {
        cmd.stdin(Stdio::null())
            .output()
            .with_context(|| format!("could not start `{line}`"))
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    if !output.status.success() {
        bail!(
            "`{line}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Sample::parse(&stdout, wall).with_context(|| format!("`{line}`"))
}

/// A ratio of two columns: the median of each round's own ratio, which the target is checked
/// on, and the ratio of the columns' medians.
#[derive(Debug, Clone, Copy)]
struct Ratio {
    paired: f64,
    of_medians: f64,
}

/// One data set's samples, every round, per column (in [`COLUMNS`] order).
#[derive(Debug)]
struct Report {
    samples: Vec<Row>,
    medians: [Option<Duration>; COLUMNS.len()],
}

impl Report {
    fn new(samples: Vec<Row>) -> Report {
        let medians = std::array::from_fn(|column| {
            let times: Vec<Duration> = samples
                .iter()
                .filter_map(|round| round[column].as_ref().map(|s| s.per_pass))
                .collect();
            (!times.is_empty()).then(|| super::median(&times))
        });
        Report { samples, medians }
    }

    /// `column / fetchkit`: how many times longer the peer takes per pass.
    fn ratio(&self, column: usize) -> Option<Ratio> {
        let of_medians =
            self.medians[column]?.as_secs_f64() / self.medians[FETCHKIT]?.as_secs_f64();
        let mut paired: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|round| {
                let (peer, fetchkit) = (round[column].as_ref()?, round[FETCHKIT].as_ref()?);
                Some(peer.per_pass.as_secs_f64() / fetchkit.per_pass.as_secs_f64())
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

    /// Why the runs' answers cannot be compared, if they cannot: different checksums, or
    /// files a tool rejected. The read-only runs answer nothing and are left out.
    fn disagreement(&self) -> Option<String> {
        let runs: Vec<(usize, &Sample)> = self
            .samples
            .iter()
            .flat_map(|round| {
                round
                    .iter()
                    .enumerate()
                    .filter(|(column, _)| *column != READ)
                    .filter_map(|(column, s)| Some((column, s.as_ref()?)))
            })
            .collect();
        let (_, first) = runs.first()?;
        let differs = runs.iter().any(|(_, s)| s.checksum != first.checksum);
        let rejects = runs.iter().any(|(_, s)| s.rejected > 0);
        if !differs && !rejects {
            return None;
        }
        let mut seen = Vec::new();
        for (column, sample) in runs {
            let text = format!(
                "{} checksum {} found {} rejected {}",
                COLUMNS[column], sample.checksum, sample.found, sample.rejected
            );
            if !seen.contains(&text) {
                seen.push(text);
            }
        }
        Some(seen.join("; "))
    }

    fn table(&self, set: &DataSet) -> String {
        let mut out = format!("{:<10}", "");
        for column in COLUMNS {
            out += &format!("{column:>34}");
        }
        out += "\n(each cell: in-process time per pass, x passes, process wall time)";
        for (index, round) in self.samples.iter().enumerate() {
            out += &format!("\n{:<10}", format!("round {}", index + 1));
            for sample in round {
                let cell = match sample {
                    Some(s) => format!(
                        "{} x{} / {:.2} s",
                        format_time(s.per_pass),
                        s.passes,
                        s.wall.as_secs_f64()
                    ),
                    None => "-".to_owned(),
                };
                out += &format!("{cell:>34}");
            }
        }
        out += &format!("\n{:<10}", "median");
        for median in self.medians {
            let cell = match median {
                Some(d) => format!("{}, {}", format_time(d), throughput(set.bytes, d)),
                None => "-".to_owned(),
            };
            out += &format!("{cell:>34}");
        }
        out
    }

    fn verdicts(&self, set: &DataSet) -> String {
        let mut lines: Vec<String> = [(TAME_KRATE, TARGET), (TAME, TARGET_SKIM)]
            .map(|(column, target)| {
                let name = format!("{} / fetchkit ({})", COLUMNS[column], set.name);
                match self.ratio(column) {
                    Some(ratio) => format!(
                        "{name} = {:.2}, median of the rounds' own ratios (of the medians: \
                         {:.2}) (target >= {target:.2}): {}",
                        ratio.paired,
                        ratio.of_medians,
                        pass(ratio.paired >= target)
                    ),
                    None => format!("{name} (target >= {target:.2}): NOT MEASURED"),
                }
            })
            .into();
        if let (Some(tame), Some(read), Some(fetchkit)) = (
            self.medians[TAME],
            self.medians[READ],
            self.medians[FETCHKIT],
        ) {
            let needed = tame / TARGET as u32;
            lines.push(format!(
                "fetchkit takes {:.2}x the reads alone; {TARGET:.0}x tame-index would need {} \
                 per pass, {} the {} the reads alone take",
                fetchkit.as_secs_f64() / read.as_secs_f64(),
                format_time(needed),
                if needed < read {
                    "less than"
                } else {
                    "more than"
                },
                format_time(read),
            ));
        }
        lines.join("\n")
    }

    fn markdown_row(&self, date: &str, machine: &str, set: &DataSet) -> String {
        let cell = |column: usize| match self.medians[column] {
            Some(d) => format!("{}, {}", format_time(d), throughput(set.bytes, d)),
            None => "not measured".to_owned(),
        };
        let ratio = |column: usize, target: f64| match self.ratio(column) {
            Some(r) => format!(
                "{:.2} {} ({:.2})",
                r.paired,
                pass(r.paired >= target),
                r.of_medians
            ),
            None => "n/a".to_owned(),
        };
        let answers = match self.disagreement() {
            None => "agree".to_owned(),
            Some(_) => "DIFFER".to_owned(),
        };
        format!(
            "| {date} | {machine} | {}: {} | {} | {} | {} | {} | {} | {} | {} | {answers} |",
            set.name,
            set.describe(),
            self.samples.len(),
            cell(FETCHKIT),
            cell(READ),
            cell(TAME),
            cell(TAME_KRATE),
            ratio(TAME_KRATE, TARGET),
            ratio(TAME, TARGET_SKIM),
        )
    }
}

fn markdown_header() -> String {
    format!(
        "| date | machine | data set | rounds | fetchkit | read only | tame-index \
         | tame-index IndexKrate | IndexKrate / fetchkit (>= {TARGET:.2}) \
         | tame-index / fetchkit (>= {TARGET_SKIM:.2}) | answers |\n\
         |---|---|---|---|---|---|---|---|---|---|---|"
    )
}

/// Microseconds below 10 ms, milliseconds above.
fn format_time(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.0} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

/// Cache-file bytes read per second, in MB/s.
fn throughput(bytes: u64, d: Duration) -> String {
    format!("{:.0} MB/s", bytes as f64 / 1e6 / d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::{path::PathBuf, time::Duration};

    use super::{DataSet, Report, Sample, markdown_header};

    fn sample(us: u64, checksum: &str) -> Option<Sample> {
        Some(Sample {
            per_pass: Duration::from_micros(us),
            passes: 100,
            wall: Duration::from_secs(1),
            checksum: checksum.to_owned(),
            found: "1/1/1/1".to_owned(),
            rejected: 0,
        })
    }

    fn set() -> DataSet {
        DataSet {
            name: "single",
            root: PathBuf::from("/data/single"),
            files: 1,
            versions: 2000,
            bytes: 3_300_000,
        }
    }

    #[test]
    fn result_line() {
        let stdout = "rejected abc: no cache file\nresult passes=559 seconds=0.300116 \
                      per_pass_ns=536879 files=1 checksum=e01d80204759c5e4 found=1/1/0/1 \
                      rejected=1\n";
        let sample = Sample::parse(stdout, Duration::from_millis(400)).unwrap();
        assert_eq!(
            sample,
            Sample {
                per_pass: Duration::from_nanos(536_879),
                passes: 559,
                wall: Duration::from_millis(400),
                checksum: "e01d80204759c5e4".to_owned(),
                found: "1/1/0/1".to_owned(),
                rejected: 1,
            }
        );
        let err = Sample::parse("result passes=3\n", Duration::ZERO).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`per_pass_ns` missing from `result passes=3`"
        );
    }

    /// Ratios are paired within rounds; the answers agree when every checksum does.
    #[test]
    fn verdicts_and_row() {
        let report = Report::new(vec![
            [
                sample(500, "a"),
                sample(200, "read"),
                sample(300, "a"),
                sample(36_000, "a"),
            ],
            [
                sample(520, "a"),
                sample(210, "read"),
                sample(2_800, "a"),
                sample(35_000, "a"),
            ],
            [
                sample(700, "a"),
                sample(220, "read"),
                sample(3_600, "a"),
                sample(37_000, "a"),
            ],
        ]);
        assert_eq!(report.disagreement(), None, "read-only runs answer nothing");
        let expected = "\
tame-index IndexKrate / fetchkit (single) = 67.31, median of the rounds' own ratios (of the medians: 69.23) (target >= 5.00): PASS
tame-index / fetchkit (single) = 5.14, median of the rounds' own ratios (of the medians: 5.38) (target >= 1.00): PASS
fetchkit takes 2.48x the reads alone; 5x tame-index would need 560 µs per pass, more than the 210 µs the reads alone take";
        assert_eq!(report.verdicts(&set()), expected);
        assert_eq!(
            report.markdown_row("2026-11-22", "2 cores, test cpu", &set()),
            "| 2026-11-22 | 2 cores, test cpu | single: 1 file, 2000 versions, 3.3 MB | 3 \
             | 520 µs, 6346 MB/s | 210 µs, 15714 MB/s | 2800 µs, 1179 MB/s | 36.0 ms, 92 MB/s \
             | 67.31 PASS (69.23) | 5.14 PASS (5.38) | agree |"
        );
        assert_eq!(markdown_header().lines().count(), 2);
    }

    #[test]
    fn disagreement_names_each_column_once() {
        let report = Report::new(vec![
            [
                sample(500, "a"),
                sample(200, "read"),
                sample(300, "b"),
                sample(36_000, "a"),
            ],
            [
                sample(520, "a"),
                sample(200, "read"),
                sample(280, "b"),
                sample(35_000, "a"),
            ],
        ]);
        assert_eq!(
            report.disagreement().unwrap(),
            "fetchkit checksum a found 1/1/1/1 rejected 0; tame-index checksum b found 1/1/1/1 \
             rejected 0; tame-index IndexKrate checksum a found 1/1/1/1 rejected 0"
        );
    }
}
