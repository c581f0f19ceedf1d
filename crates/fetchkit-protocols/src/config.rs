//! `[[protocol]]` entries from layered TOML files, and which one a source URL gets.

use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::ConfigError;

/// The protocols built into fetchkit, used when no configured protocol takes a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Builtin {
    /// Download over HTTP, then extract a zip archive (Orbit's standard protocol).
    Standard,
    /// Download over HTTP, then extract a gzipped tar archive (`.tar.gz`, `.tgz`, `.crate`).
    Tarball,
}

impl Builtin {
    /// Every built-in protocol.
    pub const ALL: [Builtin; 2] = [Builtin::Standard, Builtin::Tarball];

    /// The name it is selected by.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Standard => "standard",
            Builtin::Tarball => "tarball",
        }
    }

    /// What it does, for `fetchkit protocols list`.
    pub fn description(self) -> &'static str {
        match self {
            Builtin::Standard => "download over HTTP and extract the zip archive",
            Builtin::Tarball => "download over HTTP and extract the .tar.gz (or .crate) archive",
        }
    }

    /// The built-in a source falls back to: the tarball one for URLs ending in `.tar.gz`,
    /// `.tgz` or `.crate` (query and fragment aside), the standard one otherwise.
    pub fn for_source(source: &str) -> Builtin {
        let path = source.split(['?', '#']).next().unwrap_or(source);
        let tarball = [".tar.gz", ".tgz", ".crate"]
            .iter()
            .any(|suffix| path.to_ascii_lowercase().ends_with(suffix));
        if tarball {
            Builtin::Tarball
        } else {
            Builtin::Standard
        }
    }

    fn named(name: &str) -> Option<Builtin> {
        Builtin::ALL
            .into_iter()
            .find(|builtin| builtin.name() == name)
    }
}

/// A protocol defined in a configuration file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Protocol {
    /// The name it is selected by.
    pub name: String,
    /// What it does (`description`, or Orbit's `summary`).
    pub description: Option<String>,
    /// Globs over the whole source URL; `None` (the key missing) matches every URL, an empty
    /// list none.
    pub patterns: Option<Vec<String>>,
    /// The program and its arguments, before substitution.
    pub command: Vec<String>,
    /// The file that defined it.
    pub defined_in: PathBuf,
    /// Its time limit (`timeout`, a fetchkit key: seconds, or a number with `s`, `m` or `h`).
    pub timeout: Option<Duration>,
    matcher: Option<GlobSet>,
}

impl Protocol {
    /// Whether one of its patterns matches `source`; `false` for a protocol without patterns
    /// (it is a catch-all, chosen only when no pattern matches anywhere).
    pub fn matches(&self, source: &str) -> bool {
        self.matcher
            .as_ref()
            .is_some_and(|matcher| matcher.is_match(source))
    }
}

/// The protocol a source gets.
#[derive(Debug, Clone, Copy)]
pub enum Selected<'a> {
    /// One from the configuration.
    Configured(&'a Protocol),
    /// One built into fetchkit.
    Builtin(Builtin),
}

impl Selected<'_> {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Selected::Configured(protocol) => &protocol.name,
            Selected::Builtin(builtin) => builtin.name(),
        }
    }
}

/// Where configuration comes from, highest precedence first. The caller finds the files
/// (the library reads no environment): see [`ConfigSources::project_files`].
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// A file given explicitly (`--config`); it must exist.
    pub explicit: Option<PathBuf>,
    /// Project files, nearest first (`.fetchkit/config.toml` in the current folder and each
    /// ancestor that has one).
    pub project: Vec<PathBuf>,
    /// The user's file; it may be missing. Only it may `include` others, which follow it in
    /// the order listed.
    pub user: Option<PathBuf>,
}

impl ConfigSources {
    /// The `.fetchkit/config.toml` files of `folder` and its ancestors that exist, nearest
    /// first.
    pub fn project_files(folder: &Path) -> Vec<PathBuf> {
        folder
            .ancestors()
            .map(|folder| folder.join(".fetchkit").join("config.toml"))
            .filter(|path| path.is_file())
            .collect()
    }
}

/// Every protocol the configuration defines, in precedence then declaration order, the first
/// definition of each name only.
#[derive(Debug, Clone, Default)]
pub struct Config {
    protocols: Vec<Protocol>,
    default_protocol: Option<(String, PathBuf)>,
}

impl Config {
    /// Reads the files of `sources` in precedence order.
    pub fn load(sources: &ConfigSources) -> Result<Config, ConfigError> {
        let mut files: Vec<(PathBuf, File)> = Vec::new();
        if let Some(path) = &sources.explicit {
            files.push((path.clone(), File::read(path, Role::Other)?));
        }
        for path in &sources.project {
            files.push((path.clone(), File::read(path, Role::Other)?));
        }
        if let Some(path) = sources.user.as_ref().filter(|path| path.exists()) {
            let user = File::read(path, Role::User)?;
            let folder = path.parent().unwrap_or(Path::new("."));
            let mut included: Vec<PathBuf> = Vec::new();
            for include in &user.include {
                let include = folder.join(include);
                if included.contains(&include) {
                    continue;
                }
                included.push(include);
            }
            files.push((path.clone(), user));
            for include in included {
                let file = File::read(&include, Role::Included { by: path })?;
                files.push((include, file));
            }
        }
        let mut config = Config::default();
        for (path, file) in files {
            config.add(&path, file)?;
        }
        Ok(config)
    }

    /// The configuration of one file's text, as if `defined_in` held it (the name errors and
    /// `fetchkit protocols list` give); `include` is not allowed.
    pub fn from_toml(text: &str, defined_in: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        config.add(defined_in, File::parse(text, defined_in, Role::Other)?)?;
        Ok(config)
    }

    /// Adds a file's protocols after those already there, skipping names already defined.
    fn add(&mut self, path: &Path, file: File) -> Result<(), ConfigError> {
        if self.default_protocol.is_none()
            && let Some(name) = file.install.and_then(|install| install.default_protocol)
        {
            self.default_protocol = Some((name, path.to_owned()));
        }
        for raw in file.protocol {
            if self.protocols.iter().any(|known| known.name == raw.name) {
                continue;
            }
            self.protocols.push(raw.build(path)?);
        }
        Ok(())
    }

    /// The protocols, in the order selection tries them.
    pub fn protocols(&self) -> &[Protocol] {
        &self.protocols
    }

    /// The protocol named `name`, configured or built in.
    pub fn get(&self, name: &str) -> Option<Selected<'_>> {
        match self.protocols.iter().find(|protocol| protocol.name == name) {
            Some(protocol) => Some(Selected::Configured(protocol)),
            None => Builtin::named(name).map(Selected::Builtin),
        }
    }

    /// The protocol for `source`: the one named `explicit` if given; else the configuration's
    /// `[install] default-protocol` when it has no patterns or one matches; else the first
    /// protocol whose patterns match; else the first without a `patterns` key; else the
    /// built-in one for the URL ([`Builtin::for_source`]). The order is precedence, then
    /// declaration, so the answer is the same on every run.
    pub fn select(
        &self,
        source: &str,
        explicit: Option<&str>,
    ) -> Result<Selected<'_>, ConfigError> {
        if let Some(name) = explicit {
            return self.get(name).ok_or_else(|| ConfigError::NoSuchProtocol {
                name: name.to_owned(),
                known: self.names(),
            });
        }
        if let Some((name, path)) = &self.default_protocol {
            match self.get(name) {
                None => {
                    return Err(ConfigError::NoSuchDefault {
                        name: name.clone(),
                        path: path.clone(),
                    });
                }
                Some(Selected::Configured(protocol))
                    if protocol.patterns.is_some() && !protocol.matches(source) => {}
                Some(selected) => return Ok(selected),
            }
        }
        let chosen = self
            .protocols
            .iter()
            .find(|protocol| protocol.matches(source))
            .or_else(|| {
                self.protocols
                    .iter()
                    .find(|protocol| protocol.patterns.is_none())
            });
        Ok(match chosen {
            Some(protocol) => Selected::Configured(protocol),
            None => Selected::Builtin(Builtin::for_source(source)),
        })
    }

    fn names(&self) -> String {
        let mut names: Vec<&str> = self
            .protocols
            .iter()
            .map(|protocol| protocol.name.as_str())
            .collect();
        for builtin in Builtin::ALL {
            names.push(builtin.name());
        }
        names.join(", ")
    }
}

/// Which file of the layers is being read: only the user's may `include`.
#[derive(Debug, Clone, Copy)]
enum Role<'a> {
    User,
    Included { by: &'a Path },
    Other,
}

/// One configuration file. Tables fetchkit does not use (`[env]`, `[[target]]`,
/// `[[channel]]` and the rest of an Orbit configuration) are ignored, so Orbit's files work as
/// they are; inside `[[protocol]]` every key is known or an error.
#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    protocol: Vec<RawProtocol>,
    #[serde(default)]
    install: Option<Install>,
}

#[derive(Debug, Deserialize)]
struct Install {
    #[serde(default, rename = "default-protocol")]
    default_protocol: Option<String>,
}

impl File {
    fn read(path: &Path, role: Role<'_>) -> Result<File, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| match role {
            Role::Included { by } => ConfigError::Include {
                path: path.to_owned(),
                by: by.to_owned(),
                source,
            },
            _ => ConfigError::Read {
                path: path.to_owned(),
                source,
            },
        })?;
        File::parse(&text, path, role)
    }

    fn parse(text: &str, path: &Path, role: Role<'_>) -> Result<File, ConfigError> {
        let file: File = toml::from_str(text).map_err(|error| ConfigError::Invalid {
            path: path.to_owned(),
            at: error.span().map(|span| line_column(text, span.start)),
            message: error.message().trim().to_owned(),
        })?;
        if !file.include.is_empty() && !matches!(role, Role::User) {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                at: None,
                message: "`include` is allowed only in the user's configuration file".into(),
            });
        }
        Ok(file)
    }
}

/// 1-based line and column of byte `at` in `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    (line, column)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    name: String,
    #[serde(default, alias = "summary")]
    description: Option<String>,
    #[serde(default)]
    patterns: Option<Vec<String>>,
    command: Command,
    #[serde(default)]
    args: Option<Vec<String>>,
    #[serde(default)]
    timeout: Option<Timeout>,
}

/// A time limit as written: `90` (seconds) or `"90s"`, `"10m"`, `"1.5h"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Timeout {
    Seconds(f64),
    Text(String),
}

impl Timeout {
    fn duration(&self) -> Result<Duration, String> {
        let (number, unit) = match self {
            Timeout::Seconds(seconds) => (*seconds, 1.0),
            Timeout::Text(text) => {
                let text = text.trim();
                let (number, unit) = match text.char_indices().last() {
                    Some((at, 's')) => (&text[..at], 1.0),
                    Some((at, 'm')) => (&text[..at], 60.0),
                    Some((at, 'h')) => (&text[..at], 3600.0),
                    _ => (text, 1.0),
                };
                let number = number.trim().parse::<f64>().map_err(|_| {
                    format!("`timeout` {text:?} is not like 90, \"90s\", \"10m\" or \"1h\"")
                })?;
                (number, unit)
            }
        };
        Duration::try_from_secs_f64(number * unit)
            .ok()
            .filter(|duration| !duration.is_zero())
            .ok_or_else(|| "`timeout` must be a positive time".to_owned())
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Command {
    Line(String),
    Words(Vec<String>),
}

impl RawProtocol {
    fn build(self, path: &Path) -> Result<Protocol, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            at: None,
            message: format!("protocol `{}`: {message}", self.name),
        };
        if self.name.trim().is_empty() {
            return Err(invalid("`name` cannot be empty".into()));
        }
        // With `args` (Orbit 0.22), `command` is the program as written, spaces and all;
        // without (later Orbit), a string is split on spaces, keeping each `{{ … }}` whole.
        let mut command = match (&self.command, &self.args) {
            (Command::Line(program), Some(_)) => vec![program.clone()],
            (Command::Line(line), None) => split_command(line),
            (Command::Words(words), _) => words.clone(),
        };
        command.extend(self.args.iter().flatten().cloned());
        if command
            .first()
            .is_none_or(|program| program.trim().is_empty())
        {
            return Err(invalid("`command` cannot be empty".into()));
        }
        let matcher = match &self.patterns {
            None => None,
            Some(patterns) => {
                let mut set = GlobSetBuilder::new();
                for pattern in patterns {
                    // `*` crosses `/`, as Orbit's globs do: `*.git` matches a whole URL.
                    let glob = GlobBuilder::new(pattern)
                        .literal_separator(false)
                        .build()
                        .map_err(|error| invalid(format!("pattern {pattern:?}: {error}")))?;
                    set.add(glob);
                }
                Some(set.build().map_err(|error| invalid(error.to_string()))?)
            }
        };
        let timeout = self
            .timeout
            .as_ref()
            .map(Timeout::duration)
            .transpose()
            .map_err(invalid)?;
        Ok(Protocol {
            name: self.name,
            description: self.description,
            patterns: self.patterns,
            command,
            defined_in: path.to_owned(),
            timeout,
            matcher,
        })
    }
}

/// Splits a command line on whitespace, except inside `{{ … }}`, so that
/// `git clone {{ orbit.ip.source }}` gives three words (Orbit's own split gives five and
/// substitutes nothing). No quoting: a program path with spaces goes in the array form.
fn split_command(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut rest = line;
    while let Some(next) = rest.chars().next() {
        if rest.starts_with("{{")
            && let Some(end) = rest.find("}}")
        {
            word.push_str(&rest[..end + 2]);
            rest = &rest[end + 2..];
            continue;
        }
        if next.is_whitespace() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        } else {
            word.push(next);
        }
        rest = &rest[next.len_utf8()..];
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_outside_placeholders() {
        for (line, expected) in [
            (
                "git clone {{ orbit.ip.source }}",
                &["git", "clone", "{{ orbit.ip.source }}"][..],
            ),
            ("  a   b ", &["a", "b"]),
            (
                "x --out={{ fetchkit.tmp }}/d",
                &["x", "--out={{ fetchkit.tmp }}/d"],
            ),
            ("x {{ unterminated", &["x", "{{", "unterminated"]),
            ("", &[]),
        ] {
            assert_eq!(split_command(line), expected, "{line:?}");
        }
    }

    #[test]
    fn builtins_by_url() {
        for (source, expected) in [
            ("http://127.0.0.1:1/a.zip", Builtin::Standard),
            ("http://127.0.0.1:1/a", Builtin::Standard),
            ("http://127.0.0.1:1/a.tar.gz", Builtin::Tarball),
            ("http://127.0.0.1:1/a.TGZ?x=1", Builtin::Tarball),
            ("http://127.0.0.1:1/dl/a-1.0.0.crate#f", Builtin::Tarball),
        ] {
            assert_eq!(Builtin::for_source(source), expected, "{source}");
        }
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
