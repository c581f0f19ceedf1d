//! Configuration through the public API: files written to a temporary folder, layered as the
//! CLI layers them, and the protocol each source gets.

mod checksum;
mod command;
mod fetch;
mod manifest;

use std::path::{Path, PathBuf};

use fetchkit_protocols::{Config, ConfigError, ConfigSources, Selected};

/// A folder of configuration files.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn protocol(name: &str, patterns: Option<&str>) -> String {
    let patterns = patterns
        .map(|p| format!("patterns = {p}\n"))
        .unwrap_or_default();
    format!("[[protocol]]\nname = \"{name}\"\n{patterns}command = [\"{name}-tool\"]\n\n")
}

fn only(explicit: &Path) -> ConfigSources {
    ConfigSources {
        explicit: Some(explicit.to_owned()),
        ..Default::default()
    }
}

/// The protocol each source gets, as `source -> name`.
#[track_caller]
fn check(config: &Config, cases: &[(&str, &str)]) {
    for (source, expected) in cases {
        // The same answer every time, whatever the run.
        for _ in 0..3 {
            assert_eq!(
                config.select(source, None).unwrap().name(),
                *expected,
                "{source}"
            );
        }
    }
}

#[test]
fn patterns_missing_match_everything_and_empty_match_nothing() {
    let files = Files::new();
    let file = files.write(
        "config.toml",
        &[
            protocol("never", Some("[]")),
            protocol("git", Some("[\"*.git\", \"git+*\"]")),
            protocol("svn", Some("[\"svn://*\"]")),
            protocol("catch-all", None),
            protocol("second-catch-all", None),
        ]
        .concat(),
    );
    let config = Config::load(&only(&file)).unwrap();
    check(
        &config,
        &[
            // `*` crosses `/`: the glob sees the whole URL.
            ("http://127.0.0.1:1/group/repo.git", "git"),
            ("git+http://127.0.0.1:1/repo", "git"),
            ("svn://127.0.0.1/trunk", "svn"),
            ("http://127.0.0.1:1/a.zip", "catch-all"),
            ("http://127.0.0.1:1/A.GIT", "catch-all"),
        ],
    );
    let names: Vec<&str> = config.protocols().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["never", "git", "svn", "catch-all", "second-catch-all"]
    );
    assert_eq!(config.protocols()[0].patterns, Some(vec![]));
    assert_eq!(config.protocols()[3].patterns, None);
    assert_eq!(config.select("x", Some("never")).unwrap().name(), "never");
}

#[test]
fn without_a_catch_all_the_builtin_takes_the_rest() {
    let files = Files::new();
    let file = files.write("config.toml", &protocol("git", Some("[\"*.git\"]")));
    let config = Config::load(&only(&file)).unwrap();
    check(
        &config,
        &[
            ("http://127.0.0.1:1/r.git", "git"),
            ("http://127.0.0.1:1/a.zip", "standard"),
            ("http://127.0.0.1:1/a-1.0.0.crate", "tarball"),
        ],
    );
    assert!(matches!(
        config
            .select("http://127.0.0.1:1/r.git", Some("standard"))
            .unwrap(),
        Selected::Builtin(_)
    ));
    let error = config.select("x", Some("hg")).unwrap_err().to_string();
    assert_eq!(
        error,
        "no protocol named \"hg\" (known: git, standard, tarball)"
    );
}

#[test]
fn layers_explicit_then_project_nearest_first_then_user_then_includes_in_order() {
    let files = Files::new();
    let explicit = files.write("explicit.toml", &protocol("a", Some("[\"*.a\"]")));
    let near = files.write(
        "work/project/.fetchkit/config.toml",
        &[
            protocol("b", Some("[\"*.b\"]")),
            protocol("shared", Some("[\"*.s\"]")),
        ]
        .concat(),
    );
    let far = files.write(
        "work/.fetchkit/config.toml",
        &[
            protocol("shared", Some("[\"*.s\"]")),
            protocol("c", Some("[\"*.c\"]")),
        ]
        .concat(),
    );
    let user = files.write(
        "home/config.toml",
        &format!(
            "include = [\"three.toml\", \"one.toml\", \"two.toml\", \"one.toml\"]\n\n{}",
            protocol("shared", Some("[\"*.s\"]"))
        ),
    );
    for (name, pattern) in [("one", "*.x"), ("two", "*.x"), ("three", "*.x")] {
        files.write(
            &format!("home/{name}.toml"),
            &protocol(name, Some(&format!("[\"{pattern}\"]"))),
        );
    }
    let project = ConfigSources::project_files(&files.path("work/project"));
    assert_eq!(project, [near.clone(), far.clone()], "nearest first");
    let config = Config::load(&ConfigSources {
        explicit: Some(explicit.clone()),
        project,
        user: Some(user.clone()),
    })
    .unwrap();
    let order: Vec<(&str, &Path)> = config
        .protocols()
        .iter()
        .map(|p| (p.name.as_str(), p.defined_in.as_path()))
        .collect();
    assert_eq!(
        order,
        [
            ("a", explicit.as_path()),
            ("b", near.as_path()),
            ("shared", near.as_path()),
            ("c", far.as_path()),
            ("three", files.path("home/three.toml").as_path()),
            ("one", files.path("home/one.toml").as_path()),
            ("two", files.path("home/two.toml").as_path()),
        ]
    );
    // Three includes matching the same URL: the first listed wins.
    check(
        &config,
        &[("http://127.0.0.1:1/f.x", "three"), ("f.s", "shared")],
    );

    // A missing user file is no configuration, not an error.
    let none = Config::load(&ConfigSources {
        user: Some(files.path("home/missing.toml")),
        ..Default::default()
    })
    .unwrap();
    assert!(none.protocols().is_empty());
}

#[test]
fn orbit_files_work_as_they_are() {
    let files = Files::new();
    // Orbit 0.22's form (command and args), the docs' `summary`, later Orbit's command string,
    // and tables fetchkit does not use.
    let file = files.write(
        "orbit.toml",
        r#"
[general]
language-mode = "mixed"

[env]
GITHUB_USER = "someone"

[[target]]
name = "gsim"
command = "python"

[[protocol]]
name = "git-args"
description = "clone a tag"
command = "git"
args = ["clone", "-b", "{{ orbit.ip.version }}", "{{ orbit.ip.source }}"]

[[protocol]]
name = "git-line"
summary = "clone a tag"
patterns = ["*.git"]
command = "git clone -b {{ orbit.ip.version }} {{ orbit.ip.source }}"
"#,
    );
    let config = Config::load(&only(&file)).unwrap();
    let protocols = config.protocols();
    assert_eq!(
        protocols[0].command,
        [
            "git",
            "clone",
            "-b",
            "{{ orbit.ip.version }}",
            "{{ orbit.ip.source }}"
        ]
    );
    assert_eq!(protocols[1].command, protocols[0].command);
    assert_eq!(protocols[1].description.as_deref(), Some("clone a tag"));
}

#[test]
fn default_protocol_is_tried_first_when_its_patterns_allow() {
    let files = Files::new();
    let file = files.write(
        "config.toml",
        &format!(
            "[install]\ndefault-protocol = \"zips\"\n\n{}{}",
            protocol("git", Some("[\"*.git\"]")),
            protocol("zips", Some("[\"*.zip\"]"))
        ),
    );
    let config = Config::load(&only(&file)).unwrap();
    check(
        &config,
        &[("h/a.zip", "zips"), ("h/a.git", "git"), ("h/a", "standard")],
    );
    let unknown = files.write("unknown.toml", "[install]\ndefault-protocol = \"nope\"\n");
    let error = Config::load(&only(&unknown))
        .unwrap()
        .select("h/a", None)
        .unwrap_err();
    assert!(
        matches!(error, ConfigError::NoSuchDefault { .. }),
        "{error}"
    );
}

/// Each bad file and the start of its one-line error (after the file's path).
#[test]
fn bad_files_are_one_line_errors_naming_file_and_place() {
    let cases: &[(&str, &str)] = &[
        (
            "[[protocol]]\nname = \"x\"\ncommand = \"x\"\nsumary = \"typo\"\n",
            ":4:1: unknown field `sumary`",
        ),
        (
            "[[protocol]]\nname = \"x\"\n",
            ":1:1: missing field `command`",
        ),
        (
            "[[protocol]]\nname = \"x\"\ncommand = \"\"\n",
            ": protocol `x`: `command` cannot be empty",
        ),
        (
            "[[protocol]]\nname = \"x\"\ncommand = []\n",
            ": protocol `x`: `command` cannot be empty",
        ),
        (
            "[[protocol]]\nname = \"\"\ncommand = \"x\"\n",
            ": protocol ``: `name` cannot be empty",
        ),
        (
            "[[protocol]]\nname = \"x\"\ncommand = \"x\"\npatterns = [\"a[\"]\n",
            ": protocol `x`: pattern \"a[\"",
        ),
        ("[[protocol]\n", ":1:"),
        (
            "include = [\"other.toml\"]\n",
            ": `include` is allowed only in the user's configuration file",
        ),
    ];
    let files = Files::new();
    for (text, expected) in cases {
        let file = files.write("bad.toml", text);
        let error = Config::load(&only(&file)).unwrap_err().to_string();
        let prefix = file.display().to_string();
        assert!(
            error.starts_with(&format!("{prefix}{expected}")),
            "{text:?}: {error}"
        );
        assert!(!error.contains('\n'), "{error}");
    }
    let user = files.write("home/config.toml", "include = [\"gone.toml\"]\n");
    let error = Config::load(&ConfigSources {
        user: Some(user.clone()),
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with(&format!(
            "{} (included by {}): ",
            files.path("home/gone.toml").display(),
            user.display()
        )),
        "{error}"
    );
    let error = Config::load(&only(&files.path("missing.toml"))).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }), "{error}");
}
