//! The queue's artifact download endpoints.

use serde_json::{Map, Value, json};

use super::errors::ApiError;
use super::{Endpoint, Fake, FakeArtifact, QUEUE_PREFIX, Routed, auth};
use crate::handler::HandlerReply;
use crate::request::RecordedRequest;

/// A call to `artifact`, `latestArtifact`, `getArtifact` or `getLatestArtifact`.
#[derive(Debug)]
pub(super) struct ArtifactCall {
    pub(super) task_id: String,
    /// `None` for the latest run.
    run_id: Option<u32>,
    pub(super) name: String,
    /// `getArtifact`-style: a 303 instead of JSON.
    redirect: bool,
}

pub(super) fn route(request: &RecordedRequest) -> Routed {
    match parse(request) {
        Some(routed) => routed,
        None => Routed::unknown(request),
    }
}

fn parse(request: &RecordedRequest) -> Option<Routed> {
    let rest = request.path().strip_prefix(QUEUE_PREFIX)?;
    let (task_raw, rest) = rest.strip_prefix("task/")?.split_once('/')?;
    let (run_raw, rest) = match rest.strip_prefix("runs/") {
        Some(rest) => {
            let (run, rest) = rest.split_once('/')?;
            (Some(run), rest)
        }
        None => (None, rest),
    };
    let (redirect, name_raw) = match rest.strip_prefix("artifact-content/") {
        Some(name) => (false, name),
        None => (true, rest.strip_prefix("artifacts/")?),
    };
    if task_raw.is_empty() || name_raw.is_empty() || request.method != "GET" {
        return None;
    }
    let endpoint_name = match (run_raw.is_some(), redirect) {
        (true, false) => "artifact",
        (false, false) => "latestArtifact",
        (true, true) => "getArtifact",
        (false, true) => "getLatestArtifact",
    };
    let task_id = super::decode_param(task_raw);
    let name = super::decode_param(name_raw);
    let mut params = Map::new();
    params.insert(
        "taskId".to_owned(),
        Value::from(task_id.as_deref().unwrap_or(task_raw)),
    );
    if let Some(run) = run_raw {
        params.insert("runId".to_owned(), Value::from(run));
    }
    params.insert(
        "name".to_owned(),
        Value::from(name.as_deref().unwrap_or(name_raw)),
    );
    let endpoint = (|| {
        let run_id = run_raw.map(parse_run_id).transpose()?;
        Ok(Endpoint::Artifact(ArtifactCall {
            task_id: task_id?,
            run_id,
            name: name?,
            redirect,
        }))
    })();
    Some(Routed {
        name: endpoint_name,
        params,
        endpoint,
    })
}

/// A run id as the queue's route pattern `^[1-9]*[0-9]+$` admits it.
fn parse_run_id(raw: &str) -> Result<u32, ApiError> {
    let canonical = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit())
        && (raw == "0" || !raw.starts_with('0'));
    raw.parse().ok().filter(|_| canonical).ok_or_else(|| {
        ApiError::new(
            "InvalidRequestArguments",
            format!("Invalid request arguments: runId {raw:?} is not a run number"),
        )
    })
}

/// Answers an artifact call from the stored tasks, issuing credentials for object artifacts.
pub(super) fn artifact(fake: &mut Fake, call: &ArtifactCall) -> Result<HandlerReply, ApiError> {
    let task_id = &call.task_id;
    let runs = fake
        .tasks
        .get(task_id)
        .ok_or_else(|| ApiError::new("ResourceNotFound", format!("Task {task_id} not found")))?;
    let run_id = match call.run_id {
        Some(run_id) => run_id,
        None => *runs.keys().next_back().ok_or_else(|| {
            ApiError::new("ResourceNotFound", format!("Task {task_id} has no runs"))
        })?,
    };
    let artifact = runs
        .get(&run_id)
        .ok_or_else(|| {
            ApiError::new(
                "ResourceNotFound",
                format!("Run {run_id} not found on task {task_id}"),
            )
        })?
        .get(&call.name)
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                "ResourceNotFound",
                format!(
                    "Artifact {} not found on run {run_id} of task {task_id}",
                    call.name
                ),
            )
        })?;
    if call.redirect {
        return redirect(fake, &artifact, &call.name);
    }
    let body = match artifact {
        FakeArtifact::S3 { url } => json!({"storageType": "s3", "url": url}),
        FakeArtifact::Reference { url } => json!({"storageType": "reference", "url": url}),
        FakeArtifact::Object { name } => {
            let (issued, credentials) = auth::issue(
                &fake.issuer_token,
                &format!("task-client/{task_id}/{run_id}"),
                vec![format!("object:download:{name}")],
            );
            fake.issued.push(issued);
            json!({"storageType": "object", "name": name, "credentials": credentials})
        }
        FakeArtifact::Error { reason, message } => {
            json!({"storageType": "error", "reason": reason, "message": message})
        }
        FakeArtifact::Other { storage_type } => json!({"storageType": storage_type}),
        FakeArtifact::Expired => return Err(expired(&call.name)),
    };
    Ok(HandlerReply::json(200, &body))
}

/// The `getArtifact` answer: a 303 to the data, or the error artifact's 424.
fn redirect(fake: &Fake, artifact: &FakeArtifact, name: &str) -> Result<HandlerReply, ApiError> {
    let (storage_type, url) = match artifact {
        FakeArtifact::S3 { url } => ("s3", url.clone()),
        FakeArtifact::Reference { url } => ("reference", url.clone()),
        FakeArtifact::Object { name } => {
            if !fake.objects.contains_key(name) {
                return Err(ApiError::new(
                    "ResourceNotFound",
                    format!("Object {name} not found or not finished uploading"),
                ));
            }
            ("object", fake.data_url(name))
        }
        FakeArtifact::Error { reason, message } => {
            return Ok(
                HandlerReply::json(424, &json!({"reason": reason, "message": message}))
                    .header("x-taskcluster-artifact-storage-type", "error"),
            );
        }
        FakeArtifact::Other { storage_type } => {
            return Err(ApiError::new(
                "InternalServerError",
                format!("this fake cannot redirect to an artifact of storage type {storage_type}"),
            ));
        }
        FakeArtifact::Expired => return Err(expired(name)),
    };
    Ok(
        HandlerReply::json(303, &json!({"storageType": storage_type, "url": url}))
            .header("Location", &url)
            .header("x-taskcluster-artifact-storage-type", storage_type),
    )
}

fn expired(name: &str) -> ApiError {
    ApiError::new("ResourceExpired", format!("Artifact {name} has expired"))
}

#[cfg(test)]
mod tests {
    use super::parse_run_id;

    #[test]
    fn run_ids() {
        assert_eq!(parse_run_id("0").ok(), Some(0));
        assert_eq!(parse_run_id("7").ok(), Some(7));
        assert_eq!(parse_run_id("12").ok(), Some(12));
        for bad in ["", "01", "-1", "latest", "1.0", "99999999999"] {
            assert!(parse_run_id(bad).is_err(), "{bad:?}");
        }
    }
}
