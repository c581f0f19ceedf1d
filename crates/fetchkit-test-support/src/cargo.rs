//! Real cargo, run in a throwaway cargo home against a loopback registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A cargo home and a one-library project that depends on chosen crates, both in a temporary
/// folder, for running the cargo that builds the tests as the judge of what fetchkit writes.
///
/// The cargo home's `config.toml` is given (usually [`SparseRegistry::cargo_config`]), so
/// nothing the machine's own cargo home holds (caches, registries, credentials) takes part.
///
/// [`SparseRegistry::cargo_config`]: crate::SparseRegistry::cargo_config
#[derive(Debug)]
pub struct CargoSandbox {
    root: tempfile::TempDir,
}

impl CargoSandbox {
    /// A cargo home with `config` as its `config.toml`, and a project whose
    /// `[dependencies]` are `dependencies` (name and requirement).
    ///
    /// # Panics
    ///
    /// If the temporary folder cannot be made or written.
    pub fn new(config: &str, dependencies: &[(&str, &str)]) -> CargoSandbox {
        let root = tempfile::tempdir().expect("cargo sandbox: temporary folder");
        let sandbox = CargoSandbox { root };
        let write = |path: PathBuf, contents: &str| {
            std::fs::create_dir_all(path.parent().expect("a file has a folder"))
                .and_then(|()| std::fs::write(&path, contents))
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        };
        write(sandbox.home().join("config.toml"), config);
        let mut manifest = String::from(
            "[package]\nname = \"sandbox\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\n",
        );
        for (name, req) in dependencies {
            manifest.push_str(&format!("{name} = {req:?}\n"));
        }
        write(sandbox.project().join("Cargo.toml"), &manifest);
        write(sandbox.project().join("src/lib.rs"), "");
        sandbox
    }

    /// The cargo home (`CARGO_HOME`).
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The project's folder.
    pub fn project(&self) -> PathBuf {
        self.root.path().join("project")
    }

    /// The project's `Cargo.lock`, or an empty string when there is none.
    pub fn lockfile(&self) -> String {
        std::fs::read_to_string(self.project().join("Cargo.lock")).unwrap_or_default()
    }

    /// The index cache folder cargo made for a registry, found by listing
    /// `registry/index/`: the test's own view, independent of how fetchkit names it.
    ///
    /// # Panics
    ///
    /// Unless there is exactly one registry folder.
    pub fn only_index_dir(&self) -> PathBuf {
        let index = self.home().join("registry/index");
        let names = crate::file_names(&index);
        assert_eq!(names.len(), 1, "{}: {names:?}", index.display());
        index.join(&names[0])
    }

    /// A `cargo` command for the project, with this cargo home and its own target folder; the
    /// caller adds arguments. Every `CARGO_*` variable of the test's environment is removed
    /// first, so the outer cargo's settings (its home, target folder, registries, offline mode)
    /// do not leak in.
    pub fn command(&self) -> Command {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut command = Command::new(program);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("CARGO_") {
                command.env_remove(name);
            }
        }
        command
            .current_dir(self.project())
            .env("CARGO_HOME", self.home())
            .env("CARGO_TARGET_DIR", self.root.path().join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_TERM_PROGRESS_WHEN", "never");
        command
    }

    /// Runs `cargo ARGS` (see [`command`](CargoSandbox::command)).
    pub fn cargo(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .unwrap_or_else(|error| panic!("cannot run cargo: {error}"))
    }

    /// Runs `cargo ARGS` and returns its stderr.
    ///
    /// # Panics
    ///
    /// If cargo fails; the message has its output.
    pub fn cargo_ok(&self, args: &[&str]) -> String {
        let output = self.cargo(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "cargo {} failed ({}):\n{stderr}",
            args.join(" "),
            output.status
        );
        stderr
    }

    /// The root of the sandbox, for files a test wants beside it.
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}
