//! URLs as they may be shown: without credentials or secret query values.

use std::fmt;

use url::Url;

/// A URL that displays (and debug-prints) without its secrets: user name and password become
/// `***`, and so do the values of query parameters whose names suggest a secret (signatures,
/// tokens, keys, credentials, Hawk bewits). The full URL is reachable only through
/// [`RedactedUrl::expose`], so a leak is visible in review.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedactedUrl(Url);

/// Substrings of query parameter names whose values are secrets. Matching is on the
/// lower-cased name; over-redacting a harmless value is the cheaper mistake.
const SECRET_PARAMETERS: &[&str] = &[
    "sig", "token", "key", "secret", "pass", "auth", "cred", "bewit", "session",
];

impl RedactedUrl {
    /// Wraps `url`.
    pub fn new(url: Url) -> RedactedUrl {
        RedactedUrl(url)
    }

    /// The full URL, secrets included: for making requests, never for messages.
    pub fn expose(&self) -> &Url {
        &self.0
    }

    /// The URL as it may be shown.
    pub fn redacted(&self) -> Url {
        let mut url = self.0.clone();
        if !url.username().is_empty() || url.password().is_some() {
            // Both can fail only for URLs that cannot carry credentials, which then have none.
            let _ = url.set_username("***");
            let _ = url.set_password(None);
        }
        if url.query().is_some() {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(name, value)| {
                    let lower = name.to_lowercase();
                    let value = if SECRET_PARAMETERS
                        .iter()
                        .any(|secret| lower.contains(secret))
                    {
                        "***".into()
                    } else {
                        value.into_owned()
                    };
                    (name.into_owned(), value)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url
    }
}

impl From<Url> for RedactedUrl {
    fn from(url: Url) -> RedactedUrl {
        RedactedUrl(url)
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.redacted().as_str())
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedUrl({})", self.redacted())
    }
}
