//! `Download::parse` on arbitrary text: never panics, errors are one line, and neither errors
//! nor the redacted URL show the credentials written in the input.

#![no_main]

use fetchkit_transport::{Download, Error, ErrorKind, RedactedUrl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match Download::parse(input) {
        Ok(download) => check_ok(&download),
        Err(error) => check_err(input, &error),
    }
});

/// The URL shows neither its user name nor its password.
fn check_ok(download: &Download) {
    let url = download.url.expose();
    assert!(matches!(url.scheme(), "http" | "https"), "accepted {url}");
    let redacted = download.url.redacted();
    assert_eq!(redacted.password(), None, "password kept in {redacted}");
    assert!(
        matches!(redacted.username(), "" | "***"),
        "user name kept in {redacted}"
    );

    let shown = download.url.to_string();
    // Everything the display may legitimately show: the same URL without credentials,
    // redacted. Serialised credentials hold no ':', '/' or '@' (they are percent-encoded), so
    // in "scheme://***@rest" a credential of 4+ characters can only sit inside the scheme or
    // the rest, and `bare` contains both.
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    let bare = RedactedUrl::new(bare).to_string();
    for credential in [url.username(), url.password().unwrap_or_default()] {
        if credential.len() >= 4 && !bare.contains(credential) {
            assert!(
                !shown.contains(credential),
                "credential {credential:?} of {url} shown in {shown:?}"
            );
        }
    }
}

/// The error is one line and does not show the credentials written in the input.
fn check_err(input: &str, error: &Error) {
    let message = error.to_string();
    assert!(
        !message.contains(['\n', '\r']),
        "error for {input:?} is not one line: {message:?}"
    );
    let ErrorKind::InvalidUrl {
        input: shown,
        reason,
    } = error.kind()
    else {
        return;
    };
    let Some(secret) = written_secret(input) else {
        return;
    };
    assert!(
        !shown.contains(secret),
        "credentials {secret:?} of {input:?} kept in the error's input {shown:?}"
    );
    // The message quotes `shown` between the library's and the url crate's words. Quoting
    // printable ASCII only escapes '"' and '\', which the secret lacks, so the secret can be
    // in the message only through `shown` or through those words.
    let words = ErrorKind::InvalidUrl {
        input: String::new(),
        reason: reason.clone(),
    }
    .to_string();
    if shown.bytes().all(|byte| (0x20..0x7f).contains(&byte)) && !words.contains(secret) {
        assert!(
            !message.contains(secret),
            "credentials {secret:?} of {input:?} shown in {message:?}"
        );
    }
}

/// The text between "://" and the authority's last '@', when it is distinctive enough that
/// finding it in a message can only mean a leak: 4+ printable ASCII characters, none of
/// those the redaction writes or quoting escapes (`*@"\`) or that end the authority (`/?#`),
/// and written only once in the input.
fn written_secret(input: &str) -> Option<&str> {
    let (_, rest) = input.split_once("://")?;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let (secret, _) = authority.rsplit_once('@')?;
    let distinctive = secret.len() >= 4
        && secret
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && !b"*@\"\\/?#".contains(&byte))
        && input.find(secret) == input.rfind(secret);
    distinctive.then_some(secret)
}
