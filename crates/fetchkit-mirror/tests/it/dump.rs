//! The registry's database dump as a source: alone (index lines written from its tables,
//! judged by real cargo), beside an index (checksums cross-checked), and incremental (the
//! state moves only after a run without failures).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fetchkit_mirror::{DumpSource, Mirror, MirrorError, Progress, Upstream, verify};
use fetchkit_test_support::{DumpBuilder, FakeCrate, Reply, Resource};
use serde_json::Value;

use crate::{Context, cargo_builds_the_samples_from, file_tree};

/// When every sample crate was last updated, and the dump taken after that.
const UPDATED: &str = "2026-01-01 10:00:00";
const FIRST_DUMP: &str = "2026-01-02T02:00:00Z";

/// Writes `dump` beside the mirror folder (not in it: `verify` would call it extra).
fn write_dump(files: &tempfile::TempDir, name: &str, dump: &DumpBuilder) -> DumpSource {
    let path = files.path().join(name);
    std::fs::write(&path, dump.tar_gz()).unwrap();
    DumpSource::Path(path)
}

fn samples_dump() -> DumpBuilder {
    DumpBuilder::new(FIRST_DUMP).crates(FakeCrate::samples(), UPDATED)
}

/// The dump alone, its files from the registry's download URLs.
fn dump_only(cx: &Context) -> Mirror {
    Mirror::new(
        cx.dir(),
        Upstream::Dump {
            dl: Some(cx.registry.server().url("/dl/{crate}/{version}/download")),
        },
    )
    .client(cx.client.clone())
    .retry(cx.retry.clone())
}

fn state_file(dir: &Path) -> PathBuf {
    dir.join(".fetchkit/dump-state.json")
}

fn index_requests(cx: &Context) -> usize {
    cx.registry
        .server()
        .requests()
        .iter()
        .filter(|request| request.target.starts_with("/index/"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dump_alone_is_a_registry_that_cargo_resolves_and_builds_from() {
    let cx = Context::new();
    let files = tempfile::tempdir().unwrap();
    let dump = write_dump(&files, "db-dump.tar.gz", &samples_dump());
    // A body with no announced length goes through a file in `.fetchkit/tmp`, not memory.
    let chunked = cx.published("under_name", "1.0.0");
    cx.registry.server().route(
        "/dl/under_name/1.0.0/download",
        Resource::new(chunked.crate_file()).chunked(),
    );

    let report = dump_only(&cx).dump(dump).jobs(4).run().await.unwrap();
    assert_eq!(report.failures, []);
    assert_eq!((report.crates, report.files, report.fetched), (6, 9, 9));
    assert_eq!(index_requests(&cx), 0, "no index was read");
    let dumped = report.dump.expect("a dump report");
    assert_eq!(
        (dumped.crates, dumped.stale, dumped.state_saved),
        (6, false, true)
    );
    let check = verify(cx.dir(), 2).unwrap();
    assert!(check.is_clean(), "{check:?}");

    // The lines say what the registry's own lines say, field for field, whatever their order
    // and the fields the registry adds.
    for krate in FakeCrate::samples() {
        let index = std::fs::read_to_string(
            cx.dir()
                .join("index")
                .join(fetchkit_index_cache::index_path(krate.name())),
        )
        .unwrap();
        let written: Vec<Value> = index
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let ours = written
            .iter()
            .find(|line| line["vers"] == krate.version())
            .unwrap_or_else(|| panic!("{} {}: no line in {index}", krate.name(), krate.version()));
        let theirs: Value = serde_json::from_str(&krate.index_line()).unwrap();
        for field in ["name", "vers", "cksum", "yanked", "features"] {
            assert_eq!(ours[field], theirs[field], "{} {field}", krate.name());
        }
        let deps = |line: &Value| {
            let mut deps: Vec<(String, String, String, Option<String>)> = line["deps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|dep| {
                    (
                        dep["name"].as_str().unwrap().to_owned(),
                        dep["req"].as_str().unwrap().to_owned(),
                        dep["kind"].as_str().unwrap_or("normal").to_owned(),
                        dep["package"].as_str().map(str::to_owned),
                    )
                })
                .collect();
            deps.sort();
            deps
        };
        assert_eq!(deps(ours), deps(&theirs), "{} deps", krate.name());
    }

    // Cargo resolves through the written lines (a renamed dependency, a dev-dependency, a
    // dependency between `-` and `_` names) and checks every file against their `cksum`.
    let lockfile = cargo_builds_the_samples_from(cx.dir()).await;
    assert!(lockfile.contains("name = \"ab\""), "{lockfile}");

    // The same dump again lists nothing, but a crate named besides (with its dependencies)
    // is found in what the first run wrote: all present, nothing fetched, nothing failed.
    let dump = write_dump(&files, "db-dump.tar.gz", &samples_dump());
    let report = dump_only(&cx)
        .dump(dump)
        .crate_spec("MyCrate".parse().unwrap())
        .run()
        .await
        .unwrap();
    assert_eq!(report.failures, []);
    assert!(report.dump.as_ref().unwrap().stale);
    assert_eq!((report.crates, report.present, report.fetched), (3, 4, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_listing_state_moves_only_after_a_run_without_failures() {
    let cx = Context::new();
    let files = tempfile::tempdir().unwrap();
    let first = write_dump(&files, "first.tar.gz", &samples_dump());
    let mirror = || cx.mirror().keep_going(true).jobs(4).dump(first.clone());

    // One file is missing upstream for a while: everything else is mirrored, the state
    // stays unsaved.
    let ab = cx.published("ab", "0.1.0");
    cx.registry.server().route(
        "/dl/ab/0.1.0/download",
        Resource::new(ab.crate_file()).script([Reply::Status(404)]),
    );
    let report = mirror().run().await.unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!((report.files, report.fetched), (9, 8));
    assert!(!report.dump.as_ref().unwrap().state_saved);
    assert!(!state_file(cx.dir()).exists());

    // Back upstream: the same dump lists everything again; only the missing file is fetched.
    let before = cx.downloads();
    let report = mirror().run().await.unwrap();
    assert_eq!(report.failures, []);
    assert_eq!((report.files, report.present, report.fetched), (9, 8, 1));
    assert_eq!(cx.downloads() - before, 1);
    assert!(report.dump.as_ref().unwrap().state_saved);
    assert!(state_file(cx.dir()).exists());

    // The same dump again is not newer: nothing is listed, nothing asked of the registry.
    let (downloads, indexes) = (cx.downloads(), index_requests(&cx));
    let report = mirror().run().await.unwrap();
    let dumped = report.dump.as_ref().unwrap();
    assert_eq!((dumped.crates, dumped.stale), (0, true));
    assert_eq!((report.crates, report.files), (0, 0));
    assert_eq!((cx.downloads(), index_requests(&cx)), (downloads, indexes));

    // A newer dump in which only `abc` changed (a new version): only `abc` is listed, and only
    // the new file fetched.
    let new_abc = FakeCrate::new("abc", "2.2.0");
    cx.registry.publish(new_abc.clone());
    let second = write_dump(
        &files,
        "second.tar.gz",
        &DumpBuilder::new("2026-02-02T02:00:00Z")
            .crates(FakeCrate::samples(), UPDATED)
            .krate(new_abc, "2026-02-01 10:00:00"),
    );
    let before = cx.downloads();
    let report = cx.mirror().dump(second).run().await.unwrap();
    assert_eq!(report.failures, []);
    assert_eq!(report.dump.as_ref().unwrap().crates, 1);
    assert_eq!((report.crates, report.files, report.fetched), (1, 3, 1));
    assert_eq!(cx.downloads() - before, 1);
    assert!(file_tree(&cx.dir().join("crates")).contains(&"3/a/abc/abc-2.2.0.crate".to_owned()));
    let state = std::fs::read_to_string(state_file(cx.dir())).unwrap();
    assert!(state.contains("2026-02-02"), "{state}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dump_and_the_index_must_agree_on_checksums_and_filters_apply_while_listing() {
    let cx = Context::new();
    let files = tempfile::tempdir().unwrap();
    // The dump's `a` 1.0.0 is another file than the registry's (it has a feature more).
    let dump = DumpBuilder::new(FIRST_DUMP)
        .crates(FakeCrate::samples(), UPDATED)
        .krate(FakeCrate::new("a", "1.0.0").feature("more", &[]), UPDATED);
    let dump = write_dump(&files, "db-dump.tar.gz", &dump);
    let filter =
        fetchkit_mirror::NameFilter::new(&["a*".to_owned()], &["abc".to_owned()], None).unwrap();
    let report = cx
        .mirror()
        .dump(dump)
        .filter(filter)
        .keep_going(true)
        .run()
        .await
        .unwrap();
    assert_eq!(report.dump.as_ref().unwrap().crates, 2, "a and ab only");
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let failure = &report.failures[0];
    assert_eq!(
        (failure.crate_name.as_deref(), failure.version.as_deref()),
        (Some("a"), Some("1.0.0"))
    );
    assert!(
        failure.error.contains("the database dump says sha256"),
        "{}",
        failure.error
    );
    assert_eq!(
        file_tree(&cx.dir().join("crates")),
        [
            "1/a/a-1.1.0+build.7.crate",
            "2/ab/ab-0.1.0.crate",
            "2/ab/ab-0.2.0-alpha.1.crate"
        ]
    );
    assert!(!report.dump.as_ref().unwrap().state_saved);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dump_alone_on_disk_needs_a_crate_file_template() {
    let cx = Context::new();
    let files = tempfile::tempdir().unwrap();
    let dump = write_dump(&files, "db-dump.tar.gz", &samples_dump());
    let error = Mirror::new(cx.dir(), Upstream::Dump { dl: None })
        .dump(dump)
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(error, MirrorError::InvalidArgument { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("--dl"), "{error}");

    let error = Mirror::new(cx.dir(), Upstream::Dump { dl: None })
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no dump was given"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dump_url_is_read_as_it_streams_and_files_are_found_beside_it() {
    let cx = Context::new();
    let server = cx.registry.server();
    // The registry's layout: the dump at the top, files under `crates/` beside it.
    server.route("/db-dump.tar.gz", Resource::new(samples_dump().tar_gz()));
    for krate in FakeCrate::samples() {
        let (name, version) = (krate.name(), krate.version());
        server.route(
            &format!("/crates/{name}/{name}-{version}.crate"),
            Resource::new(krate.crate_file()),
        );
    }
    let dump: DumpSource = server.url("/db-dump.tar.gz").parse().unwrap();
    assert!(matches!(dump, DumpSource::Url(_)));
    let progress = Arc::new(DumpBytes::default());
    let report = Mirror::new(cx.dir(), Upstream::Dump { dl: None })
        .client(cx.client.clone())
        .retry(cx.retry.clone())
        .dump(dump)
        .progress(progress.clone())
        .run()
        .await
        .unwrap();
    // The dump's bytes are reported as they are read, before any file is selected.
    let (total, read, selected_after) = *progress.seen.lock().unwrap();
    let size = samples_dump().tar_gz().len() as u64;
    assert_eq!((total, read), (Some(size), size));
    assert_eq!(selected_after, Some(size));
    assert_eq!(report.failures, []);
    assert_eq!((report.files, report.fetched), (9, 9));
    assert_eq!(cx.downloads(), 0, "nothing from the index's download path");
    assert!(verify(cx.dir(), 2).unwrap().is_clean());
}

/// Records the dump's announced size, the bytes reported read, and how many had been
/// reported when the files were selected.
#[derive(Default)]
struct DumpBytes {
    seen: Mutex<(Option<u64>, u64, Option<u64>)>,
}

impl Progress for DumpBytes {
    fn dump_start(&self, total: Option<u64>, position: u64) {
        let mut seen = self.seen.lock().unwrap();
        seen.0 = total;
        seen.1 = position;
    }

    fn dump_advance(&self, bytes: u64) {
        self.seen.lock().unwrap().1 += bytes;
    }

    fn selected(&self, _crates: usize, _files: usize) {
        let mut seen = self.seen.lock().unwrap();
        seen.2 = Some(seen.1);
    }
}
