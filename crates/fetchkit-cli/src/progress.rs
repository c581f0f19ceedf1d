//! The progress bar: indicatif on stderr, fed by the library's `Progress` reports.

use std::io::IsTerminal as _;
use std::time::Duration;

use fetchkit::transport::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const KNOWN_LENGTH: &str =
    "{wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}";
const UNKNOWN_LENGTH: &str = "{spinner} {binary_bytes} {binary_bytes_per_sec} {elapsed}";

/// A byte progress bar on stderr.
#[derive(Debug)]
pub(crate) struct Bar(ProgressBar);

impl Bar {
    /// A bar when stderr is a terminal and the user did not ask for quiet; `None` otherwise
    /// (a bar in a log file or a pipe is noise).
    pub(crate) fn for_stderr(quiet: bool) -> Option<Bar> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(style(UNKNOWN_LENGTH));
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(Bar(bar))
    }

    /// The indicatif handle, for hiding the bar while a log line is written.
    pub(crate) fn handle(&self) -> &ProgressBar {
        &self.0
    }

    /// Removes the bar from the screen.
    pub(crate) fn clear(&self) {
        self.0.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("progress templates are fixed and valid")
        .progress_chars("=> ")
}

impl Progress for Bar {
    fn start(&self, total: Option<u64>, position: u64) {
        match total {
            Some(total) => {
                self.0.set_style(style(KNOWN_LENGTH));
                self.0.set_length(total);
            }
            None => {
                self.0.set_style(style(UNKNOWN_LENGTH));
                self.0.unset_length();
            }
        }
        self.0.set_position(position);
        // A new attempt: the rate and ETA of the previous one say nothing about this one.
        self.0.reset_eta();
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid() {
        style(KNOWN_LENGTH);
        style(UNKNOWN_LENGTH);
    }
}
