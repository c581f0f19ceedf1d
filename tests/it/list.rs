//! `fetchkit list crates` on Software Heritage's lister fixtures (two visits of a small dump),
//! from local files and from a dump served on loopback.

use std::path::PathBuf;
use std::sync::OnceLock;

use fetchkit_test_support::Resource;
use serde_json::Value;

use crate::support::{Run, TestContext};

const CRATE_FILE: &str = "https://static.registry.example/crates/{crate}/{crate}-{version}.crate";
const ORIGIN: &str = "https://registry.example/crates/{crate}";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fetchkit-lister/tests/data/swh-crates")
}

/// The dump of visit 0 or 1, as a path the binary can read in place.
fn dump(visit: u32) -> String {
    let path = fixtures().join(format!("visit{visit}-db-dump.tar.gz"));
    path.to_str().expect("fixture path is UTF-8").to_owned()
}

fn expected(scenario: &str, what: &str) -> &'static Value {
    static EXPECTED: OnceLock<Value> = OnceLock::new();
    let all = EXPECTED.get_or_init(|| {
        let text = std::fs::read_to_string(fixtures().join("expected_outputs.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    });
    let value = &all[scenario][what];
    assert!(value.is_array(), "no {what} in scenario {scenario}");
    value
}

/// The JSON lines of `output`, as one array.
#[track_caller]
fn lines(output: &[u8]) -> Value {
    let text = std::str::from_utf8(output).expect("output is UTF-8");
    Value::Array(
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect(),
    )
}

/// `fetchkit list crates --dump DUMP` with the example templates and `extra`.
fn list(context: &TestContext, dump: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "list",
        "crates",
        "--dump",
        dump,
        "--crate-file-template",
        CRATE_FILE,
        "--origin-template",
        ORIGIN,
    ];
    args.extend_from_slice(extra);
    context.fetchkit(&args)
}

/// Asserts exit 0, and returns the summary (the last stderr line).
#[track_caller]
fn listed(run: &Run) -> &str {
    assert_eq!(run.code, Some(0), "{run}");
    run.lines().last().copied().unwrap_or_default()
}

#[test]
fn full_listing_prints_the_origins() {
    let context = TestContext::new();
    let run = list(&context, &dump(0), &[]);
    let summary = listed(&run);
    assert_eq!(lines(&run.stdout), *expected("visit0", "origins"));
    assert!(
        summary.starts_with("listed 3 crates, ") && summary.contains(" from dump 2022-08-08T02"),
        "{run}"
    );
    assert_eq!(context.files(), Vec::<String>::new());
}

#[test]
fn pages_format_prints_the_version_lines() {
    let context = TestContext::new();
    let run = list(&context, &dump(0), &["--format", "pages"]);
    listed(&run);
    assert_eq!(lines(&run.stdout), *expected("visit0", "pages"));
}

#[test]
fn output_file_holds_the_listing_and_no_temp_file_remains() {
    let context = TestContext::new();
    context.write("origins.jsonl", b"old content\n");
    let run = list(&context, &dump(0), &["-o", "origins.jsonl", "--quiet"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run}");
    assert_eq!(
        lines(&context.read("origins.jsonl")),
        *expected("visit0", "origins")
    );
    assert_eq!(context.files(), ["origins.jsonl"]);
}

#[test]
fn state_lists_only_what_changed_and_a_rerun_lists_nothing() {
    let context = TestContext::new();
    let state = ["--state", "state.json"];
    let first = list(&context, &dump(0), &state);
    listed(&first);
    assert_eq!(lines(&first.stdout), *expected("visit0", "origins"));
    let after_visit0 = context.read("state.json");

    let second = list(&context, &dump(1), &state);
    listed(&second);
    assert_eq!(
        lines(&second.stdout),
        *expected("visit1_with_state_from_visit0", "origins")
    );
    let after_visit1 = context.read("state.json");
    assert_ne!(after_visit0, after_visit1);

    let third = list(&context, &dump(1), &state);
    let summary = listed(&third);
    assert!(third.stdout.is_empty(), "{third}");
    assert!(summary.starts_with("nothing listed: "), "{third}");
    assert_eq!(context.read("state.json"), after_visit1);
    assert_eq!(context.files(), ["state.json"]);
}

#[test]
fn dump_url_with_derived_templates() {
    let context = TestContext::new();
    let body = std::fs::read(dump(0)).unwrap();
    let url = context.serve("/dumps/db-dump.tar.gz", Resource::new(body));
    let run = context.fetchkit(&["list", "crates", "--dump", &url, "--format", "pages"]);
    listed(&run);
    let pages = lines(&run.stdout);
    let base = context.server.url("/dumps/crates/");
    let versions: Vec<&Value> = pages
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|page| page.as_array().unwrap())
        .collect();
    assert!(!versions.is_empty(), "{run}");
    for version in versions {
        let crate_file = version["crate_file"].as_str().unwrap();
        assert!(
            crate_file.starts_with(&base),
            "{crate_file} not under {base}"
        );
    }

    // A given template takes the place of its derived part.
    let run = context.fetchkit(&[
        "list",
        "crates",
        "--dump",
        &url,
        "--origin-template",
        ORIGIN,
    ]);
    listed(&run);
    let origins = lines(&run.stdout);
    assert_eq!(
        origins[0]["url"],
        expected("visit0", "origins")[0]["url"],
        "{run}"
    );
}

#[test]
fn a_failed_run_leaves_the_state_and_output_untouched() {
    let context = TestContext::new();
    let state = ["--state", "state.json"];
    listed(&list(&context, &dump(0), &state));
    let before = context.read("state.json");
    let whole = std::fs::read(dump(1)).unwrap();
    context.write("truncated.tar.gz", &whole[..whole.len() / 2]);
    context.write("origins.jsonl", b"old content\n");

    let run = list(
        &context,
        "truncated.tar.gz",
        &["--state", "state.json", "-o", "origins.jsonl"],
    );
    run.failure();
    assert_eq!(context.read("state.json"), before);
    assert_eq!(context.read("origins.jsonl"), b"old content\n");
    assert_eq!(
        context.files(),
        ["origins.jsonl", "state.json", "truncated.tar.gz"]
    );
}

#[test]
fn a_local_dump_needs_both_templates() {
    let context = TestContext::new();
    let run = context.fetchkit(&[
        "list",
        "crates",
        "--dump",
        &dump(0),
        "--origin-template",
        ORIGIN,
    ]);
    let error = run.failure();
    assert!(
        error.starts_with("error: cannot derive registry URLs from file:")
            && error.ends_with("give the templates explicitly"),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "{run}");
}

#[test]
fn overlap_is_checked_by_the_command_line() {
    let context = TestContext::new();
    for good in ["0", "90s", "30m", "1h"] {
        listed(&list(&context, &dump(0), &["--overlap", good, "-q"]));
    }
    let run = list(&context, &dump(0), &["--overlap", "1.5h"]);
    let stderr = run.usage_error();
    assert!(stderr.contains("expected a duration like 1h"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
}

#[cfg(unix)]
#[test]
fn a_device_output_is_written_in_place_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    // Regression: `-o /dev/null` once renamed a temp file over the device node.
    let context = TestContext::new();
    let run = list(&context, &dump(0), &["-o", "/dev/null", "--quiet"]);
    assert_eq!(run.code, Some(0), "{run}");
    let kind = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/null is no longer a device");
}
