//! A static file server for a mirror folder, so that cargo can build from it as a sparse
//! registry (`fetchkit serve DIR`).
//!
//! The folder is served as it lies: `index/config.json`, index files at
//! `index/<prefix>/<name>`, crate files wherever the mirror put them. Only `GET` and `HEAD`
//! are answered, only regular files are served, and a request can never reach anything
//! outside the folder or any hidden name inside it (the mirror keeps its journal and
//! temporary files in `.fetchkit/`).
//!
//! Every file is served with validators derived from its size and modification time, so
//! cargo's conditional index requests cost a `304`. A `404` is always a plain `404`: cargo
//! reads it on an index file as "no such crate".
//!
//! `index/config.json` is the one file not served byte for byte: cargo needs its `dl` to be
//! an absolute URL, while the same folder may be served at any address. The origin of `dl`
//! (and of `api`) is replaced by the `Host` the request was sent to.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::uri::Authority;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use percent_encoding::percent_decode_str;
use serde_json::Value;
use tokio::fs::File;
use tokio::io::{AsyncReadExt, Take};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// How long open requests may take to finish after shutdown, unless the caller says otherwise.
const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(10);

/// Files up to this size are read in one piece: index files are almost all below it, and
/// one read beats a streamed body for them.
const SMALL_FILE: u64 = 64 << 10;

/// The size of each read of a streamed file: large enough that a multi-megabyte crate takes
/// few trips through tokio's blocking pool, small enough for 64 connections at once.
const CHUNK: usize = 128 << 10;

/// The largest `config.json` rewritten; a larger one is no registry's and is served as is.
const CONFIG_LIMIT: u64 = 1 << 20;

/// How long to wait before accepting again after an error that is not one connection's
/// (running out of file descriptors, say): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The server could not start or could not go on.
///
/// Messages are one lower-case line with the folder or address they concern.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The folder to serve is missing, unreadable or not a folder.
    #[error("{path}: cannot serve this folder: {source}")]
    Root {
        /// The folder as given.
        path: PathBuf,
        /// Why it cannot be served.
        #[source]
        source: io::Error,
    },
    /// The address could not be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The listening socket stopped accepting connections for good. (Errors of single
    /// connections, and shortages of file descriptors or memory, are waited out instead.)
    #[error("accepting connections on {addr} failed: {source}")]
    Accept {
        /// The address the server listened on.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

impl ServeError {
    /// Whether trying again later may succeed: only when the address is taken, as another
    /// process may let it go. A missing folder or a broken socket stays so.
    pub fn is_transient(&self) -> bool {
        match self {
            ServeError::Bind { source, .. } => source.kind() == io::ErrorKind::AddrInUse,
            _ => false,
        }
    }
}

/// A server bound to its address, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    /// The folder, canonical: every served file's canonical path must start with it.
    root: Arc<Path>,
    grace_period: Duration,
}

impl Server {
    /// Binds `addr` (port 0 = any free port) to serve the folder `root`.
    pub async fn bind(root: impl Into<PathBuf>, addr: SocketAddr) -> Result<Server, ServeError> {
        let path = root.into();
        let root_error = |source| ServeError::Root {
            path: path.clone(),
            source,
        };
        let canonical = tokio::fs::canonicalize(&path).await.map_err(root_error)?;
        let metadata = tokio::fs::metadata(&canonical).await.map_err(root_error)?;
        if !metadata.is_dir() {
            return Err(root_error(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a folder",
            )));
        }
        let bind_error = |source| ServeError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        Ok(Server {
            listener,
            local_addr,
            root: canonical.into(),
            grace_period: DEFAULT_GRACE_PERIOD,
        })
    }

    /// The address the server listens on (with the port chosen when `bind` was given 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How long requests still open at shutdown may take to finish before their connections
    /// are closed (10 seconds unless set).
    pub fn with_grace_period(mut self, grace_period: Duration) -> Server {
        self.grace_period = grace_period;
        self
    }

    /// Serves until `shutdown` completes, then stops accepting and lets open requests finish
    /// (for at most the grace period).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ServeError> {
        let Server {
            listener,
            local_addr,
            root,
            grace_period,
        } = self;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // Without a timer hyper's default 30-second limit on reading a request's head is off,
        // and a client that stalls mid-request would hold its connection forever.
        builder.http1().timer(TokioTimer::new());
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        let mut shutdown = pin!(shutdown);

        let outcome = loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break Ok(()),
                // Reaps finished connections, so the set holds only open ones.
                Some(finished) = connections.join_next(), if !connections.is_empty() => {
                    if let Err(error) = finished
                        && error.is_panic()
                    {
                        tracing::warn!(%error, "a connection task panicked");
                    }
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        // Index files and 304s are small: they should leave at once rather
                        // than wait for more bytes (Nagle). Failing to say so costs only latency.
                        if let Err(error) = stream.set_nodelay(true) {
                            tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
                        }
                        let root = Arc::clone(&root);
                        let service = service_fn(move |request| {
                            let root = Arc::clone(&root);
                            async move { Ok::<_, Infallible>(respond(&root, request).await) }
                        });
                        let connection = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .into_owned();
                        let connection = graceful.watch(connection);
                        connections.spawn(async move {
                            if let Err(error) = connection.await {
                                tracing::debug!(%peer, %error, "connection failed");
                            }
                        });
                    }
                    Err(error) if is_connection_error(&error) => {
                        tracing::debug!(%error, "a connection failed before it was accepted");
                    }
                    // EINVAL: the socket is no longer listening; nothing will change that.
                    Err(error) if error.kind() == io::ErrorKind::InvalidInput => {
                        break Err(ServeError::Accept { addr: local_addr, source: error });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot accept connections; trying again shortly");
                        tokio::select! {
                            biased;
                            () = &mut shutdown => break Ok(()),
                            () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                        }
                    }
                },
            }
        };

        // Closing the socket first makes new connections fail at once rather than wait in
        // the backlog for a server that is going away.
        drop(listener);
        let open = connections.len();
        let drain = async {
            graceful.shutdown().await;
            while connections.join_next().await.is_some() {}
        };
        if tokio::time::timeout(grace_period, drain).await.is_err() {
            tracing::debug!(
                open,
                left = connections.len(),
                "grace period over; closing the remaining connections"
            );
            connections.shutdown().await;
        }
        outcome
    }
}

/// Whether an `accept` error belongs to one connection (which the peer or the network
/// ended before it was accepted), so accepting the next one can go on at once.
fn is_connection_error(error: &io::Error) -> bool {
    use io::ErrorKind::*;
    // Linux's accept(2) also passes on pending network errors of the new connection, and
    // EPERM when a firewall refuses it.
    matches!(
        error.kind(),
        ConnectionAborted
            | ConnectionReset
            | ConnectionRefused
            | Interrupted
            | WouldBlock
            | TimedOut
            | BrokenPipe
            | PermissionDenied
            | NetworkDown
            | NetworkUnreachable
            | HostUnreachable
    )
}

type Body = BoxBody<Bytes, io::Error>;

/// Why a path has no file to serve.
enum Lookup {
    /// Nothing servable there: a `404`.
    NotFound,
    /// The file system failed: a `500`, since a `404` would tell cargo the crate is gone.
    Failed(io::Error),
}

impl From<io::Error> for Lookup {
    fn from(error: io::Error) -> Lookup {
        match error.kind() {
            io::ErrorKind::NotFound
            | io::ErrorKind::NotADirectory
            | io::ErrorKind::InvalidFilename => Lookup::NotFound,
            _ => Lookup::Failed(error),
        }
    }
}

/// Answers one request; never fails, as every failure is a status.
async fn respond(root: &Path, request: Request<Incoming>) -> Response<Body> {
    let head = request.method() == Method::HEAD;
    let response = if !head && request.method() != Method::GET {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        response
    } else if let Some(segments) = request_segments(request.uri().path()) {
        match serve_file(root, &segments, &request, head).await {
            Ok(response) => response,
            Err(Lookup::NotFound) => not_found(),
            Err(Lookup::Failed(error)) => {
                tracing::warn!(path = request.uri().path(), %error, "cannot serve a file");
                text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n")
            }
        }
    } else {
        not_found()
    };
    tracing::trace!(
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        "served"
    );
    if head {
        // HEAD gets GET's headers, Content-Length included, and no body. (hyper drops the
        // body of a HEAD response on HTTP/1.1 itself but would send it on HTTP/2.)
        let (parts, _) = response.into_parts();
        Response::from_parts(parts, empty())
    } else {
        response
    }
}

/// The request path as file names below the root, or `None` when it may not name a file.
///
/// Each segment is percent-decoded on its own (so `%2F` cannot make a new one) and `+` stays
/// a `+`: crate versions such as `1.0.0+build.7` appear in paths literally. Empty segments,
/// `.` and `..`, hidden names, and separators or NUL inside a segment are refused, also when
/// they were percent-encoded.
fn request_segments(path: &str) -> Option<Vec<String>> {
    path.strip_prefix('/')?
        .split('/')
        .map(|raw| {
            let segment = percent_decode_str(raw).decode_utf8().ok()?;
            let refused = segment.is_empty()
                || segment.starts_with('.')
                || segment.contains(['/', '\\', '\0'])
                // A colon on Windows names a drive or an alternate data stream.
                || (cfg!(windows) && segment.contains(':'));
            (!refused).then(|| segment.into_owned())
        })
        .collect()
}

/// The response for the file at `segments` below `root`.
async fn serve_file(
    root: &Path,
    segments: &[String],
    request: &Request<Incoming>,
    head: bool,
) -> Result<Response<Body>, Lookup> {
    let mut path = root.to_path_buf();
    path.extend(segments);
    // Resolving every link and comparing with the (canonical) root keeps links inside the
    // folder working while none leads out of it, or to a hidden name inside it.
    let canonical = tokio::fs::canonicalize(&path).await?;
    let inside = canonical.strip_prefix(root).map_err(|_| Lookup::NotFound)?;
    let hidden = inside.components().any(|component| match component {
        Component::Normal(name) => name.as_encoded_bytes().starts_with(b"."),
        _ => true,
    });
    if hidden {
        return Err(Lookup::NotFound);
    }
    // Checked before opening: opening a FIFO would wait for a writer.
    if !tokio::fs::metadata(&canonical).await?.is_file() {
        return Err(Lookup::NotFound);
    }
    let file = File::open(&canonical).await?;
    // The open file's own metadata, so headers and body describe the same file even when
    // the mirror renames a new version over the path meanwhile.
    let metadata = file.metadata().await?;
    if !metadata.is_file() {
        return Err(Lookup::NotFound);
    }
    let len = metadata.len();
    let modified = metadata.modified().ok();
    let content_type = content_type(segments);

    if segments == ["index", "config.json"] && len <= CONFIG_LIMIT {
        let bytes = read_all(file, len).await?;
        let rewritten =
            request_host(request).and_then(|host| rewrite_config(&bytes, host.as_str()));
        let (bytes, etag) = match rewritten {
            // The served bytes depend on the Host: their hash is in the tag, so a cache
            // never answers one host's request with another host's config.
            Some(bytes) => {
                let etag = format!("{}-{:x}\"", etag_base(len, modified), fnv1a(&bytes));
                (Bytes::from(bytes), etag)
            }
            None => (
                Bytes::from(bytes),
                format!("{}\"", etag_base(len, modified)),
            ),
        };
        let mut response = match validate(request.headers(), etag, modified) {
            Validated::NotModified(response) => response,
            Validated::Modified(response) => {
                with_body(response, content_type, bytes.len() as u64, full(bytes))
            }
        };
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Host"));
        return Ok(response);
    }

    let etag = format!("{}\"", etag_base(len, modified));
    let response = match validate(request.headers(), etag, modified) {
        Validated::NotModified(response) => return Ok(response),
        Validated::Modified(response) => response,
    };
    let body = if head {
        empty()
    } else if len <= SMALL_FILE {
        full(Bytes::from(read_all(file, len).await?))
    } else {
        FileBody::new(file, len).boxed()
    };
    Ok(with_body(response, content_type, len, body))
}

/// Reads a file of `len` bytes whole; a file that changed size meanwhile is an error, as
/// headers for the old size may already be decided.
async fn read_all(file: File, len: u64) -> Result<Vec<u8>, io::Error> {
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(len).read_to_end(&mut bytes).await?;
    if bytes.len() as u64 != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the file shrank while it was read",
        ));
    }
    Ok(bytes)
}

/// A response with a file's validators, and whether the request's own validators make it a
/// `304`.
enum Validated {
    /// A `304`, complete.
    NotModified(Response<Body>),
    /// A `200` still without its body and the headers that describe it.
    Modified(Response<Body>),
}

fn validate(request: &HeaderMap, etag: String, modified: Option<SystemTime>) -> Validated {
    let modified = modified.and_then(http_time);
    let fresh = not_modified(request, &etag, modified);
    let mut response = Response::new(empty());
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::try_from(etag) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(modified) = modified
        && let Ok(value) = HeaderValue::try_from(httpdate::fmt_http_date(modified))
    {
        headers.insert(header::LAST_MODIFIED, value);
    }
    if fresh {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        Validated::NotModified(response)
    } else {
        Validated::Modified(response)
    }
}

fn with_body(
    mut response: Response<Body>,
    content_type: &'static str,
    len: u64,
    body: Body,
) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    *response.body_mut() = body;
    response
}

/// The start of a strong entity tag from the file's size and modification time, without the
/// closing quote (the config adds its hash first). Both change when the mirror replaces a
/// file, and nanoseconds tell apart two versions written within the same second.
fn etag_base(len: u64, modified: Option<SystemTime>) -> String {
    match modified {
        Some(modified) => {
            let since = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
            format!("\"{len:x}-{:x}-{:x}", since.as_secs(), since.subsec_nanos())
        }
        None => format!("\"{len:x}"),
    }
}

/// The modification time at HTTP's precision (seconds), or `None` when an HTTP date cannot
/// say it (before 1970 or after 9999, where `httpdate` would panic).
fn http_time(time: SystemTime) -> Option<SystemTime> {
    const YEAR_10000: u64 = 253_402_300_800;
    let secs = time.duration_since(UNIX_EPOCH).ok()?.as_secs();
    (secs < YEAR_10000).then(|| UNIX_EPOCH + Duration::from_secs(secs))
}

/// Whether the request's validators say its cached copy is current (RFC 9110 13.1): any
/// `If-None-Match` tag matching by weak comparison, or `*`; only without `If-None-Match`,
/// an `If-Modified-Since` at or after the modification time.
fn not_modified(request: &HeaderMap, etag: &str, modified: Option<SystemTime>) -> bool {
    let mut tags = request.get_all(header::IF_NONE_MATCH).iter().peekable();
    if tags.peek().is_some() {
        return tags
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag);
    }
    let since = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| httpdate::parse_http_date(value).ok());
    matches!((modified, since), (Some(modified), Some(since)) if modified <= since)
}

fn content_type(segments: &[String]) -> &'static str {
    let name = segments.last().map_or("", String::as_str);
    if name.ends_with(".json") {
        "application/json"
    } else if segments.first().is_some_and(|first| first == "index") {
        // Index files are JSON lines, readable as text.
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

/// The authority the request was sent to: HTTP/2's `:authority` or an absolute request
/// target's (which take precedence, RFC 9112 3.2.2), else the `Host` header. One with user
/// information is ignored, as it cannot be the origin of a download URL.
fn request_host(request: &Request<Incoming>) -> Option<Authority> {
    let host = match request.uri().authority() {
        Some(authority) => authority.clone(),
        None => request
            .headers()
            .get(header::HOST)?
            .to_str()
            .ok()?
            .parse::<Authority>()
            .ok()?,
    };
    (!host.as_str().contains('@') && !host.as_str().is_empty()).then_some(host)
}

/// `config.json` with the origin of its absolute `dl` and `api` URLs replaced by
/// `http://<host>`, or `None` when it has none to replace (it is then served as is).
///
/// The JSON is re-serialized: values are kept, not the key order or spacing.
fn rewrite_config(bytes: &[u8], host: &str) -> Option<Vec<u8>> {
    let mut config: Value = serde_json::from_slice(bytes).ok()?;
    let object = config.as_object_mut()?;
    let mut changed = false;
    for key in ["dl", "api"] {
        if let Some(Value::String(url)) = object.get_mut(key)
            && let Some(replaced) = replace_origin(url, host)
        {
            *url = replaced;
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    serde_json::to_vec(&config).ok()
}

/// `url` with its scheme and authority replaced by `http://<host>`, or `None` when it is not
/// an absolute URL.
fn replace_origin(url: &str, host: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let mut scheme_chars = scheme.chars();
    let valid_scheme = scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return None;
    }
    let path = rest
        .find(['/', '?', '#'])
        .map_or("", |start| &rest[start..]);
    Some(format!("http://{host}{path}"))
}

/// 64-bit FNV-1a: stable across builds and platforms, unlike std's hasher, so a rewritten
/// config keeps its tag when the server restarts.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n")
}

fn text(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(message.len()));
    response
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A file's first `len` bytes as a streamed body, read `CHUNK` bytes at a time.
///
/// Stopping at `len` keeps the body to the `Content-Length` already sent when the file
/// grows; a file that shrinks ends the body with an error, which aborts the response.
struct FileBody {
    file: Take<File>,
    buffer: BytesMut,
    remaining: u64,
}

impl FileBody {
    fn new(file: File, len: u64) -> FileBody {
        FileBody {
            file: file.take(len),
            buffer: BytesMut::new(),
            remaining: len,
        }
    }
}

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        // A no-op while the last read left room; otherwise a fresh block, as the frames
        // already sent still hold the old one.
        this.buffer.reserve(CHUNK);
        let read = ready!(tokio_util::io::poll_read_buf(
            Pin::new(&mut this.file),
            cx,
            &mut this.buffer
        ));
        Poll::Ready(Some(match read {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was served",
            )),
            Ok(read) => {
                this.remaining = this.remaining.saturating_sub(read as u64);
                Ok(Frame::data(this.buffer.split().freeze()))
            }
            Err(error) => Err(error),
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
