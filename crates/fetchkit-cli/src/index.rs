//! `fetchkit index …`: cargo's index cache files, shown, queried and written.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fetchkit::index_cache::{
    CacheFile, CargoHome, FetchOutcome, INDEX_SCHEMA_VERSION, LockedPackage, PackageCacheLock,
    SparseError, SparseIndex, build_cache, index_path, parse_lockfile,
};
use serde_json::json;

use crate::cli::{
    IndexBuildArgs, IndexFetchArgs, IndexPathArgs, IndexQueryArgs, IndexShowArgs, IndexWarmArgs,
};
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
    // Writing into a cargo home's cache is done under cargo's lock, as `warm` does.
    let _lock = match cargo_home_of(&args.cache_dir) {
        Some(home) => Some(lock_package_cache(&CargoHome::new(home), args.transfer.quiet).await?),
        None => None,
    };
    let results = index
        .fetch_many(&args.crates, &args.cache_dir, args.jobs)
        .await;
    let results = args.crates.iter().cloned().zip(results).collect();
    report(results, args.transfer.quiet)
}

/// `fetchkit index warm`: `fetch` into cargo's own folder for the registry, under cargo's
/// package-cache lock, with `config.json` beside the cache as cargo keeps it.
pub(crate) async fn warm(args: IndexWarmArgs) -> anyhow::Result<()> {
    let home = CargoHome::new(cargo_home(args.cargo_home.as_deref())?);
    let client = transfer::client_builder(&args.transfer).build()?;
    let index = SparseIndex::new(client, transfer::retry(&args.transfer), &args.index)?;
    let names = match &args.lockfile {
        Some(path) => locked_names(path, &args.index)?,
        None => args.crates.clone(),
    };

    let _lock = lock_package_cache(&home, args.transfer.quiet).await?;
    let index_dir = home.create_index_dir(&args.index)?;
    let (_, config) = index.config().await?;
    write_atomically(&index_dir.join("config.json"), &config)?;
    let cache_dir = index_dir.join(".cache");
    let results = if args.lockfile.is_none() && !args.no_deps {
        index
            .fetch_with_dependencies(&names, &cache_dir, args.jobs)
            .await
    } else {
        let results = index.fetch_many(&names, &cache_dir, args.jobs).await;
        names.into_iter().zip(results).collect()
    };
    if !args.transfer.quiet {
        eprintln!("cargo's index cache: {}", cache_dir.display());
    }
    report(results, args.transfer.quiet)
}

/// Cargo's package-cache lock, waited for (and the wait announced) when a cargo holds it.
async fn lock_package_cache(home: &CargoHome, quiet: bool) -> anyhow::Result<PackageCacheLock> {
    if let Some(lock) = home.try_lock_package_cache()? {
        return Ok(lock);
    }
    if !quiet {
        eprintln!(
            "waiting for the package cache lock ({}), held by a cargo",
            home.root().join(".package-cache").display()
        );
    }
    let home = home.clone();
    Ok(tokio::task::spawn_blocking(move || home.lock_package_cache()).await??)
}

/// The cargo home `cache_dir` belongs to, when it is a registry's cache in one
/// (`HOME/registry/index/NAME/.cache`).
fn cargo_home_of(cache_dir: &Path) -> Option<PathBuf> {
    let named = |path: &Path, name: &str| path.file_name().is_some_and(|found| found == name);
    let registry_dir = cache_dir.parent().filter(|_| named(cache_dir, ".cache"))?;
    let index = registry_dir
        .parent()
        .filter(|index| named(index, "index"))?;
    let registry = index
        .parent()
        .filter(|registry| named(registry, "registry"))?;
    registry.parent().map(Path::to_owned)
}

/// `--cargo-home`, else `$CARGO_HOME`, else `~/.cargo`, as cargo finds its home.
pub(crate) fn cargo_home(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    if let Some(path) = std::env::var_os("CARGO_HOME").filter(|path| !path.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    match std::env::home_dir() {
        Some(home) => Ok(home.join(".cargo")),
        None => anyhow::bail!("no cargo home: pass --cargo-home or set CARGO_HOME"),
    }
}

/// The distinct names of the lock file's packages from the registry at `index_url`. A lock
/// file records a replaced registry under its original source, so when no package names
/// `sparse+URL` itself and all registry packages come from one other source, the index is
/// taken to replace that one.
fn locked_names(path: &Path, index_url: &str) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let packages =
        parse_lockfile(&text).with_context(|| format!("{}: not a lock file", path.display()))?;
    let ours = match index_url.strip_prefix("sparse+") {
        Some(_) => index_url.to_owned(),
        None => format!("sparse+{index_url}"),
    };
    let registry: Vec<&LockedPackage> = packages
        .iter()
        .filter(|package| package.is_from_registry())
        .collect();
    let sources: BTreeSet<&str> = registry
        .iter()
        .filter_map(|package| package.source.as_deref())
        .collect();
    let chosen: Vec<&LockedPackage> = if sources.contains(ours.as_str()) {
        registry
            .into_iter()
            .filter(|package| package.source.as_deref() == Some(ours.as_str()))
            .collect()
    } else if sources.len() == 1 {
        registry
    } else if sources.is_empty() {
        anyhow::bail!("{}: no package comes from a registry", path.display());
    } else {
        anyhow::bail!(
            "{}: packages come from {} registries ({}), none of them {ours}",
            path.display(),
            sources.len(),
            sources.into_iter().collect::<Vec<_>>().join(", ")
        );
    };
    let mut seen = BTreeSet::new();
    Ok(chosen
        .into_iter()
        .filter(|package| seen.insert(package.name.to_ascii_lowercase()))
        .map(|package| package.name.clone())
        .collect())
}

/// One line per crate on stderr, then a summary; an error (exit 1) when any crate failed or
/// is not in the registry.
fn report(
    results: Vec<(String, Result<FetchOutcome, SparseError>)>,
    quiet: bool,
) -> anyhow::Result<()> {
    let (mut updated, mut unchanged, mut missing, mut failed) = (0, 0, 0, 0);
    let total = results.len();
    for (name, result) in results {
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
        if !quiet || line.contains(": failed: ") {
            eprintln!("{line}");
        }
    }
    if missing + failed > 0 {
        anyhow::bail!(
            "{} of {total} crates not fetched ({missing} not in the registry, {failed} failed)",
            missing + failed
        );
    }
    if !quiet {
        eprintln!("fetched {total} index files: {updated} updated, {unchanged} unchanged");
    }
    Ok(())
}
