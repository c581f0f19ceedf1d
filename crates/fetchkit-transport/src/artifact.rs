//! Downloads of Taskcluster task artifacts, through the queue.
//!
//! `GET {root}/api/queue/v1/task/{taskId}/runs/{runId}/artifact-content/{name}` (or
//! `.../task/{taskId}/artifact-content/{name}` for the latest run) says how the artifact is
//! stored:
//!
//! | storage type | what happens |
//! |---|---|
//! | `s3`, `reference` | the URL is downloaded (redirects followed, gzip decoded); there are no hashes to verify. A `reference` points wherever the task said, so it can be refused ([`Taskcluster::refuse_references`]). |
//! | `object` | the queue's temporary credentials (`clientId`, `accessToken`, `certificate`) negotiate with the object service, and the data is verified against the object's hashes |
//! | `error` | an error carrying the artifact's `reason` and `message` |
//! | anything else | an "unknown storage type" error |

use std::path::Path;

use fetchkit_retry::{AsyncWriterFactory, AtomicFile, Retry, SliceFactory};
use reqwest::Method;
use serde_json::Value;

use crate::download_with_factory as transfer;
use crate::object::{Delivered, fetch};
use crate::taskcluster::{Answer, Credentials, Taskcluster, TaskclusterError};
use crate::{Download, RedactedUrl};

/// Downloads an artifact into a fresh `Vec`; returns it with the content type. `run_id`
/// `None` means the task's latest run.
pub async fn download_artifact_to_vec(
    task_id: &str,
    run_id: Option<u32>,
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
) -> Result<(Vec<u8>, String), TaskclusterError> {
    let mut data = Vec::new();
    let delivered =
        download_artifact_with_factory(task_id, run_id, name, retry, client, &mut data).await?;
    Ok((data, delivered.content_type))
}

/// Downloads an artifact into `buffer`; returns the filled part and the content type.
pub async fn download_artifact_to_buf<'b>(
    task_id: &str,
    run_id: Option<u32>,
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
    buffer: &'b mut [u8],
) -> Result<(&'b mut [u8], String), TaskclusterError> {
    let mut factory = SliceFactory::new(buffer);
    let delivered =
        download_artifact_with_factory(task_id, run_id, name, retry, client, &mut factory).await?;
    Ok((factory.into_filled(), delivered.content_type))
}

/// Downloads an artifact to `path`, atomically.
pub async fn download_artifact_to_file(
    task_id: &str,
    run_id: Option<u32>,
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
    path: &Path,
) -> Result<Delivered, TaskclusterError> {
    let mut factory = AtomicFile::new(path);
    download_artifact_with_factory(task_id, run_id, name, retry, client, &mut factory).await
}

/// Downloads an artifact into any writer factory.
pub async fn download_artifact_with_factory<F: AsyncWriterFactory>(
    task_id: &str,
    run_id: Option<u32>,
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
    factory: &mut F,
) -> Result<Delivered, TaskclusterError> {
    let (operation, url) = match run_id {
        Some(run_id) => (
            "artifact",
            client.endpoint(
                "queue",
                &[
                    "task",
                    task_id,
                    "runs",
                    &run_id.to_string(),
                    "artifact-content",
                    name,
                ],
            ),
        ),
        None => (
            "latestArtifact",
            client.endpoint("queue", &["task", task_id, "artifact-content", name]),
        ),
    };
    let answer = client
        .call(retry, Method::GET, "queue", operation, url, None)
        .await?;
    let answer = Answer {
        value: &answer,
        service: "queue",
        operation,
    };
    let invalid = |detail: String| answer.invalid(detail);
    let text = |field: &str| answer.text(field);
    match text("storageType")? {
        storage @ ("s3" | "reference") => {
            let url = answer.url("url")?;
            if storage == "reference" && client.refuse_references {
                return Err(TaskclusterError::ReferenceRefused {
                    task_id: task_id.to_owned(),
                    name: name.to_owned(),
                    url: RedactedUrl::new(url).to_string(),
                });
            }
            let downloaded = transfer(&client.follow, retry, &Download::new(url), factory).await?;
            Ok(Delivered::from(downloaded))
        }
        "object" => {
            let object_name = text("name")?;
            let credentials = answer
                .value
                .get("credentials")
                .ok_or_else(|| invalid("no \"credentials\"".into()))?;
            let credentials = temporary_credentials(credentials).map_err(invalid)?;
            fetch(
                object_name,
                retry,
                &client.with_credentials(credentials),
                factory,
            )
            .await
        }
        "error" => Err(TaskclusterError::ErrorArtifact {
            task_id: task_id.to_owned(),
            name: name.to_owned(),
            reason: text("reason").unwrap_or("unknown").to_owned(),
            message: text("message").unwrap_or("").to_owned(),
        }),
        other => Err(TaskclusterError::UnknownStorageType {
            task_id: task_id.to_owned(),
            name: name.to_owned(),
            storage_type: other.to_owned(),
        }),
    }
}

/// The queue's temporary credentials, camelCase as its schema (`object-credentials.yml`) and
/// every Taskcluster service write them. (One published client reads snake_case keys and so
/// never finds them; fetchkit reads the schema's names.)
fn temporary_credentials(value: &Value) -> Result<Credentials, String> {
    let field = |name: &str| value.get(name).and_then(Value::as_str);
    let client_id = field("clientId").ok_or("credentials have no \"clientId\" string")?;
    let access_token = field("accessToken").ok_or("credentials have no \"accessToken\" string")?;
    let mut credentials = Credentials::new(client_id, access_token);
    if let Some(certificate) = field("certificate") {
        credentials = credentials.certificate(certificate);
    }
    Ok(credentials)
}
