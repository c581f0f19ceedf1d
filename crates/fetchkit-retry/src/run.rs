//! The retry loop: a policy, a sleeper, and the bookkeeping between attempts.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Decision, GiveUpReason, RetryPolicy, Transient};

/// Waits between attempts. Injected so tests (and the CLI's test knob) can record delays
/// instead of spending them.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// The current time, for measuring elapsed time across attempts. A recording sleeper
    /// advances this by the delays it was asked for, so elapsed-time budgets are testable too.
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Sleeps for real, on the tokio timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Does not sleep: remembers each requested delay and moves its own clock forward by it.
#[derive(Debug)]
pub struct RecordingSleeper {
    started: Instant,
    state: Mutex<Vec<Duration>>,
}

impl Default for RecordingSleeper {
    fn default() -> RecordingSleeper {
        RecordingSleeper {
            started: Instant::now(),
            state: Mutex::new(Vec::new()),
        }
    }
}

impl RecordingSleeper {
    /// The delays asked for so far, in order.
    pub fn delays(&self) -> Vec<Duration> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(duration);
        Box::pin(std::future::ready(()))
    }

    fn now(&self) -> Instant {
        let slept: Duration = self.delays().iter().sum();
        // Real time still passes during attempts; add the virtual sleeps on top of it.
        Instant::now().max(self.started) + slept
    }
}

/// A retry policy together with the sleeper that carries out its delays: what download
/// functions take.
#[derive(Clone, Debug)]
pub struct Retry {
    /// The decisions.
    pub policy: RetryPolicy,
    /// The waiting.
    pub sleeper: Arc<dyn Sleeper>,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry::new(RetryPolicy::default())
    }
}

impl Retry {
    /// The policy, sleeping on the tokio timer.
    pub fn new(policy: RetryPolicy) -> Retry {
        Retry {
            policy,
            sleeper: Arc::new(TokioSleeper),
        }
    }

    /// The same policy with another sleeper.
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Retry {
        self.sleeper = sleeper;
        self
    }

    /// Starts the bookkeeping for one operation. Use this when attempts share state that a
    /// closure cannot hold (for example a resumable download); otherwise [`Retry::run`].
    pub fn begin(&self) -> RetryState<'_> {
        RetryState {
            retry: self,
            attempts: 0,
            started: self.sleeper.now(),
        }
    }

    /// Runs `operation` until it succeeds, fails permanently, or the policy gives up. The
    /// closure receives the attempt number, starting at 1.
    pub async fn run<T, E, F, Fut>(&self, mut operation: F) -> Result<T, RetryError<E>>
    where
        E: Transient,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut state = self.begin();
        loop {
            let attempt = state.next_attempt();
            match operation(attempt).await {
                Ok(value) => return Ok(value),
                Err(error) => state.failed(error).await?,
            }
        }
    }
}

/// The attempts of one operation so far. Call [`RetryState::next_attempt`] before each attempt
/// and [`RetryState::failed`] after each failure.
#[derive(Debug)]
pub struct RetryState<'r> {
    retry: &'r Retry,
    attempts: u32,
    started: Instant,
}

impl RetryState<'_> {
    /// Counts an attempt about to start and returns its number (1 for the first).
    pub fn next_attempt(&mut self) -> u32 {
        self.attempts += 1;
        self.attempts
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time since the first attempt began, on the sleeper's clock.
    pub fn elapsed(&self) -> Duration {
        self.retry
            .sleeper
            .now()
            .saturating_duration_since(self.started)
    }

    /// Handles a failed attempt: waits and returns `Ok(())` when another attempt should follow,
    /// or returns the error with the attempt count when the policy gives up.
    pub async fn failed<E: Transient>(&mut self, error: E) -> Result<(), RetryError<E>> {
        let elapsed = self.elapsed();
        let decision = self
            .retry
            .policy
            .decide(self.attempts, &error, elapsed, fastrand::f64());
        match decision {
            Decision::Retry { after, cause } => {
                tracing::debug!(
                    attempt = self.attempts,
                    delay_ms = after.as_millis() as u64,
                    ?cause,
                    "attempt failed with a transient error; retrying"
                );
                self.retry.sleeper.sleep(after).await;
                Ok(())
            }
            Decision::GiveUp(reason) => Err(RetryError {
                error,
                attempts: self.attempts,
                elapsed,
                reason,
            }),
        }
    }
}

/// The last error of a retry loop that gave up, with how much was tried.
#[derive(Debug)]
pub struct RetryError<E> {
    /// The error of the last attempt.
    pub error: E,
    /// How many attempts were made.
    pub attempts: u32,
    /// Time from the first attempt's start to the give-up.
    pub elapsed: Duration,
    /// Why the loop stopped.
    pub reason: GiveUpReason,
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            _ if self.attempts == 1 => self.error.fmt(f),
            _ => write!(
                f,
                "gave up after {} attempts in {:.1}s: {}",
                self.attempts,
                self.elapsed.as_secs_f64(),
                self.error
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
