//! The published `taskcluster-download` client (and the `taskcluster` client under it), run
//! against `FakeTaskcluster`, for the scenarios that client supports. It is an independent
//! implementation of the services' protocol, so each passing test is evidence that the fakes
//! speak the protocol and not just fetchkit's reading of it.
//!
//! Every test starts its own fake. Retries use the published `Retry` with a 10 ms delay factor
//! and no jitter, so a retried download sleeps 10 + 20 ms, not the default 100 + 200 ms (plus
//! jitter): the client's backoff sleeps for real.
//!
//! Object artifacts are not a scenario the published client supports: it reads the artifact's
//! temporary credentials as `client_id` / `access_token`, while the queue's schema
//! (`object-credentials.yml`), the real queue and the fake send `clientId` / `accessToken`.
//! `object_artifact_fails_on_the_published_clients_snake_case_credentials_bug` pins that down;
//! `object_artifact_credentials_work_with_the_published_signer` covers the rest of the path by
//! handing the camelCase credentials to the published client by hand.

use std::io::{ErrorKind, SeekFrom};
use std::time::Duration;

use anyhow::Error;
use fetchkit_test_support::{ApiCall, FakeArtifact, FakeObject, FakeTaskcluster, Reply, Resource};
use serde_json::{Value, json};
use taskcluster::{ClientBuilder, Credentials, Object, Queue, Retry, StatusCode};
use taskcluster_download::{
    download_artifact_to_buf, download_artifact_to_file, download_artifact_to_vec, download_to_buf,
    download_to_file, download_to_vec,
};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

const DATA: &[u8] = b"hello, world";
const OBJECT: &str = "fetchkit/compat/hello.txt";

/// `retries` retries after the first try, 10 ms × 2^n apart, without jitter.
fn retry(retries: usize) -> Retry {
    Retry {
        retries,
        delay_factor: Duration::from_millis(10),
        randomization_factor: 0.0,
        ..Retry::default()
    }
}

fn object_client(tc: &FakeTaskcluster) -> Object {
    Object::new(ClientBuilder::new(tc.root_url()).retry(retry(2))).expect("object client")
}

fn object_client_with(builder: ClientBuilder) -> Object {
    Object::new(builder.retry(retry(2))).expect("object client")
}

fn queue_client(tc: &FakeTaskcluster) -> Queue {
    Queue::new(ClientBuilder::new(tc.root_url()).retry(retry(2))).expect("queue client")
}

/// The path part of the URL `startDownload` hands out for `name`.
fn data_path(tc: &FakeTaskcluster, name: &str) -> String {
    tc.data_url(name)
        .strip_prefix(&tc.root_url())
        .expect("data URL under the root URL")
        .to_owned()
}

fn data_gets(tc: &FakeTaskcluster, name: &str) -> usize {
    tc.server().requests_to(&data_path(tc, name)).len()
}

fn endpoints(tc: &FakeTaskcluster) -> Vec<String> {
    tc.calls().into_iter().map(|c| c.endpoint).collect()
}

fn calls_to(tc: &FakeTaskcluster, endpoint: &str) -> Vec<ApiCall> {
    tc.calls()
        .into_iter()
        .filter(|c| c.endpoint == endpoint)
        .collect()
}

/// The whole error chain, `outer: inner: root`.
fn chain(error: &Error) -> String {
    format!("{error:#}")
}

fn start_download_body() -> Value {
    json!({"acceptDownloadMethods": {"getUrl": true}})
}

fn text_object() -> FakeObject {
    FakeObject::new(DATA).content_type("text/plain")
}

// ---- object downloads (getUrl) ------------------------------------------------------------

#[tokio::test]
async fn get_url_download_data_content_type_and_one_start_download() {
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, text_object());

    let (data, content_type) = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect("download");

    assert_eq!(data, DATA);
    assert_eq!(content_type, "text/plain");
    let calls = tc.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let call = &calls[0];
    assert_eq!(call.endpoint, "startDownload");
    assert_eq!(call.method, "PUT");
    // The client percent-encodes the whole name, slashes included; the fake decodes it.
    assert_eq!(
        call.path,
        "/api/object/v1/start-download/fetchkit%2Fcompat%2Fhello.txt"
    );
    assert_eq!(call.body, Some(start_download_body()));
    assert_eq!(call.status, 200);
    assert_eq!(call.client_id, None);
    assert_eq!(data_gets(&tc, OBJECT), 1);
}

#[tokio::test]
async fn name_with_unusual_printable_characters() {
    let tc = FakeTaskcluster::start();
    let name = "dir one/a+b=c&d%e~f(g)'h'!*.txt";
    tc.put_object(name, text_object());

    let (data, _) = download_to_vec(name, &retry(2), &object_client(&tc))
        .await
        .expect("download");

    assert_eq!(data, DATA);
    assert_eq!(data_gets(&tc, name), 1);
}

#[tokio::test]
async fn missing_content_type_falls_back_to_application_binary() {
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, FakeObject::new(DATA).without_content_type());

    let (data, content_type) = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect("download");

    assert_eq!(data, DATA);
    assert_eq!(content_type, "application/binary");
}

#[tokio::test]
async fn data_500_500_200_with_two_retries_succeeds() {
    let tc = FakeTaskcluster::start();
    tc.put_object(
        OBJECT,
        text_object().data_script(vec![Reply::Status(500), Reply::Status(500)]),
    );

    let (data, content_type) = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect("download");

    assert_eq!(data, DATA);
    assert_eq!(content_type, "text/plain");
    assert_eq!(data_gets(&tc, OBJECT), 3);
    // The URL has not expired (60 s), so there is no second negotiation.
    assert_eq!(endpoints(&tc), ["startDownload"]);
}

#[tokio::test]
async fn data_500_three_times_with_two_retries_fails() {
    let tc = FakeTaskcluster::start();
    tc.put_object(
        OBJECT,
        text_object().data_script(vec![Reply::Status(500); 3]),
    );
    let mut buf = [0u8; 64];

    let error = download_to_buf(OBJECT, &retry(2), &object_client(&tc), &mut buf)
        .await
        .expect_err("three 500s exhaust two retries");

    assert!(
        chain(&error).contains("Download failed after 3 attempts"),
        "{error:#}"
    );
    assert!(chain(&error).contains("500"), "{error:#}");
    assert_eq!(data_gets(&tc, OBJECT), 3);
    assert_eq!(endpoints(&tc), ["startDownload"]);
}

#[tokio::test]
async fn data_400_fails_at_once() {
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, text_object().data_script(vec![Reply::Status(400)]));

    let error = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect_err("a 400 is permanent");

    assert!(chain(&error).contains("400"), "{error:#}");
    assert_eq!(data_gets(&tc, OBJECT), 1);
    assert_eq!(endpoints(&tc), ["startDownload"]);
}

#[tokio::test]
async fn data_reset_mid_body_is_retried_and_the_data_arrives_once() {
    let tc = FakeTaskcluster::start();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    tc.put_object(
        OBJECT,
        FakeObject::new(data.clone()).data_script(vec![Reply::ResetAfter(50_000)]),
    );

    let (got, _) = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect("download");

    assert!(got == data, "got {} bytes, want {}", got.len(), data.len());
    assert_eq!(data_gets(&tc, OBJECT), 2);
}

#[tokio::test]
async fn gzip_encoded_data_is_decoded_and_verified() {
    let tc = FakeTaskcluster::start();
    let data = DATA.repeat(1000);
    // The hashes `startDownload` reports are those of the decoded data, as the service says.
    tc.put_object(
        OBJECT,
        FakeObject::new(data.clone())
            .content_type("text/plain")
            .gzip(),
    );

    let (got, content_type) = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect("download");

    assert!(got == data, "got {} bytes, want {}", got.len(), data.len());
    assert_eq!(content_type, "text/plain");
    let gets = tc.server().requests_to(&data_path(&tc, OBJECT));
    assert_eq!(gets.len(), 1);
    let accept_encoding = gets[0].header("Accept-Encoding").unwrap_or_default();
    assert!(accept_encoding.contains("gzip"), "{accept_encoding:?}");
}

#[tokio::test]
async fn expired_url_and_a_500_lead_to_a_second_start_download() {
    let tc = FakeTaskcluster::start();
    tc.put_object(
        OBJECT,
        text_object()
            .expires_in(0)
            .data_script(vec![Reply::Status(500)]),
    );

    let (data, _) = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect("download after a fresh startDownload");

    assert_eq!(data, DATA);
    assert_eq!(endpoints(&tc), ["startDownload", "startDownload"]);
    for call in tc.calls() {
        assert_eq!(call.body, Some(start_download_body()));
        assert_eq!(call.status, 200);
    }
    assert_eq!(data_gets(&tc, OBJECT), 2);
}

#[tokio::test]
async fn expired_url_is_used_once_before_asking_again() {
    // The "used once" rule: an already-expired answer is still tried, so a download that works
    // first time negotiates once.
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, text_object().expires_in(0));

    let (data, _) = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect("download");

    assert_eq!(data, DATA);
    assert_eq!(endpoints(&tc), ["startDownload"]);
}

// ---- hashes ---------------------------------------------------------------------------------

fn hashes(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, d)| ((*a).to_owned(), (*d).to_owned()))
        .collect()
}

fn correct(algorithm: &str) -> String {
    FakeObject::correct_hashes(DATA)
        .into_iter()
        .find(|(a, _)| a == algorithm)
        .map(|(_, d)| d)
        .expect("known algorithm")
}

async fn download_with_hashes(
    tc: &FakeTaskcluster,
    hashes: Vec<(String, String)>,
) -> Result<Vec<u8>, Error> {
    tc.put_object(OBJECT, text_object().hashes(hashes));
    download_to_vec(OBJECT, &retry(2), &object_client(tc))
        .await
        .map(|(data, _)| data)
}

#[tokio::test]
async fn only_md5_hashes_fail() {
    let tc = FakeTaskcluster::start();
    // md5("hello, world"); md5 is not an algorithm the object service knows.
    let error = download_with_hashes(&tc, hashes(&[("md5", "e4d7f1b4ed2e42d15898f4b27b019da4")]))
        .await
        .expect_err("no acceptable hash");

    assert!(
        chain(&error).contains("No acceptable hashes found"),
        "{error:#}"
    );
    assert_eq!(data_gets(&tc, OBJECT), 1);
}

#[tokio::test]
async fn empty_hashes_fail() {
    let tc = FakeTaskcluster::start();
    let error = download_with_hashes(&tc, Vec::new())
        .await
        .expect_err("no acceptable hash");

    assert!(
        chain(&error).contains("No acceptable hashes found"),
        "{error:#}"
    );
}

#[tokio::test]
async fn bad_sha512_with_good_sha256_fails() {
    let tc = FakeTaskcluster::start();
    let bad_sha512 = "0".repeat(128);
    let error = download_with_hashes(
        &tc,
        hashes(&[("sha256", &correct("sha256")), ("sha512", &bad_sha512)]),
    )
    .await
    .expect_err("a wrong known hash fails");

    assert!(
        chain(&error).contains("Object hashes for sha512 differ"),
        "{error:#}"
    );
    // A hash failure is not retried.
    assert_eq!(data_gets(&tc, OBJECT), 1);
}

#[tokio::test]
async fn unknown_extra_algorithm_with_good_known_ones_passes() {
    let tc = FakeTaskcluster::start();
    let data = download_with_hashes(
        &tc,
        hashes(&[
            ("sha256", &correct("sha256")),
            ("sha512", &correct("sha512")),
            ("sha3-256", &"f".repeat(64)),
        ]),
    )
    .await
    .expect("unknown algorithms are ignored");

    assert_eq!(data, DATA);
}

#[tokio::test]
async fn corrupted_data_fails_the_hash_check() {
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, text_object().data_script(vec![Reply::WrongBytes]));

    let error = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect_err("the data does not match the hashes");

    assert!(chain(&error).contains("Object hashes for"), "{error:#}");
    assert_eq!(data_gets(&tc, OBJECT), 1);
}

// ---- destinations ---------------------------------------------------------------------------

#[tokio::test]
async fn download_to_buf_fits() {
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, text_object());
    let mut buf = [0u8; 64];

    let (got, content_type) = download_to_buf(OBJECT, &retry(2), &object_client(&tc), &mut buf)
        .await
        .expect("download");

    assert_eq!(got, DATA);
    assert_eq!(content_type, "text/plain");
}

#[tokio::test]
async fn download_to_buf_too_small_fails_with_write_zero() {
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, text_object());
    let mut buf = [0u8; 5];

    let error = download_to_buf(OBJECT, &retry(2), &object_client(&tc), &mut buf)
        .await
        .expect_err("12 bytes do not fit in 5");

    let write_zero = error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == ErrorKind::WriteZero);
    assert!(write_zero, "{error:#}");
}

#[tokio::test]
async fn download_to_file_content() {
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, text_object());
    let file = tokio::fs::File::from_std(tempfile::tempfile().expect("temp file"));

    let (mut file, content_type) = download_to_file(OBJECT, &retry(2), &object_client(&tc), file)
        .await
        .expect("download");

    assert_eq!(content_type, "text/plain");
    assert_eq!(read_all(&mut file).await, DATA);
}

#[tokio::test]
async fn download_to_file_after_a_reset_holds_the_data_once() {
    let tc = FakeTaskcluster::start();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    tc.put_object(
        OBJECT,
        FakeObject::new(data.clone()).data_script(vec![Reply::ResetAfter(60_000)]),
    );
    let file = tokio::fs::File::from_std(tempfile::tempfile().expect("temp file"));

    let (mut file, _) = download_to_file(OBJECT, &retry(2), &object_client(&tc), file)
        .await
        .expect("download");

    let got = read_all(&mut file).await;
    assert!(got == data, "got {} bytes, want {}", got.len(), data.len());
    assert_eq!(data_gets(&tc, OBJECT), 2);
}

async fn read_all(file: &mut tokio::fs::File) -> Vec<u8> {
    file.seek(SeekFrom::Start(0)).await.expect("seek");
    let mut contents = Vec::new();
    file.read_to_end(&mut contents).await.expect("read");
    contents
}

// ---- API errors (the base `taskcluster` client) ---------------------------------------------

#[tokio::test]
async fn start_download_500_is_retried_by_the_api_client() {
    let tc = FakeTaskcluster::start();
    tc.put_object(OBJECT, text_object());
    tc.script_api("startDownload", [500]);

    let (data, _) = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect("download");

    assert_eq!(data, DATA);
    let statuses: Vec<u16> = tc.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [500, 200]);
}

#[tokio::test]
async fn missing_object_is_404_with_the_services_message() {
    let tc = FakeTaskcluster::start();

    let error = download_to_vec("no/such/object", &retry(2), &object_client(&tc))
        .await
        .expect_err("no such object");

    assert_eq!(
        taskcluster::err_status_code(&error),
        Some(StatusCode::NOT_FOUND)
    );
    // The client surfaces the JSON error body's `message`.
    assert!(
        chain(&error).contains("Object no/such/object not found or not finished uploading"),
        "{error:#}"
    );
    assert_eq!(tc.calls().len(), 1, "a 4xx is not retried");
}

// ---- credentials (Hawk) ---------------------------------------------------------------------

const CLIENT_ID: &str = "project/fetchkit/compat";
const ACCESS_TOKEN: &str = "compat-check-access-token-0123456789abcdef";

#[tokio::test]
async fn required_credentials_accept_the_published_signer() {
    let tc = FakeTaskcluster::start();
    tc.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    tc.put_object(OBJECT, text_object());
    let object = object_client_with(
        ClientBuilder::new(tc.root_url()).credentials(Credentials::new(CLIENT_ID, ACCESS_TOKEN)),
    );

    let (data, _) = download_to_vec(OBJECT, &retry(2), &object)
        .await
        .expect("signed download");

    assert_eq!(data, DATA);
    let calls = tc.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].client_id.as_deref(), Some(CLIENT_ID));
    assert_eq!(calls[0].status, 200);
}

#[tokio::test]
async fn wrong_access_token_fails() {
    let tc = FakeTaskcluster::start();
    tc.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    tc.put_object(OBJECT, text_object());
    let object = object_client_with(
        ClientBuilder::new(tc.root_url()).credentials(Credentials::new(CLIENT_ID, "not-the-token")),
    );

    let error = download_to_vec(OBJECT, &retry(2), &object)
        .await
        .expect_err("bad mac");

    assert_eq!(
        taskcluster::err_status_code(&error),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(tc.calls().len(), 1, "a 4xx is not retried");
    assert_eq!(data_gets(&tc, OBJECT), 0);
}

#[tokio::test]
async fn wrong_client_id_fails() {
    let tc = FakeTaskcluster::start();
    tc.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    tc.put_object(OBJECT, text_object());
    let object = object_client_with(
        ClientBuilder::new(tc.root_url())
            .credentials(Credentials::new("someone/else", ACCESS_TOKEN)),
    );

    let error = download_to_vec(OBJECT, &retry(2), &object)
        .await
        .expect_err("unknown client");

    assert_eq!(
        taskcluster::err_status_code(&error),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(data_gets(&tc, OBJECT), 0);
}

#[tokio::test]
async fn anonymous_call_fails_when_credentials_are_required() {
    let tc = FakeTaskcluster::start();
    tc.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    tc.put_object(OBJECT, text_object());

    let error = download_to_vec(OBJECT, &retry(2), &object_client(&tc))
        .await
        .expect_err("anonymous");

    // The fake answers 401; the real services answer 403 InsufficientScopes for the anonymous
    // role (a documented simplification of the fake), so only "a 4xx, not retried" is asserted.
    let status = taskcluster::err_status_code(&error).expect("an HTTP status");
    assert!(status.is_client_error(), "{status}");
    assert_eq!(tc.calls().len(), 1);
}

#[tokio::test]
async fn authorized_scopes_from_the_published_signer_narrow_the_credentials() {
    let tc = FakeTaskcluster::start();
    tc.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    tc.put_object(OBJECT, text_object());
    let builder =
        || ClientBuilder::new(tc.root_url()).credentials(Credentials::new(CLIENT_ID, ACCESS_TOKEN));

    let allowed =
        object_client_with(builder().authorized_scopes([format!("object:download:{OBJECT}")]));
    let (data, _) = download_to_vec(OBJECT, &retry(2), &allowed)
        .await
        .expect("the authorized scope covers the object");
    assert_eq!(data, DATA);

    let narrowed = object_client_with(builder().authorized_scopes(["object:download:other/*"]));
    let error = download_to_vec(OBJECT, &retry(2), &narrowed)
        .await
        .expect_err("the authorized scopes do not cover the object");
    assert_eq!(
        taskcluster::err_status_code(&error),
        Some(StatusCode::FORBIDDEN)
    );
    assert!(
        chain(&error).contains("InsufficientScopes") || chain(&error).contains("scopes"),
        "{error:#}"
    );

    let statuses: Vec<u16> = tc.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [200, 403]);
}

// ---- artifacts ------------------------------------------------------------------------------

const TASK: &str = "fJ5tUk7pQ0SBzFkc2xWvvg";

/// Serves `resource` at `/s3/<name>` and returns its URL.
fn s3_route(tc: &FakeTaskcluster, name: &str, resource: Resource) -> String {
    let path = format!("/s3/{name}");
    tc.server().route(&path, resource);
    tc.server().url(&path)
}

#[tokio::test]
async fn s3_artifact_by_run_id_gzip_after_a_500() {
    let tc = FakeTaskcluster::start();
    let url = s3_route(
        &tc,
        "run0/log.txt",
        Resource::new(DATA)
            .content_type("text/plain")
            .gzip()
            .script([Reply::Status(500)]),
    );
    tc.put_artifact(TASK, 0, "public/logs/live.log", FakeArtifact::S3 { url });

    let (data, content_type) = download_artifact_to_vec(
        TASK,
        Some("0"),
        "public/logs/live.log",
        &retry(2),
        &queue_client(&tc),
    )
    .await
    .expect("download");

    assert_eq!(data, DATA);
    assert_eq!(content_type, "text/plain");
    let calls = tc.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].endpoint, "artifact");
    assert_eq!(
        calls[0].path,
        format!("/api/queue/v1/task/{TASK}/runs/0/artifact-content/public%2Flogs%2Flive.log")
    );
    assert_eq!(tc.server().requests_to("/s3/run0/log.txt").len(), 2);
}

#[tokio::test]
async fn s3_artifact_latest_run() {
    let tc = FakeTaskcluster::start();
    let old = s3_route(&tc, "run0/out.bin", Resource::new(&b"run zero"[..]));
    let new = s3_route(
        &tc,
        "run1/out.bin",
        Resource::new(&b"run one"[..]).content_type("application/x-tar"),
    );
    tc.put_artifact(TASK, 0, "public/out.bin", FakeArtifact::S3 { url: old });
    tc.put_artifact(TASK, 1, "public/out.bin", FakeArtifact::S3 { url: new });

    let (data, content_type) =
        download_artifact_to_vec(TASK, None, "public/out.bin", &retry(2), &queue_client(&tc))
            .await
            .expect("download");

    assert_eq!(data, b"run one");
    assert_eq!(content_type, "application/x-tar");
    assert_eq!(endpoints(&tc), ["latestArtifact"]);
    assert_eq!(
        tc.calls()[0].path,
        format!("/api/queue/v1/task/{TASK}/artifact-content/public%2Fout.bin")
    );
    assert!(tc.server().requests_to("/s3/run0/out.bin").is_empty());
}

#[tokio::test]
async fn s3_artifact_to_buf_and_file() {
    let tc = FakeTaskcluster::start();
    let url = s3_route(&tc, "a.txt", Resource::new(DATA).content_type("text/plain"));
    tc.put_artifact(TASK, 0, "public/a.txt", FakeArtifact::S3 { url });
    let queue = queue_client(&tc);

    let mut buf = [0u8; 32];
    let (got, _) =
        download_artifact_to_buf(TASK, Some("0"), "public/a.txt", &retry(2), &queue, &mut buf)
            .await
            .expect("to buf");
    assert_eq!(got, DATA);

    let file = tokio::fs::File::from_std(tempfile::tempfile().expect("temp file"));
    let (mut file, _) =
        download_artifact_to_file(TASK, Some("0"), "public/a.txt", &retry(2), &queue, file)
            .await
            .expect("to file");
    assert_eq!(read_all(&mut file).await, DATA);
}

#[tokio::test]
async fn reference_artifact() {
    let tc = FakeTaskcluster::start();
    let url = s3_route(
        &tc,
        "elsewhere/report.json",
        Resource::new(&b"{\"ok\":true}"[..]).content_type("application/json"),
    );
    tc.put_artifact(
        TASK,
        2,
        "public/report.json",
        FakeArtifact::Reference { url },
    );

    let (data, content_type) = download_artifact_to_vec(
        TASK,
        Some("2"),
        "public/report.json",
        &retry(2),
        &queue_client(&tc),
    )
    .await
    .expect("download");

    assert_eq!(data, b"{\"ok\":true}");
    assert_eq!(content_type, "application/json");
    assert_eq!(endpoints(&tc), ["artifact"]);
}

#[tokio::test]
async fn error_artifact_carries_message_and_reason() {
    let tc = FakeTaskcluster::start();
    tc.put_artifact(
        TASK,
        0,
        "public/missing.txt",
        FakeArtifact::Error {
            reason: "file-missing-on-worker".to_owned(),
            message: "the worker could not find public/missing.txt".to_owned(),
        },
    );

    let error = download_artifact_to_vec(
        TASK,
        Some("0"),
        "public/missing.txt",
        &retry(2),
        &queue_client(&tc),
    )
    .await
    .expect_err("error artifact");

    assert_eq!(
        error.to_string(),
        "Error Artifact: the worker could not find public/missing.txt"
    );
    assert_eq!(error.root_cause().to_string(), "file-missing-on-worker");
    assert_eq!(endpoints(&tc), ["artifact"]);
}

#[tokio::test]
async fn unknown_storage_type_is_refused() {
    let tc = FakeTaskcluster::start();
    tc.put_artifact(
        TASK,
        0,
        "public/x",
        FakeArtifact::Other {
            storage_type: "link".to_owned(),
        },
    );

    let error =
        download_artifact_to_vec(TASK, Some("0"), "public/x", &retry(2), &queue_client(&tc))
            .await
            .expect_err("unknown storage type");

    assert!(
        chain(&error).contains("Unknown artifact storageType link"),
        "{error:#}"
    );
}

#[tokio::test]
async fn missing_artifact_and_expired_artifact_are_4xx() {
    let tc = FakeTaskcluster::start();
    tc.put_artifact(TASK, 0, "public/old.txt", FakeArtifact::Expired);
    let queue = queue_client(&tc);

    let error = download_artifact_to_vec(TASK, Some("0"), "public/nope", &retry(2), &queue)
        .await
        .expect_err("missing");
    assert_eq!(
        taskcluster::err_status_code(&error),
        Some(StatusCode::NOT_FOUND)
    );

    let error = download_artifact_to_vec(TASK, None, "public/old.txt", &retry(2), &queue)
        .await
        .expect_err("expired");
    assert_eq!(taskcluster::err_status_code(&error), Some(StatusCode::GONE));

    let statuses: Vec<u16> = tc.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [404, 410], "4xx are not retried");
}

#[tokio::test]
async fn artifact_api_503_is_retried_by_the_api_client() {
    let tc = FakeTaskcluster::start();
    let url = s3_route(&tc, "a.txt", Resource::new(DATA));
    tc.put_artifact(TASK, 0, "public/a.txt", FakeArtifact::S3 { url });
    tc.script_api("latestArtifact", [503]);

    let (data, _) =
        download_artifact_to_vec(TASK, None, "public/a.txt", &retry(2), &queue_client(&tc))
            .await
            .expect("download");

    assert_eq!(data, DATA);
    let statuses: Vec<u16> = tc.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [503, 200]);
}

// ---- object artifacts -----------------------------------------------------------------------

/// KNOWN UPSTREAM BUG, asserted on purpose. `taskcluster-download` (checked at 114.0.0, and
/// since object artifacts were added in v44) reads an object artifact's temporary credentials
/// from the keys `client_id` / `access_token`. The queue's schema (`object-credentials.yml`:
/// `clientId`, `accessToken`, `certificate`, all required), the real queue and every other
/// Taskcluster client use camelCase, and so does the fake; the crate's own unit tests use
/// snake_case fakes and miss it. So against a schema-correct answer the published crate fails
/// before it calls `startDownload`.
///
/// The fake is right and must not be changed to snake_case. If this test starts failing because
/// the download succeeds, upstream has fixed the bug: replace this test with a passing
/// object-artifact download (data, one `artifact` call then one `startDownload` signed by
/// `task-client/<taskId>/<runId>`).
#[tokio::test]
async fn object_artifact_fails_on_the_published_clients_snake_case_credentials_bug() {
    let tc = FakeTaskcluster::start();
    tc.put_object_artifact(TASK, 0, "public/build.tar", text_object());
    let queue = queue_client(&tc);

    let error = download_artifact_to_vec(TASK, Some("0"), "public/build.tar", &retry(2), &queue)
        .await
        .expect_err("the published client reads snake_case credentials");

    assert_eq!(
        error.to_string(),
        "artifact.credentials property client_id not found"
    );
    assert_eq!(
        endpoints(&tc),
        ["artifact"],
        "no startDownload was attempted"
    );

    // And the answer it choked on is the schema's camelCase shape.
    let answer = queue
        .artifact(TASK, "0", "public/build.tar")
        .await
        .expect("artifact");
    assert_eq!(answer["storageType"], "object");
    assert_eq!(answer["name"], format!("t/{TASK}/0/public/build.tar"));
    let credentials = answer["credentials"]
        .as_object()
        .expect("credentials object");
    let mut keys: Vec<&str> = credentials.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["accessToken", "certificate", "clientId"]);
    assert!(
        credentials.values().all(Value::is_string),
        "{credentials:?}"
    );
}

/// The rest of the object-artifact path, with the published client's own pieces: the camelCase
/// credentials from the queue's answer are handed to `taskcluster::Credentials` by hand (what
/// the download crate would do without its bug), and the published `Object` client signs
/// `startDownload` with them, certificate in `ext`. Proves the fake's temporary credentials and
/// certificate checking accept an independent signer.
#[tokio::test]
async fn object_artifact_credentials_work_with_the_published_signer() {
    let tc = FakeTaskcluster::start();
    tc.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    let object_name = tc.put_object_artifact(TASK, 3, "public/build.tar", text_object());
    let queue = Queue::new(
        ClientBuilder::new(tc.root_url())
            .credentials(Credentials::new(CLIENT_ID, ACCESS_TOKEN))
            .retry(retry(2)),
    )
    .expect("queue client");

    let answer = queue
        .artifact(TASK, "3", "public/build.tar")
        .await
        .expect("artifact");
    let name = answer["name"].as_str().expect("name");
    assert_eq!(name, object_name);
    let credentials = &answer["credentials"];
    let temporary = Credentials::new_with_certificate(
        credentials["clientId"].as_str().expect("clientId"),
        credentials["accessToken"].as_str().expect("accessToken"),
        credentials["certificate"].as_str().expect("certificate"),
    );
    let object = object_client_with(ClientBuilder::new(tc.root_url()).credentials(temporary));

    let (data, content_type) = download_to_vec(name, &retry(2), &object)
        .await
        .expect("download with the temporary credentials");

    assert_eq!(data, DATA);
    assert_eq!(content_type, "text/plain");
    let calls = tc.calls();
    assert_eq!(endpoints(&tc), ["artifact", "startDownload"]);
    assert_eq!(calls[0].client_id.as_deref(), Some(CLIENT_ID));
    let task_client = format!("task-client/{TASK}/3");
    assert_eq!(calls[1].client_id.as_deref(), Some(task_client.as_str()));
    assert_eq!(calls[1].body, Some(start_download_body()));

    // The temporary credentials are scoped to that one object.
    tc.put_object("another/object", text_object());
    let error = download_to_vec("another/object", &retry(2), &object)
        .await
        .expect_err("out of scope");
    assert_eq!(
        taskcluster::err_status_code(&error),
        Some(StatusCode::FORBIDDEN)
    );
    assert_eq!(
        calls_to(&tc, "startDownload").last().map(|c| c.status),
        Some(403)
    );
}
