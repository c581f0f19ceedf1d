//! `fetchkit protocols …`: the fetch protocols the configuration defines.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fetchkit::protocols::{Builtin, Config, ConfigSources};

use crate::cli::ProtocolsListArgs;

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
