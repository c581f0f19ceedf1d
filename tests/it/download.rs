//! `fetchkit download` against scripted faults.

use std::time::{Duration, Instant};

use fetchkit_test_support::{Reply, Resource};

use crate::support::{Run, TestContext, assert_content, body, sha256_hex, sha512_hex};

/// Large enough for resets in the middle, small enough to keep every test quick.
const LEN: usize = 300 * 1024;
const OLD: &[u8] = b"old content\n";

fn data() -> Vec<u8> {
    body(LEN, 0x5eed)
}

/// Serves the test body at `/file` with `script`, downloads it with `--sha256` and `args`, and
/// asserts success after `requests` requests with a verified file and nothing left beside it.
#[track_caller]
fn check_succeeds(
    resource: Resource,
    script: Vec<Reply>,
    args: &[&str],
    requests: usize,
) -> (TestContext, Run) {
    let data = data();
    let cx = TestContext::new();
    let url = cx.serve("/file", resource.script(script));
    let sha256 = sha256_hex(&data);
    let mut all = vec!["--sha256", &sha256];
    all.extend_from_slice(args);
    let run = cx.download(&url, &all);
    let summary = run.success();
    assert!(summary.starts_with("downloaded "), "{run}");
    assert_eq!(cx.requests("/file").len(), requests, "{run}");
    assert_content(&cx.path("out.bin"), &data);
    assert_eq!(cx.files(), ["out.bin"], "{run}");
    (cx, run)
}

/// Serves the test body at `/file` with `script` over an existing `out.bin`, downloads it with
/// `args`, and asserts a one-line error containing every fragment after `requests` requests,
/// with `out.bin` untouched and no temp file left.
#[track_caller]
fn check_fails(script: Vec<Reply>, args: &[&str], requests: usize, fragments: &[&str]) -> Run {
    let cx = TestContext::new();
    let url = cx.serve("/file", Resource::new(data()).script(script));
    cx.write("out.bin", OLD);
    let run = cx.download(&url, args);
    let error = run.failure();
    for fragment in fragments {
        assert!(error.contains(fragment), "missing {fragment:?}\n{run}");
    }
    assert_eq!(cx.requests("/file").len(), requests, "{run}");
    assert_eq!(cx.read("out.bin"), OLD, "destination changed\n{run}");
    assert_eq!(cx.files(), ["out.bin"], "{run}");
    run
}

#[test]
fn verified_download_writes_the_file_and_a_summary() {
    let data = data();
    let cx = TestContext::new();
    let url = cx.serve("/file", Resource::new(data.clone()));
    let (sha256, sha512, size) = (sha256_hex(&data), sha512_hex(&data), LEN.to_string());
    let run = cx.download(
        &url,
        &["--sha256", &sha256, "--sha512", &sha512, "--size", &size],
    );
    let summary = run.success();
    assert_eq!(run.lines().len(), 1, "{run}");
    assert!(
        summary.starts_with("downloaded 300 KiB to out.bin in "),
        "{run}"
    );
    assert!(
        summary.ends_with(&format!("/s), sha256 {sha256}, sha512 verified")),
        "{run}"
    );
    assert_content(&cx.path("out.bin"), &data);
    assert_eq!(cx.files(), ["out.bin"]);
}

#[test]
fn quiet_prints_nothing_but_the_error() {
    let cx = TestContext::new();
    // A retry on the way: its warning is not printed either.
    let url = cx.serve("/file", Resource::new(data()).script([Reply::Status(500)]));
    let run = cx.download(&url, &["--quiet"]);
    run.success();
    assert_eq!(run.stderr, "", "{run}");
    assert_content(&cx.path("out.bin"), &data());

    let run = cx.download(&cx.server.url("/missing"), &["--quiet"]);
    run.failure();
    assert_eq!(run.lines().len(), 1, "{run}");
}

#[test]
fn replaces_an_existing_file() {
    let cx = TestContext::new();
    let url = cx.serve("/file", Resource::new(data()));
    cx.write("out.bin", OLD);
    cx.download(&url, &[]).success();
    assert_content(&cx.path("out.bin"), &data());
    assert_eq!(cx.files(), ["out.bin"]);
}

#[test]
fn server_errors_are_retried() {
    let (_, run) = check_succeeds(
        Resource::new(data()),
        vec![Reply::Status(500), Reply::Status(500)],
        &[],
        3,
    );
    assert_eq!(run.waits().len(), 2, "{run}");
    assert!(run.success().contains(" after 3 attempts, "), "{run}");
}

#[test]
fn six_server_errors_give_up() {
    let run = check_fails(
        vec![Reply::Status(500); 6],
        &[],
        6,
        &["gave up after 6 attempts", "HTTP 500 Internal Server Error"],
    );
    assert_eq!(run.waits().len(), 5, "{run}");
}

#[test]
fn retries_flag_bounds_attempts() {
    for (retries, requests) in [("0", 1), ("2", 3)] {
        let run = check_fails(
            vec![Reply::Status(503); 6],
            &["--retries", retries],
            requests,
            &["HTTP 503 Service Unavailable"],
        );
        assert_eq!(run.waits().len(), requests - 1, "{run}");
    }
}

#[test]
fn not_found_is_not_retried() {
    // The second request would succeed: only giving up at once passes.
    let run = check_fails(vec![Reply::Status(404)], &[], 1, &["HTTP 404 Not Found"]);
    assert!(run.waits().is_empty(), "{run}");
    assert!(!run.stderr.contains("gave up"), "{run}");
}

#[test]
fn not_found_creates_nothing() {
    let cx = TestContext::new();
    let run = cx.download(&cx.server.url("/missing"), &[]);
    assert!(
        run.failure().ends_with("/missing: HTTP 404 Not Found"),
        "{run}"
    );
    assert!(cx.files().is_empty(), "{:?}\n{run}", cx.files());
}

#[test]
fn retry_after_is_honoured() {
    // A server asking for longer than the policy's cap (60 s) waits the cap.
    for (status, retry_after, wait) in [
        (429, "2", "2.0s"),
        (503, "2", "2.0s"),
        (503, "3600", "60.0s"),
    ] {
        let (_, run) = check_succeeds(
            Resource::new(data()),
            vec![Reply::StatusWithRetryAfter(status, retry_after.into())],
            &[],
            2,
        );
        assert_eq!(
            run.waits(),
            [format!("warning: waiting {wait} before retrying")],
            "{status}\n{run}"
        );
    }
}

#[test]
fn reset_on_a_server_with_ranges_resumes() {
    let data = data();
    let cx = TestContext::new();
    let url = cx.serve(
        "/file",
        Resource::new(data.clone())
            .ranges(true)
            .etag("\"v1\"")
            .script([Reply::ResetAfter(100_000)]),
    );
    let run = cx.download(&url, &["--sha256", &sha256_hex(&data)]);
    assert!(
        run.success().contains(" after 2 attempts (1 resumed), "),
        "{run}"
    );
    assert_content(&cx.path("out.bin"), &data);
    let requests = cx.requests("/file");
    assert_eq!(requests.len(), 2, "{run}");
    assert_eq!(requests[0].header("Range"), None);
    // Bytes in flight when the reset arrives may be lost, so the offset is at most 100 000.
    let range = requests[1]
        .header("Range")
        .expect("the second request has a Range");
    let offset: usize = range
        .strip_prefix("bytes=")
        .and_then(|rest| rest.strip_suffix('-'))
        .and_then(|offset| offset.parse().ok())
        .unwrap_or_else(|| panic!("Range: {range}"));
    assert!(offset <= 100_000, "Range: {range}");
    assert_eq!(requests[1].header("If-Range"), Some("\"v1\""));
    assert_eq!(cx.files(), ["out.bin"]);
}

#[test]
fn reset_restarts_unless_the_server_can_continue() {
    const DATE: &str = "Wed, 21 Oct 2015 07:28:00 GMT";
    // (resource, the `If-Range` of the second request; `None`: it restarts without `Range`)
    let cases = [
        (Resource::new(data()), None),
        (Resource::new(data()).etag("\"v1\""), None),
        (Resource::new(data()).ranges(true), None),
        (Resource::new(data()).ranges(true).etag("W/\"weak\""), None),
        (
            Resource::new(data()).ranges(true).last_modified(DATE),
            Some(DATE),
        ),
        (
            Resource::new(data())
                .ranges(true)
                .etag("\"v2\"")
                .last_modified(DATE),
            Some("\"v2\""),
        ),
    ];
    for (resource, if_range) in cases {
        let (cx, run) = check_succeeds(resource, vec![Reply::ResetAfter(100_000)], &[], 2);
        let second = &cx.requests("/file")[1];
        assert_eq!(second.header("If-Range"), if_range, "{second:?}\n{run}");
        assert_eq!(
            second.header("Range").is_some(),
            if_range.is_some(),
            "{second:?}"
        );
    }
}

#[test]
fn gzip_on_a_server_with_ranges_restarts() {
    // Ranges of an encoded body are ranges of the compressed bytes; continuing the decoder
    // state across responses is not supported, so the download starts over.
    let (cx, _) = check_succeeds(
        Resource::new(data()).gzip().ranges(true).etag("\"g\""),
        vec![Reply::ResetAfter(100_000)],
        &[],
        2,
    );
    assert_eq!(cx.requests("/file")[1].header("Range"), None);
}

#[test]
fn large_body_resumes_with_the_hash_carried_over() {
    // Past 1 MiB the library hashes on worker threads; the resume must carry their state.
    let data = body(6 << 20, 7);
    let cx = TestContext::new();
    let url = cx.serve(
        "/big",
        Resource::new(data.clone())
            .ranges(true)
            .etag("\"big\"")
            .script([Reply::ResetAfter(3 << 20), Reply::StallAfter(1 << 20)]),
    );
    let sha256 = sha256_hex(&data);
    let sha512 = sha512_hex(&data);
    let run = cx.download(
        &url,
        &[
            "--sha256",
            &sha256,
            "--sha512",
            &sha512,
            "--read-timeout",
            "1",
        ],
    );
    assert!(run.success().contains(" after 3 attempts ("), "{run}");
    assert_eq!(cx.requests("/big").len(), 3, "{run}");
    assert_content(&cx.path("out.bin"), &data);
}

#[test]
fn resumed_attempt_that_stalls_counts_as_resumed() {
    // The second attempt continues the first one's bytes (a 206) and then stalls; the third
    // continues the second's. `Downloaded::resumes` counts attempts that continued earlier
    // bytes, so both count, whatever made the second one fail.
    let (_, run) = check_succeeds(
        Resource::new(data()).ranges(true).etag("\"v1\""),
        vec![Reply::ResetAfter(100_000), Reply::StallAfter(50_000)],
        &["--read-timeout", "0.3"],
        3,
    );
    assert!(
        run.success().contains(" after 3 attempts (2 resumed), "),
        "{run}"
    );
}

#[test]
fn empty_body_makes_an_empty_file() {
    let cx = TestContext::new();
    let url = cx.serve("/empty", Resource::new(Vec::new()));
    let run = cx.download(&url, &["--size", "0", "--sha256", &sha256_hex(b"")]);
    assert!(
        run.success().starts_with("downloaded 0 B to out.bin"),
        "{run}"
    );
    assert_content(&cx.path("out.bin"), b"");
}

#[test]
fn size_mismatch_fails_at_once() {
    for (resource, args, error) in [
        // The announced length is checked before a byte is written.
        (
            Resource::new(data()),
            ["--size", "1000"],
            "size mismatch: expected 1000 bytes, got 307200",
        ),
        // Without one, the body is cut off as soon as it passes the expected size.
        (
            Resource::new(data()).chunked(),
            ["--size", "1000"],
            "size mismatch: expected 1000 bytes, got ",
        ),
        (
            Resource::new(data()).chunked(),
            ["--size", "400000"],
            "size mismatch: expected 400000 bytes, got 307200",
        ),
    ] {
        let cx = TestContext::new();
        let url = cx.serve("/file", resource);
        let run = cx.download(&url, &args);
        assert!(run.failure().contains(error), "{run}");
        assert_eq!(cx.requests("/file").len(), 1, "{run}");
        assert!(cx.files().is_empty(), "{:?}\n{run}", cx.files());
    }
}

#[test]
fn connection_refused_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("pick a free port")
        .port();
    let cx = TestContext::new();
    let run = cx.download(
        &format!("http://127.0.0.1:{port}/file"),
        &["--retries", "1"],
    );
    let error = run.failure();
    assert!(error.contains("gave up after 2 attempts"), "{run}");
    assert!(error.contains("connection failed: "), "{run}");
    assert!(cx.files().is_empty());
}

#[test]
fn short_body_is_retried() {
    check_succeeds(
        Resource::new(data()),
        vec![Reply::ShortBody(100)],
        &["--size", &LEN.to_string()],
        2,
    );
}

#[test]
fn short_bodies_fail_when_retries_run_out() {
    check_fails(
        vec![Reply::ShortBody(100); 2],
        &["--size", &LEN.to_string(), "--retries", "1"],
        2,
        &[
            "gave up after 2 attempts",
            "body interrupted after 100 bytes",
        ],
    );
}

#[test]
fn wrong_bytes_fail_at_once_and_leave_nothing() {
    let data = data();
    let sha256 = sha256_hex(&data);
    for existing in [None, Some(OLD)] {
        let cx = TestContext::new();
        let url = cx.serve(
            "/file",
            Resource::new(data.clone()).script(vec![Reply::WrongBytes; 6]),
        );
        if let Some(old) = existing {
            cx.write("out.bin", old);
        }
        let run = cx.download(&url, &["--sha256", &sha256]);
        let error = run.failure();
        assert!(
            error.contains(&format!("sha256 mismatch: expected {sha256} got ")),
            "{run}"
        );
        // A mismatch is permanent: retrying would only fetch the same wrong bytes.
        assert_eq!(cx.requests("/file").len(), 1, "{run}");
        match existing {
            Some(old) => {
                assert_eq!(cx.read("out.bin"), old, "{run}");
                assert_eq!(cx.files(), ["out.bin"], "{run}");
            }
            None => assert!(cx.files().is_empty(), "{:?}\n{run}", cx.files()),
        }
    }
}

#[test]
fn stalls_time_out() {
    for (reply, phase) in [
        (Reply::StallAfter(1000), "reading the body"),
        (
            Reply::StallBeforeHeaders,
            "waiting for the response headers",
        ),
    ] {
        let started = Instant::now();
        let run = check_fails(
            vec![reply],
            &["--read-timeout", "0.3", "--retries", "0"],
            1,
            &[&format!("no data for 0.3s while {phase}")],
        );
        assert!(started.elapsed() < Duration::from_secs(20), "{run}");
    }
}

#[test]
fn gzip_body_is_decoded() {
    // `--sha256` and `--size` are of the decoded body, which is what lands in the file.
    check_succeeds(
        Resource::new(data()).gzip(),
        Vec::new(),
        &["--size", &LEN.to_string()],
        1,
    );
}

#[test]
fn redirect_is_followed_and_resumed_through() {
    let cx = TestContext::new();
    let data = data();
    cx.serve(
        "/new",
        Resource::new(data.clone())
            .ranges(true)
            .etag("\"v1\"")
            .script([Reply::ResetAfter(100_000)]),
    );
    let url = cx.serve(
        "/old",
        Resource::new(b"stale".to_vec()).script(vec![Reply::Redirect(301, "/new".into()); 6]),
    );
    cx.download(&url, &["--sha256", &sha256_hex(&data)])
        .success();
    assert_content(&cx.path("out.bin"), &data);
    assert_eq!(cx.requests("/old").len(), 2);
    let new = cx.requests("/new");
    assert_eq!(new.len(), 2);
    assert!(new[1].header("Range").is_some(), "{:?}", new[1]);
}

#[test]
fn redirect_does_not_send_the_query_on() {
    // A signed URL's query is a credential; a redirect target (often another host, such as a
    // CDN) must not receive it, and `Referer` would carry it there.
    let cx = TestContext::new();
    cx.serve("/new", Resource::new(data()));
    let url = cx.serve(
        "/old",
        Resource::new(b"stale".to_vec()).script([Reply::Redirect(302, "/new".into())]),
    );
    cx.download(&format!("{url}?token=hunter2"), &[]).success();
    let new = &cx.requests("/new")[0];
    assert!(
        new.headers
            .iter()
            .all(|(_, value)| !value.contains("hunter2")),
        "{new:?}"
    );
}

#[test]
fn redirect_loop_is_reported_once() {
    let cx = TestContext::new();
    let url = cx.serve(
        "/loop",
        Resource::new(data()).script(vec![Reply::Redirect(302, "/loop".into()); 30]),
    );
    let run = cx.download(&url, &[]);
    // The first request and ten redirects, once: the same redirects would follow a retry.
    assert_eq!(cx.requests("/loop").len(), 11, "{run}");
    let error = run.failure();
    assert!(error.ends_with(": too many redirects"), "{run}");
    assert_eq!(error.matches("too many redirects").count(), 1, "{run}");
}

#[test]
fn stdout_gets_the_body() {
    let cx = TestContext::new();
    let data = data();
    let url = cx.serve("/file", Resource::new(data.clone()));
    let run = cx.fetchkit(&["download", &url, "-o", "-", "--sha256", &sha256_hex(&data)]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout == data, "stdout is not the body\n{run}");
    assert!(
        run.stderr.starts_with("downloaded 300 KiB to stdout in "),
        "{run}"
    );
    assert!(cx.files().is_empty(), "{:?}", cx.files());
}

#[test]
fn stdout_resumes_where_it_stopped() {
    let cx = TestContext::new();
    let data = data();
    let url = cx.serve(
        "/file",
        Resource::new(data.clone())
            .ranges(true)
            .etag("\"v1\"")
            .script([Reply::ResetAfter(100_000)]),
    );
    let run = cx.fetchkit(&["download", &url, "-o", "-", "--sha256", &sha256_hex(&data)]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout == data, "stdout is not the body\n{run}");
    assert_eq!(cx.requests("/file").len(), 2, "{run}");
}

#[test]
fn stdout_cannot_restart() {
    let cx = TestContext::new();
    let data = data();
    // A clean close after 100 000 bytes: they all reach stdout before the failure shows.
    let url = cx.serve(
        "/file",
        Resource::new(data.clone()).script([Reply::ShortBody(100_000)]),
    );
    let run = cx.fetchkit(&["download", &url, "-o", "-"]);
    assert!(
        run.failure()
            .contains("cannot restart a download already streamed to stdout"),
        "{run}"
    );
    assert!(
        data.starts_with(&run.stdout) && run.stdout.len() == 100_000,
        "{run}"
    );
    assert_eq!(cx.requests("/file").len(), 2, "{run}");
}

#[test]
fn stdout_mismatch_exits_non_zero() {
    let cx = TestContext::new();
    let data = data();
    let url = cx.serve(
        "/file",
        Resource::new(data.clone()).script([Reply::WrongBytes]),
    );
    let run = cx.fetchkit(&["download", &url, "-o", "-", "--sha256", &sha256_hex(&data)]);
    assert!(run.failure().contains("sha256 mismatch"), "{run}");
    assert_eq!(run.stdout.len(), LEN, "{run}");
}

#[test]
fn invalid_urls_are_one_line_errors() {
    let cx = TestContext::new();
    for url in [
        "not a url",
        "ftp://127.0.0.1/file",
        "http://",
        "http://127.0.0.1:99999/",
    ] {
        let run = cx.download(url, &[]);
        assert!(run.failure().starts_with("error: invalid URL "), "{run}");
        assert_eq!(run.lines().len(), 1, "{run}");
    }
    assert!(cx.files().is_empty());
    assert!(cx.server.requests().is_empty());
}

#[test]
fn usage_errors_name_the_flag() {
    let cx = TestContext::new();
    let url = cx.server.url("/file");
    let (not_hex, sha256) = ("zz".repeat(32), "ab".repeat(32));
    let cases: [(&[&str], &str); 7] = [
        (&["--sha256", "xyz"], "--sha256"),
        (&["--sha256", &not_hex], "--sha256"),
        (&["--sha512", &sha256], "--sha512"),
        (&["--size", "lots"], "--size"),
        (&["--retries", "many"], "--retries"),
        (&["--read-timeout", "0"], "--read-timeout"),
        (&["--connect-timeout", "soon"], "--connect-timeout"),
    ];
    for (args, flag) in cases {
        let run = cx.download(&url, args);
        let stderr = run.usage_error();
        assert!(stderr.contains(flag), "{flag}\n{run}");
    }
    assert!(cx.server.requests().is_empty());
}

#[test]
fn missing_folder_fails_before_any_request() {
    let cx = TestContext::new();
    let url = cx.serve("/file", Resource::new(data()));
    let run = cx.fetchkit(&["download", &url, "-o", "nowhere/out.bin"]);
    assert!(
        run.failure().contains("folder nowhere does not exist"),
        "{run}"
    );
    assert!(cx.server.requests().is_empty());
}

#[test]
fn secrets_are_redacted() {
    let cx = TestContext::new();
    cx.serve(
        "/busy",
        Resource::new(data()).script(vec![Reply::Status(500); 6]),
    );
    let authority = format!("user:secretpw@{}", cx.server.addr());
    for (path, expected) in [
        ("/missing", "HTTP 404 Not Found"),
        ("/busy", "gave up after 6 attempts"),
    ] {
        let url = format!("http://{authority}{path}?token=hunter2&page=1");
        let run = cx.download(&url, &[]);
        assert!(run.failure().contains(expected), "{run}");
        assert!(run.failure().contains("?token=***&page=1"), "{run}");
        for secret in ["secretpw", "hunter2"] {
            assert!(!run.stderr.contains(secret), "{secret} leaked\n{run}");
        }
    }
    // Credentials reach the server, as basic auth; only the messages hide them.
    assert!(cx.requests("/missing")[0].header("Authorization").is_some());
    let run = cx.download("http://user:secretpw@127.0.0.1:99999/x?token=hunter2", &[]);
    run.failure();
    assert!(
        !run.stderr.contains("secretpw") && !run.stderr.contains("hunter2"),
        "{run}"
    );
}

#[test]
fn invalid_url_hides_a_password_with_an_at_sign() {
    let cx = TestContext::new();
    // Not a valid URL (the port is out of range), so it cannot be redacted as a parsed one.
    let run = cx.download("http://user:top@secret@127.0.0.1:99999/file", &[]);
    assert!(run.failure().starts_with("error: invalid URL "), "{run}");
    assert!(!run.stderr.contains("secret"), "password leaked\n{run}");
}

#[test]
fn version_and_help() {
    let cx = TestContext::new();
    let run = cx.fetchkit(&["--version"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        format!("fetchkit {}\n", env!("CARGO_PKG_VERSION"))
    );
    let run = cx.fetchkit(&["download", "--help"]);
    assert_eq!(run.code, Some(0), "{run}");
    let help = String::from_utf8_lossy(&run.stdout);
    for expected in [
        "--sha256 <HEX>",
        "[default: 5]",
        "[default: 10]",
        "[default: 30]",
    ] {
        assert!(help.contains(expected), "missing {expected:?}\n{help}");
    }
    assert_eq!(cx.fetchkit(&[]).code, Some(2));
}

#[cfg(unix)]
#[test]
fn a_device_destination_is_written_in_place_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    // Regression: `-o /dev/null` once renamed a temp file over the device node.
    let data = data();
    let cx = TestContext::new();
    let url = cx.serve("/file", Resource::new(data.clone()));
    let run = cx.fetchkit(&[
        "download",
        &url,
        "-o",
        "/dev/null",
        "--sha256",
        &sha256_hex(&data),
    ]);
    let summary = run.success();
    assert!(
        summary.starts_with("downloaded 300 KiB to /dev/null in "),
        "{run}"
    );
    let kind = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/null is no longer a device");
}
