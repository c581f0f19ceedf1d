//! The dump's CSV rows, read by header name: only the fields a listing needs, each checked.
//!
//! Pure functions over `simd_csv::ByteRecord`s; the archive reader feeds them. Columns are found by
//! name (the dump's columns are alphabetical and new ones keep appearing), unknown columns are
//! ignored, and every value that is used is validated, so a malformed row is an error naming
//! the file, line and column.

use fetchkit_transport::Sha256Digest;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use simd_csv::ByteRecord;

use crate::{DependencyKind, DumpTime, ListError, Timestamp};

/// Where the needed columns of `crates.csv` are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CrateColumns {
    id: usize,
    name: usize,
    updated_at: usize,
}

/// One row of `crates.csv`, as far as the listing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CrateRow<'r> {
    pub(crate) id: i32,
    pub(crate) name: &'r str,
    pub(crate) updated_at: Timestamp,
}

/// Where the needed columns of `versions.csv` are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VersionColumns {
    crate_id: usize,
    num: usize,
    updated_at: usize,
    yanked: usize,
    /// `tar_sha256` (the current name) and `checksum` (the name until mid-2026), whichever
    /// exist; the first non-empty one is used.
    checksums: [Option<(usize, &'static str)>; 2],
    /// The index metadata's columns, when asked for.
    metadata: Option<VersionMetadataColumns>,
}

/// Where the index metadata's columns of `versions.csv` are: `id` is required (dependencies
/// are joined on it), the others are optional (`rust_version` is newer than some dumps).
#[derive(Debug, Clone, Copy)]
struct VersionMetadataColumns {
    id: usize,
    features: Option<usize>,
    links: Option<usize>,
    rust_version: Option<usize>,
}

/// One row of `versions.csv`, as far as the listing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionRow<'r> {
    pub(crate) crate_id: i32,
    pub(crate) num: &'r str,
    pub(crate) updated_at: DumpTime,
    pub(crate) yanked: bool,
    pub(crate) checksum: Sha256Digest,
    /// With index metadata: the rest of what an index line needs.
    pub(crate) metadata: Option<VersionMetadataRow<'r>>,
}

/// The index metadata's fields of a `versions.csv` row. `features` is left unchecked here:
/// it is checked (see [`features`]) only for rows that are kept, as JSON costs more than the
/// rest of the row together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionMetadataRow<'r> {
    pub(crate) id: i32,
    pub(crate) features: &'r [u8],
    pub(crate) links: Option<&'r str>,
    pub(crate) rust_version: Option<&'r str>,
}

/// Where the needed columns of `dependencies.csv` are. `explicit_name` is optional: dumps
/// before August 2022 lack it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DependencyColumns {
    version_id: usize,
    crate_id: usize,
    req: usize,
    optional: usize,
    default_features: usize,
    features: usize,
    target: usize,
    kind: usize,
    explicit_name: Option<usize>,
}

/// One row of `dependencies.csv`, as far as an index line cares. `crate_id` is the id of the
/// crate depended on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DependencyRow<'r> {
    pub(crate) version_id: i32,
    pub(crate) crate_id: i32,
    pub(crate) req: &'r str,
    pub(crate) features: Vec<String>,
    pub(crate) optional: bool,
    pub(crate) default_features: bool,
    pub(crate) target: Option<&'r str>,
    pub(crate) kind: DependencyKind,
    pub(crate) explicit_name: Option<&'r str>,
}

/// Where the needed columns of `deleted_crates.csv` are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeletedColumns {
    name: usize,
    deleted_at: usize,
}

/// One row of `deleted_crates.csv`, as far as the listing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeletedRow<'r> {
    pub(crate) name: &'r str,
    pub(crate) deleted_at: DumpTime,
}

fn column(headers: &ByteRecord, name: &str) -> Option<usize> {
    headers.iter().position(|header| header == name.as_bytes())
}

fn require(headers: &ByteRecord, file: &str, name: &'static str) -> Result<usize, ListError> {
    column(headers, name).ok_or_else(|| ListError::MissingColumn {
        file: file.to_owned(),
        column: name,
    })
}

impl CrateColumns {
    pub(crate) fn find(headers: &ByteRecord, file: &str) -> Result<CrateColumns, ListError> {
        Ok(CrateColumns {
            id: require(headers, file, "id")?,
            name: require(headers, file, "name")?,
            updated_at: require(headers, file, "updated_at")?,
        })
    }
}

impl VersionColumns {
    /// The columns; with `metadata`, those of the index metadata too.
    pub(crate) fn find(
        headers: &ByteRecord,
        file: &str,
        metadata: bool,
    ) -> Result<VersionColumns, ListError> {
        let checksums = [
            column(headers, "tar_sha256").map(|at| (at, "tar_sha256")),
            column(headers, "checksum").map(|at| (at, "checksum")),
        ];
        if checksums.iter().all(Option::is_none) {
            return Err(ListError::MissingColumn {
                file: file.to_owned(),
                column: "tar_sha256 (or checksum)",
            });
        }
        Ok(VersionColumns {
            crate_id: require(headers, file, "crate_id")?,
            num: require(headers, file, "num")?,
            updated_at: require(headers, file, "updated_at")?,
            yanked: require(headers, file, "yanked")?,
            checksums,
            metadata: if metadata {
                Some(VersionMetadataColumns {
                    id: require(headers, file, "id")?,
                    features: column(headers, "features"),
                    links: column(headers, "links"),
                    rust_version: column(headers, "rust_version"),
                })
            } else {
                None
            },
        })
    }
}

impl DependencyColumns {
    pub(crate) fn find(headers: &ByteRecord, file: &str) -> Result<DependencyColumns, ListError> {
        Ok(DependencyColumns {
            version_id: require(headers, file, "version_id")?,
            crate_id: require(headers, file, "crate_id")?,
            req: require(headers, file, "req")?,
            optional: require(headers, file, "optional")?,
            default_features: require(headers, file, "default_features")?,
            features: require(headers, file, "features")?,
            target: require(headers, file, "target")?,
            kind: require(headers, file, "kind")?,
            explicit_name: column(headers, "explicit_name"),
        })
    }
}

impl DeletedColumns {
    pub(crate) fn find(headers: &ByteRecord, file: &str) -> Result<DeletedColumns, ListError> {
        Ok(DeletedColumns {
            name: require(headers, file, "name")?,
            deleted_at: require(headers, file, "deleted_at")?,
        })
    }
}

/// A record's field by index; records have as many fields as the header (the reader is not
/// flexible), so a missing one is a programming error and reads as empty.
fn field(record: &ByteRecord, index: usize) -> &[u8] {
    record.get(index).unwrap_or_default()
}

/// Context for field errors: which file and line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) file: &'a str,
    pub(crate) line: u64,
}

impl At<'_> {
    /// An error about `value` in `column` here.
    pub(crate) fn error(
        &self,
        column: &'static str,
        value: &[u8],
        reason: impl Into<String>,
    ) -> ListError {
        ListError::invalid_field(self.file, self.line, column, value, reason)
    }

    fn text<'r>(
        &self,
        record: &'r ByteRecord,
        index: usize,
        column: &'static str,
    ) -> Result<&'r str, ListError> {
        let value = field(record, index);
        if value.is_empty() {
            return Err(self.error(column, value, "empty"));
        }
        std::str::from_utf8(value).map_err(|_| self.error(column, value, "not UTF-8"))
    }

    /// An optional text: empty (NULL) is `None`.
    fn optional_text<'r>(
        &self,
        record: &'r ByteRecord,
        index: Option<usize>,
        column: &'static str,
    ) -> Result<Option<&'r str>, ListError> {
        let value = index.map_or(&b""[..], |index| field(record, index));
        if value.is_empty() {
            return Ok(None);
        }
        std::str::from_utf8(value)
            .map(Some)
            .map_err(|_| self.error(column, value, "not UTF-8"))
    }

    fn id(
        &self,
        record: &ByteRecord,
        index: usize,
        column: &'static str,
    ) -> Result<i32, ListError> {
        let value = field(record, index);
        std::str::from_utf8(value)
            .ok()
            .and_then(|text| text.parse::<i32>().ok())
            .ok_or_else(|| self.error(column, value, "expected an integer id"))
    }

    fn time(
        &self,
        record: &ByteRecord,
        index: usize,
        column: &'static str,
    ) -> Result<DumpTime, ListError> {
        let value = field(record, index);
        DumpTime::parse_bytes(value).map_err(|error| self.error(column, value, error.to_string()))
    }

    fn boolean(
        &self,
        record: &ByteRecord,
        index: usize,
        column: &'static str,
    ) -> Result<bool, ListError> {
        match field(record, index) {
            b"t" | b"true" => Ok(true),
            b"f" | b"false" => Ok(false),
            other => Err(self.error(column, other, "expected t or f")),
        }
    }
}

/// Parses a SHA-256 written as 64 hex digits (`checksum`) or as a Postgres `bytea`, `\x` then
/// 64 hex digits (`tar_sha256`).
///
/// Every version row has one, so the digits are worked out by arithmetic over fixed-size
/// arrays, which the compiler turns into vector instructions, rather than looked up one by
/// one; the row is checked once at the end.
pub(crate) fn parse_sha256(value: &[u8]) -> Result<Sha256Digest, &'static str> {
    const EXPECTED: &str = "expected 64 hex digits, optionally after \\x";
    let hex = value.strip_prefix(b"\\x").unwrap_or(value);
    let Ok(hex) = <&[u8; 64]>::try_from(hex) else {
        return Err(EXPECTED);
    };
    let mut values = [0u8; 64];
    let mut invalid = 0u8;
    for (value, &byte) in values.iter_mut().zip(hex) {
        let digit = byte.wrapping_sub(b'0');
        // `A`-`F` and `a`-`f` differ only in bit 5, which no other byte in those ranges has.
        let letter = (byte | 0x20).wrapping_sub(b'a');
        let (is_digit, is_letter) = (digit < 10, letter < 6);
        *value = if is_digit {
            digit
        } else {
            letter.wrapping_add(10)
        };
        invalid |= u8::from(!(is_digit | is_letter));
    }
    if invalid != 0 {
        return Err(EXPECTED);
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(values.chunks_exact(2)) {
        *byte = pair[0] << 4 | pair[1];
    }
    Ok(Sha256Digest(bytes))
}

pub(crate) fn crate_row<'r>(
    record: &'r ByteRecord,
    columns: &CrateColumns,
    at: At<'_>,
) -> Result<CrateRow<'r>, ListError> {
    Ok(CrateRow {
        id: at.id(record, columns.id, "id")?,
        name: at.text(record, columns.name, "name")?,
        updated_at: at
            .time(record, columns.updated_at, "updated_at")?
            .timestamp(),
    })
}

pub(crate) fn version_row<'r>(
    record: &'r ByteRecord,
    columns: &VersionColumns,
    at: At<'_>,
) -> Result<VersionRow<'r>, ListError> {
    let crate_id = at.id(record, columns.crate_id, "crate_id")?;
    let num = at.text(record, columns.num, "num")?;
    let updated_at = at.time(record, columns.updated_at, "updated_at")?;
    let yanked = at.boolean(record, columns.yanked, "yanked")?;
    let mut checksum = None;
    let mut last_column = "tar_sha256";
    for (index, name) in columns.checksums.iter().flatten() {
        last_column = name;
        let value = field(record, *index);
        if value.is_empty() {
            continue;
        }
        checksum = Some(parse_sha256(value).map_err(|reason| at.error(name, value, reason))?);
        break;
    }
    let Some(checksum) = checksum else {
        return Err(at.error(last_column, b"", "empty; a crate file needs its SHA-256"));
    };
    let metadata = match &columns.metadata {
        None => None,
        Some(metadata) => Some(VersionMetadataRow {
            id: at.id(record, metadata.id, "id")?,
            features: metadata
                .features
                .map_or(&b""[..], |index| field(record, index)),
            links: at.optional_text(record, metadata.links, "links")?,
            rust_version: at.optional_text(record, metadata.rust_version, "rust_version")?,
        }),
    };
    Ok(VersionRow {
        crate_id,
        num,
        updated_at,
        yanked,
        checksum,
        metadata,
    })
}

/// A version's `features`, checked: a JSON object whose values are arrays of strings (cargo
/// reads nothing else), kept as the dump wrote it; empty (or no column) is `{}`.
pub(crate) fn features(value: &[u8], at: At<'_>) -> Result<String, ListError> {
    if value.is_empty() {
        return Ok("{}".to_owned());
    }
    let text = std::str::from_utf8(value).map_err(|_| at.error("features", value, "not UTF-8"))?;
    serde_json::from_str::<FeatureMap>(text).map_err(|error| {
        at.error(
            "features",
            value,
            format!("expected a JSON object of string arrays: {error}"),
        )
    })?;
    Ok(text.to_owned())
}

/// Checks a feature map's shape without building it: this runs for every kept version.
struct FeatureMap;

impl<'de> Deserialize<'de> for FeatureMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FeatureMap, D::Error> {
        struct Map;
        impl<'de> Visitor<'de> for Map {
            type Value = FeatureMap;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of feature names to arrays of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FeatureMap, A::Error> {
                // JSON keys are always strings.
                while map.next_key::<IgnoredAny>()?.is_some() {
                    map.next_value::<Strings>()?;
                }
                Ok(FeatureMap)
            }
        }
        deserializer.deserialize_map(Map)
    }
}

/// An array of strings, checked and dropped.
struct Strings;

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strings, D::Error> {
        struct Seq;
        impl<'de> Visitor<'de> for Seq {
            type Value = Strings;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                while seq.next_element::<Str>()?.is_some() {}
                Ok(Strings)
            }
        }
        deserializer.deserialize_seq(Seq)
    }
}

/// A string, checked and dropped.
struct Str;

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Str, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Str;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Str, E> {
                Ok(Str)
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// A `dependencies.csv` row's `version_id` alone: most rows belong to versions that are not
/// listed, and are dropped after this one field.
pub(crate) fn dependency_version_id(
    record: &ByteRecord,
    columns: &DependencyColumns,
    at: At<'_>,
) -> Result<i32, ListError> {
    at.id(record, columns.version_id, "version_id")
}

pub(crate) fn dependency_row<'r>(
    record: &'r ByteRecord,
    columns: &DependencyColumns,
    at: At<'_>,
) -> Result<DependencyRow<'r>, ListError> {
    let features = field(record, columns.features);
    let kind = match field(record, columns.kind) {
        b"0" => DependencyKind::Normal,
        b"1" => DependencyKind::Build,
        b"2" => DependencyKind::Dev,
        other => {
            return Err(at.error("kind", other, "expected 0 (normal), 1 (build) or 2 (dev)"));
        }
    };
    Ok(DependencyRow {
        version_id: at.id(record, columns.version_id, "version_id")?,
        crate_id: at.id(record, columns.crate_id, "crate_id")?,
        req: at.text(record, columns.req, "req")?,
        features: parse_text_array(features)
            .map_err(|reason| at.error("features", features, reason))?,
        optional: at.boolean(record, columns.optional, "optional")?,
        default_features: at.boolean(record, columns.default_features, "default_features")?,
        target: at.optional_text(record, Some(columns.target), "target")?,
        kind,
        explicit_name: at.optional_text(record, columns.explicit_name, "explicit_name")?,
    })
}

/// The white space Postgres quotes array elements for (`array_isspace`): ASCII only, so an
/// element with, say, a no-break space is written unquoted.
fn is_array_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Parses a one-dimensional Postgres `text[]` as `COPY` writes it: `{}`, `{a,b}`, and
/// elements that need it (empty ones, and those holding a separator, brace, quote, backslash
/// or white space) in double quotes, with `\` escaping the next character. An unquoted
/// `NULL` is a null element, which a dependency's features never hold, so it is an error, as
/// are nested arrays, dimension prefixes and white space Postgres would have quoted.
pub(crate) fn parse_text_array(value: &[u8]) -> Result<Vec<String>, &'static str> {
    const EXPECTED: &str = "expected a Postgres array like {a,\"b c\"}";
    let text = std::str::from_utf8(value).map_err(|_| "not UTF-8")?;
    let inner = text
        .strip_prefix('{')
        .and_then(|inner| inner.strip_suffix('}'))
        .ok_or(EXPECTED)?;
    let mut items = Vec::new();
    if inner.is_empty() {
        return Ok(items);
    }
    let mut chars = inner.chars().peekable();
    loop {
        let mut item = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => item.push(chars.next().ok_or("unterminated quoted element")?),
                    Some(other) => item.push(other),
                    None => return Err("unterminated quoted element"),
                }
            }
        } else {
            let mut escaped = false;
            while let Some(&next) = chars.peek() {
                match next {
                    ',' => break,
                    '\\' => {
                        chars.next();
                        escaped = true;
                        item.push(chars.next().ok_or("a backslash ends the array")?);
                        continue;
                    }
                    '{' | '}' => return Err("nested arrays are not expected"),
                    '"' => return Err("a quote inside an unquoted element"),
                    other if is_array_space(other) => {
                        return Err("white space in an unquoted element");
                    }
                    other => item.push(other),
                }
                chars.next();
            }
            if item.is_empty() {
                return Err("an empty unquoted element");
            }
            if !escaped && item.eq_ignore_ascii_case("NULL") {
                return Err("a NULL element");
            }
        }
        items.push(item);
        match chars.next() {
            None => return Ok(items),
            Some(',') => {}
            Some(_) => return Err("expected a comma after a quoted element"),
        }
    }
}

pub(crate) fn deleted_row<'r>(
    record: &'r ByteRecord,
    columns: &DeletedColumns,
    at: At<'_>,
) -> Result<DeletedRow<'r>, ListError> {
    Ok(DeletedRow {
        name: at.text(record, columns.name, "name")?,
        deleted_at: at.time(record, columns.deleted_at, "deleted_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> ByteRecord {
        ByteRecord::from(fields.to_vec())
    }

    const AT: At<'static> = At {
        file: "d/data/versions.csv",
        line: 7,
    };

    /// Parses one versions.csv row under `headers` and shows it, or the error.
    #[track_caller]
    fn check_version(headers: &[&str], row: &[&str], expected: &str) {
        let headers = record(headers);
        let row = record(row);
        let actual = VersionColumns::find(&headers, AT.file, false)
            .and_then(|columns| version_row(&row, &columns, AT))
            .map(|row| {
                format!(
                    "{} {} {} yanked={} {}",
                    row.crate_id,
                    row.num,
                    row.updated_at,
                    row.yanked,
                    row.checksum.to_hex()
                )
            });
        let actual = match actual {
            Ok(text) => text,
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected);
    }

    const HEX: &str = "ad29a609b6bcd67fee905812e544992d216af9d755757c05ed2d0e15a74c6ecc";

    #[test]
    fn versions_old_and_new_schema() {
        check_version(
            &["checksum", "crate_id", "num", "updated_at", "yanked"],
            &[HEX, "107436", "1.0.12", "2022-08-15 13:52:11.642129", "f"],
            &format!("107436 1.0.12 2022-08-15 13:52:11.642129 yanked=false {HEX}"),
        );
        check_version(
            &[
                "yanked",
                "updated_at",
                "tar_sha256",
                "num",
                "extra",
                "crate_id",
            ],
            &[
                "t",
                "2022-08-15 13:52:11.642129+00",
                &format!("\\x{}", HEX.to_uppercase()),
                "1.0.12",
                "x",
                "107436",
            ],
            &format!("107436 1.0.12 2022-08-15 13:52:11.642129+00 yanked=true {HEX}"),
        );
        // Both columns (the weeks they were written side by side): the first non-empty wins.
        check_version(
            &[
                "checksum",
                "crate_id",
                "num",
                "tar_sha256",
                "updated_at",
                "yanked",
            ],
            &[HEX, "1", "1.0.0", "", "2022-08-15 13:52:11", "f"],
            &format!("1 1.0.0 2022-08-15 13:52:11 yanked=false {HEX}"),
        );
    }

    #[test]
    fn versions_errors_name_the_column() {
        let headers = ["checksum", "crate_id", "num", "updated_at", "yanked"];
        check_version(
            &headers,
            &[HEX, "x", "1.0.0", "2022-08-15 13:52:11", "f"],
            "error: d/data/versions.csv:7: column crate_id: expected an integer id, found \"x\"",
        );
        check_version(
            &headers,
            &[HEX, "1", "", "2022-08-15 13:52:11", "f"],
            "error: d/data/versions.csv:7: column num: empty, found \"\"",
        );
        check_version(
            &headers,
            &[HEX, "1", "1.0.0", "2022-08-15", "f"],
            "error: d/data/versions.csv:7: column updated_at: expected a timestamp like \
             2017-11-30 03:33:14.186028+00, found \"2022-08-15\"",
        );
        check_version(
            &headers,
            &[HEX, "1", "1.0.0", "2022-08-15 13:52:11", "yes"],
            "error: d/data/versions.csv:7: column yanked: expected t or f, found \"yes\"",
        );
        check_version(
            &headers,
            &["abc", "1", "1.0.0", "2022-08-15 13:52:11", "f"],
            "error: d/data/versions.csv:7: column checksum: expected 64 hex digits, optionally \
             after \\x, found \"abc\"",
        );
        check_version(
            &headers,
            &["", "1", "1.0.0", "2022-08-15 13:52:11", "f"],
            "error: d/data/versions.csv:7: column checksum: empty; a crate file needs its \
             SHA-256, found \"\"",
        );
        check_version(
            &["crate_id", "num", "updated_at", "yanked"],
            &["1", "1.0.0", "2022-08-15 13:52:11", "f"],
            "error: d/data/versions.csv: no tar_sha256 (or checksum) column",
        );
        check_version(
            &["checksum", "crate_id", "updated_at", "yanked"],
            &[HEX, "1", "2022-08-15 13:52:11", "f"],
            "error: d/data/versions.csv: no num column",
        );
    }

    #[test]
    fn crates_rows() {
        let headers = record(&["created_at", "id", "name", "readme", "updated_at"]);
        let columns = CrateColumns::find(&headers, "c.csv").unwrap();
        let at = At {
            file: "c.csv",
            line: 3,
        };
        let row = record(&[
            "x",
            "545",
            "regex",
            "multi\nline",
            "2022-07-05 18:00:33.712885",
        ]);
        let parsed = crate_row(&row, &columns, at).unwrap();
        assert_eq!((parsed.id, parsed.name), (545, "regex"));
        assert_eq!(
            parsed.updated_at.to_string(),
            "2022-07-05T18:00:33.712885+00:00"
        );
        let bad = ByteRecord::from(vec![
            &b"x"[..],
            b"545",
            b"re\xffgex",
            b"",
            b"2022-07-05 18:00:33",
        ]);
        assert_eq!(
            crate_row(&bad, &columns, at).unwrap_err().to_string(),
            "c.csv:3: column name: not UTF-8, found \"re\u{fffd}gex\""
        );
        assert_eq!(
            CrateColumns::find(&record(&["id", "name"]), "c.csv")
                .unwrap_err()
                .to_string(),
            "c.csv: no updated_at column"
        );
    }

    /// Parses a Postgres array and shows its elements as `[a|b]`, or the error.
    #[track_caller]
    fn check_array(text: &str, expected: &str) {
        let actual = match parse_text_array(text.as_bytes()) {
            Ok(items) => format!("[{}]", items.join("|")),
            Err(reason) => format!("error: {reason}"),
        };
        assert_eq!(actual, expected, "{text:?}");
    }

    #[test]
    fn postgres_text_arrays() {
        check_array("{}", "[]");
        check_array("{serde}", "[serde]");
        check_array("{serde,std}", "[serde|std]");
        check_array(
            r#"{serde,"with space","a\"b"}"#,
            r#"[serde|with space|a"b]"#,
        );
        check_array(r#"{"a,b","c\\d","{x}",""}"#, r"[a,b|c\d|{x}|]");
        check_array(r#"{"NULL",nullable,\NULL}"#, "[NULL|nullable|NULL]");
        check_array(r"{a\,b}", "[a,b]");
        check_array("{é,\"ü ü\"}", "[é|ü ü]");
        for (text, reason) in [
            ("", "expected a Postgres array like {a,\"b c\"}"),
            ("serde", "expected a Postgres array like {a,\"b c\"}"),
            ("{serde", "expected a Postgres array like {a,\"b c\"}"),
            ("[1:1]={a}", "expected a Postgres array like {a,\"b c\"}"),
            ("{a}x", "expected a Postgres array like {a,\"b c\"}"),
            ("{NULL}", "a NULL element"),
            ("{a,null}", "a NULL element"),
            ("{a,}", "an empty unquoted element"),
            ("{,a}", "an empty unquoted element"),
            ("{a,,b}", "an empty unquoted element"),
            ("{{a},{b}}", "nested arrays are not expected"),
            ("{a b}", "white space in an unquoted element"),
            (" {a}", "expected a Postgres array like {a,\"b c\"}"),
            ("{\"a}", "unterminated quoted element"),
            ("{\"a\\\"}", "unterminated quoted element"),
            ("{\"a\"b}", "expected a comma after a quoted element"),
            ("{a\"b}", "a quote inside an unquoted element"),
            ("{a\\}", "a backslash ends the array"),
        ] {
            check_array(text, &format!("error: {reason}"));
        }
        assert_eq!(parse_text_array(b"{\xff}"), Err("not UTF-8"));
    }

    /// What `COPY` writes for an array, as Postgres quotes it (`array_out`), for the round
    /// trip below.
    fn copy_array(items: &[String]) -> String {
        let quoted: Vec<String> = items
            .iter()
            .map(|item| {
                let plain = !item.is_empty()
                    && !item.eq_ignore_ascii_case("NULL")
                    && !item
                        .chars()
                        .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || is_array_space(c));
                if plain {
                    item.clone()
                } else {
                    format!("\"{}\"", item.replace('\\', "\\\\").replace('"', "\\\""))
                }
            })
            .collect();
        format!("{{{}}}", quoted.join(","))
    }

    #[test]
    fn random_arrays_round_trip() {
        let mut rng = fastrand::Rng::with_seed(11);
        let pieces = [
            "a", "std", " ", ",", "\"", "\\", "{", "}", "é", "NULL", "null", "\t", "\u{a0}", "\x0b",
        ];
        for _ in 0..5000 {
            let items: Vec<String> = (0..rng.usize(0..5))
                .map(|_| {
                    (0..rng.usize(0..4))
                        .map(|_| pieces[rng.usize(..pieces.len())])
                        .collect()
                })
                .collect();
            let text = copy_array(&items);
            assert_eq!(
                parse_text_array(text.as_bytes()).as_ref(),
                Ok(&items),
                "{text}"
            );
        }
    }

    #[test]
    fn version_features_must_be_an_object_of_string_arrays() {
        let check = |text: &str| features(text.as_bytes(), AT).map_err(|error| error.to_string());
        assert_eq!(check("").unwrap(), "{}");
        assert_eq!(check("{}").unwrap(), "{}");
        let kept = r#"{"default": ["std"], "std": [], "serde": ["dep:serde", "x/y"]}"#;
        assert_eq!(check(kept).unwrap(), kept);
        for (text, reason) in [
            (
                "[]",
                "invalid type: sequence, expected an object of feature names to arrays of strings at line 1 column 0",
            ),
            (
                r#"{"a": "b"}"#,
                "invalid type: string \"b\", expected an array of strings at line 1 column 9",
            ),
            (
                r#"{"a": [1]}"#,
                "invalid type: integer `1`, expected a string at line 1 column 8",
            ),
            (
                r#"{"a": [null]}"#,
                "invalid type: null, expected a string at line 1 column 11",
            ),
            (
                r#"{"a": []"#,
                "EOF while parsing an object at line 1 column 8",
            ),
            (r#"{"a": []} x"#, "trailing characters at line 1 column 11"),
        ] {
            assert_eq!(
                check(text).unwrap_err(),
                format!(
                    "d/data/versions.csv:7: column features: expected a JSON object of string \
                     arrays: {reason}, found {text:?}"
                ),
            );
        }
    }

    const DEPENDENCY_HEADERS: &[&str] = &[
        "crate_id",
        "default_features",
        "explicit_name",
        "features",
        "id",
        "kind",
        "optional",
        "req",
        "target",
        "version_id",
    ];

    /// Parses one dependencies.csv row under `headers` and shows it, or the error.
    #[track_caller]
    fn check_dependency(headers: &[&str], row: &[&str], expected: &str) {
        let at = At {
            file: "d/data/dependencies.csv",
            line: 9,
        };
        let headers = record(headers);
        let row = record(row);
        let actual = DependencyColumns::find(&headers, at.file)
            .and_then(|columns| dependency_row(&row, &columns, at))
            .map(|row| {
                format!(
                    "v{} c{} {} {:?} optional={} default={} target={:?} {} as {:?}",
                    row.version_id,
                    row.crate_id,
                    row.req,
                    row.features,
                    row.optional,
                    row.default_features,
                    row.target,
                    row.kind.as_str(),
                    row.explicit_name,
                )
            });
        let actual = match actual {
            Ok(text) => text,
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected);
    }

    #[test]
    fn dependency_rows() {
        let check =
            |row: &[&str], expected: &str| check_dependency(DEPENDENCY_HEADERS, row, expected);
        check(
            &["7", "t", "", "{}", "1", "0", "f", "^1.0", "", "42"],
            "v42 c7 ^1.0 [] optional=false default=true target=None normal as None",
        );
        check(
            &[
                "7",
                "f",
                "short",
                r#"{std,"a b"}"#,
                "1",
                "1",
                "t",
                "=0.1",
                "cfg(unix)",
                "42",
            ],
            r#"v42 c7 =0.1 ["std", "a b"] optional=true default=false target=Some("cfg(unix)") build as Some("short")"#,
        );
        check(
            &["7", "t", "", "{}", "1", "2", "f", "*", "", "42"],
            "v42 c7 * [] optional=false default=true target=None dev as None",
        );
        check(
            &["7", "t", "", "{}", "1", "3", "f", "*", "", "42"],
            "error: d/data/dependencies.csv:9: column kind: expected 0 (normal), 1 (build) or 2 \
             (dev), found \"3\"",
        );
        check(
            &["7", "t", "", "{}", "1", "", "f", "*", "", "42"],
            "error: d/data/dependencies.csv:9: column kind: expected 0 (normal), 1 (build) or 2 \
             (dev), found \"\"",
        );
        check(
            &["7", "t", "", "{a,}", "1", "0", "f", "*", "", "42"],
            "error: d/data/dependencies.csv:9: column features: an empty unquoted element, \
             found \"{a,}\"",
        );
        check(
            &["7", "t", "", "", "1", "0", "f", "*", "", "42"],
            "error: d/data/dependencies.csv:9: column features: expected a Postgres array like \
             {a,\"b c\"}, found \"\"",
        );
        check(
            &["7", "yes", "", "{}", "1", "0", "f", "*", "", "42"],
            "error: d/data/dependencies.csv:9: column default_features: expected t or f, found \
             \"yes\"",
        );
        check(
            &["x", "t", "", "{}", "1", "0", "f", "*", "", "42"],
            "error: d/data/dependencies.csv:9: column crate_id: expected an integer id, found \
             \"x\"",
        );
        check(
            &["7", "t", "", "{}", "1", "0", "f", "", "", "42"],
            "error: d/data/dependencies.csv:9: column req: empty, found \"\"",
        );
        // Before August 2022 there was no explicit_name.
        check_dependency(
            &[
                "crate_id",
                "default_features",
                "features",
                "id",
                "kind",
                "optional",
                "req",
                "target",
                "version_id",
            ],
            &["7", "t", "{}", "1", "0", "f", "^1", "", "42"],
            "v42 c7 ^1 [] optional=false default=true target=None normal as None",
        );
        check_dependency(
            &[
                "crate_id",
                "default_features",
                "features",
                "id",
                "optional",
                "req",
                "target",
                "version_id",
            ],
            &["7", "t", "{}", "1", "f", "^1", "", "42"],
            "error: d/data/dependencies.csv: no kind column",
        );
    }

    #[test]
    fn versions_with_index_metadata() {
        let headers = record(&[
            "checksum",
            "crate_id",
            "features",
            "id",
            "links",
            "num",
            "rust_version",
            "updated_at",
            "yanked",
        ]);
        let columns = VersionColumns::find(&headers, AT.file, true).unwrap();
        let row = record(&[
            HEX,
            "1",
            "{}",
            "77",
            "z",
            "1.0.0",
            "1.70",
            "2022-08-15 13:52:11",
            "f",
        ]);
        let parsed = version_row(&row, &columns, AT).unwrap().metadata.unwrap();
        assert_eq!(
            (
                parsed.id,
                parsed.features,
                parsed.links,
                parsed.rust_version
            ),
            (77, &b"{}"[..], Some("z"), Some("1.70"))
        );
        let row = record(&[
            HEX,
            "1",
            "",
            "77",
            "",
            "1.0.0",
            "",
            "2022-08-15 13:52:11",
            "f",
        ]);
        let parsed = version_row(&row, &columns, AT).unwrap().metadata.unwrap();
        assert_eq!((parsed.links, parsed.rust_version), (None, None));
        // Without metadata, neither the id nor the other columns are needed or read.
        let columns = VersionColumns::find(&headers, AT.file, false).unwrap();
        let row = record(&[
            HEX,
            "1",
            "{}",
            "x",
            "z",
            "1.0.0",
            "1.70",
            "2022-08-15 13:52:11",
            "f",
        ]);
        assert_eq!(version_row(&row, &columns, AT).unwrap().metadata, None);
        // Older dumps: no rust_version, links or features.
        let old = record(&["checksum", "crate_id", "id", "num", "updated_at", "yanked"]);
        let columns = VersionColumns::find(&old, AT.file, true).unwrap();
        let row = record(&[HEX, "1", "77", "1.0.0", "2022-08-15 13:52:11", "f"]);
        let parsed = version_row(&row, &columns, AT).unwrap().metadata.unwrap();
        assert_eq!(
            (
                parsed.id,
                parsed.features,
                parsed.links,
                parsed.rust_version
            ),
            (77, &b""[..], None, None)
        );
        let row = record(&[HEX, "1", "x", "1.0.0", "2022-08-15 13:52:11", "f"]);
        assert_eq!(
            version_row(&row, &columns, AT).unwrap_err().to_string(),
            "d/data/versions.csv:7: column id: expected an integer id, found \"x\""
        );
        let no_id = record(&["checksum", "crate_id", "num", "updated_at", "yanked"]);
        assert_eq!(
            VersionColumns::find(&no_id, AT.file, true)
                .unwrap_err()
                .to_string(),
            "d/data/versions.csv: no id column"
        );
        assert!(VersionColumns::find(&no_id, AT.file, false).is_ok());
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "9".repeat(500);
        let error = ListError::invalid_field("f", 1, "id", long.as_bytes(), "too long");
        let ListError::InvalidField { value, .. } = error else {
            panic!("{error:?}");
        };
        assert_eq!(value, format!("{}...", "9".repeat(100)));
    }

    #[test]
    fn sha256_forms() {
        assert_eq!(parse_sha256(HEX.as_bytes()).unwrap().to_hex(), HEX);
        assert_eq!(
            parse_sha256(format!("\\x{HEX}").as_bytes())
                .unwrap()
                .to_hex(),
            HEX
        );
        assert!(parse_sha256(format!("\\x{}", &HEX[..62]).as_bytes()).is_err());
        assert!(parse_sha256(format!("{}zz", &HEX[..62]).as_bytes()).is_err());
        assert!(parse_sha256(format!("\\\\{}", &HEX[..62]).as_bytes()).is_err());
        // Every byte, as a high and as a low digit: accepted exactly when it is a hex digit
        // (either case), with its value.
        for byte in 0..=255u8 {
            for (at, shift) in [(6, 4), (7, 0)] {
                let mut text = HEX.as_bytes().to_vec();
                text[at] = byte;
                match (parse_sha256(&text), char::from(byte).to_digit(16)) {
                    (Ok(digest), Some(value)) => {
                        assert_eq!(u32::from(digest.0[3] >> shift & 0xf), value, "{byte}")
                    }
                    (Err(_), None) => {}
                    (result, _) => panic!("byte {byte} at {at}: {result:?}"),
                }
            }
        }
    }
}
