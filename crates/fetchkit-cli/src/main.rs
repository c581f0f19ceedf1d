//! The `fetchkit` command-line tool.
//!
//! **Layer 5, the top.** The binary is the only part of fetchkit that reads flags and
//! environment variables, draws progress bars, installs the `tracing` subscriber, and turns
//! errors into one-line messages and exit codes; the libraries below it do the work. Exit
//! codes: 0 when everything asked for was done and verified, 1 when it failed (one line on
//! stderr: `error: ...`), 2 for usage errors (clap's message).
//!
//! Streams: data goes to stdout (a download only with `-o -`, a listing without `-o`),
//! everything meant for people (progress bar, warnings, the summary, errors) goes to stderr.

// The CLI is the one place in fetchkit that prints: data to stdout, messages to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod download;
mod index;
mod list;
mod logging;
mod mirror;
mod progress;
mod protocols;
mod sleeper;
mod stdout;
mod taskcluster;
mod transfer;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{
    ArtifactCommand, Cli, Command, IndexCommand, ListCommand, MirrorArgs, MirrorCommand,
    ObjectCommand, ProtocolsCommand,
};

// Downloads churn through large buffers; glibc returns them to the kernel and takes them back,
// paying a page fault per 4 KiB each time. mimalloc keeps them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.quiet());
    let result = match cli.command {
        Command::Download(args) => download::run(args).await,
        Command::Object(ObjectCommand::Download(args)) => taskcluster::object(args).await,
        Command::Artifact(ArtifactCommand::Download(args)) => taskcluster::artifact(args).await,
        Command::List(ListCommand::Crates(args)) => list::crates(args).await,
        Command::Fetch(args) => protocols::fetch(args).await,
        Command::Extract(args) => protocols::extract(args).await,
        Command::Protocols(ProtocolsCommand::List(args)) => protocols::list(args),
        Command::Index(IndexCommand::Show(args)) => index::show(args),
        Command::Index(IndexCommand::Path(args)) => index::path(args),
        Command::Index(IndexCommand::Query(args)) => index::query(args),
        Command::Index(IndexCommand::Build(args)) => index::build(args),
        Command::Index(IndexCommand::Fetch(args)) => index::fetch(args).await,
        Command::Index(IndexCommand::Warm(args)) => index::warm(args).await,
        Command::Mirror(MirrorArgs {
            command: Some(MirrorCommand::Verify(args)),
            ..
        }) => mirror::verify(args).await,
        Command::Mirror(MirrorArgs { run, .. }) => mirror::run(run).await,
        Command::Serve(args) => mirror::serve(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            if matches!(
                error.downcast_ref::<fetchkit::protocols::FetchError>(),
                Some(fetchkit::protocols::FetchError::Interrupted)
            ) {
                // What a shell reports for a command ended by Ctrl-C (128 + SIGINT).
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The error and its causes on one line. fetchkit's errors already include their cause in
/// their message, so a cause is appended only when the text so far does not contain it.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_adds_only_causes_not_yet_said() {
        let io = std::io::Error::other("disk full");
        let said = anyhow::Error::new(std::io::Error::other("cannot write: disk full"));
        assert_eq!(one_line(&said.context("x")), "x: cannot write: disk full");
        let error = anyhow::Error::new(io).context("cannot write: disk full");
        assert_eq!(one_line(&error), "cannot write: disk full");
        let error = anyhow::anyhow!("two\nlines").context("out.bin");
        assert_eq!(one_line(&error), "out.bin: two lines");
    }
}
