//! `cargo xtask fuzz [TARGET] [--seconds N]`: runs the cargo-fuzz targets of `fuzz/` for a
//! bounded time each and fails if any of them finds a crashing input.
//!
//! Runs on the stable toolchain. cargo-fuzz's default AddressSanitizer needs
//! `-Zsanitizer=address`, which stable rustc refuses ("the option `Z` is only accepted on the
//! nightly compiler"). `--sanitizer none` drops that one flag, and everything else cargo-fuzz
//! passes is stable: the coverage instrumentation libFuzzer is guided by comes from
//! `-Cpasses=sancov-module` and `-Cllvm-args=-sanitizer-coverage-*`, and `-Cdebug-assertions`
//! keeps overflow checks on. So no `RUSTC_BOOTSTRAP=1` and no nightly. Without ASan only
//! memory errors in `unsafe` code would go unnoticed, and fetchkit forbids `unsafe`; a panic
//! aborts the target, which libFuzzer reports as a crash with the input saved.
//!
//! Each target starts from the committed seeds in `fuzz/seeds/TARGET` and keeps what it learns
//! in `fuzz/corpus/TARGET`; crashing inputs land in `fuzz/artifacts/TARGET` (both git-ignored).

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{Context, bail};

use crate::{bench, flags, util};

/// Everything `cargo fuzz` gets besides the subcommand and target: see the module comment.
const SANITIZER: [&str; 2] = ["--sanitizer", "none"];

/// libfuzzer-sys compiles libFuzzer, which is C++.
const CXX: bench::Tool = bench::Tool {
    program: "c++",
    package: "g++",
    extra: &[],
};

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let (named, flags) = match args.first() {
        Some(first) if !first.starts_with("--") => (Some(first.as_str()), &args[1..]),
        _ => (None, args),
    };
    let [seconds] = flags::numbers(flags, "fuzz", &[("seconds", 30)])?[..] else {
        unreachable!("one flag, one value");
    };
    if seconds == 0 {
        // libFuzzer reads `-max_total_time=0` as "no limit".
        bail!("fuzz: `--seconds` must be at least 1");
    }

    let root = util::project_root();
    let all = targets(&root)?;
    let targets = match named {
        Some(name) if all.iter().any(|target| target == name) => vec![name.to_owned()],
        Some(name) => bail!(
            "fuzz: unknown target `{name}`; known targets: {}",
            all.join(", ")
        ),
        None => all,
    };

    bench::ensure_tools(&[CXX])?;
    ensure_cargo_fuzz()?;

    let started = Instant::now();
    let mut build = cargo_fuzz();
    build.arg("build").args(SANITIZER);
    if let Some(name) = named {
        build.arg(name);
    }
    util::run(&mut build)?;
    println!(
        "built {} fuzz target(s) in {:.1} s",
        targets.len(),
        started.elapsed().as_secs_f64()
    );

    let mut crashes = Vec::new();
    for target in &targets {
        match fuzz(&root, target, seconds)? {
            None => println!("fuzz {target}: no crash in {seconds} s"),
            Some(artifact) => {
                println!("fuzz {target}: crashed, input in {artifact}");
                let sanitizer = SANITIZER.join(" ");
                crashes.push(format!(
                    "`{target}` (input {artifact}; reproduce with \
                     `cargo fuzz run {sanitizer} {target} {artifact}`)"
                ));
            }
        }
    }
    if !crashes.is_empty() {
        bail!("fuzz target crashed: {}", crashes.join(", "));
    }
    println!(
        "{} fuzz target(s) ran {seconds} s each without a crash",
        targets.len()
    );
    Ok(())
}

/// The fuzz targets: `fuzz/fuzz_targets/NAME.rs`, sorted by name.
fn targets(root: &Path) -> anyhow::Result<Vec<String>> {
    let dir = root.join("fuzz").join("fuzz_targets");
    let mut names = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "rs")
            && let Some(stem) = path.file_stem()
        {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort();
    if names.is_empty() {
        bail!("no fuzz targets in {}", dir.display());
    }
    Ok(names)
}

/// `cargo fuzz`, in the workspace root, building into `fuzz/target`.
fn cargo_fuzz() -> Command {
    let mut cmd = util::cargo();
    cmd.arg("fuzz");
    // The fuzz project is its own workspace with its own flags: sharing a target directory
    // with the main workspace would only make each rebuild the other.
    cmd.env_remove("CARGO_TARGET_DIR");
    cmd
}

/// Installs cargo-fuzz unless `cargo fuzz --version` works.
fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let works = cargo_fuzz()
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !works {
        println!("installing cargo-fuzz (`cargo fuzz --version` failed)");
        util::run(util::cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

/// Fuzzes `target` for `seconds`; returns the crashing input's path (relative to the root)
/// if it crashed.
fn fuzz(root: &Path, target: &str, seconds: u64) -> anyhow::Result<Option<String>> {
    // Relative to the root, where cargo fuzz runs, so the echoed command reads well.
    let corpus = format!("fuzz/corpus/{target}");
    let seeds = format!("fuzz/seeds/{target}");
    let artifacts = root.join("fuzz").join("artifacts").join(target);
    fs::create_dir_all(root.join(&corpus)).with_context(|| format!("cannot create {corpus}"))?;
    let before = files(&artifacts)?;

    let mut cmd = cargo_fuzz();
    // New inputs go to the first corpus directory; the seeds are only read.
    cmd.arg("run").args(SANITIZER).args([target, &corpus]);
    if root.join(&seeds).is_dir() {
        cmd.arg(&seeds);
    }
    cmd.args(["--", &format!("-max_total_time={seconds}")]);
    let Err(error) = util::run(&mut cmd) else {
        return Ok(None);
    };
    let new: Vec<PathBuf> = files(&artifacts)?.difference(&before).cloned().collect();
    match new.first() {
        Some(artifact) => {
            let relative = artifact.strip_prefix(root).unwrap_or(artifact);
            Ok(Some(relative.display().to_string()))
        }
        // No input saved: the run failed for another reason (a build error, a missing tool).
        None => Err(error.context(format!("fuzz {target}: failed without saving an input"))),
    }
}

/// The files in `dir` (none if it does not exist).
fn files(dir: &Path) -> anyhow::Result<BTreeSet<PathBuf>> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|entry| Ok(entry?.path()))
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("cannot list {}", dir.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(error) => Err(error).with_context(|| format!("cannot list {}", dir.display())),
    }
}
