//! `fetchkit object download` and `fetchkit artifact download` against the fake Taskcluster
//! object service and queue.

use fetchkit_test_support::{
    FakeArtifact, FakeObject, FakeTaskcluster, RecordedRequest, Reply, Resource,
};

use crate::support::{Run, TestContext, assert_content, body, sha256_hex};

const OLD: &[u8] = b"old content\n";
const HELLO: &[u8] = b"hello, world";
/// The permanent credentials the fake requires in the tests that need them.
const CLIENT_ID: &str = "project/fetchkit/ci";
const ACCESS_TOKEN: &str = "perm-token-hunter2";

type Cx = TestContext<FakeTaskcluster>;

impl Cx {
    /// `fetchkit ARGS` with `TASKCLUSTER_ROOT_URL` pointing at the fake, and `env`.
    fn tc(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let root_url = self.server.root_url();
        let mut all = vec![("TASKCLUSTER_ROOT_URL", root_url.as_str())];
        all.extend_from_slice(env);
        self.fetchkit_with_env(args, &all)
    }

    /// `fetchkit object download NAME -o out.bin EXTRA...`, anonymous.
    fn object(&self, name: &str, extra: &[&str]) -> Run {
        let mut args = vec!["object", "download", name, "-o", "out.bin"];
        args.extend_from_slice(extra);
        self.tc(&args, &[])
    }

    /// `fetchkit artifact download TASK NAME -o out.bin EXTRA...` with `env`.
    fn artifact(&self, task_id: &str, name: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let mut args = vec!["artifact", "download", task_id, name, "-o", "out.bin"];
        args.extend_from_slice(extra);
        self.tc(&args, env)
    }

    /// The endpoints of the API calls so far, in order.
    fn endpoints(&self) -> Vec<String> {
        self.server
            .calls()
            .into_iter()
            .map(|c| c.endpoint)
            .collect()
    }

    /// Routes `resource` at `path` on the fake's server and returns its URL, for s3 and
    /// reference artifacts.
    fn serve(&self, path: &str, resource: Resource) -> String {
        self.server.server().route(path, resource);
        self.server.server().url(path)
    }
}

/// The permanent credentials as environment variables.
fn credentials() -> [(&'static str, &'static str); 2] {
    [
        ("TASKCLUSTER_CLIENT_ID", CLIENT_ID),
        ("TASKCLUSTER_ACCESS_TOKEN", ACCESS_TOKEN),
    ]
}

/// Asserts a one-line error containing every fragment, with `out.bin` (written before the run)
/// untouched and nothing beside it.
#[track_caller]
fn check_fails(cx: &Cx, run: &Run, fragments: &[&str]) {
    let error = run.failure();
    for fragment in fragments {
        assert!(error.contains(fragment), "missing {fragment:?}\n{run}");
    }
    assert_eq!(cx.read("out.bin"), OLD, "destination changed\n{run}");
    assert_eq!(cx.files(), ["out.bin"], "{run}");
}

#[test]
fn object_download_writes_the_file_and_the_content_type() {
    let cx = TestContext::taskcluster();
    cx.server.put_object(
        "builds/hello.txt",
        FakeObject::new(HELLO).content_type("text/plain"),
    );
    let run = cx.object("builds/hello.txt", &[]);
    let summary = run.success();
    assert_eq!(run.lines().len(), 1, "{run}");
    assert!(
        summary.starts_with("downloaded 12 B to out.bin in "),
        "{run}"
    );
    // Both hashes the service gave were checked.
    let tail = format!(
        "/s), text/plain, sha256 {}, sha512 verified",
        sha256_hex(HELLO)
    );
    assert!(summary.ends_with(&tail), "{run}");
    assert_content(&cx.path("out.bin"), HELLO);
    assert_eq!(cx.files(), ["out.bin"]);
    let calls = cx.server.calls();
    assert_eq!(cx.endpoints(), ["startDownload"]);
    assert_eq!(calls[0].client_id, None, "anonymous: {calls:?}");
}

#[test]
fn object_without_content_type_reports_the_default() {
    let cx = TestContext::taskcluster();
    cx.server
        .put_object("hello", FakeObject::new(HELLO).without_content_type());
    let run = cx.object("hello", &[]);
    assert!(
        run.success().contains(", application/binary, sha256 "),
        "{run}"
    );
}

#[test]
fn root_url_from_the_flag_or_the_environment() {
    let cx = TestContext::taskcluster();
    cx.server.put_object("hello", FakeObject::new(HELLO));
    let root_url = cx.server.root_url();
    let args = ["object", "download", "hello", "-o", "out.bin"];
    // Nothing listens on port 1: only the flag's URL can succeed.
    let nowhere = "http://127.0.0.1:1";
    for (flag, env) in [
        (Some(root_url.as_str()), None),
        (None, Some(root_url.as_str())),
        (Some(root_url.as_str()), Some(nowhere)),
    ] {
        std::fs::remove_file(cx.path("out.bin")).ok();
        let mut all = args.to_vec();
        if let Some(flag) = flag {
            all.extend(["--root-url", flag]);
        }
        let env: Vec<_> = env
            .map(|url| ("TASKCLUSTER_ROOT_URL", url))
            .into_iter()
            .collect();
        let run = cx.fetchkit_with_env(&all, &env);
        run.success();
        assert_content(&cx.path("out.bin"), HELLO);
    }
    assert_eq!(cx.endpoints().len(), 3);
    // A root URL with a trailing slash works too.
    let slash = format!("{root_url}/");
    let mut all = args.to_vec();
    all.extend(["--root-url", &slash]);
    cx.fetchkit(&all).success();
}

#[test]
fn missing_root_url_names_the_flag_and_the_variable() {
    let cx = TestContext::taskcluster();
    cx.server.put_object("hello", FakeObject::new(HELLO));
    for args in [
        &["object", "download", "hello", "-o", "out.bin"][..],
        &["artifact", "download", "T", "public/a", "-o", "out.bin"],
    ] {
        let run = cx.fetchkit(args);
        let error = run.failure();
        assert_eq!(run.lines().len(), 1, "{run}");
        assert!(error.contains("--root-url"), "{run}");
        assert!(error.contains("TASKCLUSTER_ROOT_URL"), "{run}");
    }
    assert!(cx.files().is_empty());
    assert!(cx.server.calls().is_empty());
}

#[test]
fn invalid_root_url_is_a_one_line_error_without_its_password() {
    let cx = TestContext::taskcluster();
    let with_password = format!("http://user:hunter2@{}", cx.server.server().addr());
    for (root_url, expected) in [
        ("not a url", "invalid root URL "),
        ("ftp://127.0.0.1/", "invalid root URL "),
        (with_password.as_str(), "invalid root URL "),
    ] {
        let run = cx.fetchkit(&[
            "object",
            "download",
            "hello",
            "-o",
            "out.bin",
            "--root-url",
            root_url,
        ]);
        assert!(run.failure().contains(expected), "{run}");
        assert_eq!(run.lines().len(), 1, "{run}");
        assert!(!run.stderr.contains("hunter2"), "password leaked\n{run}");
    }
    assert!(cx.server.calls().is_empty());
}

#[test]
fn credentials_come_in_pairs() {
    let cx = TestContext::taskcluster();
    cx.server.put_object("hello", FakeObject::new(HELLO));
    for (env, named) in [
        (
            &[("TASKCLUSTER_CLIENT_ID", CLIENT_ID)][..],
            "TASKCLUSTER_ACCESS_TOKEN",
        ),
        (
            &[("TASKCLUSTER_ACCESS_TOKEN", ACCESS_TOKEN)],
            "TASKCLUSTER_CLIENT_ID",
        ),
        (
            &[("TASKCLUSTER_CERTIFICATE", "{}")],
            "TASKCLUSTER_CLIENT_ID",
        ),
    ] {
        let run = cx.tc(&["object", "download", "hello", "-o", "out.bin"], env);
        assert!(run.failure().contains(named), "{run}");
        assert_eq!(run.lines().len(), 1, "{run}");
        assert!(!run.stderr.contains(ACCESS_TOKEN), "token leaked\n{run}");
    }
    assert!(cx.server.calls().is_empty());
    assert!(cx.files().is_empty());
}

#[test]
fn object_not_found() {
    let cx = TestContext::taskcluster();
    cx.write("out.bin", OLD);
    let run = cx.object("missing/thing", &[]);
    check_fails(
        &cx,
        &run,
        &[
            "HTTP 404",
            "Object missing/thing not found or not finished uploading",
        ],
    );
    // A 404 is not retried, and the service's message keeps to its first line.
    assert_eq!(cx.endpoints(), ["startDownload"]);
    assert!(run.waits().is_empty(), "{run}");
    assert!(!run.stderr.contains("errorCode"), "{run}");
}

#[test]
fn object_hash_mismatch_leaves_the_destination() {
    let wrong256 = sha256_hex(b"something else");
    let wrong512 = "ab".repeat(64);
    let [(_, sha256), _] = <[_; 2]>::try_from(FakeObject::correct_hashes(HELLO)).unwrap();
    // Every hash the service gives is checked, not only the first or the strongest.
    for (hashes, expected) in [
        (
            vec![("sha256".to_owned(), wrong256.clone())],
            format!("sha256 mismatch: expected {wrong256} got "),
        ),
        (
            vec![
                ("sha256".to_owned(), sha256.clone()),
                ("sha512".to_owned(), wrong512.clone()),
            ],
            format!("sha512 mismatch: expected {wrong512} got "),
        ),
    ] {
        let cx = TestContext::taskcluster();
        cx.server
            .put_object("hello", FakeObject::new(HELLO).hashes(hashes));
        cx.write("out.bin", OLD);
        let run = cx.object("hello", &[]);
        check_fails(&cx, &run, &[&expected]);
        // A mismatch is permanent: the data was fetched once.
        assert_eq!(
            cx.server.server().requests_to("/data/hello").len(),
            1,
            "{run}"
        );
    }
}

#[test]
fn object_without_an_acceptable_hash_is_refused() {
    let cx = TestContext::taskcluster();
    cx.server.put_object(
        "hello",
        FakeObject::new(HELLO).hashes(vec![(
            "md5".into(),
            "e4d7f1b4ed2e42d15898f4b27b019da4".into(),
        )]),
    );
    cx.write("out.bin", OLD);
    let run = cx.object("hello", &[]);
    check_fails(&cx, &run, &["no acceptable hash", "md5"]);
    // Refused before a byte of data was fetched.
    assert!(
        cx.server.server().requests_to("/data/hello").is_empty(),
        "{run}"
    );
}

#[test]
fn start_download_server_errors_are_retried() {
    let cx = TestContext::taskcluster();
    cx.server.put_object("hello", FakeObject::new(HELLO));
    cx.server.script_api("startDownload", [500, 500]);
    let run = cx.object("hello", &[]);
    run.success();
    assert_eq!(
        cx.endpoints(),
        ["startDownload", "startDownload", "startDownload"]
    );
    assert_eq!(run.waits().len(), 2, "{run}");
    assert_content(&cx.path("out.bin"), HELLO);
}

#[test]
fn start_download_errors_give_up_after_the_retries() {
    let cx = TestContext::taskcluster();
    cx.server.put_object("hello", FakeObject::new(HELLO));
    cx.server.script_api("startDownload", [503; 6]);
    cx.write("out.bin", OLD);
    let run = cx.object("hello", &["--retries", "1"]);
    check_fails(
        &cx,
        &run,
        &["startDownload", "HTTP 503", "after 2 attempts"],
    );
    assert_eq!(cx.endpoints(), ["startDownload", "startDownload"]);
}

#[test]
fn object_data_failures_are_retried() {
    let data = body(300 * 1024, 11);
    let cx = TestContext::taskcluster();
    cx.server.put_object(
        "big",
        FakeObject::new(data.clone())
            .data_script(vec![Reply::Status(500), Reply::ResetAfter(100_000)]),
    );
    let run = cx.object("big", &[]);
    assert!(run.success().contains(" after 3 attempts"), "{run}");
    assert_content(&cx.path("out.bin"), &data);
    assert_eq!(
        cx.server.server().requests_to("/data/big").len(),
        3,
        "{run}"
    );
    // The URL has not expired: it is not asked for again.
    assert_eq!(cx.endpoints(), ["startDownload"]);
}

#[test]
fn expired_object_url_is_renewed() {
    let cx = TestContext::taskcluster();
    cx.server.put_object(
        "hello",
        FakeObject::new(HELLO)
            .expires_in(0)
            .data_script(vec![Reply::Status(500)]),
    );
    let run = cx.object("hello", &[]);
    run.success();
    assert_eq!(cx.endpoints(), ["startDownload", "startDownload"], "{run}");
    assert_content(&cx.path("out.bin"), HELLO);
}

#[test]
fn gzip_object_is_decoded_and_verified() {
    let data = body(100_000, 3);
    let cx = TestContext::taskcluster();
    cx.server
        .put_object("z", FakeObject::new(data.clone()).gzip());
    cx.object("z", &[]).success();
    assert_content(&cx.path("out.bin"), &data);
}

#[test]
fn object_to_stdout() {
    let cx = TestContext::taskcluster();
    cx.server
        .put_object("hello", FakeObject::new(HELLO).content_type("text/plain"));
    let run = cx.tc(&["object", "download", "hello", "-o", "-"], &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.stdout, HELLO, "{run}");
    assert!(
        run.stderr.starts_with("downloaded 12 B to stdout in "),
        "{run}"
    );
    assert!(cx.files().is_empty(), "{:?}", cx.files());
}

#[test]
fn quiet_prints_nothing_but_the_error() {
    let cx = TestContext::taskcluster();
    cx.server.put_object("hello", FakeObject::new(HELLO));
    cx.server.script_api("startDownload", [500]);
    let run = cx.object("hello", &["--quiet"]);
    run.success();
    assert_eq!(run.stderr, "", "{run}");
    let run = cx.object("missing", &["-q"]);
    run.failure();
    assert_eq!(run.lines().len(), 1, "{run}");
}

#[test]
fn artifact_by_run_id_and_latest() {
    let cx = TestContext::taskcluster();
    let (first, second) = (b"run zero".to_vec(), b"run one!".to_vec());
    let url0 = cx.serve("/s3/run0", Resource::new(first.clone()));
    let url1 = cx.serve("/s3/run1", Resource::new(second.clone()));
    cx.server
        .put_artifact("T", 0, "public/log.txt", FakeArtifact::S3 { url: url0 });
    cx.server
        .put_artifact("T", 1, "public/log.txt", FakeArtifact::S3 { url: url1 });

    cx.artifact("T", "public/log.txt", &["--run-id", "0"], &[])
        .success();
    assert_content(&cx.path("out.bin"), &first);
    cx.artifact("T", "public/log.txt", &[], &[]).success();
    assert_content(&cx.path("out.bin"), &second);
    let calls = cx.server.calls();
    assert_eq!(cx.endpoints(), ["artifact", "latestArtifact"]);
    assert_eq!(
        calls[0].path,
        "/api/queue/v1/task/T/runs/0/artifact-content/public%2Flog.txt"
    );

    // A run without the artifact is the queue's 404.
    cx.write("out.bin", OLD);
    let run = cx.artifact("T", "public/log.txt", &["--run-id", "7"], &[]);
    check_fails(&cx, &run, &["HTTP 404", "Run 7 not found on task T"]);
}

#[test]
fn s3_artifact_with_gzip_is_decoded() {
    let data = body(200_000, 5);
    let cx = TestContext::taskcluster();
    let url = cx.serve(
        "/s3/build.tar",
        Resource::new(data.clone())
            .gzip()
            .content_type("application/x-tar"),
    );
    cx.server
        .put_artifact("T", 0, "public/build.tar", FakeArtifact::S3 { url });
    let run = cx.artifact("T", "public/build.tar", &[], &[]);
    let summary = run.success();
    assert!(
        summary.starts_with("downloaded 195 KiB to out.bin"),
        "{run}"
    );
    assert!(
        summary.contains(&format!(
            ", application/x-tar, sha256 {}",
            sha256_hex(&data)
        )),
        "{run}"
    );
    assert_content(&cx.path("out.bin"), &data);
    assert_eq!(cx.server.server().requests_to("/s3/build.tar").len(), 1);
}

#[test]
fn references_are_refused_with_no_reference() {
    let cx = TestContext::taskcluster();
    let url = cx.serve("/elsewhere/file", Resource::new(HELLO.to_vec()));
    cx.server.put_artifact(
        "T",
        0,
        "public/ref",
        FakeArtifact::Reference {
            url: format!("{url}?sig=hunter2"),
        },
    );
    cx.write("out.bin", OLD);
    let run = cx.artifact("T", "public/ref", &["--no-reference"], &[]);
    check_fails(&cx, &run, &["references are refused", "/elsewhere/file"]);
    assert!(!run.stderr.contains("hunter2"), "signature leaked\n{run}");
    assert!(cx.server.server().requests_to("/elsewhere/file").is_empty());

    cx.artifact("T", "public/ref", &[], &[]).success();
    assert_content(&cx.path("out.bin"), HELLO);
}

#[test]
fn object_artifact_uses_the_queues_temporary_credentials() {
    let data = body(50_000, 9);
    let cx = TestContext::taskcluster();
    cx.server.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    let object = cx.server.put_object_artifact(
        "T",
        2,
        "public/build.zip",
        FakeObject::new(data.clone()).content_type("application/zip"),
    );
    let run = cx.artifact("T", "public/build.zip", &[], &credentials());
    let summary = run.success();
    assert!(summary.contains(", application/zip, sha256 "), "{run}");
    assert!(summary.ends_with(", sha512 verified"), "{run}");
    assert_content(&cx.path("out.bin"), &data);
    let calls = cx.server.calls();
    let seen: Vec<_> = calls
        .iter()
        .map(|call| {
            (
                call.endpoint.as_str(),
                call.client_id.as_deref(),
                call.status,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("latestArtifact", Some(CLIENT_ID), 200),
            ("startDownload", Some("task-client/T/2"), 200),
        ]
    );
    assert_eq!(
        calls[1].path,
        format!(
            "/api/object/v1/start-download/{}",
            "t%2FT%2F2%2Fpublic%2Fbuild.zip"
        )
    );
    assert_eq!(object, "t/T/2/public/build.zip");
}

#[test]
fn object_artifact_without_credentials_is_refused() {
    let cx = TestContext::taskcluster();
    cx.server.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    cx.server
        .put_object_artifact("T", 0, "public/a", FakeObject::new(HELLO));
    cx.write("out.bin", OLD);
    let run = cx.artifact("T", "public/a", &[], &[]);
    check_fails(&cx, &run, &["queue latestArtifact: HTTP 401"]);
}

#[test]
fn error_artifact_fails_with_its_reason_and_message() {
    let cx = TestContext::taskcluster();
    cx.server.put_artifact(
        "T",
        0,
        "public/missing.log",
        FakeArtifact::Error {
            reason: "file-missing-on-worker".into(),
            message: "the worker found no file at /builds/missing.log".into(),
        },
    );
    cx.write("out.bin", OLD);
    let run = cx.artifact("T", "public/missing.log", &["--run-id", "0"], &[]);
    check_fails(
        &cx,
        &run,
        &[
            "is an error artifact: file-missing-on-worker: the worker found no file at \
             /builds/missing.log",
        ],
    );
    // Not transient: asked once.
    assert_eq!(cx.endpoints(), ["artifact"]);
}

#[test]
fn other_artifact_failures() {
    let cx = TestContext::taskcluster();
    cx.server.put_artifact(
        "T",
        0,
        "public/odd",
        FakeArtifact::Other {
            storage_type: "azure".into(),
        },
    );
    cx.server
        .put_artifact("T", 0, "public/old", FakeArtifact::Expired);
    cx.write("out.bin", OLD);
    for (name, fragments) in [
        ("public/odd", &["unknown storage type \"azure\""][..]),
        (
            "public/old",
            &["HTTP 410", "Artifact public/old has expired"],
        ),
        ("public/none", &["HTTP 404"]),
    ] {
        let run = cx.artifact("T", name, &[], &[]);
        check_fails(&cx, &run, fragments);
    }
    let run = cx.artifact("NoSuchTask", "public/odd", &[], &[]);
    check_fails(&cx, &run, &["HTTP 404", "Task NoSuchTask not found"]);
}

#[test]
fn wrong_access_token_is_refused_without_showing_secrets() {
    const WRONG: &str = "wrong-token-hunter2";
    const SIGNATURE: &str = "certificate-signature-hunter3";
    let certificate = format!(
        r#"{{"version":1,"scopes":["*"],"start":0,"expiry":99999999999999,"seed":"{}","signature":"{SIGNATURE}","issuer":"static/x"}}"#,
        "s".repeat(44)
    );
    let cx = TestContext::taskcluster();
    cx.server.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    cx.server
        .put_object_artifact("T", 0, "public/a", FakeObject::new(HELLO));
    let wrong = [
        ("TASKCLUSTER_CLIENT_ID", CLIENT_ID),
        ("TASKCLUSTER_ACCESS_TOKEN", WRONG),
    ];
    let with_certificate = [
        wrong[0],
        wrong[1],
        ("TASKCLUSTER_CERTIFICATE", certificate.as_str()),
    ];
    // The fake's reasons: the MAC made with the wrong token, the certificate it did not issue.
    for (env, reason) in [
        (&wrong[..], "Bad mac"),
        (&with_certificate, "ext.certificate.signature is not valid"),
    ] {
        for log in [None, Some("trace")] {
            let mut env = env.to_vec();
            env.extend(log.map(|level| ("RUST_LOG", level)));
            cx.write("out.bin", OLD);
            let run = cx.artifact("T", "public/a", &[], &env);
            assert_eq!(run.code, Some(1), "{run}");
            let error = match log {
                None => run.failure(),
                Some(_) => run
                    .lines()
                    .into_iter()
                    .find(|line| line.starts_with("error: "))
                    .unwrap_or_else(|| panic!("no error line\n{run}")),
            };
            assert!(error.contains("queue latestArtifact: HTTP 401"), "{run}");
            assert!(error.contains(reason), "{run}");
            for secret in [
                WRONG,
                ACCESS_TOKEN,
                SIGNATURE,
                certificate.as_str(),
                "Hawk ",
                "mac=\"",
            ] {
                assert!(!run.stderr.contains(secret), "{secret:?} shown\n{run}");
            }
            assert_eq!(cx.read("out.bin"), OLD, "{run}");
        }
    }
    // The permanent credentials never signed a call.
    assert!(
        cx.server.calls().iter().all(|call| call.status == 401),
        "{:?}",
        cx.server.calls()
    );
}

#[test]
fn trace_logs_of_a_signed_download_show_no_secrets() {
    let cx = TestContext::taskcluster();
    cx.server.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    cx.server
        .put_object_artifact("T", 0, "public/a", FakeObject::new(HELLO));
    let mut env = credentials().to_vec();
    env.push(("RUST_LOG", "trace"));
    let run = cx.artifact("T", "public/a", &[], &env);
    assert_eq!(run.code, Some(0), "{run}");
    assert_content(&cx.path("out.bin"), HELLO);
    // The queue's temporary credentials arrive in a JSON body and leave in a Hawk header;
    // neither the body nor the header may be logged.
    for secret in [
        ACCESS_TOKEN,
        "accessToken",
        "\"certificate\"",
        "Hawk ",
        "mac=\"",
    ] {
        assert!(!run.stderr.contains(secret), "{secret:?} shown\n{run}");
    }
}

#[test]
fn usage_errors_name_the_flag() {
    let cx = TestContext::taskcluster();
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "artifact", "download", "T", "a", "-o", "x", "--run-id", "last",
            ],
            "--run-id",
        ),
        (
            &["artifact", "download", "T", "a", "-o", "x", "--run-id=-1"],
            "--run-id",
        ),
        (
            &["object", "download", "a", "-o", "x", "--retries", "many"],
            "--retries",
        ),
        (&["object", "download", "a"], "--output"),
    ];
    for (args, flag) in cases {
        let run = cx.tc(args, &[]);
        assert!(run.usage_error().contains(flag), "{flag}\n{run}");
    }
    assert!(cx.server.calls().is_empty());
}

#[test]
fn missing_folder_fails_before_any_call() {
    let cx = TestContext::taskcluster();
    cx.server.put_object("hello", FakeObject::new(HELLO));
    let run = cx.tc(
        &["object", "download", "hello", "-o", "nowhere/out.bin"],
        &[],
    );
    assert!(
        run.failure().contains("folder nowhere does not exist"),
        "{run}"
    );
    assert!(cx.server.calls().is_empty());
}

#[test]
fn retried_api_calls_are_signed_afresh() {
    // Hawk signatures carry a timestamp (15 minutes' grace) and a nonce: a retry sent with the
    // first attempt's header is a replay, stale once retries have taken long enough.
    let cx = TestContext::taskcluster();
    cx.server.require_credentials(CLIENT_ID, ACCESS_TOKEN);
    cx.server
        .put_object_artifact("T", 0, "public/a", FakeObject::new(HELLO));
    cx.server.script_api("latestArtifact", [500]);
    cx.artifact("T", "public/a", &[], &credentials()).success();
    let requests = cx
        .server
        .server()
        .requests_to("/api/queue/v1/task/T/artifact-content/public%2Fa");
    assert_eq!(requests.len(), 2);
    let nonce = |request: &RecordedRequest| {
        let header = request.header("Authorization").expect("signed").to_owned();
        header
            .split(", ")
            .find_map(|field| field.strip_prefix("nonce="))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no nonce in {header}"))
    };
    assert_ne!(
        nonce(&requests[0]),
        nonce(&requests[1]),
        "the retry re-sent the first attempt's signature"
    );
}

#[test]
fn presigned_s3_urls_are_redacted_in_errors() {
    let cx = TestContext::taskcluster();
    let url = format!(
        "{}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDhunter2%2F20240101&\
         X-Amz-Security-Token=hunter3&X-Amz-Signature=hunter4",
        cx.server.server().url("/s3/gone")
    );
    cx.server
        .put_artifact("T", 0, "public/a", FakeArtifact::S3 { url });
    cx.write("out.bin", OLD);
    let run = cx.artifact("T", "public/a", &[], &[]);
    check_fails(
        &cx,
        &run,
        &["HTTP 404", "/s3/gone?X-Amz-Algorithm=AWS4-HMAC-SHA256&"],
    );
    for secret in ["hunter2", "hunter3", "hunter4"] {
        assert!(!run.stderr.contains(secret), "{secret} leaked\n{run}");
    }
}
