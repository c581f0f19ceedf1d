//! `.tar.gz` extraction as a two-stage pipeline: one thread inflates, the calling thread reads
//! tar headers and writes files. Inflating and writing each take about half the time of a
//! sequential extraction, so on two cores the pipeline takes about as long as the slower one.

use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use flate2::bufread::MultiGzDecoder;
use tar::EntryType;
use tokio_util::sync::CancellationToken;

use super::{ExtractError, Extracted, Limits, Writer, shown};

/// Inflated bytes handed from the inflating thread to the writing one at a time.
const CHUNK: usize = 256 << 10;

/// Chunks in flight between the two threads.
const DEPTH: usize = 8;

/// Extracts the gzip-compressed tar archive read from `input` into the existing, empty folder
/// `root`. The input is read to its end, so a stream feeding it (a download) completes.
pub fn extract_tar_gz<R: BufRead + Send>(
    input: R,
    root: &Path,
    limits: Limits,
) -> Result<Extracted, ExtractError> {
    extract_tar_gz_until(input, root, limits, None)
}

/// [`extract_tar_gz`], stopped with [`ExtractError::Interrupted`] when `cancel` is cancelled.
pub(crate) fn extract_tar_gz_until<R: BufRead + Send>(
    input: R,
    root: &Path,
    limits: Limits,
    cancel: Option<CancellationToken>,
) -> Result<Extracted, ExtractError> {
    let compressed = AtomicU64::new(0);
    let inflate_failure = Mutex::new(None);
    let (sender, receiver) = sync_channel(DEPTH);
    // Read chunks go back to be filled again: a fresh zeroed chunk for each 256 KiB would mean
    // zeroing as many bytes as the archive unpacks to.
    let (recycle, recycled) = sync_channel(DEPTH + 2);
    let (compressed_count, failure_slot) = (&compressed, &inflate_failure);
    let result = std::thread::scope(|scope| {
        scope.spawn(move || {
            let counted = Counted {
                inner: input,
                count: compressed_count,
            };
            if let Err(error) = inflate(counted, &sender, &recycled) {
                *failure_slot
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(error);
            }
            drop(sender);
            drop(recycled);
        });
        let chunks = Chunks {
            receiver,
            recycle,
            chunk: Vec::new(),
            position: 0,
            ended: false,
        };
        untar(chunks, root, limits, cancel, &|| {
            compressed.load(Ordering::Relaxed)
        })
        // `chunks` is dropped here, so an inflating thread still sending stops.
    });
    // A broken gzip stream makes the tar reader fail too; the gzip error is the cause.
    match inflate_failure
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
    {
        Some(error) if result.is_err() => Err(error),
        _ => result,
    }
}

enum Message {
    Data(Vec<u8>),
    End,
}

/// Inflates `input` to its end, sending full chunks. A receiver that hung up means the tar
/// side failed; that is its error to report, not this thread's.
fn inflate(
    input: impl BufRead,
    sender: &SyncSender<Message>,
    recycled: &Receiver<Vec<u8>>,
) -> Result<(), ExtractError> {
    let mut decoder = MultiGzDecoder::new(input);
    loop {
        let mut chunk = recycled.try_recv().unwrap_or_default();
        // A recycled chunk is usually full length already, so this zeroes nothing.
        chunk.resize(CHUNK, 0);
        let mut filled = 0;
        while filled < CHUNK {
            match decoder.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    return Err(ExtractError::Corrupt {
                        format: "gzip",
                        message: error.to_string(),
                    });
                }
            }
        }
        if filled == 0 {
            let _ = sender.send(Message::End);
            return Ok(());
        }
        chunk.truncate(filled);
        if sender.send(Message::Data(chunk)).is_err() {
            return Ok(());
        }
    }
}

/// Counts the compressed bytes read, for the ratio limit.
struct Counted<'a, R> {
    inner: R,
    count: &'a AtomicU64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

impl<R: BufRead> BufRead for Counted<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.count.fetch_add(amount as u64, Ordering::Relaxed);
        self.inner.consume(amount);
    }
}

/// The inflated stream, read from the chunks the inflating thread sends.
struct Chunks {
    receiver: Receiver<Message>,
    recycle: SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    position: usize,
    ended: bool,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            match self.receiver.recv() {
                Ok(Message::Data(chunk)) => {
                    let done = std::mem::replace(&mut self.chunk, chunk);
                    let _ = self.recycle.try_send(done);
                    self.position = 0;
                }
                Ok(Message::End) => self.ended = true,
                // The inflating thread stopped without finishing: its error says why.
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the compressed stream broke off",
                    ));
                }
            }
        }
        let length = buf.len().min(self.chunk.len() - self.position);
        buf[..length].copy_from_slice(&self.chunk[self.position..self.position + length]);
        self.position += length;
        Ok(length)
    }
}

fn untar(
    mut input: Chunks,
    root: &Path,
    limits: Limits,
    cancel: Option<CancellationToken>,
    compressed: &dyn Fn() -> u64,
) -> Result<Extracted, ExtractError> {
    let corrupt = |error: io::Error| ExtractError::Corrupt {
        format: "tar",
        message: error.to_string(),
    };
    let mut writer = Writer::new(root, "tar", limits, cancel);
    {
        let mut archive = tar::Archive::new(&mut input);
        for entry in archive.entries().map_err(corrupt)? {
            let mut entry = entry.map_err(corrupt)?;
            let kind = entry.header().entry_type();
            if matches!(
                kind,
                EntryType::XGlobalHeader
                    | EntryType::XHeader
                    | EntryType::GNULongName
                    | EntryType::GNULongLink
            ) {
                continue;
            }
            writer.count_entry()?;
            let name = entry.path_bytes().into_owned();
            match kind {
                EntryType::Regular | EntryType::Continuous => {
                    let mode = entry.header().mode().ok();
                    writer.file(&name, mode, &mut entry, compressed)?;
                }
                EntryType::Directory => writer.folder(&name)?,
                EntryType::Symlink | EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|target| target.into_owned())
                        .unwrap_or_default();
                    if kind == EntryType::Symlink {
                        writer.symlink(&name, &target)?;
                    } else {
                        writer.hard_link(&name, &target)?;
                    }
                }
                EntryType::Char | EntryType::Block => {
                    return Err(unsupported(&name, "device file"));
                }
                EntryType::Fifo => return Err(unsupported(&name, "FIFO")),
                EntryType::GNUSparse => return Err(unsupported(&name, "sparse file")),
                _ => return Err(unsupported(&name, "entry of an unknown type")),
            }
        }
    }
    // Read past the end-of-archive blocks to the end of the stream, so the gzip trailer is
    // checked and whoever feeds the input sees it all consumed.
    io::copy(&mut input, &mut io::sink()).map_err(corrupt)?;
    writer.finish()
}

fn unsupported(name: &[u8], kind: &'static str) -> ExtractError {
    ExtractError::Unsupported {
        entry: shown(name),
        kind,
    }
}
