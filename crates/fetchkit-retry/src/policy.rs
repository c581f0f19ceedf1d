//! The backoff policy as pure decisions: no clock, no sleeping, no randomness of its own.

use std::time::Duration;

use crate::Transient;

/// How hard to try: bounded attempts, exponential delays with jitter, and a cap on how long a
/// server's `Retry-After` may make us wait.
///
/// Fields are public so a caller can adjust one from [`RetryPolicy::default`]; the struct is
/// `#[non_exhaustive]` so new knobs do not break callers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Total attempts including the first one; `1` means no retries. Default 6 (1 + 5 retries).
    pub max_attempts: u32,
    /// Delay before the first retry, before jitter. Default 100 ms.
    pub initial_delay: Duration,
    /// The largest delay the exponential growth reaches, before jitter. Default 30 s.
    pub max_delay: Duration,
    /// Factor by which the delay grows per retry. Default 2.
    pub multiplier: u32,
    /// Whether to randomise delays (equal jitter: between half and all of the computed delay),
    /// so that many clients failing together do not retry together. Default on.
    pub jitter: bool,
    /// The longest `Retry-After` honoured as given; longer requests are cut to this. Default 60 s.
    pub max_retry_after: Duration,
    /// Give up when the next retry would start later than this after the first attempt began.
    /// Default none: only `max_attempts` bounds the work.
    pub max_elapsed: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(30),
            multiplier: 2,
            jitter: true,
            max_retry_after: Duration::from_secs(60),
            max_elapsed: None,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Try again after waiting this long.
    Retry {
        /// How long to wait before the next attempt.
        after: Duration,
        /// Where the delay came from, for logs.
        cause: DelayCause,
    },
    /// Stop, for this reason; the caller reports the last error.
    GiveUp(GiveUpReason),
}

/// Where a retry delay came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelayCause {
    /// The policy's exponential backoff.
    Backoff,
    /// The server's `Retry-After`, possibly cut to [`RetryPolicy::max_retry_after`].
    RetryAfter,
}

/// Why a retry loop stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// The error was permanent: trying again cannot help.
    Permanent,
    /// Every allowed attempt failed.
    AttemptsExhausted,
    /// The next attempt would have started past [`RetryPolicy::max_elapsed`].
    TimeBudgetExhausted,
}

impl RetryPolicy {
    /// A policy that makes exactly one attempt.
    pub fn no_retries() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The same policy with `retries` retries after the first attempt.
    pub fn with_retries(mut self, retries: u32) -> RetryPolicy {
        self.max_attempts = retries.saturating_add(1);
        self
    }

    /// The delay before retry number `retry` (1 for the first retry), before jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(63);
        let factor = u64::from(self.multiplier.max(1)).checked_pow(exponent);
        let uncapped = factor.and_then(|factor| {
            let factor = u32::try_from(factor).ok()?;
            self.initial_delay.checked_mul(factor)
        });
        match uncapped {
            Some(delay) => delay.min(self.max_delay),
            None => self.max_delay,
        }
    }

    /// Decides what follows a failed attempt.
    ///
    /// `attempts` is how many attempts have been made (the failed one included), `elapsed` the
    /// time since the first began, and `jitter_sample` a number in `[0, 1)` (the loop draws it;
    /// tests pass a fixed one). A pure function, so every branch is testable without waiting.
    pub fn decide<E: Transient + ?Sized>(
        &self,
        attempts: u32,
        error: &E,
        elapsed: Duration,
        jitter_sample: f64,
    ) -> Decision {
        if !error.is_transient() {
            return Decision::GiveUp(GiveUpReason::Permanent);
        }
        if attempts >= self.max_attempts {
            return Decision::GiveUp(GiveUpReason::AttemptsExhausted);
        }
        let backoff = self.jittered(self.backoff(attempts), jitter_sample);
        let (after, cause) = match error.retry_after() {
            // The server knows its own load better than our schedule does, but a server asking
            // for hours must not park a download for hours.
            Some(asked) => (
                asked.min(self.max_retry_after).max(backoff),
                DelayCause::RetryAfter,
            ),
            None => (backoff, DelayCause::Backoff),
        };
        if let Some(budget) = self.max_elapsed
            && elapsed.saturating_add(after) > budget
        {
            return Decision::GiveUp(GiveUpReason::TimeBudgetExhausted);
        }
        Decision::Retry { after, cause }
    }

    fn jittered(&self, delay: Duration, sample: f64) -> Duration {
        if !self.jitter {
            return delay;
        }
        // Equal jitter: never less than half the delay (so a flapping server still gets
        // breathing room), never more than all of it (so the bound stays the documented one).
        let sample = if sample.is_finite() {
            sample.clamp(0.0, 1.0)
        } else {
            0.0
        };
        delay.mul_f64(0.5 + 0.5 * sample)
    }
}
