//! What the runners of `cargo xtask bench index-cache` share: their command line, the
//! requirements they answer, the timing loop and the checksum of their answers. Nothing here
//! reads a cache file, so each runner's time is its own tool's reading and querying; the
//! little that is shared (hashing the answers) costs both the same.
//!
//! A data set is a folder laid out as cargo's registry index folder: `ROOT/.cache/<path>` for
//! each crate, `ROOT/names.txt` with one crate name per line (the order every runner visits
//! them in). A runner looks each name up with its own tool's path function, reads the file,
//! parses it, and answers every requirement in [`REQUIREMENTS`] for it.

use std::{
    fmt::{self, Write as _},
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// The requirements each runner answers for every file, in this order: the newest release of
/// any version, of 1.x, of an old pre-1.0 range, and one that lets 1.0.0's pre-releases in
/// (semver's pre-release rule, which both tools take from the same `semver` crate).
pub const REQUIREMENTS: [&str; 4] = ["*", "^1", ">=0.3, <0.5", "^1.0.0-rc.1"];

/// A runner's command line: `RUNNER ROOT [--min-ms N] [FLAG…]`.
#[derive(Debug)]
pub struct Args {
    /// The data set's root (the folder holding `.cache` and `names.txt`).
    pub root: PathBuf,
    /// The crate names from `names.txt`, in file order.
    pub names: Vec<String>,
    /// Passes repeat until at least this much time has gone by.
    pub min_time: Duration,
    /// The runner-specific flags that were given (each one of `known`).
    pub flags: Vec<String>,
}

impl Args {
    /// Reads the command line; `known` are the runner's own flags (without values).
    pub fn parse(usage: &str, known: &[&str]) -> anyhow::Result<Args> {
        let mut root = None;
        let mut min_ms = 1000u64;
        let mut flags = Vec::new();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--min-ms" {
                let value = args.next().context("`--min-ms` needs a value")?;
                min_ms = value
                    .parse()
                    .with_context(|| format!("`--min-ms {value}` is not a whole number"))?;
            } else if known.contains(&arg.as_str()) {
                flags.push(arg);
            } else if arg.starts_with("--") || root.is_some() {
                bail!("unexpected argument `{arg}`; usage: {usage}");
            } else {
                root = Some(PathBuf::from(arg));
            }
        }
        let root = root.with_context(|| format!("usage: {usage}"))?;
        let list = root.join("names.txt");
        let names: Vec<String> = std::fs::read_to_string(&list)
            .with_context(|| format!("{}: cannot read", list.display()))?
            .lines()
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            bail!("{}: no crate names", list.display());
        }
        Ok(Args {
            root,
            names,
            min_time: Duration::from_millis(min_ms),
            flags,
        })
    }

    /// Whether the runner-specific `flag` was given.
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|given| given == flag)
    }
}

/// FNV-1a, 64 bits: enough to tell two runners' answers apart, and fed through `fmt::Write`
/// so that answers are hashed from their `Display` form without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl fmt::Write for Fnv {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for &byte in text.as_bytes() {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

/// One pass's answers: a checksum over every (file, requirement, answer), how many
/// requirements found a version, and the files the tool could not use.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    checksum: Fnv,
    files: u64,
    found: [u64; REQUIREMENTS.len()],
    rejected: u64,
    /// The first few rejections, for the report (not compared between passes).
    reasons: Vec<String>,
}

impl Answers {
    /// Starts the answers for the crate `name`.
    pub fn file(&mut self, name: &str) {
        self.files += 1;
        let _ = write!(self.checksum, "\n{name}");
    }

    /// The answer to requirement number `requirement` for the current file: the version
    /// (as cargo spells its key), or `None` when no usable version matches.
    pub fn answer(&mut self, requirement: usize, newest: Option<impl fmt::Display>) {
        let _ = write!(self.checksum, " {requirement}:");
        if let Some(newest) = newest {
            self.found[requirement] += 1;
            let _ = write!(self.checksum, "{newest}");
        } else {
            let _ = self.checksum.write_str("-");
        }
    }

    /// The current file could not be used at all (`reason` says why).
    pub fn rejected(&mut self, name: &str, reason: impl fmt::Display) {
        self.rejected += 1;
        let _ = self.checksum.write_str(" rejected");
        if self.reasons.len() < 5 {
            self.reasons.push(format!("{name}: {reason}"));
        }
    }

    fn same(&self, other: &Answers) -> bool {
        (self.checksum, self.files, self.found, self.rejected)
            == (other.checksum, other.files, other.found, other.rejected)
    }
}

/// Runs `pass` (one lookup of every name) once untimed, so the files are in the page cache
/// and the allocator is warm, then again and again until `args.min_time` has gone by; every
/// pass must give the answers the first gave. Prints the rejections, then one `result` line:
///
/// `result passes=N seconds=S per_pass_ns=X files=F checksum=HEX found=A/B/C/D rejected=R`
///
/// `seconds` is the in-process time of the timed passes: reading, parsing and querying, not
/// the process start-up or the names list.
pub fn run(args: &Args, mut pass: impl FnMut(&mut Answers)) -> anyhow::Result<()> {
    let mut first = Answers::default();
    pass(&mut first);
    let started = Instant::now();
    let mut passes = 0u64;
    let elapsed = loop {
        let mut answers = Answers::default();
        pass(&mut answers);
        passes += 1;
        if !answers.same(&first) {
            bail!("pass {passes} answered differently from the first pass");
        }
        let elapsed = started.elapsed();
        if elapsed >= args.min_time {
            break elapsed;
        }
    };
    for reason in &first.reasons {
        println!("rejected {reason}");
    }
    let found: Vec<String> = first.found.iter().map(u64::to_string).collect();
    println!(
        "result passes={passes} seconds={:.6} per_pass_ns={} files={} checksum={:016x} \
         found={} rejected={}",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() / u128::from(passes),
        first.files,
        first.checksum.0,
        found.join("/"),
        first.rejected,
    );
    Ok(())
}

/// [`REQUIREMENTS`] parsed; a runner does this once, outside its timed passes.
pub fn requirements() -> Vec<semver::VersionReq> {
    REQUIREMENTS
        .iter()
        .map(|text| text.parse().expect("the requirements are valid"))
        .collect()
}
