//! The object service's download endpoints.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::errors::{ApiError, js_date};
use super::{Endpoint, Fake, OBJECT_PREFIX, Routed};
use crate::handler::HandlerReply;
use crate::request::RecordedRequest;

/// The server's preference order, `DOWNLOAD_METHODS` in the object service.
const DOWNLOAD_METHODS: [&str; 2] = ["getUrl", "simple"];

pub(super) fn route(request: &RecordedRequest) -> Routed {
    type Make = fn(String) -> Endpoint;
    let routes: [(&str, &'static str, &str, Make); 3] = [
        ("start-download/", "startDownload", "PUT", |name| {
            Endpoint::StartDownload { name }
        }),
        ("metadata/", "object", "GET", |name| Endpoint::Metadata {
            name,
        }),
        ("download/", "download", "GET", |name| Endpoint::Download {
            name,
        }),
    ];
    let rest = request
        .path()
        .strip_prefix(OBJECT_PREFIX)
        .unwrap_or_default();
    for (segment, endpoint, method, make) in routes {
        // The name is a wildcard: it may hold slashes, encoded or not.
        if let Some(raw) = rest.strip_prefix(segment)
            && !raw.is_empty()
            && request.method == method
        {
            let decoded = super::decode_param(raw);
            let mut params = Map::new();
            params.insert(
                "name".to_owned(),
                Value::from(decoded.as_deref().unwrap_or(raw)),
            );
            return Routed {
                name: endpoint,
                params,
                endpoint: decoded.map(make),
            };
        }
    }
    Routed::unknown(request)
}

/// `startDownload`: validates the body against `download-object-request`, then negotiates.
pub(super) fn start_download(
    fake: &Fake,
    name: &str,
    request: &RecordedRequest,
) -> Result<HandlerReply, ApiError> {
    let accepted = accepted_methods(request)?;
    let object = fake.objects.get(name).ok_or_else(|| {
        ApiError::new(
            "ResourceNotFound",
            format!("Object {name} not found or not finished uploading"),
        )
    })?;
    let method = DOWNLOAD_METHODS
        .into_iter()
        .find(|m| accepted.iter().any(|a| a == m) && object.methods.iter().any(|o| o == m))
        .ok_or_else(|| {
            ApiError::new(
                "NoMatchingMethod",
                format!(
                    "No matching download method: the client accepts {accepted:?}, the object's \
                     backend supports {:?}",
                    object.methods
                ),
            )
        })?;
    let url = fake.data_url(name);
    let body = if method == "getUrl" {
        let expires = OffsetDateTime::now_utc() + time::Duration::seconds(object.expires_in);
        json!({
            "method": "getUrl",
            "url": url,
            "expires": js_date(expires),
            "hashes": object.hashes_json(),
        })
    } else {
        json!({"method": "simple", "url": url})
    };
    Ok(HandlerReply::json(200, &body))
}

/// The accepted method names, or the error the services give for a body that is not
/// `{"acceptDownloadMethods": {"getUrl": true, "simple": true}}` (either key, or none).
fn accepted_methods(request: &RecordedRequest) -> Result<Vec<String>, ApiError> {
    let content_type = request.header("Content-Type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            "MalformedPayload",
            format!(
                "Payload must be JSON with content-type: application/json got content-type: \
                 {content_type:?}"
            ),
        ));
    }
    let body: Value = serde_json::from_slice(&request.body).map_err(|error| {
        ApiError::new(
            "MalformedPayload",
            format!("Failed to parse JSON payload: {error}"),
        )
    })?;
    let invalid = |why: String| {
        ApiError::new(
            "InputValidationError",
            format!("payload does not match schema download-object-request: {why}"),
        )
    };
    let object = body
        .as_object()
        .ok_or_else(|| invalid("data must be object".to_owned()))?;
    if let Some(other) = object.keys().find(|k| *k != "acceptDownloadMethods") {
        return Err(invalid(format!(
            "data must NOT have additional properties ({other})"
        )));
    }
    let methods = object
        .get("acceptDownloadMethods")
        .ok_or_else(|| {
            invalid("data must have required property 'acceptDownloadMethods'".to_owned())
        })?
        .as_object()
        .ok_or_else(|| invalid("data/acceptDownloadMethods must be object".to_owned()))?;
    let mut accepted = Vec::new();
    for (method, value) in methods {
        if !DOWNLOAD_METHODS.contains(&method.as_str()) {
            return Err(invalid(format!(
                "data/acceptDownloadMethods must NOT have additional properties ({method})"
            )));
        }
        if value != &Value::Bool(true) {
            return Err(invalid(format!(
                "data/acceptDownloadMethods/{method} must be equal to constant true, got {value}"
            )));
        }
        accepted.push(method.clone());
    }
    Ok(accepted)
}

/// `object`: the metadata of a finished object.
pub(super) fn metadata(fake: &Fake, name: &str) -> Result<HandlerReply, ApiError> {
    let object = fake.objects.get(name).ok_or_else(|| not_found(name))?;
    let expires = OffsetDateTime::now_utc() + time::Duration::days(365);
    Ok(HandlerReply::json(
        200,
        &json!({
            "projectId": "fetchkit-test",
            "expires": js_date(expires),
            "hashes": object.hashes_json(),
        }),
    ))
}

/// `download`: the simple download, a 303 to the data.
pub(super) fn download(fake: &Fake, name: &str) -> Result<HandlerReply, ApiError> {
    if !fake.objects.contains_key(name) {
        return Err(not_found(name));
    }
    let url = fake.data_url(name);
    Ok(
        HandlerReply::text(303, &format!("See Other. Redirecting to {url}"))
            .header("Location", &url),
    )
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound",
        format!("Object {name} not found or not finished uploading"),
    )
}
