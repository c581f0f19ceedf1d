//! `fetchkit fetch`, `fetchkit extract` and `fetchkit protocols …`: packages fetched through
//! the configured protocols, archives extracted safely.

use std::future::Future;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use fetchkit::protocols::{
    Builtin, CancellationToken, Config, ConfigSources, Extracted, FetchError, FetchRequest,
    Fetcher, Limits, unpack_file,
};
use sha2::Digest as _;

use crate::cli::{ExtractArgs, FetchArgs, LimitArgs, ProtocolsListArgs};
use crate::transfer;

/// `fetchkit fetch`: the package's content checksum on stdout, a summary on stderr.
pub(crate) async fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let config = Config::load(&sources(args.config)?)?;
    let cancel = CancellationToken::new();
    let mut fetcher = Fetcher::new(
        config,
        transfer::client_builder(&args.transfer).build()?,
        transfer::retry(&args.transfer),
    )
    .limits(limits(&args.limits))
    .cancel_token(cancel.clone());
    if !args.transfer.quiet {
        // A command protocol's own output (git's progress, say) goes to stderr: stdout is for
        // the checksum.
        fetcher = fetcher.output(Arc::new(|piece: &[u8]| {
            let _ = std::io::stderr().write_all(piece);
        }));
    }
    if let Some(timeout) = args.timeout {
        fetcher = fetcher.timeout(timeout);
    }
    let mut request = FetchRequest::new(&args.source, &args.dest).manifest(&args.manifest);
    if let Some(protocol) = args.protocol {
        request = request.protocol(protocol);
    }
    if let Some(name) = args.name {
        request = request.name(name);
    }
    if let Some(version) = args.version {
        request = request.version(version);
    }
    if let Some(digest) = args.sha256 {
        request = request.sha256(digest);
    }
    if let Some(checksum) = args.checksum {
        request = request.checksum(checksum);
    }
    let fetched = until_interrupted(&cancel, fetcher.fetch(&request)).await?;
    if !args.transfer.quiet {
        eprintln!(
            "fetched {} with protocol {} into {} (package root: {})",
            args.source,
            fetched.protocol,
            fetched.dest.display(),
            fetched.package_root.display()
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", fetched.checksum)?;
    out.flush()?;
    Ok(())
}

/// `fetchkit extract`: a summary on stderr.
pub(crate) async fn extract(args: ExtractArgs) -> anyhow::Result<()> {
    let cancel = CancellationToken::new();
    let limits = limits(&args.limits);
    let is_url = ["http://", "https://"]
        .iter()
        .any(|scheme| args.archive.starts_with(scheme));
    let unpacked = if is_url {
        let fetcher = Fetcher::new(
            Config::default(),
            transfer::client_builder(&args.transfer).build()?,
            transfer::retry(&args.transfer),
        )
        .limits(limits)
        .cancel_token(cancel.clone());
        until_interrupted(
            &cancel,
            fetcher.unpack(&args.archive, args.sha256, &args.dest),
        )
        .await?
    } else {
        let archive = PathBuf::from(&args.archive);
        if let Some(expected) = args.sha256 {
            let actual = tokio::task::spawn_blocking({
                let archive = archive.clone();
                move || sha256_of(&archive)
            })
            .await??;
            if actual != expected.to_string() {
                bail!(
                    "{}: sha256 mismatch: expected {expected}, got {actual}",
                    archive.display()
                );
            }
        }
        let dest = args.dest.clone();
        let token = cancel.clone();
        let work =
            tokio::task::spawn_blocking(move || unpack_file(&archive, &dest, limits, &token));
        until_interrupted(&cancel, async {
            work.await.map_err(|join| FetchError::Io {
                path: PathBuf::from(&args.archive),
                source: std::io::Error::other(join.to_string()),
            })?
        })
        .await?
    };
    if !args.transfer.quiet {
        let Extracted {
            files,
            folders,
            links,
            bytes,
            ..
        } = unpacked.extracted;
        eprintln!(
            "extracted {files} files, {folders} folders, {links} links ({bytes} bytes) into {}",
            args.dest.display()
        );
    }
    Ok(())
}

/// Runs `work` to its end; Ctrl-C cancels it, and it then cleans up and ends with
/// [`FetchError::Interrupted`].
async fn until_interrupted<T>(
    cancel: &CancellationToken,
    work: impl Future<Output = Result<T, FetchError>>,
) -> Result<T, FetchError> {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        result = &mut work => result,
        Ok(()) = tokio::signal::ctrl_c() => {
            cancel.cancel();
            work.await
        }
    }
}

fn limits(args: &LimitArgs) -> Limits {
    Limits::default()
        .with_max_unpacked_bytes(args.max_unpacked_bytes)
        .with_max_entries(args.max_entries)
        .with_max_ratio(args.max_ratio)
}

fn sha256_of(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The configuration layers for this process: `--config`, the project's files from the
/// current folder up, and the user's file.
fn sources(explicit: Option<PathBuf>) -> anyhow::Result<ConfigSources> {
    let here = std::env::current_dir().context("cannot read the current folder")?;
    Ok(ConfigSources {
        explicit,
        project: ConfigSources::project_files(&here),
        user: user_config(),
    })
}

/// `$FETCHKIT_HOME/config.toml`, else the platform's configuration folder: `$XDG_CONFIG_HOME`
/// or `~/.config` on Linux and the BSDs, `~/Library/Application Support` on macOS,
/// `%APPDATA%` on Windows, each with `fetchkit/config.toml`.
fn user_config() -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(home) = set("FETCHKIT_HOME") {
        return Some(Path::new(&home).join("config.toml"));
    }
    let folder = if cfg!(windows) {
        PathBuf::from(set("APPDATA")?)
    } else if cfg!(target_os = "macos") {
        std::env::home_dir()?.join("Library/Application Support")
    } else {
        match set("XDG_CONFIG_HOME") {
            Some(folder) => PathBuf::from(folder),
            None => std::env::home_dir()?.join(".config"),
        }
    };
    Some(folder.join("fetchkit").join("config.toml"))
}

/// `fetchkit protocols list`: one line per protocol, in the order selection tries them.
pub(crate) fn list(args: ProtocolsListArgs) -> anyhow::Result<()> {
    let config = Config::load(&sources(args.config)?)?;
    let mut rows: Vec<[String; 4]> = config
        .protocols()
        .iter()
        .map(|protocol| {
            let patterns = match &protocol.patterns {
                None => "(any URL)".to_owned(),
                Some(patterns) if patterns.is_empty() => "(no URL)".to_owned(),
                Some(patterns) => patterns.join(" "),
            };
            [
                protocol.name.clone(),
                patterns,
                protocol.defined_in.display().to_string(),
                protocol.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    for builtin in Builtin::ALL {
        rows.push([
            builtin.name().to_owned(),
            "(fallback)".to_owned(),
            "built in".to_owned(),
            builtin.description().to_owned(),
        ]);
    }
    let width = |column: usize| rows.iter().map(|row| row[column].len()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2)];
    let mut out = std::io::stdout().lock();
    for [name, patterns, place, description] in &rows {
        let line = format!(
            "{name:<0$}  {patterns:<1$}  {place:<2$}  {description}",
            widths[0], widths[1], widths[2]
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    out.flush()?;
    Ok(())
}
