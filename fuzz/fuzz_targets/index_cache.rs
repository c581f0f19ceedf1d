//! Cargo's index cache format on arbitrary bytes: read as a cache file, and as an index file
//! to build one from; and, as text, read as a `Cargo.lock` and named as a registry URL.
//!
//! Properties: no panic; a file that reads writes back to bytes that read the same (and, as
//! cargo always ends a file with a NUL after the last blob, to the input itself whenever the
//! input ends that way after a complete entry); every key is a version and every query answer
//! matches its requirement and is a key of the file; a cache built from any input reads back
//! with one entry per kept line.
#![no_main]

use fetchkit_index_cache::{CacheFile, build_cache, parse_lockfile, registry_dir_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_lockfile(text);
        if let Ok(name) = registry_dir_name(text) {
            assert!(name.len() >= 17 && name.as_bytes()[name.len() - 17] == b'-', "{name}");
        }
    }
    if let Ok(cache) = CacheFile::parse(data) {
        let written = cache.to_bytes();
        let again = CacheFile::parse(&written).expect("written bytes read back");
        assert_eq!(again.index_version(), cache.index_version());
        assert_eq!(again.entries().len(), cache.entries().len());
        for (a, b) in again.entries().iter().zip(cache.entries()) {
            assert_eq!((a.key(), a.blob()), (b.key(), b.blob()));
        }
        if data.ends_with(&[0]) && !cache.entries().is_empty() {
            assert_eq!(written, data, "a NUL-terminated file writes back byte for byte");
        }
        for requirement in ["*", "^1", ">=0.1.0-0, <2"] {
            let requirement: semver::VersionReq = requirement.parse().expect("valid requirement");
            for include_yanked in [false, true] {
                if let Some(entry) = cache.newest_matching(&requirement, include_yanked) {
                    assert!(requirement.matches(entry.version()));
                    assert!(include_yanked || entry.yanked() == Some(false));
                }
            }
        }
    }
    if let Ok((bytes, skipped)) = build_cache("Unknown", data) {
        let cache = CacheFile::parse(&bytes).expect("a built cache reads back");
        let lines = data.split(|&byte| byte == b'\n').filter(|line| !line.iter().all(u8::is_ascii_whitespace)).count();
        assert_eq!(cache.entries().len() + skipped.len(), lines);
    }
});
