//! Streamed, verified, resumable downloads into writer factories.

use std::fmt;
use std::future::Future;
use std::io::Write as _;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use fetchkit_retry::{AsyncWriterFactory, AtomicFile, Retry, SliceFactory};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio::io::AsyncWriteExt;
use url::Url;

use crate::hashing::{HashPipeline, Hashers};
use crate::{Client, Error, ErrorKind, Expected, RedactedUrl, Sha256Digest, Sha512Digest};

/// Hears how a download advances; the CLI draws a progress bar from it. Called on the download
/// task, so implementations must be quick.
pub trait Progress: Send + Sync {
    /// A response body starts: `total` is the full length when known, `position` the bytes
    /// already kept from earlier attempts (non-zero when resuming).
    fn start(&self, total: Option<u64>, position: u64);
    /// `bytes` more bytes arrived and were written.
    fn advance(&self, bytes: u64);
}

/// Renews a download's URL between attempts. Signed URLs expire; a retry after expiry needs a
/// fresh one from whoever signed it (for example a Taskcluster object service).
pub trait Renew: Send + Sync {
    /// Called before each attempt after the first, with that attempt's number. Returns the
    /// URL to use from now on, or `None` to keep the current one.
    fn renew(
        &self,
        attempt: u32,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Url>, RenewError>> + Send + '_>>;
}

/// Renewing a URL failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RenewError {
    /// What went wrong, one line.
    pub message: String,
    /// Whether a later renewal may succeed.
    pub transient: bool,
}

/// One download: where from, what it must turn out to be, and how to report it.
#[derive(Clone)]
#[non_exhaustive]
pub struct Download {
    /// The URL to get.
    pub url: RedactedUrl,
    /// Size and digests the body must have.
    pub expected: Expected,
    /// Compute SHA-256 even when no SHA-256 is expected. Default on; turn it off when nobody
    /// reads [`Downloaded::sha256`], which saves a pass over every byte (a streamed
    /// extraction on a busy machine feels it).
    pub compute_sha256: bool,
    /// Compute SHA-512 even when no SHA-512 is expected. Default off.
    pub compute_sha512: bool,
    /// Continue interrupted transfers with range requests when the server allows. Default on.
    pub resume: bool,
    /// Progress reporting.
    pub progress: Option<Arc<dyn Progress>>,
    /// Renews the URL between attempts, when it can expire.
    pub renew: Option<Arc<dyn Renew>>,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("url", &self.url)
            .field("expected", &self.expected)
            .field("compute_sha256", &self.compute_sha256)
            .field("compute_sha512", &self.compute_sha512)
            .field("resume", &self.resume)
            .field("progress", &self.progress.is_some())
            .field("renew", &self.renew.is_some())
            .finish()
    }
}

impl Download {
    /// A download of `url`, expecting nothing in particular.
    pub fn new(url: Url) -> Download {
        Download {
            url: RedactedUrl::new(url),
            expected: Expected::default(),
            compute_sha256: true,
            compute_sha512: false,
            resume: true,
            progress: None,
            renew: None,
        }
    }

    /// Parses `url` as an `http` or `https` URL.
    pub fn parse(url: &str) -> Result<Download, Error> {
        let invalid = |reason: String| {
            Error::new(
                ErrorKind::InvalidUrl {
                    input: redact_unparsed(url),
                    reason,
                },
                None,
            )
        };
        let parsed = Url::parse(url).map_err(|error| invalid(error.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "unsupported scheme {:?} (http and https are)",
                parsed.scheme()
            )));
        }
        Ok(Download::new(parsed))
    }

    /// Expect exactly `bytes` bytes.
    pub fn size(mut self, bytes: u64) -> Download {
        self.expected.size = Some(bytes);
        self
    }

    /// Expect this SHA-256.
    pub fn sha256(mut self, digest: Sha256Digest) -> Download {
        self.expected.sha256 = Some(digest);
        self
    }

    /// Expect this SHA-512.
    pub fn sha512(mut self, digest: Sha512Digest) -> Download {
        self.expected.sha512 = Some(digest);
        self
    }

    /// Report progress to `progress`.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Download {
        self.progress = Some(progress);
        self
    }
}

/// Shows a URL that could not be parsed without what may be secret: the query, the fragment,
/// and any credentials (everything up to the *last* `@` of the authority, since a password may
/// itself contain `@`).
pub(crate) fn redact_unparsed(url: &str) -> String {
    let shown = url.split(['?', '#']).next().unwrap_or_default();
    let Some((scheme, rest)) = shown.split_once("://") else {
        return shown.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => shown.to_owned(),
    }
}

/// What a successful download delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// Length of the decoded body.
    pub size: u64,
    /// SHA-256 of the decoded body, when it was expected or asked for (the default).
    pub sha256: Option<Sha256Digest>,
    /// SHA-512 of the decoded body, when it was expected or asked for.
    pub sha512: Option<Sha512Digest>,
    /// The response's `Content-Type`, when it had one.
    pub content_type: Option<String>,
    /// Attempts made, the successful one included.
    pub attempts: u32,
    /// How many attempts continued an earlier one's bytes instead of starting over.
    pub resumes: u32,
}

/// Downloads into a fresh `Vec`.
pub async fn download_to_vec(
    client: &Client,
    retry: &Retry,
    download: &Download,
) -> Result<(Vec<u8>, Downloaded), Error> {
    let mut data = Vec::new();
    let downloaded = download_with_factory(client, retry, download, &mut data).await?;
    Ok((data, downloaded))
}

/// Downloads into `buffer`; the data is `buffer[..downloaded.size]`. A buffer too small for
/// the body is a permanent error.
pub async fn download_to_buf(
    client: &Client,
    retry: &Retry,
    download: &Download,
    buffer: &mut [u8],
) -> Result<Downloaded, Error> {
    let mut factory = SliceFactory::new(buffer);
    download_with_factory(client, retry, download, &mut factory).await
}

/// Downloads to `path` atomically: the bytes go to a temporary file beside it, which replaces
/// `path` only once size and digests are verified. On any error `path` is untouched.
pub async fn download_to_file(
    client: &Client,
    retry: &Retry,
    download: &Download,
    path: &Path,
) -> Result<Downloaded, Error> {
    let mut factory = AtomicFile::new(path);
    download_with_factory(client, retry, download, &mut factory).await
}

/// Downloads into any writer factory, retrying per `retry`; commits the factory only after the
/// body's size and digests were verified.
pub async fn download_with_factory<F: AsyncWriterFactory>(
    client: &Client,
    retry: &Retry,
    download: &Download,
    factory: &mut F,
) -> Result<Downloaded, Error> {
    let mut state = retry.begin();
    let mut resume = None;
    let mut resumes = 0;
    let mut url = download.url.clone();
    loop {
        let attempt = state.next_attempt();
        let outcome = match (&download.renew, attempt) {
            (Some(renew), 2..) => match renew.renew(attempt).await {
                Ok(Some(renewed)) => {
                    url = RedactedUrl::new(renewed);
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err(error) => Err(ErrorKind::Renew {
                    message: error.message,
                    transient: error.transient,
                }),
            },
            _ => Ok(()),
        };
        let outcome = match outcome {
            Ok(()) => {
                attempt_once(client, download, &url, factory, &mut resume, &mut resumes).await
            }
            Err(kind) => Err(kind),
        };
        match outcome {
            Ok(body) => {
                factory
                    .commit()
                    .await
                    .map_err(|source| Error::new(ErrorKind::Write { source }, Some(url.clone())))?;
                return Ok(Downloaded {
                    size: body.size,
                    sha256: body.sha256,
                    sha512: body.sha512,
                    content_type: body.content_type,
                    attempts: attempt,
                    resumes,
                });
            }
            Err(kind) => {
                tracing::debug!(%url, attempt, error = %kind, "download attempt failed");
                if let Err(gave_up) = state.failed(kind).await {
                    return Err(Error::gave_up(gave_up, &url));
                }
            }
        }
    }
}

/// Sends `request`; waiting for the response headers is bounded by the client's read
/// timeout.
pub(crate) async fn send(
    client: &Client,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, ErrorKind> {
    match tokio::time::timeout(client.read_timeout, request.send()).await {
        Err(_) => Err(ErrorKind::Stalled {
            phase: "waiting for the response headers",
            after: client.read_timeout,
        }),
        Ok(Err(error)) => Err(ErrorKind::from_reqwest(error)),
        Ok(Ok(response)) => Ok(response),
    }
}

/// The error for an unwanted status, with the server's `Retry-After` when it sent one.
pub(crate) fn status_error(status: StatusCode, headers: &HeaderMap) -> ErrorKind {
    ErrorKind::Status {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or_default().to_owned(),
        retry_after: headers
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| fetchkit_retry::parse_retry_after(value, SystemTime::now())),
    }
}

/// Whether the body is gzip-encoded; an encoding fetchkit does not decode is an error.
pub(crate) fn is_gzip(headers: &HeaderMap) -> Result<bool, ErrorKind> {
    match headers
        .get(header::CONTENT_ENCODING)
        .map(|value| value.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("" | "identity") => Ok(false),
        Some("gzip" | "x-gzip") => Ok(true),
        Some(other) => Err(ErrorKind::UnsupportedEncoding {
            encoding: other.to_owned(),
        }),
    }
}

/// Where an interrupted attempt left off, for the next one to continue.
struct ResumePoint {
    /// Decoded bytes already written and hashed.
    offset: u64,
    /// Sent as `If-Range`: the server answers with the rest only if the file did not change.
    validator: String,
    hashers: Hashers,
}

/// A verified body.
struct Body {
    size: u64,
    sha256: Option<Sha256Digest>,
    sha512: Option<Sha512Digest>,
    content_type: Option<String>,
}

enum Encoding {
    Identity,
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
}

async fn attempt_once<F: AsyncWriterFactory>(
    client: &Client,
    download: &Download,
    url: &RedactedUrl,
    factory: &mut F,
    resume: &mut Option<ResumePoint>,
    resumes: &mut u32,
) -> Result<Body, ErrorKind> {
    let mut request = client.http.get(url.expose().clone());
    if let Some(point) = resume.as_ref() {
        request = request
            .header(header::RANGE, format!("bytes={}-", point.offset))
            .header(header::IF_RANGE, &point.validator);
    }
    let response = send(client, request).await?;
    let status = response.status();
    let headers = response.headers().clone();
    if !status.is_success() {
        if status == StatusCode::RANGE_NOT_SATISFIABLE && resume.take().is_some() {
            return Err(ErrorKind::RangeMismatch {
                detail: "the server refused the range (416)".into(),
            });
        }
        return Err(status_error(status, &headers));
    }

    let mut encoding = if is_gzip(&headers)? {
        Encoding::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Vec::new())))
    } else {
        Encoding::Identity
    };
    let identity = matches!(encoding, Encoding::Identity);
    let body_length = response.content_length();

    // Decide where this attempt's bytes go: after the kept prefix (a 206 continuing our range)
    // or into a fresh writer (a 200: the server ignored or refused the range).
    let point = resume.take();
    let (offset, hashers, resumed) = if status == StatusCode::PARTIAL_CONTENT {
        let Some(point) = point else {
            return Err(ErrorKind::RangeMismatch {
                detail: "206 to a request without a range".into(),
            });
        };
        let start = content_range_start(&headers);
        if start != Some(point.offset) || !identity {
            return Err(ErrorKind::RangeMismatch {
                detail: format!(
                    "asked for bytes from {}, got {}",
                    point.offset,
                    headers
                        .get(header::CONTENT_RANGE)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("no Content-Range")
                ),
            });
        }
        (point.offset, point.hashers, true)
    } else {
        (
            0,
            Hashers::new(
                download.compute_sha256 || download.expected.sha256.is_some(),
                download.compute_sha512 || download.expected.sha512.is_some(),
            ),
            false,
        )
    };

    let total = if identity {
        body_length.map(|length| offset + length)
    } else {
        download.expected.size
    };
    if let (Some(expected), Some(total), true) = (download.expected.size, total, identity)
        && expected != total
    {
        // The server announced the wrong length: fail before writing a byte.
        return Err(ErrorKind::SizeMismatch {
            expected,
            actual: total,
            at_least: false,
        });
    }

    let writer = if resumed {
        factory.resume_writer(offset, total).await
    } else {
        factory.writer(total).await.map(Some)
    };
    let mut writer = match writer {
        Ok(Some(writer)) => {
            // Counted here, where the server's 206 was accepted: an attempt that continues
            // earlier bytes is a resume whether or not it then completes.
            *resumes += u32::from(resumed);
            writer
        }
        Ok(None) => {
            return Err(ErrorKind::RangeMismatch {
                detail: "the destination cannot continue a partial download".into(),
            });
        }
        Err(source) => return Err(ErrorKind::Write { source }),
    };

    // Resuming needs the server to honour ranges and a validator proving the bytes we keep
    // belong to the same file; a weak ETag proves nothing about bytes (RFC 9110 §13.1.5).
    let validator = headers
        .get(header::ETAG)
        .and_then(|value| value.to_str().ok())
        .filter(|etag| !etag.starts_with("W/"))
        .or_else(|| {
            headers
                .get(header::LAST_MODIFIED)
                .and_then(|value| value.to_str().ok())
        })
        .map(str::to_owned);
    let accepts_ranges = resumed
        || headers
            .get(header::ACCEPT_RANGES)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.split(',').any(|unit| unit.trim() == "bytes"));
    let resumable = download.resume && identity && accepts_ranges && validator.is_some();

    if let Some(progress) = &download.progress {
        progress.start(total, offset);
    }
    let mut hashing = HashPipeline::new(hashers);
    let mut written = offset;
    let mut received: u64 = 0;
    let mut response = response;

    let failure = loop {
        let piece = match tokio::time::timeout(client.read_timeout, response.chunk()).await {
            Err(_) => {
                break ErrorKind::Stalled {
                    phase: "reading the body",
                    after: client.read_timeout,
                };
            }
            Ok(Err(error)) => break ErrorKind::body(error, received),
            Ok(Ok(None)) => match finish_decoding(&mut encoding) {
                Ok(rest) if rest.is_empty() => {
                    // The body is complete: verify before anything is committed.
                    if let Err(source) = writer.flush().await {
                        return Err(ErrorKind::Write { source });
                    }
                    if let Err(source) = writer.shutdown().await {
                        return Err(ErrorKind::Write { source });
                    }
                    drop(writer);
                    let digests = hashing.finish().await;
                    return verify(download, written, digests, &headers);
                }
                Ok(rest) => {
                    // The decoder's last output still has to be written and hashed; feed it
                    // through the loop body once more by treating it as a final piece.
                    match deliver(
                        Bytes::from(rest),
                        download,
                        &mut writer,
                        &mut hashing,
                        &mut written,
                    )
                    .await
                    {
                        Ok(()) => continue,
                        Err(kind) => return Err(kind),
                    }
                }
                Err(source) => return Err(ErrorKind::Decode { source }),
            },
            Ok(Ok(Some(piece))) => piece,
        };
        received += piece.len() as u64;
        let piece = match &mut encoding {
            Encoding::Identity => piece,
            Encoding::Gzip(decoder) => {
                if let Err(source) = decoder.write_all(&piece) {
                    return Err(ErrorKind::Decode { source });
                }
                Bytes::from(std::mem::take(decoder.get_mut()))
            }
        };
        if let Err(kind) = deliver(piece, download, &mut writer, &mut hashing, &mut written).await {
            let _ = writer.flush().await;
            return Err(kind);
        }
    };

    // The transfer broke off. Keep what was written for the next attempt if we can prove it is
    // on the destination and the server can continue it; otherwise the next attempt restarts.
    if resumable && writer.flush().await.is_ok() {
        drop(writer);
        *resume = Some(ResumePoint {
            offset: written,
            validator: validator.expect("resumable implies a validator"),
            hashers: hashing.into_hashers().await,
        });
    } else {
        let _ = writer.flush().await;
    }
    Err(failure)
}

/// Writes one decoded piece, hashes it, and counts it, stopping a body that outgrows its
/// expected size before it fills the disk.
async fn deliver<W: tokio::io::AsyncWrite + Unpin>(
    piece: Bytes,
    download: &Download,
    writer: &mut W,
    hashing: &mut HashPipeline,
    written: &mut u64,
) -> Result<(), ErrorKind> {
    if piece.is_empty() {
        return Ok(());
    }
    let length = piece.len() as u64;
    if let Some(expected) = download.expected.size
        && *written + length > expected
    {
        return Err(ErrorKind::SizeMismatch {
            expected,
            actual: *written + length,
            at_least: true,
        });
    }
    // The writer copies the piece before returning, and the hash worker holds a reference to
    // the same buffer: the two proceed in parallel on one allocation.
    hashing.update(piece.clone()).await;
    writer
        .write_all(&piece)
        .await
        .map_err(|source| ErrorKind::Write { source })?;
    *written += length;
    if let Some(progress) = &download.progress {
        progress.advance(length);
    }
    Ok(())
}

fn finish_decoding(encoding: &mut Encoding) -> std::io::Result<Vec<u8>> {
    match encoding {
        Encoding::Identity => Ok(Vec::new()),
        Encoding::Gzip(decoder) => {
            decoder.try_finish()?;
            let rest = std::mem::take(decoder.get_mut());
            *encoding = Encoding::Identity;
            Ok(rest)
        }
    }
}

fn verify(
    download: &Download,
    size: u64,
    digests: crate::hashing::Digests,
    headers: &HeaderMap,
) -> Result<Body, ErrorKind> {
    let expected = &download.expected;
    if let Some(expected) = expected.size
        && expected != size
    {
        return Err(ErrorKind::SizeMismatch {
            expected,
            actual: size,
            at_least: false,
        });
    }
    if let (Some(sha256), Some(actual)) = (expected.sha256, digests.sha256)
        && sha256 != actual
    {
        return Err(ErrorKind::DigestMismatch {
            algorithm: Sha256Digest::ALGORITHM,
            expected: sha256.to_hex(),
            actual: actual.to_hex(),
        });
    }
    if let (Some(sha512), Some(actual)) = (expected.sha512, digests.sha512)
        && sha512 != actual
    {
        return Err(ErrorKind::DigestMismatch {
            algorithm: Sha512Digest::ALGORITHM,
            expected: sha512.to_hex(),
            actual: actual.to_hex(),
        });
    }
    Ok(Body {
        size,
        sha256: digests.sha256,
        sha512: digests.sha512,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    })
}

/// The first byte position of a `Content-Range: bytes FIRST-LAST/TOTAL` header.
fn content_range_start(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    let (first, _) = range.split_once('-')?;
    first.trim().parse().ok()
}
