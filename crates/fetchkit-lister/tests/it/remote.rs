//! Listing a dump while it downloads from the loopback fault server, and from a local file.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use fetchkit_lister::{ListError, ListOptions, Templates, list_from_path, list_from_url};
use fetchkit_retry::{RecordingSleeper, Retry, RetryPolicy};
use fetchkit_test_support::{FaultServer, Reply, Resource};
use fetchkit_transport::{Client, Progress};
use url::Url;

use crate::{Dump, Krate, Ver, old_versions, options, summary};

const TIMESTAMP: &str = "2026-01-01T02:00:00Z";

/// Pseudo-random lower-case letters: text that compresses only so far.
fn letters(len: usize, seed: u64) -> String {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect()
}

/// A dump of 300 crates with 3 versions each (and readmes: about 600 KB compressed), then
/// 16 MiB of dependencies: large enough that faults land mid-table, and that stopping early
/// is visible.
fn dump() -> Vec<u8> {
    static DUMP: OnceLock<Vec<u8>> = OnceLock::new();
    DUMP.get_or_init(make_dump).clone()
}

fn make_dump() -> Vec<u8> {
    let names: Vec<&'static str> = (0..300)
        .map(|index| &*Box::leak(format!("crate-{index:03}").into_boxed_str()))
        .collect();
    let crates: Vec<Krate> = names
        .iter()
        .enumerate()
        .map(|(index, name)| Krate(index as i64, name, "2025-12-01 10:00:00.5"))
        .collect();
    let mut versions = Vec::new();
    for (index, num) in ["0.1.0", "0.2.0", "1.0.0"].iter().enumerate() {
        for id in 0..300 {
            versions.push(Ver(id, num, "2025-12-01 10:00:00.5", false, index as u8));
        }
    }
    let mut crates_csv = String::from("id,name,readme,updated_at\n");
    for Krate(id, name, updated_at) in &crates {
        let readme = letters(3000, *id as u64);
        crates_csv.push_str(&format!("{id},{name},\"{readme}\",{updated_at}\n"));
    }
    Dump::standard(TIMESTAMP, &crates_csv, &old_versions(&versions))
        .replace("dependencies.csv", letters(16 << 20, 99))
        .tar_gz()
}

fn expected() -> String {
    (0..300)
        .map(|index| format!("crate-{index:03}: 0.1.0 0.2.0 1.0.0\n"))
        .collect()
}

struct Context {
    server: FaultServer,
    client: Client,
    retry: Retry,
    sleeper: Arc<RecordingSleeper>,
}

impl Context {
    fn new() -> Context {
        let sleeper = Arc::new(RecordingSleeper::default());
        let mut policy = RetryPolicy::default();
        policy.jitter = false;
        Context {
            server: FaultServer::start(),
            client: Client::builder()
                .read_timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            retry: Retry::new(policy).with_sleeper(sleeper.clone()),
            sleeper,
        }
    }

    fn serve(&self, resource: Resource) -> Url {
        self.server.route("/db-dump.tar.gz", resource);
        Url::parse(&self.server.url("/db-dump.tar.gz")).unwrap()
    }

    async fn list(&self, url: &Url) -> Result<String, ListError> {
        list_from_url(&self.client, &self.retry, url, &options(None))
            .await
            .map(|listing| summary(&listing))
    }

    fn requests(&self) -> Vec<Option<String>> {
        self.server
            .requests_to("/db-dump.tar.gz")
            .iter()
            .map(|request| request.header("range").map(str::to_owned))
            .collect()
    }
}

#[tokio::test]
async fn a_download_is_parsed_as_it_streams() {
    let context = Context::new();
    let url = context.serve(Resource::new(dump()));
    assert_eq!(context.list(&url).await.unwrap(), expected());
    assert_eq!(context.requests(), [None]);
}

#[tokio::test]
async fn a_resumed_download_continues_the_parse() {
    let context = Context::new();
    let url = context.serve(
        Resource::new(dump())
            .ranges(true)
            .etag("\"v1\"")
            .script([Reply::ResetAfter(20_000), Reply::ResetAfter(10_000)]),
    );
    assert_eq!(context.list(&url).await.unwrap(), expected());
    assert_eq!(
        context.requests(),
        [
            None,
            Some("bytes=20000-".to_owned()),
            Some("bytes=30000-".to_owned())
        ]
    );
    assert_eq!(context.sleeper.delays().len(), 2);
}

#[tokio::test]
async fn a_restarted_download_restarts_the_parse() {
    // No ranges: each retry starts from byte zero, and so must the parser.
    let context = Context::new();
    let url = context
        .serve(Resource::new(dump()).script([Reply::ResetAfter(25_000), Reply::ShortBody(40_000)]));
    assert_eq!(context.list(&url).await.unwrap(), expected());
    assert_eq!(context.requests(), [None, None, None]);
}

#[tokio::test]
async fn a_server_that_starts_over_on_a_range_request() {
    // Ranges advertised but the resumed request gets the whole body (200): a fresh parse.
    let context = Context::new();
    let url = context.serve(
        Resource::new(dump())
            .etag("\"v1\"")
            .header("Accept-Ranges", "bytes")
            .script([Reply::ResetAfter(20_000)]),
    );
    assert_eq!(context.list(&url).await.unwrap(), expected());
    assert_eq!(context.requests().len(), 2);
}

#[tokio::test]
async fn the_transfer_stops_once_the_listing_is_complete() {
    let context = Context::new();
    let body = dump();
    let url = context.serve(Resource::new(body.clone()));
    let bytes = Arc::new(Counter::default());
    let mut options = options(None);
    options.progress = Some(bytes.clone());
    let listing = list_from_url(&context.client, &context.retry, &url, &options)
        .await
        .unwrap();
    assert_eq!(summary(&listing), expected());
    let received = bytes.bytes.load(Ordering::SeqCst);
    assert!(
        received < body.len() as u64 / 2,
        "received {received} of {} bytes",
        body.len()
    );
    // Stopping early is not a failure to retry.
    assert_eq!(context.requests().len(), 1);
    assert!(context.sleeper.delays().is_empty());
}

#[tokio::test]
async fn a_server_error_is_retried_then_reported_as_transient() {
    let context = Context::new();
    let url = context.serve(Resource::new(dump()).script(vec![Reply::Status(503); 10]));
    let error = context.list(&url).await.unwrap_err();
    assert!(matches!(error, ListError::Transport(_)), "{error:?}");
    assert!(error.is_transient());
    assert!(
        error.to_string().starts_with("cannot download the dump: "),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_dump_is_a_permanent_error() {
    let context = Context::new();
    let url = Url::parse(&context.server.url("/nothing-here.tar.gz")).unwrap();
    let error = context.list(&url).await.unwrap_err();
    assert!(matches!(error, ListError::Transport(_)), "{error:?}");
    assert!(!error.is_transient());
}

#[tokio::test]
async fn a_broken_dump_is_a_parse_error_and_is_not_retried() {
    let context = Context::new();
    let broken = Dump::standard(
        TIMESTAMP,
        &crate::old_crates(&[Krate(1, "a", "2025-12-01 10:00:00")]),
        "checksum,crate_id,num,updated_at,yanked\nzz,1,1.0.0,2025-12-01 10:00:00,f\n",
    )
    .tar_gz();
    let url = context.serve(Resource::new(broken));
    let error = context.list(&url).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "2022-08-08-020027/data/versions.csv:2: column checksum: expected 64 hex digits, \
         optionally after \\x, found \"zz\""
    );
    assert!(!error.is_transient());
    assert_eq!(context.requests().len(), 1);
}

#[tokio::test]
async fn an_interrupted_download_is_an_error_and_saves_no_state() {
    let context = Context::new();
    let mut policy = RetryPolicy::default();
    policy.max_attempts = 2;
    policy.jitter = false;
    let retry = Retry::new(policy).with_sleeper(context.sleeper.clone());
    let url = context.serve(
        Resource::new(dump()).script([Reply::ResetAfter(20_000), Reply::ResetAfter(30_000)]),
    );
    let Err(error) = list_from_url(&context.client, &retry, &url, &options(None)).await else {
        panic!("listed despite the interruption");
    };
    assert!(matches!(error, ListError::Transport(_)), "{error:?}");
    assert!(error.is_transient(), "{error}");
    assert_eq!(context.requests().len(), 2);
}

#[tokio::test]
async fn templates_derived_from_the_dump_url() {
    let context = Context::new();
    let url = context.serve(Resource::new(dump()));
    let templates = Templates::derived_from(&url).unwrap();
    let listing = list_from_url(
        &context.client,
        &context.retry,
        &url,
        &ListOptions::new(templates.clone()),
    )
    .await
    .unwrap();
    let base = context.server.url("");
    assert_eq!(
        listing.page(0).unwrap().versions[0].crate_file,
        format!("{base}/crates/crate-000/crate-000-0.1.0.crate")
    );
    assert_eq!(
        listing.page(0).unwrap().origin(&templates).url,
        format!("{base}/crates/crate-000")
    );
}

#[derive(Default)]
struct Counter {
    started: AtomicU64,
    total: AtomicU64,
    bytes: AtomicU64,
}

impl Progress for Counter {
    fn start(&self, total: Option<u64>, _position: u64) {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.total.store(total.unwrap_or(0), Ordering::SeqCst);
    }

    fn advance(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_local_file_with_progress() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("db-dump.tar.gz");
    let body = dump();
    std::fs::write(&path, &body).unwrap();
    let progress = Arc::new(Counter::default());
    let mut options = options(None);
    options.progress = Some(progress.clone());
    let listing = list_from_path(&path, &options).await.unwrap();
    assert_eq!(summary(&listing), expected());
    assert_eq!(progress.started.load(Ordering::SeqCst), 1);
    assert_eq!(progress.total.load(Ordering::SeqCst), body.len() as u64);
    let read = progress.bytes.load(Ordering::SeqCst);
    assert!(read > 0 && read < body.len() as u64, "{read}");

    let missing = folder.path().join("missing.tar.gz");
    let error = list_from_path(&missing, &options).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot open {}: ", missing.display())),
        "{error}"
    );
}

/// [`dump`]'s crates with a large `dependencies.csv` (rows of versions the dump does not
/// have, whose requirements compress only so far) that ends with the listed versions' own
/// rows: each crate's 1.0.0 depends on the crate before it. Then 16 MiB of a trailing table.
/// Also where, in the compressed bytes, the middle of `dependencies.csv` is.
fn dump_with_dependencies() -> (Vec<u8>, usize) {
    let mut dependencies = String::from(
        "crate_id,default_features,explicit_name,features,id,kind,optional,req,target,version_id\n",
    );
    for row in 0..40_000u64 {
        let req = letters(40, row);
        dependencies.push_str(&format!("0,t,,{{}},{row},0,f,{req},,{}\n", 9_000_000 + row));
    }
    for id in 1..300 {
        // `old_versions` numbers its rows from 1000: 1.0.0 rows come after 600 others.
        let version_id = 1000 + 600 + id;
        dependencies.push_str(&format!(
            "{},t,,{{}},{},0,f,^0.2,,{version_id}\n",
            id - 1,
            100_000 + id
        ));
    }
    let mut crates_csv = String::from("id,name,readme,updated_at\n");
    let mut versions = Vec::new();
    for id in 0..300i64 {
        crates_csv.push_str(&format!(
            "{id},crate-{id:03},\"{}\",2025-12-01 10:00:00.5\n",
            letters(3000, id as u64)
        ));
    }
    for (index, num) in ["0.1.0", "0.2.0", "1.0.0"].iter().enumerate() {
        for id in 0..300 {
            versions.push(Ver(id, num, "2025-12-01 10:00:00.5", false, index as u8));
        }
    }
    let dump = Dump::standard(TIMESTAMP, &crates_csv, &old_versions(&versions))
        .replace("dependencies.csv", &dependencies)
        .file(
            "2022-08-08-020027/data/version_downloads.csv",
            letters(16 << 20, 7),
        );
    let tar = dump.tar();
    let start = tar
        .windows(25)
        .position(|window| window == b"crate_id,default_features")
        .unwrap();
    let middle = crate::gzip(&tar[..start + dependencies.len() / 2]).len();
    (dump.tar_gz(), middle)
}

fn with_metadata() -> ListOptions {
    let mut options = options(None);
    options.index_metadata = true;
    options
}

/// Each listed 1.0.0 with the dependency it has, checked against what the dump holds.
#[track_caller]
fn check_dependencies(listing: &fetchkit_lister::Listing) {
    assert_eq!(summary(listing), expected());
    for (id, page) in listing.pages().enumerate() {
        for line in &page.versions {
            let metadata = line.metadata.as_ref().unwrap();
            let names: Vec<&str> = metadata
                .dependencies
                .iter()
                .map(|dependency| dependency.name.as_str())
                .collect();
            let expected = if line.version == "1.0.0" && id > 0 {
                vec![format!("crate-{:03}", id - 1)]
            } else {
                vec![]
            };
            assert_eq!(names, expected, "{} {}", line.name, line.version);
        }
    }
    assert_eq!(listing.stats.dependencies, 299);
    assert_eq!(listing.stats.dependencies_read, 40_299);
}

#[tokio::test]
async fn index_metadata_streams_through_dependencies_then_stops() {
    let context = Context::new();
    let (body, _) = dump_with_dependencies();
    let url = context.serve(Resource::new(body.clone()));
    let bytes = Arc::new(Counter::default());
    let mut options = with_metadata();
    options.progress = Some(bytes.clone());
    let listing = list_from_url(&context.client, &context.retry, &url, &options)
        .await
        .unwrap();
    check_dependencies(&listing);
    let received = bytes.bytes.load(Ordering::SeqCst);
    assert!(
        received < body.len() as u64 / 2,
        "received {received} of {} bytes",
        body.len()
    );
    assert_eq!(context.requests().len(), 1);
}

#[tokio::test]
async fn index_metadata_resumes_a_download_broken_in_dependencies() {
    let context = Context::new();
    let (body, middle) = dump_with_dependencies();
    let url = context.serve(
        Resource::new(body)
            .ranges(true)
            .etag("\"v1\"")
            // A clean close, so that every byte sent is received (a reset may discard what
            // the client had not read yet) and the break is where it is meant to be.
            .script([Reply::ShortBody(middle)]),
    );
    let listing = list_from_url(&context.client, &context.retry, &url, &with_metadata())
        .await
        .unwrap();
    check_dependencies(&listing);
    assert_eq!(context.requests(), [None, Some(format!("bytes={middle}-"))]);
}
