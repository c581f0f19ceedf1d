//! Registry endpoints as configuration: URL templates with cargo's `dl` markers.

use fetchkit_transport::{RedactedUrl, Sha256Digest};
use url::Url;

use crate::ListError;

/// Where a registry's crate files and origins are: two URL templates.
///
/// The crate-file template uses the markers of cargo's `dl` setting: `{crate}`, `{version}`,
/// `{prefix}`, `{lowerprefix}` and `{sha256-checksum}` (`{prefix}` is the index directory of
/// the name: `1`, `2`, `3/a` or `ab/cd`). As in cargo, a template with none of them gets
/// `/{crate}/{version}/download` appended. It must tell crate files apart, so it needs
/// `{sha256-checksum}`, or both `{crate}` and `{version}`.
///
/// The origin template (Software Heritage's origin URL, one per crate) knows `{crate}` only,
/// and must use it. Values are substituted as they are, without escaping, as cargo does.
/// Any other `{...}` is an error, and so is a template that does not expand to an absolute URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Templates {
    crate_file: Template,
    origin: Template,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Crate,
    Version,
    Prefix,
    LowerPrefix,
    Sha256,
}

const CARGO_DEFAULT_SUFFIX: &str = "/{crate}/{version}/download";

impl Templates {
    /// Checks and keeps the two templates (see the type's documentation for the rules).
    pub fn new(
        crate_file: impl Into<String>,
        origin: impl Into<String>,
    ) -> Result<Templates, ListError> {
        let mut crate_file = crate_file.into();
        let origin = origin.into();
        let error = |which, template: &str, reason: String| ListError::Template {
            which,
            template: template.to_owned(),
            reason,
        };

        let mut parts =
            parse(&crate_file).map_err(|reason| error("crate-file", &crate_file, reason))?;
        if parts.iter().all(|part| matches!(part, Part::Literal(_))) {
            crate_file.push_str(CARGO_DEFAULT_SUFFIX);
            parts =
                parse(&crate_file).map_err(|reason| error("crate-file", &crate_file, reason))?;
        }
        let has = |part: Part| parts.contains(&part);
        if !(has(Part::Sha256) || (has(Part::Crate) && has(Part::Version))) {
            return Err(error(
                "crate-file",
                &crate_file,
                "it must contain {crate} and {version}, or {sha256-checksum}, to name each \
                 crate file apart"
                    .into(),
            ));
        }
        let crate_file = Template {
            text: crate_file,
            parts,
        };

        let origin_parts = parse(&origin).map_err(|reason| error("origin", &origin, reason))?;
        if let Some(part) = origin_parts
            .iter()
            .find(|part| !matches!(part, Part::Literal(_) | Part::Crate))
        {
            return Err(error(
                "origin",
                &origin,
                format!(
                    "{} is for crate files; origins know only {{crate}}",
                    part.marker()
                ),
            ));
        }
        if !origin_parts.contains(&Part::Crate) {
            return Err(error("origin", &origin, "it must contain {crate}".into()));
        }
        let origin = Template {
            text: origin,
            parts: origin_parts,
        };

        let templates = Templates { crate_file, origin };
        let sample_checksum = Sha256Digest([0xab; 32]);
        let sample = templates.crate_file_url("sample", "1.0.0", &sample_checksum);
        if let Err(reason) = Url::parse(&sample) {
            return Err(error(
                "crate-file",
                &templates.crate_file.text,
                format!("it does not expand to an absolute URL ({reason})"),
            ));
        }
        if let Err(reason) = Url::parse(&templates.origin_url("sample")) {
            return Err(error(
                "origin",
                &templates.origin.text,
                format!("it does not expand to an absolute URL ({reason})"),
            ));
        }
        Ok(templates)
    }

    /// The templates for a registry laid out like the public one, next to its dump: for a dump
    /// at `<base>/db-dump.tar.gz` (any file name), crate files at
    /// `<base>/crates/{crate}/{crate}-{version}.crate` and origins at `<base>/crates/{crate}`.
    ///
    /// The query and fragment of the dump's URL are dropped. It is an error when the URL is not
    /// `http` or `https` (a local file has no registry next to it), carries credentials (they
    /// would be printed in every crate-file URL), or does not end in a file name.
    ///
    /// The public registry serves its web pages (Software Heritage's origins) from another host
    /// than its files; to match Software Heritage's origin URLs, give the origin template
    /// explicitly.
    pub fn derived_from(dump_url: &Url) -> Result<Templates, ListError> {
        let error = |reason| ListError::CannotDerive {
            url: RedactedUrl::new(dump_url.clone()),
            reason,
        };
        if !matches!(dump_url.scheme(), "http" | "https") {
            return Err(error("it is not an http or https URL"));
        }
        if dump_url.host_str().is_none_or(str::is_empty) {
            return Err(error("it has no host"));
        }
        if !dump_url.username().is_empty() || dump_url.password().is_some() {
            return Err(error(
                "it carries credentials, which would appear in every crate-file URL",
            ));
        }
        let path = dump_url.path();
        let Some((directory, file)) = path.rsplit_once('/') else {
            return Err(error("it has no path"));
        };
        if file.is_empty() {
            return Err(error("it does not end in a file name"));
        }
        let mut base = dump_url.clone();
        base.set_query(None);
        base.set_fragment(None);
        base.set_path(directory);
        let base = base.as_str().trim_end_matches('/');
        Templates::new(
            format!("{base}/crates/{{crate}}/{{crate}}-{{version}}.crate"),
            format!("{base}/crates/{{crate}}"),
        )
    }

    /// The crate-file template (with cargo's default suffix when it had no marker).
    pub fn crate_file(&self) -> &str {
        &self.crate_file.text
    }

    /// The origin template.
    pub fn origin(&self) -> &str {
        &self.origin.text
    }

    /// The URL of one crate file.
    pub fn crate_file_url(&self, name: &str, version: &str, sha256: &Sha256Digest) -> String {
        self.crate_file.expand(name, version, Some(sha256))
    }

    /// The origin URL of one crate.
    pub fn origin_url(&self, name: &str) -> String {
        self.origin.expand(name, "", None)
    }

    /// The literal text of both templates (what surrounds the markers).
    pub(crate) fn literals(&self) -> impl Iterator<Item = &str> {
        self.crate_file.literals().chain(self.origin.literals())
    }

    /// [`crate_file_url`](Self::crate_file_url), appended to `out`.
    pub(crate) fn crate_file_url_into(
        &self,
        out: &mut impl TextSink,
        name: &str,
        version: &str,
        sha256: &Sha256Digest,
    ) {
        self.crate_file
            .expand_into(out, name, version, Some(sha256));
    }

    /// [`origin_url`](Self::origin_url), appended to `out`.
    pub(crate) fn origin_url_into(&self, out: &mut impl TextSink, name: &str) {
        self.origin.expand_into(out, name, "", None);
    }
}

impl Part {
    fn marker(&self) -> &'static str {
        match self {
            Part::Literal(_) => "",
            Part::Crate => "{crate}",
            Part::Version => "{version}",
            Part::Prefix => "{prefix}",
            Part::LowerPrefix => "{lowerprefix}",
            Part::Sha256 => "{sha256-checksum}",
        }
    }
}

fn parse(template: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("unclosed {{ at {:?}", &rest[open..]));
        };
        let marker = &rest[open..open + close + 1];
        parts.push(match marker {
            "{crate}" => Part::Crate,
            "{version}" => Part::Version,
            "{prefix}" => Part::Prefix,
            "{lowerprefix}" => Part::LowerPrefix,
            "{sha256-checksum}" => Part::Sha256,
            other => {
                // Escaped like the template in the message, so the error stays one line.
                return Err(format!(
                    "unknown marker {} (known: {{crate}}, {{version}}, {{prefix}}, \
                     {{lowerprefix}}, {{sha256-checksum}})",
                    other.escape_debug()
                ));
            }
        });
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    Ok(parts)
}

impl Template {
    fn expand(&self, name: &str, version: &str, sha256: Option<&Sha256Digest>) -> String {
        let mut out = String::new();
        self.expand_into(&mut out, name, version, sha256);
        out
    }

    /// Appends the expansion to `out` (which the listing's writer reuses line after line).
    fn expand_into(
        &self,
        out: &mut impl TextSink,
        name: &str,
        version: &str,
        sha256: Option<&Sha256Digest>,
    ) {
        let prefix = || crate_prefix(name);
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.put(text),
                Part::Crate => out.put(name),
                Part::Version => out.put(version),
                Part::Prefix => out.put(&prefix()),
                Part::LowerPrefix => out.put(&prefix().to_lowercase()),
                Part::Sha256 => {
                    if let Some(sha256) = sha256 {
                        out.put(hex_digits(&sha256.0).as_str());
                    }
                }
            }
        }
    }

    fn literals(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Literal(text) => Some(text.as_str()),
            _ => None,
        })
    }
}

/// Where an expansion goes: a `String`, or the listing writer's byte buffer.
pub(crate) trait TextSink {
    fn put(&mut self, text: &str);
}

impl TextSink for String {
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }
}

impl TextSink for Vec<u8> {
    fn put(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
}

/// Cargo's index directory of a crate name: `1`, `2`, `3/{first letter}` or
/// `{first two}/{next two}`.
fn crate_prefix(name: &str) -> String {
    let mut chars = name.chars();
    match name.chars().count() {
        0 => String::new(),
        1 => "1".into(),
        2 => "2".into(),
        3 => format!("3/{}", chars.next().unwrap_or_default()),
        _ => {
            let first: String = chars.by_ref().take(2).collect();
            let second: String = chars.take(2).collect();
            format!("{first}/{second}")
        }
    }
}

/// Up to 32 bytes as 64 lower-case hex digits, in a stack buffer. Branch-free arithmetic
/// rather than a table, so that the compiler vectorizes it: every listed version shows its
/// checksum.
pub(crate) fn hex_digits(bytes: &[u8]) -> HexText {
    fn digit(nibble: u8) -> u8 {
        nibble + if nibble < 10 { b'0' } else { b'a' - 10 }
    }
    let mut text = HexText {
        bytes: [0; 64],
        length: 2 * bytes.len().min(32),
    };
    for (pair, byte) in text.bytes.chunks_exact_mut(2).zip(bytes) {
        pair[0] = digit(byte >> 4);
        pair[1] = digit(byte & 0xf);
    }
    text
}

/// The hex digits of [`hex_digits`].
pub(crate) struct HexText {
    bytes: [u8; 64],
    length: usize,
}

impl HexText {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits are written.
        std::str::from_utf8(&self.bytes[..self.length]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRATE_FILE: &str =
        "https://static.registry.example/crates/{crate}/{crate}-{version}.crate";
    const ORIGIN: &str = "https://registry.example/crates/{crate}";

    /// Builds templates and expands them for one crate version, or shows the error.
    #[track_caller]
    fn check(crate_file: &str, origin: &str, name: &str, version: &str, expected: &str) {
        let checksum = Sha256Digest([0x0f; 32]);
        let actual = match Templates::new(crate_file, origin) {
            Ok(templates) => format!(
                "{} | {}",
                templates.crate_file_url(name, version, &checksum),
                templates.origin_url(name)
            ),
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected);
    }

    #[test]
    fn markers_expand() {
        check(
            CRATE_FILE,
            ORIGIN,
            "rand",
            "0.1.3-experimental",
            "https://static.registry.example/crates/rand/rand-0.1.3-experimental.crate | \
             https://registry.example/crates/rand",
        );
        check(
            "https://m.example/{prefix}/{lowerprefix}/{crate}/{version}",
            ORIGIN,
            "Inflector",
            "1.0.0+build.5",
            "https://m.example/In/fl/in/fl/Inflector/1.0.0+build.5 | \
             https://registry.example/crates/Inflector",
        );
        check(
            "https://m.example/{prefix}/{crate}-{version}",
            ORIGIN,
            "a",
            "1.0.0",
            "https://m.example/1/a-1.0.0 | https://registry.example/crates/a",
        );
        check(
            "https://m.example/{prefix}/{crate}-{version}",
            ORIGIN,
            "ab",
            "1.0.0",
            "https://m.example/2/ab-1.0.0 | https://registry.example/crates/ab",
        );
        check(
            "https://m.example/{lowerprefix}/{crate}-{version}",
            ORIGIN,
            "Abc",
            "1.0.0",
            "https://m.example/3/a/Abc-1.0.0 | https://registry.example/crates/Abc",
        );
        check(
            "https://m.example/by-hash/{sha256-checksum}",
            ORIGIN,
            "abc",
            "1.0.0",
            "https://m.example/by-hash/0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f | \
             https://registry.example/crates/abc",
        );
    }

    #[test]
    fn no_marker_gets_cargos_default_suffix() {
        check(
            "https://registry.example/api/v1/crates",
            ORIGIN,
            "serde",
            "1.0.0",
            "https://registry.example/api/v1/crates/serde/1.0.0/download | \
             https://registry.example/crates/serde",
        );
        let templates = Templates::new("https://registry.example/dl", ORIGIN).unwrap();
        assert_eq!(
            templates.crate_file(),
            "https://registry.example/dl/{crate}/{version}/download"
        );
        assert_eq!(templates.origin(), ORIGIN);
    }

    #[test]
    fn bad_templates_say_why() {
        check(
            "https://m.example/{crate}.crate",
            ORIGIN,
            "a",
            "1",
            "error: invalid crate-file template \"https://m.example/{crate}.crate\": it must \
             contain {crate} and {version}, or {sha256-checksum}, to name each crate file apart",
        );
        check(
            "https://m.example/{crate}/{vers}",
            ORIGIN,
            "a",
            "1",
            "error: invalid crate-file template \"https://m.example/{crate}/{vers}\": unknown \
             marker {vers} (known: {crate}, {version}, {prefix}, {lowerprefix}, {sha256-checksum})",
        );
        check(
            "https://m.example/{crate}/{version",
            ORIGIN,
            "a",
            "1",
            "error: invalid crate-file template \"https://m.example/{crate}/{version\": unclosed \
             { at \"{version\"",
        );
        check(
            "crates/{crate}/{version}",
            ORIGIN,
            "a",
            "1",
            "error: invalid crate-file template \"crates/{crate}/{version}\": it does not expand \
             to an absolute URL (relative URL without a base)",
        );
        check(
            CRATE_FILE,
            "https://registry.example/crates",
            "a",
            "1",
            "error: invalid origin template \"https://registry.example/crates\": it must contain \
             {crate}",
        );
        check(
            CRATE_FILE,
            "https://registry.example/crates/{crate}/{version}",
            "a",
            "1",
            "error: invalid origin template \"https://registry.example/crates/{crate}/{version}\": \
             {version} is for crate files; origins know only {crate}",
        );
        check(
            CRATE_FILE,
            "{crate}",
            "a",
            "1",
            "error: invalid origin template \"{crate}\": it does not expand to an absolute URL \
             (relative URL without a base)",
        );
    }

    /// Found by the `templates` fuzz target: an unknown marker spanning a line break made the
    /// error two lines.
    #[test]
    fn unknown_markers_are_shown_on_one_line() {
        check(
            CRATE_FILE,
            "http://127.0.0.1/{c\u{1}\nrate}",
            "a",
            "1",
            "error: invalid origin template \"http://127.0.0.1/{c\\u{1}\\nrate}\": unknown \
             marker {c\\u{1}\\nrate} (known: {crate}, {version}, {prefix}, {lowerprefix}, \
             {sha256-checksum})",
        );
    }

    /// Derives templates from a dump URL and shows them, or the error.
    #[track_caller]
    fn check_derived(url: &str, expected: &str) {
        let url = Url::parse(url).unwrap();
        let actual = match Templates::derived_from(&url) {
            Ok(templates) => format!("{} | {}", templates.crate_file(), templates.origin()),
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected);
    }

    #[test]
    fn derived_from_the_dump_url() {
        check_derived(
            "https://static.registry.example/db-dump.tar.gz",
            "https://static.registry.example/crates/{crate}/{crate}-{version}.crate | \
             https://static.registry.example/crates/{crate}",
        );
        check_derived(
            "http://127.0.0.1:8080/mirror/dumps/db-dump.tar.gz?token=secret#x",
            "http://127.0.0.1:8080/mirror/dumps/crates/{crate}/{crate}-{version}.crate | \
             http://127.0.0.1:8080/mirror/dumps/crates/{crate}",
        );
        check_derived(
            "file:///srv/db-dump.tar.gz",
            "error: cannot derive registry URLs from file:///srv/db-dump.tar.gz: it is not an \
             http or https URL; give the templates explicitly",
        );
        check_derived(
            "https://static.registry.example/",
            "error: cannot derive registry URLs from https://static.registry.example/: it does \
             not end in a file name; give the templates explicitly",
        );
        check_derived(
            "https://user:pw@static.registry.example/db-dump.tar.gz",
            "error: cannot derive registry URLs from https://***@static.registry.example/db-dump.tar.gz: \
             it carries credentials, which would appear in every crate-file URL; give the \
             templates explicitly",
        );
    }

    #[test]
    fn prefixes_follow_cargo() {
        assert_eq!(crate_prefix("a"), "1");
        assert_eq!(crate_prefix("ab"), "2");
        assert_eq!(crate_prefix("abc"), "3/a");
        assert_eq!(crate_prefix("abcd"), "ab/cd");
        assert_eq!(crate_prefix("serde_json"), "se/rd");
    }
}
