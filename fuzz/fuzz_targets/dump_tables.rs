//! The lister's CSV and row parsing on arbitrary table contents.
//!
//! The input is split at its first 0xFF byte into the bodies of `crates.csv` and
//! `versions.csv`, which are packed with a valid `metadata.json` into a real `.tar.gz`, so the
//! fuzzer spends its time in the parsing rather than failing the gzip header. A second 0xFF
//! starts the body of `dependencies.csv` and turns index metadata on, so the join and the
//! Postgres array parser are fuzzed too. Properties: no panic; an error is one line; every
//! page listed has a version, and its lines belong to it; a page's versions are distinct and
//! in the documented order (semver ones first, by semver, then the rest as strings), checked
//! against `semver` itself; index metadata is there exactly when asked for, its features are
//! a JSON object of string arrays and its dependencies name crates.
#![no_main]

use fetchkit_lister::{LineFormat, ListOptions, Templates, list_from_reader};
use libfuzzer_sys::fuzz_target;

/// Where a version goes in its page, as `Page` documents it.
fn place(version: &str) -> (Option<semver::Version>, &str) {
    match semver::Version::parse(version) {
        Ok(parsed) => (Some(parsed), ""),
        Err(_) => (None, version),
    }
}

fn dump(crates: &[u8], versions: &[u8], dependencies: Option<&[u8]>) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut archive = tar::Builder::new(encoder);
    let mut members: Vec<(&str, &[u8])> = vec![
        (
            "2026-01-01-020000/metadata.json",
            b"{\"timestamp\":\"2026-01-01T02:00:00Z\"}",
        ),
        ("2026-01-01-020000/data/crates.csv", crates),
        ("2026-01-01-020000/data/versions.csv", versions),
    ];
    if let Some(dependencies) = dependencies {
        members.push(("2026-01-01-020000/data/dependencies.csv", dependencies));
    }
    for (path, body) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(&mut header, path, body)
            .expect("in-memory tar");
    }
    archive
        .into_inner()
        .and_then(|encoder| encoder.finish())
        .expect("in-memory gzip")
}

fuzz_target!(|data: &[u8]| {
    let (crates, versions) = match data.iter().position(|&byte| byte == 0xff) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let (versions, dependencies) = match versions.iter().position(|&byte| byte == 0xff) {
        Some(at) => (&versions[..at], Some(&versions[at + 1..])),
        None => (versions, None),
    };
    let templates = Templates::new(
        "https://static.registry.example/crates/{crate}/{crate}-{version}.crate",
        "https://registry.example/crates/{crate}",
    )
    .expect("valid templates");
    let mut options = ListOptions::new(templates);
    options.index_metadata = dependencies.is_some();
    match list_from_reader(&dump(crates, versions, dependencies)[..], &options) {
        Ok(listing) => {
            let mut expected = String::new();
            for page in listing.pages() {
                assert!(!page.versions.is_empty(), "a page without versions");
                for line in &page.versions {
                    assert_eq!(line.name, page.name, "a line on another crate's page");
                    assert_eq!(line.metadata.is_some(), options.index_metadata);
                    if let Some(metadata) = &line.metadata {
                        let features: serde_json::Value =
                            serde_json::from_str(&metadata.features).expect("checked JSON");
                        let object = features.as_object().expect("a JSON object");
                        assert!(object.values().all(|value| {
                            value
                                .as_array()
                                .is_some_and(|items| items.iter().all(|item| item.is_string()))
                        }));
                        for dependency in &metadata.dependencies {
                            assert!(!dependency.name.is_empty(), "a dependency without a name");
                            assert!(["normal", "build", "dev"].contains(&dependency.kind.as_str()));
                        }
                    }
                }
                for pair in page.versions.windows(2) {
                    let (a, b) = (place(&pair[0].version), place(&pair[1].version));
                    // `None` sorts first in an Option; the documented order puts it last.
                    let order = match (&a.0, &b.0) {
                        (Some(x), Some(y)) => x.cmp(y),
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (None, None) => a.1.cmp(b.1),
                    };
                    assert_eq!(
                        order,
                        std::cmp::Ordering::Less,
                        "{:?} before {:?}",
                        pair[0].version,
                        pair[1].version
                    );
                }
                expected += &serde_json::to_string(&page.versions).expect("serializable");
                expected.push('\n');
            }
            // The fast writer writes what serde_json writes, whatever the names and versions.
            let mut written = Vec::new();
            listing
                .write_json_lines(&mut written, LineFormat::Pages)
                .expect("writing to memory");
            assert_eq!(String::from_utf8(written).expect("UTF-8"), expected);
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.contains('\n'), "multi-line error: {message:?}");
        }
    }
});
