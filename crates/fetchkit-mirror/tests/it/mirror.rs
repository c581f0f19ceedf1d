//! Mirror runs against a loopback sparse registry (with faults) and against a cargo home that
//! real cargo filled; real cargo then builds from what fetchkit wrote.

use fetchkit_mirror::{
    CrateSpec, Layout, Mirror, NameFilter, Upstream, Versions, crate_file, verify,
};
use fetchkit_test_support::{CargoSandbox, Reply, Resource, SparseRegistry, Validators};

use crate::{Context, cargo_builds_the_samples_from, file_tree, publish_all, serve_folder};

#[tokio::test(flavor = "multi_thread")]
async fn a_sparse_upstream_with_faults_is_mirrored_whole_and_cargo_builds_from_it() {
    let cx = Context::new();
    // Every fault a download can meet, once each, on different files.
    let faults = [
        ("a", "1.0.0", Reply::ResetAfter(10)),
        ("a", "1.1.0+build.7", Reply::Status(500)),
        ("ab", "0.1.0", Reply::WrongBytes),
        ("abc", "2.0.0", Reply::ShortBody(20)),
        ("MyCrate", "0.3.0", Reply::StallAfter(5)),
        ("dash-name", "1.0.0", Reply::Status(503)),
    ];
    for (name, version, fault) in faults {
        let krate = cx.published(name, version);
        cx.registry.server().route(
            &format!("/dl/{name}/{version}/download"),
            Resource::new(krate.crate_file()).script([fault, Reply::Ok]),
        );
    }
    let report = cx
        .mirror()
        .crate_spec("a".parse().unwrap())
        .crate_spec("ab@0.1".parse().unwrap())
        .crate_spec("abc".parse().unwrap())
        .crate_spec("mycrate".parse().unwrap())
        .crate_spec("dash-name".parse().unwrap())
        .crate_spec("under_name".parse().unwrap())
        .jobs(4)
        .run()
        .await
        .unwrap();
    assert_eq!(report.failures, []);
    assert_eq!(
        (report.crates, report.files, report.fetched, report.present),
        (6, 8, 8, 0)
    );
    let check = verify(cx.dir(), 2).unwrap();
    assert!(check.is_clean(), "{check:?}");
    assert_eq!(check.files, 8);

    // Index files hold upstream's lines byte for byte, only for the versions mirrored.
    let index = std::fs::read_to_string(cx.dir().join("index/1/a")).unwrap();
    assert_eq!(index, cx.registry.index_file("a").unwrap());
    let ab = std::fs::read_to_string(cx.dir().join("index/2/ab")).unwrap();
    assert_eq!(
        ab,
        format!("{}\n", cx.published("ab", "0.1.0").index_line())
    );
    assert_eq!(
        file_tree(&cx.dir().join("crates")),
        [
            "1/a/a-1.0.0.crate",
            "1/a/a-1.1.0+build.7.crate",
            "2/ab/ab-0.1.0.crate",
            "3/a/abc/abc-2.0.0.crate",
            "3/a/abc/abc-2.1.0.crate",
            "da/sh/dash-name/dash-name-1.0.0.crate",
            "my/cr/MyCrate/MyCrate-0.3.0.crate",
            "un/de/under_name/under_name-1.0.0.crate",
        ]
    );

    // Cargo resolves and builds from the served mirror, checking every cksum.
    cargo_builds_the_samples_from(cx.dir()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_fetches_nothing_and_rewrites_nothing() {
    let cx = Context::new();
    let first = cx
        .mirror()
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap();
    assert_eq!((first.fetched, first.index_files_written), (2, 1));
    let index = cx.dir().join("index/1/a");
    let modified = std::fs::metadata(&index).unwrap().modified().unwrap();
    let downloads = cx.downloads();

    let second = cx
        .mirror()
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap();
    assert_eq!(
        (
            second.files,
            second.present,
            second.fetched,
            second.index_files_written
        ),
        (2, 2, 0, 0)
    );
    assert_eq!(cx.downloads(), downloads, "no .crate was asked for again");
    assert_eq!(
        std::fs::metadata(&index).unwrap().modified().unwrap(),
        modified
    );

    // A yank upstream shows in the mirror's line on the next run.
    cx.registry.set_yanked("a", "1.0.0", true);
    let third = cx
        .mirror()
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap();
    assert_eq!((third.fetched, third.index_files_written), (0, 1));
    assert_eq!(
        std::fs::read_to_string(&index).unwrap(),
        cx.registry.index_file("a").unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_file_is_not_indexed_and_the_next_run_completes_it() {
    let cx = Context::new();
    let broken = cx.published("abc", "2.1.0");
    cx.registry.server().route(
        "/dl/abc/2.1.0/download",
        Resource::new(broken.crate_file()).script([Reply::Status(404)]),
    );
    let report = cx
        .mirror()
        .crate_spec("abc".parse().unwrap())
        .crate_spec("a".parse().unwrap())
        .keep_going(true)
        .run()
        .await
        .unwrap();
    assert_eq!(report.fetched, 3);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let failure = &report.failures[0];
    assert_eq!(
        (
            failure.crate_name.as_deref(),
            failure.version.as_deref(),
            failure.transient
        ),
        (Some("abc"), Some("2.1.0"), false)
    );
    assert!(failure.error.contains("404"), "{}", failure.error);
    // The index lists only what is there: cargo is never offered a file it cannot get.
    let index = std::fs::read_to_string(cx.dir().join("index/3/a/abc")).unwrap();
    assert_eq!(
        index,
        format!("{}\n", cx.published("abc", "2.0.0").index_line())
    );

    // The registry serves it again; the next run fetches that file alone.
    cx.registry
        .server()
        .route("/dl/abc/2.1.0/download", Resource::new(broken.crate_file()));
    let report = cx
        .mirror()
        .crate_spec("abc".parse().unwrap())
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap();
    assert_eq!(
        (report.fetched, report.present, report.failures.len()),
        (1, 3, 0)
    );
    let index = std::fs::read_to_string(cx.dir().join("index/3/a/abc")).unwrap();
    assert_eq!(index, cx.registry.index_file("abc").unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_keep_going_the_run_stops_at_a_failure_but_keeps_what_it_has() {
    let cx = Context::new();
    let report = cx
        .mirror()
        .crate_spec("no-such-crate".parse().unwrap())
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap();
    assert!(report.stopped_early);
    assert_eq!(report.fetched, 0);
    assert_eq!(
        report.failures[0].error,
        format!(
            "no-such-crate: the index {}/ has no such crate",
            cx.registry.server().url("/index")
        )
    );
    assert!(verify(cx.dir(), 1).unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_pick_names_and_versions() {
    let cx = Context::new();
    let all: Vec<CrateSpec> = ["a", "ab", "abc", "MyCrate", "dash-name", "under_name"]
        .iter()
        .map(|name| name.parse().unwrap())
        .collect();
    let mut mirror = cx
        .mirror()
        .filter(NameFilter::new(&["a*".into(), "*name".into()], &["dash-*".into()], None).unwrap())
        .versions(Versions::Latest(1))
        .skip_yanked(true);
    for spec in all {
        mirror = mirror.crate_spec(spec);
    }
    let report = mirror.run().await.unwrap();
    assert_eq!(report.failures, []);
    let files = file_tree(&cx.dir().join("crates"));
    assert_eq!(
        files,
        [
            "1/a/a-1.1.0+build.7.crate",
            "2/ab/ab-0.2.0-alpha.1.crate",
            "3/a/abc/abc-2.0.0.crate",
            "un/de/under_name/under_name-1.0.0.crate",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crate_comes_with_its_dependencies_and_builds_from_the_mirror_alone() {
    let cx = Context::new();
    // `MyCrate` depends on `ab` 0.1 under the name `short`, which depends on `a` 1; its
    // dev-dependency `abc` is not needed to build it.
    let report = cx
        .mirror()
        .crate_spec("MyCrate".parse().unwrap())
        .versions(Versions::Latest(1))
        .run()
        .await
        .unwrap();
    assert_eq!(report.failures, []);
    assert_eq!(report.crates, 3);
    assert_eq!(
        file_tree(&cx.dir().join("crates")),
        [
            "1/a/a-1.1.0+build.7.crate",
            "2/ab/ab-0.1.0.crate",
            "my/cr/MyCrate/MyCrate-0.3.0.crate",
        ]
    );
    let server = serve_folder(cx.dir()).await;
    let sandbox = CargoSandbox::new(&server.cargo_config(), &[("MyCrate", "0.3")]);
    sandbox.cargo_ok(&["build"]);

    let bare = tempfile::tempdir().unwrap();
    let report = Mirror::new(bare.path(), Upstream::Sparse(cx.registry.index_url()))
        .client(cx.client.clone())
        .crate_spec("MyCrate".parse().unwrap())
        .dependencies(false)
        .run()
        .await
        .unwrap();
    assert_eq!((report.crates, report.files), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cargo_home_is_an_upstream_with_no_network_and_the_local_registry_layout_builds_offline()
{
    // Real cargo fills a cargo home from the registry...
    let registry = SparseRegistry::start(Validators::ETag);
    publish_all(&registry);
    let built = CargoSandbox::new(
        &registry.cargo_config(),
        &[("MyCrate", "0.3"), ("dash-name", "1"), ("a", "1")],
    );
    built.cargo_ok(&["fetch"]);
    let lockfile = built.project().join("Cargo.lock");
    let requests = registry.server().requests().len();

    // ...and fetchkit mirrors that project from it, as a local registry.
    let out = tempfile::tempdir().unwrap();
    let report = Mirror::new(out.path(), Upstream::CargoHome(built.home()))
        .layout(Layout::LocalRegistry)
        .lockfile(&lockfile)
        .run()
        .await
        .unwrap();
    assert_eq!(report.failures, []);
    assert_eq!(report.files, 5, "a, ab, MyCrate, dash-name, under_name");
    assert_eq!(registry.server().requests().len(), requests, "no network");
    assert!(verify(out.path(), 2).unwrap().is_clean());
    assert_eq!(
        std::fs::read_to_string(out.path().join("index/da/sh/dash-name")).unwrap(),
        registry.index_file("dash-name").unwrap()
    );

    // Cargo builds the same project from the folder as a local registry, offline.
    let config = format!(
        "[source.crates-io]\nreplace-with = \"mirror\"\n\n[source.mirror]\nlocal-registry = {:?}\n",
        out.path().display().to_string()
    );
    let offline = CargoSandbox::new(
        &config,
        &[("MyCrate", "0.3"), ("dash-name", "1"), ("a", "1")],
    );
    std::fs::copy(&lockfile, offline.project().join("Cargo.lock")).unwrap();
    offline.cargo_ok(&["build", "--offline", "--locked"]);

    // One corrupted file: verify names it, and cargo refuses it.
    let corrupted = crate_file(out.path(), Layout::LocalRegistry, "dash-name", "1.0.0");
    let mut bytes = std::fs::read(&corrupted).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&corrupted, bytes).unwrap();
    let check = verify(out.path(), 2).unwrap();
    let corrupt: Vec<&str> = check.corrupt.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(corrupt, ["dash-name-1.0.0.crate"]);
    let again = CargoSandbox::new(&config, &[("dash-name", "1")]);
    let output = again.cargo(&["build", "--offline"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("failed to verify the checksum of `dash-name v1.0.0"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_reports_missing_extra_and_bad_lines() {
    let cx = Context::new();
    cx.mirror()
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap();
    let dir = cx.dir();
    std::fs::remove_file(crate_file(dir, Layout::Sparse, "a", "1.0.0")).unwrap();
    std::fs::write(dir.join("crates/1/a/stray.crate"), b"x").unwrap();
    std::fs::write(dir.join(".fetchkit/tmp/123-0-left.crate"), b"x").unwrap();
    let mut index = std::fs::read_to_string(dir.join("index/1/a")).unwrap();
    index.push_str("not json\n");
    std::fs::write(dir.join("index/1/a"), index).unwrap();
    let check = verify(dir, 2).unwrap();
    assert_eq!(check.missing, ["crates/1/a/a-1.0.0.crate"]);
    assert_eq!(
        check.extra,
        [".fetchkit/tmp/123-0-left.crate", "crates/1/a/stray.crate"]
    );
    assert_eq!(
        check.bad_index_lines,
        ["index/1/a:3: not a valid index line"]
    );
    assert!(check.corrupt.is_empty());
    assert!(!check.is_clean());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_keeps_its_layout_and_one_run_at_a_time() {
    let cx = Context::new();
    cx.mirror()
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap();
    let error = cx
        .mirror()
        .layout(Layout::LocalRegistry)
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: this mirror has the `sparse` layout; it cannot take `local-registry` files too",
            cx.dir().display()
        )
    );
    let lock = std::fs::File::open(cx.dir().join(".fetchkit/lock")).unwrap();
    lock.lock().unwrap();
    let error = cx
        .mirror()
        .crate_spec("a".parse().unwrap())
        .run()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("another fetchkit mirror run is using this folder")
    );
}
