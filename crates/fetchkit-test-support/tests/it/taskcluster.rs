//! The fake Taskcluster services, driven with a plain TCP client, serde_json and the hawk crate.

use std::io::Read as _;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fetchkit_test_support::{ApiCall, FakeArtifact, FakeObject, FakeTaskcluster, Reply};
use serde_json::{Value, json};

use crate::client::{Conn, Response};

const HELLO: &[u8] = b"hello, world";
/// sha256 of `hello, world`, as `sha256sum` prints it.
const HELLO_SHA256: &str = "09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b";
/// sha512 of `hello, world`, as `sha512sum` prints it.
const HELLO_SHA512: &str = "8710339dcb6814d0d9d2290ef422285c9322b7163951f9a0ca8f883d3305286f44139aa374848e4174f5aada663027e4548637b6d19894aec4fb6c46a139fbf9";

/// Credentials a test signs with; `certificate` is the JSON string the queue hands out.
#[derive(Clone, Debug)]
struct Creds {
    client_id: String,
    access_token: String,
    certificate: Option<String>,
}

impl Creds {
    fn permanent(client_id: &str, access_token: &str) -> Creds {
        Creds {
            client_id: client_id.to_owned(),
            access_token: access_token.to_owned(),
            certificate: None,
        }
    }

    /// The `credentials` object of an object artifact's answer.
    fn from_json(credentials: &Value) -> Creds {
        Creds {
            client_id: credentials["clientId"].as_str().unwrap().to_owned(),
            access_token: credentials["accessToken"].as_str().unwrap().to_owned(),
            certificate: Some(credentials["certificate"].as_str().unwrap().to_owned()),
        }
    }

    /// `ext` as the Rust client builds it: URL-safe unpadded base64 of `{"certificate": {..}}`.
    fn ext(&self) -> Option<String> {
        let certificate: Value = serde_json::from_str(self.certificate.as_ref()?).unwrap();
        Some(URL_SAFE_NO_PAD.encode(json!({ "certificate": certificate }).to_string()))
    }
}

/// One API call's answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    json: Value,
    response: Response,
}

/// A client of the fake: requests carry `Host: 127.0.0.1:PORT` and, given credentials, a Hawk
/// header signed for exactly that host, port, method and path.
struct Api<'a> {
    tc: &'a FakeTaskcluster,
    conn: Conn,
}

impl<'a> Api<'a> {
    fn new(tc: &'a FakeTaskcluster) -> Api<'a> {
        Api {
            tc,
            conn: Conn::open_with_port(tc.server()),
        }
    }

    fn port(&self) -> u16 {
        self.tc.server().addr().port()
    }

    fn call(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        auth: Option<String>,
    ) -> Answer {
        let body = body.map(|b| b.to_string().into_bytes());
        let mut headers = Vec::new();
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth.as_str()));
        }
        let response = match &body {
            Some(body) => self.conn.request_with_body(method, path, &headers, body),
            None => self.conn.request(method, path, &headers),
        };
        let json = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body).unwrap_or_else(|error| {
                panic!(
                    "{method} {path}: body is not JSON ({error}): {:?}",
                    String::from_utf8_lossy(&response.body)
                )
            })
        };
        Answer {
            status: response.head.status,
            json,
            response,
        }
    }

    /// A Hawk `Authorization` value for `method path` on this server, with the certificate in
    /// `ext` and a payload hash when there is a body, as the Rust client signs.
    fn sign(&self, creds: &Creds, method: &str, path: &str, body: Option<&Value>) -> String {
        self.sign_with_ext(creds, method, path, body, creds.ext())
    }

    fn sign_with_ext(
        &self,
        creds: &Creds,
        method: &str,
        path: &str,
        body: Option<&Value>,
        ext: Option<String>,
    ) -> String {
        let key = hawk::Key::new(creds.access_token.as_bytes(), hawk::SHA256).unwrap();
        let credentials = hawk::Credentials {
            id: creds.client_id.clone(),
            key,
        };
        let hash = body.map(|body| {
            hawk::PayloadHasher::hash("application/json", hawk::SHA256, body.to_string()).unwrap()
        });
        let mut request = hawk::RequestBuilder::new(method, "127.0.0.1", self.port(), path);
        if let Some(hash) = &hash {
            request = request.hash(&hash[..]);
        }
        let header = request
            .ext(ext.as_deref())
            .request()
            .make_header(&credentials)
            .unwrap();
        format!("Hawk {header}")
    }

    fn start_download(&mut self, name: &str, body: &Value, creds: Option<&Creds>) -> Answer {
        let path = start_download_path(name);
        let auth = creds.map(|c| self.sign(c, "PUT", &path, Some(body)));
        self.call("PUT", &path, Some(body), auth)
    }

    fn get(&mut self, path: &str, creds: Option<&Creds>) -> Answer {
        let auth = creds.map(|c| self.sign(c, "GET", path, None));
        self.call("GET", path, None, auth)
    }
}

/// Encodes a name as the Rust client does: only `A-Za-z0-9_.-~` stay as they are.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn start_download_path(name: &str) -> String {
    format!("/api/object/v1/start-download/{}", encode(name))
}

fn artifact_path(task_id: &str, run_id: Option<u32>, name: &str) -> String {
    match run_id {
        Some(run) => format!(
            "/api/queue/v1/task/{task_id}/runs/{run}/artifact-content/{}",
            encode(name)
        ),
        None => format!(
            "/api/queue/v1/task/{task_id}/artifact-content/{}",
            encode(name)
        ),
    }
}

fn get_url() -> Value {
    json!({"acceptDownloadMethods": {"getUrl": true}})
}

/// Asserts the error body the services send: `{code, message, requestInfo}`.
#[track_caller]
fn assert_error(answer: &Answer, status: u16, code: &str, method: &str) {
    assert_eq!(answer.status, status, "{:#}", answer.json);
    assert_eq!(answer.json["code"], code, "{:#}", answer.json);
    assert_eq!(answer.json["requestInfo"]["method"], method);
    let message = answer.json["message"]
        .as_str()
        .expect("message is a string");
    assert!(
        message.contains(&format!("* errorCode:  {code}")),
        "{message}"
    );
    assert!(answer.json["requestInfo"]["time"].is_string());
    assert!(answer.json["requestInfo"]["params"].is_object());
}

fn parse_time(value: &Value) -> SystemTime {
    let text = value.as_str().expect("a date-time string");
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|error| panic!("{text:?} is not RFC 3339: {error}"));
    SystemTime::from(parsed)
}

/// Fetches a data URL the fake handed out, on a fresh connection.
fn fetch(tc: &FakeTaskcluster, url: &str) -> Response {
    let path = url
        .strip_prefix(&tc.root_url())
        .unwrap_or_else(|| panic!("{url} is not on the fake"));
    Conn::open(tc.server()).get(path)
}

fn endpoints(calls: &[ApiCall]) -> Vec<&str> {
    calls.iter().map(|c| c.endpoint.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Object service.

#[test]
fn start_download_get_url_happy_path() {
    let tc = FakeTaskcluster::start();
    tc.put_object(
        "public/hello.txt",
        FakeObject::new(HELLO).content_type("text/plain"),
    );
    let mut api = Api::new(&tc);
    let before = SystemTime::now();
    let answer = api.start_download("public/hello.txt", &get_url(), None);
    assert_eq!(answer.status, 200, "{:#}", answer.json);
    assert_eq!(
        answer.response.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    let body = answer.json.as_object().unwrap();
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["expires", "hashes", "method", "url"]);
    assert_eq!(body["method"], "getUrl");
    let url = body["url"].as_str().unwrap();
    assert_eq!(url, format!("{}/data/public%2Fhello.txt", tc.root_url()));
    assert_eq!(url, tc.data_url("public/hello.txt"));
    assert_eq!(
        body["hashes"],
        json!({
            "sha256": HELLO_SHA256,
            "sha512": HELLO_SHA512,
        })
    );
    // Millisecond precision, as the services write dates.
    let expires = parse_time(&body["expires"]);
    assert!(body["expires"].as_str().unwrap().ends_with('Z'));
    assert!(
        expires >= before + Duration::from_secs(59),
        "{:?}",
        body["expires"]
    );
    assert!(expires <= SystemTime::now() + Duration::from_secs(61));

    let data = fetch(&tc, url);
    assert_eq!(data.head.status, 200);
    assert_eq!(data.body, HELLO);
    assert_eq!(data.header("Content-Type"), Some("text/plain"));

    let calls = tc.calls();
    assert_eq!(
        calls,
        [ApiCall {
            endpoint: "startDownload".to_owned(),
            method: "PUT".to_owned(),
            path: "/api/object/v1/start-download/public%2Fhello.txt".to_owned(),
            body: Some(get_url()),
            client_id: None,
            status: 200,
        }]
    );
}

#[test]
fn start_download_prefers_get_url_and_falls_back_to_simple() {
    let tc = FakeTaskcluster::start();
    tc.put_object("both", FakeObject::new(HELLO));
    tc.put_object("simple-only", FakeObject::new(HELLO).methods(&["simple"]));
    let mut api = Api::new(&tc);
    let both = json!({"acceptDownloadMethods": {"simple": true, "getUrl": true}});
    assert_eq!(
        api.start_download("both", &both, None).json["method"],
        "getUrl"
    );
    let simple = api.start_download("simple-only", &both, None);
    assert_eq!(
        simple.json,
        json!({"method": "simple", "url": tc.data_url("simple-only")})
    );
}

#[test]
fn start_download_unknown_object_is_404() {
    let tc = FakeTaskcluster::start();
    let mut api = Api::new(&tc);
    let answer = api.start_download("no/such/object", &get_url(), None);
    assert_error(&answer, 404, "ResourceNotFound", "startDownload");
    assert_eq!(
        answer.json["requestInfo"]["params"],
        json!({"name": "no/such/object"})
    );
    assert_eq!(answer.json["requestInfo"]["payload"], get_url());
    assert_eq!(tc.calls()[0].status, 404);
}

#[test]
fn start_download_without_a_common_method_is_406() {
    let tc = FakeTaskcluster::start();
    tc.put_object("get-url-only", FakeObject::new(HELLO).methods(&["getUrl"]));
    let mut api = Api::new(&tc);
    let simple = json!({"acceptDownloadMethods": {"simple": true}});
    let answer = api.start_download("get-url-only", &simple, None);
    assert_error(&answer, 406, "NoMatchingMethod", "startDownload");
    let nothing = json!({"acceptDownloadMethods": {}});
    assert_error(
        &api.start_download("get-url-only", &nothing, None),
        406,
        "NoMatchingMethod",
        "startDownload",
    );
}

#[test]
fn start_download_rejects_bodies_outside_the_schema() {
    let tc = FakeTaskcluster::start();
    tc.put_object("o", FakeObject::new(HELLO));
    let mut api = Api::new(&tc);
    let cases = [
        (json!({}), "InputValidationError"),
        (json!([]), "InputValidationError"),
        (
            json!({"acceptDownloadMethods": true}),
            "InputValidationError",
        ),
        (
            json!({"acceptDownloadMethods": {"getUrl": false}}),
            "InputValidationError",
        ),
        (
            json!({"acceptDownloadMethods": {"getUrl": "yes"}}),
            "InputValidationError",
        ),
        (
            json!({"acceptDownloadMethods": {"putUrl": true}}),
            "InputValidationError",
        ),
        (
            json!({"acceptDownloadMethods": {"getUrl": true}, "extra": 1}),
            "InputValidationError",
        ),
    ];
    for (body, code) in &cases {
        let answer = api.start_download("o", body, None);
        assert_eq!(answer.status, 400, "{body}: {:#}", answer.json);
        assert_eq!(answer.json["code"], *code, "{body}");
    }

    // Not JSON, and JSON without the JSON content type.
    let path = start_download_path("o");
    let response = api.conn.request_with_body(
        "PUT",
        &path,
        &[("Content-Type", "application/json")],
        b"{not json",
    );
    assert_eq!(response.head.status, 400);
    let json: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(json["code"], "MalformedPayload");
    let response = api.conn.request_with_body(
        "PUT",
        &path,
        &[("Content-Type", "text/plain")],
        get_url().to_string().as_bytes(),
    );
    assert_eq!(response.head.status, 400);
    let json: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(json["code"], "MalformedPayload");

    let statuses: Vec<u16> = tc.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [400; 9]);
}

#[test]
fn start_download_reports_overridden_hashes_and_expiry() {
    let tc = FakeTaskcluster::start();
    tc.put_object(
        "md5-only",
        FakeObject::new(HELLO)
            .hashes(vec![(
                "md5".to_owned(),
                "e4d7f1b4ed2e42d15898f4b27b019da4".to_owned(),
            )])
            .expires_in(-5),
    );
    tc.put_object(
        "empty",
        FakeObject::new(HELLO).hashes(Vec::new()).expires_in(0),
    );
    let mut api = Api::new(&tc);
    let md5 = api.start_download("md5-only", &get_url(), None).json;
    assert_eq!(
        md5["hashes"],
        json!({"md5": "e4d7f1b4ed2e42d15898f4b27b019da4"})
    );
    assert!(parse_time(&md5["expires"]) < SystemTime::now());
    let empty = api.start_download("empty", &get_url(), None).json;
    assert_eq!(empty["hashes"], json!({}));
    assert!(parse_time(&empty["expires"]) <= SystemTime::now());
    assert_eq!(
        FakeObject::correct_hashes(HELLO)[0],
        ("sha256".to_owned(), HELLO_SHA256.to_owned())
    );
}

#[test]
fn object_data_can_be_gzipped_and_scripted() {
    let tc = FakeTaskcluster::start();
    tc.put_object(
        "g",
        FakeObject::new(HELLO)
            .gzip()
            .without_content_type()
            .data_script(vec![Reply::Status(500), Reply::WrongBytes]),
    );
    let mut api = Api::new(&tc);
    let answer = api.start_download("g", &get_url(), None);
    assert_eq!(
        answer.json["hashes"]["sha256"], HELLO_SHA256,
        "hashes of the decoded data"
    );
    let url = answer.json["url"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&tc, &url).head.status, 500);
    let wrong = fetch(&tc, &url);
    assert_eq!(wrong.head.status, 200);
    let right = fetch(&tc, &url);
    assert_eq!(right.header("Content-Encoding"), Some("gzip"));
    assert_eq!(right.header("Content-Type"), None);
    assert_ne!(wrong.body, right.body);
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&right.body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, HELLO);
    assert_eq!(tc.server().requests_to("/data/g").len(), 3);
}

#[test]
fn metadata_and_simple_download() {
    let tc = FakeTaskcluster::start();
    tc.put_object("a/b", FakeObject::new(HELLO));
    let mut api = Api::new(&tc);
    let metadata = api.get("/api/object/v1/metadata/a%2Fb", None);
    assert_eq!(metadata.status, 200);
    assert_eq!(metadata.json["hashes"]["sha256"], HELLO_SHA256);
    assert!(metadata.json["projectId"].is_string());
    let download = api
        .conn
        .request("GET", "/api/object/v1/download/a%2Fb", &[]);
    assert_eq!(download.head.status, 303);
    assert_eq!(
        download.header("Location"),
        Some(tc.data_url("a/b").as_str())
    );
    assert_error(
        &api.get("/api/object/v1/metadata/missing", None),
        404,
        "ResourceNotFound",
        "object",
    );
    assert_eq!(endpoints(&tc.calls()), ["object", "download", "object"]);
}

#[test]
fn unknown_api_paths_are_404() {
    let tc = FakeTaskcluster::start();
    let mut api = Api::new(&tc);
    for path in [
        "/api/object/v1/upload/x",
        "/api/object/v1/start-download/",
        "/api/queue/v1/task/T/runs/0/artifacts",
        "/api/queue/v1/ping",
    ] {
        assert_error(&api.get(path, None), 404, "ResourceNotFound", "unknown");
    }
    // startDownload is a PUT.
    assert_error(
        &api.get("/api/object/v1/start-download/x", None),
        404,
        "ResourceNotFound",
        "unknown",
    );
    assert_eq!(endpoints(&tc.calls()), ["unknown"; 5]);
}

// ---------------------------------------------------------------------------------------------
// Queue.

#[test]
fn artifact_by_run_id_and_latest() {
    let tc = FakeTaskcluster::start();
    tc.put_artifact(
        "T",
        0,
        "public/a",
        FakeArtifact::S3 {
            url: "http://127.0.0.1:1/run0".to_owned(),
        },
    );
    tc.put_artifact(
        "T",
        2,
        "public/a",
        FakeArtifact::S3 {
            url: "http://127.0.0.1:1/run2".to_owned(),
        },
    );
    tc.put_artifact(
        "T",
        1,
        "public/b",
        FakeArtifact::S3 {
            url: "http://127.0.0.1:1/b".to_owned(),
        },
    );
    let mut api = Api::new(&tc);
    let run0 = api.get(&artifact_path("T", Some(0), "public/a"), None);
    assert_eq!(run0.status, 200);
    assert_eq!(run0.json["url"], "http://127.0.0.1:1/run0");
    let latest = api.get(&artifact_path("T", None, "public/a"), None);
    assert_eq!(latest.json["url"], "http://127.0.0.1:1/run2");
    // The latest run is 2, which has no public/b.
    assert_error(
        &api.get(&artifact_path("T", None, "public/b"), None),
        404,
        "ResourceNotFound",
        "latestArtifact",
    );
    assert_error(
        &api.get(&artifact_path("T", Some(1), "public/a"), None),
        404,
        "ResourceNotFound",
        "artifact",
    );
    assert_error(
        &api.get(&artifact_path("T", Some(3), "public/a"), None),
        404,
        "ResourceNotFound",
        "artifact",
    );
    let unknown_task = api.get(&artifact_path("U", None, "public/a"), None);
    assert_error(&unknown_task, 404, "ResourceNotFound", "latestArtifact");
    assert_eq!(
        unknown_task.json["requestInfo"]["params"],
        json!({"taskId": "U", "name": "public/a"})
    );
    let bad_run = api.get(
        "/api/queue/v1/task/T/runs/latest/artifact-content/public%2Fa",
        None,
    );
    assert_error(&bad_run, 400, "InvalidRequestArguments", "artifact");
    assert_eq!(bad_run.json["requestInfo"]["params"]["runId"], "latest");

    assert_eq!(
        endpoints(&tc.calls()),
        [
            "artifact",
            "latestArtifact",
            "latestArtifact",
            "artifact",
            "artifact",
            "latestArtifact",
            "artifact"
        ]
    );
    assert_eq!(
        tc.calls()[0].path,
        "/api/queue/v1/task/T/runs/0/artifact-content/public%2Fa"
    );
}

#[test]
fn artifact_shapes_by_storage_type() {
    let tc = FakeTaskcluster::start();
    let data_url = tc.server().url("/s3/a");
    tc.put_artifact(
        "T",
        0,
        "s3",
        FakeArtifact::S3 {
            url: data_url.clone(),
        },
    );
    tc.put_artifact(
        "T",
        0,
        "ref",
        FakeArtifact::Reference {
            url: data_url.clone(),
        },
    );
    tc.put_artifact(
        "T",
        0,
        "err",
        FakeArtifact::Error {
            reason: "file-missing-on-worker".to_owned(),
            message: "uhoh".to_owned(),
        },
    );
    tc.put_artifact(
        "T",
        0,
        "link",
        FakeArtifact::Other {
            storage_type: "link".to_owned(),
        },
    );
    tc.put_artifact("T", 0, "old", FakeArtifact::Expired);
    let mut api = Api::new(&tc);
    let mut get = |name: &str| api.get(&artifact_path("T", Some(0), name), None);
    assert_eq!(
        get("s3").json,
        json!({"storageType": "s3", "url": data_url})
    );
    assert_eq!(
        get("ref").json,
        json!({"storageType": "reference", "url": data_url})
    );
    assert_eq!(
        get("err").json,
        json!({"storageType": "error", "reason": "file-missing-on-worker", "message": "uhoh"})
    );
    assert_eq!(get("link").json, json!({"storageType": "link"}));
    assert_error(&get("old"), 410, "ResourceExpired", "artifact");
}

#[test]
fn object_artifact_carries_temporary_credentials() {
    let tc = FakeTaskcluster::start();
    let object_name = tc.put_object_artifact("T", 3, "public/build.tar", FakeObject::new(HELLO));
    assert_eq!(object_name, "t/T/3/public/build.tar");
    let mut api = Api::new(&tc);
    let answer = api.get(&artifact_path("T", Some(3), "public/build.tar"), None);
    assert_eq!(answer.status, 200, "{:#}", answer.json);
    let body = answer.json.as_object().unwrap();
    assert_eq!(body["storageType"], "object");
    assert_eq!(body["name"], "t/T/3/public/build.tar");
    let credentials = body["credentials"].as_object().unwrap();
    let mut keys: Vec<&str> = credentials.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["accessToken", "certificate", "clientId"]);
    assert_eq!(credentials["clientId"], "task-client/T/3");
    assert!(credentials["accessToken"].as_str().unwrap().len() >= 40);
    let certificate: Value =
        serde_json::from_str(credentials["certificate"].as_str().expect("a JSON string")).unwrap();
    assert_eq!(certificate["version"], 1);
    assert_eq!(
        certificate["scopes"],
        json!(["object:download:t/T/3/public/build.tar"])
    );
    assert_eq!(certificate["seed"].as_str().unwrap().len(), 44);
    assert!(certificate["signature"].is_string());
    let (start, expiry) = (
        certificate["start"].as_u64().unwrap(),
        certificate["expiry"].as_u64().unwrap(),
    );
    assert_eq!(expiry - start, 60 * 60 * 1000);

    // Each answer issues fresh credentials.
    let again = api.get(&artifact_path("T", None, "public/build.tar"), None);
    assert_ne!(
        again.json["credentials"]["accessToken"],
        credentials["accessToken"]
    );
}

#[test]
fn get_artifact_redirects_and_reports_errors() {
    let tc = FakeTaskcluster::start();
    let url = tc.server().url("/s3/a");
    tc.put_artifact("T", 0, "s3", FakeArtifact::S3 { url: url.clone() });
    tc.put_object_artifact("T", 0, "obj", FakeObject::new(HELLO));
    tc.put_artifact(
        "T",
        0,
        "err",
        FakeArtifact::Error {
            reason: "too-large-file-on-worker".to_owned(),
            message: "too big".to_owned(),
        },
    );
    tc.put_artifact("T", 0, "old", FakeArtifact::Expired);
    let mut api = Api::new(&tc);
    let s3 = api.get("/api/queue/v1/task/T/runs/0/artifacts/s3", None);
    assert_eq!(s3.status, 303);
    assert_eq!(s3.response.header("Location"), Some(url.as_str()));
    assert_eq!(
        s3.response.header("x-taskcluster-artifact-storage-type"),
        Some("s3")
    );
    assert_eq!(s3.json, json!({"storageType": "s3", "url": url}));
    let object = api.get("/api/queue/v1/task/T/artifacts/obj", None);
    assert_eq!(object.status, 303);
    let location = object.response.header("Location").unwrap().to_owned();
    assert_eq!(location, tc.data_url("t/T/0/obj"));
    assert_eq!(fetch(&tc, &location).body, HELLO);
    let error = api.get("/api/queue/v1/task/T/runs/0/artifacts/err", None);
    assert_eq!(error.status, 424);
    assert_eq!(
        error.json,
        json!({"reason": "too-large-file-on-worker", "message": "too big"})
    );
    assert_error(
        &api.get("/api/queue/v1/task/T/artifacts/old", None),
        410,
        "ResourceExpired",
        "getLatestArtifact",
    );
    assert_eq!(
        endpoints(&tc.calls()),
        [
            "getArtifact",
            "getLatestArtifact",
            "getArtifact",
            "getLatestArtifact"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Hawk.

#[test]
fn required_credentials_reject_unsigned_and_wrong_signatures() {
    let tc = FakeTaskcluster::start();
    tc.put_object("o", FakeObject::new(HELLO));
    tc.require_credentials("project/fetchkit", "right-token");
    let mut api = Api::new(&tc);

    let unsigned = api.start_download("o", &get_url(), None);
    assert_error(&unsigned, 401, "AuthenticationFailed", "startDownload");
    assert_eq!(unsigned.response.header("WWW-Authenticate"), Some("hawk"));

    let wrong_key = Creds::permanent("project/fetchkit", "wrong-token");
    let answer = api.start_download("o", &get_url(), Some(&wrong_key));
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");

    let wrong_id = Creds::permanent("project/other", "right-token");
    let answer = api.start_download("o", &get_url(), Some(&wrong_id));
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");

    // Signed for another path than the one requested.
    let right = Creds::permanent("project/fetchkit", "right-token");
    let auth = api.sign(
        &right,
        "PUT",
        &start_download_path("other"),
        Some(&get_url()),
    );
    let answer = api.call(
        "PUT",
        &start_download_path("o"),
        Some(&get_url()),
        Some(auth),
    );
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");

    let answer = api.call(
        "PUT",
        &start_download_path("o"),
        Some(&get_url()),
        Some("Bearer abc".to_owned()),
    );
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");

    let signed = api.start_download("o", &get_url(), Some(&right));
    assert_eq!(signed.status, 200, "{:#}", signed.json);

    let calls = tc.calls();
    let summary: Vec<(Option<&str>, u16)> = calls
        .iter()
        .map(|c| (c.client_id.as_deref(), c.status))
        .collect();
    assert_eq!(
        summary,
        [
            (None, 401),
            (None, 401),
            (None, 401),
            (None, 401),
            (None, 401),
            (Some("project/fetchkit"), 200)
        ]
    );
}

#[test]
fn signature_with_a_stale_timestamp_is_rejected() {
    let tc = FakeTaskcluster::start();
    tc.put_object("o", FakeObject::new(HELLO));
    tc.require_credentials("c", "t");
    let mut api = Api::new(&tc);
    let path = start_download_path("o");
    let credentials = hawk::Credentials {
        id: "c".to_owned(),
        key: hawk::Key::new(b"t", hawk::SHA256).unwrap(),
    };
    let header = hawk::RequestBuilder::new("PUT", "127.0.0.1", api.port(), &path)
        .request()
        .make_header_full(
            &credentials,
            SystemTime::now() - Duration::from_secs(20 * 60),
            "nonce",
        )
        .unwrap();
    let answer = api.call(
        "PUT",
        &path,
        Some(&get_url()),
        Some(format!("Hawk {header}")),
    );
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");
}

#[test]
fn temporary_credentials_download_the_artifact_object() {
    let tc = FakeTaskcluster::start();
    let permanent = Creds::permanent("project/fetchkit", "secret");
    tc.require_credentials(&permanent.client_id, &permanent.access_token);
    tc.put_object_artifact("T", 0, "public/x", FakeObject::new(HELLO));
    tc.put_object_artifact("T", 0, "public/y", FakeObject::new(HELLO));
    let mut api = Api::new(&tc);

    let artifact = api.get(&artifact_path("T", Some(0), "public/x"), Some(&permanent));
    assert_eq!(artifact.status, 200, "{:#}", artifact.json);
    let temporary = Creds::from_json(&artifact.json["credentials"]);
    let name = artifact.json["name"].as_str().unwrap().to_owned();

    let answer = api.start_download(&name, &get_url(), Some(&temporary));
    assert_eq!(answer.status, 200, "{:#}", answer.json);
    assert_eq!(answer.json["method"], "getUrl");

    // The certificate may come in standard, padded base64 too.
    let certificate: Value = serde_json::from_str(temporary.certificate.as_ref().unwrap()).unwrap();
    let ext = STANDARD.encode(json!({ "certificate": certificate }).to_string());
    let path = start_download_path(&name);
    let auth = api.sign_with_ext(&temporary, "PUT", &path, Some(&get_url()), Some(ext));
    assert_eq!(
        api.call("PUT", &path, Some(&get_url()), Some(auth)).status,
        200
    );

    // Without the certificate the temporary client is unknown.
    let bare = api.sign_with_ext(&temporary, "PUT", &path, Some(&get_url()), None);
    let answer = api.call("PUT", &path, Some(&get_url()), Some(bare));
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");

    // A certificate the fake did not issue (tampered signature).
    let mut forged = certificate.clone();
    forged["signature"] = Value::from("AAAA");
    let ext = URL_SAFE_NO_PAD.encode(json!({ "certificate": forged }).to_string());
    let auth = api.sign_with_ext(&temporary, "PUT", &path, Some(&get_url()), Some(ext));
    let answer = api.call("PUT", &path, Some(&get_url()), Some(auth));
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");

    // The certificate as a string instead of an object.
    let ext = URL_SAFE_NO_PAD
        .encode(json!({ "certificate": temporary.certificate.as_ref().unwrap() }).to_string());
    let auth = api.sign_with_ext(&temporary, "PUT", &path, Some(&get_url()), Some(ext));
    let answer = api.call("PUT", &path, Some(&get_url()), Some(auth));
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");

    // Scoped to public/x's object: not public/y's, and not the queue.
    let other = api.start_download("t/T/0/public/y", &get_url(), Some(&temporary));
    assert_error(&other, 403, "InsufficientScopes", "startDownload");
    let queue = api.get(&artifact_path("T", Some(0), "public/x"), Some(&temporary));
    assert_error(&queue, 403, "InsufficientScopes", "artifact");

    let calls = tc.calls();
    let summary: Vec<(&str, Option<&str>, u16)> = calls
        .iter()
        .map(|c| (c.endpoint.as_str(), c.client_id.as_deref(), c.status))
        .collect();
    let temporary_id = Some("task-client/T/0");
    assert_eq!(
        summary,
        [
            ("artifact", Some("project/fetchkit"), 200),
            ("startDownload", temporary_id, 200),
            ("startDownload", temporary_id, 200),
            ("startDownload", None, 401),
            ("startDownload", None, 401),
            ("startDownload", None, 401),
            ("startDownload", temporary_id, 403),
            ("artifact", temporary_id, 403),
        ]
    );
}

#[test]
fn temporary_credentials_are_checked_without_required_credentials() {
    let tc = FakeTaskcluster::start();
    tc.put_object_artifact("T", 0, "public/x", FakeObject::new(HELLO));
    let mut api = Api::new(&tc);
    let artifact = api.get(&artifact_path("T", None, "public/x"), None);
    assert_eq!(artifact.status, 200, "anonymous queue calls are fine");
    let temporary = Creds::from_json(&artifact.json["credentials"]);
    let answer = api.start_download("t/T/0/public/x", &get_url(), Some(&temporary));
    assert_eq!(answer.status, 200, "{:#}", answer.json);
    assert_eq!(tc.calls()[1].client_id.as_deref(), Some("task-client/T/0"));

    // A present signature is checked even here.
    let wrong = Creds {
        access_token: "not-the-token".to_owned(),
        ..temporary.clone()
    };
    let answer = api.start_download("t/T/0/public/x", &get_url(), Some(&wrong));
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");
    let stranger = Creds::permanent("someone", "something");
    let answer = api.start_download("t/T/0/public/x", &get_url(), Some(&stranger));
    assert_error(&answer, 401, "AuthenticationFailed", "startDownload");
    // And anonymous startDownload is allowed.
    assert_eq!(
        api.start_download("t/T/0/public/x", &get_url(), None)
            .status,
        200
    );
}

#[test]
fn authorized_scopes_narrow_credentials() {
    let tc = FakeTaskcluster::start();
    tc.put_object("a", FakeObject::new(HELLO));
    tc.put_object("b", FakeObject::new(HELLO));
    tc.require_credentials("c", "t");
    let creds = Creds::permanent("c", "t");
    let mut api = Api::new(&tc);
    let ext =
        URL_SAFE_NO_PAD.encode(json!({"authorizedScopes": ["object:download:a"]}).to_string());
    for (name, status) in [("a", 200), ("b", 403)] {
        let path = start_download_path(name);
        let auth = api.sign_with_ext(&creds, "PUT", &path, Some(&get_url()), Some(ext.clone()));
        assert_eq!(
            api.call("PUT", &path, Some(&get_url()), Some(auth)).status,
            status,
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scripts and records.

#[test]
fn scripted_failures_come_first_then_normal_answers() {
    let tc = FakeTaskcluster::start();
    tc.put_object("o", FakeObject::new(HELLO));
    tc.put_artifact(
        "T",
        0,
        "a",
        FakeArtifact::S3 {
            url: "http://127.0.0.1:1/a".to_owned(),
        },
    );
    tc.script_api("startDownload", [500, 503]);
    tc.script_api("artifact", [200, 502]);
    let mut api = Api::new(&tc);
    let first = api.start_download("o", &get_url(), None);
    assert_error(&first, 500, "InternalServerError", "startDownload");
    assert!(
        first.json["message"]
            .as_str()
            .unwrap()
            .contains("incidentId")
    );
    assert_eq!(api.start_download("o", &get_url(), None).status, 503);
    assert_eq!(api.start_download("o", &get_url(), None).status, 200);
    assert_eq!(api.start_download("o", &get_url(), None).status, 200);
    // The latest endpoint has a script of its own (none), a 2xx entry answers normally.
    assert_eq!(api.get(&artifact_path("T", None, "a"), None).status, 200);
    assert_eq!(api.get(&artifact_path("T", Some(0), "a"), None).status, 200);
    assert_eq!(api.get(&artifact_path("T", Some(0), "a"), None).status, 502);
    assert_eq!(api.get(&artifact_path("T", Some(0), "a"), None).status, 200);

    let calls = tc.calls();
    let statuses: Vec<(&str, u16)> = calls
        .iter()
        .map(|c| (c.endpoint.as_str(), c.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("startDownload", 500),
            ("startDownload", 503),
            ("startDownload", 200),
            ("startDownload", 200),
            ("latestArtifact", 200),
            ("artifact", 200),
            ("artifact", 502),
            ("artifact", 200),
        ]
    );
}

#[test]
fn scripted_failures_precede_authentication() {
    let tc = FakeTaskcluster::start();
    tc.put_object("o", FakeObject::new(HELLO));
    tc.require_credentials("c", "t");
    tc.script_api("startDownload", [500]);
    let mut api = Api::new(&tc);
    assert_eq!(api.start_download("o", &get_url(), None).status, 500);
    assert_eq!(api.start_download("o", &get_url(), None).status, 401);
}

#[test]
fn calls_record_bodies_paths_and_the_raw_requests_stay_available() {
    let tc = FakeTaskcluster::start();
    tc.put_object("dir/file name", FakeObject::new(HELLO));
    let mut api = Api::new(&tc);
    assert_eq!(
        api.start_download("dir/file name", &get_url(), None).status,
        200
    );
    assert_eq!(
        api.get(&artifact_path("none", Some(0), "x"), None).status,
        404
    );
    let calls = tc.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0].path,
        "/api/object/v1/start-download/dir%2Ffile%20name"
    );
    assert_eq!(calls[0].body, Some(get_url()));
    assert_eq!(calls[1].body, None);
    assert_eq!(calls[1].method, "GET");
    let raw = tc
        .server()
        .requests_to("/api/object/v1/start-download/dir%2Ffile%20name");
    assert_eq!(raw.len(), 1);
    assert_eq!(
        serde_json::from_slice::<Value>(&raw[0].body).unwrap(),
        get_url()
    );
    assert_eq!(
        tc.data_url("dir/file name"),
        format!("{}/data/dir%2Ffile%20name", tc.root_url())
    );
    assert!(format!("{tc:?}").contains("dir/file name"));
}
