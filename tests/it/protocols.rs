//! `fetchkit protocols list` with configuration from `--config`, the project's folders and the
//! user's `FETCHKIT_HOME`.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};

use fetchkit_test_support::Resource;
use fetchkit_test_support::archives::{Entry, file, tar_gz, zip};

use crate::support::{TestContext, sha256_hex};

fn stdout(run: &crate::support::Run) -> String {
    assert_eq!(run.code, Some(0), "{run}");
    String::from_utf8(run.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn list_shows_every_layer_in_selection_order() {
    let context = TestContext::new();
    context.write(
        "explicit.toml",
        b"[[protocol]]\nname = \"git\"\ndescription = \"clone a tag\"\npatterns = [\"*.git\"]\n\
          command = \"git clone -b {{ orbit.ip.version }} {{ orbit.ip.source }}\"\n",
    );
    std::fs::create_dir_all(context.path(".fetchkit")).unwrap();
    context.write(
        ".fetchkit/config.toml",
        b"[[protocol]]\nname = \"git\"\ncommand = \"shadowed\"\n\n\
          [[protocol]]\nname = \"local\"\npatterns = []\ncommand = [\"local-tool\"]\n",
    );
    std::fs::create_dir_all(context.path("fetchkit-home")).unwrap();
    context.write(
        "fetchkit-home/config.toml",
        b"include = [\"more.toml\"]\n\n[[protocol]]\nname = \"any\"\ncommand = \"any-tool\"\n",
    );
    context.write(
        "fetchkit-home/more.toml",
        b"[[protocol]]\nname = \"more\"\nsummary = \"from an include\"\npatterns = [\"a\", \"b\"]\ncommand = \"m\"\n",
    );
    let listed = stdout(&context.fetchkit(&["protocols", "list", "--config", "explicit.toml"]));
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|line| {
            line.split("  ")
                .filter(|cell| !cell.is_empty())
                .map(str::trim)
                .collect()
        })
        .collect();
    let home = context.path("fetchkit-home");
    let (project, user, more) = (
        context.path(".fetchkit/config.toml"),
        home.join("config.toml"),
        home.join("more.toml"),
    );
    let expected: Vec<Vec<String>> = vec![
        vec![
            "git".into(),
            "*.git".into(),
            "explicit.toml".into(),
            "clone a tag".into(),
        ],
        vec![
            "local".into(),
            "(no URL)".into(),
            project.display().to_string(),
        ],
        vec!["any".into(), "(any URL)".into(), user.display().to_string()],
        vec![
            "more".into(),
            "a b".into(),
            more.display().to_string(),
            "from an include".into(),
        ],
        vec![
            "standard".into(),
            "(fallback)".into(),
            "built in".into(),
            "download over HTTP and extract the zip archive".into(),
        ],
        vec![
            "tarball".into(),
            "(fallback)".into(),
            "built in".into(),
            "download over HTTP and extract the .tar.gz (or .crate) archive".into(),
        ],
    ];
    assert_eq!(rows, expected, "{listed}");
}

#[test]
fn bad_configuration_is_one_line_naming_file_and_line() {
    let context = TestContext::new();
    context.write(
        "bad.toml",
        b"[[protocol]]\nname = \"x\"\ncommand = \"x\"\nsumary = \"typo\"\n",
    );
    let run = context.fetchkit(&["protocols", "list", "--config", "bad.toml"]);
    assert!(
        run.failure()
            .starts_with("error: bad.toml:4:1: unknown field `sumary`, expected one of"),
        "{run}"
    );
    let run = context.fetchkit(&["protocols", "list", "--config", "missing.toml"]);
    assert!(run.failure().starts_with("error: missing.toml: "), "{run}");
}

fn package() -> Vec<Entry> {
    vec![
        file("gates-1.0/Orbit.toml", "[ip]\nname = \"gates\"\n"),
        file("gates-1.0/rtl/and.vhd", "entity and_gate is end;\n"),
    ]
}

/// Names in the test folder that a fetch leaves only by mistake.
fn leftovers(context: &TestContext) -> Vec<String> {
    context
        .files()
        .into_iter()
        .filter(|name| name.contains(".fetchkit-fetch-"))
        .collect()
}

#[test]
fn fetch_prints_the_checksum_and_extract_only_extracts() {
    let context = TestContext::new();
    let archive = tar_gz(&package());
    let url = context.serve("/gates-1.0.tar.gz", Resource::new(archive.clone()));

    let run = context.fetchkit(&[
        "fetch",
        &url,
        "--dest",
        "pkg",
        "--sha256",
        &sha256_hex(&archive),
    ]);
    let checksum = stdout(&run);
    let checksum = checksum.trim_end();
    assert_eq!(checksum.len(), 64, "{run}");
    assert!(
        checksum.bytes().all(|byte| byte.is_ascii_hexdigit()),
        "{run}"
    );
    assert_eq!(
        run.lines().last().copied(),
        Some(
            format!("fetched {url} with protocol tarball into pkg (package root: gates-1.0)")
                .as_str()
        )
    );
    assert_eq!(
        context.read("pkg/rtl/and.vhd"),
        b"entity and_gate is end;\n"
    );

    // The same package checks against its checksum; another checksum is refused.
    let run = context.fetchkit(&["fetch", &url, "--dest", "again", "--checksum", checksum]);
    assert_eq!(stdout(&run).trim_end(), checksum);
    let wrong = "0".repeat(64);
    let error = context
        .fetchkit(&["fetch", &url, "--dest", "wrong", "--checksum", &wrong])
        .failure()
        .to_owned();
    assert_eq!(
        error,
        format!("error: content checksum mismatch: expected {wrong}, got {checksum}")
    );
    assert!(!context.path("wrong").exists());

    // `extract` keeps the wrapper folder: it extracts, it does not look for a package.
    let summary = context
        .fetchkit(&["extract", &url, "--dest", "raw"])
        .success()
        .to_owned();
    assert_eq!(
        summary,
        "extracted 2 files, 2 folders, 0 links (44 bytes) into raw"
    );
    assert_eq!(
        context.read("raw/gates-1.0/Orbit.toml"),
        b"[ip]\nname = \"gates\"\n"
    );
    // `extract` skips the archive's SHA-256 unless one is given, and then checks it.
    let wrong = "1".repeat(64);
    let error = context
        .fetchkit(&["extract", &url, "--dest", "bad", "--sha256", &wrong])
        .failure()
        .to_owned();
    assert!(error.contains("sha256 mismatch"), "{error}");
    assert!(!context.path("bad").exists());
    context
        .fetchkit(&[
            "extract",
            &url,
            "--dest",
            "pinned",
            "--sha256",
            &sha256_hex(&archive),
        ])
        .success();
    assert_eq!(
        context.read("pinned/gates-1.0/Orbit.toml"),
        b"[ip]\nname = \"gates\"\n"
    );
    context.write("gates.zip", &zip(&package()));
    context
        .fetchkit(&["extract", "gates.zip", "--dest", "from-zip"])
        .success();
    assert_eq!(
        context.read("from-zip/gates-1.0/Orbit.toml"),
        b"[ip]\nname = \"gates\"\n"
    );
    assert_eq!(leftovers(&context), Vec::<String>::new());
}

#[test]
fn fetch_and_extract_errors_are_one_line_and_leave_nothing() {
    let context = TestContext::new();
    let url = context.serve(
        "/evil.tar.gz",
        Resource::new(tar_gz(&[file("../x", "boo")])),
    );
    for command in ["fetch", "extract"] {
        let error = context
            .fetchkit(&[command, &url, "--dest", "pkg"])
            .failure()
            .to_owned();
        assert_eq!(
            error,
            "error: archive entry \"../x\": the path climbs out of the folder with `..`"
        );
    }
    let missing = context.server.url("/missing.zip");
    let error = context
        .fetchkit(&["fetch", &missing, "--dest", "pkg"])
        .failure()
        .to_owned();
    assert!(error.contains("404"), "{error}");
    context.write("not.zip", b"plain text");
    let error = context
        .fetchkit(&["extract", "not.zip", "--dest", "pkg"])
        .failure()
        .to_owned();
    assert!(
        error.starts_with("error: not a valid zip archive: "),
        "{error}"
    );
    assert!(!context.path("pkg").exists());
    assert!(!context.path("x").exists());
    assert_eq!(leftovers(&context), Vec::<String>::new());
}

#[test]
fn fetch_runs_a_configured_command_whose_output_goes_to_stderr() {
    let context = TestContext::new();
    context.write(
        "p.toml",
        b"[[protocol]]\nname = \"make\"\npatterns = [\"make://*\"]\ncommand = [\"sh\", \"-c\", \
          \"echo making $FETCHKIT_PKG_NAME; echo '[ip]' > Orbit.toml\"]\n",
    );
    let run = context.fetchkit(&[
        "fetch",
        "make://gates",
        "--dest",
        "pkg",
        "--config",
        "p.toml",
        "--name",
        "gates",
    ]);
    assert_eq!(stdout(&run).trim_end().len(), 64, "{run}");
    assert!(run.lines().contains(&"making gates"), "{run}");
    assert_eq!(context.read("pkg/Orbit.toml"), b"[ip]\n");

    context.write(
        "fail.toml",
        b"[[protocol]]\nname = \"fail\"\ncommand = [\"sh\", \"-c\", \"echo no access >&2; exit 3\"]\n",
    );
    let run = context.fetchkit(&["fetch", "x://y", "--dest", "pkg2", "--config", "fail.toml"]);
    assert_eq!(
        run.failure(),
        "error: protocol \"fail\" failed with exit status 3; stderr: no access"
    );
    assert_eq!(leftovers(&context), Vec::<String>::new());
}

/// Ctrl-C while a command protocol runs: the command is killed, the temporary folder removed,
/// and the exit status is 130.
#[test]
fn an_interrupted_fetch_leaves_nothing_behind() {
    let context = TestContext::new();
    context.write(
        "slow.toml",
        b"[[protocol]]\nname = \"slow\"\ncommand = [\"sh\", \"-c\", \
          \"touch Orbit.toml; echo started >&2; exec sleep 60\"]\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_fetchkit"))
        .args(["fetch", "x://y", "--dest", "pkg", "--config", "slow.toml"])
        .current_dir(context.dir.path())
        .env("FETCHKIT_HOME", context.path("fetchkit-home"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert_eq!(line, "started\n");
    assert!(
        !leftovers(&context).is_empty(),
        "the command runs in its temporary folder"
    );

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert_eq!(rest, "error: the fetch was interrupted\n");
    assert_eq!(leftovers(&context), Vec::<String>::new());
    assert!(!context.path("pkg").exists());
}
