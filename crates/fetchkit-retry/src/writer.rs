//! Writer factories: a fresh destination per attempt, so a retried download never mixes bytes.

use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncSeekExt, AsyncWrite, AsyncWriteExt};

/// Hands out the writer for each attempt of a download.
///
/// The downloader asks for a writer only after the server answered with a success status, so
/// an error page never reaches the destination. Each call to [`writer`](Self::writer) discards
/// whatever earlier attempts wrote; [`resume_writer`](Self::resume_writer) keeps the first
/// `offset` bytes instead. [`commit`](Self::commit) is called once, after the data was verified.
///
/// The downloader flushes each writer before it drops it, successful or not.
pub trait AsyncWriterFactory: Send {
    /// The writer of one attempt; it may borrow the factory.
    type Writer<'a>: AsyncWrite + Unpin + Send + 'a
    where
        Self: 'a;

    /// An empty writer for a new attempt. `length_hint` is the body length when the server
    /// said it; a factory that cannot hold that many bytes should fail here, before any
    /// transfer.
    fn writer(
        &mut self,
        length_hint: Option<u64>,
    ) -> impl Future<Output = io::Result<Self::Writer<'_>>> + Send;

    /// A writer that continues after the first `offset` bytes of the previous attempts, or
    /// `None` when this factory cannot resume (the downloader then starts over).
    fn resume_writer(
        &mut self,
        offset: u64,
        length_hint: Option<u64>,
    ) -> impl Future<Output = io::Result<Option<Self::Writer<'_>>>> + Send {
        let _ = (offset, length_hint);
        async { Ok(None) }
    }

    /// Makes the last attempt's bytes final. Called only after size and digests were verified.
    fn commit(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        async { Ok(()) }
    }
}

/// A `Vec<u8>`, cleared for each attempt.
impl AsyncWriterFactory for Vec<u8> {
    type Writer<'a> = &'a mut Vec<u8>;

    async fn writer(&mut self, length_hint: Option<u64>) -> io::Result<&mut Vec<u8>> {
        self.clear();
        if let Some(hint) = length_hint.and_then(|hint| usize::try_from(hint).ok()) {
            // A hint is only a hint: cap the up-front reservation so a lying server cannot
            // make us allocate gigabytes before sending a byte.
            self.reserve(hint.min(64 << 20));
        }
        Ok(self)
    }

    async fn resume_writer(
        &mut self,
        offset: u64,
        _length_hint: Option<u64>,
    ) -> io::Result<Option<&mut Vec<u8>>> {
        match usize::try_from(offset) {
            Ok(offset) if offset <= self.len() => {
                self.truncate(offset);
                Ok(Some(self))
            }
            _ => Ok(None),
        }
    }
}

/// A caller's buffer, filled from the start for each attempt.
///
/// Writing past its end is an error (`BufferTooSmall` inside an [`io::Error`]), never a panic
/// and never a silently cut download.
#[derive(Debug)]
pub struct SliceFactory<'b> {
    buffer: &'b mut [u8],
    filled: usize,
}

impl<'b> SliceFactory<'b> {
    /// Writes into `buffer`.
    pub fn new(buffer: &'b mut [u8]) -> SliceFactory<'b> {
        SliceFactory { buffer, filled: 0 }
    }

    /// How many bytes the last attempt wrote.
    pub fn filled(&self) -> usize {
        self.filled
    }

    /// The bytes the last attempt wrote.
    pub fn into_filled(self) -> &'b mut [u8] {
        &mut self.buffer[..self.filled]
    }
}

/// The buffer handed to a [`SliceFactory`] cannot hold the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("buffer of {capacity} bytes is too small for at least {needed} bytes")]
pub struct BufferTooSmall {
    /// The buffer's length.
    pub capacity: usize,
    /// How many bytes were needed, at least.
    pub needed: u64,
}

impl BufferTooSmall {
    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::StorageFull, self)
    }
}

impl AsyncWriterFactory for SliceFactory<'_> {
    type Writer<'a>
        = SliceWriter<'a>
    where
        Self: 'a;

    async fn writer(&mut self, length_hint: Option<u64>) -> io::Result<SliceWriter<'_>> {
        self.filled = 0;
        if let Some(needed) = length_hint
            && needed > self.buffer.len() as u64
        {
            return Err(BufferTooSmall {
                capacity: self.buffer.len(),
                needed,
            }
            .into_io());
        }
        Ok(SliceWriter {
            buffer: self.buffer,
            filled: &mut self.filled,
        })
    }

    async fn resume_writer(
        &mut self,
        offset: u64,
        _length_hint: Option<u64>,
    ) -> io::Result<Option<SliceWriter<'_>>> {
        if offset > self.filled as u64 {
            return Ok(None);
        }
        self.filled = offset as usize;
        Ok(Some(SliceWriter {
            buffer: self.buffer,
            filled: &mut self.filled,
        }))
    }
}

/// The writer of a [`SliceFactory`].
#[derive(Debug)]
pub struct SliceWriter<'a> {
    buffer: &'a mut [u8],
    filled: &'a mut usize,
}

impl AsyncWrite for SliceWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let start = *this.filled;
        let Some(room) = this.buffer.get_mut(start..start + data.len()) else {
            return Poll::Ready(Err(BufferTooSmall {
                capacity: this.buffer.len(),
                needed: (start + data.len()) as u64,
            }
            .into_io()));
        };
        room.copy_from_slice(data);
        *this.filled += data.len();
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// An open file, truncated and rewound for each attempt. The file is the caller's: it is
/// written from its start, and [`commit`](AsyncWriterFactory::commit) flushes it.
impl AsyncWriterFactory for tokio::fs::File {
    type Writer<'a> = &'a mut tokio::fs::File;

    async fn writer(&mut self, _length_hint: Option<u64>) -> io::Result<&mut tokio::fs::File> {
        // Flushing first waits for a write the previous attempt may still have in flight on the
        // blocking pool; truncating before it lands would let old bytes reappear.
        self.flush().await?;
        self.set_len(0).await?;
        self.seek(SeekFrom::Start(0)).await?;
        Ok(self)
    }

    async fn resume_writer(
        &mut self,
        offset: u64,
        _length_hint: Option<u64>,
    ) -> io::Result<Option<&mut tokio::fs::File>> {
        self.flush().await?;
        if self.metadata().await?.len() < offset {
            return Ok(None);
        }
        self.set_len(offset).await?;
        self.seek(SeekFrom::Start(offset)).await?;
        Ok(Some(self))
    }

    async fn commit(&mut self) -> io::Result<()> {
        self.flush().await
    }
}
