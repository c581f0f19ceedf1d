//! How an error says whether trying again can help.

use std::io;
use std::time::{Duration, SystemTime};

/// An error that knows whether it is transient (worth retrying) or permanent.
pub trait Transient {
    /// True when the same request may succeed if tried again: connection failures, resets,
    /// timeouts, server overload. False for answers that will not change: not found, a digest
    /// mismatch, a full disk.
    fn is_transient(&self) -> bool;

    /// How long the server asked us to wait before trying again, if it said.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

impl<E: Transient + ?Sized> Transient for &E {
    fn is_transient(&self) -> bool {
        (**self).is_transient()
    }

    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
}

impl<E: Transient + ?Sized> Transient for Box<E> {
    fn is_transient(&self) -> bool {
        (**self).is_transient()
    }

    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
}

/// I/O errors of the network kind are transient; errors of the local system (permissions, a
/// missing directory, a full disk) are not.
impl Transient for io::Error {
    fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionRefused
                | io::ErrorKind::NotConnected
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::TimedOut
                | io::ErrorKind::Interrupted
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::WouldBlock
        )
    }
}

/// Parses an HTTP `Retry-After` value: either delay seconds (`"120"`) or an HTTP date, which is
/// measured from `now`. A date in the past means "now" (zero). Anything else is `None`: an
/// unreadable header must not stall or break a retry loop.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // Saturate rather than fail on absurd values; the policy caps them anyway.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}
