//! Command protocols: run directly in the fetch's temporary folder, with its variables in
//! their arguments and environment; every way a command can end is reported, and the folder
//! is gone afterwards.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fetchkit_protocols::{CancellationToken, Config, FetchError, FetchRequest};

use crate::fetch::{Context, listing};

/// A context whose configuration is `toml`.
fn context(toml: &str) -> Context {
    let config = Config::from_toml(toml, Path::new("test.toml")).unwrap();
    Context::with_config(config)
}

/// A protocol named `p` running `sh -c SCRIPT` for every source.
fn shell(script: &str) -> Context {
    context(&format!(
        "[[protocol]]\nname = \"p\"\ncommand = [\"sh\", \"-c\", {script:?}]\n"
    ))
}

#[tokio::test]
async fn runs_in_the_temporary_folder_with_the_variables() {
    let context = context(
        r#"
[[protocol]]
name = "record"
command = [
    "sh", "-c", 'printf "%s\n" "$PWD" "$1" "$FETCHKIT_PKG_NAME" "$ORBIT_IP_VERSION" "$FETCHKIT_PKG_SOURCE" "$ORBIT_QUEUE" "$FETCHKIT_PROTOCOL" > Orbit.toml',
    "sh", "{{ fetchkit.tmp }}",
]
"#,
    );
    let source = "ssh://127.0.0.1/gates";
    let fetched = context
        .fetch(
            FetchRequest::new(source, context.dest())
                .name("gates")
                .version("1.2.0"),
        )
        .await
        .unwrap();
    assert_eq!(fetched.protocol, "record");
    assert_eq!(fetched.package_root, Path::new("."));
    let lines: Vec<String> = std::fs::read_to_string(context.dest().join("Orbit.toml"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let tmp = &lines[0];
    assert!(
        Path::new(tmp).parent().unwrap() == std::fs::canonicalize(context.dir.path()).unwrap()
            || Path::new(tmp).parent().unwrap() == context.dir.path(),
        "the temporary folder is beside the destination: {tmp}"
    );
    assert!(tmp.contains(".fetchkit-fetch-"), "{tmp}");
    assert_eq!(
        lines[1..],
        [
            tmp.as_str(),
            "gates",
            "1.2.0",
            source,
            tmp.as_str(),
            "record"
        ]
    );
}

#[tokio::test]
async fn a_non_zero_exit_carries_the_status_and_the_end_of_stderr() {
    let context = shell("for i in 1 2 3 4 5 6 7; do echo line $i >&2; done; exit 3");
    let error = context
        .fetch(FetchRequest::new("x://a", context.dest()))
        .await
        .unwrap_err();
    let FetchError::Exited {
        code, stderr_tail, ..
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!(*code, 3);
    assert_eq!(stderr_tail, "line 3 | line 4 | line 5 | line 6 | line 7");
    assert_eq!(
        error.to_string(),
        "protocol \"p\" failed with exit status 3; stderr: line 3 | line 4 | line 5 | line 6 | line 7"
    );
}

#[tokio::test]
async fn a_command_killed_by_a_signal_is_an_error() {
    let context = shell("echo dying >&2; touch Orbit.toml; kill -9 $$");
    let error = context
        .fetch(FetchRequest::new("x://a", context.dest()))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, FetchError::Signaled { signal: 9, stderr_tail, .. } if stderr_tail == "dying"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_program_is_named() {
    let context = context(
        "[[protocol]]\nname = \"p\"\ncommand = \"fetchkit-no-such-program {{ fetchkit.pkg.source }}\"\n",
    );
    let error = context
        .fetch(FetchRequest::new("x://a", context.dest()))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "protocol \"p\": program \"fetchkit-no-such-program\" not found"
    );
}

#[tokio::test]
async fn a_command_that_runs_too_long_is_killed() {
    let mut context = shell("touch Orbit.toml; echo waiting >&2; exec sleep 60");
    context.fetcher = context.fetcher.clone().timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = context
        .fetch(FetchRequest::new("x://a", context.dest()))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, FetchError::TimedOut { after, stderr_tail, .. }
            if *after == Duration::from_millis(300) && stderr_tail == "waiting"),
        "{error}"
    );
    assert!(error.is_transient());
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn the_protocol_timeout_comes_from_its_configuration() {
    let context =
        context("[[protocol]]\nname = \"p\"\ntimeout = \"0.3s\"\ncommand = [\"sleep\", \"60\"]\n");
    let error = context
        .fetch(FetchRequest::new("x://a", context.dest()))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, FetchError::TimedOut { after, .. } if *after == Duration::from_millis(300)),
        "{error}"
    );
}

#[tokio::test]
async fn cancelling_kills_the_command_and_removes_the_folder() {
    let mut context = shell("touch Orbit.toml; echo started; exec sleep 60");
    let cancel = CancellationToken::new();
    let (started, mut wait) = tokio::sync::mpsc::unbounded_channel();
    context.fetcher = context
        .fetcher
        .clone()
        .cancel_token(cancel.clone())
        .output(Arc::new(move |piece: &[u8]| {
            if piece.starts_with(b"started") {
                let _ = started.send(());
            }
        }));
    let request = FetchRequest::new("x://a", context.dest());
    let (result, ()) = tokio::join!(context.fetch(request), async {
        wait.recv().await.unwrap();
        cancel.cancel();
    });
    assert!(matches!(result, Err(FetchError::Interrupted)), "{result:?}");
}

#[tokio::test]
async fn orbits_git_example_clones_a_tag_from_a_bare_repository() {
    let repos = tempfile::tempdir().unwrap();
    let git = |folder: &Path, args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(folder)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@127.0.0.1")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@127.0.0.1")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    let work = repos.path().join("work");
    std::fs::create_dir(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(
        work.join("Orbit.toml"),
        "[ip]\nname = \"gates\"\nversion = \"1.0.0\"\n",
    )
    .unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "1.0.0"]);
    git(&work, &["tag", "v1.0.0"]);
    std::fs::write(
        work.join("Orbit.toml"),
        "[ip]\nname = \"gates\"\nversion = \"2.0.0\"\n",
    )
    .unwrap();
    git(&work, &["commit", "-q", "-am", "2.0.0"]);
    git(
        repos.path(),
        &["clone", "-q", "--bare", "work", "gates.git"],
    );

    // As Orbit's documentation writes it.
    let context = context(
        r#"
[[protocol]]
name = "git"
summary = "Fetch a remote repository with git"
patterns = ["*.git"]
command = "git"
args = ["clone", "-b", "{{ orbit.ip.version }}", "{{ orbit.ip.source }}"]
"#,
    );
    let source = format!("file://{}", repos.path().join("gates.git").display());
    let fetched = context
        .fetch(FetchRequest::new(&source, context.dest()).version("v1.0.0"))
        .await
        .unwrap();
    assert_eq!(fetched.protocol, "git");
    assert_eq!(fetched.package_root, Path::new("gates"));
    assert!(
        listing(&context.dest())
            .contains(&"Orbit.toml: [ip]\nname = \"gates\"\nversion = \"1.0.0\"\n".to_owned())
    );
    assert!(context.dest().join(".git").is_dir());
}

#[tokio::test]
async fn paths_are_relative_to_the_configuration_file() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join("scripts")).unwrap();
    let script = folder.path().join("scripts/make.sh");
    std::fs::write(&script, "#!/bin/sh\ncp \"$1\" Orbit.toml\n").unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(folder.path().join("scripts/manifest.toml"), "[ip]\n").unwrap();
    let config_file = folder.path().join("config.toml");
    std::fs::write(
        &config_file,
        "[[protocol]]\nname = \"local\"\ncommand = [\"scripts/make.sh\", \"scripts/manifest.toml\"]\n",
    )
    .unwrap();
    let config = Config::load(&fetchkit_protocols::ConfigSources {
        explicit: Some(config_file),
        ..Default::default()
    })
    .unwrap();
    let context = Context::with_config(config);
    context
        .fetch(FetchRequest::new("x://a", context.dest()))
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(context.dest().join("Orbit.toml")).unwrap(),
        "[ip]\n"
    );
}
