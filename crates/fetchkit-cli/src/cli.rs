//! The command line: clap types only, no behaviour.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fetchkit::mirror::{CrateSpec, DumpSource, Layout, Shard, Versions};
use fetchkit::transport::{Sha256Digest, Sha512Digest};

/// fetchkit: robust package downloads, resumed when interrupted, verified before they count.
#[derive(Debug, Parser)]
#[command(name = "fetchkit", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Download one URL to a file (or stdout), retried, resumed and verified.
    ///
    /// The file is written beside PATH under a temporary name and renamed over PATH only once
    /// the download is complete and every check passed; on failure PATH is left as it was.
    /// With `-o -` the bytes go to stdout as they arrive: a failed check still exits non-zero,
    /// but the bytes already sent cannot be taken back.
    Download(DownloadArgs),

    /// Taskcluster objects: data in a deployment's object service, verified against its hashes.
    #[command(subcommand)]
    Object(ObjectCommand),

    /// Taskcluster task artifacts, resolved through the queue.
    #[command(subcommand)]
    Artifact(ArtifactCommand),

    /// List what a registry holds, from its database dump.
    #[command(subcommand)]
    List(ListCommand),

    /// Fetch a package from its source URL into a folder, through a fetch protocol.
    ///
    /// The protocol is the one named with `--protocol`, else selected by the source (see
    /// `fetchkit protocols list --help`): a configured command run in a fresh temporary
    /// folder, or the built-in download-and-extract of a zip or `.tar.gz`. The package's root
    /// is the folder of the shallowest manifest (`--manifest`, default `Orbit.toml`) in what
    /// the protocol produced; it is moved to `--dest` in one rename, and its content checksum
    /// (Orbit's) is printed on stdout. The temporary folder is removed on every path, Ctrl-C
    /// included.
    // `--version` is the package's version here, not fetchkit's.
    #[command(disable_version_flag = true)]
    Fetch(FetchArgs),

    /// Extract a zip or `.tar.gz` archive (a file, or a URL streamed as it downloads) safely.
    ///
    /// Names that are absolute or climb out with `..`, drive letters, backslashes, devices,
    /// FIFOs and links leading outside are refused; setuid bits are dropped; limits stop
    /// archive bombs. Everything lands in a temporary folder that becomes `--dest` in one
    /// rename, so `--dest` never holds half an archive.
    Extract(ExtractArgs),

    /// Fetch protocols: the configured ones and fetchkit's own.
    #[command(subcommand)]
    Protocols(ProtocolsCommand),

    /// Cargo's registry index cache files (`registry/index/*/.cache/…`): shown, queried, built.
    #[command(subcommand)]
    Index(IndexCommand),

    /// Mirror crates into a folder that cargo builds from: a sparse registry (served by
    /// `fetchkit serve` or any static file server) or a cargo local registry.
    ///
    /// What to mirror: `--lockfile` (the registry packages of a Cargo.lock), `--crate` (with
    /// its dependencies) and `--dump` (every crate of the registry's database dump,
    /// incrementally), narrowed by `--include`, `--exclude`, `--shard`, `--versions` and
    /// `--skip-yanked`. Where from: `--index sparse+URL`, else a cargo home's own caches
    /// (`--from-cargo-home`, the default: no network at all), or with `--dump` alone the dump
    /// itself (index lines written from it, files from `--dl`). Every `.crate` file is checked against its index
    /// `cksum` before it is renamed into place and journaled, so a run stopped any way (Ctrl-C,
    /// kill -9, a failure) is resumed by the next one, which fetches nothing already verified.
    /// Index files are written last and list only the versions in place.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Mirror(MirrorArgs),

    /// Serve a mirror folder as a sparse registry over HTTP, until Ctrl-C.
    ///
    /// Cargo uses it through source replacement: `[source.crates-io] replace-with = "mirror"`
    /// and `[source.mirror] registry = "sparse+http://ADDR/index/"`. Files get an ETag and a
    /// Last-Modified date and answer conditional requests with 304; `config.json` is served
    /// with its download URL pointing at the address the request came to.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct MirrorArgs {
    #[command(subcommand)]
    pub(crate) command: Option<MirrorCommand>,

    #[command(flatten)]
    pub(crate) run: MirrorRunArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MirrorCommand {
    /// Re-hash every `.crate` file a mirror's index lists, on every core, and report what is
    /// missing, corrupt or extra; exits 1 if anything is.
    Verify(MirrorVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct MirrorRunArgs {
    /// The mirror folder; created if missing.
    #[arg(value_name = "DIR", required = true)]
    pub(crate) dir: Option<PathBuf>,

    /// Mirror the registry packages of this Cargo.lock (repeatable).
    #[arg(long, value_name = "FILE")]
    pub(crate) lockfile: Vec<PathBuf>,

    /// Mirror this crate, all versions or those matching REQ (repeatable): `serde`,
    /// `serde@1`, `tokio@>=1.40, <2`.
    #[arg(long = "crate", value_name = "NAME[@REQ]")]
    pub(crate) crates: Vec<CrateSpec>,

    /// Mirror only the `--crate` crates, not their dependencies (by default their normal and
    /// build dependencies are mirrored too, recursively, so that they build from the mirror).
    #[arg(long)]
    pub(crate) no_deps: bool,

    /// Mirror every crate the registry's database dump (a .tar.gz file or URL) lists;
    /// incremental: after a run with no failure, the next lists only crates changed since.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub(crate) dump: Option<DumpSource>,

    /// Take index files and crates from this sparse index (`sparse+http(s)://…/`).
    #[arg(long, value_name = "URL", conflicts_with = "from_cargo_home")]
    pub(crate) index: Option<String>,

    /// Take index lines and crates from a cargo home's caches, with no network [the default
    /// without --dump; DIR defaults to $CARGO_HOME, else ~/.cargo].
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "")]
    pub(crate) from_cargo_home: Option<PathBuf>,

    /// With --dump and neither --index nor --from-cargo-home, write index lines from the
    /// dump and download crates from this URL template, in config.json's `dl` syntax
    /// [default for a dump URL: BASE/crates/{crate}/{crate}-{version}.crate beside it].
    #[arg(
        long,
        value_name = "TEMPLATE",
        requires = "dump",
        conflicts_with_all = ["index", "from_cargo_home"]
    )]
    pub(crate) dl: Option<String>,

    /// Which versions of each `--crate` and dumped crate to mirror: `all`, `latest` or
    /// `latest-N` (lock file pins are always mirrored).
    #[arg(long, value_name = "WHICH", default_value = "all")]
    pub(crate) versions: Versions,

    /// Leave out yanked versions of `--crate` and dumped crates.
    #[arg(long)]
    pub(crate) skip_yanked: bool,

    /// Only crates whose name matches this glob (repeatable; case-insensitive).
    #[arg(long, value_name = "GLOB")]
    pub(crate) include: Vec<String>,

    /// Leave out crates whose name matches this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,

    /// Only the crates of share I of N (1-based), by a stable hash of the name, so that N
    /// machines split one mirror.
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<Shard>,

    /// Where `.crate` files go: `sparse` (crates/PREFIX/NAME/NAME-VERSION.crate) or
    /// `local-registry` (NAME-VERSION.crate at the top: also a cargo local registry).
    #[arg(long, value_name = "LAYOUT", default_value = "sparse")]
    pub(crate) layout: Layout,

    /// The URL the folder will be served at, for `index/config.json` (`fetchkit serve`
    /// rewrites the address to its own).
    #[arg(long, value_name = "URL", default_value = fetchkit::mirror::DEFAULT_BASE_URL)]
    pub(crate) base_url: String,

    /// Files fetched at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = fetchkit::mirror::DEFAULT_JOBS)]
    pub(crate) jobs: usize,

    /// Go on past failures (the exit code is still 1, and the next run retries them).
    #[arg(long)]
    pub(crate) keep_going: bool,

    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub(crate) struct MirrorVerifyArgs {
    /// The mirror folder.
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,

    /// Threads hashing at once [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub(crate) jobs: Option<usize>,

    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The mirror folder.
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,

    /// The address to listen on.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    pub(crate) addr: std::net::SocketAddr,
}

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// Where the package comes from: a URL, or whatever a configured protocol understands.
    #[arg(value_name = "SOURCE_URL")]
    pub(crate) source: String,

    /// The folder to create for the package; it must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub(crate) dest: PathBuf,

    /// Use this protocol instead of selecting one by the source.
    #[arg(long, value_name = "NAME")]
    pub(crate) protocol: Option<String>,

    /// The package's name, for `{{ fetchkit.pkg.name }}`.
    #[arg(long, value_name = "N")]
    pub(crate) name: Option<String>,

    /// The package's version or tag, for `{{ fetchkit.pkg.version }}`.
    #[arg(long, value_name = "V")]
    pub(crate) version: Option<String>,

    /// The SHA-256 the downloaded archive must have (built-in protocols).
    #[arg(long, value_name = "HEX")]
    pub(crate) sha256: Option<Sha256Digest>,

    /// The content checksum the package must have (as printed by a previous fetch).
    #[arg(long, value_name = "HEX", value_parser = checksum)]
    pub(crate) checksum: Option<String>,

    /// The manifest's file name, which marks the package's root.
    #[arg(long, value_name = "NAME", default_value = "Orbit.toml")]
    pub(crate) manifest: String,

    /// A configuration file read before all others.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Seconds a command protocol may run before it is killed; default: the protocol's
    /// `timeout`, else 1800.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub(crate) timeout: Option<Duration>,

    #[command(flatten)]
    pub(crate) limits: LimitArgs,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ExtractArgs {
    /// The archive: a file, or an http(s) URL. `.tar.gz`, `.tgz` and `.crate` are gzip
    /// tarballs; anything else is taken for a zip.
    #[arg(value_name = "ARCHIVE_OR_URL")]
    pub(crate) archive: String,

    /// The folder to create; it must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub(crate) dest: PathBuf,

    /// The SHA-256 a downloaded archive must have.
    #[arg(long, value_name = "HEX")]
    pub(crate) sha256: Option<Sha256Digest>,

    #[command(flatten)]
    pub(crate) limits: LimitArgs,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

/// Limits on what an archive may unpack to.
#[derive(Debug, Args)]
pub(crate) struct LimitArgs {
    /// Most bytes of file contents an archive may unpack to.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 30)]
    pub(crate) max_unpacked_bytes: u64,

    /// Most entries (files, folders, links) an archive may hold.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub(crate) max_entries: u64,

    /// Highest ratio of unpacked to compressed bytes, checked past the first 16 MiB.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub(crate) max_ratio: u64,
}

/// A content checksum: 64 hex digits, any case.
fn checksum(text: &str) -> Result<String, String> {
    if text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!("expected 64 hex digits, got {text:?}"))
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProtocolsCommand {
    /// List the protocols in the order selection tries them, with where each was defined.
    ///
    /// Configuration is read from `--config FILE`, then `.fetchkit/config.toml` in the current
    /// folder and each ancestor (nearest first), then the user's file (`$FETCHKIT_HOME/
    /// config.toml`, else `$XDG_CONFIG_HOME/fetchkit/config.toml` or `~/.config/fetchkit/
    /// config.toml`) and the files its `include` lists, in that order. The first definition of
    /// a name wins. A source gets the protocol named with `--protocol`; else the first whose
    /// `patterns` match it; else the first without `patterns`; else the built-in one for its
    /// kind of archive.
    List(ProtocolsListArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ProtocolsListArgs {
    /// A configuration file read before all others.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum IndexCommand {
    /// Show a cache file's header and versions; yanked versions and unreadable index lines
    /// are marked.
    Show(IndexShowArgs),

    /// Print the relative path of a crate's index file (the same path names its cache file).
    Path(IndexPathArgs),

    /// Print the newest version in a cache file that matches a requirement, skipping yanked
    /// versions unless `--yanked`; exit 1 when none matches.
    Query(IndexQueryArgs),

    /// Build a cache file from an index file (one JSON line per version), as cargo writes it:
    /// lines without a `name` and a semver `vers` are skipped with a warning.
    Build(IndexBuildArgs),

    /// Fetch crates' index files from a sparse registry into a folder laid out like cargo's
    /// `.cache`, conditionally: a crate whose cache file is current costs a `304` and its file
    /// is left as it is; a crate the registry does not have (404, 410, 451) loses its file.
    /// A folder inside a cargo home (`HOME/registry/index/NAME/.cache`) is written under
    /// cargo's package-cache lock.
    Fetch(IndexFetchArgs),

    /// Fill cargo's own index cache for a sparse registry, so that a following
    /// `cargo generate-lockfile --offline` (or any offline resolve) finds every crate it needs.
    ///
    /// The registry's folder in the cargo home is the one cargo 1.85 and later computes for
    /// the URL (`registry/index/<host>-<hash>`, worked out the same way, not searched for).
    /// Cargo's package-cache lock is held while files are fetched and written, as cargo holds
    /// it; a running cargo that holds it is waited for. With crate names, every crate their
    /// versions depend on is fetched too; with `--lockfile`, exactly the lock file's packages.
    Warm(IndexWarmArgs),
}

#[derive(Debug, Args)]
pub(crate) struct IndexWarmArgs {
    /// The registry's sparse index, as cargo's configuration spells it:
    /// `sparse+https://HOST/PATH/`.
    #[arg(long, value_name = "sparse+URL")]
    pub(crate) index: String,

    /// The cargo home to fill [default: $CARGO_HOME, else ~/.cargo].
    #[arg(long, value_name = "DIR")]
    pub(crate) cargo_home: Option<PathBuf>,

    /// Warm the crates a lock file names: those locked to this registry, or, when none is and
    /// the lock file names a single registry, that registry's (this one replacing it).
    #[arg(long, value_name = "Cargo.lock", conflicts_with_all = ["crates", "no_deps"])]
    pub(crate) lockfile: Option<PathBuf>,

    /// Only the crates named, not their dependencies.
    #[arg(long)]
    pub(crate) no_deps: bool,

    /// Index files fetched at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(crate) jobs: usize,

    /// The crates.
    #[arg(value_name = "CRATE", required_unless_present = "lockfile")]
    pub(crate) crates: Vec<String>,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub(crate) struct IndexFetchArgs {
    /// The registry's sparse index, as cargo spells it: `sparse+https://HOST/PATH/`.
    #[arg(long, value_name = "sparse+URL")]
    pub(crate) index: String,

    /// The cache folder (cargo's is `registry/index/<registry>/.cache`).
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: PathBuf,

    /// Index files fetched at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(crate) jobs: usize,

    /// The crates.
    #[arg(value_name = "CRATE", required = true)]
    pub(crate) crates: Vec<String>,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub(crate) struct IndexShowArgs {
    /// The cache file.
    #[arg(value_name = "CACHE_FILE")]
    pub(crate) cache_file: PathBuf,

    /// One JSON object instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct IndexPathArgs {
    /// The crate's name (any case).
    #[arg(value_name = "CRATE")]
    pub(crate) name: String,
}

#[derive(Debug, Args)]
pub(crate) struct IndexQueryArgs {
    /// The cache file.
    #[arg(value_name = "CACHE_FILE")]
    pub(crate) cache_file: PathBuf,

    /// A semver requirement, as in `Cargo.toml` (`1.2`, `^1.2.3`, `>=1, <3`, `*`).
    #[arg(value_name = "REQ")]
    pub(crate) requirement: String,

    /// Consider yanked versions too.
    #[arg(long)]
    pub(crate) yanked: bool,
}

#[derive(Debug, Args)]
pub(crate) struct IndexBuildArgs {
    /// The index file: one JSON line per version, as a registry serves it.
    #[arg(value_name = "INDEX_FILE")]
    pub(crate) index_file: PathBuf,

    /// The index version to record: `etag: "…"`, `last-modified: …`, `Unknown`, or a git
    /// object id.
    #[arg(long, value_name = "STR")]
    pub(crate) index_version: String,

    /// The cache file to write (replaced atomically).
    #[arg(short, long, value_name = "CACHE_FILE")]
    pub(crate) output: PathBuf,

    /// Print errors only, not the lines skipped.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ListCommand {
    /// List crates and their versions from a Rust registry database dump, incrementally.
    ///
    /// With `--state`, only crates updated since the dump the last complete run listed (minus
    /// `--overlap`) are listed, and the state is advanced only once the output is completely
    /// written: a failed run leaves it as it was, so the next run lists those crates again.
    Crates(ListCratesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ListCratesArgs {
    /// The dump (`db-dump.tar.gz`): an http or https URL, or a local file.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub(crate) dump: String,

    /// The state file of incremental runs: read before listing (a missing file is a first
    /// run), replaced once the output is written.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,

    /// Crates updated up to this long before the last listed dump are listed again: `1h`,
    /// `30m`, `90s`, `2d` or `0` [default: 1h].
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) overlap: Option<Duration>,

    /// The crate files' URL template (`{crate}`, `{version}`, `{prefix}`, `{lowerprefix}`,
    /// `{sha256-checksum}`); derived from a dump URL when not given.
    #[arg(long, value_name = "TEMPLATE")]
    pub(crate) crate_file_template: Option<String>,

    /// The origins' URL template (`{crate}`); derived from a dump URL when not given.
    #[arg(long, value_name = "TEMPLATE")]
    pub(crate) origin_template: Option<String>,

    /// What each output line is: an origin object, or a page (the JSON array of a crate's
    /// version lines).
    #[arg(long, value_enum, default_value_t = ListFormat::Jsonl)]
    pub(crate) format: ListFormat,

    /// Where to write the listing, replaced atomically once complete; stdout when not given
    /// (or `-`).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

/// The output format of `fetchkit list crates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListFormat {
    /// One origin object per line.
    Jsonl,
    /// One page (the JSON array of a crate's version lines) per line.
    Pages,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ObjectCommand {
    /// Download one object to a file (or stdout), verified against the object's hashes.
    ///
    /// The object service names a URL and the object's hashes; the data is fetched, retried
    /// and resumed like `fetchkit download`, and PATH is replaced only once every hash the
    /// service gave matched.
    Download(ObjectDownloadArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ArtifactCommand {
    /// Download one task artifact to a file (or stdout).
    ///
    /// The queue says how the artifact is stored: `object` artifacts are verified against the
    /// object's hashes; `s3` and `reference` artifacts have no hashes, so their bytes are
    /// checked for completeness only; an `error` artifact fails with the worker's reason.
    Download(ArtifactDownloadArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// The http or https URL to download.
    pub(crate) url: String,

    /// Where to write the file; `-` streams to stdout (write `./-` for a file named `-`).
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: PathBuf,

    /// Expected SHA-256 of the content, in hex; a mismatch fails the download.
    #[arg(long, value_name = "HEX")]
    pub(crate) sha256: Option<Sha256Digest>,

    /// Expected SHA-512 of the content, in hex; computed only when given.
    #[arg(long, value_name = "HEX")]
    pub(crate) sha512: Option<Sha512Digest>,

    /// Expected size of the content in bytes; a mismatch fails the download.
    #[arg(long, value_name = "BYTES")]
    pub(crate) size: Option<u64>,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

/// How a transfer is carried out and reported, the same for every command that downloads.
#[derive(Debug, Args)]
pub(crate) struct TransferArgs {
    /// Retries after the first attempt for transient failures (5xx, resets, stalls).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) retries: u32,

    /// Seconds a connection may take to establish (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub(crate) connect_timeout: Duration,

    /// Seconds without data (headers or body) before an attempt counts as stalled.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    pub(crate) read_timeout: Duration,

    /// Print nothing but errors: no progress bar, no summary, no retry warnings.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ObjectDownloadArgs {
    /// The object's name.
    pub(crate) name: String,

    /// Where to write the data; `-` streams to stdout (write `./-` for a file named `-`).
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: PathBuf,

    #[command(flatten)]
    pub(crate) deployment: DeploymentArgs,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ArtifactDownloadArgs {
    /// The task whose artifact to download.
    pub(crate) task_id: String,

    /// The artifact's name, such as `public/build/target.tar.gz`.
    pub(crate) name: String,

    /// The run whose artifact to download; the task's latest run when not given.
    #[arg(long, value_name = "N")]
    pub(crate) run_id: Option<u32>,

    /// Where to write the data; `-` streams to stdout (write `./-` for a file named `-`).
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: PathBuf,

    /// Refuse `reference` artifacts, whose URL the task chose and which may point anywhere.
    #[arg(long)]
    pub(crate) no_reference: bool,

    #[command(flatten)]
    pub(crate) deployment: DeploymentArgs,

    #[command(flatten)]
    pub(crate) transfer: TransferArgs,
}

/// Which Taskcluster deployment to talk to. Credentials come only from the environment
/// (`TASKCLUSTER_CLIENT_ID`, `TASKCLUSTER_ACCESS_TOKEN`, `TASKCLUSTER_CERTIFICATE`), never
/// from flags, which other users can read in the process list.
#[derive(Debug, Args)]
pub(crate) struct DeploymentArgs {
    /// The deployment's root URL, such as `https://tc.example.com`; defaults to
    /// `TASKCLUSTER_ROOT_URL`.
    #[arg(long, value_name = "URL")]
    pub(crate) root_url: Option<String>,
}

impl Cli {
    /// Whether the command asked for errors only.
    pub(crate) fn quiet(&self) -> bool {
        let transfer = match &self.command {
            Command::Download(args) => &args.transfer,
            Command::Object(ObjectCommand::Download(args)) => &args.transfer,
            Command::Artifact(ArtifactCommand::Download(args)) => &args.transfer,
            Command::List(ListCommand::Crates(args)) => &args.transfer,
            Command::Index(IndexCommand::Build(args)) => return args.quiet,
            Command::Index(IndexCommand::Fetch(args)) => &args.transfer,
            Command::Index(IndexCommand::Warm(args)) => &args.transfer,
            Command::Fetch(args) => &args.transfer,
            Command::Extract(args) => &args.transfer,
            Command::Mirror(args) => &args.run.transfer,
            Command::Index(_) | Command::Protocols(_) | Command::Serve(_) => return false,
        };
        transfer.quiet
    }
}

/// A positive number of seconds, fractions allowed: `10`, `0.3`.
fn seconds(text: &str) -> Result<Duration, String> {
    let invalid =
        || format!("expected a positive number of seconds (like 10 or 0.5), got {text:?}");
    let value: f64 = text.trim().parse().map_err(|_| invalid())?;
    if value <= 0.0 {
        return Err(invalid());
    }
    // Rejects NaN, infinity and values too large for a `Duration`.
    Duration::try_from_secs_f64(value).map_err(|_| invalid())
}

/// A whole number of seconds, minutes, hours or days: `90s`, `30m`, `1h`, `2d`, or `0`.
fn duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("expected a duration like 1h, 30m, 90s or 0, got {text:?}");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let (number, unit) = match text.char_indices().last() {
        Some((at, unit)) => (&text[..at], unit),
        None => return Err(invalid()),
    };
    let unit: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return Err(invalid()),
    };
    if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    let number: u64 = number.parse().map_err(|_| invalid())?;
    number
        .checked_mul(unit)
        .map(Duration::from_secs)
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<Duration>) {
        assert_eq!(seconds(text).ok(), expected, "{text:?}");
    }

    #[test]
    fn seconds_parse() {
        check("10", Some(Duration::from_secs(10)));
        check("0.3", Some(Duration::from_millis(300)));
        check(" 1.5 ", Some(Duration::from_millis(1500)));
        check("1e-3", Some(Duration::from_millis(1)));
        check("0", None);
        check("-1", None);
        check("NaN", None);
        check("inf", None);
        check("1e300", None);
        check("", None);
        check("10s", None);
    }

    #[track_caller]
    fn check_duration(text: &str, expected: Option<u64>) {
        assert_eq!(
            duration(text).ok(),
            expected.map(Duration::from_secs),
            "{text:?}"
        );
    }

    #[test]
    fn duration_parse() {
        check_duration("0", Some(0));
        check_duration("0s", Some(0));
        check_duration("90s", Some(90));
        check_duration("30m", Some(1800));
        check_duration("1h", Some(3600));
        check_duration("2d", Some(172_800));
        check_duration("", None);
        check_duration("h", None);
        check_duration("1", None);
        check_duration("10", None);
        check_duration("1.5h", None);
        check_duration("-1h", None);
        check_duration("+1h", None);
        check_duration("1 h", None);
        check_duration(" 1h", None);
        check_duration("1H", None);
        check_duration("1w", None);
        check_duration("1hé", None);
        check_duration("é", None);
        check_duration("99999999999999999999s", None);
        check_duration("999999999999999999d", None);
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
