use std::sync::{Arc, Mutex};

use fetchkit_test_support::{Reply, Resource, file_names};
use fetchkit_transport::{Retry, RetryPolicy, download_to_file, download_to_vec};

use crate::{Context, HookSleeper, body, sha256_of};

#[tokio::test]
async fn a_reset_mid_body_resumes_with_a_range_request() {
    let cx = Context::new();
    let data = body(200_000);
    let download = cx
        .serve(
            "/f",
            Resource::new(data.clone())
                .ranges(true)
                .etag("\"v1\"")
                .script([Reply::ResetAfter(70_000)]),
        )
        .sha256(sha256_of(&data))
        .size(200_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let done = download_to_file(&cx.client, &cx.retry, &download, &path)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!((done.attempts, done.resumes), (2, 1));
    assert_eq!(
        done.sha256,
        Some(sha256_of(&data)),
        "the hash covers the whole file"
    );

    let requests = cx.server.requests_to("/f");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("range"), None);
    let range = requests[1]
        .header("range")
        .expect("the second request asks for a range");
    let offset: u64 = range
        .strip_prefix("bytes=")
        .and_then(|rest| rest.strip_suffix('-'))
        .and_then(|start| start.parse().ok())
        .unwrap_or_else(|| panic!("unexpected range {range}"));
    assert!(offset > 0 && offset <= 70_000, "resumed at {offset}");
    assert_eq!(requests[1].header("if-range"), Some("\"v1\""));
    assert_eq!(file_names(dir.path()), ["out"]);
}

#[tokio::test]
async fn a_large_body_resumes_with_the_offloaded_hash_state() {
    // Past the inline-hashing threshold, so the hash state crosses the worker threads.
    let cx = Context::new();
    let data = body(6 << 20);
    let download = cx
        .serve(
            "/big",
            Resource::new(data.clone())
                .ranges(true)
                .last_modified("Sat, 21 Nov 2026 10:00:00 GMT")
                .script([Reply::ResetAfter(3 << 20), Reply::ResetAfter(1 << 20)]),
        )
        .sha256(sha256_of(&data));
    let mut download = download;
    download.compute_sha512 = true;
    let (got, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert!(got == data, "content differs");
    assert_eq!((done.attempts, done.resumes), (3, 2));
    assert_eq!(done.sha512, Some(crate::sha512_of(&data)));
    let requests = cx.server.requests_to("/big");
    assert_eq!(
        requests[1].header("if-range"),
        Some("Sat, 21 Nov 2026 10:00:00 GMT"),
        "without an ETag, Last-Modified validates"
    );
}

#[tokio::test]
async fn a_reset_without_range_support_restarts() {
    let cx = Context::new();
    let data = body(100_000);
    let download = cx
        .serve(
            "/f",
            Resource::new(data.clone())
                .etag("\"v1\"")
                .script([Reply::ResetAfter(50_000)]),
        )
        .sha256(sha256_of(&data));
    let (got, done) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!((done.attempts, done.resumes), (2, 0));
    let requests = cx.server.requests_to("/f");
    assert_eq!(requests[1].header("range"), None);
}

#[tokio::test]
async fn a_weak_etag_does_not_permit_resuming() {
    let cx = Context::new();
    let data = body(100_000);
    let download = cx.serve(
        "/f",
        Resource::new(data.clone())
            .ranges(true)
            .etag("W/\"weak\"")
            .script([Reply::ResetAfter(50_000)]),
    );
    let (got, _) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(cx.server.requests_to("/f")[1].header("range"), None);
}

#[tokio::test]
async fn resuming_is_off_when_the_caller_says_so() {
    let cx = Context::new();
    let data = body(100_000);
    let mut download = cx.serve(
        "/f",
        Resource::new(data.clone())
            .ranges(true)
            .etag("\"v1\"")
            .script([Reply::ResetAfter(50_000)]),
    );
    download.resume = false;
    let (got, _) = download_to_vec(&cx.client, &cx.retry, &download)
        .await
        .unwrap();
    assert_eq!(got, data);
    assert_eq!(cx.server.requests_to("/f")[1].header("range"), None);
}

#[tokio::test]
async fn a_file_changed_between_attempts_is_downloaded_whole_again() {
    // The first attempt is cut off; before the second, the server replaces the file. The
    // If-Range no longer matches, so the server sends the new file whole, and nothing of the
    // old one may survive in the result.
    let cx = Context::new();
    let old = body(100_000);
    let new = body(120_000);
    let download = cx.serve(
        "/f",
        Resource::new(old)
            .ranges(true)
            .etag("\"v1\"")
            .script([Reply::ResetAfter(60_000)]),
    );
    let server = Arc::clone(&cx.server);
    let replacement = Resource::new(new.clone()).ranges(true).etag("\"v2\"");
    let sleeper = Arc::new(HookSleeper {
        hook: Mutex::new(Some(Box::new(move || server.route("/f", replacement)))),
    });
    let retry = Retry::new(RetryPolicy::default()).with_sleeper(sleeper);
    let (got, done) = download_to_vec(&cx.client, &retry, &download)
        .await
        .unwrap();
    assert!(got == new, "the result must be exactly the new file");
    assert_eq!(done.sha256, Some(sha256_of(&new)));
    assert_eq!(done.resumes, 0);
    let requests = cx.server.requests_to("/f");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-range"), Some("\"v1\""));
}
