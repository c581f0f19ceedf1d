//! Malformed dumps: each gives an error that names the file, line and column, never a panic
//! and never a quietly partial listing.

use crate::{Dump, Krate, Ver, check, gzip, list, old_crates, old_versions, summary};

const TIMESTAMP: &str = "2022-08-08T02:00:27.645191645Z";
const CRATES: &str = "/data/crates.csv";
const VERSIONS: &str = "/data/versions.csv";

fn crates() -> String {
    old_crates(&[
        Krate(1, "a", "2022-02-14 08:37:47"),
        Krate(2, "b", "2022-02-14 08:37:47"),
    ])
}

fn versions() -> String {
    old_versions(&[
        Ver(1, "1.0.0", "2017-11-30 05:24:37", false, 1),
        Ver(2, "0.1.0", "2017-11-30 05:24:37", false, 2),
    ])
}

fn dump() -> Dump {
    Dump::standard(TIMESTAMP, &crates(), &versions())
}

#[test]
fn the_valid_dump_these_cases_start_from() {
    check(&dump().tar_gz(), None, "a: 1.0.0\nb: 0.1.0\n");
}

/// Replaces `from` with `to` (once) in the member ending with `member` and expects `expected`.
#[track_caller]
fn check_edit(member: &str, from: &str, to: &str, expected: &str) {
    check(&dump().edit(member, from, to).tar_gz(), None, expected);
}

#[test]
fn missing_columns() {
    check_edit(
        CRATES,
        ",updated_at\n",
        ",changed_at\n",
        "error: 2022-08-08-020027/data/crates.csv: no updated_at column\n",
    );
    check_edit(
        CRATES,
        ",name,",
        ",label,",
        "error: 2022-08-08-020027/data/crates.csv: no name column\n",
    );
    check_edit(
        VERSIONS,
        "checksum,",
        "sha,",
        "error: 2022-08-08-020027/data/versions.csv: no tar_sha256 (or checksum) column\n",
    );
    check_edit(
        VERSIONS,
        ",yanked\n",
        ",is_yanked\n",
        "error: 2022-08-08-020027/data/versions.csv: no yanked column\n",
    );
    check_edit(
        VERSIONS,
        ",crate_id,",
        ",package_id,",
        "error: 2022-08-08-020027/data/versions.csv: no crate_id column\n",
    );
}

#[test]
fn rows_with_the_wrong_number_of_fields() {
    check_edit(
        VERSIONS,
        ",MIT/Apache-2.0,",
        ",MIT,Apache-2.0,",
        "error: 2022-08-08-020027/data/versions.csv:2: 14 fields where the header has 13\n",
    );
    check_edit(
        CRATES,
        "\n2015-02-03 06:17:14.147783,\"The b crate.\",",
        "\n2015-02-03 06:17:14.147783,",
        "error: 2022-08-08-020027/data/crates.csv:3: 10 fields where the header has 11\n",
    );
}

#[test]
fn malformed_values() {
    check_edit(
        CRATES,
        "2022-02-14 08:37:47",
        "2022-02-30 08:37:47",
        "error: 2022-08-08-020027/data/crates.csv:2: column updated_at: day out of range, found \
         \"2022-02-30 08:37:47\"\n",
    );
    check_edit(
        CRATES,
        ",1,,a,",
        ",one,,a,",
        "error: 2022-08-08-020027/data/crates.csv:2: column id: expected an integer id, found \
         \"one\"\n",
    );
    check_edit(
        CRATES,
        ",2,,b,",
        ",2,,,",
        "error: 2022-08-08-020027/data/crates.csv:3: column name: empty, found \"\"\n",
    );
    check_edit(
        VERSIONS,
        "2017-11-30 05:24:37,f\n02",
        "2017-11-30 05:24:37,x\n02",
        "error: 2022-08-08-020027/data/versions.csv:2: column yanked: expected t or f, found \
         \"x\"\n",
    );
    check_edit(
        VERSIONS,
        ",0.1.0,,2017-11-30 05:24:37,f",
        ",0.1.0,,2017-11-30T05:24:37 UTC,f",
        "error: 2022-08-08-020027/data/versions.csv:3: column updated_at: unexpected text \
         after the time, found \"2017-11-30T05:24:37 UTC\"\n",
    );
    check_edit(
        VERSIONS,
        &"01".repeat(32),
        &"0g".repeat(32),
        &format!(
            "error: 2022-08-08-020027/data/versions.csv:2: column checksum: expected 64 hex \
             digits, optionally after \\x, found \"{}\"\n",
            "0g".repeat(32)
        ),
    );
    check_edit(
        VERSIONS,
        &format!("{},1,", "01".repeat(32)),
        ",1,",
        "error: 2022-08-08-020027/data/versions.csv:2: column checksum: empty; a crate file \
         needs its SHA-256, found \"\"\n",
    );
    check_edit(
        VERSIONS,
        ",2,,2014",
        ",,,2014",
        "error: 2022-08-08-020027/data/versions.csv:3: column crate_id: expected an integer \
         id, found \"\"\n",
    );
}

#[test]
fn errors_in_multi_line_records_name_the_line_they_start_on() {
    let crates = "id,name,readme,updated_at\n\
                  1,a,\"line one\nline two\nline three\",2022-02-14 08:37:47\n\
                  2,b,\"x\ny\",2022-02-14 99:37:47\n";
    check(
        &dump().replace(CRATES, crates).tar_gz(),
        None,
        "error: 2022-08-08-020027/data/crates.csv:5: column updated_at: time of day out of \
         range, found \"2022-02-14 99:37:47\"\n",
    );
}

#[test]
fn missing_and_duplicate_members() {
    check(
        &dump().without("versions.csv").tar_gz(),
        None,
        "error: the dump has no data/versions.csv\n",
    );
    check(
        &dump().without("crates.csv").tar_gz(),
        None,
        "error: the dump has no data/crates.csv\n",
    );
    check(
        &dump().without("metadata.json").tar_gz(),
        None,
        "error: the dump has no metadata.json\n",
    );
    check(
        &Dump::default().tar_gz(),
        None,
        "error: the dump has no metadata.json\n",
    );
    let twice = dump()
        .reversed()
        .file("2022-09-01-020027/data/crates.csv", crates());
    check(
        &twice.reversed().tar_gz(),
        None,
        "error: the dump has two data/crates.csv members: 2022-09-01-020027/data/crates.csv \
         and 2022-08-08-020027/data/crates.csv\n",
    );
}

#[test]
fn malformed_metadata() {
    for (contents, expected) in [
        (
            "not json",
            "error: 2022-08-08-020027/metadata.json: expected ident at line 1 column 2\n",
        ),
        (
            "{\"crates_io_commit\": \"x\"}",
            "error: 2022-08-08-020027/metadata.json: missing field `timestamp` at line 1 \
             column 25\n",
        ),
        (
            "{\"timestamp\": \"2022-08-08\"}",
            "error: 2022-08-08-020027/metadata.json: invalid timestamp \"2022-08-08\": expected \
             a timestamp like 2017-11-30 03:33:14.186028+00\n",
        ),
    ] {
        check(
            &dump().replace("metadata.json", contents).tar_gz(),
            None,
            expected,
        );
    }
    let huge = format!(
        "{{\"timestamp\": \"{TIMESTAMP}\", \"x\": \"{}\"}}",
        "x".repeat(2 << 20)
    );
    check(
        &dump().replace("metadata.json", huge).tar_gz(),
        None,
        "error: 2022-08-08-020027/metadata.json: larger than 1 MiB\n",
    );
}

#[test]
fn input_that_is_not_a_gzip_tar() {
    check(
        &dump().tar(),
        None,
        "error: cannot read the dump archive: invalid gzip header\n",
    );
    check(
        &gzip(b"this is not a tar archive, just text that goes on for a while"),
        None,
        "error: cannot read the dump archive: failed to read entire block\n",
    );
    check(
        &[],
        None,
        "error: cannot read the dump archive: unexpected end of file\n",
    );
    let mut corrupt = dump().tar_gz();
    let middle = corrupt.len() / 2;
    for byte in &mut corrupt[middle..middle + 16] {
        *byte ^= 0x5a;
    }
    let error = list(&corrupt, None).unwrap_err().to_string();
    assert!(
        error.starts_with("cannot read "),
        "a corrupt stream must fail: {error}"
    );
}

/// Every prefix of the archive either fails or, once the needed members are complete, lists
/// exactly what the whole archive lists: a cut dump never lists less quietly.
#[test]
fn every_truncation_fails_or_lists_everything() {
    let dump = dump().tar_gz();
    let whole = summary(&list(&dump, None).unwrap());
    let mut failures = 0;
    for cut in 0..dump.len() {
        match list(&dump[..cut], None) {
            Ok(listing) => assert_eq!(summary(&listing), whole, "cut at {cut}"),
            Err(_) => failures += 1,
        }
    }
    assert!(failures > dump.len() / 2, "{failures} of {}", dump.len());
    // Cut in the uncompressed tar, so gzip has nothing to complain about: the short member
    // is found by its length.
    let tar = crate::Dump::standard(TIMESTAMP, &crates(), &versions()).tar();
    let versions_at = tar
        .windows(8)
        .position(|window| window == b"checksum")
        .unwrap();
    let error = list(&gzip(&tar[..versions_at + 100]), None)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("2022-08-08-020027/data/versions.csv: truncated after 100 of ")
            || error.starts_with("cannot read 2022-08-08-020027/data/versions.csv"),
        "{error}"
    );
}

#[test]
fn a_trailing_member_is_never_read() {
    // After versions.csv, a member that would not even decompress: the listing stops before.
    let mut archive = dump().tar_gz();
    archive.extend_from_slice(b"garbage after the needed members, not gzip at all");
    check(&archive, None, "a: 1.0.0\nb: 0.1.0\n");
}

/// Counts the bytes taken from the inner reader.
struct Counting<'a> {
    inner: &'a [u8],
    taken: usize,
}

impl std::io::Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.taken += read;
        Ok(read)
    }
}

#[test]
fn reading_stops_after_the_needed_members() {
    // 128 MiB of barely compressible dependencies after versions.csv, as in the registry's
    // dumps. Decompression runs ahead of parsing by at most 64 MiB in flight plus a chunk or
    // two of 2 MiB, about 42 MiB of this archive; reading stops there.
    // A MiB of letters, repeated: repeats that far apart are past deflate's 32 KiB window.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let block: Vec<u8> = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b'a' + (state % 26) as u8
        })
        .collect();
    let noise = block.repeat(128);
    let archive = dump().replace("dependencies.csv", &noise).tar_gz();
    assert!(archive.len() > 64 << 20, "{}", archive.len());
    let mut input = Counting {
        inner: &archive,
        taken: 0,
    };
    let listing = fetchkit_lister::list_from_reader(&mut input, &crate::options(None)).unwrap();
    assert_eq!(summary(&listing), "a: 1.0.0\nb: 0.1.0\n");
    assert!(
        input.taken < 48 << 20,
        "read {} of {} bytes",
        input.taken,
        archive.len()
    );
}
