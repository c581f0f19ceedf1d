//! Digest parsing on arbitrary text: `Ok` exactly for the right number of hex digits (after
//! trimming), shown back as lower-case hex; errors are one line.

#![no_main]

use std::fmt::Display;
use std::str::FromStr;

use fetchkit_transport::{DigestParseError, Sha256Digest, Sha512Digest};
use libfuzzer_sys::fuzz_target;

fn check<D>(text: &str, hex_digits: usize, algorithm: &str, to_hex: impl Fn(&D) -> String)
where
    D: FromStr<Err = DigestParseError> + Display + PartialEq + std::fmt::Debug,
{
    let trimmed = text.trim();
    let well_formed =
        trimmed.len() == hex_digits && trimmed.bytes().all(|byte| byte.is_ascii_hexdigit());
    match text.parse::<D>() {
        Ok(digest) => {
            assert!(well_formed, "{algorithm}: accepted {text:?}");
            let hex = to_hex(&digest);
            assert_eq!(
                hex,
                trimmed.to_ascii_lowercase(),
                "{algorithm}: to_hex of {text:?}"
            );
            assert_eq!(digest.to_string(), hex, "{algorithm}: Display of {text:?}");
            assert_eq!(
                hex.parse::<D>().ok(),
                Some(digest),
                "{algorithm}: round trip"
            );
        }
        Err(error) => {
            assert!(!well_formed, "{algorithm}: rejected {text:?}: {error}");
            assert_eq!(error.algorithm, algorithm);
            let message = error.to_string();
            assert!(
                !message.contains(['\n', '\r']),
                "{algorithm}: error for {text:?} is not one line: {message:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check::<Sha256Digest>(text, 64, Sha256Digest::ALGORITHM, Sha256Digest::to_hex);
    check::<Sha512Digest>(text, 128, Sha512Digest::ALGORITHM, Sha512Digest::to_hex);
});
