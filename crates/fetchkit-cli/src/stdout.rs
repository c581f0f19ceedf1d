//! `-o -`: the download streamed to stdout as it arrives.
//!
//! Stdout cannot be rewound, so this factory can continue an interrupted transfer only at the
//! exact byte where it stopped (a range request), and refuses to start over once bytes went
//! out. Verification still happens at the end, and a mismatch still exits non-zero, but the
//! bytes already written cannot be taken back: a consumer must wait for the exit status.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use fetchkit::retry::AsyncWriterFactory;
use tokio::io::{AsyncWrite, AsyncWriteExt as _};

/// Writes every attempt to a stream (stdout, or a device or pipe named by `-o`), counting what
/// went out.
pub(crate) struct StdoutFactory {
    stdout: Pin<Box<dyn AsyncWrite + Send>>,
    written: u64,
}

impl std::fmt::Debug for StdoutFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdoutFactory")
            .field("written", &self.written)
            .finish()
    }
}

impl StdoutFactory {
    pub(crate) fn new() -> StdoutFactory {
        StdoutFactory {
            stdout: Box::pin(tokio::io::stdout()),
            written: 0,
        }
    }

    /// Streams to an existing path that is not a regular file, opened for writing in place.
    pub(crate) async fn open(path: &std::path::Path) -> io::Result<StdoutFactory> {
        let file = tokio::fs::OpenOptions::new().write(true).open(path).await?;
        Ok(StdoutFactory {
            stdout: Box::pin(file),
            written: 0,
        })
    }
}

impl AsyncWriterFactory for StdoutFactory {
    type Writer<'a> = StdoutWriter<'a>;

    async fn writer(&mut self, _length_hint: Option<u64>) -> io::Result<StdoutWriter<'_>> {
        if self.written > 0 {
            return Err(io::Error::other(
                "cannot restart a download already streamed to stdout",
            ));
        }
        Ok(StdoutWriter { factory: self })
    }

    async fn resume_writer(
        &mut self,
        offset: u64,
        _length_hint: Option<u64>,
    ) -> io::Result<Option<StdoutWriter<'_>>> {
        if offset != self.written {
            return Err(io::Error::other(format!(
                "cannot continue at byte {offset} a download streamed to stdout up to byte {}",
                self.written
            )));
        }
        Ok(Some(StdoutWriter { factory: self }))
    }

    async fn commit(&mut self) -> io::Result<()> {
        self.stdout.flush().await
    }
}

/// The writer of one attempt.
#[derive(Debug)]
pub(crate) struct StdoutWriter<'a> {
    factory: &'a mut StdoutFactory,
}

impl AsyncWrite for StdoutWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let factory = &mut *self.get_mut().factory;
        let poll = factory.stdout.as_mut().poll_write(cx, data);
        if let Poll::Ready(Ok(written)) = poll {
            factory.written += written as u64;
        }
        poll
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().factory.stdout.as_mut().poll_flush(cx)
    }

    /// Ends an attempt, not the stream: stdout stays open for a resumed attempt.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
