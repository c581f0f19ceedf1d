//! `fetchkit index show|path|query|build` on files written here; `fetch` and `warm` against
//! a loopback registry, with real cargo resolving offline from what `warm` wrote.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;

use fetchkit::index_cache::CargoHome;
use fetchkit_test_support::{CargoSandbox, FakeCrate, SparseRegistry, Validators, file_names};

use crate::support::{Run, TestContext};

/// An index line for `version` of `demo`, with `extra` fields appended.
fn line(version: &str, extra: &str) -> String {
    format!(
        r#"{{"name":"demo","vers":"{version}","deps":[],"cksum":"{}","features":{{}}{extra}}}"#,
        "0".repeat(64)
    )
}

/// An index file of `demo`: three releases (one yanked), a pre-release, build metadata, and
/// two lines cargo skips.
fn index_file() -> String {
    [
        line("0.1.0", ""),
        line("0.2.0", r#","yanked":false"#),
        "not json".to_owned(),
        line("0.3.0", r#","yanked":true"#),
        line("0.4.0-beta.1", ""),
        line("0.2.1+build.7", ""),
        r#"{"name":"demo","vers":"latest"}"#.to_owned(),
    ]
    .join("\n")
        + "\n"
}

fn stdout(run: &crate::support::Run) -> String {
    assert_eq!(run.code, Some(0), "{run}");
    String::from_utf8(run.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn build_then_show_and_query() {
    let context = TestContext::new();
    context.write("demo", index_file().as_bytes());
    let cache = context.path("cache/demo");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let cache = cache.to_str().unwrap();
    let run = context.fetchkit(&[
        "index",
        "build",
        context.path("demo").to_str().unwrap(),
        "--index-version",
        "etag: W/\"abc\"",
        "-o",
        cache,
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    let warnings: Vec<_> = run
        .lines()
        .into_iter()
        .filter(|l| l.contains("skipped"))
        .collect();
    assert_eq!(warnings.len(), 2, "{run}");
    assert!(warnings[0].contains("line 3: not an index entry"), "{run}");
    assert!(
        warnings[1].contains("line 7: invalid version \"latest\""),
        "{run}"
    );
    // Exactly the bytes cargo writes: header, then each kept line under its version.
    let mut expected = vec![3, 2, 0, 0, 0];
    expected.extend_from_slice(b"etag: W/\"abc\"\0");
    for (key, text) in [
        ("0.1.0", line("0.1.0", "")),
        ("0.2.0", line("0.2.0", r#","yanked":false"#)),
        ("0.3.0", line("0.3.0", r#","yanked":true"#)),
        ("0.4.0-beta.1", line("0.4.0-beta.1", "")),
        ("0.2.1+build.7", line("0.2.1+build.7", "")),
    ] {
        expected.extend_from_slice(key.as_bytes());
        expected.push(0);
        expected.extend_from_slice(text.as_bytes());
        expected.push(0);
    }
    assert_eq!(std::fs::read(cache).unwrap(), expected);
    assert_eq!(context.files(), ["cache", "demo"], "no temporary file left");

    let shown = stdout(&context.fetchkit(&["index", "show", cache]));
    assert_eq!(
        shown,
        "index version: etag: W/\"abc\"\n\
         format: cache version 3, index schema version 2\n\
         versions: 5\n\
         0.1.0\n0.2.0\n0.3.0 (yanked)\n0.4.0-beta.1\n0.2.1+build.7\n"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(
        &context.fetchkit(&["index", "show", "--json", cache]),
    ))
    .unwrap();
    assert_eq!(json["index_version"], "etag: W/\"abc\"");
    assert_eq!(
        json["versions"][2],
        serde_json::json!({"version": "0.3.0", "yanked": true, "valid": true})
    );

    let query = |req: &str, extra: &[&str]| {
        let mut args = vec!["index", "query", cache, req];
        args.extend_from_slice(extra);
        context.fetchkit(&args)
    };
    assert_eq!(stdout(&query("*", &[])), "0.2.1+build.7\n");
    assert_eq!(stdout(&query("^0.3", &["--yanked"])), "0.3.0\n");
    assert_eq!(stdout(&query(">=0.4.0-beta", &[])), "0.4.0-beta.1\n");
    assert_eq!(stdout(&query("=0.2.0", &[])), "0.2.0\n");
    let run = query("^0.3", &[]);
    assert!(
        run.failure()
            .ends_with("no non-yanked version matches ^0.3"),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "{run}");
    let run = query("not a req", &[]);
    assert!(
        run.failure()
            .starts_with("error: invalid version requirement"),
        "{run}"
    );
}

#[test]
fn paths_are_cargos() {
    let context = TestContext::new();
    for (name, expected) in [
        ("a", "1/a"),
        ("ab", "2/ab"),
        ("abc", "3/a/abc"),
        ("Serde_Json", "se/rd/serde_json"),
    ] {
        assert_eq!(
            stdout(&context.fetchkit(&["index", "path", name])),
            format!("{expected}\n")
        );
    }
    let run = context.fetchkit(&["index", "path", ""]);
    assert_eq!(run.failure(), "error: a crate name cannot be empty");
}

#[test]
fn unusable_cache_files_are_one_line_errors() {
    let context = TestContext::new();
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty", b"", "empty cache file"),
        (
            "v2",
            &[2, 2, 0, 0, 0, b'x', 0],
            "unsupported cache version 2 (expected 3)",
        ),
        (
            "schema",
            &[3, 1, 0, 0, 0, b'x', 0],
            "unsupported index schema version 1 (expected 2)",
        ),
        (
            "dangling",
            b"\x03\x02\x00\x00\x00x\x001.0.0\x00",
            "version key \"1.0.0\" at byte 7 has no blob after it",
        ),
    ];
    for (name, bytes, reason) in cases {
        context.write(name, bytes);
        let path = context.path(name);
        for command in ["show", "query"] {
            let mut args = vec!["index", command, path.to_str().unwrap()];
            if command == "query" {
                args.push("*");
            }
            let run = context.fetchkit(&args);
            let error = run.failure();
            assert_eq!(
                error,
                format!(
                    "error: {}: not a usable index cache: {reason}",
                    path.display()
                ),
                "{run}"
            );
        }
    }
    let run = context.fetchkit(&["index", "show", context.path("missing").to_str().unwrap()]);
    assert!(run.failure().contains("cannot read"), "{run}");
}

#[test]
fn fetch_is_conditional_and_reports_each_crate() {
    use fetchkit_test_support::{Reply, Resource};
    let context = TestContext::new();
    let demo = line("0.1.0", "") + "\n";
    context.serve(
        "/index/de/mo/demo",
        Resource::new(demo.clone().into_bytes()).etag("\"d1\""),
    );
    let gone = context.serve(
        "/index/go/ne/gone",
        Resource::new(&b""[..]).script([Reply::Status(404)]),
    );
    let index = format!("sparse+{}", gone.trim_end_matches("go/ne/gone"));
    let cache = context.path("cache");
    let fetch = |crates: &[&str]| {
        let mut args = vec![
            "index",
            "fetch",
            "--index",
            &index,
            "--cache-dir",
            cache.to_str().unwrap(),
        ];
        args.extend_from_slice(crates);
        context.fetchkit(&args)
    };

    let run = fetch(&["demo", "gone"]);
    assert_eq!(
        run.failure(),
        "error: 1 of 2 crates not fetched (1 not in the registry, 0 failed)"
    );
    assert!(run.stderr.contains("demo: updated, 1 versions\n"), "{run}");
    assert!(
        run.stderr
            .contains("gone: not in the registry (HTTP 404)\n"),
        "{run}"
    );
    let written = std::fs::read(cache.join("de/mo/demo")).unwrap();
    let mut expected = b"\x03\x02\x00\x00\x00etag: \"d1\"\x000.1.0\x00".to_vec();
    expected.extend_from_slice(demo.trim_end().as_bytes());
    expected.push(0);
    assert_eq!(written, expected);

    let run = fetch(&["demo"]);
    assert_eq!(
        run.success(),
        "fetched 1 index files: 0 updated, 1 unchanged",
        "{run}"
    );
    assert!(run.stderr.contains("demo: unchanged\n"), "{run}");
    let run = fetch(&["demo", "-q"]);
    assert!(run.stderr.is_empty(), "{run}");

    let run = context.fetchkit(&[
        "index",
        "fetch",
        "--index",
        "sparse+http://127.0.0.1:1/index",
        "--cache-dir",
        cache.to_str().unwrap(),
        "demo",
    ]);
    assert!(
        run.failure()
            .ends_with("a sparse index URL must end with a slash"),
        "{run}"
    );
}

/// A registry whose crates depend on each other: `app-core` needs `ab` (renamed) and
/// `under_name`, which needs `a`; `MyCrate` has a yanked version and a dev-dependency that
/// resolution never needs.
fn registry() -> SparseRegistry {
    let registry = SparseRegistry::start(Validators::Both);
    for krate in [
        FakeCrate::new("a", "1.0.0"),
        FakeCrate::new("a", "1.1.0+build.7"),
        FakeCrate::new("ab", "0.1.0"),
        FakeCrate::new("under_name", "1.0.0").dependency("a", "1"),
        FakeCrate::new("app-core", "0.2.0-alpha.1")
            .renamed_dependency("short", "ab", "0.1")
            .dependency("under_name", "1"),
        FakeCrate::new("MyCrate", "0.3.0").dev_dependency("never-fetched", "1"),
        FakeCrate::new("MyCrate", "0.4.0").yanked(),
    ] {
        registry.publish(krate);
    }
    registry
}

const PROJECT_DEPENDENCIES: [(&str, &str); 2] = [("app-core", "0.2.0-alpha.1"), ("MyCrate", "0.3")];

fn warm(context: &TestContext, registry: &SparseRegistry, home: &Path, extra: &[&str]) -> Run {
    let index = registry.index_url();
    let mut args = vec![
        "index",
        "warm",
        "--index",
        &index,
        "--cargo-home",
        home.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    context.fetchkit(&args)
}

#[test]
fn warm_lets_cargo_resolve_offline_with_the_registry_gone() {
    let context = TestContext::new();
    let registry = registry();
    let sandbox = CargoSandbox::new(&registry.cargo_config(), &PROJECT_DEPENDENCIES);

    let warm_crates = || {
        let home = sandbox.home();
        warm(&context, &registry, &home, &["app-core", "MyCrate"])
    };
    let run = warm_crates();
    assert_eq!(
        run.success(),
        "fetched 5 index files: 5 updated, 0 unchanged",
        "the two crates and, through dependencies, three more"
    );
    assert!(
        run.stderr.contains("app-core: updated, 1 versions"),
        "{run}"
    );
    assert!(run.stderr.contains("a: updated, 2 versions"), "{run}");
    assert!(!run.stderr.contains("never-fetched"), "{run}");
    let index_dir = CargoHome::new(sandbox.home())
        .index_dir(&registry.index_url())
        .unwrap();
    assert_eq!(
        file_names(&index_dir),
        [".cache", "config.json"],
        "cargo's layout, nothing else"
    );
    assert!(sandbox.home().join("registry/CACHEDIR.TAG").is_file());
    assert_eq!(
        warm_crates().success(),
        "fetched 5 index files: 0 updated, 5 unchanged"
    );
    // The lock file cargo makes online is what a second cargo home is warmed from.
    let online = CargoSandbox::new(&registry.cargo_config(), &PROJECT_DEPENDENCIES);
    online.cargo_ok(&["generate-lockfile"]);
    let from_lock = CargoSandbox::new(&registry.cargo_config(), &PROJECT_DEPENDENCIES);
    let lockfile = from_lock.project().join("Cargo.lock");
    std::fs::write(&lockfile, online.lockfile()).unwrap();
    let run = warm(
        &context,
        &registry,
        &from_lock.home(),
        &["--lockfile", lockfile.to_str().unwrap()],
    );
    assert_eq!(
        run.success(),
        "fetched 5 index files: 5 updated, 0 unchanged",
        "the lock file's five registry packages"
    );
    drop(registry);

    sandbox.cargo_ok(&["generate-lockfile", "--offline"]);
    assert_eq!(
        sandbox.lockfile(),
        online.lockfile(),
        "the same resolution, offline"
    );
    from_lock.cargo_ok(&["generate-lockfile", "--offline"]);
    assert_eq!(from_lock.lockfile(), online.lockfile());
}

#[test]
fn writes_into_a_cargo_home_wait_for_a_cargo_holding_the_package_cache_lock() {
    let context = TestContext::new();
    let registry = registry();
    let home = context.path("cargo-home");
    let index = registry.index_url();
    let cache_dir = CargoHome::new(&home).cache_dir(&index).unwrap();
    let warm = [
        "index",
        "warm",
        "--index",
        &index,
        "--cargo-home",
        home.to_str().unwrap(),
        "a",
    ];
    let fetch = [
        "index",
        "fetch",
        "--index",
        &index,
        "--cache-dir",
        cache_dir.to_str().unwrap(),
        "ab",
    ];
    for (args, written) in [(&warm[..], "1/a"), (&fetch[..], "2/ab")] {
        let lock = CargoHome::new(&home)
            .try_lock_package_cache()
            .unwrap()
            .expect("nobody else holds it");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fetchkit"))
            .args(args)
            .env_remove("CARGO_HOME")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        // The announcement comes before anything is written; reading it is the
        // synchronization.
        stderr.read_line(&mut line).unwrap();
        assert!(
            line.starts_with("waiting for the package cache lock"),
            "{args:?}: {line}"
        );
        assert!(
            !cache_dir.join(written).exists(),
            "nothing written while waiting"
        );
        drop(lock);
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        assert!(child.wait().unwrap().success(), "{line}{rest}");
        assert!(
            rest.ends_with("fetched 1 index files: 1 updated, 0 unchanged\n"),
            "{rest}"
        );
        assert!(cache_dir.join(written).is_file());
    }
}

#[test]
fn warm_reports_what_it_cannot_do() {
    let context = TestContext::new();
    let registry = registry();
    let home = context.path("home");

    // A crate the registry lacks: the others are still warmed, and the exit says how many.
    let run = warm(&context, &registry, &home, &["ab", "no-such-crate"]);
    assert_eq!(
        run.failure(),
        "error: 1 of 2 crates not fetched (1 not in the registry, 0 failed)"
    );
    assert!(
        run.stderr
            .contains("no-such-crate: not in the registry (HTTP 404)"),
        "{run}"
    );

    // The cargo home comes from CARGO_HOME when not given.
    let index = registry.index_url();
    let run = context.fetchkit_with_env(
        &[
            "index",
            "warm",
            "--index",
            &index,
            "--no-deps",
            "under_name",
        ],
        &[("CARGO_HOME", home.to_str().unwrap())],
    );
    assert_eq!(
        run.success(),
        "fetched 1 index files: 1 updated, 0 unchanged"
    );
    let cache = CargoHome::new(&home).cache_dir(&index).unwrap();
    assert!(cache.join("un/de/under_name").is_file());
    assert!(!cache.join("1/a").exists(), "--no-deps");

    let lockfile = |name: &str, text: &str| {
        context.write(name, text.as_bytes());
        context.path(name).to_str().unwrap().to_owned()
    };
    let two_registries = lockfile(
        "two.lock",
        "version = 4\n\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\n\
         source = \"sparse+http://127.0.0.1:1/one/\"\n\n\
         [[package]]\nname = \"y\"\nversion = \"1.0.0\"\n\
         source = \"sparse+http://127.0.0.1:1/two/\"\n",
    );
    let broken = lockfile("broken.lock", "[[package]\nname = 1\n");
    let no_registry = lockfile(
        "paths.lock",
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n",
    );
    for (args, expected) in [
        (
            vec!["--lockfile", two_registries.as_str()],
            "packages come from 2 registries",
        ),
        (
            vec!["--lockfile", broken.as_str()],
            "not a lock file: invalid Cargo.lock",
        ),
        (
            vec!["--lockfile", no_registry.as_str()],
            "no package comes from a registry",
        ),
    ] {
        let run = warm(&context, &registry, &home, &args);
        assert!(run.failure().contains(expected), "{run}");
    }
    let run = context.fetchkit(&[
        "index",
        "warm",
        "--index",
        "sparse+http://127.0.0.1:1/no-slash",
        "--cargo-home",
        home.to_str().unwrap(),
        "a",
    ]);
    assert!(run.failure().contains("must end with a slash"), "{run}");
}
