//! Hashing a body while it streams, off the network task once the body is big.

use bytes::Bytes;
use sha2::{Digest, Sha256, Sha512};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{Sha256Digest, Sha512Digest};

/// Bodies smaller than this are hashed on the download task itself: spawning workers costs more
/// than hashing a small file (a mirror fetches thousands of 20 KB crates).
const OFFLOAD_AFTER: u64 = 1 << 20;

/// Pieces in flight to a worker. Enough to ride out scheduling hiccups; bounded so a slow
/// hasher applies back-pressure instead of buffering the whole file.
const QUEUE_DEPTH: usize = 64;

/// The digests of one body, carried across attempts when a download resumes.
#[derive(Clone, Debug)]
pub(crate) struct Hashers {
    sha256: Option<Sha256>,
    sha512: Option<Sha512>,
}

/// What the hashers computed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Digests {
    pub(crate) sha256: Option<Sha256Digest>,
    pub(crate) sha512: Option<Sha512Digest>,
}

impl Hashers {
    pub(crate) fn new(sha256: bool, sha512: bool) -> Hashers {
        Hashers {
            sha256: sha256.then(Sha256::new),
            sha512: sha512.then(Sha512::new),
        }
    }

    fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.sha512.is_none()
    }

    fn update(&mut self, data: &[u8]) {
        if let Some(sha256) = &mut self.sha256 {
            sha256.update(data);
        }
        if let Some(sha512) = &mut self.sha512 {
            sha512.update(data);
        }
    }

    fn finish(self) -> Digests {
        Digests {
            sha256: self
                .sha256
                .map(|sha256| Sha256Digest(sha256.finalize().into())),
            sha512: self
                .sha512
                .map(|sha512| Sha512Digest(sha512.finalize().into())),
        }
    }
}

/// Hashes inline until the body passes [`OFFLOAD_AFTER`] bytes, then hands each algorithm to
/// its own blocking thread, so hashing overlaps receiving and writing instead of adding to them.
#[derive(Debug)]
pub(crate) enum HashPipeline {
    Inline { hashers: Box<Hashers>, hashed: u64 },
    Offloaded { workers: Vec<Worker> },
}

#[derive(Debug)]
pub(crate) struct Worker {
    queue: mpsc::Sender<Bytes>,
    done: JoinHandle<Hasher>,
}

#[derive(Debug)]
enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(hasher) => hasher.update(data),
            Hasher::Sha512(hasher) => hasher.update(data),
        }
    }
}

impl Worker {
    fn spawn(mut hasher: Hasher) -> Worker {
        let (queue, mut pieces) = mpsc::channel::<Bytes>(QUEUE_DEPTH);
        let done = tokio::task::spawn_blocking(move || {
            while let Some(piece) = pieces.blocking_recv() {
                hasher.update(&piece);
            }
            hasher
        });
        Worker { queue, done }
    }
}

impl HashPipeline {
    pub(crate) fn new(hashers: Hashers) -> HashPipeline {
        HashPipeline::Inline {
            hashers: Box::new(hashers),
            hashed: 0,
        }
    }

    pub(crate) async fn update(&mut self, piece: Bytes) {
        match self {
            // Nothing to hash: a download that expects no digest and reports none.
            HashPipeline::Inline { hashers, .. } if hashers.is_empty() => {}
            HashPipeline::Inline { hashers, hashed } => {
                hashers.update(&piece);
                *hashed += piece.len() as u64;
                if *hashed >= OFFLOAD_AFTER {
                    let hashers = (**hashers).clone();
                    let mut workers = Vec::new();
                    if let Some(sha256) = hashers.sha256 {
                        workers.push(Worker::spawn(Hasher::Sha256(sha256)));
                    }
                    if let Some(sha512) = hashers.sha512 {
                        workers.push(Worker::spawn(Hasher::Sha512(sha512)));
                    }
                    *self = HashPipeline::Offloaded { workers };
                }
            }
            HashPipeline::Offloaded { workers } => {
                for worker in workers.iter() {
                    // A worker only stops when its queue closes, which happens only in
                    // `into_hashers`; a send error would mean it panicked, which join reports.
                    let _ = worker.queue.send(piece.clone()).await;
                }
            }
        }
    }

    /// Waits for the workers and returns the hashers, for finishing or for resuming.
    pub(crate) async fn into_hashers(self) -> Hashers {
        match self {
            HashPipeline::Inline { hashers, .. } => *hashers,
            HashPipeline::Offloaded { workers } => {
                let mut sha256 = None;
                let mut sha512 = None;
                for Worker { queue, done } in workers {
                    drop(queue);
                    match done.await {
                        Ok(Hasher::Sha256(hasher)) => sha256 = Some(hasher),
                        Ok(Hasher::Sha512(hasher)) => sha512 = Some(hasher),
                        Err(error) => std::panic::resume_unwind(error.into_panic()),
                    }
                }
                Hashers { sha256, sha512 }
            }
        }
    }

    pub(crate) async fn finish(self) -> Digests {
        self.into_hashers().await.finish()
    }
}
