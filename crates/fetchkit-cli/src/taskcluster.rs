//! `fetchkit object download` and `fetchkit artifact download`: a Taskcluster object or task
//! artifact to a file or stdout.
//!
//! The deployment comes from `--root-url` or `TASKCLUSTER_ROOT_URL`, credentials only from
//! `TASKCLUSTER_CLIENT_ID`, `TASKCLUSTER_ACCESS_TOKEN` and `TASKCLUSTER_CERTIFICATE` (the
//! variables every Taskcluster client reads). The access token and certificate go to the
//! library and nowhere else: they are never logged, and the library's errors leave them out.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail};
use fetchkit::retry::{AsyncWriterFactory, AtomicFile, Retry};
use fetchkit::transport::artifact::download_artifact_with_factory;
use fetchkit::transport::object::{self, Delivered};
use fetchkit::transport::taskcluster::{Credentials, Taskcluster, TaskclusterError};

use crate::cli::{ArtifactDownloadArgs, DeploymentArgs, ObjectDownloadArgs, TransferArgs};
use crate::logging;
use crate::progress::{Bar, Counting};
use crate::stdout::StdoutFactory;
use crate::transfer::{self, Destination};

const ROOT_URL: &str = "TASKCLUSTER_ROOT_URL";
const CLIENT_ID: &str = "TASKCLUSTER_CLIENT_ID";
const ACCESS_TOKEN: &str = "TASKCLUSTER_ACCESS_TOKEN";
const CERTIFICATE: &str = "TASKCLUSTER_CERTIFICATE";

pub(crate) async fn object(args: ObjectDownloadArgs) -> anyhow::Result<()> {
    let source = Source::Object { name: args.name };
    run(
        &source,
        &args.output,
        &args.deployment,
        &args.transfer,
        |client| client,
    )
    .await
}

pub(crate) async fn artifact(args: ArtifactDownloadArgs) -> anyhow::Result<()> {
    let source = Source::Artifact {
        task_id: args.task_id,
        run_id: args.run_id,
        name: args.name,
    };
    let refuse = args.no_reference;
    run(
        &source,
        &args.output,
        &args.deployment,
        &args.transfer,
        |client| client.refuse_references(refuse),
    )
    .await
}

/// What to download.
#[derive(Debug)]
enum Source {
    Object {
        name: String,
    },
    Artifact {
        task_id: String,
        /// `None`: the task's latest run.
        run_id: Option<u32>,
        name: String,
    },
}

impl Source {
    async fn fetch<F: AsyncWriterFactory>(
        &self,
        retry: &Retry,
        client: &Taskcluster,
        factory: &mut F,
    ) -> Result<Delivered, TaskclusterError> {
        match self {
            Source::Object { name } => {
                object::download_with_factory(name, retry, client, factory).await
            }
            Source::Artifact {
                task_id,
                run_id,
                name,
            } => {
                download_artifact_with_factory(task_id, *run_id, name, retry, client, factory).await
            }
        }
    }
}

/// The flow both commands share: settings, destination, client, transfer, summary.
async fn run(
    source: &Source,
    output: &Path,
    deployment: &DeploymentArgs,
    transfer_args: &TransferArgs,
    configure: impl FnOnce(Taskcluster) -> Taskcluster,
) -> anyhow::Result<()> {
    let (root_url, credentials) = settings(deployment.root_url.as_deref(), |name| {
        std::env::var_os(name)
    })?;
    let destination = Destination::check(output)?;

    let client_id = credentials
        .as_ref()
        .map(|credentials| credentials.client_id().to_owned());
    let client = Taskcluster::with_client_builder(
        &root_url,
        credentials,
        transfer::client_builder(transfer_args),
    )?;
    let client = configure(client);
    // The root URL has passed the library's checks here: no user info, no query.
    tracing::debug!(
        root_url = %client.root_url(),
        client_id = client_id.as_deref().unwrap_or("(anonymous)"),
        "taskcluster deployment"
    );
    let retry = transfer::retry(transfer_args);
    let quiet = transfer_args.quiet;
    let bar = Bar::for_stderr(quiet).map(Arc::new);
    if let Some(bar) = &bar {
        logging::set_progress_bar(bar.handle().clone());
    }

    let started = Instant::now();
    let result = match &destination {
        Destination::Stdout => {
            let mut factory = Counting::new(StdoutFactory::new(), bar.clone());
            source.fetch(&retry, &client, &mut factory).await
        }
        Destination::File(path) => {
            let mut factory = Counting::new(AtomicFile::new(path), bar.clone());
            source.fetch(&retry, &client, &mut factory).await
        }
        Destination::Stream(path) => {
            let stream = StdoutFactory::open(path)
                .await
                .map_err(|error| anyhow!("{}: cannot open for writing: {error}", path.display()))?;
            let mut factory = Counting::new(stream, bar.clone());
            source.fetch(&retry, &client, &mut factory).await
        }
    };
    if let Some(bar) = &bar {
        bar.clear();
        logging::clear_progress_bar();
    }
    let delivered = result?;

    if !quiet {
        let line = transfer::summary(
            &delivered.download,
            &destination.name(),
            started.elapsed(),
            Some(&delivered.content_type),
        );
        eprintln!("{line}");
    }
    Ok(())
}

/// The root URL (the flag wins over the environment) and the credentials, if any, from
/// `var`. Empty variables count as unset, as in CI configurations that blank them.
fn settings(
    root_url_flag: Option<&str>,
    var: impl Fn(&str) -> Option<OsString>,
) -> anyhow::Result<(String, Option<Credentials>)> {
    let text = |name: &str| -> anyhow::Result<Option<String>> {
        match var(name) {
            None => Ok(None),
            Some(value) if value.is_empty() => Ok(None),
            // The value is not shown: it may be a secret.
            Some(value) => value
                .into_string()
                .map(Some)
                .map_err(|_| anyhow!("{name} is not valid UTF-8")),
        }
    };
    let root_url = match root_url_flag {
        Some(flag) => flag.to_owned(),
        None => text(ROOT_URL)?.ok_or_else(|| {
            anyhow!("no Taskcluster root URL: pass --root-url URL or set {ROOT_URL}")
        })?,
    };
    let credentials = match (text(CLIENT_ID)?, text(ACCESS_TOKEN)?) {
        (Some(client_id), Some(access_token)) => {
            let mut credentials = Credentials::new(client_id, access_token);
            if let Some(certificate) = text(CERTIFICATE)? {
                credentials = credentials.certificate(certificate);
            }
            Some(credentials)
        }
        (Some(_), None) => bail!(
            "{CLIENT_ID} is set but {ACCESS_TOKEN} is not: set both, or neither to download \
             anonymously"
        ),
        (None, Some(_)) => bail!(
            "{ACCESS_TOKEN} is set but {CLIENT_ID} is not: set both, or neither to download \
             anonymously"
        ),
        (None, None) => {
            if text(CERTIFICATE)?.is_some() {
                bail!("{CERTIFICATE} is set but {CLIENT_ID} and {ACCESS_TOKEN} are not");
            }
            None
        }
    };
    Ok((root_url, credentials))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `settings` with `flag` and the environment `env`, as `root_url client_id` or the error.
    #[track_caller]
    fn check(flag: Option<&str>, env: &[(&str, &str)], expected: &str) {
        let var = |name: &str| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        };
        check_with(flag, var, expected);
    }

    #[track_caller]
    fn check_with(flag: Option<&str>, var: impl Fn(&str) -> Option<OsString>, expected: &str) {
        let got = match settings(flag, var) {
            Ok((root_url, credentials)) => format!(
                "{root_url} {}",
                credentials.as_ref().map_or("-", Credentials::client_id)
            ),
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn root_url_from_flag_or_environment() {
        let env = &[(ROOT_URL, "http://env")];
        check(Some("http://flag"), env, "http://flag -");
        check(None, env, "http://env -");
        check(Some("http://flag"), &[], "http://flag -");
        let missing =
            "error: no Taskcluster root URL: pass --root-url URL or set TASKCLUSTER_ROOT_URL";
        check(None, &[], missing);
        check(None, &[(ROOT_URL, "")], missing);
    }

    #[test]
    fn credentials_come_in_pairs() {
        let url = Some("http://tc");
        let (id, token, certificate) = (
            (CLIENT_ID, "me"),
            (ACCESS_TOKEN, "secret"),
            (CERTIFICATE, "{\"seed\": \"secret\"}"),
        );
        check(url, &[id, token], "http://tc me");
        check(url, &[id, token, certificate], "http://tc me");
        let no_token = "error: TASKCLUSTER_CLIENT_ID is set but TASKCLUSTER_ACCESS_TOKEN is \
                        not: set both, or neither to download anonymously";
        check(url, &[id], no_token);
        check(url, &[id, (ACCESS_TOKEN, "")], no_token);
        check(url, &[id, certificate], no_token);
        check(
            url,
            &[token],
            "error: TASKCLUSTER_ACCESS_TOKEN is set but TASKCLUSTER_CLIENT_ID is not: set \
             both, or neither to download anonymously",
        );
        check(
            url,
            &[certificate],
            "error: TASKCLUSTER_CERTIFICATE is set but TASKCLUSTER_CLIENT_ID and \
             TASKCLUSTER_ACCESS_TOKEN are not",
        );
    }

    #[cfg(unix)]
    #[test]
    fn values_that_are_not_utf8_are_not_shown() {
        use std::os::unix::ffi::OsStringExt as _;

        let var = |name: &str| match name {
            CLIENT_ID => Some(OsString::from("me")),
            ACCESS_TOKEN => Some(OsString::from_vec(b"secret\xff".to_vec())),
            _ => None,
        };
        check_with(
            Some("http://tc"),
            var,
            "error: TASKCLUSTER_ACCESS_TOKEN is not valid UTF-8",
        );
    }
}
