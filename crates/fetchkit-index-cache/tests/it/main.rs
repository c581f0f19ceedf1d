//! The cache format through the public API, on a crate with many versions: what is built reads
//! back and writes back byte for byte, and every query agrees with a slow reference that
//! parses every index line in full.

mod cargo;
mod sparse;

use fetchkit_index_cache::{CacheFile, IndexEntry, build_cache};
use semver::{Version, VersionReq};

/// An index file of `name` with `count` versions: releases, pre-releases, build metadata,
/// yanked versions, dependencies and features, in an order that is not sorted.
fn index_file(name: &str, count: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(5);
    let mut lines = Vec::new();
    for at in 0..count {
        let (major, minor, patch) = (at % 4, (at * 7) % 13, at);
        let version = match rng.u8(..10) {
            0 => format!("{major}.{minor}.{patch}-rc.{}", rng.u8(..3)),
            1 => format!("{major}.{minor}.{patch}+build.{}", rng.u8(..3)),
            _ => format!("{major}.{minor}.{patch}"),
        };
        let yanked = rng.u8(..5) == 0;
        lines.push(format!(
            r#"{{"name":"{name}","vers":"{version}","deps":[{{"name":"serde","req":"^1.0.{at}","features":["derive"],"optional":false,"default_features":true,"target":null,"kind":"normal"}}],"cksum":"{:064x}","features":{{"default":["std"],"std":[]}},"yanked":{yanked}}}"#,
            at
        ));
    }
    lines.join("\n") + "\n"
}

/// The newest version matching `requirement`, the slow way: every line parsed in full.
fn reference(index: &str, requirement: &VersionReq, include_yanked: bool) -> Option<Version> {
    index
        .lines()
        .map(|line| serde_json::from_str::<IndexEntry>(line).expect("valid line"))
        .filter(|entry| include_yanked || !entry.yanked)
        .map(|entry| Version::parse(&entry.vers).expect("valid version"))
        .filter(|version| requirement.matches(version))
        .max()
}

#[test]
fn a_big_cache_round_trips_and_answers_like_the_slow_way() {
    let index = index_file("Big_Crate", 2000);
    let (bytes, skipped) = build_cache("etag: W/\"0123\"", index.as_bytes()).unwrap();
    assert!(skipped.is_empty());
    let cache = CacheFile::parse(&bytes).unwrap();
    assert_eq!(cache.entries().len(), 2000);
    assert_eq!(cache.to_bytes(), bytes);
    for (entry, line) in cache.entries().iter().zip(index.lines()) {
        assert_eq!(entry.blob(), line.as_bytes());
        assert_eq!(entry.entry().unwrap().vers, entry.key());
    }
    for requirement in [
        "*",
        "^1",
        "~2.3",
        ">=1.5.0, <3",
        "=0.0.0",
        "^3.12",
        ">=0.0.0-0",
        "^9",
    ] {
        let parsed: VersionReq = requirement.parse().unwrap();
        for include_yanked in [false, true] {
            let fast = cache
                .newest_matching(&parsed, include_yanked)
                .map(|entry| entry.version().clone());
            assert_eq!(
                fast,
                reference(&index, &parsed, include_yanked),
                "{requirement} yanked={include_yanked}"
            );
        }
    }
}
