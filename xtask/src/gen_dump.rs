//! `cargo xtask gen-dump`: a synthetic registry database dump (`db-dump.tar.gz`) in the layout
//! of the real daily dump, at any scale, byte-for-byte reproducible for a seed.
//!
//! What it mirrors (see the crates-lister research notes, section 2):
//! - one top folder named after the dump time (`%F-%H%M%S`, no `./` prefix) holding `README.md`,
//!   `export.sql`, `import.sql`, `metadata.json` and `schema.sql` (sorted by name), then `data/`
//!   with the CSV files in the export's dependency order. `crates.csv` and `versions.csv` come
//!   before the big `dependencies.csv` and `version_downloads.csv`, so a reader that needs only
//!   the first two can stop early, and one that reads to the end pays for the rest;
//! - `--schema new`: today's columns (`tar_sha256` as bytea `\x…`, `+00` timestamps,
//!   `crate_downloads`, `default_versions`, `deleted_crates`, `oauth_github`, ...);
//!   `--schema old`: the 2022 layout (`checksum` as hex, `crates.downloads`, no `+00`,
//!   `badges`);
//! - Postgres `COPY … CSV HEADER` encoding: NULL is an empty field, the empty string is `""`,
//!   booleans are `t`/`f`, fractions of seconds are trimmed to 0–6 digits, arrays are `{a,b}`,
//!   and fields with commas, quotes or line breaks are quoted.
//!
//! The plan (names, ids, times, version numbers, owners) is built in memory first. Every row's
//! remaining fields come from a seed derived from the row's id, so each table can be written in
//! its real row order. Worker threads write the CSV files into a scratch folder beside the
//! output while the main thread appends each finished file, in order, to the gzip'd tar (tar
//! needs sizes up front).

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Write as _,
    fs::{self, File},
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, format_err};
use fastrand::Rng;
use flate2::{Compression, write::GzEncoder};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

const USAGE: &str = "cargo xtask gen-dump --crates N --versions-per-crate M --schema old|new \
                     -o FILE [--seed S] [--timestamp RFC3339]";

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let options = parse_args(args)?;
    eprintln!(
        "gen-dump: {} crates x {} versions, {} schema, seed {}, dump time {}",
        options.crates,
        options.versions_per_crate,
        options.schema.name(),
        options.seed,
        rfc3339(options.timestamp)
    );
    let summary = generate(&options)?;
    print_summary(&summary);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Flags.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schema {
    /// The 2022 layout: `checksum`, `crates.downloads`, timestamps without `+00`, `badges.csv`.
    Old,
    /// Today's layout: `tar_sha256`, `+00` timestamps, the tables added since.
    New,
}

impl Schema {
    fn name(self) -> &'static str {
        match self {
            Schema::Old => "old",
            Schema::New => "new",
        }
    }

    /// The default dump time: a 02:00 UTC run like the real daily job.
    fn default_timestamp(self) -> &'static str {
        match self {
            Schema::Old => "2022-09-12T02:00:00.519307221Z",
            Schema::New => "2026-11-21T02:00:00.431279563Z",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) crates: u32,
    pub(crate) versions_per_crate: u32,
    pub(crate) schema: Schema,
    pub(crate) output: PathBuf,
    pub(crate) seed: u64,
    pub(crate) timestamp: OffsetDateTime,
}

const MAX_CRATES: u32 = 10_000_000;
const MAX_VERSIONS_PER_CRATE: u32 = 2_000;
const MAX_VERSIONS: u64 = 100_000_000;

/// `--name VALUE`, `--name=VALUE` and `-o FILE`.
fn parse_args(args: &[String]) -> anyhow::Result<Options> {
    let mut crates = None;
    let mut versions = None;
    let mut schema = None;
    let mut output = None;
    let mut seed = 1;
    let mut timestamp = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.strip_prefix("--") {
            Some(flag) => match flag.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (flag, None),
            },
            None if arg == "-o" => ("output", None),
            None => bail!("gen-dump: unexpected argument `{arg}`; usage: {USAGE}"),
        };
        let shown = if arg == "-o" {
            "-o".to_owned()
        } else {
            format!("--{name}")
        };
        let value = match inline {
            Some(value) => value.to_owned(),
            None => args
                .next()
                .ok_or_else(|| format_err!("gen-dump: `{shown}` needs a value"))?
                .clone(),
        };
        match name {
            "crates" => crates = Some(number(&shown, &value)?),
            "versions-per-crate" => versions = Some(number(&shown, &value)?),
            "seed" => seed = number(&shown, &value)?,
            "schema" => {
                schema = Some(match value.as_str() {
                    "old" => Schema::Old,
                    "new" => Schema::New,
                    _ => bail!("gen-dump: `--schema {value}`: expected `old` or `new`"),
                })
            }
            "output" => output = Some(PathBuf::from(value)),
            "timestamp" => {
                let parsed = OffsetDateTime::parse(&value, &Rfc3339).map_err(|err| {
                    format_err!("gen-dump: `--timestamp {value}` is not an RFC 3339 time: {err}")
                })?;
                timestamp = Some(parsed.to_offset(UtcOffset::UTC));
            }
            _ => bail!("gen-dump: unknown flag `{shown}`; usage: {USAGE}"),
        }
    }
    let required = |flag: &str| format_err!("gen-dump: `{flag}` is required; usage: {USAGE}");
    let crates: u32 = crates.ok_or_else(|| required("--crates"))?;
    let versions_per_crate: u32 = versions.ok_or_else(|| required("--versions-per-crate"))?;
    let schema = schema.ok_or_else(|| required("--schema"))?;
    let output = output.ok_or_else(|| required("-o"))?;
    if !(1..=MAX_CRATES).contains(&crates) {
        bail!("gen-dump: `--crates {crates}` must be between 1 and {MAX_CRATES}");
    }
    if !(1..=MAX_VERSIONS_PER_CRATE).contains(&versions_per_crate) {
        bail!(
            "gen-dump: `--versions-per-crate {versions_per_crate}` must be between 1 and \
             {MAX_VERSIONS_PER_CRATE}"
        );
    }
    if u64::from(crates) * u64::from(versions_per_crate) > MAX_VERSIONS {
        bail!("gen-dump: {crates} x {versions_per_crate} is more than {MAX_VERSIONS} versions");
    }
    let timestamp = match timestamp {
        Some(timestamp) => timestamp,
        None => OffsetDateTime::parse(schema.default_timestamp(), &Rfc3339)
            .expect("the default timestamps are valid RFC 3339"),
    };
    let earliest = date_us(2015, 11, 11) / 1_000_000;
    if timestamp.unix_timestamp() < earliest || timestamp.year() > 9998 {
        bail!(
            "gen-dump: `--timestamp {}` must fall between 2015-11-11 and 9998 (the registry's \
             history starts in 2014-11)",
            rfc3339(timestamp)
        );
    }
    Ok(Options {
        crates,
        versions_per_crate,
        schema,
        output,
        seed,
        timestamp,
    })
}

fn number<T>(flag: &str, value: &str) -> anyhow::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value
        .parse()
        .with_context(|| format!("gen-dump: `{flag} {value}` is not a whole number"))
}

// ---------------------------------------------------------------------------------------------
// Generation: the archive around the tables.

/// One finished table.
#[derive(Debug, Clone)]
pub(crate) struct TableStats {
    pub(crate) name: &'static str,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
}

#[derive(Debug)]
pub(crate) struct Summary {
    pub(crate) output: PathBuf,
    pub(crate) bytes: u64,
    pub(crate) folder: String,
    pub(crate) schema: Schema,
    pub(crate) seed: u64,
    pub(crate) tables: Vec<TableStats>,
    pub(crate) counts: Counts,
    pub(crate) elapsed: Duration,
}

/// A CSV file written to the scratch folder, ready to append.
#[derive(Debug)]
struct Part {
    stats: TableStats,
    path: PathBuf,
}

pub(crate) fn generate(options: &Options) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let plan = Plan::build(options);
    eprintln!(
        "planned {} crates and {} versions in {:.1} s",
        plan.crates.len(),
        plan.versions.len(),
        started.elapsed().as_secs_f64()
    );

    let output = &options.output;
    let parent = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("{}: cannot create", parent.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix(".gen-dump-")
        .tempdir_in(&parent)
        .with_context(|| format!("{}: cannot create a scratch folder", parent.display()))?;
    let mut partial = output.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);

    let tables = tables(plan.schema);
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    let archived = thread::scope(|scope| {
        for _ in 0..workers() {
            let sender = sender.clone();
            let (plan, tables, next, dir) = (&plan, &tables, &next, scratch.path());
            scope.spawn(move || write_tables(plan, tables, next, dir, sender));
        }
        drop(sender);
        let archived = write_archive(&partial, &plan, tables.len(), receiver);
        if archived.is_err() {
            next.store(tables.len(), Ordering::Relaxed);
        }
        archived
    });
    let tables = match archived {
        Ok(tables) => tables,
        Err(err) => {
            let _ = fs::remove_file(&partial);
            return Err(err);
        }
    };
    fs::rename(&partial, output).with_context(|| {
        format!(
            "{}: cannot rename to {}",
            partial.display(),
            output.display()
        )
    })?;
    let bytes = fs::metadata(output)
        .with_context(|| format!("{}: cannot stat", output.display()))?
        .len();
    Ok(Summary {
        output: output.clone(),
        bytes,
        folder: plan.folder.clone(),
        schema: plan.schema,
        seed: plan.seed,
        tables,
        counts: plan.counts,
        elapsed: started.elapsed(),
    })
}

/// Table generators running side by side: at full scale `dependencies.csv` alone takes as long
/// as everything before it. The output does not depend on the count (each table has its own
/// random streams).
fn workers() -> usize {
    thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// A worker: takes the next table not yet started, writes it, hands it over; until none are
/// left, a table fails, or the archive writer has gone.
fn write_tables(
    plan: &Plan,
    tables: &[TableDef],
    next: &AtomicUsize,
    dir: &Path,
    sender: mpsc::Sender<(usize, anyhow::Result<Part>)>,
) {
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(table) = tables.get(index) else {
            return;
        };
        let part = write_table(plan, table, dir);
        let failed = part.is_err();
        if sender.send((index, part)).is_err() || failed {
            // Make the other workers stop at their next table too.
            next.store(tables.len(), Ordering::Relaxed);
            return;
        }
    }
}

fn write_table(plan: &Plan, table: &TableDef, dir: &Path) -> anyhow::Result<Part> {
    let started = Instant::now();
    let path = dir.join(format!("{}.csv", table.name));
    let names: Vec<&str> = table.columns.iter().map(|&(name, _)| name).collect();
    let mut csv = CsvFile::create(path.clone(), &names, plan.schema)?;
    (table.write)(plan, &mut csv)?;
    let (rows, bytes) = csv.finish()?;
    eprintln!(
        "  data/{}.csv: {rows} rows, {} in {:.1} s",
        table.name,
        human_bytes(bytes),
        started.elapsed().as_secs_f64()
    );
    let stats = TableStats {
        name: table.name,
        rows,
        bytes,
    };
    Ok(Part { stats, path })
}

/// The consumer: the folder, the top-level files, then the CSV files in table order, each as
/// soon as it and those before it are written.
fn write_archive(
    path: &Path,
    plan: &Plan,
    count: usize,
    receiver: mpsc::Receiver<(usize, anyhow::Result<Part>)>,
) -> anyhow::Result<Vec<TableStats>> {
    let context = || format!("{}: write failed", path.display());
    let file = File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
    let gzip = GzEncoder::new(
        BufWriter::with_capacity(1 << 20, file),
        Compression::default(),
    );
    let mut tar = tar::Builder::new(gzip);
    let mtime = u64::try_from(plan.dump_us / 1_000_000).unwrap_or(0);
    let folder = &plan.folder;

    append_dir(&mut tar, folder, mtime).with_context(context)?;
    for (name, content) in top_level_files(plan) {
        let mut header = file_header(content.len() as u64, mtime);
        tar.append_data(&mut header, format!("{folder}/{name}"), content.as_bytes())
            .with_context(context)?;
    }
    append_dir(&mut tar, &format!("{folder}/data"), mtime).with_context(context)?;

    let mut tables = Vec::new();
    let mut waiting = BTreeMap::new();
    for (index, part) in receiver {
        waiting.insert(index, part?);
        while let Some(part) = waiting.remove(&tables.len()) {
            append_csv(&mut tar, folder, mtime, &part).with_context(context)?;
            fs::remove_file(&part.path)
                .with_context(|| format!("{}: cannot remove", part.path.display()))?;
            tables.push(part.stats);
        }
    }
    if tables.len() != count {
        bail!(
            "gen-dump: only {} of {count} tables were written",
            tables.len()
        );
    }

    let gzip = tar.into_inner().with_context(context)?;
    let buffered = gzip.finish().with_context(context)?;
    let file = buffered
        .into_inner()
        .map_err(|err| format_err!("{}: write failed: {}", path.display(), err.error()))?;
    file.sync_all()
        .with_context(|| format!("{}: fsync failed", path.display()))?;
    Ok(tables)
}

fn append_csv<W: Write>(
    tar: &mut tar::Builder<W>,
    folder: &str,
    mtime: u64,
    part: &Part,
) -> anyhow::Result<()> {
    let data =
        File::open(&part.path).with_context(|| format!("{}: cannot open", part.path.display()))?;
    let size = data
        .metadata()
        .with_context(|| format!("{}: cannot stat", part.path.display()))?
        .len();
    if size != part.stats.bytes {
        bail!(
            "{}: {size} bytes on disk, {} written",
            part.path.display(),
            part.stats.bytes
        );
    }
    let mut header = file_header(size, mtime);
    let name = format!("{folder}/data/{}.csv", part.stats.name);
    tar.append_data(&mut header, name, data)?;
    Ok(())
}

/// Directory entries as `tar::Builder::append_dir` writes them: GNU header, no trailing slash.
fn append_dir<W: Write>(tar: &mut tar::Builder<W>, name: &str, mtime: u64) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_size(0);
    header.set_mode(0o755);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    tar.append_data(&mut header, name, io::empty())
}

/// Fixed owner and mode, and the dump time as mtime: the archive depends on the seed alone.
fn file_header(size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header
}

fn print_summary(summary: &Summary) {
    let csv_bytes: u64 = summary.tables.iter().map(|table| table.bytes).sum();
    let counts = &summary.counts;
    println!(
        "wrote {}: {} ({} bytes) in {:.1} s",
        summary.output.display(),
        human_bytes(summary.bytes),
        summary.bytes,
        summary.elapsed.as_secs_f64()
    );
    println!(
        "  {}/ ({} schema, seed {}), {} of CSV",
        summary.folder,
        summary.schema.name(),
        summary.seed,
        human_bytes(csv_bytes)
    );
    println!(
        "  crates {}, versions {} (yanked {}, pre-releases {}, with build metadata {})",
        counts.crates, counts.versions, counts.yanked, counts.prereleases, counts.builds
    );
    for table in &summary.tables {
        println!(
            "  data/{:<26} {:>12} rows {:>12}",
            format!("{}.csv", table.name),
            table.rows,
            human_bytes(table.bytes)
        );
    }
}

fn human_bytes(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let value = bytes as f64;
    if value >= KIB * KIB * KIB {
        format!("{:.2} GiB", value / (KIB * KIB * KIB))
    } else if value >= KIB * KIB {
        format!("{:.1} MiB", value / (KIB * KIB))
    } else if value >= KIB {
        format!("{:.1} KiB", value / KIB)
    } else {
        format!("{bytes} B")
    }
}

// ---------------------------------------------------------------------------------------------
// Table definitions: names, columns (alphabetical, as the export writes them) and order.

type Writer = fn(&Plan, &mut CsvFile) -> anyhow::Result<()>;

struct TableDef {
    name: &'static str,
    columns: Vec<(&'static str, &'static str)>,
    /// The `WHERE` of a filtered export (`users`, `crate_owners`).
    filter: Option<&'static str>,
    /// Tables of one level are separated from the next by a blank line in export.sql.
    level: u8,
    write: Writer,
}

fn table(
    name: &'static str,
    level: u8,
    columns: &[(&'static str, &'static str)],
    write: Writer,
) -> TableDef {
    TableDef {
        name,
        columns: columns.to_vec(),
        filter: None,
        level,
        write,
    }
}

const TIMESTAMP: &str = "timestamp with time zone";
const TIMESTAMP_OLD: &str = "timestamp without time zone";

/// The tables in archive order (the export's topological order).
fn tables(schema: Schema) -> Vec<TableDef> {
    let ts = match schema {
        Schema::Old => TIMESTAMP_OLD,
        Schema::New => TIMESTAMP,
    };
    let categories = table(
        "categories",
        1,
        &[
            ("category", "character varying"),
            ("crates_cnt", "integer"),
            ("created_at", ts),
            ("description", "character varying"),
            ("id", "integer"),
            ("path", "public.ltree"),
            ("slug", "character varying"),
        ],
        write_categories,
    );
    let crate_downloads = table(
        "crate_downloads",
        1,
        &[("crate_id", "integer"), ("downloads", "bigint")],
        write_crate_downloads,
    );
    let crates = TableDef {
        name: "crates",
        columns: crate_columns(schema)
            .iter()
            .map(|&col| (col.name(), col.sql_type(ts)))
            .collect(),
        filter: None,
        level: 1,
        write: write_crates,
    };
    let keywords = table(
        "keywords",
        1,
        &[
            ("crates_cnt", "integer"),
            ("created_at", ts),
            ("id", "integer"),
            ("keyword", "text"),
        ],
        write_keywords,
    );
    let metadata = table(
        "metadata",
        1,
        &[("total_downloads", "bigint")],
        write_metadata,
    );
    let oauth_github = table(
        "oauth_github",
        1,
        &[
            ("account_id", "bigint"),
            ("avatar", "character varying"),
            ("login", "character varying"),
            ("user_id", "integer"),
        ],
        write_oauth_github,
    );
    let reserved_crate_names = table(
        "reserved_crate_names",
        1,
        &[("name", "text")],
        write_reserved_crate_names,
    );
    let reserved_usernames = table(
        "reserved_usernames",
        1,
        &[("username", "text")],
        write_reserved_usernames,
    );
    let teams = table(
        "teams",
        1,
        &[
            ("avatar", "character varying"),
            ("github_id", "integer"),
            ("id", "integer"),
            ("login", "character varying"),
            ("name", "character varying"),
            ("org_id", "integer"),
        ],
        write_teams,
    );
    let users_columns: &[(&str, &str)] = match schema {
        Schema::Old => &[
            ("gh_avatar", "character varying"),
            ("gh_id", "integer"),
            ("gh_login", "character varying"),
            ("id", "integer"),
            ("name", "character varying"),
        ],
        Schema::New => &[
            ("created_at", ts),
            ("gh_id", "integer"),
            ("gh_login", "character varying"),
            ("id", "integer"),
            ("name", "character varying"),
            ("username", "character varying"),
        ],
    };
    let users = TableDef {
        filter: Some(
            "id in (SELECT owner_id AS user_id FROM crate_owners WHERE NOT deleted AND \
             owner_kind = 0 UNION SELECT published_by as user_id FROM versions)",
        ),
        ..table("users", 1, users_columns, write_users)
    };
    let badges = table(
        "badges",
        2,
        &[
            ("attributes", "jsonb"),
            ("badge_type", "character varying"),
            ("crate_id", "integer"),
        ],
        write_badges,
    );
    let crates_categories = table(
        "crates_categories",
        2,
        &[("category_id", "integer"), ("crate_id", "integer")],
        write_crates_categories,
    );
    let crates_keywords = table(
        "crates_keywords",
        2,
        &[("crate_id", "integer"), ("keyword_id", "integer")],
        write_crates_keywords,
    );
    let crate_owners = TableDef {
        filter: Some("NOT deleted"),
        ..table(
            "crate_owners",
            2,
            &[
                ("crate_id", "integer"),
                ("created_at", ts),
                ("created_by", "integer"),
                ("owner_id", "integer"),
                ("owner_kind", "integer"),
            ],
            write_crate_owners,
        )
    };
    let deleted_crates = table(
        "deleted_crates",
        2,
        &[
            ("available_at", ts),
            ("created_at", ts),
            ("deleted_at", ts),
            ("deleted_by", "integer"),
            ("id", "integer"),
            ("message", "character varying"),
            ("name", "character varying"),
        ],
        write_deleted_crates,
    );
    let versions = TableDef {
        name: "versions",
        columns: version_columns(schema)
            .iter()
            .map(|&col| (col.name(), col.sql_type(ts)))
            .collect(),
        filter: None,
        level: 3,
        write: write_versions,
    };
    let default_versions = table(
        "default_versions",
        3,
        &[
            ("crate_id", "integer"),
            ("num_versions", "integer"),
            ("version_id", "integer"),
        ],
        write_default_versions,
    );
    let dependencies = table(
        "dependencies",
        3,
        &[
            ("crate_id", "integer"),
            ("default_features", "boolean"),
            ("explicit_name", "character varying"),
            ("features", "text[]"),
            ("id", "integer"),
            ("kind", "integer"),
            ("optional", "boolean"),
            ("req", "character varying"),
            ("target", "character varying"),
            ("version_id", "integer"),
        ],
        write_dependencies,
    );
    let version_downloads = table(
        "version_downloads",
        3,
        &[
            ("date", "date"),
            ("downloads", "integer"),
            ("version_id", "integer"),
        ],
        write_version_downloads,
    );
    match schema {
        Schema::Old => vec![
            categories,
            crates,
            keywords,
            metadata,
            reserved_crate_names,
            teams,
            users,
            badges,
            crates_categories,
            crates_keywords,
            crate_owners,
            versions,
            dependencies,
            version_downloads,
        ],
        Schema::New => vec![
            categories,
            crate_downloads,
            crates,
            keywords,
            metadata,
            oauth_github,
            reserved_crate_names,
            reserved_usernames,
            teams,
            users,
            crates_categories,
            crates_keywords,
            crate_owners,
            deleted_crates,
            versions,
            default_versions,
            dependencies,
            version_downloads,
        ],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CrateCol {
    CreatedAt,
    Description,
    Documentation,
    Downloads,
    Homepage,
    Id,
    MaxFeatures,
    MaxUploadSize,
    Name,
    Readme,
    Repository,
    TrustpubOnly,
    UpdatedAt,
}

impl CrateCol {
    fn name(self) -> &'static str {
        match self {
            CrateCol::CreatedAt => "created_at",
            CrateCol::Description => "description",
            CrateCol::Documentation => "documentation",
            CrateCol::Downloads => "downloads",
            CrateCol::Homepage => "homepage",
            CrateCol::Id => "id",
            CrateCol::MaxFeatures => "max_features",
            CrateCol::MaxUploadSize => "max_upload_size",
            CrateCol::Name => "name",
            CrateCol::Readme => "readme",
            CrateCol::Repository => "repository",
            CrateCol::TrustpubOnly => "trustpub_only",
            CrateCol::UpdatedAt => "updated_at",
        }
    }

    fn sql_type(self, timestamp: &'static str) -> &'static str {
        match self {
            CrateCol::CreatedAt | CrateCol::UpdatedAt => timestamp,
            CrateCol::Downloads => "integer",
            CrateCol::Id | CrateCol::MaxUploadSize => "integer",
            CrateCol::MaxFeatures => "smallint",
            CrateCol::TrustpubOnly => "boolean",
            CrateCol::Name => "character varying",
            CrateCol::Description
            | CrateCol::Documentation
            | CrateCol::Homepage
            | CrateCol::Readme
            | CrateCol::Repository => "character varying",
        }
    }
}

fn crate_columns(schema: Schema) -> &'static [CrateCol] {
    use CrateCol::*;
    match schema {
        Schema::Old => &[
            CreatedAt,
            Description,
            Documentation,
            Downloads,
            Homepage,
            Id,
            MaxUploadSize,
            Name,
            Readme,
            Repository,
            UpdatedAt,
        ],
        Schema::New => &[
            CreatedAt,
            Description,
            Documentation,
            Homepage,
            Id,
            MaxFeatures,
            MaxUploadSize,
            Name,
            Readme,
            Repository,
            TrustpubOnly,
            UpdatedAt,
        ],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VersionCol {
    BinNames,
    Categories,
    Checksum,
    CrateId,
    CrateSize,
    CreatedAt,
    Description,
    Documentation,
    Downloads,
    Edition,
    Features,
    HasLib,
    Homepage,
    Id,
    Keywords,
    License,
    Links,
    Num,
    NumNoBuild,
    PublishedBy,
    Repository,
    RustVersion,
    TarSha256,
    UpdatedAt,
    Yanked,
    ZipJsonSha256,
    ZipSha256,
}

impl VersionCol {
    fn name(self) -> &'static str {
        match self {
            VersionCol::BinNames => "bin_names",
            VersionCol::Categories => "categories",
            VersionCol::Checksum => "checksum",
            VersionCol::CrateId => "crate_id",
            VersionCol::CrateSize => "crate_size",
            VersionCol::CreatedAt => "created_at",
            VersionCol::Description => "description",
            VersionCol::Documentation => "documentation",
            VersionCol::Downloads => "downloads",
            VersionCol::Edition => "edition",
            VersionCol::Features => "features",
            VersionCol::HasLib => "has_lib",
            VersionCol::Homepage => "homepage",
            VersionCol::Id => "id",
            VersionCol::Keywords => "keywords",
            VersionCol::License => "license",
            VersionCol::Links => "links",
            VersionCol::Num => "num",
            VersionCol::NumNoBuild => "num_no_build",
            VersionCol::PublishedBy => "published_by",
            VersionCol::Repository => "repository",
            VersionCol::RustVersion => "rust_version",
            VersionCol::TarSha256 => "tar_sha256",
            VersionCol::UpdatedAt => "updated_at",
            VersionCol::Yanked => "yanked",
            VersionCol::ZipJsonSha256 => "zip_json_sha256",
            VersionCol::ZipSha256 => "zip_sha256",
        }
    }

    fn sql_type(self, timestamp: &'static str) -> &'static str {
        match self {
            VersionCol::CreatedAt | VersionCol::UpdatedAt => timestamp,
            VersionCol::BinNames | VersionCol::Categories | VersionCol::Keywords => "text[]",
            VersionCol::Checksum => "character(64)",
            VersionCol::CrateId
            | VersionCol::CrateSize
            | VersionCol::Downloads
            | VersionCol::Id
            | VersionCol::PublishedBy => "integer",
            VersionCol::Features => "jsonb",
            VersionCol::HasLib | VersionCol::Yanked => "boolean",
            VersionCol::TarSha256 | VersionCol::ZipJsonSha256 | VersionCol::ZipSha256 => "bytea",
            VersionCol::Num
            | VersionCol::NumNoBuild
            | VersionCol::License
            | VersionCol::Links
            | VersionCol::RustVersion => "character varying",
            VersionCol::Description
            | VersionCol::Documentation
            | VersionCol::Edition
            | VersionCol::Homepage
            | VersionCol::Repository => "text",
        }
    }
}

fn version_columns(schema: Schema) -> &'static [VersionCol] {
    use VersionCol::*;
    match schema {
        Schema::Old => &[
            Checksum,
            CrateId,
            CrateSize,
            CreatedAt,
            Downloads,
            Features,
            Id,
            License,
            Links,
            Num,
            PublishedBy,
            UpdatedAt,
            Yanked,
        ],
        Schema::New => &[
            BinNames,
            Categories,
            CrateId,
            CrateSize,
            CreatedAt,
            Description,
            Documentation,
            Downloads,
            Edition,
            Features,
            HasLib,
            Homepage,
            Id,
            Keywords,
            License,
            Links,
            Num,
            NumNoBuild,
            PublishedBy,
            Repository,
            RustVersion,
            TarSha256,
            UpdatedAt,
            Yanked,
            ZipJsonSha256,
            ZipSha256,
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// The top-level files.

/// `README.md`, `export.sql`, `import.sql`, `metadata.json`, `schema.sql`: sorted by name, as
/// the real archive lists them.
fn top_level_files(plan: &Plan) -> Vec<(&'static str, String)> {
    let tables = tables(plan.schema);
    vec![
        ("README.md", readme_for_tarball(plan)),
        ("export.sql", export_sql(&tables)),
        ("import.sql", import_sql(&tables)),
        ("metadata.json", metadata_json(plan)),
        ("schema.sql", schema_sql(&tables)),
    ]
}

fn readme_for_tarball(plan: &Plan) -> String {
    format!(
        "\
# Registry Database Dump

A dump of the public tables of the package registry's database. This one is synthetic: it was
written by `cargo xtask gen-dump` ({} schema, seed {}) in the layout of the real daily dump.

## Files

- `data/`: the CSV files with the data, one per table, written by `COPY ... WITH CSV HEADER`.
- `export.sql`: the `psql` script that wrote the CSV files, for reference.
- `import.sql`: a `psql` script that loads the CSV files into a database with the same schema,
  replacing its data.
- `metadata.json`: when the dump was started and the deployed commit that made it.
- `schema.sql`: the database schema, to create an empty database first.

## Metadata fields

- `timestamp`: the UTC time the dump was started.
- `crates_io_commit`: the git commit of the deployed registry service that wrote the dump.

## Less obvious fields

- `crate_owners.owner_kind`: `0` means the owner is a user (`users.id`), `1` a team (`teams.id`).
- `teams.login`: looks like `github:org:team`.
- `version_downloads` holds the last 90 days only.

## Restoring

1. `createdb DATABASE_NAME`
2. `psql DATABASE_NAME < schema.sql`
3. `psql DATABASE_NAME < import.sql`
",
        plan.schema.name(),
        plan.seed
    )
}

fn quoted_columns(table: &TableDef) -> String {
    table
        .columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn export_sql(tables: &[TableDef]) -> String {
    let mut out = String::from("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n");
    let mut level = 0;
    for table in tables {
        if table.level != level {
            out.push('\n');
            level = table.level;
        }
        let columns = quoted_columns(table);
        let name = table.name;
        let source = match table.filter {
            None => format!("\"{name}\" ({columns})"),
            Some(filter) => format!("(SELECT {columns} FROM \"{name}\" WHERE {filter})"),
        };
        let _ = writeln!(
            out,
            "    \\copy {source} TO 'data/{name}.csv' WITH CSV HEADER"
        );
    }
    out.push_str("COMMIT;\n");
    out
}

fn import_sql(tables: &[TableDef]) -> String {
    let mut out = String::from("BEGIN;\n    -- Disable triggers on each table.\n\n");
    for table in tables {
        let _ = writeln!(
            out,
            "    ALTER TABLE \"{}\" DISABLE TRIGGER ALL;",
            table.name
        );
    }
    out.push_str("\n    -- Truncate all tables.\n\n");
    for table in tables {
        let _ = writeln!(
            out,
            "    TRUNCATE \"{}\" RESTART IDENTITY CASCADE;",
            table.name
        );
    }
    out.push_str("\n    -- Import the CSV data.\n\n");
    for table in tables {
        let _ = writeln!(
            out,
            "    \\copy \"{name}\" ({columns}) FROM 'data/{name}.csv' WITH CSV HEADER",
            name = table.name,
            columns = quoted_columns(table)
        );
    }
    out.push_str("\n    -- Reenable triggers on each table.\n\n");
    for table in tables {
        let _ = writeln!(
            out,
            "    ALTER TABLE \"{}\" ENABLE TRIGGER ALL;",
            table.name
        );
    }
    out.push_str("COMMIT;\n");
    out
}

fn schema_sql(tables: &[TableDef]) -> String {
    let mut out = String::from(
        "--\n-- PostgreSQL database dump (synthetic: the exported columns and their types)\n--\n\n\
         SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\
         SET standard_conforming_strings = on;\n\n",
    );
    for table in tables {
        let _ = writeln!(out, "CREATE TABLE public.{} (", table.name);
        let last = table.columns.len() - 1;
        for (index, (name, sql_type)) in table.columns.iter().enumerate() {
            let comma = if index == last { "" } else { "," };
            let _ = writeln!(out, "    {name} {sql_type}{comma}");
        }
        out.push_str(");\n\n");
    }
    out.push_str("--\n-- PostgreSQL database dump complete\n--\n\n");
    out
}

/// Pretty-printed like serde_json: `timestamp` (nanoseconds, `Z`), then the commit; no newline
/// at the end.
fn metadata_json(plan: &Plan) -> String {
    format!(
        "{{\n  \"timestamp\": \"{}\",\n  \"crates_io_commit\": \"{}\"\n}}",
        plan.timestamp, plan.commit
    )
}

/// RFC 3339 in UTC with `Z` and 0, 3, 6 or 9 fractional digits, as chrono's serde writes it.
fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let nanos = at.nanosecond();
    let fraction = if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

// ---------------------------------------------------------------------------------------------
// The plan.

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) crates: u64,
    pub(crate) versions: u64,
    pub(crate) yanked: u64,
    pub(crate) prereleases: u64,
    pub(crate) builds: u64,
}

#[derive(Debug)]
struct Crate {
    id: u32,
    name: String,
    /// Microseconds since the Unix epoch, as every time in the plan.
    created: i64,
    updated: i64,
    /// 0..1, skewed low: how much the crate is downloaded.
    activity: f32,
    downloads: u64,
    first_version: u32,
    version_count: u32,
    default_version: u32,
    owner: u32,
    co_owners: Vec<u32>,
    team: Option<u32>,
    categories: Vec<u16>,
    keywords: Vec<u32>,
    description: Option<String>,
    license: Option<&'static str>,
}

impl Crate {
    fn versions(&self) -> std::ops::Range<usize> {
        let first = self.first_version as usize;
        first..first + self.version_count as usize
    }
}

#[derive(Debug, Clone, Copy)]
struct Version {
    krate: u32,
    id: u32,
    created: i64,
    updated: i64,
    num_start: u32,
    num_len: u16,
    yanked: bool,
    downloads: u32,
    publisher: Option<u32>,
}

#[derive(Debug)]
struct User {
    id: u32,
    gh_id: u64,
    login: String,
    name: Option<String>,
    created: i64,
}

#[derive(Debug)]
struct Team {
    id: u32,
    github_id: u32,
    org_id: u32,
    login: String,
    name: Option<String>,
}

#[derive(Debug)]
struct Keyword {
    id: u32,
    keyword: String,
    created: i64,
    crates: u32,
}

#[derive(Debug)]
struct Deleted {
    id: u32,
    name: String,
    created: i64,
    deleted: i64,
    by: u32,
    message: Option<&'static str>,
}

#[derive(Debug)]
struct Plan {
    schema: Schema,
    seed: u64,
    dump_us: i64,
    folder: String,
    timestamp: String,
    commit: String,
    crates: Vec<Crate>,
    versions: Vec<Version>,
    nums: String,
    /// Version indices in id order.
    by_id: Vec<u32>,
    users: Vec<User>,
    teams: Vec<Team>,
    keywords: Vec<Keyword>,
    category_counts: Vec<u32>,
    deleted: Vec<Deleted>,
    counts: Counts,
}

/// Independent random streams, so that one table's rows do not shift another's.
mod stream {
    pub(super) const CRATE: u64 = 1;
    pub(super) const NAME: u64 = 2;
    pub(super) const USER: u64 = 3;
    pub(super) const README: u64 = 4;
    pub(super) const LINKS: u64 = 5;
    pub(super) const VERSION: u64 = 6;
    pub(super) const DEPS: u64 = 7;
    pub(super) const DEP_VERSION: u64 = 8;
    pub(super) const DOWNLOADS: u64 = 9;
    pub(super) const MISC: u64 = 10;
    pub(super) const DELETED: u64 = 11;
    pub(super) const IDS: u64 = 12;
    pub(super) const ROW: u64 = 13;
    pub(super) const KEYWORD: u64 = 14;
}

/// splitmix64's finaliser over `a` and `b`.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn rng(seed: u64, stream: u64, index: u64) -> Rng {
    Rng::with_seed(mix(mix(seed, stream), index))
}

const MICROS: i64 = 1_000_000;
const DAY: i64 = 86_400 * MICROS;

/// Microseconds since the epoch at midnight UTC of a date.
fn date_us(year: i64, month: u32, day: u32) -> i64 {
    days_from_civil(year, month, day) * DAY
}

/// A fraction of a second in microseconds. Postgres trims trailing zeros, so most values show
/// six digits; this makes every width from 0 to 6 common enough to meet in small dumps.
fn fraction(rng: &mut Rng) -> i64 {
    let digits: u32 = match rng.u8(0..100) {
        0..=59 => 6,
        60..=74 => 5,
        75..=82 => 4,
        83..=88 => 3,
        89..=93 => 2,
        94..=96 => 1,
        _ => return 0,
    };
    let max = 10i64.pow(digits);
    let mut value = rng.i64(1..max);
    if value % 10 == 0 {
        value += 1;
    }
    value * 10i64.pow(6 - digits)
}

/// A time at `secs` with a random fraction.
fn at(rng: &mut Rng, secs: i64) -> i64 {
    secs * MICROS + fraction(rng)
}

/// When columns appeared (rows from before stay NULL or empty).
const REGISTRY_START: (i64, u32, u32) = (2014, 11, 11);
const CRATE_SIZE_SINCE: (i64, u32, u32) = (2016, 4, 1);
const PUBLISHED_BY_SINCE: (i64, u32, u32) = (2017, 2, 1);
const RUST_VERSION_SINCE: (i64, u32, u32) = (2021, 10, 21);
const HAS_LIB_SINCE: (i64, u32, u32) = (2024, 6, 15);
const EDITION_SINCE: (i64, u32, u32) = (2024, 10, 1);
const VERSION_META_SINCE: (i64, u32, u32) = (2024, 11, 12);
const ARRAYS_SINCE: (i64, u32, u32) = (2024, 12, 1);
const ZIP_SINCE: (i64, u32, u32) = (2026, 6, 22);

fn since(date: (i64, u32, u32)) -> i64 {
    date_us(date.0, date.1, date.2)
}

impl Plan {
    fn build(options: &Options) -> Plan {
        let seed = options.seed;
        let dump_us = i64::try_from(options.timestamp.unix_timestamp_nanos() / 1_000)
            .expect("the timestamp was checked to be before the year 9999");
        let dump_secs = dump_us.div_euclid(MICROS);
        let start_secs = since(REGISTRY_START) / MICROS;
        // Crates are created up to a day before the dump, versions up to a minute before.
        let crate_end = dump_secs - 86_400;
        let version_end = dump_secs - 60;
        let n = options.crates as usize;
        let m = options.versions_per_crate as usize;
        let at_time = options.timestamp;
        let folder = format!(
            "{:04}-{:02}-{:02}-{:02}{:02}{:02}",
            at_time.year(),
            u8::from(at_time.month()),
            at_time.day(),
            at_time.hour(),
            at_time.minute(),
            at_time.second()
        );
        let mut misc = rng(seed, stream::MISC, 0);
        let commit: String = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[misc.usize(..16)]))
            .collect();

        let users = build_users(seed, n, start_secs, crate_end);
        let teams = build_teams(seed, n);
        let keywords_wanted = (n / 3).clamp(10, 60_000);
        let mut keywords = build_keywords(seed, keywords_wanted, start_secs, crate_end);
        let mut category_counts = vec![0u32; CATEGORIES.len()];

        // Creation times grow towards the present (more crates every year).
        let mut ids = rng(seed, stream::IDS, 0);
        let span = (crate_end - start_secs) as f64;
        let mut created_secs: Vec<i64> = (0..n)
            .map(|_| start_secs + (span * ids.f64().sqrt()) as i64)
            .collect();
        created_secs.sort_unstable();

        let mut names = NameSet::default();
        let mut crates = Vec::with_capacity(n);
        let mut versions: Vec<Version> = Vec::with_capacity(n * m);
        let mut nums = String::with_capacity(n * m * 7);
        let mut counts = Counts {
            crates: n as u64,
            versions: (n * m) as u64,
            ..Counts::default()
        };
        let mut next_crate_id = 0u32;
        let user_created: Vec<i64> = users.iter().map(|user| user.created).collect();
        let published_by_since = since(PUBLISHED_BY_SINCE);
        let mut times: Vec<i64> = Vec::with_capacity(m);
        for (index, &first_secs) in created_secs.iter().enumerate() {
            let mut rng = rng(seed, stream::CRATE, index as u64);
            next_crate_id += if ids.u8(0..100) < 3 { ids.u32(2..5) } else { 1 };
            let name = names.crate_name(&mut self::rng(seed, stream::NAME, index as u64));
            let activity = rng.f32().powi(4);

            // Owners: somebody who already had an account, early users more often.
            let known = user_created
                .partition_point(|&created| created <= first_secs * MICROS)
                .max(1);
            let owner = ((known as f64) * rng.f64().powf(1.5)) as u32;
            let co_owners: Vec<u32> = match rng.u8(0..100) {
                0..=79 => Vec::new(),
                80..=94 => vec![rng.u32(0..users.len() as u32)],
                _ => vec![
                    rng.u32(0..users.len() as u32),
                    rng.u32(0..users.len() as u32),
                ],
            };
            let co_owners: Vec<u32> = co_owners.into_iter().filter(|&u| u != owner).collect();
            let team = (rng.u8(0..100) < 3).then(|| rng.u32(0..teams.len() as u32));

            // Versions: the first one creates the crate; the rest follow, denser early on.
            times.clear();
            let first = at(&mut rng, first_secs);
            times.push(first);
            let life = (version_end - first_secs) as f64;
            let mut later: Vec<i64> = (1..m)
                .map(|_| first_secs + (life * rng.f64().powf(2.2)) as i64)
                .collect();
            later.sort_unstable();
            for secs in later {
                let prev = *times.last().expect("the first version is there");
                let mut value = at(&mut rng, secs);
                if value <= prev {
                    let secs = prev / MICROS + 1 + rng.i64(0..60);
                    value = at(&mut rng, secs);
                }
                times.push(value);
            }

            let first_version = versions.len() as u32;
            let mut numbers = NumGen::default();
            let mut updated_max = first;
            let mut downloads_total = 0u64;
            for (rank, &created) in times.iter().enumerate() {
                let start = nums.len();
                let kind = numbers.next(&mut rng, rank == 0, &mut nums);
                match kind {
                    NumKind::Pre => counts.prereleases += 1,
                    NumKind::Build => counts.builds += 1,
                    NumKind::Plain => {}
                }
                let yanked = rng.u8(0..100) < 5;
                counts.yanked += u64::from(yanked);
                let touched = yanked || rng.u8(0..100) < 8;
                let updated = if touched {
                    let created_secs = created / MICROS;
                    let later = created_secs + rng.i64(1..(version_end - created_secs).max(2));
                    at(&mut rng, later).max(created + 1)
                } else {
                    created
                };
                updated_max = updated_max.max(updated);
                let age_days = ((dump_us - created) / DAY + 1) as f64;
                let per_day = f64::from(activity * activity) * 3000.0 + 0.3;
                let downloads = (age_days * per_day * rng.f64() * 2.0).min(2e9) as u32;
                downloads_total += u64::from(downloads);
                let publisher = (created >= published_by_since).then(|| {
                    if !co_owners.is_empty() && rng.u8(0..100) < 20 {
                        co_owners[rng.usize(..co_owners.len())]
                    } else {
                        owner
                    }
                });
                versions.push(Version {
                    krate: index as u32,
                    id: 0,
                    created,
                    updated,
                    num_start: start as u32,
                    num_len: (nums.len() - start) as u16,
                    yanked,
                    downloads,
                    publisher,
                });
            }
            let mine = &versions[first_version as usize..];
            // The default version: the newest release that is not yanked, else the newest
            // version that is not yanked, else the newest.
            let release = |v: &Version| {
                let num = &nums[v.num_start as usize..][..v.num_len as usize];
                !num.contains('-')
            };
            let default = mine
                .iter()
                .rposition(|v| !v.yanked && release(v))
                .or_else(|| mine.iter().rposition(|v| !v.yanked))
                .unwrap_or(mine.len() - 1);

            let category_count = match rng.u8(0..100) {
                0..=34 => 0,
                35..=64 => 1,
                65..=89 => 2,
                _ => 3,
            };
            let categories = pick_distinct(&mut rng, category_count, CATEGORIES.len(), 1.0);
            for &category in &categories {
                category_counts[category as usize] += 1;
            }
            let categories = categories.into_iter().map(|c| c as u16).collect();
            let keyword_count = match rng.u8(0..100) {
                0..=24 => 0,
                n => 1 + usize::from(n % 5),
            };
            let chosen = pick_distinct(&mut rng, keyword_count, keywords.len(), 2.0);
            for &keyword in &chosen {
                keywords[keyword as usize].crates += 1;
            }
            let description = description(&mut rng, &name);
            let license = pick_license(&mut rng);
            crates.push(Crate {
                id: next_crate_id,
                name,
                created: first,
                updated: updated_max,
                activity,
                downloads: downloads_total,
                first_version,
                version_count: m as u32,
                default_version: first_version + default as u32,
                owner,
                co_owners,
                team,
                categories,
                keywords: chosen,
                description,
                license,
            });
        }

        // Version ids follow publication time across all crates, with the odd gap.
        let mut by_id: Vec<u32> = (0..versions.len() as u32).collect();
        by_id.sort_unstable_by_key(|&v| (versions[v as usize].created, v));
        let mut next_version_id = 0u32;
        for &v in &by_id {
            next_version_id += if ids.u8(0..100) < 2 { 2 } else { 1 };
            versions[v as usize].id = next_version_id;
        }

        let deleted = build_deleted(seed, &mut names, &users, start_secs, crate_end, n);
        Plan {
            schema: options.schema,
            seed,
            dump_us,
            folder,
            timestamp: rfc3339(options.timestamp),
            commit,
            crates,
            versions,
            nums,
            by_id,
            users,
            teams,
            keywords,
            category_counts,
            deleted,
            counts,
        }
    }

    fn num(&self, version: &Version) -> &str {
        &self.nums[version.num_start as usize..][..version.num_len as usize]
    }
}

// ---------------------------------------------------------------------------------------------
// Plan pieces: version numbers, names, users, teams, keywords, deleted crates.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumKind {
    Plain,
    Pre,
    Build,
}

/// Increasing semver numbers for one crate: mostly patch and minor bumps, some pre-release
/// series (`1.0.0-alpha.1`, `-alpha.2`, `-beta.1`, ..., then `1.0.0`) and some build metadata
/// (`1.0.0+build.5`, `2.0.9+zstd.1.5.5`). `num_no_build` stays unique within the crate.
#[derive(Debug, Default)]
struct NumGen {
    major: u32,
    minor: u32,
    patch: u32,
    pre: Option<(usize, u32)>,
}

const PRE_KINDS: [&str; 3] = ["alpha", "beta", "rc"];

impl NumGen {
    fn next(&mut self, rng: &mut Rng, first: bool, out: &mut String) -> NumKind {
        if first {
            let roll = rng.u8(0..100);
            (self.major, self.minor, self.patch) = match roll {
                0..=59 => (0, 1, 0),
                60..=79 => (0, 0, 1),
                80..=94 => (1, 0, 0),
                _ => (0, 1, 0),
            };
            self.pre = (roll >= 95).then_some((0, 1));
        } else if let Some((kind, n)) = self.pre {
            self.pre = match rng.u8(0..100) {
                0..=44 => Some((kind, n + 1)),
                45..=69 if kind + 1 < PRE_KINDS.len() => Some((kind + 1, 1)),
                _ => None,
            };
        } else {
            match rng.u8(0..100) {
                0..=3 => {
                    if self.major == 0 && rng.bool() {
                        self.minor += 1;
                    } else {
                        self.major += 1;
                        self.minor = 0;
                    }
                    self.patch = 0;
                    self.pre = Some((rng.usize(..PRE_KINDS.len()), 1));
                }
                4..=69 => self.patch += 1,
                70..=91 => {
                    self.minor += 1;
                    self.patch = 0;
                }
                _ => {
                    self.major += 1;
                    self.minor = 0;
                    self.patch = 0;
                }
            }
        }
        let _ = write!(out, "{}.{}.{}", self.major, self.minor, self.patch);
        if let Some((kind, n)) = self.pre {
            let _ = write!(out, "-{}.{n}", PRE_KINDS[kind]);
            return NumKind::Pre;
        }
        if rng.u8(0..100) < 3 {
            let _ = match rng.u8(0..4) {
                0 => write!(out, "+build.{}", rng.u32(1..40)),
                1 => write!(
                    out,
                    "+{}{:02}{:02}",
                    rng.u32(2016..2027),
                    rng.u32(1..13),
                    rng.u32(1..29)
                ),
                2 => write!(out, "+zstd.1.5.{}", rng.u32(0..8)),
                _ => write!(out, "+openssl-3.{}.{}", rng.u32(0..5), rng.u32(0..16)),
            };
            return NumKind::Build;
        }
        NumKind::Plain
    }
}

/// Names taken so far, compared as the registry does: case-insensitive, `-` equal to `_`.
#[derive(Debug, Default)]
struct NameSet {
    taken: HashSet<String>,
}

impl NameSet {
    fn crate_name(&mut self, rng: &mut Rng) -> String {
        let mut attempt = 0;
        loop {
            let mut name = name_candidate(rng);
            if attempt >= 6 {
                let dash = if rng.bool() { "-" } else { "" };
                let _ = write!(name, "{dash}{}", rng.u32(2..100_000));
            }
            attempt += 1;
            let key = name.to_ascii_lowercase().replace('_', "-");
            if name.len() <= 64 && self.taken.insert(key) {
                return name;
            }
        }
    }
}

fn word(rng: &mut Rng) -> &'static str {
    WORDS[rng.usize(..WORDS.len())]
}

fn name_candidate(rng: &mut Rng) -> String {
    let mut name = match rng.u8(0..100) {
        0..=14 => word(rng).to_owned(),
        15..=52 => format!("{}-{}", word(rng), word(rng)),
        53..=70 => format!("{}_{}", word(rng), word(rng)),
        71..=80 => format!("{}-{}-{}", word(rng), word(rng), word(rng)),
        81..=92 => {
            let base = word(rng);
            match rng.u8(0..8) {
                0 => format!("rust-{base}"),
                1 => format!("{base}-rs"),
                2 => format!("{base}-sys"),
                3 => format!("{base}_derive"),
                4 => format!("{base}-macros"),
                5 => format!("{base}-cli"),
                6 => format!("lib{base}"),
                _ => format!("{base}-core"),
            }
        }
        _ => format!("{}{}", word(rng), rng.u8(2..10)),
    };
    // A few names from the early days carry capitals (`Inflector`, `SDL2-sys`-like).
    if rng.u16(0..1000) < 15 {
        let end = if rng.bool() {
            1
        } else {
            name.find(['-', '_']).unwrap_or(name.len())
        };
        if let Some(head) = name.get_mut(..end) {
            head.make_ascii_uppercase();
        }
    }
    name
}

fn capitalize(word: &str, out: &mut String) {
    let mut chars = word.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

fn build_users(seed: u64, crates: usize, start_secs: i64, end_secs: i64) -> Vec<User> {
    let count = crates / 3 + 3;
    let mut rng = rng(seed, stream::USER, 0);
    let span = (end_secs - start_secs) as f64;
    let mut created: Vec<i64> = (0..count)
        .map(|_| start_secs + (span * rng.f64().sqrt()) as i64)
        .collect();
    created.sort_unstable();
    let mut logins = HashSet::new();
    let mut id = 0u32;
    let mut gh_id = 100u64;
    created
        .into_iter()
        .map(|secs| {
            id += if rng.u8(0..100) < 5 { rng.u32(2..6) } else { 1 };
            gh_id += rng.u64(1..3_000);
            let (first, first_name) = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
            let (last, last_name) = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
            let mut login = match rng.u8(0..6) {
                0 => format!("{first}{last}"),
                1 => format!("{first}-{last}"),
                2 => format!("{first}{}", rng.u16(1..2000)),
                3 => format!("{}{last}", &first[..1]),
                4 => format!("{last}-{first}"),
                _ => format!("{first}-rs"),
            };
            if rng.u8(0..100) < 15
                && let Some(head) = login.get_mut(..1)
            {
                head.make_ascii_uppercase();
            }
            while !logins.insert(login.to_ascii_lowercase()) {
                let _ = write!(login, "{}", rng.u8(0..10));
            }
            let name = match rng.u8(0..100) {
                0..=19 => None,
                20..=23 => Some(format!("{last_name}, {first_name}")),
                24 => Some(format!("{first_name} \"{first}\" {last_name}")),
                25 => Some(String::new()),
                _ => Some(format!("{first_name} {last_name}")),
            };
            User {
                id,
                gh_id,
                login,
                name,
                created: at(&mut rng, secs),
            }
        })
        .collect()
}

fn build_teams(seed: u64, crates: usize) -> Vec<Team> {
    let mut rng = rng(seed, stream::USER, 1);
    (0..crates / 1000 + 1)
        .map(|index| {
            let round = index / ORGS.len();
            let org = ORGS[index % ORGS.len()];
            let org = if round == 0 {
                org.to_owned()
            } else {
                format!("{org}{round}")
            };
            let team = TEAMS[rng.usize(..TEAMS.len())];
            let mut name = None;
            if rng.u8(0..100) < 70 {
                let mut display = String::new();
                capitalize(team, &mut display);
                name = Some(display);
            }
            Team {
                id: index as u32 + 1,
                github_id: rng.u32(100_000..9_000_000),
                org_id: rng.u32(1_000..90_000_000),
                login: format!("github:{org}:{team}"),
                name,
            }
        })
        .collect()
}

fn build_keywords(seed: u64, count: usize, start_secs: i64, end_secs: i64) -> Vec<Keyword> {
    let mut rng = rng(seed, stream::KEYWORD, 0);
    let mut seen = HashSet::new();
    let mut keywords = Vec::with_capacity(count);
    let mut attempt = 0usize;
    while keywords.len() < count {
        let keyword = if attempt < WORDS.len() {
            WORDS[attempt].to_owned()
        } else if attempt < 40 * count {
            format!("{}-{}", word(&mut rng), word(&mut rng))
        } else {
            format!("{}{attempt}", word(&mut rng))
        };
        attempt += 1;
        if keyword.len() <= 20 && seen.insert(keyword.clone()) {
            let secs = start_secs + rng.i64(0..end_secs - start_secs);
            keywords.push(Keyword {
                id: keywords.len() as u32 + 1,
                keyword,
                created: at(&mut rng, secs),
                crates: 0,
            });
        }
    }
    keywords
}

/// A few crates deleted since deletions became possible, under names nobody else holds.
fn build_deleted(
    seed: u64,
    names: &mut NameSet,
    users: &[User],
    start_secs: i64,
    end_secs: i64,
    crates: usize,
) -> Vec<Deleted> {
    let mut rng = rng(seed, stream::DELETED, 0);
    let possible = since(VERSION_META_SINCE) / MICROS;
    let from = if possible < end_secs {
        possible
    } else {
        start_secs
    };
    (0..3 + crates / 5000)
        .map(|index| {
            let name = names.crate_name(&mut rng);
            let created_secs = from + rng.i64(0..end_secs - from);
            let deleted_secs = created_secs + rng.i64(60..259_200);
            Deleted {
                id: index as u32 + 1,
                name,
                created: at(&mut rng, created_secs),
                deleted: at(&mut rng, deleted_secs),
                by: users[rng.usize(..users.len())].id,
                message: match rng.u8(0..100) {
                    0..=49 => None,
                    n => Some(DELETE_MESSAGES[usize::from(n) % DELETE_MESSAGES.len()]),
                },
            }
        })
        .collect()
}

/// `count` distinct indices below `len`; `skew` above 1 favours low indices.
fn pick_distinct(rng: &mut Rng, count: usize, len: usize, skew: f64) -> Vec<u32> {
    let count = count.min(len);
    let mut picked: Vec<u32> = Vec::with_capacity(count);
    let mut tries = 0;
    while picked.len() < count {
        let index = if tries < 20 {
            ((len as f64) * rng.f64().powf(skew)) as u32
        } else {
            rng.u32(0..len as u32)
        };
        tries += 1;
        if !picked.contains(&index) {
            picked.push(index);
        }
    }
    picked
}

fn pick_license(rng: &mut Rng) -> Option<&'static str> {
    let roll = rng.u8(0..100);
    let mut acc = 0;
    for &(license, weight) in LICENSES {
        acc += weight;
        if roll < acc {
            return license;
        }
    }
    Some("MIT OR Apache-2.0")
}

/// One sentence of README prose: commas, some `"quoted"` and `code` words, the odd non-ASCII.
fn sentence(rng: &mut Rng, out: &mut String) {
    let words = rng.usize(5..18);
    for index in 0..words {
        let word = TEXT_WORDS[rng.usize(..TEXT_WORDS.len())];
        if index > 0 {
            out.push(' ');
        }
        match rng.u8(0..100) {
            0..=2 => {
                out.push('"');
                out.push_str(word);
                out.push('"');
            }
            3..=4 => {
                out.push('`');
                out.push_str(word);
                out.push('`');
            }
            _ if index == 0 => capitalize(word, out),
            _ => out.push_str(word),
        }
        if index + 1 < words && rng.u8(0..100) < 7 {
            out.push(',');
        }
    }
    out.push('.');
}

fn description(rng: &mut Rng, name: &str) -> Option<String> {
    let mut out = String::new();
    match rng.u8(0..100) {
        0..=1 => return None,
        2 => {}
        3..=79 => sentence(rng, &mut out),
        80..=89 => {
            sentence(rng, &mut out);
            out.push('\n');
            sentence(rng, &mut out);
        }
        90..=95 => {
            let _ = write!(out, "The \"{name}\" crate, ");
            sentence(rng, &mut out);
        }
        _ => {
            for index in 0..rng.usize(4..12) {
                if index > 0 {
                    out.push(' ');
                }
                sentence(rng, &mut out);
            }
        }
    }
    Some(out)
}

/// A Markdown README: most a few KB, some tens of KB, some missing; `\r\n` in a few.
fn readme(rng: &mut Rng, krate: &Crate, out: &mut String) -> bool {
    out.clear();
    let target = match rng.u8(0..100) {
        0..=29 => return false,
        30..=44 => rng.usize(60..400),
        45..=89 => rng.usize(300..1_400),
        90..=97 => rng.usize(1_500..5_000),
        _ => rng.usize(6_000..24_000),
    };
    let nl = if rng.u8(0..100) < 3 { "\r\n" } else { "\n" };
    let name = &krate.name;
    let _ = write!(out, "# {name}{nl}{nl}");
    if target > 400 {
        let _ = write!(
            out,
            "[![Documentation](https://docs.rs/{name}/badge.svg)](https://docs.rs/{name}){nl}\
             [![License](https://img.shields.io/badge/license-MIT%2FApache--2.0-blue.svg)]\
             (#license){nl}{nl}"
        );
    }
    if let Some(description) = &krate.description {
        out.push_str(description);
        out.push_str(nl);
        out.push_str(nl);
    }
    let mut section = 0;
    while out.len() < target {
        match rng.u8(0..12) {
            0 => {
                let _ = write!(out, "## {}{nl}{nl}", HEADINGS[section % HEADINGS.len()]);
                section += 1;
            }
            1 => {
                let _ = write!(
                    out,
                    "```toml{nl}[dependencies]{nl}{name} = \"{}.{}\"{nl}```{nl}{nl}",
                    rng.u8(0..3),
                    rng.u8(0..30)
                );
            }
            2 => {
                let ident = name.to_ascii_lowercase().replace('-', "_");
                let _ = write!(
                    out,
                    "```rust{nl}use {ident}::{{Client, Config}};{nl}{nl}\
                     fn main() -> Result<(), Box<dyn std::error::Error>> {{{nl}\
                     \x20   let config = Config::new(\"https://example.org/api\", {});{nl}\
                     \x20   let client = Client::connect(&config)?;{nl}\
                     \x20   println!(\"{{}}, {{:?}}\", client.name(), config);{nl}\
                     \x20   Ok(()){nl}}}{nl}```{nl}{nl}",
                    rng.u8(1..10)
                );
            }
            3 => {
                for _ in 0..rng.usize(2..6) {
                    out.push_str("- ");
                    sentence(rng, out);
                    out.push_str(nl);
                }
                out.push_str(nl);
            }
            _ => {
                for index in 0..rng.usize(2..7) {
                    if index > 0 {
                        out.push(' ');
                    }
                    sentence(rng, out);
                }
                out.push_str(nl);
                out.push_str(nl);
            }
        }
    }
    true
}

#[derive(Debug)]
struct Links {
    homepage: Option<String>,
    documentation: Option<String>,
    repository: Option<String>,
}

/// A crate's URLs, the same wherever they are written (crates.csv and recent versions).
fn links(plan: &Plan, index: u32) -> Links {
    let krate = &plan.crates[index as usize];
    let login = &plan.users[krate.owner as usize].login;
    let name = &krate.name;
    let mut rng = rng(plan.seed, stream::LINKS, u64::from(index));
    let repository = match rng.u8(0..100) {
        0..=79 => Some(format!("https://github.com/{login}/{name}")),
        80..=85 => Some(format!("https://gitlab.com/{login}/{name}")),
        86..=88 => Some(format!("https://codeberg.org/{login}/{name}")),
        89 => Some(String::new()),
        _ => None,
    };
    let homepage = match rng.u8(0..100) {
        0..=49 => None,
        50..=84 => repository.clone(),
        _ => Some(format!(
            "https://{}.example.org/",
            name.to_ascii_lowercase().replace('_', "-")
        )),
    };
    let documentation = match rng.u8(0..100) {
        0..=54 => Some(format!("https://docs.rs/{name}")),
        55..=59 => Some(format!("https://{login}.github.io/{name}/")),
        _ => None,
    };
    Links {
        homepage,
        documentation,
        repository,
    }
}

// ---------------------------------------------------------------------------------------------
// CSV as Postgres writes it.

const FLUSH_AT: usize = 1 << 20;

/// One table's CSV file. Fields are appended in header order; `end` checks the count.
struct CsvFile {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    columns: usize,
    fields: usize,
    rows: u64,
    bytes: u64,
    timezone: &'static [u8],
}

impl CsvFile {
    fn create(path: PathBuf, columns: &[&str], schema: Schema) -> anyhow::Result<CsvFile> {
        let file =
            File::create(&path).with_context(|| format!("{}: cannot create", path.display()))?;
        let mut buf = Vec::with_capacity(FLUSH_AT + (64 << 10));
        buf.extend_from_slice(columns.join(",").as_bytes());
        buf.push(b'\n');
        Ok(CsvFile {
            path,
            file,
            buf,
            columns: columns.len(),
            fields: 0,
            rows: 0,
            bytes: 0,
            timezone: match schema {
                Schema::Old => b"",
                Schema::New => b"+00",
            },
        })
    }

    fn field(&mut self) -> &mut Vec<u8> {
        if self.fields > 0 {
            self.buf.push(b',');
        }
        self.fields += 1;
        &mut self.buf
    }

    fn null(&mut self) {
        self.field();
    }

    fn text(&mut self, text: &str) {
        push_text(self.field(), text);
    }

    fn opt_text(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.text(text),
            None => self.null(),
        }
    }

    fn int(&mut self, value: impl Into<u64>) {
        push_u64(self.field(), value.into());
    }

    fn opt_int<T: Into<u64>>(&mut self, value: Option<T>) {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    fn flag(&mut self, value: bool) {
        self.field().push(if value { b't' } else { b'f' });
    }

    fn time(&mut self, micros: i64) {
        let timezone = self.timezone;
        let buf = self.field();
        push_timestamp(buf, micros);
        buf.extend_from_slice(timezone);
    }

    fn date(&mut self, day: i64) {
        push_date(self.field(), day);
    }

    /// A SHA-256 as `\x` + hex (bytea) or bare hex (`checksum`).
    fn sha256(&mut self, prefix: &[u8], words: &[u64; 4]) {
        let buf = self.field();
        buf.extend_from_slice(prefix);
        for word in words {
            for byte in word.to_be_bytes() {
                buf.push(HEX[usize::from(byte >> 4)]);
                buf.push(HEX[usize::from(byte & 15)]);
            }
        }
    }

    fn end(&mut self) -> anyhow::Result<()> {
        assert_eq!(
            self.fields,
            self.columns,
            "{}: a row with the wrong number of fields",
            self.path.display()
        );
        self.buf.push(b'\n');
        self.fields = 0;
        self.rows += 1;
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.file
            .write_all(&self.buf)
            .with_context(|| format!("{}: write failed", self.path.display()))?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Rows (header excluded) and bytes (header included).
    fn finish(mut self) -> anyhow::Result<(u64, u64)> {
        assert_eq!(self.fields, 0, "{}: an unfinished row", self.path.display());
        self.flush()?;
        Ok((self.rows, self.bytes))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A non-NULL text field: quoted when empty (`""` is not NULL) or when it holds a comma, a
/// quote or a line break; quotes inside are doubled.
fn push_text(buf: &mut Vec<u8>, text: &str) {
    let quote = text.is_empty()
        || text == "\\."
        || text
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !quote {
        buf.extend_from_slice(text.as_bytes());
        return;
    }
    buf.push(b'"');
    let mut pieces = text.split('"');
    if let Some(first) = pieces.next() {
        buf.extend_from_slice(first.as_bytes());
    }
    for piece in pieces {
        buf.extend_from_slice(b"\"\"");
        buf.extend_from_slice(piece.as_bytes());
    }
    buf.push(b'"');
}

fn push_u64(buf: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[start..]);
}

fn two_digits(value: u32) -> [u8; 2] {
    [b'0' + (value / 10) as u8, b'0' + (value % 10) as u8]
}

/// `YYYY-MM-DD`.
fn push_date(buf: &mut Vec<u8>, day: i64) {
    let (year, month, day) = civil_from_days(day);
    let year = year.clamp(0, 9999) as u32;
    let [y0, y1] = two_digits(year / 100);
    let [y2, y3] = two_digits(year % 100);
    let [m0, m1] = two_digits(month);
    let [d0, d1] = two_digits(day);
    buf.extend_from_slice(&[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1]);
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` with trailing zeros of the fraction trimmed, as Postgres.
fn push_timestamp(buf: &mut Vec<u8>, micros: i64) {
    let secs = micros.div_euclid(MICROS);
    let fraction = micros.rem_euclid(MICROS);
    push_date(buf, secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400) as u32;
    let [h0, h1] = two_digits(of_day / 3600);
    let [m0, m1] = two_digits(of_day % 3600 / 60);
    let [s0, s1] = two_digits(of_day % 60);
    buf.extend_from_slice(&[b' ', h0, h1, b':', m0, m1, b':', s0, s1]);
    if fraction != 0 {
        let mut digits = [b'.', 0, 0, 0, 0, 0, 0];
        let mut rest = fraction;
        for slot in digits[1..].iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let mut len = digits.len();
        while digits[len - 1] == b'0' {
            len -= 1;
        }
        buf.extend_from_slice(&digits[..len]);
    }
}

/// A Postgres array literal, `{a,b}`; elements with special characters are double-quoted.
fn push_pg_array<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    out.push('{');
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let plain = !item.is_empty()
            && !item.eq_ignore_ascii_case("null")
            && !item
                .chars()
                .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
        if plain {
            out.push_str(item);
        } else {
            out.push('"');
            for c in item.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
    }
    out.push('}');
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let shifted = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted + 2) / 5 + 1) as u32;
    let month = if shifted < 10 {
        shifted + 3
    } else {
        shifted - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

// ---------------------------------------------------------------------------------------------
// The tables.

fn row_rng(plan: &Plan, table: u64, index: u64) -> Rng {
    rng(plan.seed, stream::ROW ^ (table << 8), index)
}

fn write_categories(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    let base = since((2017, 1, 17)) / MICROS + 19 * 3600;
    for (index, &(slug, category, description)) in CATEGORIES.iter().enumerate() {
        let mut rng = row_rng(plan, 1, index as u64);
        let path = format!("root.{}", slug.replace("::", ".").replace('-', "_"));
        csv.text(category);
        csv.int(plan.category_counts[index]);
        csv.time(at(&mut rng, base + index as i64 * 61));
        csv.text(description);
        csv.int(index as u64 + 1);
        csv.text(&path);
        csv.text(slug);
        csv.end()?;
    }
    Ok(())
}

fn write_crate_downloads(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for krate in &plan.crates {
        csv.int(krate.id);
        csv.int(krate.downloads);
        csv.end()?;
    }
    Ok(())
}

/// In order of `updated_at`, roughly where Postgres keeps rows that are updated often.
fn write_crates(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    let columns = crate_columns(plan.schema);
    let mut order: Vec<u32> = (0..plan.crates.len() as u32).collect();
    order.sort_unstable_by_key(|&index| (plan.crates[index as usize].updated, index));
    let mut text = String::new();
    for index in order {
        let krate = &plan.crates[index as usize];
        let links = links(plan, index);
        let mut rng = rng(plan.seed, stream::README, u64::from(index));
        let has_readme = readme(&mut rng, krate, &mut text);
        let max_upload_size = (rng.u16(0..1000) < 4)
            .then(|| [20_971_520u32, 52_428_800, 104_857_600][rng.usize(..3)]);
        let max_features = (rng.u16(0..1000) < 3).then_some(300u32);
        let trustpub_only = rng.u8(0..100) < 2;
        for &column in columns {
            match column {
                CrateCol::CreatedAt => csv.time(krate.created),
                CrateCol::Description => csv.opt_text(krate.description.as_deref()),
                CrateCol::Documentation => csv.opt_text(links.documentation.as_deref()),
                CrateCol::Downloads => csv.int(krate.downloads),
                CrateCol::Homepage => csv.opt_text(links.homepage.as_deref()),
                CrateCol::Id => csv.int(krate.id),
                CrateCol::MaxFeatures => csv.opt_int(max_features),
                CrateCol::MaxUploadSize => csv.opt_int(max_upload_size),
                CrateCol::Name => csv.text(&krate.name),
                CrateCol::Readme => csv.opt_text(has_readme.then_some(text.as_str())),
                CrateCol::Repository => csv.opt_text(links.repository.as_deref()),
                CrateCol::TrustpubOnly => csv.flag(trustpub_only),
                CrateCol::UpdatedAt => csv.time(krate.updated),
            }
        }
        csv.end()?;
    }
    Ok(())
}

fn write_keywords(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for keyword in &plan.keywords {
        csv.int(keyword.crates);
        csv.time(keyword.created);
        csv.int(keyword.id);
        csv.text(&keyword.keyword);
        csv.end()?;
    }
    Ok(())
}

fn write_metadata(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    csv.int(plan.crates.iter().map(|krate| krate.downloads).sum::<u64>());
    csv.end()
}

/// The users the export keeps: owners, publishers (and those who deleted crates).
fn exported_users(plan: &Plan) -> Vec<bool> {
    let mut used = vec![false; plan.users.len()];
    for krate in &plan.crates {
        used[krate.owner as usize] = true;
        for &user in &krate.co_owners {
            used[user as usize] = true;
        }
    }
    for version in &plan.versions {
        if let Some(user) = version.publisher {
            used[user as usize] = true;
        }
    }
    for deleted in &plan.deleted {
        if let Some(index) = plan.users.iter().position(|user| user.id == deleted.by) {
            used[index] = true;
        }
    }
    used
}

fn avatar(id: u64) -> String {
    format!("https://avatars.githubusercontent.com/u/{id}?v=4")
}

fn write_oauth_github(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    let used = exported_users(plan);
    for (user, _) in plan.users.iter().zip(used).filter(|(_, used)| *used) {
        csv.int(user.gh_id);
        csv.text(&avatar(user.gh_id));
        csv.text(&user.login);
        csv.int(user.id);
        csv.end()?;
    }
    Ok(())
}

fn write_reserved_crate_names(_plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for name in RESERVED_CRATE_NAMES {
        csv.text(name);
        csv.end()?;
    }
    Ok(())
}

fn write_reserved_usernames(_plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for name in RESERVED_USERNAMES {
        csv.text(name);
        csv.end()?;
    }
    Ok(())
}

fn write_teams(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for team in &plan.teams {
        csv.text(&avatar(u64::from(team.org_id)));
        csv.int(team.github_id);
        csv.int(team.id);
        csv.text(&team.login);
        csv.opt_text(team.name.as_deref());
        csv.int(team.org_id);
        csv.end()?;
    }
    Ok(())
}

fn write_users(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    let used = exported_users(plan);
    for (user, _) in plan.users.iter().zip(used).filter(|(_, used)| *used) {
        match plan.schema {
            Schema::Old => {
                csv.text(&avatar(user.gh_id));
                csv.int(user.gh_id);
                csv.text(&user.login);
                csv.int(user.id);
                csv.opt_text(user.name.as_deref());
            }
            Schema::New => {
                csv.time(user.created);
                csv.int(user.gh_id);
                csv.text(&user.login);
                csv.int(user.id);
                csv.opt_text(user.name.as_deref());
                csv.text(&user.login.to_ascii_lowercase());
            }
        }
        csv.end()?;
    }
    Ok(())
}

fn write_badges(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for (index, krate) in plan.crates.iter().enumerate() {
        let mut rng = row_rng(plan, 2, index as u64);
        if rng.u8(0..100) >= 8 {
            continue;
        }
        let login = &plan.users[krate.owner as usize].login;
        let (attributes, badge_type) = match rng.u8(0..4) {
            0 => (
                format!(
                    "{{\"branch\": \"master\", \"repository\": \"{login}/{}\"}}",
                    krate.name
                ),
                "travis-ci",
            ),
            1 => (
                format!("{{\"repository\": \"{login}/{}\"}}", krate.name),
                "codecov",
            ),
            2 => (
                "{\"status\": \"actively-developed\"}".to_owned(),
                "maintenance",
            ),
            _ => (
                format!("{{\"repository\": \"{login}/{}\"}}", krate.name),
                "is-it-maintained-issue-resolution",
            ),
        };
        csv.text(&attributes);
        csv.text(badge_type);
        csv.int(krate.id);
        csv.end()?;
    }
    Ok(())
}

fn write_crates_categories(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for krate in &plan.crates {
        for &category in &krate.categories {
            csv.int(category + 1);
            csv.int(krate.id);
            csv.end()?;
        }
    }
    Ok(())
}

fn write_crates_keywords(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for krate in &plan.crates {
        for &keyword in &krate.keywords {
            csv.int(krate.id);
            csv.int(plan.keywords[keyword as usize].id);
            csv.end()?;
        }
    }
    Ok(())
}

fn write_crate_owners(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for (index, krate) in plan.crates.iter().enumerate() {
        let mut rng = row_rng(plan, 3, index as u64);
        let owner = plan.users[krate.owner as usize].id;
        let later = |rng: &mut Rng| {
            let from = krate.created / MICROS;
            let secs = from + rng.i64(0..(krate.updated / MICROS - from).max(1));
            at(rng, secs)
        };
        csv.int(krate.id);
        csv.time(krate.created);
        csv.int(owner);
        csv.int(owner);
        csv.int(0u32);
        csv.end()?;
        for &user in &krate.co_owners {
            csv.int(krate.id);
            csv.time(later(&mut rng));
            csv.int(owner);
            csv.int(plan.users[user as usize].id);
            csv.int(0u32);
            csv.end()?;
        }
        if let Some(team) = krate.team {
            csv.int(krate.id);
            csv.time(later(&mut rng));
            csv.int(owner);
            csv.int(plan.teams[team as usize].id);
            csv.int(1u32);
            csv.end()?;
        }
    }
    Ok(())
}

fn write_deleted_crates(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for deleted in &plan.deleted {
        csv.time(deleted.deleted + DAY);
        csv.time(deleted.created);
        csv.time(deleted.deleted);
        csv.int(deleted.by);
        csv.int(deleted.id);
        csv.opt_text(deleted.message);
        csv.text(&deleted.name);
        csv.end()?;
    }
    Ok(())
}

/// Versions in id (publication) order, except that rows updated later (yanked, or touched by a
/// backfill) moved to the end, as Postgres appends the new version of an updated row. So the
/// rows of some crates are out of order.
fn version_file_order(plan: &Plan) -> Vec<u32> {
    let (mut order, mut touched): (Vec<u32>, Vec<u32>) = plan.by_id.iter().partition(|&&index| {
        let version = &plan.versions[index as usize];
        version.updated == version.created
    });
    touched.sort_unstable_by_key(|&index| (plan.versions[index as usize].updated, index));
    order.extend(touched);
    order
}

fn write_versions(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    let columns = version_columns(plan.schema);
    let crate_size_since = since(CRATE_SIZE_SINCE);
    let rust_version_since = since(RUST_VERSION_SINCE);
    let has_lib_since = since(HAS_LIB_SINCE);
    let edition_since = since(EDITION_SINCE);
    let meta_since = since(VERSION_META_SINCE);
    let arrays_since = since(ARRAYS_SINCE);
    let zip_since = since(ZIP_SINCE);
    let mut array = String::new();
    for index in version_file_order(plan) {
        let version = &plan.versions[index as usize];
        let krate = &plan.crates[version.krate as usize];
        let num = plan.num(version);
        let mut rng = rng(plan.seed, stream::VERSION, u64::from(version.id));
        let sha = [rng.u64(..), rng.u64(..), rng.u64(..), rng.u64(..)];
        let zip_sha = [rng.u64(..), rng.u64(..), rng.u64(..), rng.u64(..)];
        let zip_json_sha = [rng.u64(..), rng.u64(..), rng.u64(..), rng.u64(..)];
        let crate_size = (version.created >= crate_size_since)
            .then(|| (1_000.0 * 3_000f64.powf(rng.f64())) as u32);
        let features = match rng.u8(0..100) {
            0..=54 => FEATURES_JSON[0],
            roll => FEATURES_JSON[1 + usize::from(roll) % (FEATURES_JSON.len() - 1)],
        };
        let rust_version = (version.created >= rust_version_since && rng.u8(0..100) < 35)
            .then(|| RUST_VERSIONS[rng.usize(..RUST_VERSIONS.len())]);
        let edition = (version.created >= edition_since).then(|| match rng.u8(0..100) {
            0..=54 => "2021",
            55..=79 => "2018",
            80..=94 => "2024",
            _ => "2015",
        });
        let recent_lib = version.created >= has_lib_since;
        let bins = rng.u8(0..100);
        let has_lib = bins < 85 || bins.is_multiple_of(2);
        let links_key = krate
            .name
            .strip_suffix("-sys")
            .filter(|_| rng.u8(0..100) < 60);
        let meta = (version.created >= meta_since).then(|| links(plan, version.krate));
        let arrays = version.created >= arrays_since;
        let zip = version.created >= zip_since;
        for &column in columns {
            match column {
                VersionCol::BinNames if recent_lib => {
                    array.clear();
                    let name = krate.name.as_str();
                    match bins {
                        0..=84 => push_pg_array(&mut array, []),
                        85..=96 => push_pg_array(&mut array, [name]),
                        _ => push_pg_array(&mut array, [name, &format!("{name}-cli")]),
                    }
                    csv.text(&array);
                }
                VersionCol::BinNames => csv.null(),
                VersionCol::Categories => {
                    array.clear();
                    let slugs = krate.categories.iter().map(|&c| CATEGORIES[c as usize].0);
                    push_pg_array(&mut array, slugs.filter(|_| arrays));
                    csv.text(&array);
                }
                VersionCol::Checksum => csv.sha256(b"", &sha),
                VersionCol::CrateId => csv.int(krate.id),
                VersionCol::CrateSize => csv.opt_int(crate_size),
                VersionCol::CreatedAt => csv.time(version.created),
                VersionCol::Description => {
                    csv.opt_text(meta.as_ref().and(krate.description.as_deref()))
                }
                VersionCol::Documentation => {
                    csv.opt_text(meta.as_ref().and_then(|m| m.documentation.as_deref()))
                }
                VersionCol::Downloads => csv.int(version.downloads),
                VersionCol::Edition => csv.opt_text(edition),
                VersionCol::Features => csv.text(features),
                VersionCol::HasLib if recent_lib => csv.flag(has_lib),
                VersionCol::HasLib => csv.null(),
                VersionCol::Homepage => {
                    csv.opt_text(meta.as_ref().and_then(|m| m.homepage.as_deref()))
                }
                VersionCol::Id => csv.int(version.id),
                VersionCol::Keywords => {
                    array.clear();
                    let words = krate
                        .keywords
                        .iter()
                        .map(|&k| plan.keywords[k as usize].keyword.as_str());
                    push_pg_array(&mut array, words.filter(|_| arrays));
                    csv.text(&array);
                }
                VersionCol::License => csv.opt_text(krate.license),
                VersionCol::Links => csv.opt_text(links_key),
                VersionCol::Num => csv.text(num),
                VersionCol::NumNoBuild => csv.text(num.split('+').next().unwrap_or(num)),
                VersionCol::PublishedBy => {
                    csv.opt_int(version.publisher.map(|user| plan.users[user as usize].id))
                }
                VersionCol::Repository => {
                    csv.opt_text(meta.as_ref().and_then(|m| m.repository.as_deref()))
                }
                VersionCol::RustVersion => csv.opt_text(rust_version),
                VersionCol::TarSha256 => csv.sha256(b"\\x", &sha),
                VersionCol::UpdatedAt => csv.time(version.updated),
                VersionCol::Yanked => csv.flag(version.yanked),
                VersionCol::ZipJsonSha256 if zip => csv.sha256(b"\\x", &zip_json_sha),
                VersionCol::ZipSha256 if zip => csv.sha256(b"\\x", &zip_sha),
                VersionCol::ZipJsonSha256 | VersionCol::ZipSha256 => csv.null(),
            }
        }
        csv.end()?;
    }
    Ok(())
}

fn write_default_versions(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    for krate in &plan.crates {
        csv.int(krate.id);
        csv.int(krate.version_count);
        csv.int(plan.versions[krate.default_version as usize].id);
        csv.end()?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct BaseDep {
    target: u32,
    kind: u8,
    optional: bool,
    default_features: bool,
    features: usize,
    renamed: bool,
    platform: Option<&'static str>,
}

/// What a crate depends on, shared by its versions: older crates, the oldest most of all.
fn base_deps(plan: &Plan, krate: usize, out: &mut Vec<BaseDep>) {
    out.clear();
    if krate == 0 {
        return;
    }
    let mut rng = rng(plan.seed, stream::DEPS, krate as u64);
    // About eight per crate: what makes dependencies.csv the biggest table, as in the real dump.
    let count = match rng.u8(0..100) {
        0..=7 => 0,
        8..=19 => rng.usize(1..4),
        20..=69 => rng.usize(3..11),
        _ => rng.usize(10..22),
    };
    for _ in 0..count {
        let target = ((krate as f64) * rng.f64().powf(2.5)) as u32;
        let kind = match rng.u8(0..100) {
            0..=74 => 0,
            75..=94 => 2,
            _ => 1,
        };
        let optional = kind == 0 && rng.u8(0..100) < 12;
        let default_features = rng.u8(0..100) >= 10;
        let features = match rng.u8(0..100) {
            0..=69 => 0,
            roll => 1 + usize::from(roll) % (DEP_FEATURES.len() - 1),
        };
        let renamed = rng.u8(0..100) < 2;
        let platform = (rng.u8(0..100) < 8).then(|| TARGETS[rng.usize(..TARGETS.len())]);
        if out.iter().all(|dep| dep.target != target) {
            out.push(BaseDep {
                target,
                kind,
                optional,
                default_features,
                features,
                renamed,
                platform,
            });
        }
    }
}

/// A requirement on `num` in one of the usual spellings.
fn push_req(rng: &mut Rng, num: &str, out: &mut String) {
    let core = num.split('+').next().unwrap_or(num);
    let (release, pre) = match core.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (core, None),
    };
    let mut parts = release
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let _ = match rng.u8(0..100) {
        0..=44 if pre.is_none() => write!(out, "^{major}.{minor}"),
        0..=84 => write!(out, "^{core}"),
        85..=89 => write!(out, "={core}"),
        90..=93 => write!(out, ">={major}.{minor}, <{}", major + 1),
        94..=96 => write!(out, "~{major}.{minor}"),
        _ => write!(out, "*"),
    };
}

/// In version id order (rows are inserted at publication), ids ascending.
fn write_dependencies(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    let mut base = Vec::new();
    let mut text = String::new();
    let mut gaps = rng(plan.seed, stream::IDS, 1);
    let mut next_id = 0u64;
    for &index in &plan.by_id {
        let version = &plan.versions[index as usize];
        base_deps(plan, version.krate as usize, &mut base);
        if base.is_empty() {
            continue;
        }
        let mut rng = rng(plan.seed, stream::DEP_VERSION, u64::from(version.id));
        for dep in &base {
            if rng.u8(0..100) >= 92 {
                continue;
            }
            next_id += if gaps.u8(0..100) == 0 { 2 } else { 1 };
            let target = &plan.crates[dep.target as usize];
            let target_versions = &plan.versions[target.versions()];
            let known = target_versions.partition_point(|t| t.created < version.created);
            let pick = if known == 0 {
                0
            } else {
                known - 1 - rng.usize(..known.min(3))
            };
            csv.int(target.id);
            csv.flag(dep.default_features);
            if dep.renamed {
                text.clear();
                let _ = write!(text, "{}_crate", target.name.replace('-', "_"));
                csv.text(&text);
            } else {
                csv.null();
            }
            text.clear();
            push_pg_array(&mut text, DEP_FEATURES[dep.features].iter().copied());
            csv.text(&text);
            csv.int(next_id);
            csv.int(dep.kind);
            csv.flag(dep.optional);
            text.clear();
            push_req(&mut rng, plan.num(&target_versions[pick]), &mut text);
            csv.text(&text);
            csv.opt_text(dep.platform);
            csv.int(version.id);
            csv.end()?;
        }
    }
    Ok(())
}

/// The last 90 days, day by day; a crate's newest versions are downloaded most.
fn write_version_downloads(plan: &Plan, csv: &mut CsvFile) -> anyhow::Result<()> {
    struct Daily {
        id: u32,
        first_day: i64,
        chance: u32,
        scale: f64,
    }
    let mut daily = Vec::with_capacity(plan.by_id.len());
    for &index in &plan.by_id {
        let version = &plan.versions[index as usize];
        let krate = &plan.crates[version.krate as usize];
        let newest = krate.first_version + krate.version_count - 1;
        let weight = match newest - index {
            0 => 1.0,
            1 => 0.5,
            _ => 0.06,
        } * if version.yanked { 0.3 } else { 1.0 };
        let chance = f64::from(krate.activity) * weight;
        if chance <= 0.0 {
            continue;
        }
        daily.push(Daily {
            id: version.id,
            first_day: version.created.div_euclid(DAY),
            chance: (chance * f64::from(u32::MAX)) as u32,
            scale: 1.0 + f64::from(krate.activity * krate.activity) * 40_000.0 * weight,
        });
    }
    let today = plan.dump_us.div_euclid(DAY);
    let salt = mix(plan.seed, stream::DOWNLOADS);
    for day in today - 90..today {
        let day_salt = mix(salt, day as u64);
        for entry in &daily {
            if entry.first_day > day {
                continue;
            }
            let hash = mix(day_salt, u64::from(entry.id));
            if (hash as u32) >= entry.chance {
                continue;
            }
            let unit = (hash >> 32) as f64 / 4_294_967_296.0;
            csv.date(day);
            csv.int(1 + (unit * entry.scale) as u64);
            csv.int(entry.id);
            csv.end()?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Vocabulary.

const WORDS: &[&str] = &[
    "async", "tokio", "serde", "json", "http", "web", "cli", "log", "tracing", "parse", "parser",
    "config", "derive", "macro", "core", "util", "utils", "rand", "crypto", "hash", "sha",
    "base64", "image", "audio", "gpu", "wasm", "bind", "ffi", "net", "tcp", "udp", "dns", "tls",
    "sql", "db", "redis", "cache", "queue", "actor", "graph", "tree", "map", "vec", "str",
    "string", "text", "unicode", "regex", "glob", "path", "file", "fs", "io", "time", "date",
    "uuid", "num", "math", "float", "bits", "byte", "buf", "stream", "future", "sync", "lock",
    "atomic", "thread", "pool", "task", "job", "test", "mock", "bench", "fuzz", "lint", "fmt",
    "doc", "build", "plugin", "game", "engine", "ecs", "ui", "gui", "term", "color", "font", "svg",
    "pdf", "xml", "yaml", "toml", "csv", "proto", "grpc", "rpc", "api", "client", "server",
    "router", "auth", "jwt", "oauth", "email", "smtp", "s3", "cloud", "aws", "k8s", "docker",
    "git", "diff", "patch", "zip", "tar", "gzip", "compress", "lz4", "zstd", "embedded", "hal",
    "usb", "serial", "i2c", "spi", "kernel", "os", "boot", "alloc", "arena", "slab", "small",
    "tiny", "fast", "simple", "easy", "light", "mini", "super", "hyper", "ultra", "quick", "lazy",
    "smart", "safe", "ring", "mesh", "geo", "tensor", "matrix", "audit", "semver", "index",
    "crate", "cargo", "rustc", "llvm", "clang", "bindgen", "pest", "nom", "lexer", "ast", "vm",
    "jit", "script", "lua", "python", "node", "shell",
];

const TEXT_WORDS: &[&str] = &[
    "a",
    "the",
    "and",
    "of",
    "to",
    "for",
    "with",
    "in",
    "on",
    "is",
    "this",
    "that",
    "it",
    "by",
    "from",
    "as",
    "or",
    "be",
    "are",
    "you",
    "your",
    "can",
    "will",
    "not",
    "library",
    "crate",
    "simple",
    "fast",
    "safe",
    "small",
    "async",
    "blocking",
    "runtime",
    "parser",
    "encoder",
    "decoder",
    "format",
    "support",
    "implementation",
    "interface",
    "bindings",
    "wrapper",
    "around",
    "over",
    "using",
    "provides",
    "allows",
    "makes",
    "easy",
    "zero-copy",
    "no_std",
    "compatible",
    "stable",
    "nightly",
    "feature",
    "features",
    "default",
    "optional",
    "types",
    "traits",
    "macros",
    "functions",
    "errors",
    "handling",
    "memory",
    "allocation",
    "threads",
    "streams",
    "buffers",
    "files",
    "network",
    "sockets",
    "requests",
    "responses",
    "headers",
    "JSON",
    "TOML",
    "YAML",
    "HTTP/2",
    "TLS",
    "WebAssembly",
    "Linux",
    "macOS",
    "Windows",
    "embedded",
    "targets",
    "platforms",
    "version",
    "release",
    "changelog",
    "license",
    "MIT",
    "Apache-2.0",
    "contributions",
    "welcome",
    "issues",
    "pull",
    "requests",
    "tests",
    "benchmarks",
    "examples",
    "documentation",
    "API",
    "CLI",
    "tool",
    "command-line",
    "config",
    "values",
    "keys",
    "strings",
    "bytes",
    "iterators",
    "closures",
    "generics",
    "lifetimes",
    "performance",
    "latency",
    "throughput",
    "cache",
    "faster",
    "than",
    "about",
    "roughly",
    "2x",
    "10%",
    "e.g.",
    "i.e.",
    "etc.",
    "naïve",
    "café",
    "déjà",
    "über",
    "—",
    "✓",
    "🦀",
    "→",
    "≥",
    "(see",
    "below)",
    "[docs]",
    "{}",
    "#[derive]",
    "Result<T,",
    "E>",
    "&str",
    "Vec<u8>",
    "'static",
    "50%",
    "C++",
    "a/b",
    "x=1;",
    "user@example.org",
];

const HEADINGS: &[&str] = &[
    "Usage",
    "Features",
    "Examples",
    "Installation",
    "Minimum supported Rust version",
    "Performance",
    "Safety",
    "Contributing",
    "License",
    "Changelog",
];

const FIRST_NAMES: &[(&str, &str)] = &[
    ("alice", "Alice"),
    ("bob", "Bob"),
    ("carol", "Carol"),
    ("dave", "Dave"),
    ("erin", "Erin"),
    ("frank", "Frank"),
    ("grace", "Grace"),
    ("heidi", "Heidi"),
    ("ivan", "Ivan"),
    ("judy", "Judy"),
    ("jose", "José"),
    ("zoe", "Zoë"),
    ("lukasz", "Łukasz"),
    ("soren", "Søren"),
    ("mei", "Mei"),
    ("yuki", "Yuki"),
    ("ahmed", "Ahmed"),
    ("priya", "Priya"),
    ("olga", "Olga"),
    ("chen", "Chen"),
    ("fatima", "Fatima"),
    ("lars", "Lars"),
    ("noor", "Noor"),
    ("mateo", "Mateo"),
    ("amara", "Amara"),
    ("kenji", "Kenji"),
    ("ines", "Inês"),
    ("bjorn", "Björn"),
];

const LAST_NAMES: &[(&str, &str)] = &[
    ("smith", "Smith"),
    ("garcia", "García"),
    ("muller", "Müller"),
    ("nguyen", "Nguyen"),
    ("kowalski", "Kowalski"),
    ("tanaka", "Tanaka"),
    ("silva", "Silva"),
    ("rossi", "Rossi"),
    ("hansen", "Hansen"),
    ("kim", "Kim"),
    ("ivanova", "Ivanova"),
    ("dubois", "Dubois"),
    ("okafor", "Okafor"),
    ("patel", "Patel"),
    ("jensen", "Jensen"),
    ("novak", "Novák"),
    ("oconnor", "O'Connor"),
    ("vandijk", "van Dijk"),
];

const ORGS: &[&str] = &[
    "rust-lang",
    "tokio-rs",
    "serde-rs",
    "rustls",
    "bevyengine",
    "embassy-rs",
    "rust-embedded",
    "awslabs",
    "bytecodealliance",
    "gtk-rs",
];

const TEAMS: &[&str] = &[
    "owners",
    "maintainers",
    "publish",
    "core",
    "release",
    "libs",
];

/// `(slug, category, description)`.
const CATEGORIES: &[(&str, &str, &str)] = &[
    (
        "algorithms",
        "Algorithms",
        "Rust implementations of core algorithms such as hashing, sorting, searching, and more.",
    ),
    (
        "api-bindings",
        "API bindings",
        "Idiomatic wrappers of specific APIs for convenient access from Rust.",
    ),
    (
        "asynchronous",
        "Asynchronous",
        "Crates to help you deal with events independently of the main program flow.",
    ),
    (
        "authentication",
        "Authentication",
        "Crates to help with the process of confirming identities.",
    ),
    (
        "caching",
        "Caching",
        "Crates to store the results of previous computations in order to reuse them.",
    ),
    (
        "command-line-interface",
        "Command-line interface",
        "Crates to help create command line interfaces, such as argument parsers, line-editing, or output coloring and formatting.",
    ),
    (
        "command-line-utilities",
        "Command line utilities",
        "Applications to run at the command line.",
    ),
    (
        "compression",
        "Compression",
        "Algorithms for making data smaller.",
    ),
    (
        "concurrency",
        "Concurrency",
        "Crates for implementing concurrent and parallel computation.",
    ),
    (
        "cryptography",
        "Cryptography",
        "Algorithms intended for securing data.",
    ),
    (
        "cryptography::cryptocurrencies",
        "Cryptocurrencies",
        "Crates for digital currencies, wallets, and distributed ledgers.",
    ),
    (
        "data-structures",
        "Data structures",
        "Rust implementations of particular ways of organizing data suited for specific purposes.",
    ),
    (
        "database",
        "Database interfaces",
        "Crates to interface with database management systems.",
    ),
    (
        "date-and-time",
        "Date and time",
        "Crates to manage the inherent complexity of dealing with the fourth dimension.",
    ),
    (
        "development-tools",
        "Development tools",
        "Crates that provide developer-facing features such as testing, debugging, linting, performance profiling, autocompletion, formatting, and more.",
    ),
    (
        "development-tools::build-utils",
        "Build Utils",
        "Utilities for build scripts and other build time steps.",
    ),
    (
        "development-tools::procedural-macro-helpers",
        "Procedural macro helpers",
        "Crates to help you write procedural macros in Rust.",
    ),
    (
        "development-tools::testing",
        "Testing",
        "Crates to help you verify the correctness of your code.",
    ),
    (
        "embedded",
        "Embedded development",
        "Crates that are primarily useful on embedded devices or without an operating system.",
    ),
    (
        "encoding",
        "Encoding",
        "Encoding and/or decoding data from one data format to another.",
    ),
    (
        "filesystem",
        "Filesystem",
        "Crates for dealing with files and filesystems.",
    ),
    (
        "game-development",
        "Game development",
        "Libraries and tools for making games, \"game engines\" included.",
    ),
    (
        "graphics",
        "Graphics",
        "Crates for graphics libraries and applications, including raster and vector graphics primitives such as geometry, curves, and color.",
    ),
    (
        "gui",
        "GUI",
        "Crates to help you create a graphical user interface.",
    ),
    (
        "hardware-support",
        "Hardware support",
        "Crates to interface with specific CPU or other hardware features.",
    ),
    (
        "memory-management",
        "Memory management",
        "Crates to help with allocation, memory mapping, garbage collection, reference counting, or interfaces to foreign memory managers.",
    ),
    (
        "network-programming",
        "Network programming",
        "Crates dealing with higher-level network protocols such as FTP, HTTP, or SSH, or lower-level network protocols such as TCP or UDP.",
    ),
    (
        "no-std",
        "No standard library",
        "Crates that are able to function without the Rust standard library.",
    ),
    (
        "parser-implementations",
        "Parser implementations",
        "Parsers implemented for particular formats or languages.",
    ),
    (
        "parsing",
        "Parsing tools",
        "Crates to help create parsers of binary and text formats.",
    ),
    (
        "rust-patterns",
        "Rust patterns",
        "Shared solutions for particular situations specific to programming in Rust.",
    ),
    (
        "science",
        "Science",
        "Crates related to solving problems involving physics, chemistry, biology, machine learning, geoscience, and other scientific fields.",
    ),
    (
        "text-processing",
        "Text processing",
        "Crates to deal with the complexities of human language when expressed in textual form.",
    ),
    (
        "wasm",
        "WebAssembly",
        "Crates for use when targeting WebAssembly, or for manipulating WebAssembly.",
    ),
    (
        "web-programming",
        "Web programming",
        "Crates to create applications for the web.",
    ),
    (
        "web-programming::http-client",
        "HTTP client",
        "Crates to make HTTP network requests.",
    ),
    (
        "web-programming::http-server",
        "HTTP server",
        "Crates to serve data over HTTP.",
    ),
];

/// `(license, weight in percent)`; `None` is a crate with a license file only.
const LICENSES: &[(Option<&str>, u8)] = &[
    (Some("MIT OR Apache-2.0"), 45),
    (Some("MIT"), 25),
    (Some("Apache-2.0"), 10),
    (Some("MIT/Apache-2.0"), 8),
    (Some("BSD-3-Clause"), 3),
    (Some("GPL-3.0-or-later"), 2),
    (Some("MPL-2.0"), 2),
    (Some("Apache-2.0 OR MIT"), 2),
    (Some("Unlicense OR MIT"), 1),
    (Some("LGPL-2.1-only"), 1),
    (None, 1),
];

/// jsonb text: keys sorted by length, then bytes; `", "` and `": "` separators.
const FEATURES_JSON: &[&str] = &[
    "{}",
    r#"{"std": [], "default": ["std"]}"#,
    r#"{"serde": ["dep:serde"], "default": []}"#,
    r#"{"std": ["alloc"], "alloc": [], "default": ["std"]}"#,
    r#"{"tls": ["rustls"], "full": ["json", "tls"], "json": ["serde_json"], "default": ["json"]}"#,
    r#"{"derive": ["serde/derive"], "default": ["derive"]}"#,
];

const DEP_FEATURES: &[&[&str]] = &[
    &[],
    &["derive"],
    &["std"],
    &["std", "alloc"],
    &["full"],
    &["rt-multi-thread", "macros"],
    &["serde"],
    &["json", "rustls-tls"],
];

const TARGETS: &[&str] = &[
    "cfg(windows)",
    "cfg(unix)",
    "cfg(target_os = \"linux\")",
    "cfg(all(target_arch = \"wasm32\", not(target_os = \"wasi\")))",
    "cfg(any(target_os = \"macos\", target_os = \"ios\"))",
    "x86_64-pc-windows-gnu",
];

const RUST_VERSIONS: &[&str] = &[
    "1.56", "1.60", "1.63", "1.65", "1.70", "1.74", "1.75.0", "1.80", "1.81", "1.85",
];

const RESERVED_CRATE_NAMES: &[&str] = &[
    "alloc",
    "aux",
    "build",
    "cargo",
    "com1",
    "com2",
    "com3",
    "com4",
    "con",
    "core",
    "lpt1",
    "lpt2",
    "lpt3",
    "nul",
    "prn",
    "proc-macro",
    "proc_macro",
    "rust",
    "rustc",
    "rustdoc",
    "std",
    "test",
];

const RESERVED_USERNAMES: &[&str] = &[
    "admin",
    "administrator",
    "ghost",
    "help",
    "root",
    "security",
    "support",
    "system",
];

const DELETE_MESSAGES: &[&str] = &[
    "Published by mistake, sorry.",
    "Renamed to a \"better\" name.",
    "Name squatting; released.",
    "Contained secrets\nin the tests folder",
];

#[cfg(test)]
mod tests {
    use std::{
        collections::{HashMap, HashSet},
        io::Read,
    };

    use super::*;

    fn options(output: PathBuf, crates: u32, versions: u32, schema: Schema, seed: u64) -> Options {
        Options {
            crates,
            versions_per_crate: versions,
            schema,
            output,
            seed,
            timestamp: OffsetDateTime::parse(schema.default_timestamp(), &Rfc3339).unwrap(),
        }
    }

    fn generate_in(dir: &Path, crates: u32, versions: u32, schema: Schema, seed: u64) -> PathBuf {
        let output = dir.join(format!("dump-{}-{seed}.tar.gz", schema.name()));
        let summary = generate(&options(output.clone(), crates, versions, schema, seed)).unwrap();
        assert_eq!(summary.output, output);
        assert_eq!(summary.bytes, fs::metadata(&output).unwrap().len());
        output
    }

    fn members(path: &Path) -> Vec<(String, Vec<u8>)> {
        let file = File::open(path).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let name = entry.path().unwrap().to_string_lossy().into_owned();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                (name, data)
            })
            .collect()
    }

    type Row = HashMap<String, String>;

    /// The header and the rows (by column name) of `data/NAME.csv`.
    fn table(members: &[(String, Vec<u8>)], name: &str) -> (String, Vec<Row>) {
        let suffix = format!("/data/{name}.csv");
        let (_, data) = members
            .iter()
            .find(|(member, _)| member.ends_with(&suffix))
            .unwrap_or_else(|| panic!("no {suffix}"));
        let mut reader = csv::Reader::from_reader(data.as_slice());
        let headers: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|record| {
                let record = record.unwrap();
                assert_eq!(record.len(), headers.len(), "{name}: {record:?}");
                headers
                    .iter()
                    .cloned()
                    .zip(record.iter().map(str::to_owned))
                    .collect()
            })
            .collect();
        (headers.join(","), rows)
    }

    /// Microseconds of `YYYY-MM-DD HH:MM:SS[.f{1,6}]` + `suffix`; panics on anything else.
    fn parse_timestamp(text: &str, suffix: &str) -> i64 {
        let bare = text
            .strip_suffix(suffix)
            .unwrap_or_else(|| panic!("`{text}` lacks `{suffix}`"));
        let (main, fraction) = bare.split_once('.').unwrap_or((bare, ""));
        assert!(
            fraction.len() <= 6 && fraction.bytes().all(|b| b.is_ascii_digit()),
            "`{text}`"
        );
        assert!(!fraction.ends_with('0'), "`{text}`: trailing zero");
        let numbers: Vec<u32> = main
            .split(['-', ' ', ':'])
            .map(|part| part.parse().unwrap_or_else(|_| panic!("`{text}`")))
            .collect();
        assert_eq!(numbers.len(), 6, "`{text}`");
        assert_eq!(main.len(), 19, "`{text}`");
        let month = time::Month::try_from(numbers[1] as u8).unwrap();
        let date = time::Date::from_calendar_date(numbers[0] as i32, month, numbers[2] as u8)
            .unwrap_or_else(|err| panic!("`{text}`: {err}"));
        let clock = time::Time::from_hms(numbers[3] as u8, numbers[4] as u8, numbers[5] as u8)
            .unwrap_or_else(|err| panic!("`{text}`: {err}"));
        let at = time::PrimitiveDateTime::new(date, clock).assume_utc();
        let micros: i64 = format!("{fraction:0<6}").parse().unwrap();
        at.unix_timestamp() * MICROS + micros
    }

    const NEW_CRATES: &str = "created_at,description,documentation,homepage,id,max_features,\
        max_upload_size,name,readme,repository,trustpub_only,updated_at";
    const NEW_VERSIONS: &str = "bin_names,categories,crate_id,crate_size,created_at,description,\
        documentation,downloads,edition,features,has_lib,homepage,id,keywords,license,links,num,\
        num_no_build,published_by,repository,rust_version,tar_sha256,updated_at,yanked,\
        zip_json_sha256,zip_sha256";
    const OLD_CRATES: &str = "created_at,description,documentation,downloads,homepage,id,\
        max_upload_size,name,readme,repository,updated_at";
    const OLD_VERSIONS: &str = "checksum,crate_id,crate_size,created_at,downloads,features,id,\
        license,links,num,published_by,updated_at,yanked";

    fn expected_members(folder: &str, tables: &[&str]) -> Vec<String> {
        let mut names = vec![folder.to_owned()];
        for file in [
            "README.md",
            "export.sql",
            "import.sql",
            "metadata.json",
            "schema.sql",
        ] {
            names.push(format!("{folder}/{file}"));
        }
        names.push(format!("{folder}/data"));
        names.extend(tables.iter().map(|t| format!("{folder}/data/{t}.csv")));
        names
    }

    /// Crate and version ids agree across tables; crate `updated_at` is its versions' maximum.
    fn check_consistency(members: &[(String, Vec<u8>)], suffix: &str) {
        let (_, crates) = table(members, "crates");
        let (_, versions) = table(members, "versions");
        let mut newest: HashMap<&str, i64> = HashMap::new();
        let mut version_ids = HashSet::new();
        for version in &versions {
            assert!(
                version_ids.insert(version["id"].as_str()),
                "duplicate version id"
            );
            let updated = parse_timestamp(&version["updated_at"], suffix);
            let created = parse_timestamp(&version["created_at"], suffix);
            assert!(updated >= created);
            let slot = newest
                .entry(version["crate_id"].as_str())
                .or_insert(i64::MIN);
            *slot = (*slot).max(updated);
            assert!(matches!(version["yanked"].as_str(), "t" | "f"));
        }
        let crate_ids: HashSet<&str> = crates.iter().map(|c| c["id"].as_str()).collect();
        assert_eq!(crate_ids.len(), crates.len(), "duplicate crate id");
        for krate in &crates {
            let updated = parse_timestamp(&krate["updated_at"], suffix);
            assert_eq!(
                Some(&updated),
                newest.get(krate["id"].as_str()),
                "{}",
                krate["name"]
            );
            parse_timestamp(&krate["created_at"], suffix);
        }
        let (_, dependencies) = table(members, "dependencies");
        for dependency in &dependencies {
            assert!(crate_ids.contains(dependency["crate_id"].as_str()));
            assert!(version_ids.contains(dependency["version_id"].as_str()));
        }
        let (_, downloads) = table(members, "version_downloads");
        for row in &downloads {
            assert!(version_ids.contains(row["version_id"].as_str()));
            assert_eq!(row["date"].len(), 10);
        }
    }

    #[test]
    fn tiny_new_dump_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = generate_in(dir.path(), 5, 3, Schema::New, 7);
        let members = members(&path);
        let names: Vec<String> = members.iter().map(|(name, _)| name.clone()).collect();
        let expected = expected_members(
            "2026-11-21-020000",
            &[
                "categories",
                "crate_downloads",
                "crates",
                "keywords",
                "metadata",
                "oauth_github",
                "reserved_crate_names",
                "reserved_usernames",
                "teams",
                "users",
                "crates_categories",
                "crates_keywords",
                "crate_owners",
                "deleted_crates",
                "versions",
                "default_versions",
                "dependencies",
                "version_downloads",
            ],
        );
        assert_eq!(names, expected);

        let (header, crates) = table(&members, "crates");
        assert_eq!(header, NEW_CRATES);
        assert_eq!(crates.len(), 5);
        let (header, versions) = table(&members, "versions");
        assert_eq!(header, NEW_VERSIONS);
        assert_eq!(versions.len(), 15);
        for version in &versions {
            let sha = &version["tar_sha256"];
            let hex = sha.strip_prefix("\\x").expect("bytea hex");
            assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
            let num = &version["num"];
            assert_eq!(version["num_no_build"], num.split('+').next().unwrap());
        }
        check_consistency(&members, "+00");

        let (header, deleted) = table(&members, "deleted_crates");
        assert_eq!(
            header,
            "available_at,created_at,deleted_at,deleted_by,id,message,name"
        );
        assert!(deleted.len() >= 3);
        let (header, _) = table(&members, "dependencies");
        assert_eq!(
            header,
            "crate_id,default_features,explicit_name,features,id,kind,optional,req,target,\
             version_id"
        );
        let (header, _) = table(&members, "version_downloads");
        assert_eq!(header, "date,downloads,version_id");
        let (header, _) = table(&members, "users");
        assert_eq!(header, "created_at,gh_id,gh_login,id,name,username");
        let (header, defaults) = table(&members, "default_versions");
        assert_eq!(header, "crate_id,num_versions,version_id");
        assert_eq!(defaults.len(), 5);

        let metadata = &members[4];
        assert!(metadata.0.ends_with("/metadata.json"));
        let json: serde_json::Value = serde_json::from_slice(&metadata.1).unwrap();
        assert_eq!(json["timestamp"], "2026-11-21T02:00:00.431279563Z");
        let commit = json["crates_io_commit"].as_str().unwrap();
        assert!(commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!metadata.1.ends_with(b"\n"));
    }

    #[test]
    fn tiny_old_dump_has_the_2022_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = generate_in(dir.path(), 5, 3, Schema::Old, 7);
        let members = members(&path);
        let names: Vec<String> = members.iter().map(|(name, _)| name.clone()).collect();
        let expected = expected_members(
            "2022-09-12-020000",
            &[
                "categories",
                "crates",
                "keywords",
                "metadata",
                "reserved_crate_names",
                "teams",
                "users",
                "badges",
                "crates_categories",
                "crates_keywords",
                "crate_owners",
                "versions",
                "dependencies",
                "version_downloads",
            ],
        );
        assert_eq!(names, expected);
        let (header, crates) = table(&members, "crates");
        assert_eq!(header, OLD_CRATES);
        assert_eq!(crates.len(), 5);
        let (header, versions) = table(&members, "versions");
        assert_eq!(header, OLD_VERSIONS);
        assert_eq!(versions.len(), 15);
        for version in &versions {
            let checksum = &version["checksum"];
            assert!(checksum.len() == 64 && checksum.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        check_consistency(&members, "");
        let (header, _) = table(&members, "users");
        assert_eq!(header, "gh_avatar,gh_id,gh_login,id,name");
    }

    #[test]
    fn same_seed_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.tar.gz");
        let second = dir.path().join("second.tar.gz");
        let other = dir.path().join("other.tar.gz");
        generate(&options(first.clone(), 5, 3, Schema::New, 42)).unwrap();
        generate(&options(second.clone(), 5, 3, Schema::New, 42)).unwrap();
        generate(&options(other.clone(), 5, 3, Schema::New, 43)).unwrap();
        let first = fs::read(first).unwrap();
        assert_eq!(first, fs::read(second).unwrap());
        assert_ne!(first, fs::read(other).unwrap());
        // The scratch folders and partial files are gone: only the three dumps remain.
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
    }

    #[test]
    fn rows_have_the_quirks_of_the_real_dump() {
        let dir = tempfile::tempdir().unwrap();
        let path = generate_in(dir.path(), 300, 10, Schema::New, 3);
        let members = members(&path);
        let (_, crates) = table(&members, "crates");
        let (_, versions) = table(&members, "versions");
        assert_eq!((crates.len(), versions.len()), (300, 3000));

        let yanked = versions.iter().filter(|v| v["yanked"] == "t").count();
        assert!((90..=220).contains(&yanked), "{yanked} yanked of 3000");
        assert!(versions.iter().any(|v| v["num"].contains("-alpha.1")));
        assert!(versions.iter().any(|v| v["num"].contains('+')));

        // Some crate's version rows are not in id order.
        let mut last: HashMap<&str, u64> = HashMap::new();
        let mut out_of_order = 0;
        for version in &versions {
            let id: u64 = version["id"].parse().unwrap();
            let previous = last.insert(version["crate_id"].as_str(), id);
            out_of_order += usize::from(previous.is_some_and(|previous| previous > id));
        }
        assert!(out_of_order > 10, "{out_of_order}");

        // Fractions of every width from none to six digits, always with `+00`.
        let mut widths = HashSet::new();
        for version in &versions {
            let created = &version["created_at"];
            parse_timestamp(created, "+00");
            let width = created
                .trim_end_matches("+00")
                .split_once('.')
                .map_or(0, |(_, f)| f.len());
            widths.insert(width);
        }
        assert_eq!(widths.len(), 7, "{widths:?}");

        // Big multi-line readmes with commas and quotes; NULL and empty descriptions.
        let readmes: Vec<&String> = crates.iter().map(|c| &c["readme"]).collect();
        assert!(readmes.iter().any(|r| r.len() > 5_000));
        assert!(
            readmes
                .iter()
                .any(|r| r.contains('\n') && r.contains(',') && r.contains('"'))
        );
        assert!(readmes.iter().any(|r| r.is_empty()));

        // Names: lower case mostly, with `-` and `_`, a few capitals.
        let names: Vec<&String> = crates.iter().map(|c| &c["name"]).collect();
        assert!(names.iter().any(|n| n.contains('-')));
        assert!(names.iter().any(|n| n.contains('_')));
        assert!(
            names
                .iter()
                .all(|n| n.starts_with(|c: char| c.is_ascii_alphabetic()))
        );
        let (_, big) = table(&members, "dependencies");
        assert!(big.len() > versions.len() * 3, "{} dependencies", big.len());
        let (_, downloads) = table(&members, "version_downloads");
        assert!(
            downloads.len() > versions.len(),
            "{} downloads",
            downloads.len()
        );
    }

    #[test]
    fn empty_strings_and_nulls_differ() {
        // The raw bytes: NULL is nothing between commas, the empty string is `""`.
        let mut buf = Vec::new();
        for text in ["plain", "", "a,b", "say \"hi\"", "two\nlines", "\\."] {
            push_text(&mut buf, text);
            buf.push(b'|');
        }
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "plain|\"\"|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"\\.\"|"
        );
        let mut array = String::new();
        push_pg_array(&mut array, ["std", "a b", "x\"y", ""]);
        assert_eq!(array, r#"{std,"a b","x\"y",""}"#);
    }

    #[test]
    fn timestamps_and_dates_match_the_time_crate() {
        let mut rng = Rng::with_seed(5);
        for _ in 0..2000 {
            let micros = rng.i64(0..253_402_300_799_000_000);
            let mut buf = Vec::new();
            push_timestamp(&mut buf, micros);
            let text = String::from_utf8(buf).unwrap();
            assert_eq!(parse_timestamp(&text, ""), micros, "{text}");
        }
        for days in [-719_468, -1, 0, 59, 60, 365, 11_016, 20_000, 2_932_896] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
            let date = time::Date::from_julian_day((days + 2_440_588) as i32).unwrap();
            assert_eq!(
                (year, month, day),
                (
                    i64::from(date.year()),
                    u8::from(date.month()).into(),
                    u32::from(date.day())
                )
            );
        }
        let at = OffsetDateTime::parse("2022-08-08T02:00:27.645191645Z", &Rfc3339).unwrap();
        assert_eq!(rfc3339(at), "2022-08-08T02:00:27.645191645Z");
        let at = OffsetDateTime::parse("2026-01-02T03:04:05+02:00", &Rfc3339).unwrap();
        assert_eq!(rfc3339(at), "2026-01-02T01:04:05Z");
    }

    #[test]
    fn version_numbers_increase() {
        let mut rng = Rng::with_seed(11);
        for _ in 0..200 {
            let mut numbers = NumGen::default();
            let mut nums = String::new();
            let mut previous: Option<(u32, u32, u32, bool)> = None;
            let mut seen = HashSet::new();
            for index in 0..30 {
                let start = nums.len();
                numbers.next(&mut rng, index == 0, &mut nums);
                let num = &nums[start..];
                let core = num.split('+').next().unwrap();
                assert!(seen.insert(core.to_owned()), "{num} twice");
                let (release, pre) = core.split_once('-').unwrap_or((core, ""));
                let parts: Vec<u32> = release.split('.').map(|p| p.parse().unwrap()).collect();
                let key = (parts[0], parts[1], parts[2], pre.is_empty());
                if let Some(previous) = previous {
                    assert!(key >= previous, "{num} after {previous:?}");
                }
                previous = Some(key);
            }
        }
    }

    fn check_args(args: &[&str], expected: Result<(u32, u32, Schema, &str, u64), &str>) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let got = parse_args(&args)
            .map(|o| {
                (
                    o.crates,
                    o.versions_per_crate,
                    o.schema,
                    o.output.display().to_string(),
                    o.seed,
                )
            })
            .map_err(|err| format!("{err:#}"));
        let expected = expected
            .map(|(c, v, s, o, seed)| (c, v, s, o.to_owned(), seed))
            .map_err(str::to_owned);
        assert_eq!(got, expected);
    }

    #[test]
    fn flags() {
        check_args(
            &[
                "--crates",
                "5",
                "--versions-per-crate=3",
                "--schema",
                "old",
                "-o",
                "x.tar.gz",
            ],
            Ok((5, 3, Schema::Old, "x.tar.gz", 1)),
        );
        check_args(
            &[
                "--crates=2",
                "--versions-per-crate",
                "1",
                "--schema=new",
                "--output",
                "y",
                "--seed",
                "9",
            ],
            Ok((2, 1, Schema::New, "y", 9)),
        );
        check_args(
            &[
                "--crates",
                "5",
                "--versions-per-crate",
                "3",
                "--schema",
                "new",
            ],
            Err(
                "gen-dump: `-o` is required; usage: cargo xtask gen-dump --crates N \
                 --versions-per-crate M --schema old|new -o FILE [--seed S] \
                 [--timestamp RFC3339]",
            ),
        );
        check_args(
            &["--crates", "x"],
            Err("gen-dump: `--crates x` is not a whole number: invalid digit found in string"),
        );
        check_args(
            &["--schema", "mid"],
            Err("gen-dump: `--schema mid`: expected `old` or `new`"),
        );
        check_args(&["--seed"], Err("gen-dump: `--seed` needs a value"));
        check_args(
            &[
                "--crates",
                "0",
                "--versions-per-crate",
                "1",
                "--schema",
                "new",
                "-o",
                "z",
            ],
            Err("gen-dump: `--crates 0` must be between 1 and 10000000"),
        );
        let args: Vec<String> = [
            "--crates",
            "1",
            "--versions-per-crate",
            "1",
            "--schema",
            "new",
            "-o",
            "z",
            "--timestamp",
            "2025-03-04T05:06:07Z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let parsed = parse_args(&args).unwrap();
        assert_eq!(rfc3339(parsed.timestamp), "2025-03-04T05:06:07Z");
        let bad: Vec<String> = ["--timestamp", "yesterday"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let err = format!("{:#}", parse_args(&bad).unwrap_err());
        assert!(
            err.starts_with("gen-dump: `--timestamp yesterday` is not an RFC 3339 time"),
            "{err}"
        );
    }
}
