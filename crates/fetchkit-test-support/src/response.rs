//! What to send for one request: a pure function of the resource, the scripted reply and the
//! request, so the socket code only has to carry it out.

use std::fmt::Write as _;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};

use crate::handler::HandlerReply;
use crate::request::RecordedRequest;
use crate::resource::{Reply, Resource};

/// The bytes of one response, before any fault cuts them short.
#[derive(Debug)]
pub(crate) struct Response {
    /// Status line and headers, including the blank line.
    pub(crate) head: Vec<u8>,
    /// The payload without transfer framing; empty for HEAD.
    pub(crate) body: Bytes,
    pub(crate) chunked: bool,
}

/// How the connection ends after the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The whole response goes out and the connection may serve another request.
    Complete,
    /// The first N payload bytes, then RST.
    Reset(usize),
    /// The first N payload bytes, then FIN.
    Short(usize),
    /// The first N payload bytes, then nothing.
    Stall(usize),
    /// Nothing at all, not even the head.
    StallBeforeHeaders,
}

/// Plans the response to `request`. `resource` is `None` for an unrouted path.
pub(crate) fn plan(
    resource: Option<&Resource>,
    reply: &Reply,
    request: &RecordedRequest,
    close: bool,
) -> (Response, Ending) {
    let head_only = request.method.eq_ignore_ascii_case("HEAD");
    let Some(resource) = resource else {
        return (
            text_status(None, 404, &[], head_only, close),
            Ending::Complete,
        );
    };
    let (code, extra): (u16, Vec<(&str, &str)>) = match reply {
        Reply::Status(code) => (*code, Vec::new()),
        Reply::StatusWithRetryAfter(code, value) => (*code, vec![("Retry-After", value.as_str())]),
        Reply::Redirect(code, location) => (*code, vec![("Location", location.as_str())]),
        Reply::Ok
        | Reply::ResetAfter(_)
        | Reply::ShortBody(_)
        | Reply::StallAfter(_)
        | Reply::StallBeforeHeaders
        | Reply::WrongBytes => {
            let ending = match reply {
                Reply::ResetAfter(n) => Ending::Reset(*n),
                Reply::ShortBody(n) => Ending::Short(*n),
                Reply::StallAfter(n) => Ending::Stall(*n),
                Reply::StallBeforeHeaders => Ending::StallBeforeHeaders,
                _ => Ending::Complete,
            };
            if not_modified(resource, request) {
                return (
                    text_status(Some(resource), 304, &[], head_only, close),
                    Ending::Complete,
                );
            }
            let mut response = normal(resource, request, head_only, close);
            if *reply == Reply::WrongBytes {
                response.body = corrupt(&response.body);
            }
            return (response, ending);
        }
    };
    (
        text_status(Some(resource), code, &extra, head_only, close),
        Ending::Complete,
    )
}

/// The answer to a request the server cannot parse; the connection closes after it.
pub(crate) fn bad_request(code: u16) -> Response {
    text_status(None, code, &[], false, true)
}

/// The response a handler asked for: sent whole, framed by `Content-Length` unless the status
/// never carries a body.
pub(crate) fn handler_response(reply: &HandlerReply, head_only: bool, close: bool) -> Response {
    let mut head = status_line(reply.status);
    for (name, value) in &reply.headers {
        header(&mut head, name, value);
    }
    let bodyless = reply.status < 200 || reply.status == 204 || reply.status == 304;
    if !bodyless && reply.header_value("Content-Length").is_none() {
        header(&mut head, "Content-Length", &reply.body.len().to_string());
    }
    finish(&mut head, close);
    Response {
        head: head.into_bytes(),
        body: if head_only || bodyless {
            Bytes::new()
        } else {
            reply.body.clone()
        },
        chunked: false,
    }
}

/// Which part of the body a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selection {
    Full,
    /// Inclusive byte positions.
    Part(usize, usize),
    Unsatisfiable,
}

fn normal(
    resource: &Resource,
    request: &RecordedRequest,
    head_only: bool,
    close: bool,
) -> Response {
    let total = resource.body.len();
    let selection = if resource.ranges {
        select(resource, request)
    } else {
        Selection::Full
    };
    let (code, body) = match selection {
        Selection::Full => (200, resource.body.clone()),
        Selection::Part(first, last) => (206, resource.body.slice(first..=last)),
        Selection::Unsatisfiable => (416, Bytes::new()),
    };
    // A 416 has no representation to frame, so it always says its (empty) length.
    let chunked = resource.chunked && code != 416;
    let mut head = status_line(code);
    if let Some(ct) = &resource.content_type {
        header(&mut head, "Content-Type", ct);
    }
    if let Some(etag) = &resource.etag {
        header(&mut head, "ETag", etag);
    }
    if let Some(date) = &resource.last_modified {
        header(&mut head, "Last-Modified", date);
    }
    if resource.ranges {
        header(&mut head, "Accept-Ranges", "bytes");
    }
    if resource.gzip && code != 416 {
        header(&mut head, "Content-Encoding", "gzip");
    }
    match selection {
        Selection::Full => {}
        Selection::Part(first, last) => {
            header(
                &mut head,
                "Content-Range",
                &format!("bytes {first}-{last}/{total}"),
            );
        }
        Selection::Unsatisfiable => {
            header(&mut head, "Content-Range", &format!("bytes */{total}"));
        }
    }
    extra_headers(&mut head, resource);
    if chunked {
        header(&mut head, "Transfer-Encoding", "chunked");
    } else {
        header(&mut head, "Content-Length", &body.len().to_string());
    }
    finish(&mut head, close);
    Response {
        head: head.into_bytes(),
        body: if head_only { Bytes::new() } else { body },
        chunked,
    }
}

fn text_status(
    resource: Option<&Resource>,
    code: u16,
    extra: &[(&str, &str)],
    head_only: bool,
    close: bool,
) -> Response {
    let mut head = status_line(code);
    // A 304 stands in for the resource, so it repeats the validators the client compares.
    if code == 304
        && let Some(resource) = resource
    {
        if let Some(etag) = &resource.etag {
            header(&mut head, "ETag", etag);
        }
        if let Some(date) = &resource.last_modified {
            header(&mut head, "Last-Modified", date);
        }
    }
    for (name, value) in extra {
        header(&mut head, name, value);
    }
    if let Some(resource) = resource {
        extra_headers(&mut head, resource);
    }
    // These statuses never carry a body, and a length would make clients wait for one.
    let bodyless = code < 200 || code == 204 || code == 304;
    let body = if bodyless {
        Bytes::new()
    } else {
        header(&mut head, "Content-Type", "text/plain; charset=utf-8");
        let text = Bytes::from(format!("{code} {}\n", reason(code)));
        header(&mut head, "Content-Length", &text.len().to_string());
        text
    };
    finish(&mut head, close);
    Response {
        head: head.into_bytes(),
        body: if head_only { Bytes::new() } else { body },
        chunked: false,
    }
}

/// Whether a conditional request gets a `304` (RFC 9110 13.1.2 and 13.1.3): `If-None-Match`
/// naming the resource's ETag (weakly compared) or `*`; else, without `If-None-Match`,
/// `If-Modified-Since` at or after the resource's `Last-Modified`.
fn not_modified(resource: &Resource, request: &RecordedRequest) -> bool {
    if let Some(tags) = request.header("If-None-Match") {
        let Some(etag) = &resource.etag else {
            return false;
        };
        let weak = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
        return tags
            .split(',')
            .any(|tag| tag.trim() == "*" || weak(tag) == weak(etag));
    }
    match (request.header("If-Modified-Since"), &resource.last_modified) {
        (Some(since), Some(modified)) => {
            match (
                httpdate::parse_http_date(since),
                httpdate::parse_http_date(modified),
            ) {
                (Ok(since), Ok(modified)) => modified <= since,
                _ => false,
            }
        }
        _ => false,
    }
}

/// Applies `Range` and `If-Range` the way RFC 9110 asks: anything the server does not
/// understand, and any stale `If-Range`, means the full body.
fn select(resource: &Resource, request: &RecordedRequest) -> Selection {
    let Some(range) = request.header("Range") else {
        return Selection::Full;
    };
    if let Some(validator) = request.header("If-Range") {
        let validator = validator.trim();
        let matches_etag = resource.etag.as_deref() == Some(validator);
        let matches_date = resource.last_modified.as_deref() == Some(validator);
        if !(matches_etag || matches_date) {
            return Selection::Full;
        }
    }
    parse_range(range, resource.body.len())
}

fn parse_range(value: &str, total: usize) -> Selection {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Selection::Full;
    };
    // Multipart responses are out of scope; the full body is a valid answer to several ranges.
    if spec.contains(',') {
        return Selection::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Selection::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let Ok(suffix) = last.parse::<usize>() else {
            return Selection::Full;
        };
        if suffix == 0 || total == 0 {
            return Selection::Unsatisfiable;
        }
        return Selection::Part(total.saturating_sub(suffix), total - 1);
    }
    let Ok(first) = first.parse::<usize>() else {
        return Selection::Full;
    };
    let last = if last.is_empty() {
        usize::MAX
    } else {
        match last.parse::<usize>() {
            Ok(last) if last >= first => last,
            _ => return Selection::Full,
        }
    };
    if first >= total {
        return Selection::Unsatisfiable;
    }
    Selection::Part(first, last.min(total - 1))
}

fn corrupt(body: &Bytes) -> Bytes {
    if body.is_empty() {
        return body.clone();
    }
    let mut bytes = BytesMut::from(&body[..]);
    let len = bytes.len();
    bytes[0] ^= 0xFF;
    if len / 2 != 0 {
        bytes[len / 2] ^= 0xFF;
    }
    bytes.freeze()
}

fn status_line(code: u16) -> String {
    let mut head = format!("HTTP/1.1 {code} {}\r\n", reason(code));
    header(
        &mut head,
        "Date",
        &httpdate::fmt_http_date(SystemTime::now()),
    );
    head
}

fn extra_headers(head: &mut String, resource: &Resource) {
    for (name, value) in &resource.headers {
        header(head, name, value);
    }
}

fn header(head: &mut String, name: &str, value: &str) {
    let _ = write!(head, "{name}: {value}\r\n");
}

fn finish(head: &mut String, close: bool) {
    if close {
        header(head, "Connection", "close");
    }
    head.push_str("\r\n");
}

fn reason(code: u16) -> &'static str {
    canonical_reason(code).unwrap_or(match code {
        100..=199 => "Informational",
        200..=299 => "Success",
        300..=399 => "Redirection",
        400..=499 => "Client Error",
        _ => "Server Error",
    })
}

fn canonical_reason(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        424 => "Failed Dependency",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::{Selection, parse_range};

    #[track_caller]
    fn check(value: &str, total: usize, expected: Selection) {
        assert_eq!(
            parse_range(value, total),
            expected,
            "Range: {value} of {total}"
        );
    }

    #[test]
    fn ranges() {
        check("bytes=0-", 10, Selection::Part(0, 9));
        check("bytes=4-", 10, Selection::Part(4, 9));
        check("bytes=2-5", 10, Selection::Part(2, 5));
        check("bytes=2-500", 10, Selection::Part(2, 9));
        check("bytes=-3", 10, Selection::Part(7, 9));
        check("bytes=-30", 10, Selection::Part(0, 9));
        check("bytes=10-", 10, Selection::Unsatisfiable);
        check("bytes=0-", 0, Selection::Unsatisfiable);
        check("bytes=-0", 10, Selection::Unsatisfiable);
        check("bytes=5-2", 10, Selection::Full);
        check("bytes=0-1,4-5", 10, Selection::Full);
        check("items=0-1", 10, Selection::Full);
        check("bytes=x-", 10, Selection::Full);
    }
}
