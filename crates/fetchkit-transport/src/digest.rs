//! Digest values: parsed from and shown as lower-case hex, compared in constant shape.

use std::fmt;
use std::str::FromStr;

macro_rules! digest_type {
    ($name:ident, $bytes:literal, $algorithm:literal) => {
        #[doc = concat!("A ", $algorithm, " digest (", stringify!($bytes), " bytes).")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; $bytes]);

        impl $name {
            /// The algorithm's name as fetchkit prints it.
            pub const ALGORITHM: &'static str = $algorithm;

            /// Lower-case hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl FromStr for $name {
            type Err = DigestParseError;

            /// Parses hex of either case; anything but exactly the right number of hex digits
            /// is an error that says what was wrong.
            fn from_str(text: &str) -> Result<Self, DigestParseError> {
                let mut bytes = [0u8; $bytes];
                let text = text.trim();
                if text.len() != $bytes * 2 {
                    return Err(DigestParseError {
                        algorithm: $algorithm,
                        reason: format!("expected {} hex digits, got {}", $bytes * 2, text.len()),
                    });
                }
                hex::decode_to_slice(text, &mut bytes).map_err(|error| DigestParseError {
                    algorithm: $algorithm,
                    reason: error.to_string().to_lowercase(),
                })?;
                Ok($name(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
    };
}

digest_type!(Sha256Digest, 32, "sha256");
digest_type!(Sha512Digest, 64, "sha512");

/// A digest given as text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {algorithm} digest: {reason}")]
pub struct DigestParseError {
    /// Which digest was being parsed.
    pub algorithm: &'static str,
    /// What was wrong with it.
    pub reason: String,
}

/// What a download must turn out to be. Every value given is checked before the data is
/// committed; a mismatch is permanent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expected {
    /// Exact length of the decoded body, in bytes.
    pub size: Option<u64>,
    /// SHA-256 of the decoded body.
    pub sha256: Option<Sha256Digest>,
    /// SHA-512 of the decoded body.
    pub sha512: Option<Sha512Digest>,
}
