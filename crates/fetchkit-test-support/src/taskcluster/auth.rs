//! Hawk authentication as the Taskcluster services check it, and the temporary credentials the
//! fake queue issues.

use std::hash::{BuildHasher as _, Hasher as _, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD, URL_SAFE_NO_PAD,
};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::{Value, json};

use crate::request::RecordedRequest;

/// The clock skew the services allow on Hawk timestamps.
const SKEW: Duration = Duration::from_secs(15 * 60);
/// How long issued temporary credentials last, as the queue's for object artifacts.
const TEMPORARY_LIFETIME_MS: u64 = 60 * 60 * 1000;
/// The client that signs the certificates; it appears as the certificate's `issuer`.
const ISSUER: &str = "static/taskcluster/queue";

/// The permanent credentials a test configured.
#[derive(Debug)]
pub(super) struct Permanent {
    pub(super) client_id: String,
    pub(super) access_token: String,
}

/// Temporary credentials this fake issued.
#[derive(Debug)]
pub(super) struct Issued {
    client_id: String,
    access_token: String,
    seed: String,
    signature: String,
    scopes: Vec<String>,
    expiry_ms: u64,
}

/// Who made a request.
#[derive(Debug)]
pub(super) enum Auth {
    /// No `Authorization` header.
    Anonymous,
    Valid(Caller),
    /// A header that does not authenticate, with the reason for the 401 message.
    Failed(String),
}

#[derive(Debug)]
pub(super) struct Caller {
    pub(super) client_id: String,
    /// `None` for the permanent credentials, which have every scope.
    scopes: Option<Vec<String>>,
}

impl Caller {
    /// Whether the caller's scopes satisfy `scope`: equal, or a pattern ending in `*` that
    /// prefixes it.
    pub(super) fn satisfies(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|scopes| scopes.iter().any(|s| scope_satisfies(s, scope)))
    }
}

fn scope_satisfies(have: &str, want: &str) -> bool {
    match have.strip_suffix('*') {
        Some(prefix) => want.starts_with(prefix),
        None => have == want,
    }
}

/// Checks the request's `Authorization` header against the configured permanent credentials and
/// the issued temporary ones.
pub(super) fn authenticate(
    permanent: Option<&Permanent>,
    issued: &[Issued],
    request: &RecordedRequest,
) -> Auth {
    match caller(permanent, issued, request) {
        Ok(Some(caller)) => Auth::Valid(caller),
        Ok(None) => Auth::Anonymous,
        Err(message) => Auth::Failed(message),
    }
}

fn caller(
    permanent: Option<&Permanent>,
    issued: &[Issued],
    request: &RecordedRequest,
) -> Result<Option<Caller>, String> {
    let Some(value) = request.header("Authorization") else {
        return Ok(None);
    };
    let fields = value
        .strip_prefix("Hawk ")
        .ok_or_else(|| format!("Authorization header is not Hawk: {value:?}"))?;
    let header: hawk::Header = fields
        .parse()
        .map_err(|error| format!("cannot parse the Hawk header: {error}"))?;
    let id = header
        .id
        .clone()
        .ok_or_else(|| "the Hawk header has no id".to_owned())?;
    let ext = match &header.ext {
        Some(ext) => parse_ext(ext)?,
        None => Value::Object(serde_json::Map::new()),
    };

    let (access_token, scopes) = match ext.get("certificate") {
        Some(certificate) => {
            let issued = check_certificate(certificate, &id, issued)?;
            (issued.access_token.as_str(), Some(issued.scopes.clone()))
        }
        None => match permanent {
            Some(permanent) if permanent.client_id == id => (permanent.access_token.as_str(), None),
            _ if issued.iter().any(|i| i.client_id == id) => {
                return Err(format!(
                    "{id} holds temporary credentials, but ext carries no certificate"
                ));
            }
            _ => return Err(format!("no such clientId: {id}")),
        },
    };

    let ts = header
        .ts
        .ok_or_else(|| "the Hawk header has no ts".to_owned())?;
    let now = SystemTime::now();
    let skew = now
        .duration_since(ts)
        .unwrap_or_else(|early| early.duration());
    if skew > SKEW {
        return Err(format!(
            "Stale timestamp: the Hawk ts is {}s away from the server's clock",
            skew.as_secs()
        ));
    }
    let (host, port) = host_and_port(request)?;
    let method = request.method.to_ascii_uppercase();
    let signed = hawk::RequestBuilder::new(&method, &host, port, &request.target).request();
    let key = hawk::Key::new(access_token.as_bytes(), hawk::SHA256)
        .map_err(|error| format!("cannot build a Hawk key: {error}"))?;
    if !signed.validate_header(&header, &key, SKEW) {
        return Err(format!(
            "Unauthorized: Bad mac (checked {method} {} for host {host} port {port} as {id})",
            request.target
        ));
    }

    let scopes = match ext.get("authorizedScopes") {
        None => scopes,
        Some(authorized) => Some(narrow(&id, scopes, authorized)?),
    };
    Ok(Some(Caller {
        client_id: id,
        scopes,
    }))
}

/// Decodes `ext`: base64 of a JSON object, in any of the alphabets and paddings the services'
/// `Buffer.from(ext, 'base64')` accepts.
fn parse_ext(ext: &str) -> Result<Value, String> {
    const STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = STANDARD_ANY_PADDING
        .decode(ext)
        .or_else(|_| URL_SAFE_ANY_PADDING.decode(ext))
        .map_err(|error| format!("Failed to parse ext: not base64 ({error})"))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|error| format!("Failed to parse ext: not JSON ({error})"))?;
    if !value.is_object() {
        return Err("Failed to parse ext: not a JSON object".to_owned());
    }
    Ok(value)
}

/// Checks `certificate` the way the auth service does, then requires that this fake issued it to
/// `client_id`.
fn check_certificate<'a>(
    certificate: &Value,
    client_id: &str,
    issued: &'a [Issued],
) -> Result<&'a Issued, String> {
    let Some(certificate) = certificate.as_object() else {
        return Err("ext.certificate must be a JSON object".to_owned());
    };
    if certificate.get("version").and_then(Value::as_u64) != Some(1) {
        return Err("ext.certificate.version must be 1".to_owned());
    }
    let seed = certificate
        .get("seed")
        .and_then(Value::as_str)
        .ok_or_else(|| "ext.certificate.seed must be a string".to_owned())?;
    if seed.len() != 44 {
        return Err("ext.certificate.seed must be 44 characters".to_owned());
    }
    for field in ["start", "expiry"] {
        if !certificate.get(field).is_some_and(Value::is_number) {
            return Err(format!("ext.certificate.{field} must be a number"));
        }
    }
    if !certificate
        .get("scopes")
        .and_then(Value::as_array)
        .is_some_and(|scopes| scopes.iter().all(Value::is_string))
    {
        return Err("ext.certificate.scopes must be an array of strings".to_owned());
    }
    let signature = certificate
        .get("signature")
        .and_then(Value::as_str)
        .ok_or_else(|| "ext.certificate.signature must be a string".to_owned())?;
    let issued = issued
        .iter()
        .find(|i| i.client_id == client_id && i.seed == seed && i.signature == signature)
        .ok_or_else(|| {
            format!(
                "ext.certificate.signature is not valid: this fake issued no such certificate \
                 to {client_id}"
            )
        })?;
    if issued.expiry_ms < now_ms() {
        return Err("ext.certificate.expiry < now".to_owned());
    }
    Ok(issued)
}

/// Applies `ext.authorizedScopes`: each must be satisfied by the credentials, and they replace
/// the credentials' scopes.
fn narrow(
    id: &str,
    scopes: Option<Vec<String>>,
    authorized: &Value,
) -> Result<Vec<String>, String> {
    let authorized: Vec<String> = authorized
        .as_array()
        .and_then(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .ok_or_else(|| "ext.authorizedScopes must be an array of strings".to_owned())?;
    let caller = Caller {
        client_id: id.to_owned(),
        scopes,
    };
    if let Some(missing) = authorized.iter().find(|s| !caller.satisfies(s)) {
        return Err(format!(
            "ext.authorizedScopes oversteps your scopes: {id} does not have {missing}"
        ));
    }
    Ok(authorized)
}

/// The host and port the client signed: those of the `Host` header, which for a loopback root
/// URL are the ones in the root URL.
fn host_and_port(request: &RecordedRequest) -> Result<(String, u16), String> {
    let host = request
        .header("Host")
        .ok_or_else(|| "the request has no Host header to check the Hawk MAC against".to_owned())?
        .trim();
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && !port.contains(']') => {
            let port = port
                .parse()
                .map_err(|_| format!("bad port in Host header {host:?}"))?;
            (name, port)
        }
        _ => (host, 80),
    };
    Ok((name.to_ascii_lowercase(), port))
}

/// Issues temporary credentials for `scopes` the way `createTemporaryCredentials` does for named
/// credentials, signed with `issuer_token`; returns the record to check them by and the
/// `{clientId, accessToken, certificate}` object the queue sends.
pub(super) fn issue(issuer_token: &str, client_id: &str, scopes: Vec<String>) -> (Issued, Value) {
    let start = now_ms();
    let expiry = start + TEMPORARY_LIFETIME_MS;
    // Two slugids' worth, as the services make them.
    let seed = random_token(33);
    let key = hawk::Key::new(issuer_token.as_bytes(), hawk::SHA256)
        .expect("an HMAC-SHA256 key accepts any bytes");
    let signed = format!(
        "version:1\nclientId:{client_id}\nissuer:{ISSUER}\nseed:{seed}\nstart:{start}\n\
         expiry:{expiry}\nscopes:\n{}",
        scopes.join("\n")
    );
    let signature = STANDARD.encode(key.sign(signed.as_bytes()).expect("HMAC-SHA256 signs"));
    let access_token =
        URL_SAFE_NO_PAD.encode(key.sign(seed.as_bytes()).expect("HMAC-SHA256 signs"));
    let certificate = json!({
        "version": 1,
        "scopes": scopes,
        "start": start,
        "expiry": expiry,
        "seed": seed,
        "signature": signature,
        "issuer": ISSUER,
    });
    let credentials = json!({
        "clientId": client_id,
        "accessToken": access_token,
        "certificate": certificate.to_string(),
    });
    let issued = Issued {
        client_id: client_id.to_owned(),
        access_token,
        seed,
        signature,
        scopes,
        expiry_ms: expiry,
    };
    (issued, credentials)
}

/// `bytes` random bytes in unpadded URL-safe base64. Not cryptographic: enough that tokens and
/// seeds differ between calls and runs.
pub(super) fn random_token(bytes: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = Vec::with_capacity(bytes + 8);
    while out.len() < bytes {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        out.extend_from_slice(&hasher.finish().to_le_bytes());
    }
    out.truncate(bytes);
    general_purpose::URL_SAFE_NO_PAD.encode(out)
}

fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::scope_satisfies;

    #[test]
    fn scopes() {
        assert!(scope_satisfies(
            "object:download:a/b",
            "object:download:a/b"
        ));
        assert!(scope_satisfies(
            "object:download:a/*",
            "object:download:a/b"
        ));
        assert!(scope_satisfies("*", "queue:get-artifact:x"));
        assert!(!scope_satisfies(
            "object:download:a/b",
            "object:download:a/bc"
        ));
        assert!(!scope_satisfies(
            "object:download:a/b",
            "queue:get-artifact:a/b"
        ));
    }
}
