//! Archives built for the tests, hostile ones included: the tar writer is given raw header
//! names, so `../x` and `/etc/x` go in as written, which `tar::Builder`'s own path setters
//! refuse.

use std::io::{Cursor, Write as _};

use flate2::Compression;
use flate2::write::GzEncoder;
use zip::write::SimpleFileOptions;

/// One archive entry; names and targets are written exactly as given.
#[derive(Clone, Debug)]
pub enum Entry {
    /// A regular file: name, content, mode.
    File(&'static str, Vec<u8>, u32),
    /// A folder.
    Folder(&'static str),
    /// A symbolic link: name, target.
    Symlink(&'static str, &'static str),
    /// A hard link (tar only): name, target.
    HardLink(&'static str, &'static str),
    /// A FIFO (tar only).
    Fifo(&'static str),
    /// A character device (tar only).
    Device(&'static str),
}

/// A file with mode 0644.
pub fn file(name: &'static str, content: impl Into<Vec<u8>>) -> Entry {
    Entry::File(name, content.into(), 0o644)
}

/// A gzip-compressed tar archive of `entries`, names exactly as given.
pub fn tar_gz(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let (name, kind, data, mode, link): (&str, tar::EntryType, &[u8], u32, &str) = match entry {
            Entry::File(name, data, mode) => (name, tar::EntryType::Regular, data, *mode, ""),
            Entry::Folder(name) => (name, tar::EntryType::Directory, &[], 0o755, ""),
            Entry::Symlink(name, target) => (name, tar::EntryType::Symlink, &[], 0o777, target),
            Entry::HardLink(name, target) => (name, tar::EntryType::Link, &[], 0o644, target),
            Entry::Fifo(name) => (name, tar::EntryType::Fifo, &[], 0o644, ""),
            Entry::Device(name) => (name, tar::EntryType::Char, &[], 0o644, ""),
        };
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// Appends a regular file at `path` (mode 0644, a fixed time), so that the same contents
/// always make the same archive bytes and checksum.
pub(crate) fn append_file<W: std::io::Write>(
    archive: &mut tar::Builder<W>,
    path: &str,
    contents: &[u8],
) {
    let mut header = tar::Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(1_700_000_000);
    archive
        .append_data(&mut header, path, contents)
        .expect("tar into memory cannot fail");
}

/// A zip archive of `entries` (deflated), names exactly as given.
pub fn zip(entries: &[Entry]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for entry in entries {
        match entry {
            Entry::File(name, data, mode) => {
                writer
                    .start_file(*name, options.unix_permissions(*mode))
                    .unwrap();
                writer.write_all(data).unwrap();
            }
            Entry::Folder(name) => writer.add_directory(*name, options).unwrap(),
            Entry::Symlink(name, target) => writer.add_symlink(*name, *target, options).unwrap(),
            other => panic!("zip archives in these tests do not hold {other:?}"),
        }
    }
    writer.finish().unwrap().into_inner()
}
