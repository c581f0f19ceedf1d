//! The small value types: digests, redacted URLs, status classification.

use fetchkit_transport::{RedactedUrl, Sha256Digest, Sha512Digest, status_is_transient};
use url::Url;

#[track_caller]
fn check_redacted(input: &str, expected: &str) {
    let url = RedactedUrl::new(Url::parse(input).unwrap());
    assert_eq!(url.to_string(), expected);
    assert_eq!(format!("{url:?}"), format!("RedactedUrl({expected})"));
    assert_eq!(url.expose().as_str(), Url::parse(input).unwrap().as_str());
}

#[test]
fn redaction() {
    check_redacted("http://127.0.0.1/a/b.crate", "http://127.0.0.1/a/b.crate");
    check_redacted("https://user:pw@127.0.0.1/x", "https://***@127.0.0.1/x");
    check_redacted("https://tokenonly@127.0.0.1/x", "https://***@127.0.0.1/x");
    check_redacted(
        "http://127.0.0.1/o?X-Amz-Signature=abc&X-Amz-Credential=def&X-Amz-Date=20260101",
        "http://127.0.0.1/o?X-Amz-Signature=***&X-Amz-Credential=***&X-Amz-Date=20260101",
    );
    check_redacted(
        "http://127.0.0.1/o?bewit=xyz&access_token=t&api_key=k&page=3",
        "http://127.0.0.1/o?bewit=***&access_token=***&api_key=***&page=3",
    );
    check_redacted("http://127.0.0.1/o?", "http://127.0.0.1/o?");
}

#[test]
fn digests_parse_from_hex_of_either_case() {
    let lower = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let digest: Sha256Digest = lower.to_uppercase().parse().unwrap();
    assert_eq!(digest.to_string(), lower);
    assert_eq!(format!("{digest:?}"), format!("Sha256Digest({lower})"));
    let sha512: Sha512Digest = "ab".repeat(64).parse().unwrap();
    assert_eq!(sha512.0, [0xab; 64]);
}

#[test]
fn bad_digests_say_what_is_wrong() {
    for (input, expected) in [
        (
            "abc",
            "invalid sha256 digest: expected 64 hex digits, got 3",
        ),
        ("", "invalid sha256 digest: expected 64 hex digits, got 0"),
        (
            &"zz".repeat(32),
            "invalid sha256 digest: invalid character 'z' at position 0",
        ),
    ] {
        let error = input.parse::<Sha256Digest>().unwrap_err();
        assert_eq!(error.to_string(), expected, "input {input:?}");
    }
    assert_eq!(
        "00".repeat(32)
            .parse::<Sha512Digest>()
            .unwrap_err()
            .to_string(),
        "invalid sha512 digest: expected 128 hex digits, got 64"
    );
}

#[test]
fn statuses_that_can_change_on_their_own_are_transient() {
    let transient: Vec<u16> = (100..600)
        .filter(|&status| status_is_transient(status))
        .collect();
    let mut expected = vec![408, 429];
    expected.extend(500..600);
    assert_eq!(transient, expected);
}
