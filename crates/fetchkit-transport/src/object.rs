//! Downloads from a Taskcluster object service: negotiate, fetch, verify.
//!
//! `PUT {root}/api/object/v1/start-download/{name}` proposes the `getUrl` method (and `simple`
//! only when the client allows it). A `getUrl` answer names a URL, when it expires, and the
//! object's hashes; the data is fetched from that URL without following redirects, gzip is
//! decoded, and the bytes are verified as the service defines: every known algorithm present
//! must match, at least one of `sha256`/`sha512` must be present, unknown ones are ignored.
//! A retry after the URL expired asks the service for a fresh one. Verification happens before
//! the destination is committed, so a mismatch leaves nothing behind.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use fetchkit_retry::{AsyncWriterFactory, AtomicFile, Retry, SliceFactory};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use url::Url;

use crate::download_with_factory as transfer;
use crate::taskcluster::{Answer, Taskcluster, TaskclusterError};
use crate::{Download, Downloaded, Renew, RenewError, Sha256Digest, Sha512Digest};

/// The content type reported when the data response has none, as Taskcluster's clients do.
pub const DEFAULT_CONTENT_TYPE: &str = "application/binary";

/// What a Taskcluster download delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivered {
    /// The data response's `Content-Type`, or [`DEFAULT_CONTENT_TYPE`].
    pub content_type: String,
    /// The transfer itself: size, digests, attempts.
    pub download: Downloaded,
}

impl Delivered {
    pub(crate) fn from(download: Downloaded) -> Delivered {
        Delivered {
            content_type: download
                .content_type
                .clone()
                .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            download,
        }
    }
}

/// Downloads object `name` into a fresh `Vec`; returns it with the content type.
pub async fn download_to_vec(
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
) -> Result<(Vec<u8>, String), TaskclusterError> {
    let mut data = Vec::new();
    let delivered = fetch(name, retry, client, &mut data).await?;
    Ok((data, delivered.content_type))
}

/// Downloads object `name` into `buffer`; returns the filled part and the content type.
pub async fn download_to_buf<'b>(
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
    buffer: &'b mut [u8],
) -> Result<(&'b mut [u8], String), TaskclusterError> {
    let mut factory = SliceFactory::new(buffer);
    let delivered = fetch(name, retry, client, &mut factory).await?;
    Ok((factory.into_filled(), delivered.content_type))
}

/// Downloads object `name` to `path`, atomically: `path` changes only once the data verified.
pub async fn download_to_file(
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
    path: &Path,
) -> Result<Delivered, TaskclusterError> {
    let mut factory = AtomicFile::new(path);
    fetch(name, retry, client, &mut factory).await
}

/// Downloads object `name` into any writer factory.
pub async fn download_with_factory<F: AsyncWriterFactory>(
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
    factory: &mut F,
) -> Result<Delivered, TaskclusterError> {
    fetch(name, retry, client, factory).await
}

/// The one body of the four entry points above.
pub(crate) async fn fetch<F: AsyncWriterFactory>(
    name: &str,
    retry: &Retry,
    client: &Taskcluster,
    factory: &mut F,
) -> Result<Delivered, TaskclusterError> {
    let offer = start_download(client, retry, name).await?;
    let download = match offer {
        Offer::GetUrl {
            url,
            expires,
            expected,
        } => {
            let mut download = Download::new(url);
            download.expected.sha256 = expected.sha256;
            download.expected.sha512 = expected.sha512;
            download.renew = Some(Arc::new(GetUrlRenewal {
                client: client.clone(),
                retry: retry.clone(),
                name: name.to_owned(),
                expires: Mutex::new(expires),
            }));
            download
        }
        Offer::Simple { url } => Download::new(url),
    };
    let http = match download.renew {
        Some(_) => &client.strict,
        // `simple` answers with a redirect to the data, by design.
        None => &client.follow,
    };
    let downloaded = transfer(http, retry, &download, factory).await?;
    Ok(Delivered::from(downloaded))
}

/// What `startDownload` offered.
enum Offer {
    GetUrl {
        url: Url,
        expires: OffsetDateTime,
        expected: ExpectedHashes,
    },
    Simple {
        url: Url,
    },
}

#[derive(Debug, Default, PartialEq, Eq)]
struct ExpectedHashes {
    sha256: Option<Sha256Digest>,
    sha512: Option<Sha512Digest>,
}

async fn start_download(
    client: &Taskcluster,
    retry: &Retry,
    name: &str,
) -> Result<Offer, TaskclusterError> {
    let mut methods = serde_json::Map::new();
    methods.insert("getUrl".into(), true.into());
    if client.allow_simple {
        methods.insert("simple".into(), true.into());
    }
    let body = json!({ "acceptDownloadMethods": methods });
    let url = client.endpoint("object", &["start-download", name]);
    let answer = client
        .call(
            retry,
            Method::PUT,
            "object",
            "startDownload",
            url,
            Some(&body),
        )
        .await?;
    parse_offer(name, &answer, client.allow_simple)
}

fn parse_offer(name: &str, answer: &Value, allow_simple: bool) -> Result<Offer, TaskclusterError> {
    let answer = Answer {
        value: answer,
        service: "object",
        operation: "startDownload",
    };
    let invalid = |detail: String| answer.invalid(detail);
    let text = |field: &str| answer.text(field);
    let parse_url = |field: &str| answer.url(field);
    match text("method")? {
        "getUrl" => {
            let expires = OffsetDateTime::parse(text("expires")?, &Rfc3339)
                .map_err(|error| invalid(format!("expires: {error}")))?;
            let hashes = answer
                .value
                .get("hashes")
                .and_then(Value::as_object)
                .ok_or_else(|| invalid("no \"hashes\" object".into()))?;
            let expected = acceptable_hashes(name, hashes).map_err(|error| match error {
                HashProblem::Invalid(detail) => invalid(detail),
                HashProblem::NoneAcceptable(algorithms) => TaskclusterError::NoAcceptableHash {
                    name: name.to_owned(),
                    algorithms,
                },
            })?;
            Ok(Offer::GetUrl {
                url: parse_url("url")?,
                expires,
                expected,
            })
        }
        "simple" if allow_simple => Ok(Offer::Simple {
            url: parse_url("url")?,
        }),
        other => Err(TaskclusterError::UnknownMethod {
            name: name.to_owned(),
            method: other.to_owned(),
        }),
    }
}

enum HashProblem {
    Invalid(String),
    NoneAcceptable(Vec<String>),
}

/// The service's rule: every known algorithm present is verified, at least one acceptable
/// algorithm must be present, unknown algorithms are ignored (they may be added later).
fn acceptable_hashes(
    name: &str,
    hashes: &serde_json::Map<String, Value>,
) -> Result<ExpectedHashes, HashProblem> {
    let mut expected = ExpectedHashes::default();
    for (algorithm, value) in hashes {
        let digest = || {
            value.as_str().ok_or_else(|| {
                HashProblem::Invalid(format!("hashes.{algorithm} of {name:?} is not a string"))
            })
        };
        let invalid = |error: crate::DigestParseError| {
            HashProblem::Invalid(format!("hashes.{algorithm} of {name:?}: {error}"))
        };
        match algorithm.as_str() {
            "sha256" => expected.sha256 = Some(digest()?.parse().map_err(invalid)?),
            "sha512" => expected.sha512 = Some(digest()?.parse().map_err(invalid)?),
            _ => {}
        }
    }
    if expected == ExpectedHashes::default() {
        let mut algorithms: Vec<String> = hashes.keys().cloned().collect();
        algorithms.sort();
        return Err(HashProblem::NoneAcceptable(algorithms));
    }
    Ok(expected)
}

/// Asks the object service for a fresh URL when a retry comes after the current one expired.
struct GetUrlRenewal {
    client: Taskcluster,
    retry: Retry,
    name: String,
    expires: Mutex<OffsetDateTime>,
}

impl Renew for GetUrlRenewal {
    fn renew(
        &self,
        _attempt: u32,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Url>, RenewError>> + Send + '_>> {
        Box::pin(async move {
            // Only a URL that has been used (every attempt after the first) and expired is
            // renewed: a service handing out already-expired URLs must not loop us forever.
            let expires = *self.expires.lock().unwrap_or_else(|e| e.into_inner());
            if expires > OffsetDateTime::now_utc() {
                return Ok(None);
            }
            tracing::debug!(name = %self.name, "getUrl expired; asking for a fresh one");
            let failed = |error: TaskclusterError| RenewError {
                transient: error.is_transient(),
                message: error.to_string(),
            };
            match start_download(&self.client, &self.retry, &self.name)
                .await
                .map_err(failed)?
            {
                // Objects are immutable: the hashes checked are the first answer's.
                Offer::GetUrl { url, expires, .. } => {
                    *self.expires.lock().unwrap_or_else(|e| e.into_inner()) = expires;
                    Ok(Some(url))
                }
                Offer::Simple { .. } => Err(RenewError {
                    message: "the service switched to the simple method".into(),
                    transient: false,
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(hashes: Value, expected: &str) {
        let map = hashes.as_object().unwrap().clone();
        let got = match acceptable_hashes("x", &map) {
            Ok(hashes) => format!(
                "ok sha256={} sha512={}",
                hashes.sha256.is_some(),
                hashes.sha512.is_some()
            ),
            Err(HashProblem::Invalid(detail)) => format!("invalid: {detail}"),
            Err(HashProblem::NoneAcceptable(algorithms)) => format!("none: {algorithms:?}"),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn hash_rules() {
        let sha256 = "a".repeat(64);
        let sha512 = "b".repeat(128);
        check(json!({}), "none: []");
        check(json!({"md5": "abc"}), "none: [\"md5\"]");
        check(json!({"sha256": sha256}), "ok sha256=true sha512=false");
        check(
            json!({"sha256": sha256, "sha512": sha512, "blake3": "whatever"}),
            "ok sha256=true sha512=true",
        );
        check(
            json!({"sha256": "xyz"}),
            "invalid: hashes.sha256 of \"x\": invalid sha256 digest: expected 64 hex digits, got 3",
        );
        check(
            json!({"sha512": 7}),
            "invalid: hashes.sha512 of \"x\" is not a string",
        );
    }
}
