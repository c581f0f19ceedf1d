//! `Server` against a raw HTTP/1.1 client (and a raw HTTP/2 one) written here, so every
//! request path reaches the server exactly as the test spells it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fetchkit_mirror::{ServeError, Server};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// How long any one step may take before the test fails instead of hanging.
const STEP: Duration = Duration::from_secs(20);

const CONFIG: &str = r#"{"dl":"https://registry.invalid:8443/crates/{crate}/{crate}-{version}.crate","api":"https://registry.invalid","auth-required":false,"extra":{"kept":[1,"two",null]}}"#;
const INDEX_FOO: &str = "{\"name\":\"foo\",\"vers\":\"0.1.0\",\"deps\":[],\"cksum\":\"00\",\"features\":{},\"yanked\":false}\n";
const PLUS_CRATE: &[u8] = b"crate bytes of a 1.0.0+build.7";
const SPACE_CRATE: &[u8] = b"crate bytes of b with a space";
const FLAT_CRATE: &[u8] = b"flat crate c 0.1.0";
/// A time with nanoseconds, so second-precision comparisons are tested too.
const MTIME_SECS: u64 = 1_600_000_000;
const MTIME_NANOS: u32 = 123_456_789;

/// A mirror folder `root` inside a temporary folder that also holds `outside.txt`, a file
/// no request may reach.
struct Mirror {
    dir: TempDir,
}

impl Mirror {
    fn new() -> Mirror {
        let mirror = Mirror {
            dir: tempfile::tempdir().unwrap(),
        };
        mirror.write("index/config.json", CONFIG.as_bytes());
        mirror.write("index/3/f/foo", INDEX_FOO.as_bytes());
        mirror.write("crates/a/a-1.0.0+build.7.crate", PLUS_CRATE);
        mirror.write("crates/b/b 1.crate", SPACE_CRATE);
        mirror.write("c-0.1.0.crate", FLAT_CRATE);
        mirror.write(".fetchkit/journal", b"journal");
        mirror.write("crates/a/.a-2.0.0.crate.tmp", b"partial");
        std::fs::write(mirror.dir.path().join("outside.txt"), b"outside").unwrap();
        mirror
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// Writes a file with the fixed modification time.
    fn write(&self, relative: &str, bytes: &[u8]) {
        let when = UNIX_EPOCH + Duration::new(MTIME_SECS, MTIME_NANOS);
        self.write_at(relative, bytes, when);
    }

    fn write_at(&self, relative: &str, bytes: &[u8], modified: SystemTime) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(modified).unwrap();
    }
}

/// A server running on a task until `stop`.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
}

impl Running {
    async fn start(root: &Path) -> Running {
        let server = Server::bind(root, loopback()).await.unwrap();
        Running::spawn(server)
    }

    fn spawn(server: Server) -> Running {
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        // A dropped sender (a failed test) stops the server too.
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Running {
            addr,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) -> Result<(), ServeError> {
        self.stop.take().unwrap().send(()).unwrap();
        timeout(STEP, &mut self.task)
            .await
            .expect("the server did not stop")
            .unwrap()
    }

    async fn connect(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// One request on a fresh connection, with `Host` set to the server's address.
    async fn get(&self, target: &str) -> Reply {
        self.connect().await.request("GET", target, &[]).await
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn etag(&self) -> &str {
        self.header("etag").expect("no ETag")
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A raw HTTP/1.1 client on one keep-alive connection.
struct Client {
    addr: SocketAddr,
    stream: BufReader<TcpStream>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = timeout(STEP, TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
        Client {
            addr,
            stream: BufReader::new(stream),
        }
    }

    /// Sends `method target` with `Host: <server address>` (unless `headers` has a Host) and
    /// `headers`, and reads the reply.
    async fn request(&mut self, method: &str, target: &str, headers: &[(&str, &str)]) -> Reply {
        let mut head = format!("{method} {target} HTTP/1.1\r\n");
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            head.push_str(&format!("Host: {}\r\n", self.addr));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        self.send_raw(head.as_bytes()).await;
        self.read_reply(method == "HEAD").await
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        let stream = self.stream.get_mut();
        timeout(STEP, stream.write_all(bytes))
            .await
            .unwrap()
            .unwrap();
    }

    /// Reads one reply; its body by `Content-Length` (this server never sends chunks), none
    /// for HEAD and 304.
    async fn read_reply(&mut self, head: bool) -> Reply {
        timeout(STEP, self.read_reply_inner(head))
            .await
            .expect("no reply in time")
    }

    async fn read_reply_inner(&mut self, head: bool) -> Reply {
        let mut line = String::new();
        self.stream.read_line(&mut line).await.unwrap();
        let mut words = line.split_whitespace();
        assert!(
            words.next().is_some_and(|v| v.starts_with("HTTP/1.")),
            "not a status line: {line:?}"
        );
        let status: u16 = words.next().unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        assert_eq!(reply.header("transfer-encoding"), None, "{reply:?}");
        if !head && status != 304 {
            let len: usize = reply
                .header("content-length")
                .expect("no Content-Length")
                .parse()
                .unwrap();
            reply.body = vec![0; len];
            self.stream.read_exact(&mut reply.body).await.unwrap();
        }
        reply
    }

    /// Reads until the server closes the connection and returns how many bytes came.
    async fn read_to_close(&mut self) -> usize {
        read_to_close(&mut self.stream).await
    }
}

async fn read_to_close(stream: &mut (impl AsyncRead + Unpin)) -> usize {
    let mut total = 0;
    let mut buffer = vec![0; 64 << 10];
    loop {
        match timeout(STEP, stream.read(&mut buffer))
            .await
            .expect("the connection stayed open")
        {
            Ok(0) | Err(_) => return total,
            Ok(read) => total += read,
        }
    }
}

/// The tag a file of `len` bytes with the fixture's time gets.
fn fixture_etag(len: usize) -> String {
    format!("\"{len:x}-{MTIME_SECS:x}-{MTIME_NANOS:x}\"")
}

fn fixture_date() -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(MTIME_SECS))
}

/// `len` bytes that are not all the same.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 4093) as u8).collect()
}

#[tokio::test]
async fn get_serves_files_with_validators() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;

    let reply = server.get("/crates/a/a-1.0.0+build.7.crate").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, PLUS_CRATE);
    assert_eq!(
        reply.header("content-length"),
        Some(PLUS_CRATE.len().to_string().as_str())
    );
    assert_eq!(reply.etag(), fixture_etag(PLUS_CRATE.len()));
    assert_eq!(reply.header("last-modified"), Some(fixture_date().as_str()));
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );

    let index = server.get("/index/3/f/foo").await;
    assert_eq!(index.status, 200);
    assert_eq!(index.body, INDEX_FOO.as_bytes());
    assert_eq!(
        index.header("content-type"),
        Some("text/plain; charset=utf-8")
    );

    let flat = server.get("/c-0.1.0.crate").await;
    assert_eq!((flat.status, flat.body.as_slice()), (200, FLAT_CRATE));

    // The query string is not part of the file name.
    let query = server.get("/c-0.1.0.crate?version=1&x=%2e%2e").await;
    assert_eq!((query.status, query.body.as_slice()), (200, FLAT_CRATE));

    server.stop().await.unwrap();
}

#[tokio::test]
async fn large_files_are_streamed_whole() {
    let mirror = Mirror::new();
    let big = pattern(3 << 20);
    mirror.write("crates/big/big-1.0.0.crate", &big);
    let server = Running::start(&mirror.root()).await;

    let mut client = server.connect().await;
    let reply = client
        .request("GET", "/crates/big/big-1.0.0.crate", &[])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), big.len());
    assert!(reply.body == big, "the streamed body differs from the file");
    assert_eq!(reply.etag(), fixture_etag(big.len()));
    // The connection is still usable after a streamed body.
    let again = client.request("GET", "/c-0.1.0.crate", &[]).await;
    assert_eq!(again.body, FLAT_CRATE);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn head_has_the_headers_of_get_and_no_body() {
    let mirror = Mirror::new();
    mirror.write("crates/big/big-1.0.0.crate", &pattern(1 << 20));
    let server = Running::start(&mirror.root()).await;

    let mut client = server.connect().await;
    for target in [
        "/crates/a/a-1.0.0+build.7.crate",
        "/crates/big/big-1.0.0.crate",
        "/index/config.json",
        "/missing",
    ] {
        let head = client.request("HEAD", target, &[]).await;
        // A body after the HEAD reply would be read as the next reply's status line.
        let get = client.request("GET", target, &[]).await;
        assert_eq!(head.status, get.status, "{target}");
        for name in ["content-length", "content-type", "etag", "last-modified"] {
            assert_eq!(head.header(name), get.header(name), "{target}: {name}");
        }
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "{target}"
        );
    }

    server.stop().await.unwrap();
}

#[tokio::test]
async fn if_none_match_gives_304() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;
    let target = "/index/3/f/foo";
    let etag = server.get(target).await.etag().to_owned();
    let weak = format!("W/{etag}");
    let list = format!("\"other\", {etag} , W/\"x\"");

    let mut client = server.connect().await;
    for (value, expected) in [
        (etag.as_str(), 304),
        (weak.as_str(), 304),
        (list.as_str(), 304),
        ("*", 304),
        ("\"other\"", 200),
        ("W/\"other\", \"more\"", 200),
    ] {
        let reply = client
            .request("GET", target, &[("If-None-Match", value)])
            .await;
        assert_eq!(reply.status, expected, "If-None-Match: {value}");
        assert_eq!(reply.etag(), etag, "If-None-Match: {value}");
        assert_eq!(reply.header("last-modified"), Some(fixture_date().as_str()));
        if expected == 304 {
            assert_eq!(reply.header("content-type"), None);
        } else {
            assert_eq!(reply.body, INDEX_FOO.as_bytes());
        }
    }
    // The same on HEAD.
    let head = client
        .request("HEAD", target, &[("If-None-Match", etag.as_str())])
        .await;
    assert_eq!(head.status, 304);

    // A list split over several header lines counts as one list.
    client
        .send_raw(
            format!(
                "GET {target} HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\"\r\nIf-None-Match: {etag}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await;
    assert_eq!(client.read_reply(false).await.status, 304);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn if_modified_since_gives_304_only_without_if_none_match() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;
    let target = "/crates/a/a-1.0.0+build.7.crate";
    let date = |secs: u64| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));

    let mut client = server.connect().await;
    // The file's time has nanoseconds; HTTP dates have whole seconds.
    for (since, expected) in [
        (date(MTIME_SECS), 304),
        (date(MTIME_SECS + 3600), 304),
        (date(MTIME_SECS - 1), 200),
        ("not a date".to_owned(), 200),
    ] {
        let reply = client
            .request("GET", target, &[("If-Modified-Since", since.as_str())])
            .await;
        assert_eq!(reply.status, expected, "If-Modified-Since: {since}");
        assert_eq!(reply.header("last-modified"), Some(fixture_date().as_str()));
    }
    // If-None-Match decides alone when present.
    let reply = client
        .request(
            "GET",
            target,
            &[
                ("If-None-Match", "\"other\""),
                ("If-Modified-Since", date(MTIME_SECS).as_str()),
            ],
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, PLUS_CRATE);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_changed_file_gets_a_new_etag() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;
    let target = "/index/3/f/foo";
    let first = server.get(target).await.etag().to_owned();

    // Same size, one nanosecond later.
    let same_size = INDEX_FOO.replace("0.1.0", "0.2.0");
    let later = UNIX_EPOCH + Duration::new(MTIME_SECS, MTIME_NANOS + 1);
    mirror.write_at("index/3/f/foo", same_size.as_bytes(), later);
    let reply = server
        .connect()
        .await
        .request("GET", target, &[("If-None-Match", first.as_str())])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, same_size.as_bytes());
    let second = reply.etag().to_owned();
    assert_ne!(second, first);

    // Same time, another size.
    let longer = format!("{INDEX_FOO}{same_size}");
    mirror.write_at("index/3/f/foo", longer.as_bytes(), later);
    let reply = server.get(target).await;
    assert_eq!(reply.body, longer.as_bytes());
    assert_ne!(reply.etag(), second);
    assert_ne!(reply.etag(), first);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn paths_that_name_no_file_below_the_root_are_404() {
    let mirror = Mirror::new();
    mirror.write("crates/b/b\\c.crate", b"backslash");
    let server = Running::start(&mirror.root()).await;
    // The controls: these are served, so the 404s below are the rules' doing.
    for target in [
        "/index/config.json",
        "/crates/a/a-1.0.0+build.7.crate",
        "/c-0.1.0.crate",
    ] {
        assert_eq!(server.get(target).await.status, 200, "{target}");
    }
    assert!(mirror.dir.path().join("outside.txt").exists());

    let mut client = server.connect().await;
    for target in [
        "/missing.crate",
        "/index/3/f/missing",
        // Folders: no listings.
        "/",
        "/crates",
        "/crates/",
        "/index/",
        // Trailing and doubled slashes.
        "/c-0.1.0.crate/",
        "//c-0.1.0.crate",
        "/crates//a/a-1.0.0+build.7.crate",
        // Dot segments, plain and percent-encoded.
        "/./c-0.1.0.crate",
        "/crates/./a/a-1.0.0+build.7.crate",
        "/../outside.txt",
        "/crates/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2E%2E/outside.txt",
        "/crates/%2e%2e/%2e%2e/outside.txt",
        "/crates/%2e/a/a-1.0.0+build.7.crate",
        // Hidden names: the mirror's journal and temporary files.
        "/.fetchkit/journal",
        "/%2efetchkit/journal",
        "/crates/a/.a-2.0.0.crate.tmp",
        // Separators and NUL smuggled into one segment.
        "/crates%2Fa%2Fa-1.0.0+build.7.crate",
        "/crates/b/b%5Cc.crate",
        "/crates/b/b\\c.crate",
        "/%2e%2e%5Coutside.txt",
        "/c-0.1.0.crate%00",
        "/c-0.1.0.crate%00.json",
        // Not UTF-8 once decoded.
        "/c-0.1.0%ff.crate",
    ] {
        let reply = client.request("GET", target, &[]).await;
        assert_eq!(reply.status, 404, "{target}");
        assert_eq!(reply.body, b"not found\n", "{target}");
    }

    server.stop().await.unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_may_not_lead_out_of_the_root_or_to_hidden_files() {
    use std::os::unix::fs::symlink;

    let mirror = Mirror::new();
    let outside = mirror.dir.path().join("outside.txt");
    let outside_dir = mirror.dir.path().join("elsewhere");
    std::fs::create_dir(&outside_dir).unwrap();
    std::fs::write(outside_dir.join("x.crate"), b"elsewhere").unwrap();
    symlink(&outside, mirror.path("crates/outside.crate")).unwrap();
    symlink("../../outside.txt", mirror.path("crates/a/relative.crate")).unwrap();
    symlink(&outside_dir, mirror.path("crates/elsewhere")).unwrap();
    symlink(
        mirror.path(".fetchkit/journal"),
        mirror.path("crates/journal"),
    )
    .unwrap();
    symlink(mirror.path(".fetchkit"), mirror.path("crates/state")).unwrap();
    symlink("a/a-1.0.0+build.7.crate", mirror.path("crates/alias.crate")).unwrap();
    symlink("nowhere", mirror.path("crates/dangling.crate")).unwrap();
    let server = Running::start(&mirror.root()).await;

    let mut client = server.connect().await;
    let alias = client.request("GET", "/crates/alias.crate", &[]).await;
    assert_eq!((alias.status, alias.body.as_slice()), (200, PLUS_CRATE));
    for target in [
        "/crates/outside.crate",
        "/crates/a/relative.crate",
        "/crates/elsewhere/x.crate",
        "/crates/journal",
        "/crates/state/journal",
        "/crates/dangling.crate",
    ] {
        let reply = client.request("GET", target, &[]).await;
        assert_eq!(reply.status, 404, "{target}");
    }

    server.stop().await.unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn a_root_reached_through_a_symlink_serves_its_files() {
    let mirror = Mirror::new();
    let link = mirror.dir.path().join("link");
    std::os::unix::fs::symlink(mirror.root(), &link).unwrap();
    let server = Running::start(&link).await;
    assert_eq!(server.get("/c-0.1.0.crate").await.body, FLAT_CRATE);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn plus_is_literal_and_percent_2b_is_plus() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;

    let mut client = server.connect().await;
    for (target, status, body) in [
        ("/crates/a/a-1.0.0+build.7.crate", 200, PLUS_CRATE),
        ("/crates/a/a-1.0.0%2Bbuild.7.crate", 200, PLUS_CRATE),
        ("/crates/a/a-1.0.0%2bbuild.7.crate", 200, PLUS_CRATE),
        ("/crates/a/a-1.0.0%20build.7.crate", 404, b"not found\n"),
        // A `+` is never a space.
        ("/crates/b/b+1.crate", 404, b"not found\n"),
        ("/crates/b/b%201.crate", 200, SPACE_CRATE),
    ] {
        let reply = client.request("GET", target, &[]).await;
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (status, body),
            "{target}"
        );
    }

    server.stop().await.unwrap();
}

#[tokio::test]
async fn other_methods_are_405() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;

    let mut client = server.connect().await;
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let reply = client
            .request(method, "/c-0.1.0.crate", &[("Content-Length", "0")])
            .await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method}");
    }
    // Also with a body, and also where no file is.
    let reply = client
        .request("POST", "/missing", &[("Content-Length", "5")])
        .await;
    assert_eq!(reply.status, 405);
    let mut client = server.connect().await;
    client
        .send_raw(b"PUT /index/config.json HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        .await;
    assert_eq!(client.read_reply(false).await.status, 405);
    // The file is untouched and still served.
    assert_eq!(server.get("/index/config.json").await.status, 200);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn config_json_points_at_the_host_it_was_asked_on() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;
    let target = "/index/config.json";

    let mut client = server.connect().await;
    let reply = client
        .request("GET", target, &[("Host", "mirror.test:8080")])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let config = reply.json();
    assert_eq!(
        config["dl"],
        "http://mirror.test:8080/crates/{crate}/{crate}-{version}.crate"
    );
    assert_eq!(config["api"], "http://mirror.test:8080");
    assert_eq!(config["auth-required"], false);
    assert_eq!(
        config["extra"],
        serde_json::json!({"kept": [1, "two", null]})
    );
    assert_eq!(config.as_object().unwrap().len(), 4);
    let etag_a = reply.etag().to_owned();

    // The server's own address, as cargo would send it.
    let own = client.request("GET", target, &[]).await;
    assert_eq!(
        own.json()["dl"],
        format!(
            "http://{}/crates/{{crate}}/{{crate}}-{{version}}.crate",
            server.addr
        )
    );
    let etag_own = own.etag().to_owned();
    assert_ne!(etag_own, etag_a);

    // Same host, same tag; and a tag from one host is no validator for another.
    let again = client
        .request("GET", target, &[("Host", "mirror.test:8080")])
        .await;
    assert_eq!(again.etag(), etag_a);
    assert_eq!(again.body, reply.body);
    let cached = client
        .request(
            "GET",
            target,
            &[
                ("Host", "mirror.test:8080"),
                ("If-None-Match", etag_a.as_str()),
            ],
        )
        .await;
    assert_eq!(cached.status, 304);
    let other = client
        .request("GET", target, &[("If-None-Match", etag_a.as_str())])
        .await;
    assert_eq!(other.status, 200);
    assert_eq!(other.etag(), etag_own);

    // An absolute request target names the host itself (RFC 9112 3.2.2).
    let absolute = client
        .request(
            "GET",
            "http://absolute.test:7/index/config.json",
            &[("Host", "mirror.test:8080")],
        )
        .await;
    assert_eq!(absolute.json()["api"], "http://absolute.test:7");
    // A Host that is no authority is not put into URLs.
    let bogus = client.request("GET", target, &[("Host", "a/b")]).await;
    assert_eq!(bogus.body, CONFIG.as_bytes());

    // IPv6 literal hosts keep their brackets.
    let v6 = client.request("GET", target, &[("Host", "[::1]:9")]).await;
    assert_eq!(v6.json()["api"], "http://[::1]:9");

    // Without a Host (HTTP/1.0), the file as it is.
    let mut client = server.connect().await;
    client
        .send_raw(format!("GET {target} HTTP/1.0\r\n\r\n").as_bytes())
        .await;
    let plain = client.read_reply(false).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.body, CONFIG.as_bytes());
    assert_eq!(plain.etag(), fixture_etag(CONFIG.len()));

    server.stop().await.unwrap();
}

#[tokio::test]
async fn config_json_without_absolute_urls_is_served_as_is() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;
    for config in [
        r#"{"dl": "/crates/{crate}"}"#,
        r#"{"dl": "{x}://registry.invalid/crates"}"#,
        "not json at all",
        r#"["dl", "https://registry.invalid"]"#,
    ] {
        mirror.write("index/config.json", config.as_bytes());
        let reply = server.get("/index/config.json").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, config.as_bytes(), "{config}");
        assert_eq!(reply.etag(), fixture_etag(config.len()));
    }
    // `api` alone is rewritten too, and a `dl` without a path keeps none.
    mirror.write(
        "index/config.json",
        br#"{"dl":"HTTPS://user@registry.invalid","api":"https://registry.invalid/api?x#y"}"#,
    );
    let config = server
        .connect()
        .await
        .request("GET", "/index/config.json", &[("Host", "m.test")])
        .await
        .json();
    assert_eq!(config["dl"], "http://m.test");
    assert_eq!(config["api"], "http://m.test/api?x#y");

    server.stop().await.unwrap();
}

#[tokio::test]
async fn many_concurrent_keep_alive_connections() {
    const CONNECTIONS: usize = 48;
    const REQUESTS: usize = 30;
    let mirror = Mirror::new();
    let medium = pattern(200 << 10);
    mirror.write("crates/m/m-1.0.0.crate", &medium);
    let server = Running::start(&mirror.root()).await;
    let etag = server.get("/index/3/f/foo").await.etag().to_owned();

    let mut tasks = tokio::task::JoinSet::new();
    for connection in 0..CONNECTIONS {
        let addr = server.addr;
        let medium = medium.clone();
        let etag = etag.clone();
        tasks.spawn(async move {
            let mut client = Client::connect(addr).await;
            for request in 0..REQUESTS {
                match (connection + request) % 4 {
                    0 => {
                        let reply = client.request("GET", "/index/3/f/foo", &[]).await;
                        assert_eq!(reply.body, INDEX_FOO.as_bytes());
                    }
                    1 => {
                        let reply = client
                            .request("GET", "/index/3/f/foo", &[("If-None-Match", &etag)])
                            .await;
                        assert_eq!(reply.status, 304);
                    }
                    2 => {
                        let reply = client.request("GET", "/crates/m/m-1.0.0.crate", &[]).await;
                        assert!(reply.body == medium);
                    }
                    _ => {
                        let reply = client.request("GET", "/crates/m/missing", &[]).await;
                        assert_eq!(reply.status, 404);
                    }
                }
            }
            REQUESTS
        });
    }
    let mut served = 0;
    while let Some(done) = tasks.join_next().await {
        served += done.unwrap();
    }
    assert_eq!(served, CONNECTIONS * REQUESTS);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_broken_connection_does_not_stop_the_server() {
    let mirror = Mirror::new();
    mirror.write("crates/big/big-1.0.0.crate", &pattern(8 << 20));
    let server = Running::start(&mirror.root()).await;

    // Garbage, a request cut short, and a download abandoned mid-body.
    let mut garbage = server.connect().await;
    garbage
        .send_raw(b"\x16\x03\x01 not http at all\r\n\r\n")
        .await;
    garbage.read_to_close().await;
    let mut cut = server.connect().await;
    cut.send_raw(b"GET /c-0.1.0.crate HTTP/1.1\r\nHo").await;
    drop(cut);
    let mut abandoned = server.connect().await;
    abandoned
        .send_raw(b"GET /crates/big/big-1.0.0.crate HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut first = [0; 16];
    abandoned.stream.read_exact(&mut first).await.unwrap();
    drop(abandoned);

    assert_eq!(server.get("/c-0.1.0.crate").await.body, FLAT_CRATE);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_open_requests_then_stops_accepting() {
    let mirror = Mirror::new();
    let big = pattern(16 << 20);
    mirror.write("crates/big/big-1.0.0.crate", &big);
    let server = Running::start(&mirror.root()).await;
    let addr = server.addr;

    // An idle keep-alive connection, and a download whose body is still on its way.
    let mut idle = server.connect().await;
    assert_eq!(idle.request("GET", "/c-0.1.0.crate", &[]).await.status, 200);
    let mut busy = server.connect().await;
    busy.send_raw(b"GET /crates/big/big-1.0.0.crate HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut line = String::new();
    busy.stream.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");

    let stopping = tokio::spawn(server.stop());
    // The download finishes whole, and then the connection closes.
    loop {
        line.clear();
        busy.stream.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; big.len()];
    timeout(STEP, busy.stream.read_exact(&mut body))
        .await
        .unwrap()
        .unwrap();
    assert!(body == big);
    assert_eq!(busy.read_to_close().await, 0);
    // The idle connection is closed without a reply.
    assert_eq!(idle.read_to_close().await, 0);

    timeout(STEP, stopping).await.unwrap().unwrap().unwrap();
    let refused = TcpStream::connect(addr).await;
    assert!(refused.is_err(), "the port still accepts connections");
}

#[tokio::test]
async fn shutdown_closes_connections_left_after_the_grace_period() {
    let mirror = Mirror::new();
    let big = pattern(48 << 20);
    mirror.write("crates/big/big-1.0.0.crate", &big);
    let server = Server::bind(mirror.root(), loopback())
        .await
        .unwrap()
        .with_grace_period(Duration::from_millis(200));
    let server = Running::spawn(server);

    // A client that asks for a big file and then reads nothing holds its response open.
    let mut stalled = server.connect().await;
    stalled
        .send_raw(b"GET /crates/big/big-1.0.0.crate HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut line = String::new();
    stalled.stream.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");

    server.stop().await.unwrap();
    let received = stalled.read_to_close().await;
    assert!(
        received < big.len(),
        "the whole body arrived: the connection was not cut"
    );
}

#[tokio::test]
async fn http2_with_prior_knowledge() {
    let mirror = Mirror::new();
    let server = Running::start(&mirror.root()).await;
    let mut h2 = H2::connect(server.addr).await;

    let (status_block, end_stream, body) = h2
        .request(1, "GET", "/index/config.json", "h2.test:1")
        .await;
    assert_eq!(status_block[0], 0x88, "not :status 200");
    assert!(!end_stream);
    let config: serde_json::Value = serde_json::from_slice(&body).unwrap();
    // The authority comes from HTTP/2's `:authority`.
    assert_eq!(config["api"], "http://h2.test:1");

    let (status_block, end_stream, body) = h2.request(3, "GET", "/c-0.1.0.crate", "h2.test").await;
    assert_eq!(status_block[0], 0x88, "not :status 200");
    assert!(!end_stream);
    assert_eq!(body, FLAT_CRATE);

    let (status_block, _, _) = h2.request(5, "GET", "/%2e%2e/outside.txt", "h2.test").await;
    // :status 404 is index 13 of HPACK's static table.
    assert_eq!(status_block[0], 0x8d, "not :status 404");

    // HEAD ends the stream with its headers: no DATA (which HTTP/2, unlike HTTP/1.1, would
    // send if the server gave it any).
    for (id, target, status) in [
        (7, "/c-0.1.0.crate", 0x88),
        (9, "/index/config.json", 0x88),
        (11, "/missing", 0x8d),
    ] {
        let (status_block, end_stream, body) = h2.request(id, "HEAD", target, "h2.test").await;
        assert_eq!(status_block[0], status, "{target}");
        assert!(end_stream, "{target}: DATA after HEAD");
        assert!(body.is_empty());
    }

    drop(h2);
    server.stop().await.unwrap();
}

/// Just enough HTTP/2 to send one request at a time without Huffman coding or dynamic table,
/// and to read the response's first header byte and its data.
struct H2 {
    stream: TcpStream,
}

impl H2 {
    async fn connect(addr: SocketAddr) -> H2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .unwrap();
        let mut h2 = H2 { stream };
        h2.frame(0x4, 0, 0, &[]).await; // SETTINGS, none changed
        h2
    }

    async fn frame(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let len = payload.len() as u32;
        let mut frame = len.to_be_bytes()[1..].to_vec();
        frame.extend([kind, flags]);
        frame.extend(stream.to_be_bytes());
        frame.extend(payload);
        self.stream.write_all(&frame).await.unwrap();
    }

    /// Sends a request on `id` and returns the response's header block, whether the headers
    /// ended the stream, and the body.
    async fn request(
        &mut self,
        id: u32,
        method: &str,
        path: &str,
        authority: &str,
    ) -> (Vec<u8>, bool, Vec<u8>) {
        let mut block = vec![if method == "HEAD" { 0x02 } else { 0x82 }];
        if method == "HEAD" {
            // Literal without indexing, name :method (index 2).
            literal(&mut block, "HEAD");
        }
        block.push(0x86); // :scheme http
        block.push(0x04); // :path, literal value
        literal(&mut block, path);
        block.push(0x01); // :authority, literal value
        literal(&mut block, authority);
        self.frame(0x1, 0x4 | 0x1, id, &block).await; // HEADERS, END_HEADERS | END_STREAM

        timeout(STEP, self.read_response(id))
            .await
            .expect("no HTTP/2 response in time")
    }

    async fn read_response(&mut self, id: u32) -> (Vec<u8>, bool, Vec<u8>) {
        let mut headers = None;
        let mut body = Vec::new();
        loop {
            let mut head = [0; 9];
            self.stream.read_exact(&mut head).await.unwrap();
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            let mut payload = vec![0; len];
            self.stream.read_exact(&mut payload).await.unwrap();
            match kind {
                // SETTINGS from the server: acknowledge.
                0x4 if flags & 0x1 == 0 => self.frame(0x4, 0x1, 0, &[]).await,
                0x1 if stream == id => {
                    assert_ne!(flags & 0x4, 0, "headers continued: not handled here");
                    let end = flags & 0x1 != 0;
                    headers = Some(payload);
                    if end {
                        return (headers.unwrap(), true, body);
                    }
                }
                0x0 if stream == id => {
                    body.extend(payload);
                    if flags & 0x1 != 0 {
                        return (headers.expect("DATA before HEADERS"), false, body);
                    }
                }
                0x3 | 0x7 => panic!("stream reset or connection closed: {payload:?}"),
                _ => {}
            }
        }
    }
}

/// An HPACK string literal, not Huffman-coded (for strings below 127 bytes).
fn literal(block: &mut Vec<u8>, value: &str) {
    assert!(value.len() < 127);
    block.push(value.len() as u8);
    block.extend(value.as_bytes());
}

#[tokio::test]
async fn bind_errors_say_what_is_wrong() {
    let mirror = Mirror::new();

    let missing = mirror.dir.path().join("missing");
    let error = Server::bind(&missing, loopback()).await.unwrap_err();
    assert!(
        matches!(&error, ServeError::Root { path, .. } if *path == missing),
        "{error:?}"
    );
    assert!(!error.is_transient());
    assert!(error.to_string().contains("missing"), "{error}");

    let file = mirror.dir.path().join("outside.txt");
    let error = Server::bind(&file, loopback()).await.unwrap_err();
    assert!(matches!(&error, ServeError::Root { .. }), "{error:?}");
    assert!(error.to_string().contains("not a folder"), "{error}");

    let taken = Server::bind(mirror.root(), loopback()).await.unwrap();
    let addr = taken.local_addr();
    assert_ne!(addr.port(), 0);
    let error = Server::bind(mirror.root(), addr).await.unwrap_err();
    assert!(
        matches!(&error, ServeError::Bind { addr: a, .. } if *a == addr),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}
