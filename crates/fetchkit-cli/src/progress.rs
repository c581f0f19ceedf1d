//! The progress bar: indicatif on stderr, fed by the library's `Progress` reports, or by
//! [`Counting`] around a writer factory where the library takes no `Progress`.

use std::io::{self, IsTerminal as _};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use fetchkit::retry::AsyncWriterFactory;
use fetchkit::transport::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncWrite;

const KNOWN_LENGTH: &str =
    "{wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}";
const UNKNOWN_LENGTH: &str = "{spinner} {binary_bytes} {binary_bytes_per_sec} {elapsed}";

/// A byte progress bar on stderr.
#[derive(Debug)]
pub(crate) struct Bar(ProgressBar);

impl Bar {
    /// A bar when stderr is a terminal and the user did not ask for quiet; `None` otherwise
    /// (a bar in a log file or a pipe is noise).
    pub(crate) fn for_stderr(quiet: bool) -> Option<Bar> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(style(UNKNOWN_LENGTH));
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(Bar(bar))
    }

    /// The indicatif handle, for hiding the bar while a log line is written.
    pub(crate) fn handle(&self) -> &ProgressBar {
        &self.0
    }

    /// Removes the bar from the screen.
    pub(crate) fn clear(&self) {
        self.0.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("progress templates are fixed and valid")
        .progress_chars("=> ")
}

impl Progress for Bar {
    fn start(&self, total: Option<u64>, position: u64) {
        match total {
            Some(total) => {
                self.0.set_style(style(KNOWN_LENGTH));
                self.0.set_length(total);
            }
            None => {
                self.0.set_style(style(UNKNOWN_LENGTH));
                self.0.unset_length();
            }
        }
        self.0.set_position(position);
        // A new attempt: the rate and ETA of the previous one say nothing about this one.
        self.0.reset_eta();
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

/// A writer factory that reports to a bar what its writers write. The Taskcluster downloads
/// take a factory but no `Progress`; the library announces every attempt through the factory
/// (`writer` or `resume_writer`, with the same total it would give `Progress::start`), so the
/// bar sees what it would have seen.
#[derive(Debug)]
pub(crate) struct Counting<F> {
    inner: F,
    bar: Option<Arc<Bar>>,
}

impl<F> Counting<F> {
    /// `inner`, reporting to `bar` when there is one.
    pub(crate) fn new(inner: F, bar: Option<Arc<Bar>>) -> Counting<F> {
        Counting { inner, bar }
    }
}

impl<F: AsyncWriterFactory> AsyncWriterFactory for Counting<F> {
    type Writer<'a>
        = CountingWriter<'a, F::Writer<'a>>
    where
        Self: 'a;

    async fn writer(&mut self, length_hint: Option<u64>) -> io::Result<Self::Writer<'_>> {
        let writer = self.inner.writer(length_hint).await?;
        if let Some(bar) = &self.bar {
            bar.start(length_hint, 0);
        }
        Ok(CountingWriter {
            inner: writer,
            bar: self.bar.as_deref(),
        })
    }

    async fn resume_writer(
        &mut self,
        offset: u64,
        length_hint: Option<u64>,
    ) -> io::Result<Option<Self::Writer<'_>>> {
        let Some(writer) = self.inner.resume_writer(offset, length_hint).await? else {
            return Ok(None);
        };
        if let Some(bar) = &self.bar {
            bar.start(length_hint, offset);
        }
        Ok(Some(CountingWriter {
            inner: writer,
            bar: self.bar.as_deref(),
        }))
    }

    async fn commit(&mut self) -> io::Result<()> {
        self.inner.commit().await
    }
}

/// The writer of one attempt, advancing the bar by what the inner writer accepted.
#[derive(Debug)]
pub(crate) struct CountingWriter<'a, W> {
    inner: W,
    bar: Option<&'a Bar>,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CountingWriter<'_, W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, data);
        if let (Poll::Ready(Ok(written)), Some(bar)) = (&poll, this.bar) {
            bar.advance(*written as u64);
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, data);
        if let (Poll::Ready(Ok(written)), Some(bar)) = (&poll, this.bar) {
            bar.advance(*written as u64);
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid() {
        style(KNOWN_LENGTH);
        style(UNKNOWN_LENGTH);
    }

    #[tokio::test]
    async fn counting_reports_attempts_and_bytes() {
        use tokio::io::AsyncWriteExt as _;

        let bar = Arc::new(Bar(ProgressBar::hidden()));
        let mut factory = Counting::new(Vec::new(), Some(bar.clone()));
        factory
            .writer(Some(10))
            .await
            .unwrap()
            .write_all(b"abcd")
            .await
            .unwrap();
        assert_eq!((bar.0.position(), bar.0.length()), (4, Some(10)));
        // A resumed attempt starts at its offset; a fresh one at zero, of unknown length.
        let mut writer = factory.resume_writer(2, Some(10)).await.unwrap().unwrap();
        assert_eq!(bar.0.position(), 2);
        writer.write_all(b"cdefghij").await.unwrap();
        assert_eq!(bar.0.position(), 10);
        assert_eq!(factory.inner, b"abcdefghij");
        factory.writer(None).await.unwrap();
        assert_eq!((bar.0.position(), bar.0.length()), (0, None));
    }
}
