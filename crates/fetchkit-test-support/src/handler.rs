//! Dynamic routes: a function of the request instead of a fixed [`Resource`](crate::Resource).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::request::RecordedRequest;

/// What a handler registered with [`FaultServer::handle`](crate::FaultServer::handle) answers:
/// a status, headers and a body, always sent whole with `Content-Length`.
///
/// ```
/// use fetchkit_test_support::HandlerReply;
///
/// let reply = HandlerReply::json(404, &serde_json::json!({"code": "ResourceNotFound"}))
///     .header("X-Request-Id", "7");
/// assert_eq!(reply.code(), 404);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerReply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

impl HandlerReply {
    /// That status with an empty body.
    pub fn status(code: u16) -> HandlerReply {
        HandlerReply {
            status: code,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// That status with `value` as the body and `Content-Type: application/json;
    /// charset=utf-8`, the way the Taskcluster services send it.
    pub fn json(code: u16, value: &serde_json::Value) -> HandlerReply {
        HandlerReply::status(code)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(value.to_string())
    }

    /// That status with `text` as the body and `Content-Type: text/plain; charset=utf-8`.
    pub fn text(code: u16, text: &str) -> HandlerReply {
        HandlerReply::status(code)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(text.to_owned())
    }

    /// Adds a response header, sent verbatim after `Date`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the body. It is not sent for HEAD requests or for 1xx, 204 and 304 replies.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub fn code(&self) -> u16 {
        self.status
    }

    /// The first header called `name`, compared case-insensitively.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }
}

/// A registered handler; shared so that a connection can call it without holding the server's
/// lock.
#[derive(Clone)]
pub(crate) struct Handler(pub(crate) Arc<HandlerFn>);

pub(crate) type HandlerFn = dyn Fn(&RecordedRequest) -> HandlerReply + Send + Sync + 'static;

impl Handler {
    /// Calls the handler; a panic becomes a 500 whose body says so, because a panic on the
    /// server thread would otherwise only show up as a dropped connection in the test.
    pub(crate) fn call(&self, request: &RecordedRequest) -> HandlerReply {
        let handler = &self.0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(request))) {
            Ok(reply) => reply,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".to_owned());
                HandlerReply::text(
                    500,
                    &format!(
                        "fault server: handler for {} {} panicked: {message}\n",
                        request.method, request.target
                    ),
                )
            }
        }
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(..)")
    }
}
