use std::time::{Duration, SystemTime};

use fetchkit_retry::{
    Decision, DelayCause, GiveUpReason, RetryPolicy, Transient, parse_retry_after,
};

#[derive(Debug)]
struct Failure {
    transient: bool,
    retry_after: Option<Duration>,
}

impl Transient for Failure {
    fn is_transient(&self) -> bool {
        self.transient
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

const TRANSIENT: Failure = Failure {
    transient: true,
    retry_after: None,
};
const PERMANENT: Failure = Failure {
    transient: false,
    retry_after: None,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn no_jitter() -> RetryPolicy {
    let mut policy = RetryPolicy::default();
    policy.jitter = false;
    policy
}

#[track_caller]
fn check(
    policy: &RetryPolicy,
    attempts: u32,
    error: &Failure,
    elapsed: Duration,
    expected: Decision,
) {
    assert_eq!(policy.decide(attempts, error, elapsed, 0.0), expected);
}

fn retry_after(after: Duration, cause: DelayCause) -> Decision {
    Decision::Retry { after, cause }
}

#[test]
fn defaults_match_the_documented_policy() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.max_attempts, 6);
    assert_eq!(policy.initial_delay, ms(100));
    assert_eq!(policy.max_delay, Duration::from_secs(30));
    assert!(policy.jitter);
}

#[test]
fn delays_double_from_100ms_to_a_30s_cap() {
    let policy = RetryPolicy::default();
    let delays: Vec<u64> = (1..=12)
        .map(|retry| policy.backoff(retry).as_millis() as u64)
        .collect();
    assert_eq!(
        delays,
        [
            100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000
        ]
    );
    // Far past any real attempt count the arithmetic must saturate, not overflow.
    assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(30));
}

#[test]
fn transient_errors_retry_until_the_attempt_budget_is_spent() {
    let policy = no_jitter();
    check(
        &policy,
        1,
        &TRANSIENT,
        ms(0),
        retry_after(ms(100), DelayCause::Backoff),
    );
    check(
        &policy,
        5,
        &TRANSIENT,
        ms(0),
        retry_after(ms(1600), DelayCause::Backoff),
    );
    check(
        &policy,
        6,
        &TRANSIENT,
        ms(0),
        Decision::GiveUp(GiveUpReason::AttemptsExhausted),
    );
}

#[test]
fn permanent_errors_stop_at_once() {
    check(
        &no_jitter(),
        1,
        &PERMANENT,
        ms(0),
        Decision::GiveUp(GiveUpReason::Permanent),
    );
}

#[test]
fn no_retries_means_one_attempt() {
    check(
        &RetryPolicy::no_retries(),
        1,
        &TRANSIENT,
        ms(0),
        Decision::GiveUp(GiveUpReason::AttemptsExhausted),
    );
    assert_eq!(RetryPolicy::default().with_retries(2).max_attempts, 3);
}

#[test]
fn jitter_stays_between_half_and_all_of_the_delay() {
    let policy = RetryPolicy::default();
    for (sample, expected) in [
        (0.0, 200),
        (0.5, 300),
        (1.0, 400),
        (7.0, 400),
        (f64::NAN, 200),
    ] {
        let Decision::Retry { after, .. } = policy.decide(3, &TRANSIENT, ms(0), sample) else {
            panic!("expected a retry");
        };
        assert_eq!(after.as_millis(), expected, "sample {sample}");
    }
}

#[test]
fn retry_after_is_honoured_up_to_the_cap() {
    let policy = no_jitter();
    let asks = |after| Failure {
        transient: true,
        retry_after: Some(after),
    };
    check(
        &policy,
        1,
        &asks(ms(2000)),
        ms(0),
        retry_after(ms(2000), DelayCause::RetryAfter),
    );
    // A server asking for less than our own backoff does not make us hammer it.
    check(
        &policy,
        4,
        &asks(ms(0)),
        ms(0),
        retry_after(ms(800), DelayCause::RetryAfter),
    );
    // A server asking for an hour is cut to the cap.
    check(
        &policy,
        1,
        &asks(Duration::from_secs(3600)),
        ms(0),
        retry_after(Duration::from_secs(60), DelayCause::RetryAfter),
    );
}

#[test]
fn an_elapsed_budget_stops_retries_that_would_start_too_late() {
    let mut policy = no_jitter();
    policy.max_elapsed = Some(Duration::from_secs(1));
    check(
        &policy,
        1,
        &TRANSIENT,
        ms(850),
        retry_after(ms(100), DelayCause::Backoff),
    );
    check(
        &policy,
        1,
        &TRANSIENT,
        ms(950),
        Decision::GiveUp(GiveUpReason::TimeBudgetExhausted),
    );
}

#[test]
fn retry_after_values_parse_as_seconds_or_http_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let later = httpdate_of(now + Duration::from_secs(90));
    let earlier = httpdate_of(now - Duration::from_secs(90));
    let cases: [(&str, Option<Duration>); 8] = [
        ("120", Some(Duration::from_secs(120))),
        (" 7 ", Some(Duration::from_secs(7))),
        ("0", Some(Duration::ZERO)),
        (
            "99999999999999999999999",
            Some(Duration::from_secs(u64::MAX)),
        ),
        (&later, Some(Duration::from_secs(90))),
        (&earlier, Some(Duration::ZERO)),
        ("-5", None),
        ("soon", None),
    ];
    for (value, expected) in cases {
        assert_eq!(parse_retry_after(value, now), expected, "value {value:?}");
    }
}

fn httpdate_of(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}
