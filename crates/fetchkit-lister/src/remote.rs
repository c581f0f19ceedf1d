//! The thin IO around the parser: a local file, or a download parsed while it streams in.

use std::future::Future;
use std::io::{self, Read};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use fetchkit_retry::{AsyncWriterFactory, Retry};
use fetchkit_transport::{Client, Download};
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio::sync::mpsc::OwnedPermit;
use tokio::sync::mpsc::error::SendError;
use url::Url;

use crate::archive::list_stream;
use crate::{ListError, ListOptions, Listing};

/// Lists a dump in a local `.tar.gz` file, on a blocking thread. Progress counts the file's
/// compressed bytes, against its length.
pub async fn list_from_path(
    path: impl AsRef<Path>,
    options: &ListOptions,
) -> Result<Listing, ListError> {
    let path = path.as_ref().to_owned();
    let options = options.clone();
    join(tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|source| ListError::Io {
            action: "open",
            path: path.clone(),
            source,
        })?;
        let length = file.metadata().ok().map(|metadata| metadata.len());
        if let Some(progress) = &options.progress {
            progress.start(length, 0);
        }
        list_stream(file, &options, options.progress.as_deref())
    }))
    .await
}

/// Downloads the dump through `fetchkit-transport` and parses it as it arrives, without
/// writing it to disk.
///
/// The download's bytes go through a bounded channel to the parser on a blocking thread. An
/// attempt that resumes (a range request after a broken transfer) continues the same parse;
/// an attempt that starts over starts a fresh parse. Once the parser has what it needs it
/// stops reading and the transfer is abandoned: the dump's large trailing tables are never
/// downloaded (with index metadata, the transfer goes on through `dependencies.csv`, and is
/// abandoned after it). Progress (through the transport) counts compressed bytes.
pub async fn list_from_url(
    client: &Client,
    retry: &Retry,
    url: &Url,
    options: &ListOptions,
) -> Result<Listing, ListError> {
    let mut download = Download::new(url.clone());
    if let Some(progress) = &options.progress {
        download = download.progress(progress.clone());
    }
    let mut parse_options = options.clone();
    parse_options.progress = None;
    let mut factory = StreamingParse {
        options: parse_options,
        session: None,
        outcome: None,
    };
    let downloaded =
        fetchkit_transport::download_with_factory(client, retry, &download, &mut factory).await;
    let parsed = match factory.outcome.take() {
        Some(outcome) => Some((outcome, false)),
        None => factory.close().await,
    };
    match (downloaded, parsed) {
        (Ok(_), Some((result, _))) => result,
        (Ok(_), None) => Err(ListError::Read {
            member: None,
            source: io::Error::new(io::ErrorKind::UnexpectedEof, "the download had no body"),
        }),
        // The parser had everything before the transfer ended (or failed).
        (Err(_), Some((Ok(listing), _))) => Ok(listing),
        // The parser failed on the data itself, and the transfer stopped because of that.
        (Err(_), Some((Err(error), false))) => Err(error),
        (Err(error), _) => Err(ListError::Transport(error)),
    }
}

/// Awaits a blocking parse, passing its panics on.
async fn join(
    task: tokio::task::JoinHandle<Result<Listing, ListError>>,
) -> Result<Listing, ListError> {
    match task.await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(ListError::Read {
            member: None,
            source: io::Error::other(error),
        }),
    }
}

/// The most bytes one piece carries, so the channel's bound is a bound in bytes.
const PIECE: usize = 64 << 10;

enum Piece {
    Data(Bytes),
    /// The download was verified: the parser may treat what follows as the end.
    End,
}

type Reserving = Pin<Box<dyn Future<Output = Result<OwnedPermit<Piece>, SendError<()>>> + Send>>;

/// One parse of the stream from its first byte.
struct Session {
    sender: Option<mpsc::Sender<Piece>>,
    reserving: Option<Reserving>,
    sent: u64,
    /// Set by the parser's reader when the stream ended without its end marker.
    aborted: Arc<AtomicBool>,
    parse: tokio::task::JoinHandle<Result<Listing, ListError>>,
}

/// A writer factory whose writers feed a parser.
struct StreamingParse {
    options: ListOptions,
    session: Option<Session>,
    /// How a parse ended while the download went on (complete, or failed on the data).
    outcome: Option<Result<Listing, ListError>>,
}

impl StreamingParse {
    fn start(&mut self) -> &mut Session {
        // With pieces of at most `PIECE` bytes: 1 MiB in flight.
        const PIECES_IN_FLIGHT: usize = 16;
        let (sender, pieces) = mpsc::channel(PIECES_IN_FLIGHT);
        let aborted = Arc::new(AtomicBool::new(false));
        let reader = FeedReader {
            pieces,
            current: Bytes::new(),
            ended: false,
            aborted: aborted.clone(),
        };
        let options = self.options.clone();
        let parse = tokio::task::spawn_blocking(move || list_stream(reader, &options, None));
        self.session.insert(Session {
            sender: Some(sender),
            reserving: None,
            sent: 0,
            aborted,
            parse,
        })
    }

    /// Ends the current parse (without the end marker, unless it was sent) and returns how it
    /// ended, and whether it saw the stream cut off.
    async fn close(&mut self) -> Option<(Result<Listing, ListError>, bool)> {
        let mut session = self.session.take()?;
        session.reserving = None;
        session.sender = None;
        let result = join(session.parse).await;
        Some((result, session.aborted.load(Ordering::SeqCst)))
    }
}

fn parse_stopped() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the listing stopped reading the dump",
    )
}

impl AsyncWriterFactory for StreamingParse {
    type Writer<'a>
        = FeedWriter<'a>
    where
        Self: 'a;

    async fn writer(&mut self, _length_hint: Option<u64>) -> io::Result<FeedWriter<'_>> {
        // A fresh attempt: the stream restarts from its first byte, so must the parse, unless
        // the previous parse already ended on its own.
        if let Some((result, aborted)) = self.close().await
            && (result.is_ok() || !aborted)
        {
            self.outcome = Some(result);
        }
        if self.outcome.is_some() {
            return Err(parse_stopped());
        }
        Ok(FeedWriter {
            session: self.start(),
        })
    }

    async fn resume_writer(
        &mut self,
        offset: u64,
        _length_hint: Option<u64>,
    ) -> io::Result<Option<FeedWriter<'_>>> {
        match &mut self.session {
            Some(session) if session.sent == offset && session.sender.is_some() => {
                Ok(Some(FeedWriter { session }))
            }
            _ => Ok(None),
        }
    }

    async fn commit(&mut self) -> io::Result<()> {
        if let Some(session) = &mut self.session {
            session.reserving = None;
            if let Some(sender) = session.sender.take() {
                // A parser that already stopped needs no end marker.
                let _ = sender.send(Piece::End).await;
            }
        }
        Ok(())
    }
}

/// Writes into the current session's channel.
struct FeedWriter<'a> {
    session: &'a mut Session,
}

impl AsyncWrite for FeedWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let session = &mut *self.get_mut().session;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if let Some(reserving) = session.reserving.as_mut() {
                let permit = ready!(reserving.as_mut().poll(cx));
                session.reserving = None;
                return Poll::Ready(match permit {
                    Ok(permit) => {
                        let data = &data[..data.len().min(PIECE)];
                        permit.send(Piece::Data(Bytes::copy_from_slice(data)));
                        session.sent += data.len() as u64;
                        Ok(data.len())
                    }
                    Err(_) => Err(parse_stopped()),
                });
            }
            let Some(sender) = session.sender.clone() else {
                return Poll::Ready(Err(parse_stopped()));
            };
            session.reserving = Some(Box::pin(sender.reserve_owned()));
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The parser's side: a blocking reader over the channel.
struct FeedReader {
    pieces: mpsc::Receiver<Piece>,
    current: Bytes,
    ended: bool,
    aborted: Arc<AtomicBool>,
}

impl Read for FeedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.pieces.blocking_recv() {
                Some(Piece::Data(data)) => self.current = data,
                Some(Piece::End) => self.ended = true,
                None => {
                    self.aborted.store(true, Ordering::SeqCst);
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the download stopped before the end of the dump",
                    ));
                }
            }
        }
        let length = buf.len().min(self.current.len());
        buf[..length].copy_from_slice(&self.current.split_to(length));
        Ok(length)
    }
}
