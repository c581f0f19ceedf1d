use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use fetchkit_retry::{GiveUpReason, RecordingSleeper, Retry, RetryPolicy, Transient};

#[derive(Debug, PartialEq)]
enum Outcome {
    Flaky(u32),
    Broken(u32),
}

impl Transient for Outcome {
    fn is_transient(&self) -> bool {
        matches!(self, Outcome::Flaky(_))
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Flaky(n) => write!(f, "flaky failure {n}"),
            Outcome::Broken(n) => write!(f, "broken at {n}"),
        }
    }
}

fn recording() -> (Retry, Arc<RecordingSleeper>) {
    let sleeper = Arc::new(RecordingSleeper::default());
    let mut policy = RetryPolicy::default();
    policy.jitter = false;
    (Retry::new(policy).with_sleeper(sleeper.clone()), sleeper)
}

#[tokio::test]
async fn succeeds_after_transient_failures_and_sleeps_the_backoff() {
    let (retry, sleeper) = recording();
    let result = retry
        .run(|attempt| async move {
            if attempt <= 2 {
                Err(Outcome::Flaky(attempt))
            } else {
                Ok(attempt)
            }
        })
        .await;
    assert_eq!(result.unwrap(), 3);
    assert_eq!(
        sleeper.delays(),
        [Duration::from_millis(100), Duration::from_millis(200)]
    );
}

#[tokio::test]
async fn gives_up_after_the_budget_with_the_last_error_and_count() {
    let (retry, sleeper) = recording();
    let calls = Cell::new(0);
    let error = retry
        .run(|attempt| {
            calls.set(calls.get() + 1);
            async move { Err::<(), _>(Outcome::Flaky(attempt)) }
        })
        .await
        .unwrap_err();
    assert_eq!(calls.get(), 6);
    assert_eq!(error.attempts, 6);
    assert_eq!(error.reason, GiveUpReason::AttemptsExhausted);
    assert_eq!(error.error, Outcome::Flaky(6));
    assert_eq!(sleeper.delays().len(), 5);
    // The sleeper's clock moved by the virtual delays: 100+200+400+800+1600 ms.
    assert!(
        error.elapsed >= Duration::from_millis(3100),
        "{:?}",
        error.elapsed
    );
    assert!(
        error
            .to_string()
            .starts_with("gave up after 6 attempts in 3."),
        "{error}"
    );
    assert!(error.to_string().ends_with(": flaky failure 6"), "{error}");
}

#[tokio::test]
async fn stops_at_once_on_a_permanent_error() {
    let (retry, sleeper) = recording();
    let error = retry
        .run(|attempt| async move {
            if attempt == 1 {
                Err::<(), _>(Outcome::Broken(attempt))
            } else {
                panic!("a permanent error must not be retried")
            }
        })
        .await
        .unwrap_err();
    assert_eq!(error.attempts, 1);
    assert_eq!(error.reason, GiveUpReason::Permanent);
    assert!(sleeper.delays().is_empty());
    assert_eq!(error.to_string(), "broken at 1");
}

#[tokio::test]
async fn a_permanent_error_after_retries_reports_the_attempts() {
    let (retry, _) = recording();
    let error = retry
        .run(|attempt| async move {
            Err::<(), _>(if attempt < 3 {
                Outcome::Flaky(attempt)
            } else {
                Outcome::Broken(attempt)
            })
        })
        .await
        .unwrap_err();
    assert_eq!((error.attempts, error.reason), (3, GiveUpReason::Permanent));
}

#[test]
fn io_errors_are_transient_only_when_they_are_about_the_connection() {
    use std::io::{Error, ErrorKind};
    for kind in [
        ErrorKind::ConnectionReset,
        ErrorKind::TimedOut,
        ErrorKind::UnexpectedEof,
    ] {
        assert!(Error::from(kind).is_transient(), "{kind:?}");
    }
    for kind in [
        ErrorKind::NotFound,
        ErrorKind::PermissionDenied,
        ErrorKind::StorageFull,
    ] {
        assert!(!Error::from(kind).is_transient(), "{kind:?}");
    }
}
