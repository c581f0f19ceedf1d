//! Incremental runs: what a state lists, and when the state advances.

use std::io::{self, Read};
use std::time::Duration;

use fetchkit_lister::{ListOptions, State, list_from_reader};

use crate::{Dump, Krate, Ver, check, list, old_crates, old_versions, options, state};

const DAY1: &str = "2026-01-01T02:00:00.123456789Z";
const DAY2: &str = "2026-01-02T02:00:00.5Z";
const DAY3: &str = "2026-01-03T02:00:00Z";

fn crates_day1() -> Vec<Krate> {
    vec![
        Krate(1, "alpha", "2025-12-01 10:00:00"),
        Krate(2, "beta", "2025-12-31 23:00:00+00"),
    ]
}

fn versions_day1() -> Vec<Ver> {
    vec![
        Ver(1, "1.0.0", "2025-12-01 10:00:00", false, 1),
        Ver(2, "0.1.0", "2025-12-31 23:00:00", false, 2),
    ]
}

fn day1() -> Vec<u8> {
    Dump::standard(
        DAY1,
        &old_crates(&crates_day1()),
        &old_versions(&versions_day1()),
    )
    .tar_gz()
}

/// Day 2 adds the crate `gamma`.
fn day2() -> Vec<u8> {
    let mut crates = crates_day1();
    crates.push(Krate(3, "gamma", "2026-01-01 12:00:00"));
    let mut versions = versions_day1();
    versions.push(Ver(3, "0.0.1", "2026-01-01 12:00:00", false, 3));
    Dump::standard(DAY2, &old_crates(&crates), &old_versions(&versions)).tar_gz()
}

/// Day 3 yanks `alpha` 1.0.0 and publishes alpha 1.1.0 (both bump the crate's `updated_at`).
fn day3() -> Vec<u8> {
    let mut crates = crates_day1();
    crates[0].2 = "2026-01-02 15:00:00";
    crates.push(Krate(3, "gamma", "2026-01-01 12:00:00"));
    let versions = vec![
        Ver(1, "1.0.0", "2026-01-02 14:00:00", true, 1),
        Ver(2, "0.1.0", "2025-12-31 23:00:00", false, 2),
        Ver(3, "0.0.1", "2026-01-01 12:00:00", false, 3),
        Ver(1, "1.1.0", "2026-01-02 15:00:00", false, 4),
    ];
    Dump::standard(DAY3, &old_crates(&crates), &old_versions(&versions)).tar_gz()
}

#[test]
fn a_full_run_lists_everything_and_gives_the_dump_timestamp() {
    let listing = list(&day1(), None).unwrap();
    assert_eq!(listing.pages().len(), 2);
    assert!(!listing.stale);
    assert_eq!(listing.next_state(), state(DAY1));
    assert_eq!(
        listing.dump_timestamp.to_string(),
        "2026-01-01T02:00:00.123456789+00:00"
    );
}

#[test]
fn the_second_dump_lists_exactly_the_new_crate() {
    let first = list(&day1(), None).unwrap();
    check(&day2(), Some(first.next_state()), "gamma: 0.0.1\n");
    assert_eq!(
        list(&day2(), Some(first.next_state()))
            .unwrap()
            .next_state(),
        state(DAY2)
    );
}

/// Day 1's dump with a crate updated half an hour before it was taken.
fn day1_with_a_late_crate() -> Vec<u8> {
    let mut crates = crates_day1();
    crates.push(Krate(4, "late", "2026-01-01 01:30:00"));
    let mut versions = versions_day1();
    versions.push(Ver(4, "0.3.0", "2026-01-01 01:30:00", false, 4));
    Dump::standard(DAY1, &old_crates(&crates), &old_versions(&versions)).tar_gz()
}

#[test]
fn the_same_dump_twice_lists_nothing_the_second_time() {
    // `late` is inside the overlap: a newer dump would list it again, the same dump must not.
    for dump in [day1(), day1_with_a_late_crate()] {
        let first = list(&dump, None).unwrap();
        let second = list(&dump, Some(first.next_state())).unwrap();
        assert_eq!(second.pages().len(), 0);
        assert!(second.stale);
        assert_eq!(second.next_state(), first.next_state());
        // It did not even read the tables.
        assert_eq!(
            (second.stats.crates_read, second.stats.versions_read),
            (0, 0)
        );
    }
}

#[test]
fn a_state_equal_to_the_dump_timestamp_lists_nothing() {
    check(&day1(), Some(state(DAY1)), "");
    check(&day2(), Some(state(DAY2)), "");
}

#[test]
fn an_older_dump_lists_nothing_and_keeps_the_state() {
    let listing = list(&day1(), Some(state(DAY2))).unwrap();
    assert_eq!(listing.pages().len(), 0);
    assert!(listing.stale);
    assert_eq!(listing.next_state(), state(DAY2));
}

#[test]
fn a_third_run_after_two_dumps() {
    let first = list(&day1(), None).unwrap();
    let second = list(&day2(), Some(first.next_state())).unwrap();
    // alpha changed (a yank and a new version) and is listed with all its versions; gamma
    // (updated 14 hours before day 2's dump) is not listed again.
    check(
        &day3(),
        Some(second.next_state()),
        "alpha: 1.0.0(yanked) 1.1.0\n",
    );
    let third = list(&day3(), Some(second.next_state())).unwrap();
    assert_eq!(third.next_state(), state(DAY3));
    check(&day3(), Some(third.next_state()), "");
}

#[test]
fn the_overlap_lists_crates_updated_shortly_before_the_last_dump() {
    // `late` was updated 30 minutes before day 1's dump; day 2 lists it again unless the
    // overlap is shorter than that.
    let mut crates = crates_day1();
    crates.push(Krate(4, "late", "2026-01-01 01:30:00"));
    crates.push(Krate(3, "gamma", "2026-01-01 12:00:00"));
    let mut versions = versions_day1();
    versions.push(Ver(4, "0.3.0", "2026-01-01 01:30:00", false, 4));
    versions.push(Ver(3, "0.0.1", "2026-01-01 12:00:00", false, 3));
    let dump = Dump::standard(DAY2, &old_crates(&crates), &old_versions(&versions)).tar_gz();
    let mut options = options(Some(state(DAY1)));
    let mut listed = Vec::new();
    for overlap in [3600, 31 * 60, 29 * 60, 0] {
        options.overlap = Duration::from_secs(overlap);
        let listing = list_from_reader(dump.as_slice(), &options).unwrap();
        listed.push(crate::summary(&listing));
    }
    assert_eq!(
        listed,
        [
            "late: 0.3.0\ngamma: 0.0.1\n",
            "late: 0.3.0\ngamma: 0.0.1\n",
            "gamma: 0.0.1\n",
            "gamma: 0.0.1\n",
        ]
    );
}

#[test]
fn the_overlap_boundary_is_strict() {
    // A crate updated exactly at (state - overlap) is not listed; a nanosecond later it is.
    let dump = |updated_at: &'static str| {
        Dump::standard(
            DAY2,
            &old_crates(&[Krate(1, "edge", updated_at)]),
            &old_versions(&[Ver(1, "1.0.0", "2025-01-01 00:00:00", false, 1)]),
        )
        .tar_gz()
    };
    let since = Some(state("2026-01-01T02:00:00Z"));
    check(&dump("2026-01-01 01:00:00"), since, "");
    check(
        &dump("2026-01-01 01:00:00.000000001"),
        since,
        "edge: 1.0.0\n",
    );
}

/// A reader that fails after `limit` bytes, like a connection that drops.
struct FailingAfter<R> {
    inner: R,
    limit: usize,
}

impl<R: Read> Read for FailingAfter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.limit == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset",
            ));
        }
        let take = buf.len().min(self.limit);
        let read = self.inner.read(&mut buf[..take])?;
        self.limit -= read;
        Ok(read)
    }
}

#[test]
fn an_interrupted_run_leaves_the_state_unchanged() {
    let folder = tempfile::tempdir().unwrap();
    let state_file = folder.path().join("state.json");
    let run = |dump: &mut dyn Read| -> Result<(), fetchkit_lister::ListError> {
        let since = State::load(&state_file)?;
        let listing = list_from_reader(dump, &options(since))?;
        listing.next_state().save(&state_file)
    };
    run(&mut day1().as_slice()).unwrap();
    assert_eq!(State::load(&state_file).unwrap(), Some(state(DAY1)));

    // Day 2's dump breaks off half way: an error, and the state stays at day 1.
    let dump = day2();
    let error = run(&mut FailingAfter {
        inner: dump.as_slice(),
        limit: dump.len() / 2,
    })
    .unwrap_err();
    assert!(error.to_string().contains("connection reset"), "{error}");
    assert!(!error.is_transient(), "only transport errors are transient");
    assert_eq!(State::load(&state_file).unwrap(), Some(state(DAY1)));

    // The retried run lists day 2's new crate: nothing was lost.
    let since = State::load(&state_file).unwrap();
    check(&dump, since, "gamma: 0.0.1\n");
}

#[test]
fn options_defaults() {
    let options = ListOptions::new(crate::templates());
    assert_eq!(options.overlap, Duration::from_secs(3600));
    assert_eq!(options.since, None);
    assert!(options.progress.is_none());
    assert!(format!("{options:?}").contains("progress: false"));
}

#[test]
fn a_state_filters_crates_in_any_member_order() {
    // Versions before crates (as in Software Heritage's fixtures): the rows are kept until the
    // crates are known, then filtered the same way.
    let mut crates = crates_day1();
    crates.push(Krate(3, "gamma", "2026-01-01 12:00:00"));
    let mut versions = versions_day1();
    versions.push(Ver(3, "0.0.1", "2026-01-01 12:00:00", false, 3));
    let dump = Dump::standard(DAY2, &old_crates(&crates), &old_versions(&versions));
    check(
        &dump.clone().reversed().tar_gz(),
        Some(state(DAY1)),
        "gamma: 0.0.1\n",
    );
    check(&dump.tar_gz(), Some(state(DAY1)), "gamma: 0.0.1\n");
}
