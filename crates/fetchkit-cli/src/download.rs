//! `fetchkit download`: one URL to a file or stdout, with the flags turned into library calls.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use fetchkit::retry::{Retry, RetryPolicy};
use fetchkit::transport::{Client, Download, Downloaded, download_to_file, download_with_factory};

use crate::cli::DownloadArgs;
use crate::logging;
use crate::progress::Bar;
use crate::sleeper::AnnouncingSleeper;
use crate::stdout::StdoutFactory;

pub(crate) async fn run(args: DownloadArgs) -> anyhow::Result<()> {
    let mut download = Download::parse(&args.url)?;
    if let Some(size) = args.size {
        download = download.size(size);
    }
    if let Some(sha256) = args.sha256 {
        download = download.sha256(sha256);
    }
    if let Some(sha512) = args.sha512 {
        download = download.sha512(sha512);
    }
    let to_stdout = args.output.as_os_str() == "-";
    if !to_stdout {
        check_destination(&args.output)?;
    }

    let client = Client::builder()
        .connect_timeout(args.connect_timeout)
        .read_timeout(args.read_timeout)
        .proxy_from_environment(true)
        .build()?;
    let retry = Retry::new(RetryPolicy::default().with_retries(args.retries))
        .with_sleeper(Arc::new(AnnouncingSleeper::from_env()));
    let bar = Bar::for_stderr(args.quiet).map(Arc::new);
    if let Some(bar) = &bar {
        logging::set_progress_bar(bar.handle().clone());
        download = download.progress(bar.clone());
    }

    let started = Instant::now();
    let result = if to_stdout {
        download_with_factory(&client, &retry, &download, &mut StdoutFactory::new()).await
    } else {
        download_to_file(&client, &retry, &download, &args.output).await
    };
    if let Some(bar) = &bar {
        bar.clear();
        logging::clear_progress_bar();
    }
    let done = result?;

    if !args.quiet {
        let destination = if to_stdout {
            "stdout".to_owned()
        } else {
            args.output.display().to_string()
        };
        eprintln!("{}", summary(&done, &destination, started.elapsed()));
    }
    Ok(())
}

/// Fails early, before any transfer, for destinations that cannot work: a folder, or a file in
/// a folder that does not exist.
fn check_destination(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!("{}: is a folder, not a file", path.display());
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        bail!(
            "{}: folder {} does not exist",
            path.display(),
            parent.display()
        );
    }
    Ok(())
}

/// `downloaded 1.00 GiB to out.bin in 1.2s (850 MiB/s), sha256 <hex>`, with the attempts
/// when there was more than one.
fn summary(done: &Downloaded, destination: &str, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        done.size as f64 / seconds
    } else {
        0.0
    };
    let mut line = format!(
        "downloaded {} to {destination} in {seconds:.1}s ({}/s)",
        bytes(done.size as f64),
        bytes(rate),
    );
    if done.attempts > 1 {
        line.push_str(&format!(" after {} attempts", done.attempts));
        if done.resumes > 0 {
            line.push_str(&format!(" ({} resumed)", done.resumes));
        }
    }
    line.push_str(&format!(", sha256 {}", done.sha256));
    if done.sha512.is_some() {
        line.push_str(", sha512 verified");
    }
    line
}

/// Bytes in binary units with three significant digits: `512 B`, `1.00 KiB`, `850 MiB`.
fn bytes(value: f64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if value < 1024.0 {
        return format!("{value:.0} B");
    }
    let mut value = value / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let unit = UNITS[unit];
    if value >= 100.0 {
        format!("{value:.0} {unit}")
    } else if value >= 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.2} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_bytes(value: f64, expected: &str) {
        assert_eq!(bytes(value), expected);
    }

    #[test]
    fn byte_units() {
        check_bytes(0.0, "0 B");
        check_bytes(1023.0, "1023 B");
        check_bytes(1024.0, "1.00 KiB");
        check_bytes(300_000.0, "293 KiB");
        check_bytes(15.5 * 1024.0 * 1024.0, "15.5 MiB");
        check_bytes(850.0 * 1024.0 * 1024.0, "850 MiB");
        check_bytes(1024.0 * 1024.0 * 1024.0, "1.00 GiB");
        check_bytes(2e21, "1735 EiB");
    }
}
