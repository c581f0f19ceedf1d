//! The sparse client against a loopback registry: first fetches, 304s that leave files
//! untouched, `Unknown` index versions, crates that disappear, and bad names and URLs.

use std::time::Duration;

use fetchkit_index_cache::{
    CacheFile, FetchOutcome, SparseError, SparseIndex, build_cache, index_path,
};
use fetchkit_retry::{Retry, RetryPolicy};
use fetchkit_test_support::{FaultServer, Reply, Resource};
use fetchkit_transport::Client;

fn line(name: &str, version: &str) -> String {
    format!(
        r#"{{"name":"{name}","vers":"{version}","deps":[],"cksum":"{}","features":{{}}}}"#,
        "ab".repeat(32)
    )
}

fn index(server: &FaultServer) -> SparseIndex {
    let client = Client::builder()
        .read_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let retry = Retry::new(RetryPolicy::no_retries());
    SparseIndex::new(client, retry, &format!("sparse+{}", server.url("/index/"))).unwrap()
}

#[tokio::test]
async fn fetches_are_conditional_and_files_follow_the_registry() {
    let server = FaultServer::start();
    let serde = format!("{}\n{}\n", line("serde", "1.0.0"), line("serde", "1.0.1"));
    let abc = format!("{}\n", line("Abc", "0.1.0"));
    let xy = format!("{}\n", line("xy", "2.0.0-rc.1"));
    server.route(
        "/index/se/rd/serde",
        Resource::new(serde.clone().into_bytes())
            .etag("W/\"s1\"")
            .gzip(),
    );
    server.route(
        "/index/3/a/abc",
        Resource::new(abc.clone().into_bytes()).last_modified("Sat, 21 Nov 2026 17:49:09 GMT"),
    );
    server.route("/index/2/xy", Resource::new(xy.clone().into_bytes()));
    server.route(
        "/index/no/ne/nonexistent",
        Resource::new(&b""[..]).script([Reply::Status(404)]),
    );
    server.route(
        "/index/config.json",
        Resource::new(
            &br#"{"dl":"http://127.0.0.1/dl/{crate}/{version}","api":"http://127.0.0.1"}"#[..],
        ),
    );

    let index = index(&server);
    let (config, _) = index.config().await.unwrap();
    assert_eq!(config.dl, "http://127.0.0.1/dl/{crate}/{version}");
    assert_eq!(config.api.as_deref(), Some("http://127.0.0.1"));
    assert!(!config.auth_required);

    let folder = tempfile::tempdir().unwrap();
    let names: Vec<String> = ["serde", "Abc", "xy", "nonexistent"]
        .map(String::from)
        .to_vec();
    let outcomes: Vec<_> = index
        .fetch_many(&names, folder.path(), 3)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        outcomes,
        [
            FetchOutcome::Updated {
                versions: 2,
                skipped: 0
            },
            FetchOutcome::Updated {
                versions: 1,
                skipped: 0
            },
            FetchOutcome::Updated {
                versions: 1,
                skipped: 0
            },
            FetchOutcome::Missing { status: 404 },
        ]
    );
    // Exactly the files cargo writes, at cargo's lower-cased paths.
    for (name, body, index_version) in [
        ("serde", &serde, "etag: W/\"s1\""),
        ("Abc", &abc, "last-modified: Sat, 21 Nov 2026 17:49:09 GMT"),
        ("xy", &xy, "Unknown"),
    ] {
        let written = std::fs::read(folder.path().join(index_path(name))).unwrap();
        assert_eq!(
            written,
            build_cache(index_version, body.as_bytes()).unwrap().0,
            "{name}"
        );
        assert_eq!(
            CacheFile::parse(&written).unwrap().index_version(),
            index_version
        );
    }
    assert!(!folder.path().join("no/ne/nonexistent").exists());

    // Again: the two with validators are 304s and their files stay as they were.
    let serde_path = folder.path().join("se/rd/serde");
    let before = std::fs::metadata(&serde_path).unwrap().modified().unwrap();
    let again: Vec<_> = index
        .fetch_many(&names[..3], folder.path(), 2)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        again,
        [
            FetchOutcome::Unchanged,
            FetchOutcome::Unchanged,
            FetchOutcome::Updated {
                versions: 1,
                skipped: 0
            },
        ]
    );
    assert_eq!(
        std::fs::metadata(&serde_path).unwrap().modified().unwrap(),
        before
    );
    let requests = server.requests_to("/index/se/rd/serde");
    assert_eq!(requests[1].header("If-None-Match"), Some("W/\"s1\""));
    let requests = server.requests_to("/index/3/a/abc");
    assert_eq!(
        requests[1].header("If-Modified-Since"),
        Some("Sat, 21 Nov 2026 17:49:09 GMT")
    );
    assert_eq!(
        server.requests_to("/index/2/xy")[1].header("If-None-Match"),
        None
    );

    // The crate goes away: 410 removes the cache file.
    server.route(
        "/index/se/rd/serde",
        Resource::new(&b""[..]).script([Reply::Status(410)]),
    );
    assert_eq!(
        index.fetch("serde", folder.path()).await.unwrap(),
        FetchOutcome::Missing { status: 410 }
    );
    assert!(!serde_path.exists());
}

#[tokio::test]
async fn bad_names_urls_and_statuses_are_errors() {
    let server = FaultServer::start();
    let client = Client::new().unwrap();
    let retry = Retry::new(RetryPolicy::no_retries());
    for (url, reason) in [
        ("sparse+ftp://127.0.0.1/index/", "not http or https"),
        (
            "sparse+http://127.0.0.1/index",
            "a sparse index URL must end with a slash",
        ),
        ("index/", "not a URL"),
    ] {
        let error = SparseIndex::new(client.clone(), retry.clone(), url).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("invalid sparse index URL {url:?}: {reason}")
        );
    }
    let index = index(&server);
    let folder = tempfile::tempdir().unwrap();
    for name in ["", "../etc", "a/b", "é"] {
        assert!(matches!(
            index.fetch(name, folder.path()).await,
            Err(SparseError::InvalidName(_))
        ));
    }
    server.route(
        "/index/2/ab",
        Resource::new(&b""[..]).script([Reply::Status(500)]),
    );
    let error = index.fetch("ab", folder.path()).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(error.to_string().contains("HTTP 500"), "{error}");
    assert!(!folder.path().join("2/ab").exists());
}
