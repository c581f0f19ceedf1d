//! The command line: clap types only, no behaviour.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use fetchkit::transport::{Sha256Digest, Sha512Digest};

/// fetchkit: robust package downloads, resumed when interrupted, verified before they count.
#[derive(Debug, Parser)]
#[command(name = "fetchkit", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Download one URL to a file (or stdout), retried, resumed and verified.
    ///
    /// The file is written beside PATH under a temporary name and renamed over PATH only once
    /// the download is complete and every check passed; on failure PATH is left as it was.
    /// With `-o -` the bytes go to stdout as they arrive: a failed check still exits non-zero,
    /// but the bytes already sent cannot be taken back.
    Download(DownloadArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// The http or https URL to download.
    pub(crate) url: String,

    /// Where to write the file; `-` streams to stdout (write `./-` for a file named `-`).
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: PathBuf,

    /// Expected SHA-256 of the content, in hex; a mismatch fails the download.
    #[arg(long, value_name = "HEX")]
    pub(crate) sha256: Option<Sha256Digest>,

    /// Expected SHA-512 of the content, in hex; computed only when given.
    #[arg(long, value_name = "HEX")]
    pub(crate) sha512: Option<Sha512Digest>,

    /// Expected size of the content in bytes; a mismatch fails the download.
    #[arg(long, value_name = "BYTES")]
    pub(crate) size: Option<u64>,

    /// Retries after the first attempt for transient failures (5xx, resets, stalls).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) retries: u32,

    /// Seconds a connection may take to establish (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub(crate) connect_timeout: Duration,

    /// Seconds without data (headers or body) before an attempt counts as stalled.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    pub(crate) read_timeout: Duration,

    /// Print nothing but errors: no progress bar, no summary, no retry warnings.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

impl Cli {
    /// Whether the command asked for errors only.
    pub(crate) fn quiet(&self) -> bool {
        match &self.command {
            Command::Download(args) => args.quiet,
        }
    }
}

/// A positive number of seconds, fractions allowed: `10`, `0.3`.
fn seconds(text: &str) -> Result<Duration, String> {
    let invalid =
        || format!("expected a positive number of seconds (like 10 or 0.5), got {text:?}");
    let value: f64 = text.trim().parse().map_err(|_| invalid())?;
    if value <= 0.0 {
        return Err(invalid());
    }
    // Rejects NaN, infinity and values too large for a `Duration`.
    Duration::try_from_secs_f64(value).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<Duration>) {
        assert_eq!(seconds(text).ok(), expected, "{text:?}");
    }

    #[test]
    fn seconds_parse() {
        check("10", Some(Duration::from_secs(10)));
        check("0.3", Some(Duration::from_millis(300)));
        check(" 1.5 ", Some(Duration::from_millis(1500)));
        check("1e-3", Some(Duration::from_millis(1)));
        check("0", None);
        check("-1", None);
        check("NaN", None);
        check("inf", None);
        check("1e300", None);
        check("", None);
        check("10s", None);
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
