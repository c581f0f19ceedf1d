//! Reading the dump: gzip, then tar, then CSV, in one streaming pass.
//!
//! The calling thread reads and decompresses; a second thread walks the tar members and parses
//! the CSV rows. Decompressed data crosses between them in recycled 2 MiB chunks, at most 32
//! in flight, so memory stays bounded however large the dump, and the two halves run in
//! parallel. Members are recognised by their path whatever the top folder is called and
//! whatever order they come in; reading stops (and decompression with it) as soon as
//! `metadata.json`, `crates.csv` and `versions.csv` are done, before the dump's big trailing
//! tables, or with index metadata once `dependencies.csv` is done too.
//!
//! The CSV reader is `simd-csv`, which finds the next quote, delimiter or newline with
//! vector instructions instead of stepping a state machine through every byte: on the dump's
//! tables it takes less than half the time of the `csv` crate, and that is what leaves the
//! parsing thread time to spare. It does not count lines, so [`LineBreaks`] does, from the
//! offsets of the line breaks it passes on.

use std::collections::VecDeque;
use std::io::{self, BufReader, Read};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fetchkit_transport::Progress;
use serde::Deserialize;
use simd_csv::ByteRecord;

use crate::listing::Builder;
use crate::rows::{self, At, CrateColumns, DeletedColumns, DependencyColumns, VersionColumns};
use crate::{ListError, ListOptions, Listing, Timestamp};

/// The members of the dump a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    Metadata,
    Crates,
    Versions,
    Deleted,
    Dependencies,
}

impl Member {
    fn name(self) -> &'static str {
        match self {
            Member::Metadata => "metadata.json",
            Member::Crates => "data/crates.csv",
            Member::Versions => "data/versions.csv",
            Member::Deleted => "data/deleted_crates.csv",
            Member::Dependencies => "data/dependencies.csv",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which member a path in the archive is: `metadata.json` or `data/<table>.csv`, either at
/// the top or inside one folder (the dump's dated folder), with or without a `./` prefix.
pub(crate) fn classify(path: &str) -> Option<Member> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    let member = |tail: &[&str]| match tail {
        ["metadata.json"] => Some(Member::Metadata),
        ["data", "crates.csv"] => Some(Member::Crates),
        ["data", "versions.csv"] => Some(Member::Versions),
        ["data", "deleted_crates.csv"] => Some(Member::Deleted),
        ["data", "dependencies.csv"] => Some(Member::Dependencies),
        _ => None,
    };
    member(&parts).or_else(|| parts.split_first().and_then(|(_, inside)| member(inside)))
}

/// Decompresses `input` here and parses it on a second thread.
pub(crate) fn list_stream(
    input: impl Read,
    options: &ListOptions,
    progress: Option<&dyn Progress>,
) -> Result<Listing, ListError> {
    // Large chunks, and 64 MiB of them in flight: each hand-over may wake a sleeping thread,
    // which costs tens of microseconds in a virtual machine, and the faster side can run
    // ahead where the other is slowed down: through `crates.csv`, whose long quoted readmes
    // parse slower than they decompress, and whenever either side stalls on fresh memory
    // (2 MiB chunks and eight in flight measured 0.3 s faster than 256 KiB and four; 32 in
    // flight, 0.07 s faster again than eight, in median over alternating runs).
    const CHUNK: usize = 2 << 20;
    const IN_FLIGHT: usize = 32;

    std::thread::scope(|scope| {
        let (chunks, received) = mpsc::sync_channel::<io::Result<Vec<u8>>>(IN_FLIGHT);
        let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
        let parser = std::thread::Builder::new()
            .name("fetchkit-lister-parse".into())
            .spawn_scoped(scope, move || {
                parse_archive(
                    ChunkReader {
                        chunks: received,
                        recycle,
                        current: Vec::new(),
                        at: 0,
                        failed: false,
                        spin: true,
                    },
                    options,
                )
            })
            .map_err(|source| ListError::Read {
                member: None,
                source,
            })?;

        let mut gzip = flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(
            128 << 10,
            Counted {
                inner: input,
                progress,
            },
        ));
        loop {
            let mut buffer = recycled.try_recv().unwrap_or_default();
            buffer.resize(CHUNK, 0);
            let mut filled = 0;
            let outcome = loop {
                match gzip.read(&mut buffer[filled..]) {
                    Ok(0) => break Ok(true),
                    Ok(read) => {
                        filled += read;
                        if filled == buffer.len() {
                            break Ok(false);
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => break Err(error),
                }
            };
            buffer.truncate(filled);
            // A closed channel means the parser has all it needs (or failed): stop here.
            if filled > 0 && chunks.send(Ok(buffer)).is_err() {
                break;
            }
            match outcome {
                Ok(false) => {}
                Ok(true) => break,
                Err(error) => {
                    let _ = chunks.send(Err(error));
                    break;
                }
            }
        }
        drop(chunks);
        match parser.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Reports the compressed bytes read.
struct Counted<'p, R> {
    inner: R,
    progress: Option<&'p dyn Progress>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if let Some(progress) = self.progress {
            progress.advance(read as u64);
        }
        Ok(read)
    }
}

/// The parser's side of the channel: decompressed bytes, in order; an error from the
/// decompressing side is returned where it happened, and every read after it fails too.
struct ChunkReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    recycle: mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    failed: bool,
    /// Whether to spin for the next chunk before sleeping (see [`ChunkReader::SPIN`]).
    spin: bool,
}

impl ChunkReader {
    /// How long the parser waits for a chunk awake before it sleeps. Parsing is faster than
    /// decompressing, so the parser waits for nearly every chunk; had it slept, every
    /// hand-over would have to wake it, and in a virtual machine waking a sleeping core makes
    /// the sender wait 0.1 ms or more (50–80 ms in all, on the decompressing thread that sets
    /// the pace). A chunk takes about 4 ms to decompress.
    const SPIN: Duration = Duration::from_millis(5);

    /// The next chunk; `Err` once the decompressing side is done.
    fn next_chunk(&mut self) -> Result<io::Result<Vec<u8>>, mpsc::RecvError> {
        if self.spin {
            let started = Instant::now();
            loop {
                match self.chunks.try_recv() {
                    Ok(chunk) => return Ok(chunk),
                    Err(mpsc::TryRecvError::Disconnected) => return Err(mpsc::RecvError),
                    Err(mpsc::TryRecvError::Empty) => {}
                }
                if started.elapsed() > Self::SPIN {
                    break;
                }
                for _ in 0..64 {
                    std::hint::spin_loop();
                }
            }
        }
        // A chunk that did not come within the spin (a slow download) makes the next waits
        // sleep at once; one that is ready when asked for turns spinning back on.
        match self.chunks.try_recv() {
            Ok(chunk) => {
                self.spin = true;
                Ok(chunk)
            }
            Err(mpsc::TryRecvError::Disconnected) => Err(mpsc::RecvError),
            Err(mpsc::TryRecvError::Empty) => {
                self.spin = false;
                self.chunks.recv()
            }
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.failed {
                return Err(io::Error::other("the dump could not be read further"));
            }
            match self.next_chunk() {
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.current, chunk);
                    self.at = 0;
                    let _ = self.recycle.send(used);
                }
                Ok(Err(error)) => {
                    self.failed = true;
                    return Err(error);
                }
                Err(mpsc::RecvError) => return Ok(0),
            }
        }
        let length = buf.len().min(self.current.len() - self.at);
        buf[..length].copy_from_slice(&self.current[self.at..self.at + length]);
        self.at += length;
        Ok(length)
    }
}

/// A member's bytes on their way to the CSV reader, with the offsets of the line breaks
/// (`\n` and `\r`) among them kept until the records after them are read: a record's line,
/// for its errors, is then known exactly, multi-line quoted fields and blank lines included,
/// without a second pass over the text.
struct LineBreaks<R> {
    inner: R,
    /// Bytes passed on so far.
    offset: u64,
    /// Offsets of the line breaks passed on and not yet behind a record, each shifted left
    /// by one, with the low bit set for `\n`.
    breaks: VecDeque<u64>,
    /// `\n`s behind the last record's start.
    newlines: u64,
}

impl<R> LineBreaks<R> {
    fn new(inner: R) -> LineBreaks<R> {
        LineBreaks {
            inner,
            offset: 0,
            breaks: VecDeque::new(),
            newlines: 0,
        }
    }

    /// The line on which the record after byte `end` (where the last one ended) starts.
    /// The CSV reader skips `\r` and `\n` bytes before a record (blank lines) and a record
    /// never starts with one, so the run of consecutive breaks at `end` is exactly what was
    /// skipped. Calls go forward: `end` never decreases.
    fn record_line(&mut self, end: u64) -> u64 {
        while let Some(&at) = self.breaks.front()
            && at >> 1 < end
        {
            self.newlines += at & 1;
            self.breaks.pop_front();
        }
        let mut next = end;
        while let Some(&at) = self.breaks.front()
            && at >> 1 == next
        {
            self.newlines += at & 1;
            self.breaks.pop_front();
            next += 1;
        }
        self.newlines + 1
    }
}

impl<R: Read> Read for LineBreaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        let offset = self.offset;
        self.breaks.extend(
            memchr::memchr2_iter(b'\n', b'\r', &buf[..read])
                .map(|at| (offset + at as u64) << 1 | u64::from(buf[at] == b'\n')),
        );
        self.offset += read as u64;
        Ok(read)
    }
}

/// Counts what a member's reader delivered, to tell a complete member from a cut one.
struct Measured<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Measured<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.read += read as u64;
        Ok(read)
    }
}

#[derive(Deserialize)]
struct Metadata {
    timestamp: String,
}

/// Walks the tar stream and feeds the needed members to a [`Builder`].
pub(crate) fn parse_archive(input: impl Read, options: &ListOptions) -> Result<Listing, ListError> {
    let mut archive = tar::Archive::new(input);
    let archive_error = |source| ListError::Read {
        member: None,
        source,
    };
    let mut builder = Builder::new(options);
    let mut seen: [Option<String>; 5] = Default::default();
    let needed: &[Member] = if options.index_metadata {
        &[
            Member::Metadata,
            Member::Crates,
            Member::Versions,
            Member::Dependencies,
        ]
    } else {
        &[Member::Metadata, Member::Crates, Member::Versions]
    };
    let mut dump_timestamp: Option<Timestamp> = None;
    let entries = archive.entries().map_err(archive_error)?;
    for entry in entries {
        let entry = entry.map_err(archive_error)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(member) = classify(&path).filter(|member| {
            // Without index metadata, dependencies are one more table nobody reads.
            *member != Member::Dependencies || options.index_metadata
        }) else {
            continue;
        };
        if let Some(first) = &seen[member.index()] {
            return Err(ListError::DuplicateMember {
                member: member.name(),
                first: first.clone(),
                second: path,
            });
        }
        let expected = entry.size();
        let mut reader = Measured {
            inner: entry,
            read: 0,
        };
        let result = read_member(member, &mut reader, &path, &mut builder);
        // The member's reader stops at the archive's end too: a short member is a cut archive,
        // whatever else it made look wrong (a header cut in half lacks columns). A read error
        // stands as it is.
        let complete = result.is_ok() || io::copy(&mut reader, &mut io::sink()).is_ok();
        if complete && reader.read < expected {
            return Err(ListError::Truncated {
                member: path,
                read: reader.read,
                expected,
            });
        }
        if let Some(timestamp) = result? {
            dump_timestamp = Some(timestamp);
        }
        seen[member.index()] = Some(path);
        if builder.is_stale() || needed.iter().all(|member| seen[member.index()].is_some()) {
            break;
        }
    }
    // Let go of the input before the listing is finished: a decompressing thread feeding it
    // stops at once instead of inflating members nobody reads, on a core `finish` needs.
    drop(archive);
    let Some(dump_timestamp) = dump_timestamp else {
        return Err(ListError::MissingMember {
            member: Member::Metadata.name(),
        });
    };
    if !builder.is_stale() {
        for &member in &needed[1..] {
            if seen[member.index()].is_none() {
                return Err(ListError::MissingMember {
                    member: member.name(),
                });
            }
        }
    }
    Ok(builder.finish(dump_timestamp))
}

/// Reads one needed member into the builder; for `metadata.json`, returns the timestamp.
fn read_member(
    member: Member,
    reader: &mut impl Read,
    path: &str,
    builder: &mut Builder<'_>,
) -> Result<Option<Timestamp>, ListError> {
    match member {
        Member::Metadata => {
            let timestamp = read_metadata(reader, path)?;
            builder.metadata(timestamp);
            return Ok(Some(timestamp));
        }
        Member::Crates => {
            read_csv(reader, path, builder, |headers| {
                let columns = CrateColumns::find(headers, path)?;
                Ok(
                    move |record: &ByteRecord, at: At<'_>, builder: &mut Builder<'_>| {
                        builder.crate_row(rows::crate_row(record, &columns, at)?, at)
                    },
                )
            })?;
            builder.crates_done()?;
        }
        Member::Versions => {
            let metadata = builder.index_metadata_wanted();
            read_csv(reader, path, builder, |headers| {
                let columns = VersionColumns::find(headers, path, metadata)?;
                Ok(
                    move |record: &ByteRecord, at: At<'_>, builder: &mut Builder<'_>| {
                        builder.version_row(rows::version_row(record, &columns, at)?, at)
                    },
                )
            })?;
            builder.versions_done(path)?;
        }
        Member::Dependencies => {
            read_csv(reader, path, builder, |headers| {
                let columns = DependencyColumns::find(headers, path)?;
                Ok(
                    move |record: &ByteRecord, at: At<'_>, builder: &mut Builder<'_>| {
                        // Most rows are of versions not listed: one field decides.
                        let version_id = rows::dependency_version_id(record, &columns, at)?;
                        if builder.wants_dependencies_of(version_id, at.file) {
                            builder
                                .dependency_row(rows::dependency_row(record, &columns, at)?, at)?;
                        }
                        Ok(())
                    },
                )
            })?;
        }
        Member::Deleted => {
            read_csv(reader, path, builder, |headers| {
                let columns = DeletedColumns::find(headers, path)?;
                Ok(
                    move |record: &ByteRecord, at: At<'_>, builder: &mut Builder<'_>| {
                        builder.deleted_row(rows::deleted_row(record, &columns, at)?);
                        Ok(())
                    },
                )
            })?;
        }
    }
    Ok(None)
}

fn read_metadata(reader: &mut impl Read, path: &str) -> Result<Timestamp, ListError> {
    const LIMIT: u64 = 1 << 20;
    let mut text = Vec::new();
    reader
        .take(LIMIT + 1)
        .read_to_end(&mut text)
        .map_err(|source| ListError::Read {
            member: Some(path.to_owned()),
            source,
        })?;
    let error = |reason: String| ListError::Metadata {
        member: path.to_owned(),
        reason,
    };
    if text.len() as u64 > LIMIT {
        return Err(error("larger than 1 MiB".into()));
    }
    let metadata: Metadata = serde_json::from_slice(&text).map_err(|e| error(e.to_string()))?;
    Timestamp::parse(&metadata.timestamp)
        .map_err(|e| error(format!("invalid timestamp {:?}: {e}", metadata.timestamp)))
}

/// Reads one CSV member: `start` sees the header and returns the row handler, which gets
/// each record, where it is, and `into`.
fn read_csv<T, F>(
    reader: &mut impl Read,
    path: &str,
    into: &mut T,
    start: impl FnOnce(&ByteRecord) -> Result<F, ListError>,
) -> Result<(), ListError>
where
    F: FnMut(&ByteRecord, At<'_>, &mut T) -> Result<(), ListError>,
{
    let mut csv = simd_csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(256 << 10)
        .from_reader(LineBreaks::new(reader));
    let headers = match csv.byte_headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            let line = csv.get_mut().record_line(0);
            return Err(csv_error(error, path, line));
        }
    };
    let mut handle = start(&headers)?;
    let mut record = ByteRecord::new();
    loop {
        let end = csv.position();
        let read = csv.read_byte_record(&mut record);
        let line = csv.get_mut().record_line(end);
        if !read.map_err(|error| csv_error(error, path, line))? {
            return Ok(());
        }
        handle(&record, At { file: path, line }, into)?;
    }
}

fn csv_error(error: simd_csv::Error, path: &str, line: u64) -> ListError {
    let message = match error.kind() {
        simd_csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => error.to_string(),
    };
    match error.into_kind() {
        simd_csv::ErrorKind::Io(source) => ListError::Read {
            member: Some(path.to_owned()),
            source,
        },
        _ => ListError::Csv {
            file: path.to_owned(),
            line,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_found_by_path() {
        let cases = [
            (
                "./2022-08-08-020027/data/versions.csv",
                Some(Member::Versions),
            ),
            ("2026-01-02-020000/data/crates.csv", Some(Member::Crates)),
            ("data/crates.csv", Some(Member::Crates)),
            ("./data/deleted_crates.csv", Some(Member::Deleted)),
            ("./2022-08-08-020027/metadata.json", Some(Member::Metadata)),
            ("metadata.json", Some(Member::Metadata)),
            ("2022-08-08-020027/data/crates_categories.csv", None),
            (
                "2022-08-08-020027/data/dependencies.csv",
                Some(Member::Dependencies),
            ),
            ("2022-08-08-020027/README.md", None),
            ("a/b/data/crates.csv", None),
            ("a/b/metadata.json", None),
            ("2022-08-08-020027/data", None),
            ("./", None),
        ];
        for (path, expected) in cases {
            assert_eq!(classify(path), expected, "{path}");
        }
    }

    /// Each record of `text` as `line: field|field`, then the error if reading stopped at one,
    /// as `read_csv` reads a member.
    fn read(text: &[u8]) -> String {
        let mut lines = Vec::new();
        let result = read_csv(&mut &text[..], "t.csv", &mut lines, |_| {
            Ok(|record: &ByteRecord, at: At<'_>, lines: &mut Vec<String>| {
                let fields: Vec<_> = record.iter().map(String::from_utf8_lossy).collect();
                lines.push(format!("{}: {}", at.line, fields.join("|")));
                Ok(())
            })
        });
        if let Err(error) = result {
            lines.push(format!("error: {error}"));
        }
        lines.join("\n")
    }

    /// The same from the `csv` crate, whose line numbers are the reference.
    fn read_with_csv_crate(text: &[u8]) -> String {
        let mut reader = csv::ReaderBuilder::new().from_reader(text);
        let mut lines = Vec::new();
        for record in reader.byte_records() {
            match record {
                Ok(record) => {
                    let fields: Vec<_> = record.iter().map(String::from_utf8_lossy).collect();
                    let line = record.position().map_or(0, csv::Position::line);
                    lines.push(format!("{line}: {}", fields.join("|")));
                }
                Err(error) => {
                    let line = error.position().map_or(0, csv::Position::line);
                    lines.push(format!("error at line {line}"));
                    break;
                }
            }
        }
        lines.join("\n")
    }

    #[track_caller]
    fn check(text: &str, expected: &str) {
        assert_eq!(read(text.as_bytes()), expected, "input {text:?}");
    }

    #[test]
    fn records_know_the_line_they_start_on() {
        check("a,b\n1,2\n3,4\n", "2: 1|2\n3: 3|4");
        check("a,b\r\n1,2\r\n3,4\r\n", "2: 1|2\n3: 3|4");
        check("a,b\n1,2\n3,4", "2: 1|2\n3: 3|4");
        // Blank lines are skipped, and counted.
        check("\n\na,b\n\n1,2\n\r\n\n3,4\n\n", "5: 1|2\n8: 3|4");
        check("a,b\r\n\r\n\r\n1,2\r\n", "4: 1|2");
        // Quoted fields: separators, doubled quotes, and line breaks inside.
        check(
            "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"one\ntwo\r\nthree\",2\n3,\"\n\"\n4,5\n",
            "2: x,y|say \"hi\"\n3: one\ntwo\r\nthree|2\n6: 3|\n\n8: 4|5",
        );
        // A quoted field that ends a CRLF line.
        check("a,b\r\n1,\"2\"\r\n3,4\r\n", "2: 1|2\n3: 3|4");
        // An error names the line its record starts on, after blank lines and multi-line
        // fields.
        check(
            "a,b\n\"1\n\n\",2\n\n\n3,4,5\n",
            "2: 1\n\n|2\nerror: t.csv:7: 3 fields where the header has 2",
        );
        check(
            "a,b\n1\n",
            "error: t.csv:2: 1 fields where the header has 2",
        );
        check("", "");
        check("a,b\n", "");
    }

    /// Random tables of quoted and unquoted fields, blank lines and both line ends read the
    /// same as the `csv` crate reads them, and with the same line numbers where no line is
    /// blank and lines end in `\n` alone. (Otherwise the `csv` crate numbers a record from
    /// where the line break before it, or the first blank line, started: one or more lines
    /// early. The cases above check those lines.)
    #[test]
    fn random_tables_read_as_the_csv_crate_reads_them() {
        let mut rng = fastrand::Rng::with_seed(7);
        let pieces = ["x", "yz", " ", ",", "\"", "\n", "\r\n", "é", "7"];
        for case in 0..3000 {
            let columns = rng.usize(1..4);
            let mut text = String::new();
            let mut blank = false;
            let rows = rng.usize(1..8);
            for row in 0..rows {
                if row > 0 && rng.u8(..4) == 0 {
                    blank = true;
                    text.push_str(if rng.bool() { "\n" } else { "\r\n" });
                }
                for column in 0..columns {
                    if column > 0 {
                        text.push(',');
                    }
                    match rng.u8(..4) {
                        // Empty, unless it would make a one-column row blank.
                        0 if columns > 1 => {}
                        0 | 1 => text.push_str(["a", "bc", "42", "x y"][rng.usize(..4)]),
                        _ => {
                            text.push('"');
                            for _ in 0..rng.usize(0..6) {
                                match pieces[rng.usize(..pieces.len())] {
                                    "\"" => text.push_str("\"\""),
                                    piece => text.push_str(piece),
                                }
                            }
                            text.push('"');
                        }
                    }
                }
                // The last line may end without a line break.
                if row + 1 < rows || rng.bool() {
                    text.push_str(if rng.bool() { "\n" } else { "\r\n" });
                }
            }
            let expected = read_with_csv_crate(text.as_bytes());
            let actual = read(text.as_bytes());
            // The `csv` crate says where an error is but words it its own way.
            let actual = match actual.rsplit_once("error: t.csv:") {
                Some((before, error)) => {
                    let line = error.split(':').next().unwrap_or_default();
                    format!("{before}error at line {line}")
                }
                None => actual,
            };
            let (actual, expected) = if blank || text.contains('\r') {
                let unnumbered = |lines: &str| {
                    lines
                        .lines()
                        .map(|line| match line.split_once(": ") {
                            Some((number, rest)) if number.parse::<u64>().is_ok() => rest,
                            _ => line.split(" at line").next().unwrap_or_default(),
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                (unnumbered(&actual), unnumbered(&expected))
            } else {
                (actual, expected)
            };
            assert_eq!(actual, expected, "case {case}: {text:?}");
        }
    }
}
