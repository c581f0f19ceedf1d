//! `cargo xtask ci`: the checks a change must pass, in order, stopping at the first failure.

use std::time::Instant;

use crate::util;

const STEPS: &[(&str, &[&str])] = &[
    ("format", &["fmt", "--all", "--", "--check"]),
    (
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    ),
    ("test", &["test", "--workspace", "--locked"]),
];

pub(crate) fn run() -> anyhow::Result<()> {
    let total = Instant::now();
    for (index, (name, args)) in STEPS.iter().enumerate() {
        println!("==> ci step {}/{}: {name}", index + 1, STEPS.len());
        let started = Instant::now();
        let result = util::run(util::cargo().args(*args));
        println!(
            "<== ci step {name}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        result?;
    }
    println!("ci passed in {:.1} s", total.elapsed().as_secs_f64());
    Ok(())
}
