//! What every downloading command shares: the HTTP client and retry settings from
//! [`TransferArgs`], the destination check, and the summary line.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use fetchkit::retry::{Retry, RetryPolicy};
use fetchkit::transport::{Client, ClientBuilder, Downloaded};

use crate::cli::TransferArgs;
use crate::sleeper::AnnouncingSleeper;

/// HTTP settings from the flags: timeouts, and proxies from the environment.
pub(crate) fn client_builder(args: &TransferArgs) -> ClientBuilder {
    Client::builder()
        .connect_timeout(args.connect_timeout)
        .read_timeout(args.read_timeout)
        .proxy_from_environment(true)
}

/// The retry policy from `--retries`, with waits announced on stderr (and skipped under the
/// test knob).
pub(crate) fn retry(args: &TransferArgs) -> Retry {
    Retry::new(RetryPolicy::default().with_retries(args.retries))
        .with_sleeper(Arc::new(AnnouncingSleeper::from_env()))
}

/// Where the data goes: a file replaced atomically, stdout (`-o -`), or an existing path that
/// is not a regular file (`/dev/null`, a named pipe), written in place as a stream: replacing a
/// device node with a file would break the system, not write to the device.
#[derive(Debug)]
pub(crate) enum Destination {
    Stdout,
    File(PathBuf),
    Stream(PathBuf),
}

impl Destination {
    /// The destination `-o PATH` names, failing early, before any transfer, for files that
    /// cannot work: a folder, or a file in a folder that does not exist.
    pub(crate) fn check(path: &Path) -> anyhow::Result<Destination> {
        if path.as_os_str() == "-" {
            return Ok(Destination::Stdout);
        }
        if path.is_dir() {
            bail!("{}: is a folder, not a file", path.display());
        }
        if path.metadata().is_ok_and(|metadata| !metadata.is_file()) {
            return Ok(Destination::Stream(path.to_owned()));
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
        Ok(Destination::File(path.to_owned()))
    }

    /// How the summary names it: the path, or `stdout`.
    pub(crate) fn name(&self) -> String {
        match self {
            Destination::Stdout => "stdout".to_owned(),
            Destination::File(path) | Destination::Stream(path) => path.display().to_string(),
        }
    }
}

/// `downloaded 1.00 GiB to out.bin in 1.2s (850 MiB/s), sha256 <hex>`, with the attempts
/// when there was more than one, and the content type when the source reports one
/// (`..., text/plain, sha256 <hex>`).
pub(crate) fn summary(
    done: &Downloaded,
    destination: &str,
    elapsed: Duration,
    content_type: Option<&str>,
) -> String {
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
    if let Some(content_type) = content_type {
        // The type is the server's text: keep the line one line.
        line.push_str(", ");
        line.extend(content_type.chars().filter(|c| !c.is_control()));
    }
    if let Some(sha256) = done.sha256 {
        line.push_str(&format!(", sha256 {sha256}"));
    }
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
