//! Real cargo is the judge: the cargo that builds these tests runs against a loopback sparse
//! registry in a throwaway cargo home. What it writes, fetchkit reads and writes back byte for
//! byte; what fetchkit writes, it resolves from; fetchkit's conditional requests and its
//! package-cache lock are the ones cargo honours.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use fetchkit_index_cache::{
    CacheFile, CargoHome, FetchOutcome, SparseIndex, build_cache, index_path, parse_lockfile,
    registry_dir_name,
};
use fetchkit_retry::{Retry, RetryPolicy};
use fetchkit_test_support::{CargoSandbox, FakeCrate, SparseRegistry, Validators};
use fetchkit_transport::Client;

/// [`FakeCrate::samples`]: every shape of name, version and dependency cargo treats apart.
fn publish_all(registry: &SparseRegistry) {
    for krate in FakeCrate::samples() {
        registry.publish(krate);
    }
}

const NAMES: [&str; 6] = ["a", "ab", "abc", "MyCrate", "dash-name", "under_name"];
const DEPENDENCIES: [(&str, &str); 5] = [
    ("a", "1"),
    ("abc", "2"),
    ("MyCrate", "0.3"),
    ("dash-name", "1"),
    ("ab", "0.1"),
];

fn sparse_index(registry: &SparseRegistry) -> SparseIndex {
    let client = Client::builder()
        .read_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    SparseIndex::new(
        client,
        Retry::new(RetryPolicy::no_retries()),
        &registry.index_url(),
    )
    .unwrap()
}

fn locked_version(sandbox: &CargoSandbox, name: &str) -> String {
    let packages = parse_lockfile(&sandbox.lockfile()).unwrap();
    let found: Vec<_> = packages.iter().filter(|p| p.name == name).collect();
    assert_eq!(found.len(), 1, "{name} in\n{}", sandbox.lockfile());
    found[0].version.clone()
}

#[test]
fn caches_cargo_writes_read_and_write_back_byte_for_byte() {
    for validators in [
        Validators::ETag,
        Validators::WeakETag,
        Validators::LastModified,
        Validators::Both,
        Validators::None,
    ] {
        let registry = SparseRegistry::start(validators);
        publish_all(&registry);
        let sandbox = CargoSandbox::new(&registry.cargo_config(), &DEPENDENCIES);
        // Fetching and building once proves the served crates are real: checksums match
        // and they compile.
        let command: &[&str] = if validators == Validators::ETag {
            &["build"]
        } else {
            &["generate-lockfile"]
        };
        sandbox.cargo_ok(command);

        let index_dir = sandbox.only_index_dir();
        assert_eq!(
            index_dir.file_name().unwrap().to_str().unwrap(),
            registry_dir_name(&registry.index_url()).unwrap(),
            "fetchkit names cargo's registry folder as cargo does"
        );
        assert_eq!(
            CargoHome::new(sandbox.home())
                .cache_dir(&registry.index_url())
                .unwrap(),
            index_dir.join(".cache")
        );
        for name in NAMES {
            let path = index_dir.join(".cache").join(index_path(name));
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|error| panic!("{validators:?} {}: {error}", path.display()));
            let cache = CacheFile::parse(&bytes).unwrap();
            assert_eq!(
                cache.index_version(),
                registry.index_version(name),
                "{validators:?} {name}"
            );
            let served = registry.index_file(name).unwrap();
            let blobs: Vec<&[u8]> = cache.entries().iter().map(|entry| entry.blob()).collect();
            let lines: Vec<&[u8]> = served.lines().map(str::as_bytes).collect();
            assert_eq!(
                blobs, lines,
                "{validators:?} {name}: blobs are the served lines"
            );
            assert_eq!(
                cache.to_bytes(),
                bytes,
                "{validators:?} {name}: read, written back"
            );
            let (built, skipped) = build_cache(cache.index_version(), served.as_bytes()).unwrap();
            assert!(skipped.is_empty());
            assert_eq!(
                built, bytes,
                "{validators:?} {name}: built from the index file"
            );
        }
    }
}

#[test]
fn cargo_resolves_offline_from_caches_fetchkit_wrote() {
    // The registry serves one version of each crate; fetchkit's caches add newer ones the
    // server never had, so only a cache cargo accepted byte for byte can make it pick them.
    let registry = SparseRegistry::start(Validators::ETag);
    let served = [
        FakeCrate::new("a", "1.0.0"),
        FakeCrate::new("ab", "0.1.0"),
        FakeCrate::new("abc", "2.0.0"),
        FakeCrate::new("MyCrate", "0.3.0"),
        FakeCrate::new("dash-name", "1.0.0"),
        FakeCrate::new("under_name", "1.0.0"),
    ];
    for krate in &served {
        registry.publish(krate.clone());
    }
    let cached_only = [
        // (crate, what the project asks, what cargo must lock)
        (FakeCrate::new("a", "1.1.0+build.7"), "1", "1.1.0+build.7"),
        (FakeCrate::new("ab", "0.1.5"), "0.1", "0.1.5"),
        // A pre-release is picked only when the requirement names one.
        (
            FakeCrate::new("abc", "2.5.0-beta.2"),
            "2.5.0-beta.1",
            "2.5.0-beta.2",
        ),
        (FakeCrate::new("MyCrate", "0.3.9"), "0.3", "0.3.9"),
        (FakeCrate::new("dash-name", "1.2.0"), "1", "1.2.0"),
        // Yanked: present in the cache, never chosen for a new lock.
        (FakeCrate::new("under_name", "1.9.0").yanked(), "1", "1.0.0"),
    ];
    let requirements: Vec<(&str, &str)> = cached_only
        .iter()
        .map(|(krate, req, _)| (krate.name(), *req))
        .collect();
    let sandbox = CargoSandbox::new(&registry.cargo_config(), &requirements);
    let cache_dir = CargoHome::new(sandbox.home())
        .cache_dir(&registry.index_url())
        .unwrap();
    for (krate, _, _) in &cached_only {
        let index = format!(
            "{}{}\n",
            registry.index_file(krate.name()).unwrap(),
            krate.index_line()
        );
        let (bytes, skipped) =
            build_cache(&registry.index_version(krate.name()), index.as_bytes()).unwrap();
        assert!(skipped.is_empty());
        let path = cache_dir.join(index_path(krate.name()));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    drop(registry);

    sandbox.cargo_ok(&["generate-lockfile", "--offline"]);
    for (krate, _, expected) in &cached_only {
        assert_eq!(
            locked_version(&sandbox, krate.name()),
            *expected,
            "{}",
            krate.name()
        );
    }
}

/// Puts a file's modification time an hour back, so that a rewrite, however quick, shows.
fn backdate(path: &Path) -> SystemTime {
    let past = SystemTime::now() - Duration::from_secs(3600);
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(past).unwrap();
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn unchanged_files_cost_a_304_and_are_left_untouched_by_fetchkit_and_cargo() {
    for validators in [
        Validators::ETag,
        Validators::WeakETag,
        Validators::LastModified,
    ] {
        let registry = SparseRegistry::start(validators);
        registry.publish(FakeCrate::new("MyCrate", "0.3.0"));
        let sandbox = CargoSandbox::new(&registry.cargo_config(), &[("MyCrate", "0.3")]);
        let cache_dir = CargoHome::new(sandbox.home())
            .cache_dir(&registry.index_url())
            .unwrap();
        let index = sparse_index(&registry);
        let names = ["MyCrate".to_owned()];
        let first = index.fetch_many(&names, &cache_dir, 4).await;
        assert!(matches!(
            first[0],
            Ok(FetchOutcome::Updated { versions: 1, .. })
        ));
        let path = cache_dir.join(index_path("MyCrate"));
        let bytes = std::fs::read(&path).unwrap();
        let mtime = backdate(&path);
        let file_path = "/index/my/cr/mycrate";

        // fetchkit again: the stored index version becomes the conditional header.
        let second = index.fetch_many(&names, &cache_dir, 4).await;
        assert!(
            matches!(second[0], Ok(FetchOutcome::Unchanged)),
            "{second:?}"
        );
        let request = registry.server().requests_to(file_path).pop().unwrap();
        let stored = registry.index_version("MyCrate");
        match validators {
            Validators::LastModified => assert_eq!(
                request.header("If-Modified-Since"),
                stored.strip_prefix("last-modified: ")
            ),
            _ => assert_eq!(
                request.header("If-None-Match"),
                stored.strip_prefix("etag: ")
            ),
        }

        // cargo updating from the same cache sends the same header and keeps the file.
        sandbox.cargo_ok(&["generate-lockfile"]);
        let request = registry.server().requests_to(file_path).pop().unwrap();
        assert_eq!(
            (
                request.header("If-None-Match"),
                request.header("If-Modified-Since")
            ),
            match validators {
                Validators::LastModified => (None, stored.strip_prefix("last-modified: ")),
                _ => (stored.strip_prefix("etag: "), None),
            },
            "{validators:?}"
        );
        for who in ["fetchkit", "cargo"] {
            assert_eq!(
                std::fs::read(&path).unwrap(),
                bytes,
                "{validators:?}, {who}"
            );
            assert_eq!(
                std::fs::metadata(&path).unwrap().modified().unwrap(),
                mtime,
                "{validators:?}, {who}"
            );
        }

        // A change on the server is a 200 and a rewrite.
        registry.publish(FakeCrate::new("MyCrate", "0.3.1"));
        let third = index.fetch_many(&names, &cache_dir, 4).await;
        assert!(matches!(
            third[0],
            Ok(FetchOutcome::Updated { versions: 2, .. })
        ));
        assert_ne!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    }
}

#[test]
fn cargo_waits_for_the_package_cache_lock_fetchkit_holds() {
    let registry = SparseRegistry::start(Validators::ETag);
    registry.publish(FakeCrate::new("a", "1.0.0"));
    let sandbox = CargoSandbox::new(&registry.cargo_config(), &[("a", "1")]);
    let lock = CargoHome::new(sandbox.home())
        .try_lock_package_cache()
        .unwrap()
        .expect("nobody else holds it");

    let mut child = sandbox
        .command()
        .arg("generate-lockfile")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // Cargo says it is blocked before it does anything else that needs the lock; reading up
    // to that line is the synchronization.
    loop {
        let mut line = String::new();
        assert_ne!(
            stderr.read_line(&mut line).unwrap(),
            0,
            "cargo ended:\n{seen}"
        );
        seen.push_str(&line);
        if line.contains("Blocking waiting for file lock on package cache") {
            break;
        }
    }
    assert!(
        sandbox.lockfile().is_empty(),
        "nothing resolved while blocked"
    );
    drop(lock);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{seen}{rest}");
    assert_eq!(locked_version(&sandbox, "a"), "1.0.0");
}
