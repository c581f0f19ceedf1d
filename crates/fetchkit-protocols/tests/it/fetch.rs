//! The built-in protocols against the loopback server: what lands in the destination, what
//! is refused, and that the temporary folder is gone afterwards either way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fetchkit_protocols::{
    Config, ExtractError, FetchError, FetchRequest, Fetched, Fetcher, Limits, content_checksum,
};
use fetchkit_retry::RecordingSleeper;
use fetchkit_test_support::{FaultServer, Reply, Resource};
use fetchkit_transport::{Client, Retry, RetryPolicy};
use sha2::Digest as _;

use fetchkit_test_support::archives::{Entry, file, tar_gz, zip};

pub(crate) struct Context {
    pub(crate) server: FaultServer,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) fetcher: Fetcher,
}

impl Context {
    pub(crate) fn new() -> Context {
        Context::with_config(Config::default())
    }

    pub(crate) fn with_config(config: Config) -> Context {
        let mut policy = RetryPolicy::default();
        policy.jitter = false;
        let retry = Retry::new(policy).with_sleeper(Arc::new(RecordingSleeper::default()));
        Context {
            server: FaultServer::start(),
            dir: tempfile::tempdir().unwrap(),
            fetcher: Fetcher::new(config, Client::builder().build().unwrap(), retry),
        }
    }

    pub(crate) fn dest(&self) -> PathBuf {
        self.dir.path().join("dest")
    }

    /// Serves `body` at `path` and fetches it into the destination.
    async fn fetch_body(&self, path: &str, body: Vec<u8>) -> Result<Fetched, FetchError> {
        self.server.route(path, Resource::new(body));
        self.fetch(FetchRequest::new(self.server.url(path), self.dest()))
            .await
    }

    /// Fetches, then checks that no temporary folder is left beside the destination, and that
    /// a failed fetch left no destination either.
    pub(crate) async fn fetch(&self, request: FetchRequest) -> Result<Fetched, FetchError> {
        let result = self.fetcher.fetch(&request).await;
        let names = fetchkit_test_support::file_names(self.dir.path());
        assert!(
            !names.iter().any(|name| name.contains(".fetchkit-fetch-")),
            "temporary folder left behind: {names:?}"
        );
        if result.is_err() {
            assert!(
                !self.dest().exists(),
                "a failed fetch created the destination"
            );
        }
        result
    }
}

/// The files below `root`, as `path: content` lines, sorted.
pub(crate) fn listing(root: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            let metadata = std::fs::symlink_metadata(&path).unwrap();
            if metadata.is_symlink() {
                lines.push(format!(
                    "{relative} -> {}",
                    std::fs::read_link(&path).unwrap().display()
                ));
            } else if metadata.is_dir() {
                stack.push(path);
            } else {
                lines.push(format!(
                    "{relative}: {}",
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap())
                ));
            }
        }
    }
    lines.sort();
    lines
}

fn package() -> Vec<Entry> {
    vec![
        Entry::Folder("gates-1.0/"),
        file("gates-1.0/Orbit.toml", "[ip]\nname = \"gates\"\n"),
        file("gates-1.0/rtl/and.vhd", "entity and_gate is end;\n"),
        Entry::File("gates-1.0/run.sh", b"#!/bin/sh\n".to_vec(), 0o4755),
        Entry::Symlink("gates-1.0/rtl/top.vhd", "and.vhd"),
    ]
}

const PACKAGE_LISTING: [&str; 4] = [
    "Orbit.toml: [ip]\nname = \"gates\"\n",
    "rtl/and.vhd: entity and_gate is end;\n",
    "rtl/top.vhd -> and.vhd",
    "run.sh: #!/bin/sh\n",
];

#[tokio::test]
async fn standard_protocol_extracts_a_zip_and_finds_the_package_in_its_wrapper_folder() {
    let context = Context::new();
    let archive = zip(&package());
    let fetched = context
        .fetch_body("/gates.zip", archive.clone())
        .await
        .unwrap();
    assert_eq!(fetched.protocol, "standard");
    assert_eq!(fetched.package_root, Path::new("gates-1.0"));
    assert_eq!(listing(&context.dest()), PACKAGE_LISTING);
    assert_eq!(fetched.checksum, content_checksum(&context.dest()).unwrap());
    assert_eq!(
        fetched.archive_sha256.unwrap().to_string(),
        hex::encode(sha2::Sha256::digest(&archive))
    );
    assert_setuid_dropped(&context.dest().join("run.sh"));
}

#[tokio::test]
async fn tarball_protocol_streams_a_tar_gz_and_checks_its_sha256() {
    let context = Context::new();
    let archive = tar_gz(&package());
    let digest = hex::encode(sha2::Sha256::digest(&archive));
    context
        .server
        .route("/gates-1.0.tar.gz", Resource::new(archive));
    let url = context.server.url("/gates-1.0.tar.gz");

    let wrong = "0".repeat(64).parse().unwrap();
    let error = context
        .fetch(FetchRequest::new(&url, context.dest()).sha256(wrong))
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Download(_)), "{error}");
    assert!(error.to_string().contains("sha256"), "{error}");

    let fetched = context
        .fetch(FetchRequest::new(&url, context.dest()).sha256(digest.parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(fetched.protocol, "tarball");
    assert_eq!(listing(&context.dest()), PACKAGE_LISTING);
    assert_setuid_dropped(&context.dest().join("run.sh"));
}

#[tokio::test]
async fn a_retried_stream_starts_a_fresh_extraction() {
    let context = Context::new();
    let mut entries = package();
    // Large enough that the first attempt has extracted files when the connection resets.
    entries.push(file("gates-1.0/big.bin", pseudo_random(3 << 20)));
    let archive = tar_gz(&entries);
    context.server.route(
        "/gates.tgz",
        Resource::new(archive.clone()).script([Reply::ResetAfter(archive.len() / 2)]),
    );
    let fetched = context
        .fetch(FetchRequest::new(
            context.server.url("/gates.tgz"),
            context.dest(),
        ))
        .await
        .unwrap();
    assert_eq!(fetched.protocol, "tarball");
    assert_eq!(context.server.requests_to("/gates.tgz").len(), 2);
    assert_eq!(
        std::fs::read(context.dest().join("big.bin")).unwrap(),
        pseudo_random(3 << 20)
    );
}

#[tokio::test]
async fn http_failures_and_redirects() {
    let context = Context::new();
    let error = context
        .fetch(FetchRequest::new(
            context.server.url("/missing.zip"),
            context.dest(),
        ))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("404"), "{error}");
    assert!(!error.is_transient());

    context
        .server
        .route("/gates.zip", Resource::new(zip(&package())));
    context.server.route(
        "/old.zip",
        Resource::new(Vec::new()).script([Reply::Redirect(302, context.server.url("/gates.zip"))]),
    );
    context
        .fetch(FetchRequest::new(
            context.server.url("/old.zip"),
            context.dest(),
        ))
        .await
        .unwrap();
    assert_eq!(listing(&context.dest()), PACKAGE_LISTING);
}

#[tokio::test]
async fn bodies_that_are_not_archives_are_refused() {
    let context = Context::new();
    let html = b"<html>Not here</html>".to_vec();
    let error = context
        .fetch_body("/page.zip", html.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            FetchError::Extract(ExtractError::Corrupt { format: "zip", .. })
        ),
        "{error}"
    );
    let error = context.fetch_body("/page.tar.gz", html).await.unwrap_err();
    assert!(
        matches!(
            error,
            FetchError::Extract(ExtractError::Corrupt { format: "gzip", .. })
        ),
        "{error}"
    );
    // A gzip stream cut short, served with the length of what is there.
    let archive = tar_gz(&package());
    let error = context
        .fetch_body("/cut.tar.gz", archive[..archive.len() - 30].to_vec())
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Extract(_)), "{error}");
}

/// Each hostile entry is refused with a message naming it, in both formats, and nothing is
/// written outside the temporary folder.
#[tokio::test]
async fn unsafe_entries_are_refused() {
    let cases: Vec<(&str, Vec<Entry>, &str, bool)> = vec![
        ("dot-dot", vec![file("../escaped", "x")], "climbs out", true),
        (
            "deep dot-dot",
            vec![file("a/../../escaped", "x")],
            "climbs out",
            true,
        ),
        (
            "absolute",
            vec![file("/tmp/fetchkit-escaped", "x")],
            "absolute",
            true,
        ),
        (
            "drive letter",
            vec![file("C:/escaped", "x")],
            "drive letter",
            true,
        ),
        (
            "backslash",
            vec![file("..\\escaped", "x")],
            "backslash",
            true,
        ),
        (
            "symlink outside",
            vec![file("Orbit.toml", ""), Entry::Symlink("link", "../escaped")],
            "outside",
            true,
        ),
        (
            "absolute symlink",
            vec![
                file("Orbit.toml", ""),
                Entry::Symlink("link", "/etc/passwd"),
            ],
            "absolute",
            true,
        ),
        (
            // Lexically `up/..` is the folder itself; physically it is its parent.
            "symlink chain",
            vec![
                file("Orbit.toml", ""),
                Entry::Symlink("up", "."),
                Entry::Symlink("d/up", ".."),
                Entry::Symlink("escape", "d/up/.."),
            ],
            "through other links",
            true,
        ),
        (
            // The link comes last, so the file cannot be written through it.
            "write through a link",
            vec![Entry::Symlink("out", "."), file("out/Orbit.toml", "")],
            "another entry",
            true,
        ),
        ("device", vec![Entry::Device("dev")], "device file", false),
        ("fifo", vec![Entry::Fifo("fifo")], "FIFO", false),
        (
            "hard link to nothing",
            vec![Entry::HardLink("h", "../../etc/passwd")],
            "hard link",
            false,
        ),
    ];
    for (what, entries, expected, in_zip) in cases {
        let context = Context::new();
        let error = context
            .fetch_body("/evil.tar.gz", tar_gz(&entries))
            .await
            .unwrap_err();
        assert!(error.to_string().contains(expected), "tar, {what}: {error}");
        if in_zip {
            let error = context
                .fetch_body("/evil.zip", zip(&entries))
                .await
                .unwrap_err();
            assert!(error.to_string().contains(expected), "zip, {what}: {error}");
        }
        assert!(!context.dir.path().join("escaped").exists(), "{what}");
    }
    assert!(!Path::new("/tmp/fetchkit-escaped").exists());
}

#[tokio::test]
async fn limits_stop_oversized_archives_and_bombs() {
    let entries = vec![
        file("Orbit.toml", ""),
        file("data.bin", pseudo_random(5000)),
    ];
    for (archive, path) in [
        (tar_gz(&entries), "/big.tar.gz"),
        (zip(&entries), "/big.zip"),
    ] {
        let mut context = Context::new();
        context.fetcher = context
            .fetcher
            .clone()
            .limits(Limits::default().with_max_unpacked_bytes(4000));
        let error = context.fetch_body(path, archive).await.unwrap_err();
        assert!(
            error.to_string().contains("4000 unpacked bytes"),
            "{path}: {error}"
        );
    }

    let many: Vec<Entry> = ["a", "b", "c", "d", "e"]
        .into_iter()
        .map(|name| file(name, ""))
        .collect();
    for (archive, path) in [(tar_gz(&many), "/many.tar.gz"), (zip(&many), "/many.zip")] {
        let mut context = Context::new();
        context.fetcher = context
            .fetcher
            .clone()
            .limits(Limits::default().with_max_entries(3));
        let error = context.fetch_body(path, archive).await.unwrap_err();
        assert!(error.to_string().contains("3 entries"), "{path}: {error}");
    }

    // 64 MiB of zeros compress about 1000:1.
    let bomb = vec![file("Orbit.toml", ""), file("zeros", vec![0; 64 << 20])];
    for (archive, path) in [(tar_gz(&bomb), "/bomb.tar.gz"), (zip(&bomb), "/bomb.zip")] {
        let context = Context::new();
        let error = context.fetch_body(path, archive).await.unwrap_err();
        assert!(
            error.to_string().contains("compression ratio"),
            "{path}: {error}"
        );
    }
}

#[tokio::test]
async fn the_destination_must_be_new_or_empty() {
    let context = Context::new();
    context
        .server
        .route("/gates.zip", Resource::new(zip(&package())));
    let url = context.server.url("/gates.zip");
    std::fs::create_dir(context.dest()).unwrap();
    std::fs::write(context.dest().join("keep.txt"), "mine").unwrap();
    let error = context
        .fetcher
        .fetch(&FetchRequest::new(&url, context.dest()))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not empty"), "{error}");
    assert_eq!(
        context.server.requests().len(),
        0,
        "refused before any request"
    );
    assert_eq!(
        std::fs::read_to_string(context.dest().join("keep.txt")).unwrap(),
        "mine"
    );

    // An empty folder is replaced by the package.
    std::fs::remove_file(context.dest().join("keep.txt")).unwrap();
    context
        .fetch(FetchRequest::new(&url, context.dest()))
        .await
        .unwrap();
    assert_eq!(listing(&context.dest()), PACKAGE_LISTING);
}

#[tokio::test]
async fn the_content_checksum_is_checked() {
    let context = Context::new();
    context
        .server
        .route("/gates.zip", Resource::new(zip(&package())));
    let url = context.server.url("/gates.zip");
    let error = context
        .fetch(FetchRequest::new(&url, context.dest()).checksum("ab".repeat(32)))
        .await
        .unwrap_err();
    let FetchError::ChecksumMismatch { actual, .. } = error else {
        panic!("{error}")
    };
    let fetched = context
        .fetch(FetchRequest::new(&url, context.dest()).checksum(actual.to_uppercase()))
        .await
        .unwrap();
    assert_eq!(fetched.checksum, actual);
}

#[track_caller]
fn assert_setuid_dropped(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o7000,
        0,
        "setuid, setgid and sticky are dropped: {mode:o}"
    );
    assert_eq!(
        mode & 0o100,
        0o100,
        "the owner's execute bit is kept: {mode:o}"
    );
}

/// Bytes that do not compress.
pub(crate) fn pseudo_random(length: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}
