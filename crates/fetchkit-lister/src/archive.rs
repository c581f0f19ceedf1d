//! Reading the dump: gzip, then tar, then CSV, in one streaming pass.
//!
//! The calling thread reads and decompresses; a second thread walks the tar members and parses
//! the CSV rows. Decompressed data crosses between them in a few recycled 256 KiB buffers, so
//! memory stays bounded however large the dump, and the two halves run in parallel. Members
//! are recognised by their path whatever the top folder is called and whatever order they come
//! in; reading stops (and decompression with it) as soon as `metadata.json`, `crates.csv` and
//! `versions.csv` are done, before the dump's big trailing tables.

use std::io::{self, BufReader, Read};
use std::sync::mpsc;

use csv::ByteRecord;
use fetchkit_transport::Progress;
use serde::Deserialize;

use crate::listing::Builder;
use crate::rows::{self, At, CrateColumns, DeletedColumns, VersionColumns};
use crate::{ListError, ListOptions, Listing, Timestamp};

/// The members of the dump a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    Metadata,
    Crates,
    Versions,
    Deleted,
}

impl Member {
    fn name(self) -> &'static str {
        match self {
            Member::Metadata => "metadata.json",
            Member::Crates => "data/crates.csv",
            Member::Versions => "data/versions.csv",
            Member::Deleted => "data/deleted_crates.csv",
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
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.failed {
                return Err(io::Error::other("the dump could not be read further"));
            }
            match self.chunks.recv() {
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
    let mut seen: [Option<String>; 4] = Default::default();
    let mut dump_timestamp: Option<Timestamp> = None;
    let entries = archive.entries().map_err(archive_error)?;
    for entry in entries {
        let entry = entry.map_err(archive_error)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(member) = classify(&path) else {
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
        let needed = [Member::Metadata, Member::Crates, Member::Versions];
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
        for member in [Member::Crates, Member::Versions] {
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
            builder.crates_done();
        }
        Member::Versions => {
            read_csv(reader, path, builder, |headers| {
                let columns = VersionColumns::find(headers, path)?;
                Ok(
                    move |record: &ByteRecord, at: At<'_>, builder: &mut Builder<'_>| {
                        builder.version_row(rows::version_row(record, &columns, at)?, at)
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

/// Reads one CSV member: `start` sees the header and returns the row handler.
fn read_csv<'o, F>(
    reader: &mut impl Read,
    path: &str,
    builder: &mut Builder<'o>,
    start: impl FnOnce(&ByteRecord) -> Result<F, ListError>,
) -> Result<(), ListError>
where
    F: FnMut(&ByteRecord, At<'_>, &mut Builder<'o>) -> Result<(), ListError>,
{
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(256 << 10)
        .from_reader(reader);
    let headers = csv.byte_headers().map_err(|e| csv_error(e, path))?.clone();
    let mut handle = start(&headers)?;
    let mut record = ByteRecord::new();
    while csv
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(e, path))?
    {
        let line = record.position().map_or(0, csv::Position::line);
        handle(&record, At { file: path, line }, builder)?;
    }
    Ok(())
}

fn csv_error(error: csv::Error, path: &str) -> ListError {
    let line = error.position().map_or(0, csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => error.to_string(),
    };
    match error.into_kind() {
        csv::ErrorKind::Io(source) => ListError::Read {
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
            ("2022-08-08-020027/data/dependencies.csv", None),
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
}
