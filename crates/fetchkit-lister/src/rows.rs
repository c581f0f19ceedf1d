//! The dump's CSV rows, read by header name: only the fields a listing needs, each checked.
//!
//! Pure functions over `simd_csv::ByteRecord`s; the archive reader feeds them. Columns are found by
//! name (the dump's columns are alphabetical and new ones keep appearing), unknown columns are
//! ignored, and every value that is used is validated, so a malformed row is an error naming
//! the file, line and column.

use fetchkit_transport::Sha256Digest;
use simd_csv::ByteRecord;

use crate::{DumpTime, ListError, Timestamp};

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
}

/// One row of `versions.csv`, as far as the listing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VersionRow<'r> {
    pub(crate) crate_id: i32,
    pub(crate) num: &'r str,
    pub(crate) updated_at: DumpTime,
    pub(crate) yanked: bool,
    pub(crate) checksum: Sha256Digest,
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
    pub(crate) fn find(headers: &ByteRecord, file: &str) -> Result<VersionColumns, ListError> {
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
    Ok(VersionRow {
        crate_id,
        num,
        updated_at,
        yanked,
        checksum,
    })
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
        let actual = VersionColumns::find(&headers, AT.file)
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
