//! Extracting a `.tar.gz` while it downloads: a writer factory whose writers feed the
//! extraction pipeline instead of a file.
//!
//! Each download attempt gets a fresh folder and a fresh extraction; an attempt that fails
//! has its extraction stopped and its folder removed before the next one starts, so a retried
//! download never mixes files from two attempts. The archive is never stored.

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf as _, Bytes, BytesMut};
use fetchkit_transport::AsyncWriterFactory;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::PollSender;

use crate::extract::{ExtractError, Extracted, Limits, extract_tar_gz};

/// Downloaded pieces waiting for the inflating thread.
const DEPTH: usize = 8;

/// Bytes gathered before they are handed over: the body arrives in pieces of a few KiB, and a
/// hand-over per piece costs a wake-up of the extraction thread each.
const PIECE: usize = 128 << 10;

/// A [`AsyncWriterFactory`] that extracts the `.tar.gz` it is given into a new folder below
/// `parent` per attempt.
pub(crate) struct TarGzExtractor {
    parent: PathBuf,
    limits: Limits,
    attempts: u32,
    current: Option<Attempt>,
    /// What the committed attempt produced.
    outcome: Option<Result<(PathBuf, Extracted), ExtractError>>,
}

struct Attempt {
    root: PathBuf,
    sender: PollSender<Bytes>,
    pending: BytesMut,
    task: JoinHandle<Result<Extracted, ExtractError>>,
}

impl TarGzExtractor {
    pub(crate) fn new(parent: &Path, limits: Limits) -> TarGzExtractor {
        TarGzExtractor {
            parent: parent.to_owned(),
            limits,
            attempts: 0,
            current: None,
            outcome: None,
        }
    }

    /// Stops the running extraction, if any, and waits for it: afterwards nothing writes
    /// below `parent`. Returns the extraction's error when it stopped on its own before the
    /// body ended, which explains a failed download better than the broken pipe the
    /// downloader saw; an extraction cut short here fails too, but that is not news.
    pub(crate) async fn stop(&mut self) -> Option<ExtractError> {
        let attempt = self.current.take()?;
        // The receiver is gone only if the extraction ended by itself.
        let ended_by_itself = attempt
            .sender
            .get_ref()
            .is_some_and(tokio::sync::mpsc::Sender::is_closed);
        drop(attempt.sender);
        let result = attempt.task.await;
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(attempt.root)).await;
        match result {
            Ok(Err(error)) if ended_by_itself => Some(error),
            _ => None,
        }
    }

    /// The extracted folder and what it holds, once the factory was committed.
    pub(crate) fn take_outcome(&mut self) -> Option<Result<(PathBuf, Extracted), ExtractError>> {
        self.outcome.take()
    }
}

impl AsyncWriterFactory for TarGzExtractor {
    type Writer<'a> = PieceWriter<'a>;

    async fn writer(&mut self, _length_hint: Option<u64>) -> io::Result<PieceWriter<'_>> {
        let _ = self.stop().await;
        self.attempts += 1;
        let root = self.parent.join(format!("unpacked-{}", self.attempts));
        std::fs::create_dir(&root)?;
        let (sender, receiver) = mpsc::channel(DEPTH);
        let limits = self.limits;
        let task_root = root.clone();
        let task = tokio::task::spawn_blocking(move || {
            extract_tar_gz(
                Pieces {
                    receiver,
                    piece: Bytes::new(),
                },
                &task_root,
                limits,
            )
        });
        let attempt = self.current.insert(Attempt {
            root,
            sender: PollSender::new(sender),
            pending: BytesMut::new(),
            task,
        });
        Ok(PieceWriter {
            sender: &mut attempt.sender,
            pending: &mut attempt.pending,
        })
    }

    async fn commit(&mut self) -> io::Result<()> {
        let Some(attempt) = self.current.take() else {
            return Err(io::Error::other("no extraction to commit"));
        };
        drop(attempt.sender);
        let result = match attempt.task.await {
            Ok(result) => result,
            Err(join) => Err(ExtractError::Io {
                path: attempt.root.clone(),
                source: io::Error::other(format!("the extraction thread failed: {join}")),
            }),
        };
        let failed = result.as_ref().err().map(ToString::to_string);
        self.outcome = Some(result.map(|extracted| (attempt.root, extracted)));
        match failed {
            None => Ok(()),
            Some(message) => Err(io::Error::other(message)),
        }
    }
}

/// One attempt's writer: writes are gathered into pieces for the extraction.
pub(crate) struct PieceWriter<'a> {
    sender: &'a mut PollSender<Bytes>,
    pending: &'a mut BytesMut,
}

impl PieceWriter<'_> {
    /// Hands the gathered bytes over, once the channel has room.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stopped = || io::Error::new(io::ErrorKind::BrokenPipe, "the extraction stopped");
        if ready!(self.sender.poll_reserve(cx)).is_err() {
            return Poll::Ready(Err(stopped()));
        }
        let piece = self.pending.split().freeze();
        Poll::Ready(self.sender.send_item(piece).map_err(|_| stopped()))
    }
}

impl AsyncWrite for PieceWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pending.len() >= PIECE {
            ready!(this.poll_send(cx))?;
        }
        if this.pending.capacity() == 0 {
            this.pending.reserve(PIECE + buf.len());
        }
        this.pending.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.pending.is_empty() {
            ready!(this.poll_send(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        // The end of the body: the extraction reads to the end of its input and finishes.
        self.get_mut().sender.close();
        Poll::Ready(Ok(()))
    }
}

/// The pieces as a blocking reader, for the extraction thread.
struct Pieces {
    receiver: mpsc::Receiver<Bytes>,
    piece: Bytes,
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let length = buf.len().min(available.len());
        buf[..length].copy_from_slice(&available[..length]);
        self.consume(length);
        Ok(length)
    }
}

/// Buffered by the pieces themselves: the inflater reads them in place, with no copy into a
/// buffer of its own.
impl BufRead for Pieces {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.piece.is_empty() {
            match self.receiver.blocking_recv() {
                Some(piece) => self.piece = piece,
                None => break,
            }
        }
        Ok(&self.piece)
    }

    fn consume(&mut self, amount: usize) {
        self.piece.advance(amount);
    }
}
