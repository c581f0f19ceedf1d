//! `cargo xtask bench NAME`: benchmarks of fetchkit against peer tools, on loopback only.
//!
//! Each bench is a sibling module with a `run(args)` entry; this module holds what they share:
//! installing the peer tools, building the release CLI, the data file, a loopback nginx, timing
//! and medians, and the machine description for `docs/benchmarks.md`.

mod download;
mod extract;
mod index_cache;
mod lister;
mod mirror;

use std::{
    fs,
    io::Write,
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, format_err};

use crate::util;

const BENCHES: &[&str] = &["download", "extract", "index-cache", "lister", "mirror"];

pub(crate) fn run(args: Vec<String>) -> anyhow::Result<()> {
    let mut args = args.into_iter();
    let name = args.next();
    let rest: Vec<String> = args.collect();
    match name.as_deref() {
        Some("download") => download::run(&rest),
        Some("extract") => extract::run(&rest),
        Some("index-cache") => index_cache::run(&rest),
        Some("lister") => lister::run(&rest),
        Some("mirror") => mirror::run(&rest),
        Some(other) => bail!(
            "unknown bench `{other}`; known benches: {}",
            BENCHES.join(", ")
        ),
        None => bail!("bench needs a name; known benches: {}", BENCHES.join(", ")),
    }
}

pub(crate) const MIB: u64 = 1024 * 1024;

/// A program a bench needs, and the Debian package that provides it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tool {
    pub(crate) program: &'static str,
    pub(crate) package: &'static str,
    /// Places to look besides PATH (nginx lives in /usr/sbin, which may not be on PATH).
    pub(crate) extra: &'static [&'static str],
}

pub(crate) const NGINX: Tool = Tool {
    program: "nginx",
    package: "nginx",
    extra: &["/usr/sbin/nginx"],
};
pub(crate) const CURL: Tool = Tool {
    program: "curl",
    package: "curl",
    extra: &[],
};
pub(crate) const OPENSSL: Tool = Tool {
    program: "openssl",
    package: "openssl",
    extra: &[],
};
pub(crate) const SHA256SUM: Tool = Tool {
    program: "sha256sum",
    package: "coreutils",
    extra: &[],
};
/// Info-ZIP's `unzip`, the zip extractor most systems ship.
pub(crate) const UNZIP: Tool = Tool {
    program: "unzip",
    package: "unzip",
    extra: &[],
};
/// GNU tar (`tar xzf` runs gzip as a second process).
pub(crate) const TAR: Tool = Tool {
    program: "tar",
    package: "tar",
    extra: &[],
};

/// Installs the missing tools with apt-get (we run as root) and returns each tool's path.
pub(crate) fn ensure_tools(tools: &[Tool]) -> anyhow::Result<Vec<PathBuf>> {
    let missing: Vec<&Tool> = tools
        .iter()
        .filter(|tool| util::find_program(tool.program, tool.extra).is_none())
        .collect();
    if !missing.is_empty() {
        let packages: Vec<&str> = missing.iter().map(|tool| tool.package).collect();
        println!("installing {} (not found on PATH)", packages.join(" "));
        util::run(Command::new("apt-get").arg("update"))?;
        util::run(
            Command::new("apt-get")
                .args(["install", "-y"])
                .args(&packages),
        )?;
    }
    tools
        .iter()
        .map(|tool| {
            util::find_program(tool.program, tool.extra).ok_or_else(|| {
                format_err!(
                    "{} is still not on PATH after installing {}",
                    tool.program,
                    tool.package
                )
            })
        })
        .collect()
}

/// Builds `fetchkit-cli` in release mode and returns the path of the `fetchkit` binary.
pub(crate) fn build_cli_release(target: &Path) -> anyhow::Result<PathBuf> {
    util::run(util::cargo().args(["build", "--release", "-p", "fetchkit-cli"]))?;
    let binary = target.join("release").join("fetchkit");
    if !binary.is_file() {
        bail!(
            "{}: not found after building fetchkit-cli",
            binary.display()
        );
    }
    Ok(binary)
}

/// Writes `mib` MiB of seeded pseudo-random bytes to `path`, unless a file of that size is
/// already there. Written beside and renamed, so an interrupted run leaves no short file.
pub(crate) fn ensure_data_file(path: &Path, mib: u64) -> anyhow::Result<()> {
    let size = mib * MIB;
    if fs::metadata(path).is_ok_and(|meta| meta.len() == size) {
        println!("reusing {} ({mib} MiB)", path.display());
        return Ok(());
    }
    println!(
        "writing {} ({mib} MiB of pseudo-random bytes)",
        path.display()
    );
    let partial = path.with_extension("partial");
    let mut file = fs::File::create(&partial)
        .with_context(|| format!("{}: cannot create", partial.display()))?;
    let mut rng = fastrand::Rng::with_seed(0x5eed_f37c_4b17);
    let mut block = vec![0u8; MIB as usize];
    for _ in 0..mib {
        rng.fill(&mut block);
        file.write_all(&block)
            .with_context(|| format!("{}: write failed", partial.display()))?;
    }
    file.sync_all()
        .with_context(|| format!("{}: fsync failed", partial.display()))?;
    fs::rename(&partial, path)
        .with_context(|| format!("{}: cannot rename to {}", partial.display(), path.display()))?;
    Ok(())
}

/// `openssl dgst -sha256 -r FILE`, parsed to lower-case hex.
pub(crate) fn openssl_sha256(openssl: &Path, file: &Path) -> anyhow::Result<String> {
    let out = util::read(
        Command::new(openssl)
            .args(["dgst", "-sha256", "-r"])
            .arg(file),
    )?;
    parse_hex_digest(&out).with_context(|| format!("openssl dgst output for {}", file.display()))
}

/// The leading SHA-256 hex digest of `sha256sum` or `openssl dgst -r` output.
pub(crate) fn parse_hex_digest(output: &str) -> anyhow::Result<String> {
    let hex = output.split_whitespace().next().unwrap_or_default();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("expected a sha-256 hex digest, got `{}`", output.trim());
    }
    Ok(hex.to_ascii_lowercase())
}

/// Runs `f` and returns how long it took, wall clock.
pub(crate) fn time<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(Duration, T)> {
    let started = Instant::now();
    let value = f()?;
    Ok((started.elapsed(), value))
}

/// The median of `samples` (the mean of the middle two for an even count).
pub(crate) fn median(samples: &[Duration]) -> Duration {
    assert!(!samples.is_empty(), "median of no samples");
    let mut sorted = samples.to_vec();
    sorted.sort();
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// MiB per second for `mib` MiB moved in `elapsed`.
pub(crate) fn throughput(mib: u64, elapsed: Duration) -> f64 {
    mib as f64 / elapsed.as_secs_f64()
}

/// Reads `path` through, so that the next run finds it in the page cache.
pub(crate) fn warm_page_cache(path: &Path) -> anyhow::Result<()> {
    let mut file =
        fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    std::io::copy(&mut file, &mut std::io::sink())
        .with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(())
}

/// Why the CLI cannot run `fetchkit COMMAND`, if it cannot: its `--help` fails while the
/// command is not written yet.
pub(crate) fn lacks_command(fetchkit: &Path, command: &str) -> anyhow::Result<Option<String>> {
    let status = Command::new(fetchkit)
        .args([command, "--help"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("could not start `{} {command} --help`", fetchkit.display()))?;
    Ok((!status.success()).then(|| format!("the built CLI has no `{command}` ({status})")))
}

/// Removes a file or a whole folder, if there.
pub(crate) fn remove_path(path: &Path) -> anyhow::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => Err(err),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    result.with_context(|| format!("{}: cannot remove", path.display()))
}

/// A verdict line's words.
pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "target met" } else { "target MISSED" }
}

/// A target's cell in `docs/benchmarks.md`.
pub(crate) fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

/// Today's date, `date -u +%F`.
pub(crate) fn today() -> anyhow::Result<String> {
    Ok(util::read_quiet(Command::new("date").args(["-u", "+%F"]))?
        .trim()
        .to_owned())
}

/// `N cores, CPU MODEL` from `nproc` and /proc/cpuinfo.
pub(crate) fn machine() -> anyhow::Result<String> {
    let cores = util::read_quiet(&mut Command::new("nproc"))?
        .trim()
        .to_owned();
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".to_owned());
    Ok(format!("{cores} cores, {model}"))
}

/// A non-daemon nginx serving `root` on a free loopback port; killed when dropped.
#[derive(Debug)]
pub(crate) struct Nginx {
    child: Child,
    port: u16,
}

impl Nginx {
    /// Writes `<dir>/nginx.conf` (pid, logs and temp paths all under `dir`), starts nginx and
    /// waits until it accepts connections.
    pub(crate) fn start(nginx: &Path, dir: &Path, root: &Path) -> anyhow::Result<Nginx> {
        Nginx::start_with(nginx, dir, root, "")
    }

    /// [`Nginx::start`] with `directives` added to the `server` block.
    pub(crate) fn start_with(
        nginx: &Path,
        dir: &Path,
        root: &Path,
        directives: &str,
    ) -> anyhow::Result<Nginx> {
        let port = free_port()?;
        let temp = dir.join("nginx-temp");
        fs::create_dir_all(&temp).with_context(|| format!("{}: cannot create", temp.display()))?;
        let conf = dir.join("nginx.conf");
        let error_log = dir.join("nginx-error.log");
        fs::write(
            &conf,
            nginx_conf(dir, root, &temp, &error_log, port, directives),
        )
        .with_context(|| format!("{}: cannot write", conf.display()))?;

        let mut cmd = Command::new(nginx);
        cmd.arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&error_log);
        println!("$ {}", util::display(&cmd));
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("could not start `{}`", util::display(&cmd)))?;
        // From here on the guard kills nginx on every path, errors included.
        let mut server = Nginx { child, port };
        server.wait_until_ready(&error_log)?;
        println!("nginx serves {} on 127.0.0.1:{port}", root.display());
        Ok(server)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    fn wait_until_ready(&mut self, error_log: &Path) -> anyhow::Result<()> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().context("cannot poll nginx")? {
                let log = fs::read_to_string(error_log).unwrap_or_default();
                bail!("nginx exited before serving ({status}): {}", log.trim());
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(50));
        }
        bail!("nginx did not accept connections on {addr} after 100 attempts")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago: bind 127.0.0.1:0 and let it go.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("cannot bind a loopback port")?;
    Ok(listener
        .local_addr()
        .context("cannot read the bound port")?
        .port())
}

fn nginx_conf(
    dir: &Path,
    root: &Path,
    temp: &Path,
    error_log: &Path,
    port: u16,
    directives: &str,
) -> String {
    let [dir, root, temp, error_log] =
        [dir, root, temp, error_log].map(|p| p.display().to_string());
    format!(
        "\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {error_log} warn;

events {{
    worker_connections 64;
}}

http {{
    sendfile on;
    tcp_nopush on;
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {temp}/client-body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;

    server {{
        listen 127.0.0.1:{port};
        root {root};
        {directives}
    }}
}}
"
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{median, parse_hex_digest};

    #[test]
    fn median_odd_and_even() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&n| Duration::from_millis(n))
                .collect::<Vec<_>>()
        };
        assert_eq!(median(&ms(&[30, 10, 20])), Duration::from_millis(20));
        assert_eq!(median(&ms(&[40, 10, 30, 20])), Duration::from_millis(25));
    }

    #[test]
    fn hex_digest_from_openssl_and_sha256sum() {
        let hex = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(
            parse_hex_digest(&format!("{hex} *data.bin\n")).unwrap(),
            hex.to_lowercase()
        );
        assert_eq!(
            parse_hex_digest(&format!("{hex}  out.bin\n")).unwrap(),
            hex.to_lowercase()
        );
        let err = parse_hex_digest("SHA2-256(data.bin)= ab\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a sha-256 hex digest, got `SHA2-256(data.bin)= ab`"
        );
    }
}
