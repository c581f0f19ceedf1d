//! Dumps made by `fetchkit-test-support`'s `DumpBuilder` from the same fake crates its sparse
//! registry serves: the listing's index metadata must give back each crate's own index line.

use std::io::Read as _;

use fetchkit_lister::{Listing, State, list_from_reader};
use fetchkit_test_support::{DumpBuilder, FakeCrate};
use serde_json::{Value, json};

use crate::summary;

fn options(since: Option<State>) -> fetchkit_lister::ListOptions {
    let mut options = crate::options(since);
    options.index_metadata = true;
    options
}

fn list(dump: &[u8], since: Option<State>) -> Listing {
    list_from_reader(dump, &options(since)).unwrap()
}

/// The index line a listed version makes, in the index's own field names: a renamed
/// dependency's `name` is the name used, `package` the crate's.
fn index_line(listing: &Listing, name: &str, version: &str) -> Value {
    let line = listing
        .pages()
        .flat_map(|page| page.versions)
        .find(|line| &*line.name == name && line.version == version)
        .unwrap_or_else(|| panic!("{name} {version} is not listed"));
    let metadata = line.metadata.clone().expect("index metadata");
    let deps: Vec<Value> = metadata
        .dependencies
        .iter()
        .map(|dependency| {
            let mut dep = json!({
                "name": dependency.explicit_name.as_deref().unwrap_or(&dependency.name),
                "req": dependency.req,
                "features": dependency.features,
                "optional": dependency.optional,
                "default_features": dependency.default_features,
                "target": dependency.target,
                "kind": dependency.kind.as_str(),
            });
            if dependency.explicit_name.is_some() {
                dep["package"] = json!(dependency.name);
            }
            dep
        })
        .collect();
    json!({
        "name": &*line.name,
        "vers": line.version,
        "deps": deps,
        "cksum": line.checksum.to_hex(),
        "features": serde_json::from_str::<Value>(&metadata.features).unwrap(),
        "yanked": line.yanked,
    })
}

#[test]
fn the_samples_give_back_their_index_lines() {
    let samples = FakeCrate::samples();
    let dump = DumpBuilder::new("2026-01-02T02:00:00Z")
        .crates(samples.clone(), "2026-01-01 10:00:00+00")
        .tar_gz();
    let listing = list(&dump, None);
    for sample in &samples {
        let expected: Value = serde_json::from_str(&sample.index_line()).unwrap();
        assert_eq!(
            index_line(&listing, sample.name(), sample.version()),
            expected,
            "{} {}",
            sample.name(),
            sample.version()
        );
    }
    assert_eq!(listing.stats.versions, samples.len() as u64);
    assert_eq!(
        listing.stats.dependencies,
        samples
            .iter()
            .map(|sample| sample.dependencies().len() as u64)
            .sum::<u64>()
    );
    assert_eq!(
        summary(&listing),
        "a: 1.0.0 1.1.0+build.7\nab: 0.1.0 0.2.0-alpha.1\nabc: 2.0.0 2.1.0(yanked)\n\
         MyCrate: 0.3.0\ndash-name: 1.0.0\nunder_name: 1.0.0\n"
    );
}

#[test]
fn the_layout_is_the_registry_s() {
    let dump = DumpBuilder::new("2026-01-02T03:04:05.123456789Z")
        .krate(FakeCrate::new("a", "1.0.0"), "2026-01-01 10:00:00")
        .deleted("gone", "2026-01-01 12:00:00")
        .tar();
    let mut archive = tar::Archive::new(dump.as_slice());
    let mut members = Vec::new();
    let mut metadata = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        if path.ends_with("metadata.json") {
            entry.read_to_string(&mut metadata).unwrap();
        }
        members.push(path);
    }
    assert_eq!(
        members,
        [
            "2026-01-02-030405/",
            "2026-01-02-030405/data/",
            "2026-01-02-030405/README.md",
            "2026-01-02-030405/metadata.json",
            "2026-01-02-030405/data/crates.csv",
            "2026-01-02-030405/data/deleted_crates.csv",
            "2026-01-02-030405/data/versions.csv",
            "2026-01-02-030405/data/dependencies.csv",
        ]
    );
    let metadata: Value = serde_json::from_str(&metadata).unwrap();
    assert_eq!(metadata["timestamp"], "2026-01-02T03:04:05.123456789Z");
}

#[test]
fn per_crate_updated_at_drives_incremental_listings() {
    let day1 = DumpBuilder::new("2026-01-02T02:00:00Z")
        .krate(FakeCrate::new("a", "1.0.0"), "2026-01-01 10:00:00")
        .krate(
            FakeCrate::new("b", "1.0.0").dependency("a", "1"),
            "2025-12-01 10:00:00",
        )
        .krate(FakeCrate::new("c", "1.0.0"), "2025-12-01 10:00:00");
    let first = list(&day1.tar_gz(), None);
    assert_eq!(summary(&first), "a: 1.0.0\nb: 1.0.0\nc: 1.0.0\n");
    // Day 2: b publishes 1.1.0, c is yanked (both bump their crate), a crate is deleted.
    let day2 = DumpBuilder::new("2026-01-03T02:00:00Z")
        .krate(FakeCrate::new("a", "1.0.0"), "2026-01-01 10:00:00")
        .krate(
            FakeCrate::new("b", "1.0.0").dependency("a", "1"),
            "2025-12-01 10:00:00",
        )
        .krate(FakeCrate::new("c", "1.0.0").yanked(), "2026-01-02 09:00:00")
        .krate(
            FakeCrate::new("b", "1.1.0").dependency("a", "1.0"),
            "2026-01-02 10:00:00",
        )
        .deleted("gone", "2026-01-02 11:00:00");
    let second = list(&day2.tar_gz(), Some(first.next_state()));
    assert_eq!(
        summary(&second),
        "b: 1.0.0 1.1.0\nc: 1.0.0(yanked)\ndeleted gone at 2026-01-02 11:00:00\n"
    );
    // Every version of a re-listed crate, with its dependencies on a crate not re-listed.
    assert_eq!(index_line(&second, "b", "1.0.0")["deps"][0]["req"], "1");
    assert_eq!(index_line(&second, "b", "1.1.0")["deps"][0]["req"], "1.0");
    assert_eq!(index_line(&second, "b", "1.1.0")["deps"][0]["name"], "a");
}

#[test]
fn a_dependency_outside_the_dump_is_refused() {
    let builder = DumpBuilder::new("2026-01-02T02:00:00Z").krate(
        FakeCrate::new("b", "1.0.0").dependency("missing", "1"),
        "2026-01-01 10:00:00",
    );
    let panic = std::panic::catch_unwind(|| builder.tar_gz()).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("a dependency on missing, which is not in the dump")
    );
}
