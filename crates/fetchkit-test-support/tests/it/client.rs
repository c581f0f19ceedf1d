//! A deliberately small HTTP/1.1 client over `std::net::TcpStream`, strict about framing so that
//! framing mistakes in the server show up as test failures.

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use fetchkit_test_support::FaultServer;

/// Long enough never to fire on a healthy server, short enough that a bug fails instead of
/// hanging the test run.
const SAFETY_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub(crate) struct Conn {
    reader: BufReader<TcpStream>,
    /// The `Host` header sent with every request.
    host: String,
}

#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) status_line: String,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) head: Head,
    pub(crate) body: Vec<u8>,
}

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn content_length(&self) -> usize {
        self.header("Content-Length")
            .expect("response has Content-Length")
            .parse()
            .expect("Content-Length is a number")
    }
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }
}

impl Conn {
    pub(crate) fn open(server: &FaultServer) -> Conn {
        let stream = TcpStream::connect(server.addr()).expect("connect to fault server");
        stream.set_read_timeout(Some(SAFETY_TIMEOUT)).unwrap();
        Conn {
            reader: BufReader::new(stream),
            host: "127.0.0.1".to_owned(),
        }
    }

    /// A connection whose requests say `Host: 127.0.0.1:PORT`, as a client given the server's
    /// URL sends it (and signs it, for Hawk).
    pub(crate) fn open_with_port(server: &FaultServer) -> Conn {
        let mut conn = Conn::open(server);
        conn.host = server.addr().to_string();
        conn
    }

    pub(crate) fn set_read_timeout(&self, timeout: Duration) {
        self.reader
            .get_ref()
            .set_read_timeout(Some(timeout))
            .unwrap();
    }

    pub(crate) fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)]) {
        self.send_with_body(method, target, headers, None);
    }

    /// Sends a request; a body goes with its `Content-Length`.
    pub(crate) fn send_with_body(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) {
        let mut request = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body.unwrap_or_default());
        self.reader
            .get_mut()
            .write_all(&bytes)
            .expect("send request");
    }

    pub(crate) fn read_head(&mut self) -> Head {
        let status_line = self.line().expect("read status line");
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(
            parts.next(),
            Some("HTTP/1.1"),
            "status line {status_line:?}"
        );
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let mut headers = Vec::new();
        loop {
            let line = self.line().expect("read header line");
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header has a colon");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        Head {
            status_line,
            status,
            headers,
        }
    }

    /// Reads the body as the head frames it: exactly Content-Length bytes, or valid chunks up to
    /// the terminator.
    pub(crate) fn read_body(&mut self, head: &Head) -> Vec<u8> {
        if head.status == 204 || head.status == 304 {
            assert!(
                head.header("Content-Length").is_none(),
                "a {} with Content-Length",
                head.status
            );
            return Vec::new();
        }
        if head.header("Transfer-Encoding") == Some("chunked") {
            assert!(
                head.header("Content-Length").is_none(),
                "chunked with Content-Length"
            );
            return self.read_chunked();
        }
        let mut body = vec![0; head.content_length()];
        self.reader.read_exact(&mut body).expect("read body");
        body
    }

    pub(crate) fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        self.send(method, target, headers);
        let head = self.read_head();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            self.read_body(&head)
        };
        Response { head, body }
    }

    pub(crate) fn request_with_body(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.send_with_body(method, target, headers, Some(body));
        let head = self.read_head();
        let body = self.read_body(&head);
        Response { head, body }
    }

    pub(crate) fn get(&mut self, target: &str) -> Response {
        self.request("GET", target, &[])
    }

    pub(crate) fn read_exact(&mut self, buf: &mut [u8]) {
        self.reader.read_exact(buf).expect("read exact");
    }

    /// Reads until EOF or an error, returning what arrived and how it ended.
    pub(crate) fn read_rest(&mut self) -> (Vec<u8>, io::Result<()>) {
        let mut data = Vec::new();
        let mut buf = [0; 64 * 1024];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return (data, Ok(())),
                Ok(n) => data.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (data, Err(e)),
            }
        }
    }

    fn read_chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let size_line = self.line().expect("read chunk size");
            let size = usize::from_str_radix(&size_line, 16)
                .unwrap_or_else(|_| panic!("bad chunk size line {size_line:?}"));
            if size == 0 {
                assert_eq!(
                    self.line().expect("read final CRLF"),
                    "",
                    "trailers not expected"
                );
                return body;
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader
                .read_exact(&mut body[start..])
                .expect("read chunk");
            assert_eq!(
                self.line().expect("read chunk CRLF"),
                "",
                "chunk not followed by CRLF"
            );
        }
    }

    /// One CRLF-terminated line without its terminator; a bare LF is a framing error.
    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line
            .strip_suffix("\r\n")
            .unwrap_or_else(|| panic!("line {line:?} lacks CRLF"));
        Ok(line.to_owned())
    }
}
