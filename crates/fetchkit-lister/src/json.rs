//! A listing written as JSON lines straight from its table, on every core.
//!
//! The same bytes `serde_json` writes for [`Origin`](crate::Origin)s and [`Page`]s (the tests
//! compare the two), without making those values: a full listing is two million versions,
//! and building an origin copies every string of its page. Lines are written into large
//! buffers by worker threads, batch by batch, and the caller's writer gets the batches in
//! order.

use std::io::{self, Write};
use std::sync::mpsc;

use crate::listing::{Entry, Listing};
use crate::template::hex_digits;
use crate::timestamp::Dates;

/// What each line of [`Listing::write_json_lines`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineFormat {
    /// One [`Origin`](crate::Origin) per crate, as Software Heritage's loader takes it.
    Origins,
    /// One [`Page`](crate::Page) per crate: the JSON array of its version lines.
    Pages,
}

/// Versions per batch: about 3 MB of output, enough to keep each worker busy for a while and
/// few enough to keep the buffers in flight small.
const BATCH_VERSIONS: usize = 8 << 10;

/// Batches a worker may have written ahead of the caller's writer.
const AHEAD: usize = 2;

impl Listing {
    /// Writes one JSON line per page, in page order: each page's [`Origin`](crate::Origin), or
    /// its [`Page`](crate::Page)'s version lines. The bytes are those `serde_json::to_writer`
    /// writes for those values, each followed by a newline.
    ///
    /// The lines are made on up to four threads while the calling thread writes them to `out`;
    /// an error from `out` stops the workers and is returned.
    pub fn write_json_lines(&self, out: &mut impl Write, format: LineFormat) -> io::Result<()> {
        let batches = self.batches();
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 4)
            .min(batches.len().saturating_sub(1))
            .max(1);
        if workers == 1 {
            let mut lines = Lines::new(self, format);
            let mut buffer = Vec::new();
            for batch in batches.windows(2) {
                buffer.clear();
                lines.write(&mut buffer, batch[0]..batch[1]);
                out.write_all(&buffer)?;
            }
            return Ok(());
        }

        std::thread::scope(|scope| {
            let batches = &batches;
            let mut filled = Vec::new();
            let mut recycle = Vec::new();
            for worker in 0..workers {
                let (send_filled, receive_filled) = mpsc::sync_channel::<Vec<u8>>(AHEAD);
                let (send_empty, receive_empty) = mpsc::channel::<Vec<u8>>();
                filled.push(receive_filled);
                recycle.push(send_empty);
                scope.spawn(move || {
                    let mut lines = Lines::new(self, format);
                    // Worker `w` makes batches `w`, `w + workers`, ...: the writer takes them
                    // round-robin, so every batch arrives in order without a reorder buffer.
                    for batch in batches.windows(2).skip(worker).step_by(workers) {
                        let mut buffer = receive_empty.try_recv().unwrap_or_default();
                        buffer.clear();
                        lines.write(&mut buffer, batch[0]..batch[1]);
                        if send_filled.send(buffer).is_err() {
                            // The writer failed and stopped listening.
                            return;
                        }
                    }
                });
            }
            for batch in 0..batches.len() - 1 {
                let worker = batch % workers;
                // A worker that panicked closed its channel; the scope re-raises its panic.
                let Ok(buffer) = filled[worker].recv() else {
                    break;
                };
                out.write_all(&buffer)?;
                let _ = recycle[worker].send(buffer);
            }
            Ok(())
        })
    }

    /// Page indices where batches start, and the page count at the end.
    fn batches(&self) -> Vec<usize> {
        let table = &self.table;
        let mut starts = vec![0];
        let mut versions = 0;
        for page in 0..table.page_count() {
            versions += table.versions(page).len();
            if versions >= BATCH_VERSIONS {
                starts.push(page + 1);
                versions = 0;
            }
        }
        if *starts.last().unwrap_or(&0) != table.page_count() {
            starts.push(table.page_count());
        }
        starts
    }
}

/// Writes lines of one format; its scratch string is reused from value to value.
struct Lines<'l> {
    listing: &'l Listing,
    format: LineFormat,
    /// The templates' literal text needs no JSON escapes (so a URL made of plain values
    /// needs none either).
    plain_templates: bool,
    /// The current page's name and version numbers need no JSON escapes.
    plain_page: bool,
    scratch: String,
    /// The current batch: its entries, where each page's end, and their version numbers.
    /// Rows and numbers lie all over memory in page order; copying the batch's first, in
    /// loops of independent loads, lets their cache misses overlap.
    batch: Batch,
    dates: Dates,
}

#[derive(Default)]
struct Batch {
    entries: Vec<Entry>,
    page_ends: Vec<usize>,
    /// Each entry's number in `numbers`.
    spans: Vec<std::ops::Range<usize>>,
    numbers: String,
}

impl<'l> Lines<'l> {
    fn new(listing: &'l Listing, format: LineFormat) -> Lines<'l> {
        Lines {
            listing,
            format,
            plain_templates: listing.templates.literals().all(is_plain),
            plain_page: false,
            scratch: String::new(),
            batch: Batch::default(),
            dates: Dates::new(),
        }
    }

    fn write(&mut self, out: &mut Vec<u8>, pages: std::ops::Range<usize>) {
        let table = &self.listing.table;
        let mut batch = std::mem::take(&mut self.batch);
        batch.entries.clear();
        batch.page_ends.clear();
        table.copy_versions(pages.clone(), &mut batch.entries, &mut batch.page_ends);
        batch.spans.clear();
        batch.numbers.clear();
        for entry in &batch.entries {
            let start = batch.numbers.len();
            batch.numbers.push_str(table.number(entry));
            batch.spans.push(start..batch.numbers.len());
        }
        let mut start = 0;
        for (page, &end) in pages.zip(&batch.page_ends) {
            let entries = &batch.entries[start..end];
            let spans = &batch.spans[start..end];
            let numbers = spans
                .first()
                .zip(spans.last())
                .map_or("", |(first, last)| &batch.numbers[first.start..last.end]);
            self.plain_page = is_plain(table.name(page)) && is_plain(numbers);
            let versions = entries
                .iter()
                .zip(spans)
                .map(|(entry, span)| (entry, &batch.numbers[span.clone()]));
            match self.format {
                LineFormat::Origins => self.origin(out, page, versions),
                LineFormat::Pages => self.page(out, page, versions),
            }
            out.push(b'\n');
            start = end;
        }
        self.batch = batch;
    }

    /// The crate file's URL as a JSON string.
    fn crate_file(&mut self, out: &mut Vec<u8>, name: &str, version: &str, entry: &Entry) {
        let templates = &self.listing.templates;
        if self.plain_page && self.plain_templates {
            out.push(b'"');
            templates.crate_file_url_into(out, name, version, &entry.checksum);
            out.push(b'"');
        } else {
            self.scratch.clear();
            templates.crate_file_url_into(&mut self.scratch, name, version, &entry.checksum);
            string(out, &self.scratch);
        }
    }

    /// `{name}-{version}.crate` as a JSON string.
    fn filename(&mut self, out: &mut Vec<u8>, name: &str, version: &str) {
        if self.plain_page {
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.push(b'-');
            out.extend_from_slice(version.as_bytes());
            out.extend_from_slice(b".crate\"");
        } else {
            self.scratch.clear();
            self.scratch.push_str(name);
            self.scratch.push('-');
            self.scratch.push_str(version);
            self.scratch.push_str(".crate");
            string(out, &self.scratch);
        }
    }

    /// A name or version number of the current page as a JSON string.
    fn value(&self, out: &mut Vec<u8>, text: &str) {
        if self.plain_page {
            ascii(out, text.as_bytes());
        } else {
            string(out, text);
        }
    }

    /// Fields in the order of `Origin`'s serde derive.
    fn origin<'v>(
        &mut self,
        out: &mut Vec<u8>,
        page: usize,
        versions: impl Iterator<Item = (&'v Entry, &'v str)> + Clone,
    ) {
        let listing = self.listing;
        let table = &listing.table;
        let name = table.name(page);

        out.extend_from_slice(b"{\"url\":");
        self.scratch.clear();
        listing.templates.origin_url_into(&mut self.scratch, name);
        string(out, &self.scratch);
        out.extend_from_slice(b",\"visit_type\":\"crates\",\"last_update\":");
        match versions.clone().next() {
            Some((first, _)) => ascii(
                out,
                first
                    .updated_at
                    .timestamp()
                    .render_with(Some(&mut self.dates))
                    .as_bytes(),
            ),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"extra_loader_arguments\":{\"artifacts\":[");
        for (index, (entry, version)) in versions.clone().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"version\":");
            self.value(out, version);
            out.extend_from_slice(b",\"filename\":");
            self.filename(out, name, version);
            out.extend_from_slice(b",\"url\":");
            self.crate_file(out, name, version, entry);
            out.extend_from_slice(b",\"checksums\":{\"sha256\":");
            ascii(out, hex_digits(&entry.checksum.0).as_bytes());
            out.extend_from_slice(b"}}");
        }
        out.extend_from_slice(b"],\"crates_metadata\":[");
        for (index, (entry, version)) in versions.enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"version\":");
            self.value(out, version);
            out.extend_from_slice(b",\"yanked\":");
            boolean(out, entry.yanked);
            out.extend_from_slice(b",\"last_update\":");
            ascii(
                out,
                entry
                    .updated_at
                    .render_with(Some(&mut self.dates))
                    .as_bytes(),
            );
            out.push(b'}');
        }
        out.extend_from_slice(b"]}}");
    }

    /// Fields in the order of `VersionLine`'s `Serialize`.
    fn page<'v>(
        &mut self,
        out: &mut Vec<u8>,
        page: usize,
        versions: impl Iterator<Item = (&'v Entry, &'v str)>,
    ) {
        let table = &self.listing.table;
        let name = table.name(page);
        out.push(b'[');
        for (index, (entry, version)) in versions.enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"name\":");
            self.value(out, name);
            out.extend_from_slice(b",\"version\":");
            self.value(out, version);
            out.extend_from_slice(b",\"crate_file\":");
            self.crate_file(out, name, version, entry);
            out.extend_from_slice(b",\"filename\":");
            self.filename(out, name, version);
            out.extend_from_slice(b",\"checksum\":");
            ascii(out, hex_digits(&entry.checksum.0).as_bytes());
            out.extend_from_slice(b",\"yanked\":");
            boolean(out, entry.yanked);
            out.extend_from_slice(b",\"last_update\":");
            ascii(
                out,
                entry
                    .updated_at
                    .render_with(Some(&mut self.dates))
                    .as_bytes(),
            );
            out.push(b'}');
        }
        out.push(b']');
    }
}

/// Whether `text` needs no escapes in a JSON string (every name, version and URL in
/// practice). No early exit, so that the loop vectorizes.
fn is_plain(text: &str) -> bool {
    !text.bytes().fold(false, |escape, byte| {
        escape | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    })
}

/// A JSON string. Text with nothing to escape is copied; anything else goes through
/// `serde_json`, so the escapes are exactly its own.
fn string(out: &mut Vec<u8>, text: &str) {
    if is_plain(text) {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// A JSON string of text known to need no escapes (digits, timestamps).
fn ascii(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(text);
    out.push(b'"');
}

fn boolean(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::Builder;
    use crate::rows::{At, CrateRow, VersionRow};
    use crate::{DumpTime, ListOptions, Templates, Timestamp};
    use fetchkit_transport::Sha256Digest;

    /// A listing of `crates` crates with `versions` versions each, rows interleaved across
    /// crates as in a dump; names and versions include text JSON must escape.
    fn listing(crates: i32, versions: u32) -> Listing {
        let options = ListOptions::new(
            Templates::new(
                "http://127.0.0.1:1/dl/{lowerprefix}/{crate}/{version}/{sha256-checksum}",
                "http://127.0.0.1:1/\"crates\"/{crate}",
            )
            .unwrap(),
        );
        let mut builder = Builder::new(&options);
        let updated = Timestamp::parse("2022-08-08 02:00:27").unwrap();
        let names: Vec<String> = (0..crates)
            .map(|id| match id % 5 {
                0 => format!("crate-{id}"),
                1 => format!("quote\"{id}"),
                2 => format!("back\\slash\u{1}{id}"),
                3 => format!("naïve-{id}\u{7f}"),
                _ => format!("Mixed_Case{id}"),
            })
            .collect();
        let at = At {
            file: "versions.csv",
            line: 2,
        };
        for (id, name) in (0..crates).zip(&names) {
            let row = CrateRow {
                id,
                name,
                updated_at: updated,
            };
            builder.crate_row(row, at).unwrap();
        }
        builder.crates_done().unwrap();
        let times = [
            "2017-11-30 03:33:14.186028",
            "2017-11-30T03:33:14Z",
            "2017-11-30 03:33:14.1+02",
            "2017-11-30 03:33:14.123456789-01:30",
        ];
        for version in 0..versions {
            for id in 0..crates {
                let number = match (version + id as u32) % 4 {
                    0 => format!("{version}.0.0"),
                    1 => format!("0.{version}.1-beta.{id}"),
                    2 => format!("1.0.{version}+build\"{id}"),
                    _ => format!("v{version}\n"),
                };
                builder
                    .version_row(
                        VersionRow {
                            crate_id: id,
                            num: &number,
                            updated_at: DumpTime::parse(times[(version % 4) as usize]).unwrap(),
                            yanked: (version + id as u32).is_multiple_of(3),
                            checksum: Sha256Digest([(version * 7 + id as u32) as u8; 32]),
                            metadata: None,
                        },
                        at,
                    )
                    .unwrap();
            }
        }
        builder.finish(Timestamp::parse("2022-08-08T02:00:27Z").unwrap())
    }

    fn written(listing: &Listing, format: LineFormat) -> String {
        let mut out = Vec::new();
        listing.write_json_lines(&mut out, format).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn serde_lines<T: serde::Serialize>(values: impl Iterator<Item = T>) -> String {
        values
            .map(|value| serde_json::to_string(&value).unwrap() + "\n")
            .collect()
    }

    #[test]
    fn written_lines_are_serde_json_bytes_on_one_thread_and_on_several() {
        // 9 versions of 2,500 crates is several batches; 3 of 7 is one.
        for (crates, versions) in [(2_500, 9), (7, 3), (0, 0)] {
            let listing = listing(crates, versions);
            assert!(listing.batches().len() > 3 || crates < 10);
            assert_eq!(
                written(&listing, LineFormat::Origins),
                serde_lines(listing.origins()),
                "{crates} x {versions}"
            );
            assert_eq!(
                written(&listing, LineFormat::Pages),
                serde_lines(listing.pages().map(|page| page.versions)),
                "{crates} x {versions}"
            );
        }
    }

    /// A writer that fails after some bytes.
    struct Failing {
        left: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::Error::other("disk full"));
            }
            let length = buf.len().min(self.left);
            self.left -= length;
            Ok(length)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_writer_stops_the_workers_and_gives_its_error() {
        let listing = listing(2_500, 9);
        let error = listing
            .write_json_lines(&mut Failing { left: 1 << 20 }, LineFormat::Origins)
            .unwrap_err();
        assert_eq!(error.to_string(), "disk full");
    }
}
