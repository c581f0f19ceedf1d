//! The wait between retries: announced on stderr, and skipped in end-to-end tests.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use fetchkit::retry::Sleeper;

/// Test knob, not a user setting: when `FETCHKIT_TEST_NO_SLEEP=1`, retry delays are announced
/// but not waited, so the end-to-end tests can check backoff and `Retry-After` through the
/// binary without sleeping (`docs/architecture.md`, "Tests never sleep for backoff").
const NO_SLEEP: &str = "FETCHKIT_TEST_NO_SLEEP";

/// Logs `waiting 2.0s before retrying` at warning level, then waits on the tokio timer
/// (or not at all under the test knob).
#[derive(Debug)]
pub(crate) struct AnnouncingSleeper {
    wait: bool,
}

impl AnnouncingSleeper {
    /// Reads the test knob.
    pub(crate) fn from_env() -> AnnouncingSleeper {
        AnnouncingSleeper {
            wait: std::env::var_os(NO_SLEEP).is_none_or(|value| value != "1"),
        }
    }
}

impl Sleeper for AnnouncingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        tracing::warn!("waiting {:.1}s before retrying", duration.as_secs_f64());
        if self.wait {
            Box::pin(tokio::time::sleep(duration))
        } else {
            Box::pin(std::future::ready(()))
        }
    }
}
