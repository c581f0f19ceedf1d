//! Integration tests of `fetchkit-mirror`: mirror runs against loopback registries and cargo
//! homes, `verify`, and the sparse-registry server, with real cargo as the judge.

mod dump;
mod mirror;
mod serve;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fetchkit_mirror::{Mirror, Upstream};
use fetchkit_retry::{RecordingSleeper, Retry, RetryPolicy};
use fetchkit_test_support::{CargoSandbox, FakeCrate, SparseRegistry, Validators};
use fetchkit_transport::Client;

/// Publishes [`FakeCrate::samples`]: every shape of name, version and dependency cargo treats
/// apart.
fn publish_all(registry: &SparseRegistry) {
    for krate in FakeCrate::samples() {
        registry.publish(krate);
    }
}

/// A registry with [`FakeCrate::samples`] published, an empty mirror folder, and a client and
/// retry policy made for faults: a short stall timeout, and delays recorded instead of slept.
struct Context {
    registry: SparseRegistry,
    out: tempfile::TempDir,
    client: Client,
    retry: Retry,
}

impl Context {
    fn new() -> Context {
        let registry = SparseRegistry::start(Validators::ETag);
        publish_all(&registry);
        let mut policy = RetryPolicy::default();
        policy.jitter = false;
        Context {
            registry,
            out: tempfile::tempdir().unwrap(),
            client: Client::builder()
                .read_timeout(Duration::from_millis(500))
                .build()
                .unwrap(),
            retry: Retry::new(policy).with_sleeper(Arc::new(RecordingSleeper::default())),
        }
    }

    fn dir(&self) -> &Path {
        self.out.path()
    }

    /// A mirror run into the folder from the registry; the test adds what to mirror.
    fn mirror(&self) -> Mirror {
        Mirror::new(self.dir(), Upstream::Sparse(self.registry.index_url()))
            .client(self.client.clone())
            .retry(self.retry.clone())
    }

    fn published(&self, name: &str, version: &str) -> FakeCrate {
        FakeCrate::samples()
            .into_iter()
            .find(|krate| krate.name() == name && krate.version() == version)
            .unwrap_or_else(|| panic!("{name} {version} is not published"))
    }

    /// How many `.crate` downloads the registry has answered.
    fn downloads(&self) -> usize {
        self.registry
            .server()
            .requests()
            .iter()
            .filter(|request| request.target.starts_with("/dl/"))
            .count()
    }
}

/// Every file below `root`, relative, `/`-separated, sorted.
fn file_tree(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut folders = vec![PathBuf::from(root)];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

/// A mirror folder served by `fetchkit_mirror::serve` on loopback until dropped.
struct Served {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    /// A cargo home `config.toml` replacing cargo's default registry with this one.
    fn cargo_config(&self) -> String {
        format!(
            "[source.crates-io]\nreplace-with = \"mirror\"\n\n[source.mirror]\nregistry = \
             \"sparse+http://{}/index/\"\n\n[net]\nretry = 0\n",
            self.addr
        )
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves the mirror at `root` and has cargo resolve and build, from it alone, a project that
/// depends on `a` 1.0.0, `MyCrate` (a renamed dependency and a dev-dependency) and `dash-name`
/// (a dependency between `-` and `_` names), checking every file's `cksum`. Returns the lock
/// file cargo wrote.
async fn cargo_builds_the_samples_from(root: &Path) -> String {
    let server = serve_folder(root).await;
    let sandbox = CargoSandbox::new(
        &server.cargo_config(),
        &[("a", "=1.0.0"), ("MyCrate", "0.3"), ("dash-name", "1")],
    );
    sandbox.cargo_ok(&["build"]);
    let lockfile = sandbox.lockfile();
    assert!(lockfile.contains("name = \"under_name\""), "{lockfile}");
    lockfile
}

async fn serve_folder(root: &Path) -> Served {
    let server = fetchkit_mirror::serve::Server::bind(root, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    Served {
        addr,
        stop: Some(stop),
    }
}
