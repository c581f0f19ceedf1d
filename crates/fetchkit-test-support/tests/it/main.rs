//! The fault server, checked with a plain blocking TCP client.

mod client;
mod handler;
mod taskcluster;

use std::io::{self, Read as _};
use std::time::{Duration, Instant};

use fetchkit_test_support::{FaultServer, Reply, Resource};

use crate::client::Conn;

/// A body whose bytes all differ from their neighbours, so an offset mistake cannot go unseen.
fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn serve(path: &str, resource: Resource) -> FaultServer {
    let server = FaultServer::start();
    server.route(path, resource);
    server
}

/// Waits, without sleeping, until the server has recorded `n` requests: a stalled request gives
/// the client no other sign that it arrived.
fn wait_for_requests(server: &FaultServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.requests().len() < n {
        assert!(
            Instant::now() < deadline,
            "server saw {:?}",
            server.requests()
        );
        std::thread::yield_now();
    }
}

#[test]
fn ok_body_and_keep_alive() {
    let server = serve(
        "/a",
        Resource::new(body(1000)).content_type("application/x-tar"),
    );
    let mut conn = Conn::open(&server);
    for _ in 0..2 {
        let response = conn.get("/a");
        assert_eq!(response.head.status_line, "HTTP/1.1 200 OK");
        assert_eq!(response.header("Content-Length"), Some("1000"));
        assert_eq!(response.header("Content-Type"), Some("application/x-tar"));
        assert_eq!(response.header("Accept-Ranges"), None);
        assert_eq!(response.header("ETag"), None);
        assert_eq!(response.header("Connection"), None);
        assert_eq!(response.body, body(1000));
    }
    assert_eq!(server.requests_to("/a").len(), 2);
}

#[test]
fn empty_body() {
    let server = serve("/empty", Resource::new(Vec::new()));
    let mut conn = Conn::open(&server);
    let response = conn.get("/empty");
    assert_eq!(response.head.status, 200);
    assert_eq!(response.header("Content-Length"), Some("0"));
    assert!(response.body.is_empty());
}

#[test]
fn connection_close_is_honoured() {
    let server = serve("/a", Resource::new(body(10)));
    let mut conn = Conn::open(&server);
    let response = conn.request("GET", "/a", &[("Connection", "close")]);
    assert_eq!(response.body, body(10));
    assert_eq!(response.header("Connection"), Some("close"));
    let (rest, end) = conn.read_rest();
    assert!(rest.is_empty());
    end.expect("clean EOF after Connection: close");
}

#[test]
fn script_runs_in_order_then_serves_normally() {
    let server = serve("/a", Resource::new(body(100)).script([Reply::Status(500)]));
    let mut conn = Conn::open(&server);
    let first = conn.get("/a");
    assert_eq!(first.head.status_line, "HTTP/1.1 500 Internal Server Error");
    assert_eq!(first.body, b"500 Internal Server Error\n");
    // The same connection carries on: a status reply keeps the framing intact.
    let second = conn.get("/a");
    assert_eq!(second.head.status, 200);
    assert_eq!(second.body, body(100));
    let third = conn.get("/a");
    assert_eq!(third.head.status, 200);
}

#[test]
fn script_counts_per_path() {
    let server = FaultServer::start();
    server.route(
        "/a",
        Resource::new("a").script([Reply::Status(503), Reply::Status(429)]),
    );
    server.route("/b", Resource::new("b").script([Reply::Status(404)]));
    let mut conn = Conn::open(&server);
    assert_eq!(
        conn.get("/a").head.status_line,
        "HTTP/1.1 503 Service Unavailable"
    );
    assert_eq!(conn.get("/b").head.status, 404);
    assert_eq!(
        conn.get("/a?x=1").head.status_line,
        "HTTP/1.1 429 Too Many Requests"
    );
    assert_eq!(conn.get("/b").head.status, 200);
    assert_eq!(conn.get("/a").head.status, 200);
}

#[test]
fn route_replaces_resource_and_restarts_script() {
    let server = serve("/a", Resource::new("old").script([Reply::Status(500)]));
    let mut conn = Conn::open(&server);
    assert_eq!(conn.get("/a").head.status, 500);
    assert_eq!(conn.get("/a").body, b"old");
    server.route("/a", Resource::new("new").script([Reply::Status(502)]));
    assert_eq!(conn.get("/a").head.status_line, "HTTP/1.1 502 Bad Gateway");
    assert_eq!(conn.get("/a").body, b"new");
}

#[test]
fn retry_after_is_sent_verbatim() {
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    let server = serve(
        "/a",
        Resource::new(body(10)).script([
            Reply::StatusWithRetryAfter(503, "7".to_owned()),
            Reply::StatusWithRetryAfter(429, date.to_owned()),
        ]),
    );
    let mut conn = Conn::open(&server);
    let first = conn.get("/a");
    assert_eq!(first.head.status, 503);
    assert_eq!(first.header("Retry-After"), Some("7"));
    let second = conn.get("/a");
    assert_eq!(second.head.status, 429);
    assert_eq!(second.header("Retry-After"), Some(date));
    assert_eq!(conn.get("/a").header("Retry-After"), None);
}

#[test]
fn redirect_sends_location() {
    let server = FaultServer::start();
    let target = server.url("/b");
    server.route(
        "/a",
        Resource::new("a").script([Reply::Redirect(307, target.clone())]),
    );
    let mut conn = Conn::open(&server);
    let response = conn.get("/a");
    assert_eq!(response.head.status_line, "HTTP/1.1 307 Temporary Redirect");
    assert_eq!(response.header("Location"), Some(target.as_str()));
}

#[test]
fn ranged_request_gets_206() {
    let server = serve("/a", Resource::new(body(100)).ranges(true).etag("\"v1\""));
    let mut conn = Conn::open(&server);

    let open_ended = conn.request("GET", "/a", &[("Range", "bytes=10-")]);
    assert_eq!(open_ended.head.status_line, "HTTP/1.1 206 Partial Content");
    assert_eq!(open_ended.header("Content-Range"), Some("bytes 10-99/100"));
    assert_eq!(open_ended.header("Content-Length"), Some("90"));
    assert_eq!(open_ended.header("Accept-Ranges"), Some("bytes"));
    assert_eq!(open_ended.header("ETag"), Some("\"v1\""));
    assert_eq!(open_ended.body, body(100)[10..]);

    let closed = conn.request("GET", "/a", &[("Range", "bytes=10-19")]);
    assert_eq!(closed.header("Content-Range"), Some("bytes 10-19/100"));
    assert_eq!(closed.body, body(100)[10..20]);

    let matching = conn.request(
        "GET",
        "/a",
        &[("Range", "bytes=50-"), ("If-Range", "\"v1\"")],
    );
    assert_eq!(matching.head.status, 206);
    assert_eq!(matching.body, body(100)[50..]);
}

#[test]
fn if_range_mismatch_gets_full_200() {
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    let server = serve(
        "/a",
        Resource::new(body(100))
            .ranges(true)
            .etag("\"v2\"")
            .last_modified(date),
    );
    let mut conn = Conn::open(&server);
    let stale = conn.request(
        "GET",
        "/a",
        &[("Range", "bytes=10-"), ("If-Range", "\"v1\"")],
    );
    assert_eq!(stale.head.status, 200);
    assert_eq!(stale.header("Content-Range"), None);
    assert_eq!(stale.header("Last-Modified"), Some(date));
    assert_eq!(stale.body, body(100));
    let by_date = conn.request("GET", "/a", &[("Range", "bytes=10-"), ("If-Range", date)]);
    assert_eq!(by_date.head.status, 206);
}

#[test]
fn unsatisfiable_range_gets_416() {
    let server = serve("/a", Resource::new(body(100)).ranges(true));
    let mut conn = Conn::open(&server);
    let response = conn.request("GET", "/a", &[("Range", "bytes=100-")]);
    assert_eq!(
        response.head.status_line,
        "HTTP/1.1 416 Range Not Satisfiable"
    );
    assert_eq!(response.header("Content-Range"), Some("bytes */100"));
    assert_eq!(response.header("Content-Length"), Some("0"));
    assert_eq!(conn.get("/a").head.status, 200, "connection still usable");
}

#[test]
fn range_ignored_without_range_support() {
    let server = serve("/a", Resource::new(body(100)));
    let mut conn = Conn::open(&server);
    let response = conn.request("GET", "/a", &[("Range", "bytes=10-")]);
    assert_eq!(response.head.status, 200);
    assert_eq!(response.header("Accept-Ranges"), None);
    assert_eq!(response.body, body(100));
}

#[test]
fn reset_after_sends_part_then_breaks() {
    let server = serve(
        "/a",
        Resource::new(body(100_000)).script([Reply::ResetAfter(1000)]),
    );
    let mut conn = Conn::open(&server);
    conn.send("GET", "/a", &[]);
    let head = conn.read_head();
    assert_eq!(head.status, 200);
    assert_eq!(head.content_length(), 100_000);
    let (received, end) = conn.read_rest();
    assert_eq!(received, body(100_000)[..1000]);
    assert_eq!(
        end.expect_err("reset").kind(),
        io::ErrorKind::ConnectionReset
    );
    // The client reconnects and the script has moved on.
    assert_eq!(Conn::open(&server).get("/a").body, body(100_000));
}

#[test]
fn reset_after_applies_to_the_range() {
    let server = serve(
        "/a",
        Resource::new(body(1000))
            .ranges(true)
            .script([Reply::ResetAfter(100)]),
    );
    let mut conn = Conn::open(&server);
    conn.send("GET", "/a", &[("Range", "bytes=500-")]);
    let head = conn.read_head();
    assert_eq!(head.status, 206);
    assert_eq!(head.header("Content-Range"), Some("bytes 500-999/1000"));
    let (received, end) = conn.read_rest();
    assert_eq!(received, body(1000)[500..600]);
    assert_eq!(
        end.expect_err("reset").kind(),
        io::ErrorKind::ConnectionReset
    );
}

#[test]
fn short_body_ends_with_eof() {
    let server = serve(
        "/a",
        Resource::new(body(100)).script([Reply::ShortBody(10)]),
    );
    let mut conn = Conn::open(&server);
    conn.send("GET", "/a", &[]);
    let head = conn.read_head();
    assert_eq!(head.content_length(), 100);
    let (received, end) = conn.read_rest();
    end.expect("a short body ends with a clean EOF");
    assert_eq!(received, body(100)[..10]);
}

#[test]
fn wrong_bytes_keeps_length_but_changes_content() {
    let server = serve("/a", Resource::new(body(100)).script([Reply::WrongBytes]));
    let mut conn = Conn::open(&server);
    let wrong = conn.get("/a");
    assert_eq!(wrong.head.status, 200);
    assert_eq!(wrong.body.len(), 100);
    let differing: Vec<usize> = (0..100)
        .filter(|&i| wrong.body[i] != body(100)[i])
        .collect();
    assert_eq!(differing, [0, 50]);
    assert_eq!(
        conn.get("/a").body,
        body(100),
        "only the scripted reply is corrupted"
    );
}

#[test]
fn gzip_body_decodes_to_original() {
    let original = body(50_000);
    let server = serve("/a", Resource::new(original.clone()).gzip());
    let mut conn = Conn::open(&server);
    let response = conn.get("/a");
    assert_eq!(response.header("Content-Encoding"), Some("gzip"));
    assert_ne!(response.body, original);
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&response.body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, original);
}

#[test]
fn gzip_ranges_apply_to_compressed_bytes() {
    let server = serve("/a", Resource::new(body(50_000)).gzip().ranges(true));
    let mut conn = Conn::open(&server);
    let full = conn.get("/a").body;
    let tail = conn.request("GET", "/a", &[("Range", "bytes=100-")]);
    assert_eq!(tail.header("Content-Encoding"), Some("gzip"));
    assert_eq!(
        tail.header("Content-Range"),
        Some(format!("bytes 100-{}/{}", full.len() - 1, full.len()).as_str())
    );
    assert_eq!(tail.body, full[100..]);
}

#[test]
fn chunked_framing_is_valid() {
    let large = body(3 * 1024 * 1024 + 17);
    let server = FaultServer::start();
    server.route("/small", Resource::new(body(100)).chunked());
    server.route("/large", Resource::new(large.clone()).chunked());
    server.route("/empty", Resource::new(Vec::new()).chunked());
    let mut conn = Conn::open(&server);
    for _ in 0..2 {
        // Reading the next response on the same connection proves each terminator was sent.
        let small = conn.get("/small");
        assert_eq!(small.header("Transfer-Encoding"), Some("chunked"));
        assert_eq!(small.body, body(100));
        assert_eq!(conn.get("/large").body, large);
        assert!(conn.get("/empty").body.is_empty());
    }
}

#[test]
fn stall_after_sends_part_then_goes_silent() {
    let server = serve(
        "/a",
        Resource::new(body(1000)).script([Reply::StallAfter(100)]),
    );
    let mut conn = Conn::open(&server);
    conn.send("GET", "/a", &[]);
    let head = conn.read_head();
    assert_eq!(head.content_length(), 1000);
    let mut first = vec![0; 100];
    conn.read_exact(&mut first);
    assert_eq!(first, body(1000)[..100]);
    conn.set_read_timeout(Duration::from_millis(200));
    let (more, end) = conn.read_rest();
    assert!(more.is_empty(), "stall sent {} more bytes", more.len());
    let kind = end.expect_err("a stalled read times out").kind();
    assert!(
        matches!(kind, io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut),
        "unexpected {kind:?}"
    );
}

#[test]
fn stall_before_headers_is_recorded_and_silent() {
    let server = serve(
        "/a",
        Resource::new(body(10)).script([Reply::StallBeforeHeaders]),
    );
    let mut conn = Conn::open(&server);
    conn.send("GET", "/a", &[("X-Attempt", "1")]);
    conn.set_read_timeout(Duration::from_millis(200));
    let (received, end) = conn.read_rest();
    assert!(received.is_empty());
    assert!(end.is_err());
    wait_for_requests(&server, 1);
    let recorded = server.requests_to("/a");
    assert_eq!(recorded[0].header("x-attempt"), Some("1"));
}

#[test]
fn drop_with_stalled_connections_returns_promptly() {
    let server = FaultServer::start();
    server.route(
        "/body",
        Resource::new(body(1000)).script([Reply::StallAfter(10)]),
    );
    server.route(
        "/head",
        Resource::new(body(1000)).script([Reply::StallBeforeHeaders]),
    );
    let mut stalled_body = Conn::open(&server);
    stalled_body.send("GET", "/body", &[]);
    stalled_body.read_head();
    let mut stalled_head = Conn::open(&server);
    stalled_head.send("GET", "/head", &[]);
    wait_for_requests(&server, 2);

    let start = Instant::now();
    drop(server);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        start.elapsed()
    );
    // The stalled connections were closed, not leaked.
    stalled_body.set_read_timeout(Duration::from_secs(5));
    let (rest, end) = stalled_body.read_rest();
    assert_eq!(rest, body(1000)[..10]);
    end.expect("closed by the server");
}

#[test]
fn requests_are_recorded_with_headers() {
    let server = serve("/a", Resource::new(body(10)));
    let mut conn = Conn::open(&server);
    conn.request(
        "GET",
        "/a?token=x&y=1",
        &[("User-Agent", "fetchkit-test"), ("Range", "bytes=0-")],
    );
    conn.request("HEAD", "/other", &[]);
    conn.get("/a");

    let all = server.requests();
    let targets: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    assert_eq!(
        targets,
        [("GET", "/a?token=x&y=1"), ("HEAD", "/other"), ("GET", "/a")]
    );
    assert_eq!(all[0].path(), "/a");
    assert_eq!(all[0].header("user-agent"), Some("fetchkit-test"));
    assert_eq!(all[0].header("RANGE"), Some("bytes=0-"));
    assert_eq!(all[0].header("Host"), Some("127.0.0.1"));
    assert_eq!(all[0].header("If-Range"), None);
    assert_eq!(
        all[0].headers.first().map(|(n, _)| n.as_str()),
        Some("Host")
    );
    assert_eq!(server.requests_to("/a").len(), 2);
    assert_eq!(server.requests_to("/other").len(), 1);
    assert!(server.requests_to("/a?token=x&y=1").is_empty());
}

#[test]
fn unknown_path_gets_404() {
    let server = serve("/a", Resource::new(body(10)));
    let mut conn = Conn::open(&server);
    let response = conn.get("/missing");
    assert_eq!(response.head.status_line, "HTTP/1.1 404 Not Found");
    assert_eq!(response.body, b"404 Not Found\n");
    assert_eq!(conn.get("/a").head.status, 200, "connection still usable");
    assert_eq!(server.requests_to("/missing").len(), 1);
}

#[test]
fn head_sends_headers_only() {
    let server = serve(
        "/a",
        Resource::new(body(1000))
            .ranges(true)
            .header("X-Mirror", "one"),
    );
    let mut conn = Conn::open(&server);
    let head = conn.request("HEAD", "/a", &[]);
    assert_eq!(head.head.status, 200);
    assert_eq!(head.header("Content-Length"), Some("1000"));
    assert_eq!(head.header("X-Mirror"), Some("one"));
    // Had the server sent a body, this would read it as the next status line.
    assert_eq!(conn.get("/a").body, body(1000));
}

#[test]
fn extra_headers_are_on_every_reply() {
    let server = serve(
        "/a",
        Resource::new(body(10))
            .header("X-Mirror", "one")
            .script([Reply::Status(500)]),
    );
    let mut conn = Conn::open(&server);
    assert_eq!(conn.get("/a").header("X-Mirror"), Some("one"));
    assert_eq!(conn.get("/a").header("X-Mirror"), Some("one"));
}

#[test]
fn url_points_at_the_server() {
    let server = FaultServer::start();
    let port = server.addr().port();
    assert!(server.addr().ip().is_loopback());
    assert_eq!(server.url("/x/y"), format!("http://127.0.0.1:{port}/x/y"));
    assert!(format!("{server:?}").contains(&port.to_string()));
}

#[test]
fn large_body_arrives_intact() {
    let large = body(32 * 1024 * 1024);
    let server = serve("/a", Resource::new(large.clone()));
    let mut conn = Conn::open(&server);
    assert!(conn.get("/a").body == large);
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_tokio_runtime() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let server = serve("/a", Resource::new("hello"));
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(response.ends_with(b"\r\n\r\nhello"));
    drop(server);
}
