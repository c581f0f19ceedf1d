//! `cargo xtask ci`: the checks a change must pass, in order, stopping at the first failure.
//!
//! Format, clippy and the workspace's tests; then the published Taskcluster client against our
//! fake services (`compat/`), so the fakes stay honest; then real cargo building this workspace
//! from a fetchkit mirror (`mirror-check`); then each fuzz target for a few seconds, so a parser
//! that panics on some input fails the run.

use std::time::Instant;

use crate::util;

/// Seconds each fuzz target runs in CI: enough to replay the seeds and the corpus and explore a
/// little; longer runs are `cargo xtask fuzz --seconds N`.
const FUZZ_SECONDS: &str = "10";

/// The compatibility project: its own cargo root, its own lock file and target directory.
pub(crate) const COMPAT_MANIFEST: &str = "compat/taskcluster-download/Cargo.toml";

type Step = (&'static str, fn() -> anyhow::Result<()>);

const STEPS: &[Step] = &[
    ("format", || cargo(&["fmt", "--all", "--", "--check"])),
    ("clippy", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
    }),
    ("test", || cargo(&["test", "--workspace", "--locked"])),
    ("compat", compat),
    ("mirror-check", crate::mirror_check::run),
    ("fuzz", || {
        crate::fuzz::run(&["--seconds".to_owned(), FUZZ_SECONDS.to_owned()])
    }),
];

pub(crate) fn run() -> anyhow::Result<()> {
    let total = Instant::now();
    for (index, (name, step)) in STEPS.iter().enumerate() {
        println!("==> ci step {}/{}: {name}", index + 1, STEPS.len());
        let started = Instant::now();
        let result = step();
        println!(
            "<== ci step {name}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        result?;
    }
    println!("ci passed in {:.1} s", total.elapsed().as_secs_f64());
    Ok(())
}

/// `cargo xtask compat`: the published `taskcluster-download` crate against `FakeTaskcluster`.
pub(crate) fn compat() -> anyhow::Result<()> {
    cargo(&["test", "--locked", "--manifest-path", COMPAT_MANIFEST])
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    util::run(util::cargo().args(args))
}
