use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::{Buf as _, BytesMut};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::handler::{Handler, HandlerReply};
use crate::request::{RecordedRequest, path_of};
use crate::resource::{Reply, Resource};
use crate::response::{Ending, Response, bad_request, handler_response, plan};

/// Requests with larger heads are answered with 431 and the connection is closed; no client
/// under test sends anything near this.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
/// Request bodies with a larger `Content-Length` are answered with 413 and the connection is
/// closed; the API bodies clients send are a few hundred bytes.
const MAX_BODY: u64 = 1024 * 1024;
/// Small pieces (heads, chunk framing, short bodies) are coalesced up to this size so a response
/// leaves in few segments; larger slices bypass the buffer and go straight to the socket.
const WRITE_BUFFER: usize = 64 * 1024;
const CHUNK: usize = 1024 * 1024;

/// A loopback HTTP/1.1 server with scripted faults that records every request.
///
/// It runs on its own thread and runtime, so it serves sync tests, async tests of any runtime
/// flavour and subprocess clients alike. Dropping it stops the thread and closes every
/// connection, stalled ones included.
pub struct FaultServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct State {
    routes: HashMap<String, Route>,
    /// Path prefixes and their handlers, consulted when no exact route matches.
    handlers: Vec<(String, Handler)>,
    requests: Vec<RecordedRequest>,
}

/// Where one request goes, decided under the lock and carried out without it.
#[derive(Debug)]
enum Routed {
    Resource(Resource, Reply),
    Handler(Handler),
    Unrouted,
}

#[derive(Debug)]
struct Route {
    resource: Resource,
    /// Requests to this path so far: the index into the script for the next one.
    served: usize,
}

impl FaultServer {
    /// Binds `127.0.0.1:0` and starts serving on a background thread.
    ///
    /// Returns once the listener is bound, so connections made right away are queued, not
    /// refused.
    ///
    /// # Panics
    ///
    /// If the loopback listener cannot be bound or the thread cannot be spawned.
    pub fn start() -> FaultServer {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("fault server: bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("fault server: make listener non-blocking");
        let addr = listener
            .local_addr()
            .expect("fault server: listener address");
        let state = Arc::new(Mutex::new(State::default()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let thread_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("fault-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .expect("fault server: build runtime");
                runtime.block_on(accept_loop(listener, thread_state, shutdown_rx));
                // Dropping the runtime drops every connection task, which closes the sockets of
                // stalled connections too.
            })
            .expect("fault server: spawn thread");
        FaultServer {
            addr,
            state,
            shutdown,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` followed by `path`, which starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `resource` at `path` (matched exactly, ignoring any query string), replacing what
    /// was there and restarting its script.
    pub fn route(&self, path: &str, resource: Resource) {
        let path = path_of(path).to_owned();
        self.lock().routes.insert(
            path,
            Route {
                resource,
                served: 0,
            },
        );
    }

    /// Stops serving `path`: later requests to it get a `404`.
    pub fn unroute(&self, path: &str) {
        self.lock().routes.remove(path_of(path));
    }

    /// Answers every request whose path (without query) starts with `prefix` by calling
    /// `handler`, replacing any handler already registered for that exact prefix.
    ///
    /// Exact [`route`](Self::route)s take precedence; among prefixes the longest match wins. The
    /// handler runs on the server thread, one request at a time, after the request has been
    /// recorded; it must not block. A panic in it is answered with a 500 that names the panic.
    pub fn handle(
        &self,
        prefix: &str,
        handler: impl Fn(&RecordedRequest) -> HandlerReply + Send + Sync + 'static,
    ) {
        let handler = Handler(Arc::new(handler));
        let mut state = self.lock();
        match state.handlers.iter_mut().find(|(p, _)| p == prefix) {
            Some((_, existing)) => *existing = handler,
            None => state.handlers.push((prefix.to_owned(), handler)),
        }
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The requests whose path, without query, equals `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.path() == path)
            .cloned()
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide what the server recorded.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for FaultServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        let mut routes: Vec<&str> = state.routes.keys().map(String::as_str).collect();
        routes.sort_unstable();
        let mut handlers: Vec<&str> = state.handlers.iter().map(|(p, _)| p.as_str()).collect();
        handlers.sort_unstable();
        f.debug_struct("FaultServer")
            .field("addr", &self.addr)
            .field("routes", &routes)
            .field("handlers", &handlers)
            .field("requests", &state.requests.len())
            .finish_non_exhaustive()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has already been reported; panicking again in drop
            // would abort the test binary.
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    state: Arc<Mutex<State>>,
    shutdown: watch::Receiver<bool>,
) {
    let listener = TcpListener::from_std(listener).expect("fault server: register listener");
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = Arc::clone(&state);
                let mut shutdown = shutdown.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = shutdown.wait_for(|stop| *stop) => {}
                        _ = serve(stream, &state) => {}
                    }
                });
            }
        }
    }
}

/// Serves requests on one connection until the client leaves or a reply ends the connection.
async fn serve(mut stream: TcpStream, state: &Mutex<State>) -> io::Result<()> {
    // Responses are written whole or in large slices; Nagle would only delay the tail.
    stream.set_nodelay(true)?;
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        let (request, close) = match read_request(&mut stream, &mut buf).await? {
            Read::Request(request, close) => (request, close),
            Read::Eof => return Ok(()),
            Read::Bad(code) => {
                let response = bad_request(code);
                write_response(&mut stream, &response, None).await?;
                return close_gracefully(stream).await;
            }
        };
        let routed = {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            // Recorded before replying, so a test sees requests whose replies stall.
            state.requests.push(request.clone());
            route(&mut state, request.path())
        };
        let (response, ending) = match &routed {
            Routed::Resource(resource, reply) => plan(Some(resource), reply, &request, close),
            // Called without the lock, so a handler may take locks of its own freely.
            Routed::Handler(handler) => {
                let head_only = request.method.eq_ignore_ascii_case("HEAD");
                let reply = handler.call(&request);
                (handler_response(&reply, head_only, close), Ending::Complete)
            }
            Routed::Unrouted => plan(None, &Reply::Ok, &request, close),
        };
        match ending {
            Ending::Complete => {
                write_response(&mut stream, &response, None).await?;
                if close {
                    return close_gracefully(stream).await;
                }
            }
            Ending::Reset(n) => {
                write_response(&mut stream, &response, Some(n)).await?;
                // SO_LINGER 0 turns the close into a RST instead of a FIN.
                socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
                drop(stream);
                return Ok(());
            }
            Ending::Short(n) => {
                write_response(&mut stream, &response, Some(n)).await?;
                return close_gracefully(stream).await;
            }
            Ending::Stall(n) => {
                write_response(&mut stream, &response, Some(n)).await?;
                return wait_for_client_close(&mut stream).await;
            }
            Ending::StallBeforeHeaders => return wait_for_client_close(&mut stream).await,
        }
    }
}

/// An exact route first (advancing its script), else the handler with the longest matching
/// prefix.
fn route(state: &mut State, path: &str) -> Routed {
    if let Some(route) = state.routes.get_mut(path) {
        let reply = route
            .resource
            .script
            .get(route.served)
            .cloned()
            .unwrap_or(Reply::Ok);
        route.served += 1;
        return Routed::Resource(route.resource.clone(), reply);
    }
    state
        .handlers
        .iter()
        .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or(Routed::Unrouted, |(_, handler)| {
            Routed::Handler(handler.clone())
        })
}

#[derive(Debug)]
enum Read {
    /// A request and whether the connection must close after its response.
    Request(RecordedRequest, bool),
    Eof,
    /// A request the server will not handle, with the status to answer before closing.
    Bad(u16),
}

async fn read_request(stream: &mut TcpStream, buf: &mut BytesMut) -> io::Result<Read> {
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(buf) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let request = RecordedRequest {
                        method: parsed.method.unwrap_or_default().to_owned(),
                        target: parsed.path.unwrap_or_default().to_owned(),
                        headers: parsed
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_owned(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect(),
                        body: Vec::new(),
                    };
                    let http10 = parsed.version == Some(0);
                    buf.advance(head_len);
                    let close = wants_close(&request, http10);
                    // No client under test sends a chunked request body; one is not worth
                    // parsing, so it ends the connection instead of desynchronising it.
                    if request.header("Transfer-Encoding").is_some() {
                        return Ok(Read::Request(request, true));
                    }
                    let length = request
                        .header("Content-Length")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .unwrap_or(0);
                    if length > MAX_BODY {
                        return Ok(Read::Bad(413));
                    }
                    let mut request = request;
                    request.body = read_body(stream, buf, length).await?;
                    return Ok(Read::Request(request, close));
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => return Ok(Read::Bad(431)),
                Err(_) => return Ok(Read::Bad(400)),
            }
            if buf.len() >= MAX_HEAD {
                return Ok(Read::Bad(431));
            }
        }
        if stream.read_buf(buf).await? == 0 {
            return Ok(Read::Eof);
        }
    }
}

fn wants_close(request: &RecordedRequest, http10: bool) -> bool {
    let has_token = |token: &str| {
        request
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Connection"))
            .flat_map(|(_, value)| value.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if http10 {
        !has_token("keep-alive")
    } else {
        has_token("close")
    }
}

/// Reads exactly `length` (at most [`MAX_BODY`]) body bytes, starting with what is buffered.
async fn read_body(stream: &mut TcpStream, buf: &mut BytesMut, length: u64) -> io::Result<Vec<u8>> {
    let length = usize::try_from(length).expect("MAX_BODY fits in usize");
    while buf.len() < length {
        if stream.read_buf(buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(buf.split_to(length).to_vec())
}

/// Writes the head and the body, or only the first `limit` body bytes (without the chunked
/// terminator) when a fault cuts the response short.
async fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    limit: Option<usize>,
) -> io::Result<()> {
    let body = match limit {
        Some(n) => &response.body[..n.min(response.body.len())],
        None => &response.body[..],
    };
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, stream);
    out.write_all(&response.head).await?;
    if response.chunked {
        for chunk in body.chunks(CHUNK) {
            out.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            out.write_all(chunk).await?;
            out.write_all(b"\r\n").await?;
        }
        if limit.is_none() {
            out.write_all(b"0\r\n\r\n").await?;
        }
    } else {
        out.write_all(body).await?;
    }
    out.flush().await
}

/// Sends FIN, then waits for the client to close its side, so that a late request from the
/// client cannot turn the close into a reset that discards the response.
async fn close_gracefully(mut stream: TcpStream) -> io::Result<()> {
    stream.shutdown().await?;
    wait_for_client_close(&mut stream).await
}

/// Holds the connection, discarding anything the client sends, until it closes. Server shutdown
/// ends the wait by dropping the task.
async fn wait_for_client_close(stream: &mut TcpStream) -> io::Result<()> {
    let mut scratch = vec![0; 8 * 1024];
    while stream.read(&mut scratch).await? != 0 {}
    Ok(())
}
