//! Where a downloaded `.crate` body goes while it is verified: memory when the server says it
//! is small, which is almost always (one write, no per-chunk file calls), and a file in
//! `.fetchkit/tmp` otherwise, so a run's memory stays about `--jobs` × [`IN_MEMORY_MAX`]
//! whatever the sizes of the files.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use fetchkit_transport::AsyncWriterFactory;
use tokio::io::AsyncWrite;

/// Bodies the server announces at no more than this stay in memory. The registry's median
/// file is about 20 KB and few pass 1 MiB.
pub(crate) const IN_MEMORY_MAX: u64 = 1 << 20;

/// A verified body: its bytes, or the temporary file that holds them.
#[derive(Debug)]
pub(crate) enum Body {
    Memory(Vec<u8>),
    File(PathBuf),
}

/// The writer factory of one download: memory or `spill`, chosen per attempt from the length
/// the server announces (no length means a file).
#[derive(Debug)]
pub(crate) struct CrateBody {
    memory: Vec<u8>,
    spill: PathBuf,
    file: Option<tokio::fs::File>,
    in_file: bool,
}

impl CrateBody {
    /// A factory that spills to `spill`, a path in `.fetchkit/tmp`; nothing is created there
    /// unless an attempt needs it.
    pub(crate) fn new(spill: PathBuf) -> CrateBody {
        CrateBody {
            memory: Vec::new(),
            spill,
            file: None,
            in_file: false,
        }
    }

    /// The committed body. A file an earlier attempt left is removed when the last attempt
    /// went to memory.
    pub(crate) async fn finish(self) -> io::Result<Body> {
        if self.in_file {
            return Ok(Body::File(self.spill));
        }
        if self.file.is_some() {
            drop(self.file);
            tokio::fs::remove_file(&self.spill).await?;
        }
        Ok(Body::Memory(self.memory))
    }

    /// Removes the spill file, if any: for a download that failed.
    pub(crate) async fn discard(self) {
        if self.file.is_some() {
            drop(self.file);
            let _ = tokio::fs::remove_file(&self.spill).await;
        }
    }

    async fn file(&mut self) -> io::Result<&mut tokio::fs::File> {
        if self.file.is_none() {
            self.file = Some(tokio::fs::File::create(&self.spill).await?);
        }
        Ok(self.file.as_mut().expect("just opened"))
    }
}

/// One attempt's writer.
pub(crate) enum BodyWriter<'a> {
    Memory(&'a mut Vec<u8>),
    File(&'a mut tokio::fs::File),
}

impl AsyncWriterFactory for CrateBody {
    type Writer<'a> = BodyWriter<'a>;

    async fn writer(&mut self, length_hint: Option<u64>) -> io::Result<BodyWriter<'_>> {
        self.in_file = length_hint.is_none_or(|length| length > IN_MEMORY_MAX);
        if self.in_file {
            let file = self.file().await?;
            Ok(BodyWriter::File(file.writer(length_hint).await?))
        } else {
            Ok(BodyWriter::Memory(self.memory.writer(length_hint).await?))
        }
    }

    async fn resume_writer(
        &mut self,
        offset: u64,
        length_hint: Option<u64>,
    ) -> io::Result<Option<BodyWriter<'_>>> {
        // The earlier attempt's bytes are where that attempt put them.
        if self.in_file {
            let file = self.file().await?;
            Ok(file
                .resume_writer(offset, length_hint)
                .await?
                .map(BodyWriter::File))
        } else {
            Ok(self
                .memory
                .resume_writer(offset, length_hint)
                .await?
                .map(BodyWriter::Memory))
        }
    }

    async fn commit(&mut self) -> io::Result<()> {
        match (&mut self.file, self.in_file) {
            (Some(file), true) => file.commit().await,
            _ => Ok(()),
        }
    }
}

impl AsyncWrite for BodyWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            BodyWriter::Memory(memory) => Pin::new(&mut **memory).poll_write(cx, buf),
            BodyWriter::File(file) => Pin::new(&mut **file).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            BodyWriter::Memory(memory) => Pin::new(&mut **memory).poll_flush(cx),
            BodyWriter::File(file) => Pin::new(&mut **file).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            BodyWriter::Memory(memory) => Pin::new(&mut **memory).poll_shutdown(cx),
            BodyWriter::File(file) => Pin::new(&mut **file).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    async fn attempt(body: &mut CrateBody, hint: Option<u64>, bytes: &[u8]) {
        let mut writer = body.writer(hint).await.unwrap();
        writer.write_all(bytes).await.unwrap();
        writer.flush().await.unwrap();
    }

    #[tokio::test]
    async fn small_announced_bodies_stay_in_memory_and_others_spill() {
        let dir = tempfile::tempdir().unwrap();
        let spill = dir.path().join("spill");

        let mut small = CrateBody::new(spill.clone());
        attempt(&mut small, Some(5), b"small").await;
        small.commit().await.unwrap();
        assert!(matches!(small.finish().await.unwrap(), Body::Memory(bytes) if bytes == b"small"));
        assert!(!spill.exists(), "nothing written to disk for a small body");

        for hint in [None, Some(IN_MEMORY_MAX + 1)] {
            let mut large = CrateBody::new(spill.clone());
            attempt(&mut large, hint, b"first attempt, longer").await;
            attempt(&mut large, hint, b"second").await;
            large.commit().await.unwrap();
            let Body::File(path) = large.finish().await.unwrap() else {
                panic!("{hint:?}: expected a file");
            };
            assert_eq!(std::fs::read(&path).unwrap(), b"second", "{hint:?}");
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[tokio::test]
    async fn a_file_left_by_an_earlier_attempt_goes_when_the_last_one_is_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let spill = dir.path().join("spill");
        let mut body = CrateBody::new(spill.clone());
        attempt(&mut body, None, b"chunked, no length").await;
        assert!(spill.exists());
        attempt(&mut body, Some(4), b"done").await;
        body.commit().await.unwrap();
        assert!(matches!(body.finish().await.unwrap(), Body::Memory(bytes) if bytes == b"done"));
        assert!(!spill.exists());

        let mut failed = CrateBody::new(spill.clone());
        attempt(&mut failed, None, b"partial").await;
        failed.discard().await;
        assert!(!spill.exists());
    }
}
