//! Integration tests of `fetchkit-transport`, against the loopback fault server.

mod conditional;
mod download;
mod resume;
mod taskcluster;
mod values;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fetchkit_retry::{RecordingSleeper, Retry, RetryPolicy, Sleeper};
use fetchkit_test_support::{FaultServer, Resource};
use fetchkit_transport::{Client, Download, Sha256Digest, Sha512Digest};
use sha2::{Digest, Sha256, Sha512};

/// A server, a client with a short stall timeout, and a retry policy that records its delays
/// instead of sleeping them.
struct Context {
    server: Arc<FaultServer>,
    client: Client,
    retry: Retry,
    sleeper: Arc<RecordingSleeper>,
}

impl Context {
    fn new() -> Context {
        Context::with_read_timeout(Duration::from_secs(10))
    }

    fn with_read_timeout(read_timeout: Duration) -> Context {
        let sleeper = Arc::new(RecordingSleeper::default());
        let mut policy = RetryPolicy::default();
        policy.jitter = false;
        Context {
            server: Arc::new(FaultServer::start()),
            client: Client::builder()
                .read_timeout(read_timeout)
                .build()
                .unwrap(),
            retry: Retry::new(policy).with_sleeper(sleeper.clone()),
            sleeper,
        }
    }

    /// Serves `resource` at `path` and returns a download of it.
    fn serve(&self, path: &str, resource: Resource) -> Download {
        self.server.route(path, resource);
        Download::parse(&self.server.url(path)).unwrap()
    }

    fn requests(&self, path: &str) -> usize {
        self.server.requests_to(path).len()
    }
}

/// Pseudo-random bytes: compressible enough for gzip tests to matter, never all equal.
fn body(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ len as u64;
    (0..len)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i % 3 == 0 {
                b'a' + (i % 26) as u8
            } else {
                state as u8
            }
        })
        .collect()
}

fn sha256_of(data: &[u8]) -> Sha256Digest {
    Sha256Digest(Sha256::digest(data).into())
}

fn sha512_of(data: &[u8]) -> Sha512Digest {
    Sha512Digest(Sha512::digest(data).into())
}

/// A sleeper that runs a hook on its first sleep: lets a test change the server between two
/// attempts without any timing assumptions.
struct HookSleeper {
    hook: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl std::fmt::Debug for HookSleeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HookSleeper")
    }
}

impl Sleeper for HookSleeper {
    fn sleep(&self, _duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        if let Some(hook) = self.hook.lock().unwrap().take() {
            hook();
        }
        Box::pin(std::future::ready(()))
    }
}
