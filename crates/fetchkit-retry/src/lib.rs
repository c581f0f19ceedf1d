//! Retry decisions and writer factories: the part of a robust download that needs no network.
//!
//! **Layer 0.** Nothing in fetchkit sits below this crate, and it depends on no network crate:
//! it knows nothing of HTTP, URLs or sockets. `fetchkit-transport` builds downloads on it, and
//! any other code that retries fallible work can use it alone.
//!
//! Two ideas live here:
//!
//! - **Retry as decisions.** [`RetryPolicy::decide`] is a pure function of (attempts made, the
//!   error, time elapsed, a jitter sample) returning a [`Decision`]: retry after a delay, or give
//!   up and why. Errors say whether they are worth retrying through [`Transient`], including a
//!   server's `Retry-After` ([`parse_retry_after`]). The loop around the decisions ([`Retry`],
//!   [`RetryState`]) waits through an injected [`Sleeper`], so tests record delays instead of
//!   spending them ([`RecordingSleeper`]).
//! - **A fresh writer per attempt.** An [`AsyncWriterFactory`] is asked for a writer only after
//!   a server answered with success, and each new attempt's writer starts empty, so a retried
//!   download never mixes the bytes of two responses. A factory may also resume at an offset,
//!   and commits only after verification: [`AtomicFile`] renames its temp file over the
//!   destination then and not before.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use fetchkit_retry::{RecordingSleeper, Retry, RetryPolicy, Transient};
//!
//! #[derive(Debug)]
//! struct Flaky;
//! impl Transient for Flaky {
//!     fn is_transient(&self) -> bool { true }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let sleeper = Arc::new(RecordingSleeper::default());
//! let mut policy = RetryPolicy::default();
//! policy.jitter = false;
//! let retry = Retry::new(policy).with_sleeper(sleeper.clone());
//! let answer = retry
//!     .run(|attempt| async move { if attempt < 3 { Err(Flaky) } else { Ok(attempt) } })
//!     .await
//!     .unwrap();
//! assert_eq!(answer, 3);
//! assert_eq!(sleeper.delays(), [Duration::from_millis(100), Duration::from_millis(200)]);
//! # });
//! ```

mod atomic;
mod policy;
mod run;
mod transient;
mod writer;

pub use crate::atomic::{AtomicFile, AtomicFileWriter};
pub use crate::policy::{Decision, DelayCause, GiveUpReason, RetryPolicy};
pub use crate::run::{RecordingSleeper, Retry, RetryError, RetryState, Sleeper, TokioSleeper};
pub use crate::transient::{Transient, parse_retry_after};
pub use crate::writer::{AsyncWriterFactory, BufferTooSmall, SliceFactory, SliceWriter};
