//! fetchkit's automation, reached through the `cargo xtask` alias.
//!
//! - `cargo xtask ci`: format check, clippy with `-D warnings`, all tests, the compatibility
//!   check, and a short run of every fuzz target.
//! - `cargo xtask compat`: the published Taskcluster client against our fake services.
//! - `cargo xtask bench NAME [FLAGS]`: benchmarks against peer tools on loopback.
//! - `cargo xtask demo`: download a generated file from a loopback server with the release CLI.
//! - `cargo xtask mirror-check`: real cargo builds this workspace from a fetchkit mirror.
//! - `cargo xtask fuzz [TARGET] [--seconds N]`: run the parser fuzz targets in `fuzz/`, bounded.
//! - `cargo xtask gen-dump --crates N --versions-per-crate M --schema old|new -o FILE`: write a
//!   synthetic registry database dump (`.tar.gz`) in the real layout, for lister tests and
//!   benchmarks.
//!
//! The tidy tests (`src/tidy.rs`) run as this crate's unit tests, inside `cargo test --workspace`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod ci;
mod demo;
mod flags;
mod fuzz;
mod gen_dump;
mod mirror_check;
mod util;

#[cfg(test)]
mod tidy;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci                     cargo fmt --check, cargo clippy -D warnings, cargo test (whole workspace),
                         compat, mirror-check, and every fuzz target for 10 s
  compat                 the published taskcluster-download crate against our fake services
  bench download [--size-mib N] [--rounds N]
                         fetchkit download against curl, sha256sum and openssl on loopback nginx
  bench extract [--rounds N] [--zip-files N] [--tar-mb N]
                         fetchkit extract against unzip and tar xzf, and streaming a tar.gz from
                         loopback nginx against download-only and extract-only
  bench index-cache [--rounds N] [--crates N] [--versions N] [--min-ms N]
                         fetchkit's index cache reader against the tame-index crate: newest
                         matching version from one 2,000-version cache file and from 10,000 files
  bench lister [--crates N] [--versions-per-crate M] [--rounds N]
                         fetchkit list crates against the inflate bound, the db-dump crate and
                         Software Heritage's lister on a full-scale synthetic dump
  bench mirror [--crates N] [--rounds N] [--jobs N]
                         fetchkit mirror against aria2c --checksum and cargo fetch on a loopback
                         nginx sparse registry, with wrk's requests per second as the ceiling
  demo                   serve a generated 64 MiB file on loopback and download it with fetchkit
  fuzz [TARGET] [--seconds N]
                         run each fuzz target in fuzz/ (or just TARGET) for N seconds (default 30)
  gen-dump --crates N --versions-per-crate M --schema old|new -o FILE [--seed S]
           [--timestamp RFC3339]
                         write a synthetic registry database dump (.tar.gz) in the real layout:
                         dated folder, metadata.json, data/*.csv in export order; same seed,
                         same bytes
  mirror-check           real cargo builds this workspace from a fetchkit mirror of Cargo.lock,
                         taken from the cargo home and served by fetchkit serve
  help                   print this message";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> anyhow::Result<()> {
    let mut args = args.into_iter();
    let command = args.next();
    let rest: Vec<String> = args.collect();
    match command.as_deref() {
        Some("ci") => {
            flags::no_more(&rest, "ci")?;
            ci::run()
        }
        Some("compat") => {
            flags::no_more(&rest, "compat")?;
            ci::compat()
        }
        Some("bench") => bench::run(rest),
        Some("demo") => {
            flags::no_more(&rest, "demo")?;
            demo::run()
        }
        Some("fuzz") => fuzz::run(&rest),
        Some("mirror-check") => {
            flags::no_more(&rest, "mirror-check")?;
            mirror_check::run()
        }
        Some("gen-dump") => gen_dump::run(&rest),
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            anyhow::bail!(
                "unknown command `{other}`; known commands: ci, compat, bench, demo, fuzz, gen-dump, \
                 mirror-check, help"
            )
        }
    }
}
