//! `fetchkit mirror`, `fetchkit mirror verify` and `fetchkit serve`: flags to a `Mirror`, a
//! progress bar while it runs, and the summary (or JSON) afterwards.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fetchkit::mirror::{
    DumpReport, Mirror, MirrorError, NameFilter, Progress, Report, Upstream,
    verify as verify_folder,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{MirrorRunArgs, MirrorVerifyArgs, ServeArgs};
use crate::{index, transfer};

/// `fetchkit mirror DIR …`.
pub(crate) async fn run(args: MirrorRunArgs) -> anyhow::Result<()> {
    let dir = args.dir.clone().context("a mirror folder is required")?;
    if args.lockfile.is_empty() && args.crates.is_empty() && args.dump.is_none() {
        bail!("nothing to mirror: give --lockfile FILE, --crate NAME[@REQ] or --dump PATH_OR_URL");
    }
    let upstream = match (&args.index, &args.from_cargo_home, &args.dump) {
        (Some(url), _, _) => Upstream::Sparse(url.clone()),
        (None, Some(home), _) if !home.as_os_str().is_empty() => Upstream::CargoHome(home.clone()),
        (None, Some(_), _) => Upstream::CargoHome(index::cargo_home(None)?),
        // A dump alone is the registry: its tables make the index lines.
        (None, None, Some(_)) => Upstream::Dump {
            dl: args.dl.clone(),
        },
        (None, None, None) => Upstream::CargoHome(index::cargo_home(None)?),
    };
    let filter = NameFilter::new(&args.include, &args.exclude, args.shard)?;
    let bar = FileBar::for_stderr(args.transfer.quiet);
    let mut mirror = Mirror::new(&dir, upstream)
        .layout(args.layout)
        .base_url(&args.base_url)
        .versions(args.versions)
        .skip_yanked(args.skip_yanked)
        .dependencies(!args.no_deps)
        .filter(filter)
        .jobs(args.jobs)
        .keep_going(args.keep_going)
        .client(transfer::client_builder(&args.transfer).build()?)
        .retry(transfer::retry(&args.transfer));
    for lockfile in &args.lockfile {
        mirror = mirror.lockfile(lockfile);
    }
    for spec in &args.crates {
        mirror = mirror.crate_spec(spec.clone());
    }
    if let Some(dump) = &args.dump {
        mirror = mirror.dump(dump.clone());
    }
    if let Some(bar) = &bar {
        mirror = mirror.progress(bar.clone());
    }

    let started = Instant::now();
    let report = tokio::select! {
        report = mirror.run() => report,
        Ok(()) = tokio::signal::ctrl_c() => Err(MirrorError::Interrupted),
    };
    if let Some(bar) = &bar {
        bar.bar.finish_and_clear();
    }
    let report = report?;
    let elapsed = started.elapsed();
    if args.json {
        let mut out = std::io::stdout().lock();
        let json = serde_json::json!({
            "report": &report,
            "seconds": elapsed.as_secs_f64(),
        });
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    }
    if !args.transfer.quiet {
        if let Some(dump) = &report.dump {
            eprintln!("{}", dump_summary(dump));
        }
        eprintln!("{}", summary(&report, elapsed));
        for failure in &report.failures {
            eprintln!("  failed: {}", failure.error);
        }
    }
    if !report.failures.is_empty() {
        bail!(
            "{} failure(s){}; the next run retries them",
            report.failures.len(),
            if report.stopped_early {
                " (stopped at the first; --keep-going goes on past failures)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn dump_summary(dump: &DumpReport) -> String {
    let listed = match (&dump.since, dump.stale) {
        (Some(since), true) => {
            format!("not newer than the last one completed ({since}): nothing listed")
        }
        (Some(since), false) => format!("{} crates changed since {since}", dump.crates),
        (None, _) => format!("{} crates", dump.crates),
    };
    let state = if dump.state_saved {
        "state saved"
    } else if dump.stale {
        "state unchanged"
    } else {
        "state not saved: the next run lists these crates again"
    };
    format!("dump of {}: {listed}; {state}", dump.timestamp)
}

fn summary(report: &Report, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        report.fetched as f64 / seconds
    } else {
        0.0
    };
    format!(
        "mirrored {} crates, {} files: {} already present, {} fetched ({} bytes) in {seconds:.1}s \
         ({rate:.0} files/s); {} index files written; {} failures",
        report.crates,
        report.files,
        report.present,
        report.fetched,
        report.fetched_bytes,
        report.index_files_written,
        report.failures.len()
    )
}

const FILES: &str = "{wide_bar} {pos}/{len} files {per_sec} eta {eta} {msg}";

fn file_bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("the templates are fixed and valid")
        .progress_chars("=> ")
}

/// Files, bytes, rate, ETA and failures on one line, when stderr is a terminal (before that,
/// the bytes of the database dump being read).
#[derive(Debug, Clone)]
struct FileBar {
    bar: ProgressBar,
    bytes: Arc<AtomicU64>,
    failures: Arc<AtomicU64>,
}

impl FileBar {
    fn for_stderr(quiet: bool) -> Option<Arc<FileBar>> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(file_bar_style(FILES));
        bar.set_message("listing…");
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(Arc::new(FileBar {
            bar,
            bytes: Arc::default(),
            failures: Arc::default(),
        }))
    }

    fn update_message(&self) {
        let mib = self.bytes.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0);
        let failures = self.failures.load(Ordering::Relaxed);
        self.bar.set_message(if failures > 0 {
            format!("{mib:.1} MiB, {failures} failed")
        } else {
            format!("{mib:.1} MiB")
        });
    }
}

impl Progress for FileBar {
    fn dump_start(&self, total: Option<u64>, position: u64) {
        // Bytes of the dump until the listing is done; `selected` switches to files.
        let template = match total {
            Some(total) => {
                self.bar.set_length(total);
                "{wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} \
                 {msg}"
            }
            None => {
                self.bar.unset_length();
                "{spinner} {binary_bytes} {binary_bytes_per_sec} {elapsed} {msg}"
            }
        };
        self.bar.set_style(file_bar_style(template));
        self.bar.set_position(position);
        self.bar.reset_eta();
        self.bar.set_message("reading the database dump");
    }

    fn dump_advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn selected(&self, _crates: usize, files: usize) {
        self.bar.set_style(file_bar_style(FILES));
        self.bar.set_position(0);
        self.bar.reset_eta();
        self.bar.set_length(files as u64);
        self.update_message();
    }

    fn file_done(&self, _name: &str, _version: &str, bytes: u64, fetched: bool) {
        if fetched {
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        self.bar.inc(1);
        self.update_message();
    }

    fn file_failed(&self, _name: &str, _version: &str, error: &MirrorError) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        self.bar.println(format!("failed: {error}"));
        self.bar.inc(1);
        self.update_message();
    }
}

/// `fetchkit mirror verify DIR`.
pub(crate) async fn verify(args: MirrorVerifyArgs) -> anyhow::Result<()> {
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let dir = args.dir.clone();
    let report = tokio::task::spawn_blocking(move || verify_folder(&dir, jobs)).await??;
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for path in &report.missing {
            eprintln!("missing: {path}");
        }
        for corrupt in &report.corrupt {
            eprintln!(
                "corrupt: {} (sha256 {}, the index says {})",
                corrupt.path, corrupt.actual, corrupt.expected
            );
        }
        for path in &report.extra {
            eprintln!("extra: {path}");
        }
        for line in &report.bad_index_lines {
            eprintln!("bad index line: {line}");
        }
        eprintln!(
            "verified {} files ({} bytes, layout {}): {} missing, {} corrupt, {} extra, {} bad \
             index lines",
            report.files,
            report.bytes,
            report.layout,
            report.missing.len(),
            report.corrupt.len(),
            report.extra.len(),
            report.bad_index_lines.len()
        );
    }
    if !report.is_clean() {
        bail!(
            "{}: the mirror has problems (listed above)",
            args.dir.display()
        );
    }
    Ok(())
}

/// `fetchkit serve DIR`.
pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let server = fetchkit::mirror::serve::Server::bind(&args.dir, args.addr).await?;
    let addr = server.local_addr();
    eprintln!(
        "serving {} at http://{addr}/ (cargo: registry = \"sparse+http://{addr}/index/\"); \
         Ctrl-C stops",
        args.dir.display()
    );
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
