//! `fetchkit list crates`: a registry's database dump listed to JSON lines, with the state of
//! incremental runs advanced only once the output is safely written.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fetchkit::lister::{
    DEFAULT_OVERLAP, LineFormat, ListOptions, Listing, State, Templates, list_from_path,
    list_from_url,
};
use fetchkit::transport::Progress;
use url::Url;

use crate::cli::{ListCratesArgs, ListFormat};
use crate::logging;
use crate::progress::Bar;
use crate::transfer::{self, Destination};

/// Where the dump comes from.
#[derive(Debug)]
enum Dump {
    Url(Url),
    Path(PathBuf),
}

impl Dump {
    /// An http or https URL is downloaded; anything else is a local file.
    fn parse(text: &str) -> Dump {
        match Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Dump::Url(url),
            _ => Dump::Path(PathBuf::from(text)),
        }
    }
}

pub(crate) async fn crates(args: ListCratesArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let dump = Dump::parse(&args.dump);
    let templates = templates(
        &dump,
        args.crate_file_template.as_deref(),
        args.origin_template.as_deref(),
    )?;
    let destination = match &args.output {
        Some(path) => Destination::check(path)?,
        None => Destination::Stdout,
    };
    let since = match &args.state {
        Some(path) => State::load(path)?,
        None => None,
    };

    let quiet = args.transfer.quiet;
    let mut options = ListOptions::new(templates.clone());
    options.since = since;
    options.overlap = args.overlap.unwrap_or(DEFAULT_OVERLAP);
    let bar = Bar::for_stderr(quiet).map(Arc::new);
    if let Some(bar) = &bar {
        logging::set_progress_bar(bar.handle().clone());
        options.progress = Some(bar.clone() as Arc<dyn Progress>);
    }
    let result = match &dump {
        Dump::Url(url) => {
            let client = transfer::client_builder(&args.transfer).build()?;
            let retry = transfer::retry(&args.transfer);
            list_from_url(&client, &retry, url, &options).await
        }
        Dump::Path(path) => list_from_path(path, &options).await,
    };
    if let Some(bar) = &bar {
        bar.clear();
        logging::clear_progress_bar();
    }
    let listing = result?;

    // The output first, completely; the state only then, so a failed run is redone.
    match &destination {
        Destination::Stdout => {
            let mut out = BufWriter::new(io::stdout().lock());
            write_listing(&mut out, &listing, args.format)
                .and_then(|()| out.flush())
                .context("cannot write the listing to stdout")?;
        }
        Destination::File(path) => write_file(path, &listing, args.format)?,
        // A device or pipe is written in place; there is nothing to replace atomically.
        Destination::Stream(path) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("{}: cannot open for writing", path.display()))?;
            let mut out = BufWriter::new(file);
            write_listing(&mut out, &listing, args.format)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write the listing to {}", path.display()))?;
        }
    }
    if let Some(path) = &args.state {
        let next = listing.next_state();
        if since != Some(next) {
            next.save(path)?;
        }
    }

    if !quiet {
        eprintln!("{}", summary(&listing, since.as_ref(), started.elapsed()));
    }
    // The process ends next: handing a full listing's few hundred megabytes back to the
    // allocator piece by piece would only delay its exit.
    std::mem::forget(listing);
    Ok(())
}

/// The templates from the flags: both given, or derived from the dump's URL with a given one
/// taking the place of its part. A local dump has no URL to derive from; the library says so
/// (about its `file:` URL).
fn templates(
    dump: &Dump,
    crate_file: Option<&str>,
    origin: Option<&str>,
) -> anyhow::Result<Templates> {
    if let (Some(crate_file), Some(origin)) = (crate_file, origin) {
        return Ok(Templates::new(crate_file, origin)?);
    }
    let derived = match dump {
        Dump::Url(url) => Templates::derived_from(url)?,
        Dump::Path(path) => {
            let absolute = std::path::absolute(path)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            match Url::from_file_path(&absolute) {
                Ok(url) => Templates::derived_from(&url)?,
                Err(()) => anyhow::bail!(
                    "cannot derive registry URLs from the local file {}; give the templates \
                     explicitly",
                    path.display()
                ),
            }
        }
    };
    Ok(Templates::new(
        crate_file.unwrap_or(derived.crate_file()),
        origin.unwrap_or(derived.origin()),
    )?)
}

/// One JSON line per listed crate.
fn write_listing(out: &mut impl Write, listing: &Listing, format: ListFormat) -> io::Result<()> {
    let format = match format {
        ListFormat::Jsonl => LineFormat::Origins,
        ListFormat::Pages => LineFormat::Pages,
    };
    listing.write_json_lines(out, format)
}

/// Writes the listing to a temporary file beside `path`, flushes it to disk, and renames it
/// over `path`; on failure the temporary file is removed and `path` is left as it was.
fn write_file(path: &Path, listing: &Listing, format: ListFormat) -> anyhow::Result<()> {
    let error = || format!("cannot write {}", path.display());
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".fetchkit-list-")
        .tempfile_in(folder)
        .with_context(error)?;
    let mut out = BufWriter::new(temp);
    write_listing(&mut out, listing, format).with_context(error)?;
    let temp = out
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(error)?;
    temp.as_file().sync_all().with_context(error)?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(error)?;
    // Make the rename itself durable; not every platform can open a folder to sync it.
    if let Ok(folder) = File::open(folder) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// `listed 3 crates, 12 versions (1 yanked, 0 deleted) from dump <timestamp> in 0.1s`, or,
/// for a dump the state already covers, why nothing was listed.
fn summary(listing: &Listing, since: Option<&State>, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if listing.stale {
        let last = since.map_or_else(String::new, |state| format!(" {}", state.last_dump));
        return format!(
            "nothing listed: dump {} is not newer than the last listed dump{last} ({seconds:.1}s)",
            listing.dump_timestamp
        );
    }
    let stats = &listing.stats;
    format!(
        "listed {} {}, {} {} ({} yanked, {} deleted) from dump {} in {seconds:.1}s",
        stats.crates,
        plural(stats.crates, "crate", "crates"),
        stats.versions,
        plural(stats.versions, "version", "versions"),
        stats.yanked,
        stats.deleted,
        listing.dump_timestamp,
    )
}

fn plural<'a>(count: u64, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_urls_and_paths() {
        assert!(matches!(
            Dump::parse("https://x.example/db-dump.tar.gz"),
            Dump::Url(_)
        ));
        assert!(matches!(
            Dump::parse("http://127.0.0.1:1/d.tar.gz"),
            Dump::Url(_)
        ));
        assert!(matches!(Dump::parse("db-dump.tar.gz"), Dump::Path(_)));
        assert!(matches!(Dump::parse("/tmp/db-dump.tar.gz"), Dump::Path(_)));
        assert!(matches!(Dump::parse("C:\\dumps\\d.tar.gz"), Dump::Path(_)));
        assert!(matches!(Dump::parse("file:///tmp/d.tar.gz"), Dump::Path(_)));
    }

    #[test]
    fn templates_from_flags_and_url() {
        let url = Dump::parse("https://x.example/dumps/db-dump.tar.gz?x=1");
        let derived = templates(&url, None, None).unwrap();
        assert_eq!(
            derived.crate_file(),
            "https://x.example/dumps/crates/{crate}/{crate}-{version}.crate"
        );
        assert_eq!(derived.origin(), "https://x.example/dumps/crates/{crate}");
        let mixed = templates(&url, None, Some("https://web.example/crates/{crate}")).unwrap();
        assert_eq!(
            mixed.crate_file(),
            "https://x.example/dumps/crates/{crate}/{crate}-{version}.crate"
        );
        assert_eq!(mixed.origin(), "https://web.example/crates/{crate}");

        let path = Dump::parse("db-dump.tar.gz");
        let error = templates(&path, Some("https://x.example/{crate}/{version}"), None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("give the templates explicitly"), "{error}");
        let given = templates(
            &path,
            Some("https://x.example/{crate}/{version}"),
            Some("https://x.example/{crate}"),
        )
        .unwrap();
        assert_eq!(given.origin(), "https://x.example/{crate}");
    }
}
