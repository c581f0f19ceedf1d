//! The `tracing` subscriber: plain lines on stderr, filtered by `RUST_LOG`.

use std::fmt;
use std::io::{self, IsTerminal as _};
use std::sync::{Mutex, PoisonError};

use indicatif::ProgressBar;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The progress bar on screen, if any: log lines are written while it is hidden, so the two
/// do not draw over each other.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Installs the subscriber: `RUST_LOG` when set, otherwise warnings and errors (errors only
/// with `quiet`). Lines look like the CLI's own messages (`warning: waiting 0.4s before
/// retrying`): no timestamps, and module paths only on debug and trace lines.
pub(crate) fn init(quiet: bool) {
    let default = if quiet {
        LevelFilter::ERROR
    } else {
        LevelFilter::WARN
    };
    let filter = EnvFilter::builder()
        .with_default_directive(default.into())
        .from_env_lossy();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Stderr)
        .with_ansi(io::stderr().is_terminal())
        .event_format(Lines)
        .init();
}

/// `level: message field=value ...`, one line per event.
struct Lines;

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let level = match *metadata.level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        if *metadata.level() >= Level::DEBUG {
            write!(writer, "{level} {}: ", metadata.target())?;
        } else {
            write!(writer, "{level}: ")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Routes log lines around `bar` until [`clear_progress_bar`].
pub(crate) fn set_progress_bar(bar: ProgressBar) {
    *BAR.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar);
}

/// Log lines go straight to stderr again.
pub(crate) fn clear_progress_bar() {
    *BAR.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

/// Stderr, with the progress bar (if any) hidden while a line is written. The formatter
/// writes each event with one `write_all`, so a line is never split around a redraw.
struct Stderr;

impl io::Write for Stderr {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let bar = BAR.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match bar {
            Some(bar) => bar.suspend(|| io::stderr().write_all(data))?,
            None => io::stderr().write_all(data)?,
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
