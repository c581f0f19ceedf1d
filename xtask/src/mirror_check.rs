//! `cargo xtask mirror-check`: real cargo builds this repository from a fetchkit mirror.
//!
//! The README's main job, end to end: the cargo home that built the workspace is the upstream
//! (no network), `fetchkit mirror` copies the closure of `Cargo.lock` out of it, `fetchkit
//! mirror verify` re-hashes it, `fetchkit serve` serves it, and cargo, with a fresh cargo home
//! whose only registry is that server, builds a copy of the workspace. Then nginx serves the
//! same folder with the configuration `docs/mirror.md` gives, and cargo, with another fresh
//! cargo home, fetches every package of the lock file from it: the layout works as plain
//! static files too. Any request leaving loopback fails, since the proxy variables point at a
//! closed port.

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail, format_err};

use crate::bench::{self, Nginx};
use crate::util;

/// The `server` directives `docs/mirror.md` gives for serving a mirror with nginx (the bench's
/// configuration already sets `default_type`).
const NGINX_DIRECTIVES: &str = "location /.fetchkit/ { return 404; }\n        etag on;";

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

    let nginx = bench::ensure_tools(&[bench::NGINX])?.remove(0);
    let mirror = work.join("mirror");
    // nginx first: its port goes into `config.json` (`fetchkit serve` rewrites it anyway).
    let static_server = Nginx::start_with(&nginx, &work, &mirror, NGINX_DIRECTIVES)?;
    util::run(
        Command::new(&fetchkit)
            .arg("mirror")
            .arg(&mirror)
            .arg("--lockfile")
            .arg(root.join("Cargo.lock"))
            .arg("--from-cargo-home")
            .arg(cargo_home()?)
            .arg("--base-url")
            .arg(static_server.url("")),
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
    let mut build = cargo_using_mirror(&copy, &home, &format!("http://{}", server.addr))?;
    build
        .args(["build", "--locked", "--workspace"])
        .env("CARGO_TARGET_DIR", work.join("target"));
    util::run(&mut build).context("cargo could not build the workspace from the mirror")?;
    expect_downloads(&home)?;
    drop(server);
    println!(
        "mirror-check: cargo built the workspace from {} served by fetchkit",
        mirror.display()
    );
    remove(&work.join("target"))?;

    let home = work.join("cargo-home-nginx");
    let mut fetch = cargo_using_mirror(&copy, &home, &static_server.url(""))?;
    fetch.args(["fetch", "--locked"]);
    util::run(&mut fetch).context("cargo could not fetch the lock file from the mirror (nginx)")?;
    let fetched = expect_downloads(&home)?;
    println!(
        "mirror-check: cargo fetched all {fetched} packages of the lock file from {} served by \
         nginx",
        mirror.display()
    );
    Ok(())
}

/// Cargo in `workspace` with a fresh cargo home whose only registry is the mirror at
/// `base_url` (as a replacement for the default one), and no way off loopback.
fn cargo_using_mirror(workspace: &Path, home: &Path, base_url: &str) -> anyhow::Result<Command> {
    fs::create_dir_all(home).with_context(|| format!("{}: cannot create", home.display()))?;
    fs::write(
        home.join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"mirror\"\n\n[source.mirror]\nregistry = \
             \"sparse+{}/index/\"\n",
            base_url.trim_end_matches('/')
        ),
    )?;
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CARGO_") {
            cargo.env_remove(name);
        }
    }
    cargo
        .current_dir(workspace)
        .env("CARGO_HOME", home)
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        // Anything but loopback goes to a closed port and fails.
        .env("http_proxy", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("no_proxy", "127.0.0.1")
        .env("NO_PROXY", "127.0.0.1");
    Ok(cargo)
}

/// How many `.crate` files cargo downloaded into `home`; none is an error, since then the
/// check proved nothing.
fn expect_downloads(home: &Path) -> anyhow::Result<usize> {
    let mut downloaded = 0;
    if let Ok(registries) = fs::read_dir(home.join("registry").join("cache")) {
        for registry in registries.flatten() {
            downloaded += fs::read_dir(registry.path())
                .map(|files| files.count())
                .unwrap_or(0);
        }
    }
    if downloaded == 0 {
        bail!("cargo downloaded nothing from the mirror: the check proved nothing");
    }
    Ok(downloaded)
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
