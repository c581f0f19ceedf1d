//! `fetchkit mirror`, `fetchkit mirror verify` and `fetchkit serve` as a user runs them.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fetchkit_test_support::{DumpBuilder, FakeCrate, Reply, Resource, SparseRegistry, Validators};

use crate::support::TestContext;

const NAMES: [&str; 6] = ["c1", "c2", "c3", "c4", "c5", "zz-last"];

fn registry() -> SparseRegistry {
    let registry = SparseRegistry::start(Validators::ETag);
    for name in NAMES {
        registry.publish(FakeCrate::new(name, "1.0.0"));
    }
    registry
}

fn mirror_args<'a>(registry_url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["mirror", "out", "--index", registry_url];
    for name in NAMES {
        args.extend(["--crate", name]);
    }
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_mirror_killed_mid_run_resumes_without_fetching_again_what_it_verified() {
    let context = TestContext::new();
    let registry = registry();
    let url = registry.index_url();
    // The last file (one at a time, in name order) stalls before its headers the first time.
    let last = "/dl/zz-last/1.0.0/download";
    registry.server().route(
        last,
        Resource::new(FakeCrate::new("zz-last", "1.0.0").crate_file())
            .script([Reply::StallBeforeHeaders, Reply::Ok]),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_fetchkit"))
        .args(mirror_args(&url, &["--jobs", "1", "--read-timeout", "120"]))
        .current_dir(context.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The stalled request arrives only once the five before it are verified and journaled.
    let deadline = Instant::now() + Duration::from_secs(60);
    while registry.server().requests_to(last).is_empty() {
        assert!(Instant::now() < deadline, "the last download never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let journal = std::fs::read_to_string(context.path("out/.fetchkit/journal")).unwrap();
    assert_eq!(journal.lines().count(), 5, "{journal}");
    assert!(
        !context.path("out/index/c1").exists(),
        "index files come last: a killed run lists nothing it may not have"
    );

    let run = context.fetchkit(&mirror_args(&url, &[]));
    let summary = run.success().to_owned();
    assert!(
        summary.starts_with("mirrored 6 crates, 6 files: 5 already present, 1 fetched (",),
        "{summary}"
    );
    for name in NAMES {
        let path = format!("/dl/{name}/1.0.0/download");
        let expected = if name == "zz-last" { 2 } else { 1 };
        assert_eq!(
            registry.server().requests_to(&path).len(),
            expected,
            "{name}"
        );
    }
    let leftovers = fetchkit_test_support::file_names(&context.path("out/.fetchkit/tmp"));
    assert_eq!(leftovers, Vec::<String>::new());
    let verified = context.fetchkit(&["mirror", "verify", "out"]);
    assert_eq!(
        verified.success(),
        "verified 6 files (0 bytes, layout sparse): 0 missing, 0 corrupt, 0 extra, 0 bad index \
         lines"
            .replace("0 bytes", &format!("{} bytes", crate_bytes()))
    );
}

fn crate_bytes() -> usize {
    NAMES
        .iter()
        .map(|name| FakeCrate::new(name, "1.0.0").crate_file().len())
        .sum()
}

#[test]
fn verify_names_a_corrupt_file_and_json_reports_are_machine_readable() {
    let context = TestContext::new();
    let registry = registry();
    let url = registry.index_url();
    let run = context.fetchkit(&mirror_args(&url, &["--json", "--quiet"]));
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run}");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["report"]["fetched"], 6);
    assert_eq!(report["report"]["failures"], serde_json::json!([]));

    let corrupted = context.path("out/crates/2/c3/c3-1.0.0.crate");
    let mut bytes = std::fs::read(&corrupted).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&corrupted, bytes).unwrap();
    let run = context.fetchkit(&["mirror", "verify", "out"]);
    let lines = run.lines();
    assert!(
        lines[0].starts_with("corrupt: crates/2/c3/c3-1.0.0.crate (sha256 "),
        "{run}"
    );
    assert_eq!(
        *lines.last().unwrap(),
        "error: out: the mirror has problems (listed above)"
    );
    let run = context.fetchkit(&["mirror", "verify", "out", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["corrupt"][0]["path"], "crates/2/c3/c3-1.0.0.crate");
    assert_eq!(run.code, Some(1));
}

#[test]
fn mirror_errors_are_one_line() {
    let context = TestContext::new();
    let registry = registry();
    let url = registry.index_url();
    let error = context
        .fetchkit(&["mirror", "out", "--index", &url])
        .failure()
        .to_owned();
    assert_eq!(
        error,
        "error: nothing to mirror: give --lockfile FILE, --crate NAME[@REQ] or --dump \
         PATH_OR_URL"
    );
    let error = context
        .fetchkit(&["mirror", "out", "--dump", "db-dump.tar.gz"])
        .failure()
        .to_owned();
    assert!(
        error
            .starts_with("error: invalid upstream \"db-dump.tar.gz\": a dump on disk says nothing"),
        "{error}"
    );
    context.write("db-dump.tar.gz", b"not gzip");
    let error = context
        .fetchkit(&["mirror", "out", "--dump", "db-dump.tar.gz", "--dl", &url])
        .failure()
        .to_owned();
    assert!(error.starts_with("error: db-dump.tar.gz: "), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
    let error = context
        .fetchkit(&[
            "mirror", "out", "--index", &url, "--crate", "nope", "--crate", "c1",
        ])
        .failure()
        .to_owned();
    assert_eq!(
        error,
        "error: 1 failure(s) (stopped at the first; --keep-going goes on past failures); the \
         next run retries them"
    );
    context.write("Cargo.lock", b"[[package]]\nname = 1\n");
    let error = context
        .fetchkit(&["mirror", "out", "--index", &url, "--lockfile", "Cargo.lock"])
        .failure()
        .to_owned();
    assert!(
        error.starts_with("error: Cargo.lock: invalid Cargo.lock: "),
        "{error}"
    );
    let usage = context
        .fetchkit(&["mirror", "out", "--crate", "c1", "--shard", "3/2"])
        .usage_error()
        .to_owned();
    assert!(
        usage.contains("invalid shard \"3/2\": expected I/N with 1 <= I <= N"),
        "{usage}"
    );
}

#[test]
fn a_dump_is_mirrored_and_the_next_run_with_it_lists_nothing() {
    let context = TestContext::new();
    let registry = registry();
    let mut dump = DumpBuilder::new("2026-01-02T02:00:00Z");
    for name in NAMES {
        dump = dump.krate(FakeCrate::new(name, "1.0.0"), "2026-01-01 10:00:00");
    }
    context.write("db-dump.tar.gz", &dump.tar_gz());
    let dl = registry.server().url("/dl/{crate}/{version}/download");
    let args = [
        "mirror",
        "out",
        "--dump",
        "db-dump.tar.gz",
        "--dl",
        &dl,
        "--exclude",
        "c5",
        "--json",
    ];
    let run = context.fetchkit(&args);
    assert_eq!(run.code, Some(0), "{run}");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["report"]["fetched"], 5, "{report}");
    assert_eq!(report["report"]["dump"]["crates"], 5, "{report}");
    assert_eq!(report["report"]["dump"]["state_saved"], true, "{report}");
    assert!(context.path("out/index/2/c1").exists());
    assert!(!context.path("out/index/2/c5").exists());
    let summary = run.lines()[0].to_owned();
    assert_eq!(
        summary, "dump of 2026-01-02T02:00:00+00:00: 5 crates; state saved",
        "{run}"
    );

    let run = context.fetchkit(&args);
    assert_eq!(run.code, Some(0), "{run}");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["report"]["files"], 0, "{report}");
    assert_eq!(report["report"]["dump"]["stale"], true, "{report}");
}
