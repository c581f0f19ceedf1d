//! The atomic file factory: a temp file beside the destination, written by a thread of its own,
//! renamed over the destination only on commit.

use std::fs::File;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::PollSender;

use crate::AsyncWriterFactory;

/// Size of the blocks handed to the writer thread.
const BUFFER: usize = 1 << 20;

/// Alignment of blocks in memory and in the file, as direct I/O requires (4 KiB covers the
/// logical block size of every common device).
const ALIGN: usize = 4096;

/// Buffers queued for the writer thread. The network keeps receiving while this much waits
/// for the disk; the buffers are recycled, so memory stays at this bound.
const QUEUE: usize = 8;

/// How much is handed to writeback at a time (Linux): large enough that the hints cost nothing
/// measurable, small enough that the final fsync has little left to do.
const WRITEBACK_WINDOW: u64 = 8 << 20;

/// Writes to a temporary file beside `destination` and renames it over the destination only
/// on [`commit`](AsyncWriterFactory::commit), after an fsync. Until then the destination keeps
/// its old content (or stays absent); if the factory is dropped uncommitted, the temporary file
/// is removed.
///
/// Writing is done by a blocking thread fed through a short queue of recycled buffers, so the
/// caller (typically a socket reader) never waits for the disk unless the disk falls a whole
/// queue behind. On Linux the thread also hands finished ranges to the kernel's writeback as
/// it goes, so the fsync at commit waits for the last few megabytes rather than the whole file
/// (for 1 GiB: 0.01 s instead of 0.3 s here), and a large download does not pile up dirty pages.
#[derive(Debug)]
pub struct AtomicFile {
    destination: PathBuf,
    temp: Option<Temp>,
    committed: bool,
}

#[derive(Debug)]
struct Temp {
    file: Arc<File>,
    path: tempfile::TempPath,
    spool: Spool,
}

/// The temp file opened a second time for direct I/O, where the platform and file system
/// allow it: whole aligned blocks then go from our buffers to the device without a copy into
/// the page cache, which on a large download is most of the kernel's work.
fn open_direct(path: &Path) -> Option<File> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::WRONLY | OFlags::DIRECT | OFlags::CLOEXEC;
        rustix::fs::open(path, flags, Mode::empty())
            .ok()
            .map(File::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

impl AtomicFile {
    /// Prepares to write `destination`. Nothing is created until the first attempt gets a
    /// writer, so a request that fails before any data leaves no trace.
    pub fn new(destination: impl Into<PathBuf>) -> AtomicFile {
        AtomicFile {
            destination: destination.into(),
            temp: None,
            committed: false,
        }
    }

    /// The final path.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// Where the bytes go until commit, once an attempt has started.
    pub fn temp_path(&self) -> Option<&Path> {
        self.temp.as_ref().map(|temp| temp.path.as_ref())
    }

    async fn temp(&mut self) -> io::Result<&mut Temp> {
        if self.committed {
            return Err(io::Error::other(format!(
                "{} was already committed",
                self.destination.display()
            )));
        }
        if self.temp.is_none() {
            // Renaming over a device node or a pipe would replace it with a plain file (think
            // of `/dev/null`): such destinations are written in place by the caller, not here.
            if let Ok(metadata) = tokio::fs::metadata(&self.destination).await
                && !metadata.is_file()
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is not a regular file; refusing to replace it",
                        self.destination.display()
                    ),
                ));
            }
            let folder = match self.destination.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let name = self
                .destination
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Same folder as the destination: the final rename never crosses file systems.
            let (named, direct) = blocking(move || {
                let prefix = format!(".{name}.");
                let mut builder = tempfile::Builder::new();
                builder.prefix(&prefix).suffix(".part");
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    // As an ordinary new file would be (the umask still applies), not 0600.
                    builder.permissions(std::fs::Permissions::from_mode(0o666));
                }
                let named = builder.tempfile_in(folder)?;
                let direct = open_direct(named.path());
                Ok((named, direct))
            })
            .await?;
            let (file, path) = named.into_parts();
            let file = Arc::new(file);
            let direct = direct.map(Arc::new);
            self.temp = Some(Temp {
                spool: Spool::new(Arc::clone(&file), direct),
                file,
                path,
            });
        }
        Ok(self.temp.as_mut().expect("created above"))
    }
}

impl AsyncWriterFactory for AtomicFile {
    type Writer<'a> = AtomicFileWriter<'a>;

    async fn writer(&mut self, _length_hint: Option<u64>) -> io::Result<AtomicFileWriter<'_>> {
        let temp = self.temp().await?;
        // Whatever the last attempt still had queued must land before the truncation, or old
        // bytes could reappear after it. Its errors belonged to that attempt.
        let _ = temp.spool.drain().await;
        let file = Arc::clone(&temp.file);
        blocking(move || file.set_len(0)).await?;
        temp.spool.restart_at(0);
        Ok(AtomicFileWriter {
            spool: &mut temp.spool,
        })
    }

    async fn resume_writer(
        &mut self,
        offset: u64,
        _length_hint: Option<u64>,
    ) -> io::Result<Option<AtomicFileWriter<'_>>> {
        if self.temp.is_none() {
            return Ok(None);
        }
        let temp = self.temp().await?;
        // The kept prefix must really be on the file: a failed write means starting over.
        if temp.spool.drain().await.is_err() {
            return Ok(None);
        }
        let file = Arc::clone(&temp.file);
        let kept = blocking(move || -> io::Result<bool> {
            if file.metadata()?.len() < offset {
                return Ok(false);
            }
            file.set_len(offset)?;
            Ok(true)
        })
        .await?;
        if !kept {
            return Ok(None);
        }
        temp.spool.restart_at(offset);
        Ok(Some(AtomicFileWriter {
            spool: &mut temp.spool,
        }))
    }

    async fn commit(&mut self) -> io::Result<()> {
        let Some(mut temp) = self.temp.take() else {
            return Err(io::Error::other(format!(
                "nothing was written for {}",
                self.destination.display()
            )));
        };
        temp.spool.drain().await?;
        temp.spool.stop().await;
        let destination = self.destination.clone();
        blocking(move || -> io::Result<()> {
            temp.file.sync_all()?;
            temp.path
                .persist(&destination)
                .map_err(|error| error.error)?;
            sync_parent(&destination)
        })
        .await?;
        self.committed = true;
        Ok(())
    }
}

/// The writer of an [`AtomicFile`]: fills buffers for its writer thread.
#[derive(Debug)]
pub struct AtomicFileWriter<'a> {
    spool: &'a mut Spool,
}

impl AsyncWrite for AtomicFileWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().spool.poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().spool.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().spool.poll_flush(cx)
    }
}

/// What the writer thread is asked to do.
enum Job {
    /// Write this block at this offset, then recycle it.
    Write { offset: u64, block: Block },
    /// Answer once every earlier job is done, with the first error since the last answer.
    Drain(oneshot::Sender<io::Result<()>>),
}

/// A buffer whose bytes start at an [`ALIGN`]ed address, so it can be written with direct I/O.
struct Block {
    memory: Vec<u8>,
    start: usize,
    len: usize,
    /// How many bytes this block takes before it is full: [`BUFFER`], or less for the first
    /// block after an unaligned offset, so that the blocks after it start aligned in the file.
    limit: usize,
}

impl Block {
    fn new() -> Block {
        let memory = vec![0u8; BUFFER + ALIGN];
        let start = memory.as_ptr().align_offset(ALIGN).min(ALIGN);
        Block {
            memory,
            start,
            len: 0,
            limit: BUFFER,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.memory[self.start..self.start + self.len]
    }

    fn is_full(&self) -> bool {
        self.len == self.limit
    }

    fn fill(&mut self, data: &[u8]) -> usize {
        let taken = data.len().min(self.limit - self.len);
        let at = self.start + self.len;
        self.memory[at..at + taken].copy_from_slice(&data[..taken]);
        self.len += taken;
        taken
    }
}

/// The async half of the writer thread: the buffer being filled, the queue, the recycled
/// buffers, and the thread itself (started on the first buffer that needs writing).
struct Spool {
    file: Arc<File>,
    direct: Option<Arc<File>>,
    queue: Option<PollSender<Job>>,
    worker: Option<tokio::task::JoinHandle<()>>,
    filling: Option<Block>,
    /// Offset of `filling`'s first byte in the file.
    offset: u64,
    recycled: Arc<Mutex<Vec<Block>>>,
    /// Set by the writer thread when a write failed, so the writer stops taking data at once
    /// instead of at the next flush (a full disk must not cost the rest of the download).
    failed: Arc<AtomicBool>,
    draining: Option<oneshot::Receiver<io::Result<()>>>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("offset", &self.offset)
            .field(
                "filling",
                &self.filling.as_ref().map_or(0, |block| block.len),
            )
            .field("running", &self.worker.is_some())
            .finish()
    }
}

impl Spool {
    fn new(file: Arc<File>, direct: Option<Arc<File>>) -> Spool {
        Spool {
            file,
            direct,
            queue: None,
            worker: None,
            filling: None,
            offset: 0,
            recycled: Arc::new(Mutex::new(Vec::new())),
            failed: Arc::new(AtomicBool::new(false)),
            draining: None,
        }
    }

    fn restart_at(&mut self, offset: u64) {
        if let Some(block) = self.filling.take() {
            self.recycle(block);
        }
        self.offset = offset;
        self.draining = None;
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if self.failed.load(Ordering::Acquire) {
            // Collect the error the thread kept.
            ready!(self.poll_flush(cx))?;
        }
        if self.filling.as_ref().is_some_and(Block::is_full) {
            ready!(self.poll_send_filling(cx))?;
        }
        let offset = self.offset;
        let block = match &mut self.filling {
            Some(block) => block,
            empty => {
                let mut block = self
                    .recycled
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pop()
                    .unwrap_or_else(Block::new);
                block.len = 0;
                // After an unaligned offset (a resume), end this block where the file's next
                // aligned block starts.
                block.limit = BUFFER - (offset % ALIGN as u64) as usize;
                empty.insert(block)
            }
        };
        Poll::Ready(Ok(block.fill(data)))
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.filling.as_ref().is_some_and(|block| block.len > 0) {
            ready!(self.poll_send_filling(cx))?;
        }
        if self.draining.is_none() {
            let (answer, answered) = oneshot::channel();
            ready!(self.poll_send(cx, Job::Drain(answer)))?;
            self.draining = Some(answered);
        }
        let answered = self.draining.as_mut().expect("set above");
        let result = ready!(Pin::new(answered).poll(cx))
            .unwrap_or_else(|_| Err(io::Error::other("the file writer thread stopped")));
        self.draining = None;
        Poll::Ready(result)
    }

    /// Waits until every queued write is done; returns the first error among them.
    async fn drain(&mut self) -> io::Result<()> {
        if self.queue.is_none() && self.filling.as_ref().is_none_or(|block| block.len == 0) {
            return Ok(());
        }
        std::future::poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Ends the writer thread, after [`Spool::drain`].
    async fn stop(&mut self) {
        self.queue = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.await;
        }
    }

    fn poll_send_filling(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_reserve(cx))?;
        let block = self.filling.take().expect("a block is being filled");
        let offset = self.offset;
        self.offset += block.len as u64;
        self.send_reserved(Job::Write { offset, block })
    }

    fn poll_send(&mut self, cx: &mut Context<'_>, job: Job) -> Poll<io::Result<()>> {
        ready!(self.poll_reserve(cx))?;
        self.send_reserved(job)
    }

    fn poll_reserve(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let queue = self.queue.get_or_insert_with(|| {
            let (sender, jobs) = mpsc::channel(QUEUE);
            let file = Arc::clone(&self.file);
            let direct = self.direct.clone();
            let recycled = Arc::clone(&self.recycled);
            let failed = Arc::clone(&self.failed);
            self.worker = Some(tokio::task::spawn_blocking(move || {
                write_jobs(&file, direct.as_deref(), jobs, &recycled, &failed);
            }));
            PollSender::new(sender)
        });
        Poll::Ready(ready!(queue.poll_reserve(cx)).map_err(|_| stopped()))
    }

    fn send_reserved(&mut self, job: Job) -> Poll<io::Result<()>> {
        let queue = self.queue.as_mut().expect("reserved");
        Poll::Ready(queue.send_item(job).map_err(|_| stopped()))
    }

    fn recycle(&self, block: Block) {
        recycle(&self.recycled, block);
    }
}

fn recycle(recycled: &Mutex<Vec<Block>>, block: Block) {
    let mut recycled = recycled.lock().unwrap_or_else(|e| e.into_inner());
    if recycled.len() <= QUEUE {
        recycled.push(block);
    }
}

fn stopped() -> io::Error {
    io::Error::other("the file writer thread stopped")
}

/// The writer thread: positional writes (so a restart needs no seek, only a truncate), direct
/// I/O for whole aligned blocks where available, the first error kept until the next drain,
/// blocks handed back for reuse, and writeback started on ranges written through the cache.
fn write_jobs(
    file: &File,
    mut direct: Option<&File>,
    mut jobs: mpsc::Receiver<Job>,
    recycled: &Mutex<Vec<Block>>,
    failed: &AtomicBool,
) {
    let mut failure: Option<io::Error> = None;
    let mut writeback = Writeback::default();
    while let Some(job) = jobs.blocking_recv() {
        match job {
            Job::Write { offset, block } => {
                if failure.is_none() {
                    let data = block.bytes();
                    let aligned = offset % ALIGN as u64 == 0 && data.len() % ALIGN == 0;
                    let mut written = false;
                    if let (Some(direct_file), true) = (direct, aligned) {
                        match write_all_at(direct_file, data, offset) {
                            Ok(()) => written = true,
                            // The file system refuses direct I/O after all: write through the
                            // page cache from now on.
                            Err(error) if error.kind() == io::ErrorKind::InvalidInput => {
                                direct = None;
                            }
                            Err(error) => {
                                failure = Some(error);
                                failed.store(true, Ordering::Release);
                                written = true;
                            }
                        }
                    }
                    if !written {
                        match write_all_at(file, data, offset) {
                            Ok(()) => writeback.written(file, offset, data.len() as u64),
                            Err(error) => {
                                failure = Some(error);
                                failed.store(true, Ordering::Release);
                            }
                        }
                    }
                }
                recycle(recycled, block);
            }
            Job::Drain(answer) => {
                failed.store(false, Ordering::Release);
                let _ = answer.send(failure.take().map_or(Ok(()), Err));
            }
        }
    }
}

#[cfg(unix)]
fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, data, offset)
}

#[cfg(windows)]
fn write_all_at(file: &File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
    while !data.is_empty() {
        let written = std::os::windows::fs::FileExt::seek_write(file, data, offset)?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = &data[written..];
        offset += written as u64;
    }
    Ok(())
}

/// Hands contiguous finished ranges to the kernel's writeback, a window at a time.
#[derive(Default)]
struct Writeback {
    /// Everything from here to `end` is written and not yet handed over.
    start: u64,
    end: u64,
    /// The window handed over last, to drop once its writeback is done.
    previous: Option<(u64, u64)>,
}

impl Writeback {
    fn written(&mut self, file: &File, offset: u64, length: u64) {
        if offset != self.end {
            // A new attempt or a resume: begin a new run.
            self.start = offset;
            self.previous = None;
        }
        self.end = offset + length;
        if self.end - self.start < WRITEBACK_WINDOW {
            return;
        }
        #[cfg(target_os = "linux")]
        {
            // On Linux, DONTNEED on dirty pages starts their writeback without waiting for it;
            // on clean pages it drops them. So: start writeback of this window, and drop the
            // window before last, whose writeback has had a window's time to finish. Its pages
            // go back to the free lists, warm, and the next windows reuse them: touching a
            // gigabyte of cold pages costs more than the copy into them on virtual machines.
            let advise = |start: u64, end: u64| {
                let _ = rustix::fs::fadvise(
                    file,
                    start,
                    std::num::NonZeroU64::new(end - start),
                    rustix::fs::Advice::DontNeed,
                );
            };
            advise(self.start, self.end);
            if let Some((start, end)) = self.previous.replace((self.start, self.end)) {
                advise(start, end);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = file;
        self.start = self.end;
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}

/// Makes the rename itself durable: without it, a crash can leave the directory entry pointing
/// at the old file even though the new one's data was synced.
fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
