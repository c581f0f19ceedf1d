//! Fake Taskcluster object service and queue, on one [`FaultServer`].
//!
//! [`FakeTaskcluster`] answers the download half of the two services the way their schemas and
//! `taskcluster-lib-api` do: the same paths, JSON shapes, status codes and error bodies
//! (`{code, message, requestInfo}`), Hawk authentication with permanent credentials and with the
//! temporary credentials it issues for object artifacts. Object data is served by the same
//! server under `/data/` as an ordinary [`Resource`], so the data GETs get the whole fault
//! vocabulary of [`Reply`] (500s, resets, short bodies, wrong bytes, gzip, ranges). Every API
//! call is recorded as an [`ApiCall`].
//!
//! | endpoint (`ApiCall::endpoint`) | request | answers |
//! |---|---|---|
//! | `startDownload` | `PUT /api/object/v1/start-download/<name>`, body `{"acceptDownloadMethods": {"getUrl": true, "simple": true}}` (either key) | 200 `{method: "getUrl", url, expires, hashes}` (preferred) or `{method: "simple", url}`; 400 `MalformedPayload` (no `application/json` content type, bad JSON); 400 `InputValidationError` (other properties, other methods, values other than `true`); 404 `ResourceNotFound`; 406 `NoMatchingMethod` |
//! | `object` | `GET /api/object/v1/metadata/<name>` | 200 `{projectId, expires, hashes}`; 404 |
//! | `download` | `GET /api/object/v1/download/<name>` | 303 to the data URL; 404 |
//! | `artifact` | `GET /api/queue/v1/task/<taskId>/runs/<runId>/artifact-content/<name>` | 200, by storage type: `{storageType: "s3" \| "reference", url}`, `{storageType: "object", name, credentials: {clientId, accessToken, certificate}}`, `{storageType: "error", reason, message}`, `{storageType: <other>}`; 404 `ResourceNotFound` (task, run or artifact); 410 `ResourceExpired`; 400 `InvalidRequestArguments` (runId not a number) |
//! | `latestArtifact` | `GET /api/queue/v1/task/<taskId>/artifact-content/<name>` | as `artifact`, for the highest run id of the task |
//! | `getArtifact` | `GET /api/queue/v1/task/<taskId>/runs/<runId>/artifacts/<name>` | 303 with `Location`, body `{storageType, url}` and `x-taskcluster-artifact-storage-type` (s3, reference, object: to the object's data URL); 424 `{reason, message}` for error artifacts; 410; 404; 500 for other storage types |
//! | `getLatestArtifact` | `GET /api/queue/v1/task/<taskId>/artifacts/<name>` | as `getArtifact`, for the latest run |
//! | `unknown` | anything else under the two prefixes | 404 `ResourceNotFound` |
//!
//! | behaviour | implemented | not implemented |
//! |---|---|---|
//! | names | `<name>` percent-decoded (`%2F` for `/`); data URLs encode names like the Rust client (only `A-Za-z0-9_.-~` kept) | taskId slugid and name character checks |
//! | `getUrl` | `expires` = now + [`FakeObject::expires_in`] as `2024-01-01T00:00:00.000Z`; `hashes` from [`FakeObject::new`] (sha256, sha512 over the decoded data) or [`FakeObject::hashes`] | separate URL lifetime: an expired URL still serves the data |
//! | errors | `{code, message, requestInfo: {method, params, payload, time}}`, message with the `---` trailer; 401 adds `WWW-Authenticate: hawk` | `details` |
//! | Hawk | `Authorization: Hawk` header, SHA-256, MAC over method, path and query, host and port from `Host`, 15 minutes skew; key = access token bytes; a present but invalid header is 401 even when credentials are not required | payload hash (ignored, as the services do), nonce replay, bewits |
//! | credentials | with [`FakeTaskcluster::require_credentials`], an unsigned call is 401 `AuthenticationFailed` (the services answer 403 `InsufficientScopes` for anonymous); permanent credentials have every scope | clients and roles beyond that one pair |
//! | temporary credentials | issued per object-artifact answer: clientId `task-client/<taskId>/<runId>`, a certificate signed as `createTemporaryCredentials` does (issuer `static/taskcluster/queue`), scope `object:download:<name>`, one hour; accepted only with the certificate (object, not string) in the base64 `ext`, whose seed and signature must be ones this fake issued; scopes enforced (403 `InsufficientScopes`); `authorizedScopes` in `ext` narrows any credentials | certificates not issued here |
//! | scripted failures | [`FakeTaskcluster::script_api`]: per endpoint, in order, before authentication; a 2xx entry means "answer normally"; others get a schema-shaped error body (5xx: `InternalServerError` with an incident id) | resets or stalls on API calls (script those on the data instead) |
//!
//! The artifact model is a map from task and run id to artifacts; a task's runs are the run ids
//! that have artifacts, so "latest" is the highest of them. Link artifacts, listing, artifact
//! info, uploads and the other queue and object endpoints are not implemented.

mod auth;
mod errors;
mod object;
mod queue;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256, Sha512};

use crate::handler::HandlerReply;
use crate::request::RecordedRequest;
use crate::resource::{Reply, Resource};
use crate::server::FaultServer;

use self::auth::{Auth, Issued, Permanent};
use self::errors::ApiError;

const OBJECT_PREFIX: &str = "/api/object/v1/";
const QUEUE_PREFIX: &str = "/api/queue/v1/";
const DATA_PREFIX: &str = "/data/";

/// What the Rust Taskcluster client leaves unencoded in a path parameter, like Python's
/// `urllib.parse.quote(safe="")`.
const NAME_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

/// Fake Taskcluster object service and queue on one loopback [`FaultServer`]; the tables at the
/// top of `src/taskcluster.rs` list what they implement and what they do not.
///
/// ```no_run
/// use fetchkit_test_support::{FakeArtifact, FakeObject, FakeTaskcluster, Reply};
///
/// let tc = FakeTaskcluster::start();
/// tc.put_object(
///     "t/abc/0/public/build.tar",
///     FakeObject::new(&b"hello, world"[..]).data_script(vec![Reply::Status(500)]),
/// );
/// tc.put_artifact(
///     "abc",
///     0,
///     "public/build.tar",
///     FakeArtifact::Object { name: "t/abc/0/public/build.tar".to_owned() },
/// );
/// tc.script_api("artifact", [503]);
/// let root_url = tc.root_url();
/// // ... download artifact `public/build.tar` of task `abc` with the client under test ...
/// let endpoints: Vec<String> = tc.calls().into_iter().map(|c| c.endpoint).collect();
/// assert_eq!(endpoints, ["artifact", "artifact", "startDownload"]);
/// ```
pub struct FakeTaskcluster {
    server: FaultServer,
    state: Arc<Mutex<Fake>>,
}

/// One API call as the fake answered it, recorded after the reply was decided.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiCall {
    /// The API method name: `startDownload`, `object`, `download`, `artifact`,
    /// `latestArtifact`, `getArtifact`, `getLatestArtifact`, or `unknown`.
    pub endpoint: String,
    pub method: String,
    /// The path as sent, percent-encoding included, without any query.
    pub path: String,
    /// The request body parsed as JSON; `None` when it was empty or not JSON (the raw bytes are
    /// in [`FaultServer::requests`]).
    pub body: Option<Value>,
    /// The client id of a valid Hawk signature; `None` for anonymous calls and failed ones.
    pub client_id: Option<String>,
    pub status: u16,
}

/// An object in the fake object service: its data, the hashes `startDownload` reports and how
/// the data is served.
#[derive(Clone, Debug)]
pub struct FakeObject {
    data: Bytes,
    hashes: Vec<(String, String)>,
    content_type: Option<String>,
    gzip: bool,
    expires_in: i64,
    data_script: Vec<Reply>,
    methods: Vec<String>,
}

/// An artifact in the fake queue, by storage type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FakeArtifact {
    /// `{"storageType": "s3", "url": url}`.
    S3 { url: String },
    /// `{"storageType": "reference", "url": url}`.
    Reference { url: String },
    /// `{"storageType": "object", "name": name, "credentials": ...}` with fresh temporary
    /// credentials for `object:download:<name>`; `name` is an object in this fake.
    Object { name: String },
    /// `{"storageType": "error", "reason": reason, "message": message}`.
    Error { reason: String, message: String },
    /// `{"storageType": storage_type}` and nothing else, for storage types a client must refuse.
    Other { storage_type: String },
    /// Past its expiry: 410 `ResourceExpired` from every artifact endpoint.
    Expired,
}

/// The fake services' data, shared with the server thread's handlers.
#[derive(Debug)]
struct Fake {
    root_url: String,
    required: Option<Permanent>,
    /// The queue's own access token, which signs the certificates it issues.
    issuer_token: String,
    issued: Vec<Issued>,
    objects: HashMap<String, FakeObject>,
    /// taskId → runId → artifact name → artifact.
    tasks: HashMap<String, BTreeMap<u32, HashMap<String, FakeArtifact>>>,
    scripts: HashMap<String, VecDeque<u16>>,
    calls: Vec<ApiCall>,
}

impl FakeTaskcluster {
    /// Starts a [`FaultServer`] serving both services and the object data.
    ///
    /// # Panics
    ///
    /// As [`FaultServer::start`].
    pub fn start() -> FakeTaskcluster {
        let server = FaultServer::start();
        let state = Arc::new(Mutex::new(Fake {
            root_url: server.url(""),
            required: None,
            issuer_token: auth::random_token(32),
            issued: Vec::new(),
            objects: HashMap::new(),
            tasks: HashMap::new(),
            scripts: HashMap::new(),
            calls: Vec::new(),
        }));
        for (prefix, service) in [
            (OBJECT_PREFIX, Service::Object),
            (QUEUE_PREFIX, Service::Queue),
        ] {
            let state = Arc::clone(&state);
            server.handle(prefix, move |request| lock(&state).answer(service, request));
        }
        FakeTaskcluster { server, state }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the root URL to give a client.
    pub fn root_url(&self) -> String {
        self.server.url("")
    }

    /// The server underneath, for [`FaultServer::requests_to`] and extra routes (an s3 or
    /// reference artifact's URL can point at a route added here).
    pub fn server(&self) -> &FaultServer {
        &self.server
    }

    /// From now on every API call must carry a valid Hawk signature for these credentials, or
    /// for temporary credentials this fake issued; otherwise 401 `AuthenticationFailed`.
    pub fn require_credentials(&self, client_id: &str, access_token: &str) {
        self.lock().required = Some(Permanent {
            client_id: client_id.to_owned(),
            access_token: access_token.to_owned(),
        });
    }

    /// Stores (or replaces) object `name` and serves its data at [`data_url`](Self::data_url),
    /// restarting its data script.
    pub fn put_object(&self, name: &str, object: FakeObject) {
        let resource = object.resource();
        self.lock().objects.insert(name.to_owned(), object);
        self.server.route(&data_path(name), resource);
    }

    /// Stores (or replaces) artifact `name` of run `run_id` of task `task_id`.
    pub fn put_artifact(&self, task_id: &str, run_id: u32, name: &str, artifact: FakeArtifact) {
        self.lock()
            .tasks
            .entry(task_id.to_owned())
            .or_default()
            .entry(run_id)
            .or_default()
            .insert(name.to_owned(), artifact);
    }

    /// Stores `object` under the name the queue gives artifact objects,
    /// `t/<taskId>/<runId>/<name>`, and an object artifact pointing at it; returns the object
    /// name.
    pub fn put_object_artifact(
        &self,
        task_id: &str,
        run_id: u32,
        name: &str,
        object: FakeObject,
    ) -> String {
        let object_name = format!("t/{task_id}/{run_id}/{name}");
        self.put_object(&object_name, object);
        self.put_artifact(
            task_id,
            run_id,
            name,
            FakeArtifact::Object {
                name: object_name.clone(),
            },
        );
        object_name
    }

    /// Scripts the next calls to `endpoint` (an [`ApiCall::endpoint`] name such as
    /// `startDownload`, `artifact` or `latestArtifact`), consumed one per call, in order and
    /// before authentication: a 2xx entry answers normally, any other status answers with that
    /// status and an error body shaped like the services' (5xx: `InternalServerError`). Calls
    /// after the script are answered normally. Appends to what is left of an earlier script.
    pub fn script_api(&self, endpoint: &str, statuses: impl IntoIterator<Item = u16>) {
        self.lock()
            .scripts
            .entry(endpoint.to_owned())
            .or_default()
            .extend(statuses);
    }

    /// Every API call so far, in order.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.lock().calls.clone()
    }

    /// The URL `startDownload` hands out for object `name`.
    pub fn data_url(&self, name: &str) -> String {
        self.server.url(&data_path(name))
    }

    fn lock(&self) -> MutexGuard<'_, Fake> {
        lock(&self.state)
    }
}

impl fmt::Debug for FakeTaskcluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fake = self.lock();
        let mut objects: Vec<&str> = fake.objects.keys().map(String::as_str).collect();
        objects.sort_unstable();
        let mut tasks: Vec<&str> = fake.tasks.keys().map(String::as_str).collect();
        tasks.sort_unstable();
        f.debug_struct("FakeTaskcluster")
            .field("root_url", &fake.root_url)
            .field("credentials_required", &fake.required.is_some())
            .field("objects", &objects)
            .field("tasks", &tasks)
            .field("calls", &fake.calls.len())
            .finish_non_exhaustive()
    }
}

impl FakeObject {
    /// An object holding `data`, with correct `sha256` and `sha512` hashes, content type
    /// `application/octet-stream`, both download methods, and a `getUrl` lifetime of 60 s.
    pub fn new(data: impl Into<Bytes>) -> FakeObject {
        let data = data.into();
        let hashes = vec![
            ("sha256".to_owned(), hex(&Sha256::digest(&data))),
            ("sha512".to_owned(), hex(&Sha512::digest(&data))),
        ];
        FakeObject {
            data,
            hashes,
            content_type: Some("application/octet-stream".to_owned()),
            gzip: false,
            expires_in: 60,
            data_script: Vec::new(),
            methods: vec!["getUrl".to_owned(), "simple".to_owned()],
        }
    }

    /// Replaces the `hashes` map `startDownload` and `metadata` report (empty, only unknown
    /// algorithms, a wrong digest...). The data served does not change.
    pub fn hashes(mut self, hashes: Vec<(String, String)>) -> Self {
        self.hashes = hashes;
        self
    }

    /// The correct lowercase hex digests of `data`, `[("sha256", ..), ("sha512", ..)]`, for
    /// building a map with [`hashes`](Self::hashes).
    pub fn correct_hashes(data: &[u8]) -> Vec<(String, String)> {
        FakeObject::new(Bytes::copy_from_slice(data)).hashes
    }

    /// The `Content-Type` of the data responses.
    pub fn content_type(mut self, content_type: &str) -> Self {
        self.content_type = Some(content_type.to_owned());
        self
    }

    /// Data responses without `Content-Type`.
    pub fn without_content_type(mut self) -> Self {
        self.content_type = None;
        self
    }

    /// Serves the data gzip-compressed with `Content-Encoding: gzip`; the hashes stay those of
    /// the decoded data, as the object service specifies.
    pub fn gzip(mut self) -> Self {
        self.gzip = true;
        self
    }

    /// The `getUrl` answer's `expires` is now + `seconds`; zero or negative is already expired.
    pub fn expires_in(mut self, seconds: i64) -> Self {
        self.expires_in = seconds;
        self
    }

    /// Scripted replies for the data GETs, as [`Resource::script`].
    pub fn data_script(mut self, replies: Vec<Reply>) -> Self {
        self.data_script = replies;
        self
    }

    /// The download methods the object's backend supports (`getUrl`, `simple`).
    pub fn methods(mut self, methods: &[&str]) -> Self {
        self.methods = methods.iter().map(|m| (*m).to_owned()).collect();
        self
    }

    fn resource(&self) -> Resource {
        let mut resource = Resource::new(self.data.clone()).ranges(true);
        if let Some(content_type) = &self.content_type {
            resource = resource.content_type(content_type);
        }
        if self.gzip {
            resource = resource.gzip();
        }
        resource.script(self.data_script.iter().cloned())
    }

    fn hashes_json(&self) -> Value {
        Value::Object(
            self.hashes
                .iter()
                .map(|(algorithm, digest)| (algorithm.clone(), Value::from(digest.as_str())))
                .collect(),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Object,
    Queue,
}

/// An API call matched to its endpoint: the endpoint name and `requestInfo.params` even when
/// the arguments are invalid, so that the error and the call record name what the client meant.
#[derive(Debug)]
struct Routed {
    name: &'static str,
    params: Map<String, Value>,
    endpoint: Result<Endpoint, ApiError>,
}

impl Routed {
    fn unknown(request: &RecordedRequest) -> Routed {
        Routed {
            name: "unknown",
            params: Map::new(),
            endpoint: Err(ApiError::new(
                "ResourceNotFound",
                format!(
                    "this fake has no API method for {} {}",
                    request.method,
                    request.path()
                ),
            )),
        }
    }
}

#[derive(Debug)]
enum Endpoint {
    StartDownload { name: String },
    Metadata { name: String },
    Download { name: String },
    Artifact(queue::ArtifactCall),
}

impl Endpoint {
    /// The scope the call needs, checked for callers whose scopes are limited.
    fn scope(&self) -> String {
        match self {
            Endpoint::StartDownload { name }
            | Endpoint::Metadata { name }
            | Endpoint::Download { name } => format!("object:download:{name}"),
            Endpoint::Artifact(call) => format!("queue:get-artifact:{}", call.name),
        }
    }
}

impl Fake {
    fn answer(&mut self, service: Service, request: &RecordedRequest) -> HandlerReply {
        let routed = match service {
            Service::Object => object::route(request),
            Service::Queue => queue::route(request),
        };
        let body = serde_json::from_slice::<Value>(&request.body).ok();
        let auth = auth::authenticate(self.required.as_ref(), &self.issued, request);
        let client_id = match &auth {
            Auth::Valid(caller) => Some(caller.client_id.clone()),
            Auth::Anonymous | Auth::Failed(_) => None,
        };
        let context = errors::Context {
            method: routed.name,
            params: routed.params.clone(),
            // Express hands the services `{}` when there is no JSON body.
            payload: body.clone().unwrap_or_else(|| Value::Object(Map::new())),
        };
        let reply = self
            .reply(&routed, &auth, request)
            .unwrap_or_else(|error| error.reply(&context));
        self.calls.push(ApiCall {
            endpoint: routed.name.to_owned(),
            method: request.method.clone(),
            path: request.path().to_owned(),
            body,
            client_id,
            status: reply.code(),
        });
        reply
    }

    /// The answer to one routed call: scripted failures, then unknown methods and invalid
    /// arguments, then authentication and scopes, then the endpoint itself.
    fn reply(
        &mut self,
        routed: &Routed,
        auth: &Auth,
        request: &RecordedRequest,
    ) -> Result<HandlerReply, ApiError> {
        if let Some(status) = self
            .scripts
            .get_mut(routed.name)
            .and_then(VecDeque::pop_front)
            && !(200..300).contains(&status)
        {
            return Err(ApiError::scripted(status));
        }
        let endpoint = routed.endpoint.as_ref().map_err(Clone::clone)?;
        match auth {
            Auth::Failed(message) => return Err(ApiError::authentication(message.clone())),
            Auth::Anonymous if self.required.is_some() => {
                return Err(ApiError::authentication(
                    "this fake requires credentials and the request has no Authorization header"
                        .to_owned(),
                ));
            }
            Auth::Anonymous => {}
            Auth::Valid(caller) => {
                let scope = endpoint.scope();
                if !caller.satisfies(&scope) {
                    return Err(ApiError::new(
                        "InsufficientScopes",
                        format!(
                            "Client ID {} does not have sufficient scopes and is missing the \
                             following scopes:\n\n```\n{scope}\n```",
                            caller.client_id
                        ),
                    ));
                }
            }
        }
        match endpoint {
            Endpoint::StartDownload { name } => object::start_download(self, name, request),
            Endpoint::Metadata { name } => object::metadata(self, name),
            Endpoint::Download { name } => object::download(self, name),
            Endpoint::Artifact(call) => queue::artifact(self, call),
        }
    }

    fn data_url(&self, name: &str) -> String {
        format!("{}{}", self.root_url, data_path(name))
    }
}

fn lock(state: &Mutex<Fake>) -> MutexGuard<'_, Fake> {
    // A panicking test thread must not hide what the fake recorded.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn data_path(name: &str) -> String {
    format!("{DATA_PREFIX}{}", encode_name(name))
}

/// Percent-decodes a path parameter, as Express does before the services see it.
fn decode_param(raw: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| {
            ApiError::new(
                "InvalidRequestArguments",
                format!("path parameter {raw:?} does not decode to UTF-8"),
            )
        })
}

/// Percent-encodes a name as a single path segment, as the Rust Taskcluster client does.
pub(crate) fn encode_name(name: &str) -> String {
    utf8_percent_encode(name, NAME_ENCODE_SET).to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
