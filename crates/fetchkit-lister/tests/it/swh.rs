//! Software Heritage's own lister fixtures: the pages and origins its lister produces, with
//! host names replaced by the example templates.

use std::sync::OnceLock;

use fetchkit_lister::{LineFormat, Listing, State, Timestamp, list_from_path};
use serde_json::Value;

use crate::{data_dir, options};

fn expected() -> &'static Value {
    static EXPECTED: OnceLock<Value> = OnceLock::new();
    EXPECTED.get_or_init(|| {
        let text =
            std::fs::read_to_string(data_dir().join("swh-crates/expected_outputs.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

fn fixture(visit: u32) -> Vec<u8> {
    std::fs::read(data_dir().join(format!("swh-crates/visit{visit}-db-dump.tar.gz"))).unwrap()
}

fn run(visit: u32, since: Option<State>) -> Listing {
    fetchkit_lister::list_from_reader(fixture(visit).as_slice(), &options(since)).unwrap()
}

/// Compares a listing with a scenario of `expected_outputs.json`: the pages (their lines, in
/// order) and the origins, exactly.
#[track_caller]
fn check_scenario(listing: &Listing, scenario: &str) {
    let expected = &expected()[scenario];
    assert!(expected.is_object(), "no scenario {scenario}");
    let pages: Vec<_> = listing.pages().map(|page| page.versions).collect();
    assert_eq!(
        serde_json::to_value(&pages).unwrap(),
        expected["pages"],
        "pages of {scenario}"
    );
    let origins: Vec<_> = listing.origins().collect();
    assert_eq!(
        serde_json::to_value(&origins).unwrap(),
        expected["origins"],
        "origins of {scenario}"
    );
    assert_eq!(listing.stats.crates, listing.pages().len() as u64);
    assert_eq!(
        json_lines(listing, LineFormat::Origins),
        serde_lines(&origins),
        "origins written fast, {scenario}"
    );
    assert_eq!(
        json_lines(listing, LineFormat::Pages),
        serde_lines(&pages),
        "pages written fast, {scenario}"
    );
}

/// What `write_json_lines` writes, as text.
fn json_lines(listing: &Listing, format: LineFormat) -> String {
    let mut out = Vec::new();
    listing.write_json_lines(&mut out, format).unwrap();
    String::from_utf8(out).unwrap()
}

/// What `serde_json` writes for the same values, one per line.
fn serde_lines<T: serde::Serialize>(values: &[T]) -> String {
    values
        .iter()
        .map(|value| serde_json::to_string(value).unwrap() + "\n")
        .collect()
}

fn timestamp(value: &Value) -> Timestamp {
    value.as_str().unwrap().parse().unwrap()
}

/// Software Heritage keeps microseconds; the state keeps the dump's full precision.
fn to_micros(at: Timestamp) -> Timestamp {
    Timestamp::from_unix(at.unix_seconds(), at.subsec_nanos() / 1000 * 1000).unwrap()
}

#[test]
fn visit0() {
    let listing = run(0, None);
    check_scenario(&listing, "visit0");
    assert_eq!(
        listing.dump_timestamp,
        timestamp(&expected()["visit0"]["metadata"]["timestamp"])
    );
    assert_eq!(
        to_micros(listing.next_state().last_dump),
        timestamp(&expected()["visit0"]["state_after"])
    );
    assert_eq!(
        (
            listing.stats.crates,
            listing.stats.versions,
            listing.stats.yanked
        ),
        (3, 8, 0)
    );
    assert_eq!(
        (listing.stats.crates_read, listing.stats.versions_read),
        (3, 8)
    );
}

#[test]
fn visit1_with_state_from_visit0() {
    let state = run(0, None).next_state();
    check_scenario(&run(1, Some(state)), "visit1_with_state_from_visit0");
}

#[test]
fn visit1_full_listing_no_state() {
    check_scenario(&run(1, None), "visit1_full_listing_no_state");
}

#[test]
fn visit0_rerun_with_state_from_visit0() {
    let ours = run(0, None).next_state();
    check_scenario(&run(0, Some(ours)), "visit0_rerun_with_state_from_visit0");
    // Software Heritage's state, cut to microseconds, lists nothing either.
    let theirs = State {
        last_dump: timestamp(&expected()["visit0_rerun_with_state_from_visit0"]["state"]),
    };
    check_scenario(&run(0, Some(theirs)), "visit0_rerun_with_state_from_visit0");
}

#[test]
fn visit1_rerun_with_state_from_visit1() {
    let ours = run(1, None).next_state();
    check_scenario(&run(1, Some(ours)), "visit1_rerun_with_state_from_visit1");
    let theirs = State {
        last_dump: timestamp(&expected()["visit1_rerun_with_state_from_visit1"]["state"]),
    };
    check_scenario(&run(1, Some(theirs)), "visit1_rerun_with_state_from_visit1");
}

/// The divergence from Software Heritage: our state advances after every complete run, so a
/// third run on visit1 lists nothing (theirs would list pin-project again).
#[tokio::test]
async fn three_runs_through_a_state_file() {
    let folder = tempfile::tempdir().unwrap();
    let state_file = folder.path().join("state.json");
    let path = |visit: u32| data_dir().join(format!("swh-crates/visit{visit}-db-dump.tar.gz"));
    let mut runs = Vec::new();
    for (visit, scenario) in [
        (0, "visit0"),
        (1, "visit1_with_state_from_visit0"),
        (1, "visit1_rerun_with_state_from_visit1"),
    ] {
        let since = State::load(&state_file).unwrap();
        let listing = list_from_path(path(visit), &options(since)).await.unwrap();
        check_scenario(&listing, scenario);
        listing.next_state().save(&state_file).unwrap();
        runs.push(listing.pages().len());
    }
    assert_eq!(runs, [3, 1, 0]);
    assert_eq!(
        to_micros(State::load(&state_file).unwrap().unwrap().last_dump).to_string(),
        "2022-09-05T02:00:27.687167+00:00"
    );
}

/// The fixtures repeat version id 1321 (rand 0.1.3-experimental and regex 0.1.2), and have no
/// dependencies: index metadata, which joins on version ids, refuses them where the second
/// row is, and lists nothing quietly wrong.
#[test]
fn index_metadata_refuses_the_repeated_version_id() {
    let mut options = options(None);
    options.index_metadata = true;
    let error = fetchkit_lister::list_from_reader(fixture(0).as_slice(), &options)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "./2022-08-08-020027/data/versions.csv:4: column id: the version id of line 2 too; \
         dependencies are joined by version id, so listed versions need distinct ids, found \
         \"1321\""
    );
    // Without the fixture's other listed crate, nothing repeats; the dump still has no
    // dependencies table.
    options.crate_filter = Some(std::sync::Arc::new(|name: &str| name != "regex"));
    let error = fetchkit_lister::list_from_reader(fixture(0).as_slice(), &options)
        .unwrap_err()
        .to_string();
    assert_eq!(error, "the dump has no data/dependencies.csv");
}
