//! fetchkit's side of `cargo xtask bench index-cache`: for every crate of a data set,
//! `index_path` for where its cache file is, a read of the file into one buffer reused from
//! file to file (as a caller reading many files would; `CacheFile::parse` borrows any slice),
//! `CacheFile::parse`
//! (which checks the header and parses every key as semver, keeping each blob as a slice) and
//! `CacheFile::newest_matching(req, false)` for each requirement, which parses only the blobs
//! of the candidates it tries, newest first, for their `yanked` flag.
//!
//! With `--read-only` it reads the files the same way and does nothing else: the bound that
//! any reader of these files (which have no lengths, so every byte is scanned) stays above.
//!
//! Usage: `fetchkit-query ROOT [--min-ms N] [--read-only]` (see the library for the data
//! set's layout and the printed `result` line).

use std::fs::File;
use std::io::Read as _;

use fetchkit_index_cache::{CacheFile, index_path};
use index_cache_bench::{Args, run};

fn main() -> anyhow::Result<()> {
    let args = Args::parse(
        "fetchkit-query ROOT [--min-ms N] [--read-only]",
        &["--read-only"],
    )?;
    let read_only = args.has("--read-only");
    let requirements = index_cache_bench::requirements();
    let cache_dir = args.root.join(".cache");
    let mut bytes = Vec::new();
    run(&args, |answers| {
        for name in &args.names {
            answers.file(name);
            let path = cache_dir.join(index_path(name));
            bytes.clear();
            if let Err(error) = File::open(&path).and_then(|mut file| file.read_to_end(&mut bytes))
            {
                answers.rejected(name, format_args!("{}: {error}", path.display()));
                continue;
            }
            if read_only {
                answers.answer(0, Some(bytes.len()));
                continue;
            }
            let cache = match CacheFile::parse(&bytes) {
                Ok(cache) => cache,
                Err(error) => {
                    answers.rejected(name, error);
                    continue;
                }
            };
            for (number, requirement) in requirements.iter().enumerate() {
                let newest = cache.newest_matching(requirement, false);
                answers.answer(number, newest.map(|entry| entry.key()));
            }
        }
    })
}
