//! `fetch_conditional`: 200 with validators, 304 for a current validator, the caller's
//! "missing" statuses, retries, gzip, and the size limit.

use fetchkit_test_support::{Reply, Resource};
use fetchkit_transport::{ErrorKind, Fetched, RedactedUrl, Validator, fetch_conditional};

use crate::Context;

const MISSING: &[u16] = &[404, 410, 451];

async fn fetch(context: &Context, path: &str, validator: Option<&Validator>) -> Fetched {
    let url = RedactedUrl::new(context.server.url(path).parse().unwrap());
    fetch_conditional(
        &context.client,
        &context.retry,
        &url,
        validator,
        MISSING,
        1 << 20,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn validators_come_back_and_make_the_next_fetch_a_304() {
    let context = Context::new();
    context.server.route(
        "/se/rd/serde",
        Resource::new(&b"line one\nline two\n"[..])
            .etag("W/\"abc\"")
            .last_modified("Sat, 21 Nov 2026 17:49:09 GMT"),
    );
    let first = fetch(&context, "/se/rd/serde", None).await;
    assert_eq!(
        first,
        Fetched::Body {
            body: b"line one\nline two\n".to_vec(),
            etag: Some("W/\"abc\"".into()),
            last_modified: Some("Sat, 21 Nov 2026 17:49:09 GMT".into()),
        }
    );
    let etag = Validator::ETag("W/\"abc\"".into());
    assert_eq!(
        fetch(&context, "/se/rd/serde", Some(&etag)).await,
        Fetched::NotModified
    );
    let since = Validator::LastModified("Sat, 21 Nov 2026 17:49:09 GMT".into());
    assert_eq!(
        fetch(&context, "/se/rd/serde", Some(&since)).await,
        Fetched::NotModified
    );
    let stale = Validator::ETag("W/\"old\"".into());
    assert!(matches!(
        fetch(&context, "/se/rd/serde", Some(&stale)).await,
        Fetched::Body { .. }
    ));

    let requests = context.server.requests_to("/se/rd/serde");
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].header("If-None-Match"), None);
    assert_eq!(requests[1].header("If-None-Match"), Some("W/\"abc\""));
    assert_eq!(
        requests[2].header("If-Modified-Since"),
        Some("Sat, 21 Nov 2026 17:49:09 GMT")
    );
    assert!(
        requests
            .iter()
            .all(|r| r.header("Accept-Encoding") == Some("gzip"))
    );
}

#[tokio::test]
async fn missing_statuses_end_at_once_and_errors_are_retried() {
    let context = Context::new();
    for status in [404, 410, 451] {
        let path = format!("/gone/{status}");
        context.server.route(
            &path,
            Resource::new(&b"x"[..]).script([Reply::Status(status)]),
        );
        assert_eq!(
            fetch(&context, &path, None).await,
            Fetched::Missing { status }
        );
        assert_eq!(context.requests(&path), 1);
    }
    context.server.route(
        "/flaky",
        Resource::new(&b"ok"[..]).script([Reply::Status(500), Reply::ResetAfter(0)]),
    );
    assert!(
        matches!(fetch(&context, "/flaky", None).await, Fetched::Body { body, .. } if body == b"ok")
    );
    assert_eq!(context.requests("/flaky"), 3);

    context.server.route(
        "/forbidden",
        Resource::new(&b"x"[..]).script([Reply::Status(403)]),
    );
    let url = RedactedUrl::new(context.server.url("/forbidden").parse().unwrap());
    let error = fetch_conditional(
        &context.client,
        &context.retry,
        &url,
        None,
        MISSING,
        1 << 20,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Status { status: 403, .. }),
        "{error}"
    );
    assert!(!error.is_transient());
    assert_eq!(context.requests("/forbidden"), 1);
}

#[tokio::test]
async fn gzip_bodies_are_decoded_and_limits_hold() {
    let context = Context::new();
    let text = "{\"name\":\"a\"}\n".repeat(1000);
    context
        .server
        .route("/zipped", Resource::new(text.clone().into_bytes()).gzip());
    assert!(
        matches!(fetch(&context, "/zipped", None).await, Fetched::Body { body, .. } if body == text.as_bytes())
    );

    let url = RedactedUrl::new(context.server.url("/zipped").parse().unwrap());
    let error = fetch_conditional(&context.client, &context.retry, &url, None, MISSING, 100)
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::SizeMismatch { expected: 100, .. }),
        "{error}"
    );
    assert_eq!(
        context.requests("/zipped"),
        2,
        "a body over the limit is not retried"
    );
}
