//! `cargo xtask demo`: the main job end to end, on loopback. Builds the release CLI, serves a
//! generated 64 MiB file from `fetchkit-test-support`'s server and downloads it with
//! `fetchkit download --sha256`, progress bar and all.

use std::{fs, process::Command};

use anyhow::{Context, bail};
use fetchkit_test_support::{FaultServer, Resource};
use sha2::{Digest, Sha256};

use crate::{bench, util};

const SIZE_MIB: u64 = 64;

pub(crate) fn run() -> anyhow::Result<()> {
    let target = util::target_dir()?;
    let fetchkit = bench::build_cli_release(&target)?;
    let dir = target.join("demo");
    fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let dest = dir.join("demo.bin");

    let mut body = vec![0u8; (SIZE_MIB * bench::MIB) as usize];
    fastrand::Rng::with_seed(0xde70).fill(&mut body);
    let hex = hex::encode(Sha256::digest(&body));

    let server = FaultServer::start();
    server.route(
        "/demo.bin",
        Resource::new(bytes::Bytes::from(body))
            .ranges(true)
            .etag("\"demo\""),
    );
    let url = server.url("/demo.bin");
    println!("serving {SIZE_MIB} MiB at {url} (sha256 {hex})");

    util::run(
        Command::new(&fetchkit)
            .args(["download", &url, "-o"])
            .arg(&dest)
            .args(["--sha256", &hex]),
    )?;
    drop(server);

    let written = fs::read(&dest).with_context(|| format!("{}: cannot read", dest.display()))?;
    let got = hex::encode(Sha256::digest(&written));
    if got != hex {
        bail!("{}: sha256 {got}, expected {hex}", dest.display());
    }
    println!(
        "demo: {} ({SIZE_MIB} MiB), sha256 {hex} verified",
        dest.display()
    );
    Ok(())
}
