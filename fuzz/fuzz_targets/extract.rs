//! Safe extraction on arbitrary archives: the input's first byte picks zip or tar; tar input
//! is gzip-compressed first, so the fuzzer explores tar headers rather than gzip framing.
//!
//! Properties: no panic; whatever happens, nothing appears beside the extraction folder; after
//! a success, every link in it resolves inside it (or nowhere).
#![no_main]

use std::io::Write as _;
use std::path::Path;

use fetchkit_protocols::Limits;
use fetchkit_protocols::extract::{extract_tar_gz, extract_zip};
use flate2::Compression;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, archive)) = data.split_first() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let limits = Limits::default()
        .with_max_unpacked_bytes(1 << 20)
        .with_max_entries(1000);
    let result = if kind & 1 == 0 {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(archive).unwrap();
        let gzipped = encoder.finish().unwrap();
        extract_tar_gz(gzipped.as_slice(), &root, limits)
    } else {
        let file = work.path().join("archive.zip");
        std::fs::write(&file, archive).unwrap();
        let result = extract_zip(&file, &root, limits);
        std::fs::remove_file(&file).unwrap();
        result
    };
    let beside: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["root"], "something was written beside the folder");
    if result.is_ok() {
        check_links(&std::fs::canonicalize(&root).unwrap(), &root);
    }
});

fn check_links(root: &Path, folder: &Path) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            if let Ok(resolved) = std::fs::canonicalize(entry.path()) {
                assert!(resolved.starts_with(root), "{:?} leads outside", entry.path());
            }
        } else if kind.is_dir() {
            check_links(root, &entry.path());
        }
    }
}
