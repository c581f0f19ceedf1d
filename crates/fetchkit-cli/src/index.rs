//! `fetchkit index …`: cargo's index cache files, shown, queried and written.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use fetchkit::index_cache::{
    CacheFile, FetchOutcome, INDEX_SCHEMA_VERSION, SparseIndex, build_cache, index_path,
};
use serde_json::json;

use crate::cli::{IndexBuildArgs, IndexFetchArgs, IndexPathArgs, IndexQueryArgs, IndexShowArgs};
use crate::transfer;

/// Reads a whole cache file; its errors name the file.
fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> anyhow::Result<CacheFile<'a>> {
    CacheFile::parse(bytes).with_context(|| format!("{}: not a usable index cache", path.display()))
}

/// `fetchkit index show`: the header and every version, marked when yanked or unreadable.
pub(crate) fn show(args: IndexShowArgs) -> anyhow::Result<()> {
    let bytes = read(&args.cache_file)?;
    let cache = parse(&args.cache_file, &bytes)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let versions: Vec<_> = cache
            .entries()
            .iter()
            .map(|entry| {
                let yanked = entry.yanked();
                json!({
                    "version": entry.key(),
                    "yanked": yanked,
                    "valid": yanked.is_some(),
                })
            })
            .collect();
        let value = json!({
            "cache_version": fetchkit::index_cache::CACHE_VERSION,
            "index_schema_version": INDEX_SCHEMA_VERSION,
            "index_version": cache.index_version(),
            "versions": versions,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "index version: {}", cache.index_version())?;
        writeln!(
            out,
            "format: cache version {}, index schema version {INDEX_SCHEMA_VERSION}",
            fetchkit::index_cache::CACHE_VERSION
        )?;
        writeln!(out, "versions: {}", cache.entries().len())?;
        for entry in cache.entries() {
            match entry.yanked() {
                Some(false) => writeln!(out, "{}", entry.key())?,
                Some(true) => writeln!(out, "{} (yanked)", entry.key())?,
                None => writeln!(out, "{} (unreadable index line)", entry.key())?,
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `fetchkit index path`: the relative path of a crate's index (and cache) file.
pub(crate) fn path(args: IndexPathArgs) -> anyhow::Result<()> {
    if args.name.is_empty() {
        anyhow::bail!("a crate name cannot be empty");
    }
    println!("{}", index_path(&args.name));
    Ok(())
}

/// `fetchkit index query`: the newest matching version; an error (exit 1) when none matches.
pub(crate) fn query(args: IndexQueryArgs) -> anyhow::Result<()> {
    let requirement: semver::VersionReq = args
        .requirement
        .parse()
        .with_context(|| format!("invalid version requirement {:?}", args.requirement))?;
    let bytes = read(&args.cache_file)?;
    let cache = parse(&args.cache_file, &bytes)?;
    match cache.newest_matching(&requirement, args.yanked) {
        Some(entry) => {
            println!("{}", entry.key());
            Ok(())
        }
        None => anyhow::bail!(
            "{}: no {}version matches {requirement}",
            args.cache_file.display(),
            if args.yanked { "" } else { "non-yanked " }
        ),
    }
}

/// `fetchkit index build`: a cache file from raw index lines, written atomically.
pub(crate) fn build(args: IndexBuildArgs) -> anyhow::Result<()> {
    let index = read(&args.index_file)?;
    let (bytes, skipped) = build_cache(&args.index_version, &index)
        .with_context(|| format!("cannot build a cache from {}", args.index_file.display()))?;
    for line in &skipped {
        tracing::warn!("{}: skipped {line}", args.index_file.display());
    }
    write_atomically(&args.output, &bytes)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so that a
/// reader (cargo among them) never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let error = || format!("cannot write {}", path.display());
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".fetchkit-index-")
        .tempfile_in(folder)
        .with_context(error)?;
    temp.write_all(bytes).with_context(error)?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(error)?;
    Ok(())
}

/// `fetchkit index fetch`: one line per crate on stderr, then a summary; exit 1 when any
/// crate failed or is not in the registry.
pub(crate) async fn fetch(args: IndexFetchArgs) -> anyhow::Result<()> {
    let client = transfer::client_builder(&args.transfer).build()?;
    let index = SparseIndex::new(client, transfer::retry(&args.transfer), &args.index)?;
    let results = index
        .fetch_many(&args.crates, &args.cache_dir, args.jobs)
        .await;
    let (mut updated, mut unchanged, mut missing, mut failed) = (0, 0, 0, 0);
    for (name, result) in args.crates.iter().zip(results) {
        let line = match result {
            Ok(FetchOutcome::Updated { versions, skipped }) => {
                updated += 1;
                let skipped = match skipped {
                    0 => String::new(),
                    n => format!(", {n} lines skipped"),
                };
                format!("{name}: updated, {versions} versions{skipped}")
            }
            Ok(FetchOutcome::Unchanged) => {
                unchanged += 1;
                format!("{name}: unchanged")
            }
            Ok(FetchOutcome::Missing { status }) => {
                missing += 1;
                format!("{name}: not in the registry (HTTP {status})")
            }
            Ok(_) => format!("{name}: done"),
            Err(error) => {
                failed += 1;
                format!("{name}: failed: {error}")
            }
        };
        if !args.transfer.quiet || line.contains(": failed: ") {
            eprintln!("{line}");
        }
    }
    let total = args.crates.len();
    if missing + failed > 0 {
        anyhow::bail!(
            "{} of {total} crates not fetched ({missing} not in the registry, {failed} failed)",
            missing + failed
        );
    }
    if !args.transfer.quiet {
        eprintln!("fetched {total} index files: {updated} updated, {unchanged} unchanged");
    }
    Ok(())
}
