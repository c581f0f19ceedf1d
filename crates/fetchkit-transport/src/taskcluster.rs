//! Talking to a Taskcluster deployment: its root URL, credentials, Hawk-signed API calls.
//!
//! The object service ([`crate::object`]) and the queue ([`crate::artifact`]) share this
//! client. API calls are JSON over HTTP with no redirects, signed with Hawk when credentials
//! are present (anonymous otherwise), retried on 5xx and connection failures with the caller's
//! policy, and bounded by a timeout. A 4xx answer is returned at once, with the service's own
//! `message`.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use fetchkit_retry::{Retry, RetryError, Transient};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::{Client, ClientBuilder, Error};

/// Taskcluster credentials: a client id, its access token, and for temporary credentials the
/// certificate (a JSON string) that vouches for them.
///
/// The access token and the certificate never appear in `Debug` output or in errors.
#[derive(Clone)]
pub struct Credentials {
    client_id: String,
    access_token: String,
    certificate: Option<String>,
    authorized_scopes: Option<Vec<String>>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("access_token", &"***")
            .field("certificate", &self.certificate.as_ref().map(|_| "***"))
            .field("authorized_scopes", &self.authorized_scopes)
            .finish()
    }
}

impl Credentials {
    /// Permanent credentials.
    pub fn new(client_id: impl Into<String>, access_token: impl Into<String>) -> Credentials {
        Credentials {
            client_id: client_id.into(),
            access_token: access_token.into(),
            certificate: None,
            authorized_scopes: None,
        }
    }

    /// Temporary credentials carry a certificate (the JSON text the issuer gave).
    pub fn certificate(mut self, certificate: impl Into<String>) -> Credentials {
        self.certificate = Some(certificate.into());
        self
    }

    /// Limits the requests to these scopes (a subset of the credentials' own).
    pub fn authorized_scopes(mut self, scopes: Vec<String>) -> Credentials {
        self.authorized_scopes = Some(scopes);
        self
    }

    /// The client id (not secret).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `Authorization` header for a request, or an error naming what is malformed.
    fn hawk_header(&self, method: &str, url: &Url) -> Result<String, String> {
        let host = url.host_str().ok_or("the root URL has no host")?;
        let port = url
            .port_or_known_default()
            .ok_or("the root URL has no port")?;
        let mut resource = url.path().to_owned();
        if let Some(query) = url.query() {
            resource.push('?');
            resource.push_str(query);
        }
        // Taskcluster reads `ext` as base64 JSON: the certificate as an object (not its text)
        // and the scopes the request may use.
        let mut ext = serde_json::Map::new();
        if let Some(certificate) = &self.certificate {
            let parsed: Value = serde_json::from_str(certificate)
                .map_err(|error| format!("the certificate is not JSON: {error}"))?;
            ext.insert("certificate".into(), parsed);
        }
        if let Some(scopes) = &self.authorized_scopes {
            ext.insert("authorizedScopes".into(), scopes.clone().into());
        }
        let ext = (!ext.is_empty()).then(|| {
            base64::engine::general_purpose::STANDARD.encode(Value::Object(ext).to_string())
        });
        let key = hawk::Key::new(self.access_token.as_bytes(), hawk::DigestAlgorithm::Sha256)
            .map_err(|error| format!("cannot use the access token as a key: {error}"))?;
        let credentials = hawk::Credentials {
            id: self.client_id.clone(),
            key,
        };
        let header = hawk::RequestBuilder::new(method, host, port, &resource)
            .ext(ext.as_deref())
            .request()
            .make_header(&credentials)
            .map_err(|error| format!("cannot sign the request: {error}"))?;
        Ok(format!("Hawk {header}"))
    }
}

/// A failed Taskcluster operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskclusterError {
    /// Moving the data failed (after the API calls succeeded).
    #[error(transparent)]
    Download(#[from] Error),
    /// The root URL is not usable.
    #[error("invalid root URL {input:?}: {reason}")]
    InvalidRootUrl {
        /// The text given, without credentials or query.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The credentials cannot sign a request.
    #[error("invalid credentials for client {client_id:?}: {reason}")]
    InvalidCredentials {
        /// The client id (not secret).
        client_id: String,
        /// What is wrong.
        reason: String,
    },
    /// An API call failed: the service answered with an error, or could not be reached.
    #[error("{service} {operation}: {}{message}{}", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default(), attempts_suffix(*.attempts))]
    Api {
        /// `object` or `queue`.
        service: &'static str,
        /// The API method, as the service names it (`startDownload`, `artifact`, ...).
        operation: &'static str,
        /// The HTTP status, when the service answered.
        status: Option<u16>,
        /// The service's own `message`, or the transport's error.
        message: String,
        /// Whether trying again later may help.
        transient: bool,
        /// Attempts made.
        attempts: u32,
    },
    /// An API answer did not follow the service's schema.
    #[error("{service} {operation}: invalid response: {detail}")]
    InvalidResponse {
        /// `object` or `queue`.
        service: &'static str,
        /// The API method.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The object service chose a download method fetchkit did not propose.
    #[error(
        "object {name:?}: the service chose download method {method:?}, which was not proposed"
    )]
    UnknownMethod {
        /// The object.
        name: String,
        /// The method it named.
        method: String,
    },
    /// The object's metadata has no hash fetchkit can verify the data with.
    #[error(
        "object {name:?}: no acceptable hash (sha256 or sha512) to verify against, only [{}]",
        .algorithms.join(", ")
    )]
    NoAcceptableHash {
        /// The object.
        name: String,
        /// The algorithms the service listed.
        algorithms: Vec<String>,
    },
    /// The artifact is an error artifact: the worker could not upload it.
    #[error("artifact {name:?} of task {task_id} is an error artifact: {reason}: {message}")]
    ErrorArtifact {
        /// The task.
        task_id: String,
        /// The artifact.
        name: String,
        /// The worker's reason code, e.g. `file-missing-on-worker`.
        reason: String,
        /// The worker's message.
        message: String,
    },
    /// The artifact's storage type is not one fetchkit knows.
    #[error("artifact {name:?} of task {task_id} has unknown storage type {storage_type:?}")]
    UnknownStorageType {
        /// The task.
        task_id: String,
        /// The artifact.
        name: String,
        /// The storage type the queue named.
        storage_type: String,
    },
    /// The artifact is a `reference` (a URL the task chose) and references were refused.
    #[error(
        "artifact {name:?} of task {task_id} is a reference to {url}, and references are refused"
    )]
    ReferenceRefused {
        /// The task.
        task_id: String,
        /// The artifact.
        name: String,
        /// Where it points, redacted.
        url: String,
    },
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl TaskclusterError {
    /// Whether trying the whole operation again later may help.
    pub fn is_transient(&self) -> bool {
        match self {
            TaskclusterError::Download(error) => error.is_transient(),
            TaskclusterError::Api { transient, .. } => *transient,
            _ => false,
        }
    }
}

impl Transient for TaskclusterError {
    fn is_transient(&self) -> bool {
        TaskclusterError::is_transient(self)
    }
}

/// A client for one Taskcluster deployment. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Taskcluster {
    pub(crate) root_url: Url,
    pub(crate) credentials: Option<Credentials>,
    /// API calls and `getUrl` data: redirects are not followed (the services never redirect
    /// there, and a redirect would take signed requests elsewhere).
    pub(crate) strict: Client,
    /// `s3` and `reference` artifact URLs: ordinary URLs, redirects followed.
    pub(crate) follow: Client,
    pub(crate) api_timeout: Duration,
    pub(crate) allow_simple: bool,
    pub(crate) refuse_references: bool,
}

impl Taskcluster {
    /// A client for the deployment at `root_url`, with default HTTP settings.
    pub fn new(
        root_url: &str,
        credentials: Option<Credentials>,
    ) -> Result<Taskcluster, TaskclusterError> {
        Taskcluster::with_client_builder(root_url, credentials, ClientBuilder::default())
    }

    /// A client whose HTTP connections use `builder`'s timeouts and user agent.
    pub fn with_client_builder(
        root_url: &str,
        credentials: Option<Credentials>,
        builder: ClientBuilder,
    ) -> Result<Taskcluster, TaskclusterError> {
        let invalid = |reason: String| TaskclusterError::InvalidRootUrl {
            input: crate::download::redact_unparsed(root_url),
            reason,
        };
        let mut parsed = Url::parse(root_url).map_err(|error| invalid(error.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(invalid("expected an http or https URL with a host".into()));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() || parsed.query().is_some()
        {
            return Err(invalid("a root URL carries no credentials or query".into()));
        }
        // Endpoint paths are appended below the root, with or without a trailing slash.
        let trimmed = parsed.path().trim_end_matches('/').to_owned();
        parsed.set_path(&trimmed);
        let read_timeout = builder.read_timeout_setting();
        let client_error = |error: Error| invalid(format!("cannot set up HTTP: {error}"));
        Ok(Taskcluster {
            root_url: parsed,
            credentials,
            strict: builder
                .clone()
                .max_redirects(0)
                .build()
                .map_err(client_error)?,
            follow: builder.build().map_err(client_error)?,
            api_timeout: read_timeout,
            allow_simple: false,
            refuse_references: false,
        })
    }

    /// Also propose the object service's `simple` method, which has no hashes and so is not
    /// verified. Off by default: proposing it invites a downgrade to unverified data.
    pub fn allow_simple_downloads(mut self, yes: bool) -> Taskcluster {
        self.allow_simple = yes;
        self
    }

    /// Refuse `reference` artifacts, whose URL the task chose and which may point anywhere.
    pub fn refuse_references(mut self, yes: bool) -> Taskcluster {
        self.refuse_references = yes;
        self
    }

    /// The deployment's root URL.
    pub fn root_url(&self) -> &Url {
        &self.root_url
    }

    /// The same deployment and settings with other credentials (the queue hands out temporary
    /// ones for `object` artifacts).
    pub(crate) fn with_credentials(&self, credentials: Credentials) -> Taskcluster {
        Taskcluster {
            credentials: Some(credentials),
            ..self.clone()
        }
    }

    /// `{root}/api/{service}/v1/{segments joined by /, each percent-encoded}`.
    pub(crate) fn endpoint(&self, service: &str, segments: &[&str]) -> Url {
        let mut url = self.root_url.clone();
        // A root URL without a path still has "/" as its path.
        let mut path = format!("{}/api/{service}/v1", url.path().trim_end_matches('/'));
        for segment in segments {
            path.push('/');
            path.push_str(&encode_segment(segment));
        }
        url.set_path(&path);
        url
    }

    /// One API call: JSON in, JSON out, signed, retried on transient failures.
    pub(crate) async fn call(
        &self,
        retry: &Retry,
        method: Method,
        service: &'static str,
        operation: &'static str,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Value, TaskclusterError> {
        // Each attempt is signed afresh: a Hawk header carries a timestamp and a nonce, and a
        // retry that reused the first attempt's would be refused once the service's clock-skew
        // window (15 minutes) has passed. Signing once up front turns bad credentials into an
        // error before any request.
        let sign = || match &self.credentials {
            Some(credentials) => credentials
                .hawk_header(method.as_str(), &url)
                .map(Some)
                .map_err(|reason| TaskclusterError::InvalidCredentials {
                    client_id: credentials.client_id.clone(),
                    reason,
                }),
            None => Ok(None),
        };
        sign()?;
        let attempt = |_| {
            let mut request = self
                .strict
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::ACCEPT, "application/json");
            // Signing succeeded above with the same inputs; it cannot fail now.
            if let Ok(Some(authorization)) = sign() {
                request = request.header(reqwest::header::AUTHORIZATION, authorization);
            }
            request = match body {
                Some(body) => request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string()),
                None => request.header(reqwest::header::CONTENT_LENGTH, "0"),
            };
            async move {
                let exchange = async {
                    let response = request.send().await.map_err(ApiFailure::transport)?;
                    let status = response.status();
                    let text = response.text().await.map_err(ApiFailure::transport)?;
                    Ok::<_, ApiFailure>((status, text))
                };
                let (status, text) = tokio::time::timeout(self.api_timeout, exchange)
                    .await
                    .map_err(|_| ApiFailure {
                        status: None,
                        message: format!("no answer within {:.1}s", self.api_timeout.as_secs_f64()),
                        transient: true,
                    })??;
                if status.is_success() {
                    return serde_json::from_str::<Value>(&text).map_err(|error| ApiFailure {
                        status: Some(status.as_u16()),
                        message: format!("the answer is not JSON: {error}"),
                        transient: false,
                    });
                }
                Err(ApiFailure {
                    status: Some(status.as_u16()),
                    message: service_message(status, &text),
                    transient: status.is_server_error(),
                })
            }
        };
        retry.run(attempt).await.map_err(
            |RetryError {
                 error, attempts, ..
             }| TaskclusterError::Api {
                service,
                operation,
                status: error.status,
                message: error.message,
                transient: error.transient,
                attempts,
            },
        )
    }
}

/// An API answer being read: field access whose errors name the service and operation.
pub(crate) struct Answer<'a> {
    pub(crate) value: &'a Value,
    pub(crate) service: &'static str,
    pub(crate) operation: &'static str,
}

impl<'a> Answer<'a> {
    pub(crate) fn invalid(&self, detail: String) -> TaskclusterError {
        TaskclusterError::InvalidResponse {
            service: self.service,
            operation: self.operation,
            detail,
        }
    }

    /// A required string field.
    pub(crate) fn text(&self, field: &str) -> Result<&'a str, TaskclusterError> {
        self.value
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| self.invalid(format!("no {field:?} string")))
    }

    /// A required http or https URL field.
    pub(crate) fn url(&self, field: &str) -> Result<Url, TaskclusterError> {
        let url = Url::parse(self.text(field)?)
            .map_err(|error| self.invalid(format!("{field}: {error}")))?;
        match url.scheme() {
            "http" | "https" => Ok(url),
            other => Err(self.invalid(format!("{field}: unsupported scheme {other:?}"))),
        }
    }
}

/// One failed API attempt.
#[derive(Debug)]
struct ApiFailure {
    status: Option<u16>,
    message: String,
    transient: bool,
}

impl ApiFailure {
    fn transport(error: reqwest::Error) -> ApiFailure {
        // Connection failures and broken answers are worth another try; the message is the
        // transport's root cause, without the URL (which may be signed).
        let kind = crate::ErrorKind::from_reqwest(error);
        ApiFailure {
            status: None,
            transient: kind.is_transient(),
            message: kind.to_string(),
        }
    }
}

impl Transient for ApiFailure {
    fn is_transient(&self) -> bool {
        self.transient
    }
}

/// The service's error `message` (its JSON error body), else the status's reason phrase.
fn service_message(status: reqwest::StatusCode, body: &str) -> String {
    let from_body = serde_json::from_str::<Value>(body).ok().and_then(|value| {
        let message = value.get("message")?.as_str()?;
        // Taskcluster messages can span lines (they quote the request); keep the first.
        Some(message.lines().next().unwrap_or_default().trim().to_owned())
    });
    match from_body {
        Some(message) if !message.is_empty() => message,
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    }
}

/// Percent-encodes a path segment as Taskcluster's clients do: everything but ASCII letters,
/// digits and `_ . - ~`, so a `/` in an object or artifact name stays inside its segment.
pub(crate) fn encode_segment(segment: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'_')
        .remove(b'.')
        .remove(b'-')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(segment, KEEP).to_string()
}
