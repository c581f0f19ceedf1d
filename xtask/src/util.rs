//! Shared helpers: where the workspace is, and running commands that say what they run.

use std::{
    env,
    ffi::OsStr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};

/// The workspace root: the parent of xtask's manifest directory.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The cargo that runs us (`$CARGO` when started through cargo), else `cargo` from PATH.
pub(crate) fn cargo() -> Command {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(project_root());
    cmd
}

/// The workspace's target directory as cargo sees it (honours `CARGO_TARGET_DIR` and config).
pub(crate) fn target_dir() -> anyhow::Result<PathBuf> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(project_root().join("Cargo.toml"))
        .no_deps()
        .exec()
        .context("cargo metadata failed")?;
    Ok(metadata.target_directory.into_std_path_buf())
}

/// A command line as a user would type it, for echoing.
pub(crate) fn display(cmd: &Command) -> String {
    // `$CARGO` is a long toolchain path; a user types `cargo`.
    let program = cmd.get_program();
    let program = if env::var_os("CARGO").is_some_and(|cargo| cargo == program) {
        OsStr::new("cargo")
    } else {
        program
    };
    let mut words = vec![shell_word(program)];
    words.extend(cmd.get_args().map(shell_word));
    words.join(" ")
}

fn shell_word(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Echoes `cmd`, runs it with inherited stdio and fails unless it exits 0.
pub(crate) fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let line = display(cmd);
    println!("$ {line}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed: {status}");
    }
    Ok(())
}

/// Echoes `cmd`, runs it and returns its stdout; fails unless it exits 0. Stderr goes through.
pub(crate) fn read(cmd: &mut Command) -> anyhow::Result<String> {
    let line = display(cmd);
    println!("$ {line}");
    read_quiet(cmd)
}

/// Like [`read`] but without the echo, for small facts (`nproc`, `date`).
pub(crate) fn read_quiet(cmd: &mut Command) -> anyhow::Result<String> {
    let line = display(cmd);
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !output.status.success() {
        bail!("`{line}` failed: {}", output.status);
    }
    String::from_utf8(output.stdout).with_context(|| format!("`{line}` printed non-UTF-8 output"))
}

/// Finds an executable on PATH, then in `extra` places.
pub(crate) fn find_program(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .chain(extra.iter().map(PathBuf::from))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::display;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let mut cmd = Command::new("cargo");
        cmd.args([
            "clippy",
            "--workspace",
            "--",
            "-D",
            "warnings",
            "it's here",
            "",
        ]);
        assert_eq!(
            display(&cmd),
            r"cargo clippy --workspace -- -D warnings 'it'\''s here' ''"
        );
    }
}
