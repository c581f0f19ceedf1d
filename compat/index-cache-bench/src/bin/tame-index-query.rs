//! tame-index's side of `cargo xtask bench index-cache`, through its public API only, as a
//! user answering "newest non-yanked version matching REQ" from cargo's cache would write it.
//! For every crate of a data set: `KrateName::try_from`, then `IndexCache::cached_krate`
//! (which finds the file with tame-index's own path scheme and memory-maps it) and then one of
//! two ways to read it:
//!
//! - the default, the fastest this API offers for the query (tame-index 0.27's
//!   `IndexEntry::iter`): for each version, `IndexEntryVersion::yanked`, which parses the
//!   cache key as semver and finds `"yanked"` by scanning the blob backwards from its end,
//!   without parsing the JSON; the `(Version, bool)` pairs are collected into one buffer
//!   reused across files, and each requirement takes the greatest non-yanked match;
//! - `--krate`: `IndexEntry::deserialize` into an `IndexKrate` (every version's JSON parsed
//!   into `IndexVersion`, dependencies and features deduplicated), then the greatest
//!   non-yanked version whose `version` parses and matches. This is the classic way in, and
//!   what the cache reader offered before 0.27.
//!
//! No file lock is taken (`FileLock::unlocked`): nothing writes the data set while it is read,
//! and fetchkit's side takes none either.
//!
//! Usage: `tame-index-query ROOT [--min-ms N] [--krate]` (see the library for the data set's
//! layout and the printed `result` line).

use anyhow::Context;
use index_cache_bench::{Args, run};
use semver::Version;
use tame_index::{IndexCache, IndexKrate, KrateName, PathBuf, index::FileLock};

fn main() -> anyhow::Result<()> {
    let args = Args::parse("tame-index-query ROOT [--min-ms N] [--krate]", &["--krate"])?;
    let whole_krate = args.has("--krate");
    let requirements = index_cache_bench::requirements();
    let root = PathBuf::from_path_buf(args.root.clone())
        .map_err(|root| anyhow::format_err!("{}: not UTF-8", root.display()))
        .context("tame-index takes UTF-8 paths")?;
    let cache = IndexCache::at_path(root);
    let lock = FileLock::unlocked();
    let mut versions: Vec<(Version, bool)> = Vec::new();
    run(&args, |answers| {
        for name in &args.names {
            answers.file(name);
            let krate = match KrateName::try_from(name.as_str()) {
                Ok(krate) => krate,
                Err(error) => {
                    answers.rejected(name, error);
                    continue;
                }
            };
            let entry = match cache.cached_krate(krate, &lock) {
                Ok(Some(entry)) => entry,
                Ok(None) => {
                    answers.rejected(name, "no cache file");
                    continue;
                }
                Err(error) => {
                    answers.rejected(name, error);
                    continue;
                }
            };
            versions.clear();
            let read = if whole_krate {
                entry.deserialize().and_then(|krate: IndexKrate| {
                    for version in &krate.versions {
                        versions.push((version.version.parse()?, version.yanked));
                    }
                    Ok(())
                })
            } else {
                entry.iter().and_then(|iter| {
                    for version in iter {
                        versions.push(version.yanked()?);
                    }
                    Ok(())
                })
            };
            if let Err(error) = read {
                answers.rejected(name, error);
                continue;
            }
            for (number, requirement) in requirements.iter().enumerate() {
                let newest = versions
                    .iter()
                    .filter(|(version, yanked)| !yanked && requirement.matches(version))
                    .map(|(version, _)| version)
                    .max();
                answers.answer(number, newest);
            }
        }
    })
}
