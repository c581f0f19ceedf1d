//! Cargo's index cache file ("SummariesCache"), read in place and written byte for byte.
//!
//! The layout (cache version 3, index schema version 2, as cargo 1.95 writes it):
//!
//! ```text
//! 03 | 02 00 00 00 (u32, little-endian) | index version | 00
//! then, for each version: version key | 00 | JSON blob (the raw index line) | 00
//! ```
//!
//! Reading follows cargo's rules: a wrong header, an index version that is not UTF-8 or a key
//! that is not semver makes the whole file unusable ([`CacheError`]); a blob is not looked at
//! until a query needs it, and a malformed one only hides its own version. Where cargo panics
//! (a key with no blob after it), this is an error too. Nothing is copied: keys and blobs are
//! slices of the caller's buffer, found with `memchr`.

use std::sync::atomic::{AtomicU8, Ordering};

use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::{CacheError, LineError};

/// The cache version byte cargo 1.54 and later write and read.
pub const CACHE_VERSION: u8 = 3;

/// The index schema version cargo writes after the cache version; it reads only this one.
pub const INDEX_SCHEMA_VERSION: u32 = 2;

/// One version in a cache file: its key, the key parsed, and the raw index line.
#[derive(Debug)]
pub struct CacheEntry<'a> {
    key: &'a str,
    version: Version,
    blob: &'a [u8],
    /// Byte offset of the key in the file.
    at: usize,
    /// What [`yanked`](CacheEntry::yanked) found, once it has looked: queries for several
    /// requirements often try the same version, and the look is a parse of the whole blob.
    /// An atomic rather than a `Cell` so that a file can be queried from several threads.
    flags: AtomicU8,
}

/// [`CacheEntry::flags`] values.
const NOT_LOOKED: u8 = 0;
const NOT_YANKED: u8 = 1;
const YANKED: u8 = 2;
const UNREADABLE: u8 = 3;

impl Clone for CacheEntry<'_> {
    fn clone(&self) -> Self {
        CacheEntry {
            key: self.key,
            version: self.version.clone(),
            blob: self.blob,
            at: self.at,
            flags: AtomicU8::new(self.flags.load(Ordering::Relaxed)),
        }
    }
}

/// Entries are equal when their keys, blobs and places are: whether either has been looked at
/// yet does not matter.
impl PartialEq for CacheEntry<'_> {
    fn eq(&self, other: &Self) -> bool {
        (self.key, &self.version, self.blob, self.at)
            == (other.key, &other.version, other.blob, other.at)
    }
}

impl Eq for CacheEntry<'_> {}

impl<'a> CacheEntry<'a> {
    /// The key as the file spells it (build metadata included).
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// The key as a version.
    pub fn version(&self) -> &Version {
        &self.version
    }

    /// The raw index line, exactly as stored.
    pub fn blob(&self) -> &'a [u8] {
        self.blob
    }

    /// Byte offset of the key in the file.
    pub fn offset(&self) -> usize {
        self.at
    }

    /// Whether the blob marks the version yanked, or `None` when the blob is not a JSON
    /// object (cargo then ignores the version). Only the blob's syntax and its top-level
    /// `yanked` field are looked at; nothing is allocated.
    pub fn yanked(&self) -> Option<bool> {
        #[derive(Deserialize)]
        struct Flags {
            #[serde(default)]
            yanked: Option<bool>,
        }
        let flags = match self.flags.load(Ordering::Relaxed) {
            NOT_LOOKED => {
                let flags = match serde_json::from_slice::<Flags>(self.blob) {
                    Ok(Flags { yanked: Some(true) }) => YANKED,
                    Ok(_) => NOT_YANKED,
                    Err(_) => UNREADABLE,
                };
                self.flags.store(flags, Ordering::Relaxed);
                flags
            }
            flags => flags,
        };
        match flags {
            NOT_YANKED => Some(false),
            YANKED => Some(true),
            _ => None,
        }
    }

    /// The blob as a typed [`IndexEntry`](crate::IndexEntry).
    pub fn entry(&self) -> Result<crate::IndexEntry, serde_json::Error> {
        serde_json::from_slice(self.blob)
    }
}

/// A cache file read in place. See the [module documentation](self) for the format.
///
/// ```
/// use fetchkit_index_cache::{CacheFile, CacheWriter};
///
/// let mut writer = CacheWriter::new("etag: \"abc\"").unwrap();
/// writer.push(&"1.0.0".parse().unwrap(), br#"{"name":"a","vers":"1.0.0","deps":[],"cksum":"00","features":{}}"#).unwrap();
/// writer.push(&"1.1.0".parse().unwrap(), br#"{"name":"a","vers":"1.1.0","deps":[],"cksum":"00","features":{},"yanked":true}"#).unwrap();
/// let bytes = writer.finish();
///
/// let cache = CacheFile::parse(&bytes).unwrap();
/// assert_eq!(cache.index_version(), "etag: \"abc\"");
/// let newest = cache.newest_matching(&"^1".parse().unwrap(), false).unwrap();
/// assert_eq!(newest.key(), "1.0.0");
/// assert_eq!(cache.to_bytes(), bytes);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheFile<'a> {
    index_version: &'a str,
    entries: Vec<CacheEntry<'a>>,
}

impl<'a> CacheFile<'a> {
    /// Reads `bytes` as cargo does; see [`CacheError`] for what makes a file unusable.
    pub fn parse(bytes: &'a [u8]) -> Result<CacheFile<'a>, CacheError> {
        let (&cache_version, rest) = bytes.split_first().ok_or(CacheError::Empty)?;
        if cache_version != CACHE_VERSION {
            return Err(CacheError::CacheVersion {
                found: cache_version,
            });
        }
        let Some((schema, _)) = rest.split_first_chunk::<4>() else {
            return Err(CacheError::ShortHeader {
                length: bytes.len(),
            });
        };
        let schema = u32::from_le_bytes(*schema);
        if schema != INDEX_SCHEMA_VERSION {
            return Err(CacheError::SchemaVersion { found: schema });
        }
        let mut fields = Fields { bytes, at: 5 };
        let (index_version, _) = fields.next().ok_or(CacheError::NoIndexVersion)?;
        let index_version =
            std::str::from_utf8(index_version).map_err(|_| CacheError::IndexVersionNotUtf8)?;
        let mut entries = Vec::new();
        while let Some((key, at)) = fields.next() {
            let invalid = |reason: String| CacheError::InvalidKey {
                key: String::from_utf8_lossy(key).into_owned(),
                at,
                reason,
            };
            let key = std::str::from_utf8(key).map_err(|_| invalid("not UTF-8".into()))?;
            let version = match plain_version(key.as_bytes()) {
                Some(version) => version,
                None => Version::parse(key).map_err(|error| invalid(error.to_string()))?,
            };
            let Some((blob, _)) = fields.next() else {
                return Err(CacheError::KeyWithoutBlob {
                    key: key.to_owned(),
                    at,
                });
            };
            entries.push(CacheEntry {
                key,
                version,
                blob,
                at,
                flags: AtomicU8::new(NOT_LOOKED),
            });
        }
        Ok(CacheFile {
            index_version,
            entries,
        })
    }

    /// The index version the file was written for: `etag: …`, `last-modified: …` or
    /// `Unknown` for a sparse registry, a git object id for a git one.
    pub fn index_version(&self) -> &'a str {
        self.index_version
    }

    /// Every entry, in file order (a repeated key appears as often as the file has it).
    pub fn entries(&self) -> &[CacheEntry<'a>] {
        &self.entries
    }

    /// The entries cargo uses: for a key the file repeats, only the last one (as cargo 1.95,
    /// which keeps versions in a map, does).
    pub fn effective_entries(&self) -> impl Iterator<Item = &CacheEntry<'a>> {
        self.entries.iter().enumerate().filter_map(|(at, entry)| {
            let repeated = self.entries[at + 1..]
                .iter()
                .any(|later| later.version == entry.version);
            (!repeated).then_some(entry)
        })
    }

    /// The entry for exactly `version` (build metadata included), the last if repeated.
    pub fn get(&self, version: &Version) -> Option<&CacheEntry<'a>> {
        self.entries
            .iter()
            .rev()
            .find(|entry| &entry.version == version)
    }

    /// The newest version that matches `requirement` (with semver's rules for
    /// pre-releases, as cargo's resolver), skipping yanked ones unless `include_yanked`, and
    /// skipping versions whose blob is not valid JSON. Only the blobs of the candidates
    /// tried are parsed, newest first.
    pub fn newest_matching(
        &self,
        requirement: &VersionReq,
        include_yanked: bool,
    ) -> Option<&CacheEntry<'a>> {
        // One pass finds the greatest match; a yanked or unreadable one sends another pass
        // below it. Usually the first answer stands, so this beats sorting the matches; after
        // a few refusals (a crate with many yanked releases) sorting them once is cheaper.
        const PASSES: usize = 4;
        let usable = |entry: &CacheEntry<'a>| match entry.yanked() {
            Some(false) => true,
            Some(true) => include_yanked,
            None => false,
        };
        let mut below: Option<&Version> = None;
        for _ in 0..PASSES {
            let mut best: Option<&CacheEntry<'a>> = None;
            // Backwards: registries append versions, so the newest match tends to come first
            // and most entries after it are ruled out by a comparison, before the costlier
            // requirement check; and of equal keys the later one, which cargo keeps, is met
            // first and stays.
            for entry in self.entries.iter().rev() {
                if below.is_some_and(|bound| entry.version >= *bound)
                    || best.is_some_and(|current| entry.version <= current.version)
                    || !requirement.matches(&entry.version)
                {
                    continue;
                }
                best = Some(entry);
            }
            let best = best?;
            if usable(best) {
                return Some(best);
            }
            below = Some(&best.version);
        }
        let mut candidates: Vec<(usize, &CacheEntry<'a>)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| {
                below.is_none_or(|bound| entry.version < *bound)
                    && requirement.matches(&entry.version)
            })
            .collect();
        // Newest first; of equal keys, the later entry first (the one cargo keeps).
        candidates.sort_unstable_by(|(a_at, a), (b_at, b)| {
            b.version.cmp(&a.version).then(b_at.cmp(a_at))
        });
        let mut previous: Option<&Version> = None;
        for (_, entry) in candidates {
            // An earlier entry with the same key is shadowed by the later one tried before.
            if previous == Some(&entry.version) {
                continue;
            }
            previous = Some(&entry.version);
            if usable(entry) {
                return Some(entry);
            }
        }
        None
    }

    /// The file's bytes as cargo writes them: byte-identical to any file cargo wrote.
    pub fn to_bytes(&self) -> Vec<u8> {
        let size = self
            .entries
            .iter()
            .map(|entry| entry.key.len() + entry.blob.len() + 2)
            .sum::<usize>();
        let mut out = Vec::with_capacity(6 + self.index_version.len() + size);
        header(&mut out, self.index_version);
        for entry in &self.entries {
            out.extend_from_slice(entry.key.as_bytes());
            out.push(0);
            out.extend_from_slice(entry.blob);
            out.push(0);
        }
        out
    }
}

/// A key of the form `MAJOR.MINOR.PATCH` (most keys) parsed without semver's general parser;
/// `None` for anything else (pre-releases, build metadata, leading zeros, numbers too big, not
/// a version), which the general parser then accepts or explains.
fn plain_version(key: &[u8]) -> Option<Version> {
    let mut numbers = [0u64; 3];
    let mut at = 0;
    let mut digits = 0;
    for &byte in key {
        match byte {
            b'0'..=b'9' => {
                // A leading zero is not allowed, except for the number 0 itself.
                if digits == 1 && numbers[at] == 0 {
                    return None;
                }
                numbers[at] = numbers[at]
                    .checked_mul(10)?
                    .checked_add(u64::from(byte - b'0'))?;
                digits += 1;
            }
            b'.' if at < 2 && digits > 0 => {
                at += 1;
                digits = 0;
            }
            _ => return None,
        }
    }
    (at == 2 && digits > 0).then(|| Version::new(numbers[0], numbers[1], numbers[2]))
}

/// The NUL-separated fields after the header, each with its offset: the bytes up to the next
/// NUL, or up to the end for an unterminated last field; an empty tail is no field (cargo's
/// splitter behaves the same).
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], usize);

    fn next(&mut self) -> Option<(&'a [u8], usize)> {
        let rest = &self.bytes[self.at..];
        if rest.is_empty() {
            return None;
        }
        let start = self.at;
        let length = memchr::memchr(0, rest).unwrap_or(rest.len());
        self.at = (start + length + 1).min(self.bytes.len());
        Some((&rest[..length], start))
    }
}

fn header(out: &mut Vec<u8>, index_version: &str) {
    out.push(CACHE_VERSION);
    out.extend_from_slice(&INDEX_SCHEMA_VERSION.to_le_bytes());
    out.extend_from_slice(index_version.as_bytes());
    out.push(0);
}

/// A value that cannot be written into a cache file, because cargo could not read it back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The index version contains a NUL byte.
    #[error("the index version contains a NUL byte")]
    NulInIndexVersion,
    /// A blob contains a NUL byte (valid JSON never does).
    #[error("the index line of {version} contains a NUL byte")]
    NulInBlob {
        /// The version whose line it is.
        version: String,
    },
}

/// Writes a cache file entry by entry.
#[derive(Debug, Clone)]
pub struct CacheWriter {
    bytes: Vec<u8>,
}

impl CacheWriter {
    /// A file for `index_version` with no entries yet.
    pub fn new(index_version: &str) -> Result<CacheWriter, WriteError> {
        if index_version.as_bytes().contains(&0) {
            return Err(WriteError::NulInIndexVersion);
        }
        let mut bytes = Vec::new();
        header(&mut bytes, index_version);
        Ok(CacheWriter { bytes })
    }

    /// Appends `version` with its raw index line `blob` (without its line break).
    pub fn push(&mut self, version: &Version, blob: &[u8]) -> Result<(), WriteError> {
        if memchr::memchr(0, blob).is_some() {
            return Err(WriteError::NulInBlob {
                version: version.to_string(),
            });
        }
        use std::io::Write as _;
        // Writing into a Vec cannot fail.
        let _ = write!(self.bytes, "{version}");
        self.bytes.push(0);
        self.bytes.extend_from_slice(blob);
        self.bytes.push(0);
        Ok(())
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// A cache file for the raw index file `index` (one JSON line per version), as cargo writes
/// it after downloading that file: every line that has a string `name` and a semver `vers`
/// goes in, in file order, keyed by its version and stored byte for byte (a trailing `\r`
/// included); the other lines are skipped, and returned so that the caller can report them.
/// Blank lines are skipped silently.
pub fn build_cache(
    index_version: &str,
    index: &[u8],
) -> Result<(Vec<u8>, Vec<LineError>), WriteError> {
    #[derive(Deserialize)]
    struct NameAndVersion<'a> {
        #[serde(borrow)]
        #[allow(dead_code)]
        name: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        vers: std::borrow::Cow<'a, str>,
    }
    let mut writer = CacheWriter::new(index_version)?;
    let mut skipped = Vec::new();
    for (number, line) in index.split(|&byte| byte == b'\n').enumerate() {
        let line_number = number + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = match serde_json::from_slice::<NameAndVersion<'_>>(line) {
            Ok(parsed) => parsed,
            Err(error) => {
                skipped.push(LineError::NotAnEntry {
                    line: line_number,
                    reason: error.to_string(),
                });
                continue;
            }
        };
        match Version::parse(&parsed.vers) {
            Ok(version) => writer.push(&version, line)?,
            Err(error) => skipped.push(LineError::InvalidVersion {
                line: line_number,
                version: parsed.vers.into_owned(),
                reason: error.to_string(),
            }),
        }
    }
    Ok((writer.finish(), skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(index_version: &[u8], fields: &[&[u8]]) -> Vec<u8> {
        let mut bytes = vec![3, 2, 0, 0, 0];
        bytes.extend_from_slice(index_version);
        for field in fields {
            bytes.push(0);
            bytes.extend_from_slice(field);
        }
        bytes.push(0);
        bytes
    }

    /// What reading `bytes` gives: the index version and keys, or the error.
    #[track_caller]
    fn check(bytes: &[u8], expected: &str) {
        let actual = match CacheFile::parse(bytes) {
            Ok(cache) => {
                let keys: Vec<_> = cache.entries().iter().map(CacheEntry::key).collect();
                format!("{:?} {}", cache.index_version(), keys.join(" "))
            }
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected, "{bytes:?}");
    }

    const BLOB: &[u8] = br#"{"name":"a","vers":"1.0.0","deps":[],"cksum":"00","features":{}}"#;

    #[test]
    fn files_read_as_cargo_reads_them() {
        check(
            &file(b"etag: \"x\"", &[b"1.0.0", BLOB]),
            "\"etag: \\\"x\\\"\" 1.0.0",
        );
        check(&file(b"", &[]), "\"\" ");
        // No NUL after the last blob, or none after the index version: both accepted.
        let mut bytes = file(b"v", &[b"1.0.0", BLOB]);
        bytes.pop();
        check(&bytes, "\"v\" 1.0.0");
        check(&[3, 2, 0, 0, 0, b'v'], "\"v\" ");
        check(
            &file(b"v", &[b"1.0.0+build.7", b"{}", b"2.0.0-rc.1", b"x"]),
            "\"v\" 1.0.0+build.7 2.0.0-rc.1",
        );
        // Whole-file errors.
        check(b"", "error: empty cache file");
        check(
            &[1, 2, 0, 0, 0, 0],
            "error: unsupported cache version 1 (expected 3)",
        );
        check(
            &[4, 2, 0, 0, 0, 0],
            "error: unsupported cache version 4 (expected 3)",
        );
        check(&[3, 2, 0], "error: cache header cut short after 3 bytes");
        check(
            &[3, 1, 0, 0, 0, 0],
            "error: unsupported index schema version 1 (expected 2)",
        );
        check(
            &[3, 3, 0, 0, 0, 0],
            "error: unsupported index schema version 3 (expected 2)",
        );
        check(&[3, 2, 0, 0, 0], "error: cache header has no index version");
        check(&file(b"\xff", &[]), "error: index version is not UTF-8");
        check(
            &file(b"v", &[b"1.0", BLOB]),
            "error: invalid version key \"1.0\" at byte 7: unexpected end of input while parsing minor version number",
        );
        check(
            &file(b"v", &[b"1.0.\xff", BLOB]),
            "error: invalid version key \"1.0.\u{fffd}\" at byte 7: not UTF-8",
        );
        let mut bytes = file(b"v", &[b"1.0.0", BLOB, b"1.5.0"]);
        check(
            &bytes,
            "error: version key \"1.5.0\" at byte 78 has no blob after it",
        );
        bytes.pop();
        check(
            &bytes,
            "error: version key \"1.5.0\" at byte 78 has no blob after it",
        );
    }

    #[test]
    fn writing_back_gives_the_same_bytes() {
        let bytes = file(
            b"last-modified: Sat, 21 Nov 2026 17:49:09 GMT",
            &[b"1.0.0", BLOB, b"0.1.0", b"{\"x\":1}\r"],
        );
        assert_eq!(CacheFile::parse(&bytes).unwrap().to_bytes(), bytes);
    }

    #[test]
    fn queries_skip_yanked_and_malformed_versions() {
        let line = |version: &str, extra: &str| {
            format!(
                r#"{{"name":"a","vers":"{version}","deps":[],"cksum":"00","features":{{}}{extra}}}"#
            )
        };
        let lines = [
            line("1.0.0", ""),
            line("1.1.0", r#","yanked":false"#),
            line("1.2.0", r#","yanked":true"#),
            "{\"name\":\"a\",\"vers\":\"1.3.0\",".to_owned(),
            line("2.0.0-rc.1", ""),
            line("1.1.0", r#","features2":{"yanked":["x"]}"#),
        ];
        let mut writer = CacheWriter::new("v").unwrap();
        for text in &lines {
            let version: String = text
                .split("\"vers\":\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .into();
            writer
                .push(&version.parse().unwrap(), text.as_bytes())
                .unwrap();
        }
        let bytes = writer.finish();
        let cache = CacheFile::parse(&bytes).unwrap();
        let newest = |req: &str, yanked: bool| {
            cache
                .newest_matching(&req.parse().unwrap(), yanked)
                .map(|entry| format!("{} at {}", entry.key(), entry.offset()))
                .unwrap_or_else(|| "none".into())
        };
        let at = |index: usize| cache.entries()[index].offset();
        assert_eq!(newest("^1", false), format!("1.1.0 at {}", at(5)));
        assert_eq!(newest("^1", true), format!("1.2.0 at {}", at(2)));
        assert_eq!(newest("=1.3.0", true), "none");
        assert_eq!(
            newest(">=2.0.0-rc.0", false),
            format!("2.0.0-rc.1 at {}", at(4))
        );
        assert_eq!(newest("^2", false), "none");
        assert_eq!(newest("<1", false), "none");
        assert_eq!(
            cache.get(&"1.1.0".parse().unwrap()).unwrap().offset(),
            at(5)
        );
        let effective: Vec<_> = cache.effective_entries().map(CacheEntry::key).collect();
        assert_eq!(
            effective,
            ["1.0.0", "1.2.0", "1.3.0", "2.0.0-rc.1", "1.1.0"]
        );
        assert_eq!(cache.entries()[3].yanked(), None);
        assert_eq!(cache.entries()[2].yanked(), Some(true));
        assert_eq!(cache.entries()[5].yanked(), Some(false));
    }

    #[test]
    fn many_refused_candidates_fall_back_to_sorting() {
        // Ten yanked or unreadable releases above the answer: more than the linear passes try.
        let mut writer = CacheWriter::new("v").unwrap();
        let mut expected = None;
        for minor in 0..12u64 {
            let version = Version::new(1, minor, 0);
            let blob = match minor {
                0 => r#"{"yanked":true}"#,
                1 => {
                    expected = Some(version.to_string());
                    r#"{"yanked":false}"#
                }
                _ if minor % 3 == 0 => "{",
                _ => r#"{"yanked":true}"#,
            };
            writer.push(&version, blob.as_bytes()).unwrap();
        }
        let bytes = writer.finish();
        let cache = CacheFile::parse(&bytes).unwrap();
        let newest = cache.newest_matching(&"^1".parse().unwrap(), false);
        assert_eq!(newest.map(CacheEntry::key), expected.as_deref());
        let newest = cache.newest_matching(&"^1".parse().unwrap(), true);
        assert_eq!(newest.map(CacheEntry::key), Some("1.11.0"));
        assert_eq!(cache.newest_matching(&"<1.1".parse().unwrap(), false), None);
    }

    #[test]
    fn plain_keys_parse_as_semver_parses_them() {
        let mut keys: Vec<String> = [
            "0.0.0",
            "1.2.3",
            "10.20.30",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "1.2",
            "1.2.3.4",
            "1..3",
            ".1.2",
            "1.2.",
            "1.2.3-rc.1",
            "1.2.3+b",
            "18446744073709551615.0.0",
            "18446744073709551616.0.0",
            "v1.2.3",
            " 1.2.3",
            "1.2.3 ",
            "",
            "0.0.00",
            "00.0.0",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..20_000 {
            let length = rng.usize(1..12);
            keys.push(
                (0..length)
                    .map(|_| rng.choice(*b"0123456789..-+a").unwrap() as char)
                    .collect(),
            );
        }
        for key in keys {
            if let Some(version) = plain_version(key.as_bytes()) {
                assert_eq!(Version::parse(&key).ok(), Some(version), "{key:?}");
            } else if let Ok(version) = Version::parse(&key) {
                let plain = version.pre.is_empty() && version.build.is_empty();
                assert!(!plain, "{key:?} is plain, the fast path missed it");
            }
        }
    }

    #[test]
    fn building_keeps_lines_cargo_keeps() {
        let index = b"{\"name\":\"a\",\"vers\":\"1.0.0\"}\n\n\
            not json\n\
            {\"name\":\"a\",\"vers\":\"1.0\"}\n\
            {\"name\":\"a\",\"vers\":\"1.1.0+b\",\"v\":99}\r\n\
            {\"name\":\"a\"}\n\
            {\"name\":\"a\",\"vers\":\"2.0.0\",\"deps\":[{\"req\":\"not a req\"}]}";
        let (bytes, skipped) = build_cache("Unknown", index).unwrap();
        let cache = CacheFile::parse(&bytes).unwrap();
        let keys: Vec<_> = cache.entries().iter().map(CacheEntry::key).collect();
        assert_eq!(keys, ["1.0.0", "1.1.0+b", "2.0.0"]);
        assert_eq!(
            cache.entries()[1].blob(),
            b"{\"name\":\"a\",\"vers\":\"1.1.0+b\",\"v\":99}\r"
        );
        let skipped: Vec<_> = skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            skipped,
            [
                "line 3: not an index entry: expected ident at line 1 column 2",
                "line 4: invalid version \"1.0\": unexpected end of input while parsing minor version number",
                "line 6: not an index entry: missing field `vers` at line 1 column 12",
            ]
        );
        assert_eq!(
            CacheWriter::new("a\0b").unwrap_err(),
            WriteError::NulInIndexVersion
        );
    }
}
