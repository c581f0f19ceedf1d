//! Object and artifact downloads against the fake Taskcluster services.

use std::sync::Arc;

use fetchkit_retry::{RecordingSleeper, Retry, RetryPolicy};
use fetchkit_test_support::{
    FakeArtifact, FakeObject, FakeTaskcluster, HandlerReply, Reply, file_names,
};
use fetchkit_transport::artifact::{
    download_artifact_to_file, download_artifact_to_vec, download_artifact_with_factory,
};
use fetchkit_transport::object::{
    DEFAULT_CONTENT_TYPE, download_to_buf, download_to_file, download_to_vec,
};
use fetchkit_transport::taskcluster::{Credentials, Taskcluster, TaskclusterError};
use serde_json::json;

use crate::{body, sha256_of};

const DATA: &[u8] = b"hello, world";

fn retry() -> (Retry, Arc<RecordingSleeper>) {
    let sleeper = Arc::new(RecordingSleeper::default());
    let mut policy = RetryPolicy::default();
    policy.jitter = false;
    (Retry::new(policy).with_sleeper(sleeper.clone()), sleeper)
}

fn anonymous(fake: &FakeTaskcluster) -> Taskcluster {
    Taskcluster::new(&fake.root_url(), None).unwrap()
}

fn endpoints(fake: &FakeTaskcluster) -> Vec<String> {
    fake.calls().into_iter().map(|call| call.endpoint).collect()
}

#[tokio::test]
async fn an_object_downloads_through_one_get_url_negotiation() {
    let fake = FakeTaskcluster::start();
    fake.put_object(
        "public/hello.txt",
        FakeObject::new(DATA).content_type("text/plain"),
    );
    let (retry, _) = retry();
    let (data, content_type) = download_to_vec("public/hello.txt", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert_eq!(
        (data.as_slice(), content_type.as_str()),
        (DATA, "text/plain")
    );
    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].endpoint, "startDownload");
    assert_eq!(
        calls[0].path,
        "/api/object/v1/start-download/public%2Fhello.txt"
    );
    assert_eq!(
        calls[0].body,
        Some(json!({"acceptDownloadMethods": {"getUrl": true}}))
    );
}

#[tokio::test]
async fn a_missing_content_type_is_reported_as_binary() {
    let fake = FakeTaskcluster::start();
    fake.put_object("o", FakeObject::new(DATA).without_content_type());
    let (retry, _) = retry();
    let (_, content_type) = download_to_vec("o", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert_eq!(content_type, DEFAULT_CONTENT_TYPE);
}

#[tokio::test]
async fn gzip_encoded_data_is_decoded_and_verified() {
    let fake = FakeTaskcluster::start();
    let data = body(200_000);
    fake.put_object("big", FakeObject::new(data.clone()).gzip());
    let (retry, _) = retry();
    let (got, _) = download_to_vec("big", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert!(got == data, "decoded data differs");
}

#[tokio::test]
async fn data_500_500_200_succeeds() {
    let fake = FakeTaskcluster::start();
    fake.put_object(
        "o",
        FakeObject::new(DATA).data_script(vec![Reply::Status(500), Reply::Status(500)]),
    );
    let (retry, sleeper) = retry();
    let (data, _) = download_to_vec("o", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert_eq!(data, DATA);
    assert_eq!(sleeper.delays().len(), 2);
    assert_eq!(
        endpoints(&fake),
        ["startDownload"],
        "the URL had not expired"
    );
}

#[tokio::test]
async fn exhausted_retries_leave_the_destination_untouched() {
    let fake = FakeTaskcluster::start();
    fake.put_object(
        "o",
        FakeObject::new(DATA).data_script(vec![Reply::Status(503); 6]),
    );
    let (retry, _) = retry();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    std::fs::write(&path, b"old").unwrap();
    let error = download_to_file("o", &retry, &anonymous(&fake), &path)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("gave up after 6 attempts"),
        "{error}"
    );
    assert!(error.is_transient());
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    assert_eq!(file_names(dir.path()), ["out"]);
}

#[tokio::test]
async fn a_4xx_on_the_data_fails_at_once() {
    let fake = FakeTaskcluster::start();
    fake.put_object(
        "o",
        FakeObject::new(DATA).data_script(vec![Reply::Status(403)]),
    );
    let (retry, sleeper) = retry();
    let error = download_to_vec("o", &retry, &anonymous(&fake))
        .await
        .unwrap_err();
    assert!(error.to_string().ends_with("HTTP 403 Forbidden"), "{error}");
    assert!(sleeper.delays().is_empty());
}

#[tokio::test]
async fn get_url_data_is_not_fetched_through_redirects() {
    let fake = FakeTaskcluster::start();
    let elsewhere = fake.data_url("elsewhere");
    fake.put_object("elsewhere", FakeObject::new(DATA));
    fake.put_object(
        "o",
        FakeObject::new(DATA).data_script(vec![Reply::Redirect(302, elsewhere)]),
    );
    let (retry, _) = retry();
    let error = download_to_vec("o", &retry, &anonymous(&fake))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("HTTP 302"), "{error}");
}

#[tokio::test]
async fn an_expired_url_is_renewed_before_the_retry() {
    let fake = FakeTaskcluster::start();
    fake.put_object(
        "o",
        FakeObject::new(DATA)
            .expires_in(0)
            .data_script(vec![Reply::Status(500)]),
    );
    let (retry, _) = retry();
    let (data, _) = download_to_vec("o", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert_eq!(data, DATA);
    assert_eq!(endpoints(&fake), ["startDownload", "startDownload"]);
}

#[tokio::test]
async fn a_fresh_url_is_not_renewed() {
    let fake = FakeTaskcluster::start();
    fake.put_object(
        "o",
        FakeObject::new(DATA).data_script(vec![Reply::Status(500)]),
    );
    let (retry, _) = retry();
    download_to_vec("o", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert_eq!(endpoints(&fake), ["startDownload"]);
}

#[track_caller]
fn hashes(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, v)| (a.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn hashes_are_checked_as_the_service_defines() {
    let good = FakeObject::correct_hashes(DATA);
    let good_sha256 = good.iter().find(|(a, _)| a == "sha256").unwrap().1.clone();
    let good_sha512 = good.iter().find(|(a, _)| a == "sha512").unwrap().1.clone();
    let bad_sha512 = "0".repeat(128);
    // (case, the hashes startDownload reports, what the outcome must say)
    type Case<'a> = (&'a str, Vec<(String, String)>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "empty",
            vec![],
            "no acceptable hash (sha256 or sha512) to verify against, only []",
        ),
        (
            "md5 only",
            hashes(&[("md5", "5eb63bbbe01eeed093cb22bb8f5acdc3")]),
            "only [md5]",
        ),
        (
            "good sha256, bad sha512",
            hashes(&[("sha256", &good_sha256), ("sha512", &bad_sha512)]),
            "sha512 mismatch",
        ),
        (
            "unknown extra with good known",
            hashes(&[
                ("sha256", &good_sha256),
                ("sha512", &good_sha512),
                ("blake3", "zz"),
            ]),
            "ok",
        ),
        ("sha512 alone", hashes(&[("sha512", &good_sha512)]), "ok"),
    ];
    for (case, hashes, expected) in cases {
        let fake = FakeTaskcluster::start();
        fake.put_object("o", FakeObject::new(DATA).hashes(hashes));
        let (retry, _) = retry();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let outcome = download_to_file("o", &retry, &anonymous(&fake), &path).await;
        match (outcome, expected) {
            (Ok(_), "ok") => assert_eq!(std::fs::read(&path).unwrap(), DATA, "{case}"),
            (Ok(_), _) => panic!("{case}: expected a failure with {expected:?}"),
            (Err(error), _) => {
                assert!(error.to_string().contains(expected), "{case}: {error}");
                assert!(!error.is_transient(), "{case}");
                assert!(
                    file_names(dir.path()).is_empty(),
                    "{case}: left files behind"
                );
                // No hash problem is worth a second data request.
                assert!(
                    fake.server()
                        .requests()
                        .iter()
                        .filter(|r| r.path().starts_with("/data/"))
                        .count()
                        <= 1,
                    "{case}"
                );
            }
        }
    }
}

#[tokio::test]
async fn each_destination_keeps_only_the_last_attempt() {
    let fake = FakeTaskcluster::start();
    let data = body(100_000);
    let object = || {
        FakeObject::new(data.clone())
            .data_script(vec![Reply::ShortBody(60_000), Reply::ShortBody(10)])
    };
    fake.put_object("vec", object());
    fake.put_object("buf", object());
    fake.put_object("file", object());
    let client = anonymous(&fake);
    let (retry, _) = retry();

    let (got, _) = download_to_vec("vec", &retry, &client).await.unwrap();
    assert!(got == data);
    let mut buffer = vec![0u8; 200_000];
    let (got, _) = download_to_buf("buf", &retry, &client, &mut buffer)
        .await
        .unwrap();
    assert!(got == &data[..]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file");
    let delivered = download_to_file("file", &retry, &client, &path)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(delivered.download.attempts, 3);
    assert_eq!(delivered.download.sha256, Some(sha256_of(&data)));
}

#[tokio::test]
async fn a_too_small_buffer_fails_without_retrying() {
    let fake = FakeTaskcluster::start();
    fake.put_object("o", FakeObject::new(DATA));
    let (retry, sleeper) = retry();
    let mut buffer = [0u8; 5];
    let error = download_to_buf("o", &retry, &anonymous(&fake), &mut buffer)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("too small"), "{error}");
    assert!(sleeper.delays().is_empty());
}

#[tokio::test]
async fn api_errors_surface_the_service_message_and_5xx_are_retried() {
    let fake = FakeTaskcluster::start();
    let (retry, _) = retry();
    let error = download_to_vec("nothing-here", &retry, &anonymous(&fake))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("object startDownload: HTTP 404: "),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
    assert!(!error.is_transient());

    fake.put_object("o", FakeObject::new(DATA));
    fake.script_api("startDownload", [500, 500]);
    let (data, _) = download_to_vec("o", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert_eq!(data, DATA);
    assert_eq!(
        endpoints(&fake).len(),
        4,
        "1 for the 404, then 500, 500, 200"
    );
}

#[tokio::test]
async fn simple_is_proposed_only_when_allowed() {
    let fake = FakeTaskcluster::start();
    fake.put_object("o", FakeObject::new(DATA).methods(&["simple"]));
    let (retry, _) = retry();
    let error = download_to_vec("o", &retry, &anonymous(&fake))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("HTTP 406"), "{error}");

    let client = anonymous(&fake).allow_simple_downloads(true);
    let (data, _) = download_to_vec("o", &retry, &client).await.unwrap();
    assert_eq!(data, DATA);
    assert_eq!(
        fake.calls().last().unwrap().body,
        Some(json!({"acceptDownloadMethods": {"getUrl": true, "simple": true}}))
    );
}

#[tokio::test]
async fn signed_calls_pass_and_a_wrong_signature_is_rejected_without_leaking_it() {
    let fake = FakeTaskcluster::start();
    fake.require_credentials("project/ci", "right-token-1234");
    fake.put_object("o", FakeObject::new(DATA));
    let (retry, _) = retry();

    let client = Taskcluster::new(
        &fake.root_url(),
        Some(Credentials::new("project/ci", "right-token-1234")),
    )
    .unwrap();
    download_to_vec("o", &retry, &client).await.unwrap();
    assert_eq!(fake.calls()[0].client_id.as_deref(), Some("project/ci"));

    let wrong = Taskcluster::new(
        &fake.root_url(),
        Some(
            Credentials::new("project/ci", "wrong-token-5678")
                .certificate("{\"seed\":\"cert-secret-9\"}"),
        ),
    )
    .unwrap();
    let error = download_to_vec("o", &retry, &wrong).await.unwrap_err();
    let text = format!("{error} {error:?} {wrong:?}");
    assert!(error.to_string().contains("HTTP 401"), "{error}");
    for secret in ["wrong-token-5678", "right-token-1234", "cert-secret-9"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[tokio::test]
async fn artifacts_by_run_id_and_latest() {
    let fake = FakeTaskcluster::start();
    let data_url = fake.data_url("s3-data");
    fake.put_object(
        "s3-data",
        FakeObject::new(DATA).gzip().content_type("text/plain"),
    );
    fake.put_artifact(
        "T",
        0,
        "public/a.txt",
        FakeArtifact::S3 {
            url: data_url.clone(),
        },
    );
    fake.put_artifact(
        "T",
        1,
        "public/a.txt",
        FakeArtifact::Reference { url: data_url },
    );
    let (retry, _) = retry();
    let client = anonymous(&fake);

    let (data, content_type) =
        download_artifact_to_vec("T", Some(0), "public/a.txt", &retry, &client)
            .await
            .unwrap();
    assert_eq!(
        (data.as_slice(), content_type.as_str()),
        (DATA, "text/plain")
    );
    let (data, _) = download_artifact_to_vec("T", None, "public/a.txt", &retry, &client)
        .await
        .unwrap();
    assert_eq!(data, DATA);
    let calls = fake.calls();
    assert_eq!(
        calls[0].path,
        "/api/queue/v1/task/T/runs/0/artifact-content/public%2Fa.txt"
    );
    assert_eq!(
        calls[1].path,
        "/api/queue/v1/task/T/artifact-content/public%2Fa.txt"
    );
    assert_eq!(calls[1].endpoint, "latestArtifact");
}

#[tokio::test]
async fn s3_artifacts_are_retried_like_any_download() {
    let fake = FakeTaskcluster::start();
    let data_url = fake.data_url("s3-data");
    fake.put_object(
        "s3-data",
        FakeObject::new(DATA).data_script(vec![Reply::Status(500)]),
    );
    fake.put_artifact("T", 0, "a", FakeArtifact::S3 { url: data_url });
    let (retry, sleeper) = retry();
    let (data, _) = download_artifact_to_vec("T", Some(0), "a", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert_eq!(data, DATA);
    assert_eq!(sleeper.delays().len(), 1);
}

#[tokio::test]
async fn references_can_be_refused() {
    let fake = FakeTaskcluster::start();
    fake.put_artifact(
        "T",
        0,
        "r",
        FakeArtifact::Reference {
            url: "http://127.0.0.1:9/anywhere?sig=s3cr3t".into(),
        },
    );
    let (retry, _) = retry();
    let client = anonymous(&fake).refuse_references(true);
    let error = download_artifact_to_vec("T", Some(0), "r", &retry, &client)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("is a reference to http://127.0.0.1:9/anywhere?sig=***"),
        "{message}"
    );
    assert!(message.ends_with("references are refused"), "{message}");
    assert!(
        !fake
            .server()
            .requests()
            .iter()
            .any(|r| r.path() == "/anywhere")
    );
}

#[tokio::test]
async fn object_artifacts_use_the_queues_temporary_credentials() {
    let fake = FakeTaskcluster::start();
    fake.require_credentials("project/ci", "permanent-token");
    let data = body(50_000);
    let object_name =
        fake.put_object_artifact("T", 2, "public/build.tar", FakeObject::new(data.clone()));
    let client = Taskcluster::new(
        &fake.root_url(),
        Some(Credentials::new("project/ci", "permanent-token")),
    )
    .unwrap();
    let (retry, _) = retry();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("build.tar");
    download_artifact_to_file("T", Some(2), "public/build.tar", &retry, &client, &path)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].client_id.as_deref(), Some("project/ci"));
    assert_eq!(calls[1].endpoint, "startDownload");
    assert_eq!(
        calls[1].path,
        format!(
            "/api/object/v1/start-download/{}",
            object_name.replace('/', "%2F")
        )
    );
    let temporary = calls[1].client_id.as_deref().unwrap();
    assert_ne!(
        temporary, "project/ci",
        "the object call is signed with the temporary credentials"
    );
}

#[tokio::test]
async fn object_artifacts_with_credentials_that_have_no_certificate() {
    // Some deployments hand out permanent credentials; the certificate is optional then.
    let fake = FakeTaskcluster::start();
    fake.require_credentials("object-reader", "reader-token");
    fake.put_object("shared/object", FakeObject::new(DATA));
    fake.server().handle("/api/queue/v1/task/P/", |_request| {
        HandlerReply::json(
            200,
            &json!({
                "storageType": "object",
                "name": "shared/object",
                "credentials": {"clientId": "object-reader", "accessToken": "reader-token"},
            }),
        )
    });
    let (retry, _) = retry();
    let (data, _) = download_artifact_to_vec("P", Some(0), "x", &retry, &anonymous(&fake))
        .await
        .unwrap();
    assert_eq!(data, DATA);
    assert_eq!(
        fake.calls().last().unwrap().client_id.as_deref(),
        Some("object-reader")
    );
}

#[tokio::test]
async fn error_artifacts_report_reason_and_message() {
    let fake = FakeTaskcluster::start();
    fake.put_artifact(
        "T",
        0,
        "public/logs/live.log",
        FakeArtifact::Error {
            reason: "file-missing-on-worker".into(),
            message: "the worker found no such file".into(),
        },
    );
    let (retry, _) = retry();
    let error = download_artifact_to_vec(
        "T",
        Some(0),
        "public/logs/live.log",
        &retry,
        &anonymous(&fake),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, TaskclusterError::ErrorArtifact { .. }));
    assert_eq!(
        error.to_string(),
        "artifact \"public/logs/live.log\" of task T is an error artifact: \
         file-missing-on-worker: the worker found no such file"
    );
}

#[tokio::test]
async fn unknown_storage_types_and_missing_artifacts_are_errors() {
    let fake = FakeTaskcluster::start();
    fake.put_artifact(
        "T",
        0,
        "l",
        FakeArtifact::Other {
            storage_type: "link".into(),
        },
    );
    fake.put_artifact("T", 0, "gone", FakeArtifact::Expired);
    let (retry, _) = retry();
    let client = anonymous(&fake);
    let mut sink = Vec::new();
    let error = download_artifact_with_factory("T", Some(0), "l", &retry, &client, &mut sink)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "artifact \"l\" of task T has unknown storage type \"link\""
    );
    let error = download_artifact_to_vec("T", Some(0), "gone", &retry, &client)
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("queue artifact: HTTP 410: "),
        "{error}"
    );
    let error = download_artifact_to_vec("T", Some(7), "l", &retry, &client)
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("queue artifact: HTTP 404: "),
        "{error}"
    );
}

#[test]
fn root_urls_are_checked() {
    for (input, expected) in [
        (
            "not a url",
            "invalid root URL \"not a url\": relative URL without a base",
        ),
        (
            "ftp://127.0.0.1",
            "invalid root URL \"ftp://127.0.0.1\": expected an http or https URL with a host",
        ),
        (
            "http://u:p@127.0.0.1",
            "invalid root URL \"http://***@127.0.0.1\": a root URL carries no credentials or query",
        ),
    ] {
        assert_eq!(
            Taskcluster::new(input, None).unwrap_err().to_string(),
            expected
        );
    }
    let client = Taskcluster::new("http://127.0.0.1:8080/tc/", None).unwrap();
    assert_eq!(client.root_url().as_str(), "http://127.0.0.1:8080/tc");
}
