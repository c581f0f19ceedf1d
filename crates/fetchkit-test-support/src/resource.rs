use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

/// What one request to a routed path receives instead of (or as a corruption of) the normal
/// response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// Serve normally: 200, or 206 for a satisfiable range when ranges are on.
    Ok,
    /// That status with a short text body; the connection stays usable.
    Status(u16),
    /// That status plus `Retry-After: <value>`, sent verbatim.
    StatusWithRetryAfter(u16, String),
    /// That status (301/302/307/308) with `Location: <value>`.
    Redirect(u16, String),
    /// Normal headers, the first N body bytes, then a TCP reset.
    ResetAfter(usize),
    /// Normal headers with the full length, the first N body bytes, then a clean close.
    ShortBody(usize),
    /// Normal headers, the first N body bytes, then silence until the client or server goes away.
    StallAfter(usize),
    /// Read the request and never answer.
    StallBeforeHeaders,
    /// Normal headers and length, but the body has bytes flipped at index 0 and len/2.
    WrongBytes,
}

/// A body served at one path, with the HTTP features it advertises and a per-request script of
/// faults.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The bytes on the wire: already gzip-compressed when `gzip` is set, so ranges and faults
    /// apply to what the client actually receives.
    pub(crate) body: Bytes,
    pub(crate) ranges: bool,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) gzip: bool,
    pub(crate) chunked: bool,
    pub(crate) headers: Vec<(String, String)>,
    /// Shared so that handing a snapshot of the resource to a connection does not copy it.
    pub(crate) script: Arc<[Reply]>,
}

impl Resource {
    /// A 200 response with `Content-Length`, without range support or validators.
    pub fn new(body: impl Into<Bytes>) -> Resource {
        Resource {
            body: body.into(),
            ranges: false,
            etag: None,
            last_modified: None,
            content_type: None,
            gzip: false,
            chunked: false,
            headers: Vec::new(),
            script: Arc::from(Vec::new()),
        }
    }

    /// Advertises `Accept-Ranges: bytes` and honours `Range` (206/416) and `If-Range`.
    pub fn ranges(mut self, yes: bool) -> Self {
        self.ranges = yes;
        self
    }

    /// Sends `ETag: <etag>`; pass it quoted, e.g. `"\"v1\""`. A request whose
    /// `If-None-Match` names it gets a `304`.
    pub fn etag(mut self, etag: &str) -> Self {
        self.etag = Some(etag.to_owned());
        self
    }

    /// Sends `Last-Modified: <http_date>`, verbatim. A request without `If-None-Match` whose
    /// `If-Modified-Since` is not earlier gets a `304`.
    pub fn last_modified(mut self, http_date: &str) -> Self {
        self.last_modified = Some(http_date.to_owned());
        self
    }

    /// Sends `Content-Type: <ct>`.
    pub fn content_type(mut self, ct: &str) -> Self {
        self.content_type = Some(ct.to_owned());
        self
    }

    /// Serves the gzip-compressed body with `Content-Encoding: gzip`.
    ///
    /// Compression happens here, once, rather than per request, so large bodies cost nothing
    /// extra on each attempt.
    pub fn gzip(mut self) -> Self {
        if !self.gzip {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder
                .write_all(&self.body)
                .expect("gzip into a Vec cannot fail");
            self.body = Bytes::from(encoder.finish().expect("gzip into a Vec cannot fail"));
            self.gzip = true;
        }
        self
    }

    /// Frames the body with `Transfer-Encoding: chunked` instead of `Content-Length`.
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    /// Adds a response header to every reply for this resource.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The Nth request to this path gets `replies[N]`; later requests get [`Reply::Ok`].
    pub fn script(mut self, replies: impl IntoIterator<Item = Reply>) -> Self {
        self.script = replies.into_iter().collect();
        self
    }
}
