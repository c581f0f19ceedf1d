use std::time::Duration;

use fetchkit_retry::RetryPolicy;
use fetchkit_test_support::{Reply, Resource, file_names};
use fetchkit_transport::{
    AtomicFile, Download, ErrorKind, Retry, USER_AGENT, download_to_buf, download_to_file,
    download_to_vec, download_with_factory,
};

use crate::{Context, body, sha256_of, sha512_of};

#[tokio::test]
async fn succeeds_after_500_500_200() {
    let cx = Context::new();
    let data = body(50_000);
    let download = cx
        .serve(
            "/f",
            Resource::new(data.clone()).script([Reply::Status(500), Reply::Status(500)]),
        )
        .sha256(sha256_of(&data));
    let (got, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(done.attempts, 3);
    assert_eq!(done.size, 50_000);
    assert_eq!(cx.requests("/f"), 3);
    assert_eq!(
        cx.sleeper.delays(),
        [Duration::from_millis(100), Duration::from_millis(200)]
    );
}

#[tokio::test]
async fn gives_up_after_the_attempt_budget_with_the_last_error() {
    let cx = Context::new();
    let download = cx.serve(
        "/f",
        Resource::new("x").script([
            Reply::Status(500),
            Reply::Status(500),
            Reply::Status(500),
            Reply::Status(500),
            Reply::Status(500),
            Reply::Status(503),
        ]),
    );
    let error = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap_err();
    assert_eq!(error.attempts(), 6);
    assert_eq!(error.status(), Some(503));
    assert!(error.is_transient());
    assert_eq!(cx.requests("/f"), 6);
    assert_eq!(cx.sleeper.delays().len(), 5);
    let message = error.to_string();
    assert!(message.contains("gave up after 6 attempts"), "{message}");
    assert!(
        message.ends_with("HTTP 503 Service Unavailable"),
        "{message}"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 410] {
        let cx = Context::new();
        let download = cx.serve("/f", Resource::new("x").script([Reply::Status(status)]));
        let error = download_to_vec(&cx.client, &cx.retry, &download)
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert!(!error.is_transient());
        assert_eq!(
            (error.attempts(), cx.requests("/f")),
            (1, 1),
            "status {status}"
        );
    }
}

#[tokio::test]
async fn not_found_reads_as_one_line() {
    let cx = Context::new();
    let download = cx.serve("/f", Resource::new("x").script([Reply::Status(404)]));
    let error = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{}: HTTP 404 Not Found", cx.server.url("/f"))
    );
}

#[tokio::test]
async fn too_many_requests_and_unavailable_wait_for_retry_after() {
    for status in [429, 503] {
        let cx = Context::new();
        let data = body(1000);
        let download = cx.serve(
            "/f",
            Resource::new(data.clone()).script([Reply::StatusWithRetryAfter(status, "2".into())]),
        );
        let (got, done) = download_to_vec(&cx.client, &cx.retry, &download)
            .await
            .unwrap();
        assert_eq!((got, done.attempts), (data, 2));
        assert_eq!(
            cx.sleeper.delays(),
            [Duration::from_secs(2)],
            "status {status}"
        );
    }
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let cx = Context::new();
    let in_a_minute =
        httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(45));
    let download = cx.serve(
        "/f",
        Resource::new("ok").script([Reply::StatusWithRetryAfter(503, in_a_minute)]),
    );
    download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    let delays = cx.sleeper.delays();
    assert_eq!(delays.len(), 1);
    // Whole seconds in the header, and a little time passes before we read it.
    assert!(
        delays[0] > Duration::from_secs(40) && delays[0] <= Duration::from_secs(45),
        "{delays:?}"
    );
}

#[tokio::test]
async fn wrong_bytes_fail_the_hash_once_and_leave_nothing() {
    let cx = Context::new();
    let data = body(40_000);
    let download = cx
        .serve(
            "/f",
            Resource::new(data.clone()).script([Reply::WrongBytes, Reply::WrongBytes]),
        )
        .sha256(sha256_of(&data));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.bin");
    std::fs::write(&path, b"previous version").unwrap();
    let error = download_to_file(&cx.client, &cx.retry, &download, &path)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::DigestMismatch {
                algorithm: "sha256",
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.is_transient());
    assert_eq!(cx.requests("/f"), 1, "a digest mismatch is permanent");
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "sha256 mismatch: expected {} got ",
            sha256_of(&data)
        )),
        "{message}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"previous version");
    assert_eq!(file_names(dir.path()), ["out.bin"]);
}

#[tokio::test]
async fn a_sha512_mismatch_is_caught_even_when_sha256_matches() {
    let cx = Context::new();
    let data = body(3000);
    let mut wrong = sha512_of(&data);
    wrong.0[0] ^= 1;
    let download = cx
        .serve("/f", Resource::new(data.clone()))
        .sha256(sha256_of(&data))
        .sha512(wrong);
    let error = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("sha512 mismatch"), "{error}");

    let download = Download::parse(&cx.server.url("/f"))
        .unwrap()
        .sha512(sha512_of(&data));
    let (_, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(done.sha512, Some(sha512_of(&data)));
    assert_eq!(done.sha256, Some(sha256_of(&data)));
}

#[tokio::test]
async fn sha512_is_computed_only_when_wanted() {
    let cx = Context::new();
    let data = body(2000);
    let mut download = cx.serve("/f", Resource::new(data.clone()));
    let (_, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(done.sha512, None);
    download.compute_sha512 = true;
    let (_, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(done.sha512, Some(sha512_of(&data)));
}

/// SHA-256 is on by default; turned off it is still computed, and checked, when expected.
/// Both sizes: small bodies are hashed inline, large ones on worker threads.
#[tokio::test]
async fn sha256_can_be_skipped_but_an_expected_one_is_still_verified() {
    let cx = Context::new();
    for size in [2000, 3 << 20] {
        let path = format!("/f{size}");
        let data = body(size);
        let mut download = cx.serve(&path, Resource::new(data.clone()));
        download.compute_sha256 = false;
        let (got, done) = download_to_vec(&cx.client, &cx.retry, &download)
            .await
            .unwrap();
        assert_eq!((got == data, done.sha256, done.sha512), (true, None, None));

        download.compute_sha512 = true;
        let (_, done) = download_to_vec(&cx.client, &cx.retry, &download)
            .await
            .unwrap();
        assert_eq!((done.sha256, done.sha512), (None, Some(sha512_of(&data))));

        let mut wrong = sha256_of(&data);
        wrong.0[0] ^= 1;
        let error = download_to_vec(&cx.client, &cx.retry, &download.clone().sha256(wrong))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("sha256 mismatch"), "{error}");
        let (_, done) = download_to_vec(
            &cx.client,
            &cx.retry,
            &download.clone().sha256(sha256_of(&data)),
        )
        .await
        .unwrap();
        assert_eq!(done.sha256, Some(sha256_of(&data)));
    }
}

#[tokio::test]
async fn an_announced_wrong_length_fails_before_any_write() {
    let cx = Context::new();
    let download = cx.serve("/f", Resource::new(body(1000))).size(999);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let error = download_to_file(&cx.client, &cx.retry, &download, &path)
        .await
        .unwrap_err();
    assert_eq!(
        error.kind().to_string(),
        "size mismatch: expected 999 bytes, got 1000"
    );
    assert_eq!(cx.requests("/f"), 1);
    assert!(file_names(dir.path()).is_empty());
}

#[tokio::test]
async fn an_unannounced_long_body_is_stopped_at_the_expected_size() {
    let cx = Context::new();
    let download = cx
        .serve("/f", Resource::new(body(100_000)).chunked())
        .size(10);
    let error = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::SizeMismatch {
                expected: 10,
                at_least: true,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("or more"), "{error}");
}

#[tokio::test]
async fn a_short_body_is_retried_and_the_retry_keeps_only_its_own_bytes() {
    let cx = Context::new();
    let data = body(80_000);
    let download = cx
        .serve(
            "/f",
            Resource::new(data.clone()).script([Reply::ShortBody(30_000)]),
        )
        .size(80_000)
        .sha256(sha256_of(&data));
    let (got, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!((done.attempts, done.resumes), (2, 0));
}

#[tokio::test]
async fn a_body_that_always_ends_short_fails_as_an_interrupted_body() {
    let cx = Context::new();
    let download = cx
        .serve(
            "/f",
            Resource::new(body(5000)).script(vec![Reply::ShortBody(100); 6]),
        )
        .size(5000);
    let error = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Body { received: 100, .. }),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 6);
}

#[tokio::test]
async fn a_stalled_body_trips_the_read_timeout() {
    let cx = Context::with_read_timeout(Duration::from_millis(300));
    let retry = Retry::new(RetryPolicy::no_retries());
    let download = cx.serve(
        "/f",
        Resource::new(body(10_000)).script([Reply::StallAfter(1000)]),
    );
    let error = download_to_vec(&cx.client, &retry, &download)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind(),
            ErrorKind::Stalled {
                phase: "reading the body",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_transient());
    assert!(error.to_string().contains("no data for 0.3s"), "{error}");
}

#[tokio::test]
async fn stalled_headers_trip_the_read_timeout_and_the_retry_succeeds() {
    let cx = Context::with_read_timeout(Duration::from_millis(300));
    let data = body(1000);
    let download = cx.serve(
        "/f",
        Resource::new(data.clone()).script([Reply::StallBeforeHeaders]),
    );
    let (got, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!((got, done.attempts), (data, 2));
}

#[tokio::test]
async fn gzip_bodies_are_decoded_before_hashing() {
    let cx = Context::new();
    let data = body(300_000);
    let download = cx
        .serve(
            "/f",
            Resource::new(data.clone())
                .gzip()
                .content_type("application/x-tar"),
        )
        .size(300_000)
        .sha256(sha256_of(&data))
        .sha512(sha512_of(&data));
    let (got, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(done.size, 300_000);
    assert_eq!(done.content_type.as_deref(), Some("application/x-tar"));
}

#[tokio::test]
async fn a_gzip_body_cut_off_restarts_instead_of_resuming() {
    let cx = Context::new();
    let data = body(300_000);
    let download = cx
        .serve(
            "/f",
            Resource::new(data.clone())
                .gzip()
                .ranges(true)
                .etag("\"g\"")
                .script([Reply::ResetAfter(5000)]),
        )
        .sha256(sha256_of(&data));
    let (got, _) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);
    let requests = cx.server.requests_to("/f");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("range"), None);
}

#[tokio::test]
async fn every_stock_factory_keeps_only_the_last_attempt() {
    let cx = Context::new();
    let data = body(64_000);
    // Two attempts end short at different points; only the third's bytes may remain.
    let resource =
        || Resource::new(data.clone()).script([Reply::ShortBody(40_000), Reply::ShortBody(10)]);
    let download = cx.serve("/vec", resource()).sha256(sha256_of(&data));
    let (got, _) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);

    let download = cx.serve("/buf", resource()).sha256(sha256_of(&data));
    let mut buffer = vec![0u8; 100_000];
    let done = download_to_buf(&cx.client, &cx.retry, &download, &mut buffer)
        .await
        .unwrap();
    assert_eq!(&buffer[..done.size as usize], &data[..]);

    let download = cx.serve("/file", resource()).sha256(sha256_of(&data));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain");
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    download_with_factory(&cx.client, &cx.retry, &download, &mut file)
        .await
        .unwrap();
    drop(file);
    assert_eq!(std::fs::read(&path).unwrap(), data);

    let download = cx.serve("/atomic", resource()).sha256(sha256_of(&data));
    let path = dir.path().join("atomic");
    let mut factory = AtomicFile::new(&path);
    download_with_factory(&cx.client, &cx.retry, &download, &mut factory)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(file_names(dir.path()), ["atomic", "plain"]);

    for path in ["/vec", "/buf", "/file", "/atomic"] {
        assert_eq!(cx.requests(path), 3, "{path}");
    }
}

#[tokio::test]
async fn a_too_small_buffer_is_a_permanent_error() {
    let cx = Context::new();
    let download = cx.serve("/f", Resource::new(body(1000)));
    let mut buffer = [0u8; 999];
    let error = download_to_buf(&cx.client, &cx.retry, &download, &mut buffer)
        .await
        .unwrap_err();
    assert!(!error.is_transient());
    assert_eq!(cx.requests("/f"), 1);
    assert!(
        error
            .to_string()
            .contains("buffer of 999 bytes is too small for at least 1000 bytes"),
        "{error}"
    );
    // Without a Content-Length the overflow is caught while writing.
    let download = cx.serve("/chunked", Resource::new(body(1000)).chunked());
    let error = download_to_buf(&cx.client, &cx.retry, &download, &mut buffer)
        .await
        .unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Write { .. }), "{error}");
}

#[tokio::test]
async fn redirects_are_followed_within_a_bound() {
    let cx = Context::new();
    let data = body(500);
    cx.server.route("/real", Resource::new(data.clone()));
    let download = cx.serve(
        "/moved",
        Resource::new("").script([Reply::Redirect(301, cx.server.url("/real"))]),
    );
    let (got, _) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);

    let looping = cx.serve(
        "/loop",
        Resource::new("").script(vec![Reply::Redirect(302, "/loop".into()); 50]),
    );
    let error = download_to_vec(&cx.client, &cx.retry, &looping)
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Redirect { .. }),
        "{error}"
    );
    assert_eq!(error.attempts(), 1, "a redirect loop is permanent");
}

#[tokio::test]
async fn requests_name_fetchkit_as_the_user_agent() {
    let cx = Context::new();
    let download = cx.serve("/f", Resource::new("x"));
    download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    let request = &cx.server.requests_to("/f")[0];
    assert_eq!(request.header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("fetchkit/"));
}

#[tokio::test]
async fn secrets_never_reach_error_text() {
    let cx = Context::new();
    cx.server
        .route("/private", Resource::new("x").script([Reply::Status(403)]));
    let url = cx
        .server
        .url("/private?X-Amz-Signature=s3cr3tsig&token=hunter2&page=2")
        .replace("http://", "http://alice:pa55word@");
    let download = Download::parse(&url).unwrap();
    let error = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap_err();
    let text = format!("{error} {error:?}");
    for secret in ["s3cr3tsig", "hunter2", "pa55word", "alice"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("page=2"), "harmless parameters stay: {text}");
    // The request itself still carried the credentials.
    let request = &cx.server.requests_to("/private")[0];
    assert!(
        request
            .header("authorization")
            .is_some_and(|value| value.starts_with("Basic "))
    );

    // Connection errors too: nothing listens on port 9 of loopback.
    let download = Download::parse("http://bob:topsecret@127.0.0.1:9/x?sig=abc").unwrap();
    let retry = Retry::new(RetryPolicy::no_retries());
    let error = download_to_vec(&cx.client, &retry, &download)
        .await
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(matches!(error.kind(), ErrorKind::Connect { .. }), "{text}");
    assert!(
        !text.contains("topsecret") && !text.contains("abc") && !text.contains("bob"),
        "{text}"
    );
}

#[tokio::test]
async fn unusable_urls_are_refused_up_front() {
    for (input, expected) in [
        (
            "not a url",
            "invalid URL \"not a url\": relative URL without a base",
        ),
        (
            "ftp://127.0.0.1/x",
            "invalid URL \"ftp://127.0.0.1/x\": unsupported scheme \"ftp\" (http and https are)",
        ),
        (
            "ftp://user:pw@127.0.0.1/x?token=t",
            "invalid URL \"ftp://***@127.0.0.1/x\": unsupported scheme \"ftp\" (http and https are)",
        ),
    ] {
        let error = Download::parse(input).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}
