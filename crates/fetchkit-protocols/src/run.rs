//! Running a command protocol: the program directly (never a shell), in the fetch's temporary
//! folder, with the fetch's variables in its environment, bounded by a timeout, stopped on
//! request. Its output goes to the caller's sink; the tail of its stderr is kept for the error.

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use crate::fetch::{FetchError, OutputSink};

/// Bytes of stderr kept for an error message.
const STDERR_TAIL: usize = 2048;

/// How long output is still collected after the program exits: a grandchild it left running
/// (an ssh connection kept open for reuse) may hold the pipe open for good.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// A command ready to run.
pub(crate) struct Run<'a> {
    pub(crate) protocol: &'a str,
    /// The program and its arguments, substituted.
    pub(crate) argv: &'a [String],
    pub(crate) folder: &'a Path,
    pub(crate) environment: Vec<(&'static str, String)>,
    pub(crate) timeout: Duration,
    pub(crate) output: Option<OutputSink>,
    pub(crate) cancel: &'a CancellationToken,
}

/// Why a command's run failed, before it is tied to its protocol.
enum Ending {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

impl Run<'_> {
    pub(crate) async fn run(self) -> Result<(), FetchError> {
        let (program, arguments) = self
            .argv
            .split_first()
            .expect("a protocol's command is never empty");
        let mut command = Command::new(program);
        command
            .args(arguments)
            .current_dir(self.folder)
            .envs(self.environment.iter().map(|(name, value)| (name, value)))
            // Credential prompts of git and friends read the terminal, as they would if run
            // by hand.
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // The last resort if this future is dropped without being cancelled.
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(source) if source.kind() == io::ErrorKind::NotFound => {
                return Err(FetchError::ProgramNotFound {
                    protocol: self.protocol.to_owned(),
                    program: program.clone(),
                });
            }
            Err(source) => {
                return Err(FetchError::Spawn {
                    protocol: self.protocol.to_owned(),
                    program: program.clone(),
                    source,
                });
            }
        };

        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
        let stdout = child
            .stdout
            .take()
            .map(|stdout| tokio::spawn(forward(stdout, self.output.clone(), None)));
        let stderr = child
            .stderr
            .take()
            .map(|stderr| tokio::spawn(forward(stderr, self.output.clone(), Some(tail.clone()))));

        let ending = tokio::select! {
            status = child.wait() => match status {
                Ok(status) => Ending::Exited(status),
                Err(source) => {
                    return Err(FetchError::Spawn {
                        protocol: self.protocol.to_owned(),
                        program: program.clone(),
                        source,
                    });
                }
            },
            () = tokio::time::sleep(self.timeout) => Ending::TimedOut,
            () = self.cancel.cancelled() => Ending::Cancelled,
        };
        if !matches!(ending, Ending::Exited(_)) {
            // Killed and waited for, so nothing writes into the folder once this returns.
            let _ = child.kill().await;
        }
        for task in [stdout, stderr].into_iter().flatten() {
            let abort = task.abort_handle();
            if tokio::time::timeout(OUTPUT_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
        let stderr_tail = {
            let tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            shown_tail(tail.iter().copied().collect())
        };
        let protocol = self.protocol.to_owned();
        match ending {
            Ending::Exited(status) if status.success() => Ok(()),
            Ending::Exited(status) => match status.code() {
                Some(code) => Err(FetchError::Exited {
                    protocol,
                    code,
                    stderr_tail,
                }),
                None => Err(FetchError::Signaled {
                    protocol,
                    signal: signal(status),
                    stderr_tail,
                }),
            },
            Ending::TimedOut => Err(FetchError::TimedOut {
                protocol,
                after: self.timeout,
                stderr_tail,
            }),
            Ending::Cancelled => Err(FetchError::Interrupted),
        }
    }
}

#[cfg(unix)]
fn signal(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status.signal().unwrap_or(0)
}

#[cfg(not(unix))]
fn signal(_status: ExitStatus) -> i32 {
    0
}

/// Copies a stream to the sink, keeping its last bytes in `tail`.
async fn forward(
    mut stream: impl AsyncRead + Unpin,
    output: Option<OutputSink>,
    tail: Option<Arc<Mutex<VecDeque<u8>>>>,
) {
    let mut buffer = vec![0; 16 << 10];
    loop {
        let read = match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let piece = &buffer[..read];
        if let Some(output) = &output {
            output(piece);
        }
        if let Some(tail) = &tail {
            let mut tail = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            tail.extend(piece);
            let excess = tail.len().saturating_sub(STDERR_TAIL);
            tail.drain(..excess);
        }
    }
}

/// The last lines of stderr on one line: lines joined with ` | `, blank ones dropped.
fn shown_tail(bytes: Vec<u8>) -> String {
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let keep = lines.len().saturating_sub(5);
    lines[keep..].join(" | ")
}
