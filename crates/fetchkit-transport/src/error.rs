//! Download errors: what failed, where, after how much trying, and whether trying again helps.

use std::fmt;
use std::io;
use std::time::Duration;

use fetchkit_retry::{GiveUpReason, Transient};

use crate::RedactedUrl;

/// A failed download or request, with its context: the (redacted) URL, how many attempts were
/// made and for how long, and why the last attempt failed ([`Error::kind`]).
#[derive(Debug)]
pub struct Error(Box<Context>);

// Boxed: errors travel through many `Result`s, and most of them are never the error case.
#[derive(Debug)]
struct Context {
    kind: ErrorKind,
    url: Option<RedactedUrl>,
    attempts: u32,
    elapsed: Duration,
    gave_up: Option<GiveUpReason>,
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL could not be parsed or cannot be downloaded from.
    #[error("invalid URL {input:?}: {reason}")]
    InvalidUrl {
        /// The text given, with anything after `?` and any credentials removed.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be set up (for example, no TLS roots).
    #[error("cannot set up the HTTP client: {message}")]
    Client {
        /// What went wrong.
        message: String,
    },
    /// No connection could be made.
    #[error("connection failed: {message}")]
    Connect {
        /// The root cause, as the operating system or TLS layer said it.
        message: String,
    },
    /// The request failed before a response arrived, for another reason than connecting.
    #[error("request failed: {message}")]
    Request {
        /// The root cause.
        message: String,
    },
    /// Redirects went on past the client's limit (or could not be followed).
    #[error("redirect failed: {message}")]
    Redirect {
        /// The root cause.
        message: String,
    },
    /// Nothing arrived for longer than the read timeout.
    #[error("no data for {:.1}s while {phase}", .after.as_secs_f64())]
    Stalled {
        /// What we were waiting for.
        phase: &'static str,
        /// The timeout that expired.
        after: Duration,
    },
    /// The server answered with a status other than success.
    #[error("HTTP {status}{}{reason}", if .reason.is_empty() { "" } else { " " })]
    Status {
        /// The status code.
        status: u16,
        /// The canonical reason phrase, when the code has one.
        reason: String,
        /// The server's `Retry-After`, when it sent one we could read.
        retry_after: Option<Duration>,
    },
    /// The response body broke off.
    #[error("body interrupted after {received} bytes: {message}")]
    Body {
        /// Bytes of the body received in this attempt before the failure.
        received: u64,
        /// The root cause.
        message: String,
    },
    /// The server sent a `206` whose range is not the one asked for, or answered a resume
    /// request it could not satisfy; the next attempt starts over.
    #[error("the server's partial response does not continue the download: {detail}")]
    RangeMismatch {
        /// What did not fit.
        detail: String,
    },
    /// The body used a `Content-Encoding` fetchkit does not decode.
    #[error("unsupported content encoding {encoding:?}")]
    UnsupportedEncoding {
        /// The header value.
        encoding: String,
    },
    /// The gzip-encoded body could not be decoded.
    #[error("cannot decode the gzip body: {source}")]
    Decode {
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// The body's length is not the expected one.
    #[error("size mismatch: expected {expected} bytes, got {actual}{}", if *.at_least { " or more" } else { "" })]
    SizeMismatch {
        /// What the caller expected.
        expected: u64,
        /// What arrived, or what the server announced.
        actual: u64,
        /// The transfer was stopped once it passed the expected size.
        at_least: bool,
    },
    /// The body's digest is not the expected one.
    #[error("{algorithm} mismatch: expected {expected} got {actual}")]
    DigestMismatch {
        /// `sha256` or `sha512`.
        algorithm: &'static str,
        /// The expected digest, hex.
        expected: String,
        /// The digest of what arrived, hex.
        actual: String,
    },
    /// A URL that expired could not be renewed.
    #[error("cannot renew the URL: {message}")]
    Renew {
        /// What went wrong.
        message: String,
        /// Whether a later renewal may succeed.
        transient: bool,
    },
    /// Writing to the destination failed.
    #[error("cannot write the destination: {source}")]
    Write {
        /// The writer's error.
        #[source]
        source: io::Error,
    },
}

impl ErrorKind {
    /// Whether the same request may succeed if tried again.
    pub fn is_transient(&self) -> bool {
        match self {
            ErrorKind::Connect { .. }
            | ErrorKind::Request { .. }
            | ErrorKind::Stalled { .. }
            | ErrorKind::Body { .. }
            | ErrorKind::RangeMismatch { .. } => true,
            ErrorKind::Status { status, .. } => status_is_transient(*status),
            ErrorKind::Renew { transient, .. } => *transient,
            ErrorKind::InvalidUrl { .. }
            | ErrorKind::Client { .. }
            | ErrorKind::Redirect { .. }
            | ErrorKind::UnsupportedEncoding { .. }
            | ErrorKind::Decode { .. }
            | ErrorKind::SizeMismatch { .. }
            | ErrorKind::DigestMismatch { .. }
            | ErrorKind::Write { .. } => false,
        }
    }

    pub(crate) fn from_reqwest(error: reqwest::Error) -> ErrorKind {
        // reqwest's own message embeds the full URL, secrets and all; keep only the root cause.
        let (redirect, connect) = (error.is_redirect(), error.is_connect());
        let message = root_cause(&error.without_url());
        if redirect {
            ErrorKind::Redirect { message }
        } else if connect {
            ErrorKind::Connect { message }
        } else {
            ErrorKind::Request { message }
        }
    }

    pub(crate) fn body(error: reqwest::Error, received: u64) -> ErrorKind {
        ErrorKind::Body {
            received,
            message: root_cause(&error.without_url()),
        }
    }
}

/// 5xx, 408 (request timeout) and 429 (too many requests) can change on their own; other
/// statuses are the server's considered answer.
pub fn status_is_transient(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// The innermost message of an error chain, which names the actual cause ("connection reset
/// by peer") where the outer layers only say which layer noticed.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let text = cause.to_string();
    let mut chars = text.chars();
    match chars.next() {
        // One-line, lower-case messages, as everywhere else in fetchkit.
        Some(first) => first
            .to_lowercase()
            .chain(chars)
            .collect::<String>()
            .replace('\n', " "),
        None => "unknown error".into(),
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, url: Option<RedactedUrl>) -> Error {
        Error(Box::new(Context {
            kind,
            url,
            attempts: 1,
            elapsed: Duration::ZERO,
            gave_up: None,
        }))
    }

    pub(crate) fn after_retries(
        kind: ErrorKind,
        url: RedactedUrl,
        attempts: u32,
        elapsed: Duration,
        reason: GiveUpReason,
    ) -> Error {
        Error(Box::new(Context {
            kind,
            url: Some(url),
            attempts,
            elapsed,
            gave_up: Some(reason),
        }))
    }

    /// The error of a retry loop that gave up on `url`.
    pub(crate) fn gave_up(
        gave_up: fetchkit_retry::RetryError<ErrorKind>,
        url: &RedactedUrl,
    ) -> Error {
        Error::after_retries(
            gave_up.error,
            url.clone(),
            gave_up.attempts,
            gave_up.elapsed,
            gave_up.reason,
        )
    }

    /// Why the last attempt failed.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The URL, redacted, when the error concerns one.
    pub fn url(&self) -> Option<&RedactedUrl> {
        self.0.url.as_ref()
    }

    /// How many attempts were made.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// Time from the first attempt to giving up.
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed
    }

    /// The HTTP status of the last answer, when that is what failed.
    pub fn status(&self) -> Option<u16> {
        match self.0.kind {
            ErrorKind::Status { status, .. } => Some(status),
            _ => None,
        }
    }

    /// Whether the same request may succeed if tried again later.
    pub fn is_transient(&self) -> bool {
        self.0.kind.is_transient()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(url) = &self.0.url {
            write!(f, "{url}: ")?;
        }
        match self.0.gave_up {
            Some(GiveUpReason::AttemptsExhausted | GiveUpReason::TimeBudgetExhausted)
                if self.0.attempts > 1 =>
            {
                write!(
                    f,
                    "gave up after {} attempts in {:.1}s: {}",
                    self.0.attempts,
                    self.0.elapsed.as_secs_f64(),
                    self.0.kind
                )
            }
            _ if self.0.attempts > 1 => {
                write!(f, "{} (on attempt {})", self.0.kind, self.0.attempts)
            }
            _ => self.0.kind.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0.kind)
    }
}

impl Transient for ErrorKind {
    fn is_transient(&self) -> bool {
        ErrorKind::is_transient(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ErrorKind::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl Transient for Error {
    fn is_transient(&self) -> bool {
        self.0.kind.is_transient()
    }

    fn retry_after(&self) -> Option<Duration> {
        Transient::retry_after(&self.0.kind)
    }
}
