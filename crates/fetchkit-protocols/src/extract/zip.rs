//! Zip extraction. A zip's directory is at its end, so it is extracted from a file, not while
//! it downloads; the sizes the directory declares are checked against the limits before a byte
//! is written, and the bytes actually inflated are counted again while writing.

use std::io::{self, BufReader, Read};
use std::path::Path;

use tokio_util::sync::CancellationToken;
use zip::ZipArchive;
use zip::result::ZipError;

use super::{ExtractError, Extracted, Limits, Writer, open};

/// Longest symbolic-link target read from a zip entry.
const MAX_LINK_TARGET: u64 = 4096;

/// Extracts the zip archive at `archive` into the existing, empty folder `root`.
pub fn extract_zip(archive: &Path, root: &Path, limits: Limits) -> Result<Extracted, ExtractError> {
    extract_zip_until(archive, root, limits, None)
}

/// [`extract_zip`], stopped with [`ExtractError::Interrupted`] when `cancel` is cancelled.
pub(crate) fn extract_zip_until(
    archive: &Path,
    root: &Path,
    limits: Limits,
    cancel: Option<CancellationToken>,
) -> Result<Extracted, ExtractError> {
    let file = open(archive)?;
    let archive_size = file
        .metadata()
        .map_err(|source| ExtractError::io(archive, source))?
        .len();
    let mut zip = ZipArchive::new(BufReader::with_capacity(64 << 10, file)).map_err(corrupt)?;

    let entries = zip.len() as u64;
    if entries > limits.max_entries {
        return Err(ExtractError::Limit {
            limit: format!("{} entries", limits.max_entries),
            detail: format!("its directory lists {entries}"),
        });
    }
    // What the directory declares is only a claim, but a claim over the limits is refused
    // before anything is written.
    let declared: u64 = zip
        .decompressed_size()
        .map_or(0, |size| u64::try_from(size).unwrap_or(u64::MAX));
    if declared > limits.max_unpacked_bytes {
        return Err(ExtractError::Limit {
            limit: format!("{} unpacked bytes", limits.max_unpacked_bytes),
            detail: format!("its directory declares {declared} bytes"),
        });
    }

    let mut writer = Writer::new(root, "zip", limits, cancel);
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(corrupt)?;
        writer.count_entry()?;
        let name = match entry.name() {
            Ok(name) => name.into_owned().into_bytes(),
            Err(_) => entry.name_raw().to_vec(),
        };
        if let Some(kind) = entry.unix_mode().and_then(special_kind) {
            return Err(ExtractError::Unsupported {
                entry: String::from_utf8_lossy(&name).into_owned(),
                kind,
            });
        }
        if entry.is_symlink() {
            let mut target = Vec::new();
            (&mut entry)
                .take(MAX_LINK_TARGET)
                .read_to_end(&mut target)
                .map_err(corrupt_io)?;
            writer.symlink(&name, &target)?;
        } else if entry.is_dir() {
            writer.folder(&name)?;
        } else {
            let mode = entry.unix_mode();
            // The whole archive's size is the compressed side of the ratio: entries that share
            // compressed data (overlapping-entry bombs) cannot hide behind their own sizes.
            writer.file(&name, mode, &mut entry, &|| archive_size)?;
        }
    }
    writer.finish()
}

/// The kind of a special file by its Unix mode; zip entries made on Unix record it.
fn special_kind(mode: u32) -> Option<&'static str> {
    match mode & 0o170000 {
        0o020000 | 0o060000 => Some("device file"),
        0o010000 => Some("FIFO"),
        0o140000 => Some("socket"),
        _ => None,
    }
}

fn corrupt(error: ZipError) -> ExtractError {
    ExtractError::Corrupt {
        format: "zip",
        message: error.to_string(),
    }
}

fn corrupt_io(error: io::Error) -> ExtractError {
    ExtractError::Corrupt {
        format: "zip",
        message: error.to_string(),
    }
}
