//! `cargo xtask mirror-check`: real cargo builds this repository from a fetchkit mirror.
//!
//! The README's main job, end to end: the cargo home that built the workspace is the upstream
//! (no network), `fetchkit mirror` copies the closure of `Cargo.lock` out of it, `fetchkit
//! mirror verify` re-hashes it, `fetchkit serve` serves it, and cargo, with a fresh cargo home
//! whose only registry is that server, builds a copy of the workspace. Any request leaving
//! loopback fails, since the proxy variables point at a closed port.

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail, format_err};

use crate::util;

pub(crate) fn run() -> anyhow::Result<()> {
    let root = util::project_root();
    let target = util::target_dir()?;
    let work = target.join("mirror-check");
    remove(&work)?;
    fs::create_dir_all(&work).with_context(|| format!("{}: cannot create", work.display()))?;

    util::run(util::cargo().args(["build", "--locked", "-p", "fetchkit-cli"]))?;
    let fetchkit = target.join("debug").join("fetchkit");
    // A build downloads only what the host needs; the lock file names every platform's
    // crates, and the mirror is to hold them all.
    util::run(util::cargo().args(["fetch", "--locked"]))?;

    let mirror = work.join("mirror");
    util::run(
        Command::new(&fetchkit)
            .arg("mirror")
            .arg(&mirror)
            .arg("--lockfile")
            .arg(root.join("Cargo.lock"))
            .arg("--from-cargo-home")
            .arg(cargo_home()?),
    )?;
    util::run(
        Command::new(&fetchkit)
            .args(["mirror", "verify"])
            .arg(&mirror),
    )?;

    let server = Served::start(&fetchkit, &mirror)?;
    let copy = work.join("workspace");
    copy_tracked_files(&root, &copy)?;
    let home = work.join("cargo-home");
    fs::create_dir_all(&home)?;
    fs::write(
        home.join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"mirror\"\n\n[source.mirror]\nregistry = \
             \"sparse+http://{}/index/\"\n",
            server.addr
        ),
    )?;
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CARGO_") {
            build.env_remove(name);
        }
    }
    build
        .current_dir(&copy)
        .args(["build", "--locked", "--workspace"])
        .env("CARGO_HOME", &home)
        .env("CARGO_TARGET_DIR", work.join("target"))
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        // Anything but loopback goes to a closed port and fails.
        .env("http_proxy", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("no_proxy", "127.0.0.1")
        .env("NO_PROXY", "127.0.0.1");
    util::run(&mut build).context("cargo could not build the workspace from the mirror")?;
    let downloaded = fs::read_dir(home.join("registry").join("cache"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    if downloaded == 0 {
        bail!("cargo downloaded nothing from the mirror: the check proved nothing");
    }
    drop(server);
    println!(
        "mirror-check: cargo built the workspace from {}",
        mirror.display()
    );
    remove(&work.join("target"))?;
    Ok(())
}

/// `$CARGO_HOME`, else `~/.cargo`: the cargo home that built this workspace.
fn cargo_home() -> anyhow::Result<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|home| !home.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    std::env::home_dir()
        .map(|home| home.join(".cargo"))
        .ok_or_else(|| format_err!("no cargo home: set CARGO_HOME"))
}

fn copy_tracked_files(root: &Path, copy: &Path) -> anyhow::Result<()> {
    let listed = util::read_quiet(
        Command::new("git")
            .current_dir(root)
            // Tracked files and new ones not ignored: the workspace as it stands, as a clean
            // clone of a commit of it would have it.
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ]),
    )?;
    for relative in listed.split('\0').filter(|name| !name.is_empty()) {
        let from = root.join(relative);
        if !from.is_file() {
            continue;
        }
        let to = copy.join(relative);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(&from, &to).with_context(|| format!("{}: cannot copy", from.display()))?;
    }
    Ok(())
}

fn remove(path: &Path) -> anyhow::Result<()> {
    match fs::remove_dir_all(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("{}: cannot remove", path.display()))
        }
        _ => Ok(()),
    }
}

/// `fetchkit serve` on a free loopback port, stopped when dropped.
struct Served {
    child: Child,
    addr: String,
    /// Kept open: a server writing to a closed pipe would die of it.
    _stderr: BufReader<std::process::ChildStderr>,
}

impl Served {
    fn start(fetchkit: &Path, mirror: &Path) -> anyhow::Result<Served> {
        let mut child = Command::new(fetchkit)
            .arg("serve")
            .arg(mirror)
            .args(["--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start fetchkit serve")?;
        let mut line = String::new();
        let mut stderr = BufReader::new(child.stderr.take().context("piped")?);
        stderr.read_line(&mut line)?;
        // "serving DIR at http://ADDR/ (…"
        let addr = line
            .split(" at http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .map(str::to_owned);
        match addr {
            Some(addr) => Ok(Served {
                child,
                addr,
                _stderr: stderr,
            }),
            None => {
                let _ = child.kill();
                bail!("fetchkit serve did not say where it listens: {line:?}")
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
