//! Small documents fetched whole, with a validator from an earlier fetch so that an
//! unchanged one costs a `304` (what a sparse registry index needs).

use std::io::Write as _;

use reqwest::{StatusCode, header};

use crate::download::{is_gzip, send, status_error};
use crate::{Client, Error, ErrorKind, RedactedUrl, Retry};

/// What the caller has from an earlier fetch of the same URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Validator {
    /// The `ETag` it came with: sent as `If-None-Match`.
    ETag(String),
    /// The `Last-Modified` it came with: sent as `If-Modified-Since`.
    LastModified(String),
}

/// How a conditional fetch ended. Exhaustive on purpose: a caller must handle every outcome,
/// so a new one would be a breaking change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// `200`: the whole body (decoded when the server gzipped it) and its validators.
    Body {
        /// The body.
        body: Vec<u8>,
        /// The `ETag` header, verbatim.
        etag: Option<String>,
        /// The `Last-Modified` header, verbatim.
        last_modified: Option<String>,
    },
    /// `304`: what the caller has is current.
    NotModified,
    /// One of the statuses the caller said mean "there is no such document" (for a sparse
    /// index: 404, 410 and 451).
    Missing {
        /// The status.
        status: u16,
    },
}

/// Fetches `url` whole, retrying transient failures per `retry`. `validator` makes the
/// request conditional; `missing` lists statuses that mean the document does not exist
/// (they end the fetch at once, without retries); `Accept-Encoding: gzip` is always sent.
/// Bodies larger than `limit` bytes (decoded) fail, permanently.
pub async fn fetch_conditional(
    client: &Client,
    retry: &Retry,
    url: &RedactedUrl,
    validator: Option<&Validator>,
    missing: &[u16],
    limit: u64,
) -> Result<Fetched, Error> {
    let mut state = retry.begin();
    loop {
        state.next_attempt();
        match attempt(client, url, validator, missing, limit).await {
            Ok(fetched) => return Ok(fetched),
            Err(kind) => {
                tracing::debug!(%url, error = %kind, "conditional fetch attempt failed");
                if let Err(gave_up) = state.failed(kind).await {
                    return Err(Error::gave_up(gave_up, url));
                }
            }
        }
    }
}

async fn attempt(
    client: &Client,
    url: &RedactedUrl,
    validator: Option<&Validator>,
    missing: &[u16],
    limit: u64,
) -> Result<Fetched, ErrorKind> {
    let mut request = client
        .http
        .get(url.expose().clone())
        .header(header::ACCEPT_ENCODING, "gzip");
    request = match validator {
        Some(Validator::ETag(etag)) => request.header(header::IF_NONE_MATCH, etag),
        Some(Validator::LastModified(date)) => request.header(header::IF_MODIFIED_SINCE, date),
        None => request,
    };
    let mut response = send(client, request).await?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if missing.contains(&status.as_u16()) {
        return Ok(Fetched::Missing {
            status: status.as_u16(),
        });
    }
    let headers = response.headers().clone();
    if status != StatusCode::OK {
        return Err(status_error(status, &headers));
    }
    let gzip = is_gzip(&headers)?;
    let too_large = |actual: u64| ErrorKind::SizeMismatch {
        expected: limit,
        actual,
        at_least: true,
    };
    let mut raw = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(client.read_timeout, response.chunk()).await {
            Err(_) => {
                return Err(ErrorKind::Stalled {
                    phase: "reading the body",
                    after: client.read_timeout,
                });
            }
            Ok(Err(error)) => return Err(ErrorKind::body(error, raw.len() as u64)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        raw.extend_from_slice(&chunk);
        if raw.len() as u64 > limit {
            return Err(too_large(raw.len() as u64));
        }
    }
    let body = if gzip {
        let mut decoder = flate2::write::MultiGzDecoder::new(LimitedVec {
            bytes: Vec::new(),
            limit,
        });
        decoder
            .write_all(&raw)
            .and_then(|()| decoder.try_finish())
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::FileTooLarge => too_large(limit + 1),
                _ => ErrorKind::Decode { source },
            })?;
        decoder
            .finish()
            .map_err(|source| ErrorKind::Decode { source })?
            .bytes
    } else {
        raw
    };
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    Ok(Fetched::Body {
        body,
        etag: text(header::ETAG),
        last_modified: text(header::LAST_MODIFIED),
    })
}

/// A `Vec` that refuses to grow past `limit` bytes: a small gzip body cannot inflate without
/// bound.
struct LimitedVec {
    bytes: Vec<u8>,
    limit: u64,
}

impl std::io::Write for LimitedVec {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.bytes.len() + buf.len()) as u64 > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "decoded body over the limit",
            ));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
