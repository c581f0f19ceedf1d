//! The test context: a temporary folder, a server (a fault server or a fake Taskcluster), and
//! the binary run in between.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use fetchkit_test_support::{FakeTaskcluster, FaultServer, RecordedRequest, Resource};
use sha2::{Digest as _, Sha256, Sha512};
use tempfile::TempDir;

/// A command that runs longer than this is killed and the test fails: a hang is a bug, and
/// must not hang the test run too.
const DEADLINE: Duration = Duration::from_secs(60);

/// Environment variables that would change what the binary does: logging, the cargo home,
/// proxies and Taskcluster settings.
const CLEARED_ENV: &[&str] = &[
    "RUST_LOG",
    "CARGO_HOME",
    "TASKCLUSTER_ROOT_URL",
    "TASKCLUSTER_CLIENT_ID",
    "TASKCLUSTER_ACCESS_TOKEN",
    "TASKCLUSTER_CERTIFICATE",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// A folder the binary runs in and a server it downloads from.
pub(crate) struct TestContext<S = FaultServer> {
    pub(crate) server: S,
    pub(crate) dir: TempDir,
}

impl TestContext {
    pub(crate) fn new() -> TestContext {
        TestContext::with_server(FaultServer::start())
    }

    /// Routes `resource` at `path` and returns its URL.
    pub(crate) fn serve(&self, path: &str, resource: Resource) -> String {
        self.server.route(path, resource);
        self.server.url(path)
    }

    /// The requests the server received for `path`.
    pub(crate) fn requests(&self, path: &str) -> Vec<RecordedRequest> {
        self.server.requests_to(path)
    }

    /// `fetchkit download URL -o out.bin EXTRA...`.
    pub(crate) fn download(&self, url: &str, extra: &[&str]) -> Run {
        let mut args = vec!["download", url, "-o", "out.bin"];
        args.extend_from_slice(extra);
        self.fetchkit(&args)
    }
}

impl TestContext<FakeTaskcluster> {
    /// A context whose server is a fake Taskcluster object service and queue.
    pub(crate) fn taskcluster() -> TestContext<FakeTaskcluster> {
        TestContext::with_server(FakeTaskcluster::start())
    }
}

impl<S> TestContext<S> {
    fn with_server(server: S) -> TestContext<S> {
        TestContext {
            server,
            dir: tempfile::tempdir().expect("create a temporary folder"),
        }
    }

    /// A path in the test folder.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `content` to `name` in the test folder.
    pub(crate) fn write(&self, name: &str, content: &[u8]) {
        std::fs::write(self.path(name), content).expect("write a test file");
    }

    /// The content of `name` in the test folder.
    pub(crate) fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|error| panic!("read {name}: {error}"))
    }

    /// The names in the test folder, sorted: temp files left behind show up here.
    pub(crate) fn files(&self) -> Vec<String> {
        fetchkit_test_support::file_names(self.dir.path())
    }

    /// Runs `fetchkit ARGS` in the test folder, without proxies, `RUST_LOG` or Taskcluster
    /// settings, with retry waits skipped.
    pub(crate) fn fetchkit(&self, args: &[&str]) -> Run {
        self.fetchkit_with_env(args, &[])
    }

    /// [`fetchkit`](Self::fetchkit) with the variables `env` set.
    pub(crate) fn fetchkit_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fetchkit"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("FETCHKIT_TEST_NO_SLEEP", "1")
            // The machine's own protocol configuration must not take part.
            .env("FETCHKIT_HOME", self.dir.path().join("fetchkit-home"));
        for name in CLEARED_ENV {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        run(command, args)
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) args: String,
    pub(crate) code: Option<i32>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
}

impl Run {
    /// The stderr lines.
    pub(crate) fn lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// Asserts exit 0 with nothing on stdout, and returns the summary (the last stderr line).
    #[track_caller]
    pub(crate) fn success(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self}");
        assert!(self.stdout.is_empty(), "stdout not empty\n{self}");
        self.lines().last().copied().unwrap_or_default()
    }

    /// Asserts exit 1 with exactly one `error: ` line on stderr, which is the last line, and
    /// returns it.
    #[track_caller]
    pub(crate) fn failure(&self) -> &str {
        assert_eq!(self.code, Some(1), "{self}");
        let errors: Vec<&str> = self
            .lines()
            .into_iter()
            .filter(|line| line.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "expected one error line\n{self}");
        assert_eq!(self.lines().last(), errors.first(), "{self}");
        errors[0]
    }

    /// Asserts a usage error (exit 2) and returns stderr.
    #[track_caller]
    pub(crate) fn usage_error(&self) -> &str {
        assert_eq!(self.code, Some(2), "{self}");
        &self.stderr
    }

    /// The stderr lines announcing a retry wait.
    pub(crate) fn waits(&self) -> Vec<&str> {
        self.lines()
            .into_iter()
            .filter(|line| line.contains("before retrying"))
            .collect()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fetchkit {}\nexit: {:?}\nstdout: {} bytes\nstderr:\n{}",
            self.args,
            self.code,
            self.stdout.len(),
            self.stderr
        )
    }
}

/// Runs `command` to completion, killing it after [`DEADLINE`]. The pipes are drained on
/// their own threads, which report when the child closes them.
fn run(mut command: Command, args: &[&str]) -> Run {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the fetchkit binary");
    let (done, finished) = mpsc::channel();
    let drain = |mut pipe: Box<dyn std::io::Read + Send>, done: mpsc::Sender<()>| {
        std::thread::spawn(move || {
            let mut data = Vec::new();
            let _ = pipe.read_to_end(&mut data);
            let _ = done.send(());
            data
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")), done.clone());
    let stderr = drain(Box::new(child.stderr.take().expect("piped")), done);
    let mut timed_out = false;
    for _ in 0..2 {
        if finished.recv_timeout(DEADLINE).is_err() {
            timed_out = true;
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().expect("wait for the fetchkit binary");
    let run = Run {
        args: args.join(" "),
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: String::from_utf8(stderr.join().expect("stderr reader")).expect("stderr is UTF-8"),
    };
    assert!(!timed_out, "killed after {DEADLINE:?}\n{run}");
    run
}

/// A body of `len` pseudo-random bytes, the same for the same `seed`.
pub(crate) fn body(len: usize, seed: u64) -> Vec<u8> {
    let mut data = vec![0; len];
    fastrand::Rng::with_seed(seed).fill(&mut data);
    data
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub(crate) fn sha512_hex(data: &[u8]) -> String {
    hex::encode(Sha512::digest(data))
}

/// Asserts `path` holds exactly `expected`, comparing digests so a failure stays readable.
#[track_caller]
pub(crate) fn assert_content(path: &Path, expected: &[u8]) {
    let actual = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    assert_eq!(
        (actual.len(), sha256_hex(&actual)),
        (expected.len(), sha256_hex(expected)),
        "{}: wrong content",
        path.display()
    );
}
