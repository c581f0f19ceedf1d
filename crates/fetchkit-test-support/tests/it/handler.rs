//! Request bodies and dynamic handlers in the fault server.

use std::sync::{Arc, Mutex};

use fetchkit_test_support::{FaultServer, HandlerReply, Resource};

use crate::client::Conn;

#[test]
fn request_body_is_recorded() {
    let server = FaultServer::start();
    server.route("/a", Resource::new("ok"));
    let mut conn = Conn::open(&server);
    let response = conn.request_with_body("PUT", "/a", &[], b"{\"x\": 1}");
    assert_eq!(response.body, b"ok");
    // The body was consumed, not parsed as the next request.
    assert_eq!(conn.get("/a").head.status, 200);

    let recorded = server.requests_to("/a");
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].method, "PUT");
    assert_eq!(recorded[0].body, b"{\"x\": 1}");
    assert_eq!(recorded[0].body_str(), "{\"x\": 1}");
    assert!(recorded[1].body.is_empty());
}

#[test]
fn body_arriving_in_pieces_is_read_whole() {
    use std::io::Write as _;

    let server = FaultServer::start();
    server.route("/a", Resource::new("ok"));
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n01234")
        .unwrap();
    stream.flush().unwrap();
    stream.write_all(b"56789").unwrap();
    let mut conn_reader = std::io::BufReader::new(stream);
    let mut status = String::new();
    std::io::BufRead::read_line(&mut conn_reader, &mut status).unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK\r\n");
    assert_eq!(server.requests_to("/a")[0].body, b"0123456789");
}

#[test]
fn oversized_body_gets_413_and_close() {
    let server = FaultServer::start();
    server.route("/a", Resource::new("ok"));
    let mut conn = Conn::open(&server);
    conn.send("PUT", "/a", &[("Content-Length", "1048577")]);
    let head = conn.read_head();
    assert_eq!(head.status_line, "HTTP/1.1 413 Content Too Large");
    assert_eq!(head.header("Connection"), Some("close"));
    assert!(
        server.requests_to("/a").is_empty(),
        "a refused request is not routed"
    );
}

#[test]
fn handler_answers_its_prefix_with_status_headers_and_body() {
    let server = FaultServer::start();
    server.handle("/api/", |request| {
        HandlerReply::json(
            201,
            &serde_json::json!({"path": request.path(), "body": request.body_str()}),
        )
        .header("X-Handled", "yes")
    });
    let mut conn = Conn::open(&server);
    let response = conn.request_with_body("POST", "/api/x/y?q=1", &[], b"payload");
    assert_eq!(response.head.status_line, "HTTP/1.1 201 Created");
    assert_eq!(response.header("X-Handled"), Some("yes"));
    assert_eq!(
        response.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    let json: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"path": "/api/x/y", "body": "payload"})
    );
    // Keep-alive survives a handler reply, and the path outside the prefix is unrouted.
    assert_eq!(conn.get("/other").head.status, 404);
    assert_eq!(
        conn.get("/api").head.status,
        404,
        "the prefix is matched as is"
    );
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn exact_routes_beat_handlers_and_longest_prefix_wins() {
    let server = FaultServer::start();
    server.handle("/a/", |_| HandlerReply::text(200, "short"));
    server.handle("/a/b/", |_| HandlerReply::text(200, "long"));
    server.route("/a/b/exact", Resource::new("resource"));
    let mut conn = Conn::open(&server);
    assert_eq!(conn.get("/a/x").body, b"short");
    assert_eq!(conn.get("/a/b/x").body, b"long");
    assert_eq!(conn.get("/a/b/exact").body, b"resource");
    assert_eq!(conn.get("/a/b/exact/more").body, b"long");

    server.handle("/a/b/", |_| HandlerReply::text(200, "replaced"));
    assert_eq!(conn.get("/a/b/x").body, b"replaced");
}

#[test]
fn handler_status_only_and_bodyless_statuses() {
    let server = FaultServer::start();
    server.handle("/empty", |_| HandlerReply::status(202));
    server.handle("/none", |_| HandlerReply::status(204).body("ignored"));
    server.handle("/redirect", |_| {
        HandlerReply::status(303).header("Location", "/elsewhere")
    });
    let mut conn = Conn::open(&server);
    let empty = conn.get("/empty");
    assert_eq!(empty.head.status, 202);
    assert_eq!(empty.header("Content-Length"), Some("0"));
    let none = conn.get("/none");
    assert_eq!(none.head.status, 204);
    assert!(none.body.is_empty());
    let redirect = conn.get("/redirect");
    assert_eq!(redirect.head.status, 303);
    assert_eq!(redirect.header("Location"), Some("/elsewhere"));
    // Had a body followed the 204, this would read it as a status line.
    assert_eq!(conn.get("/empty").head.status, 202);
}

#[test]
fn handler_head_gets_headers_only() {
    let server = FaultServer::start();
    server.handle("/h", |_| HandlerReply::text(200, "hello"));
    let mut conn = Conn::open(&server);
    let head = conn.request("HEAD", "/h", &[]);
    assert_eq!(head.header("Content-Length"), Some("5"));
    assert!(head.body.is_empty());
    // Had the server sent a body, this would read it as the next status line.
    assert_eq!(conn.get("/h").body, b"hello");
}

#[test]
fn handler_sees_requests_in_order_and_may_keep_state() {
    let server = FaultServer::start();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    server.handle("/", move |request| {
        let mut log = log.lock().unwrap();
        log.push(request.target.clone());
        HandlerReply::text(200, &log.len().to_string())
    });
    let mut conn = Conn::open(&server);
    assert_eq!(conn.get("/one").body, b"1");
    assert_eq!(conn.get("/two").body, b"2");
    assert_eq!(*seen.lock().unwrap(), ["/one", "/two"]);
}

#[test]
fn handler_panic_is_a_500_that_names_it() {
    let server = FaultServer::start();
    server.handle("/boom", |_| panic!("the fake broke"));
    let mut conn = Conn::open(&server);
    let response = conn.get("/boom");
    assert_eq!(response.head.status, 500);
    let text = String::from_utf8(response.body).unwrap();
    assert!(text.contains("the fake broke"), "{text}");
    assert!(text.contains("GET /boom"), "{text}");
    assert_eq!(
        conn.get("/boom").head.status,
        500,
        "the server keeps serving"
    );
}
