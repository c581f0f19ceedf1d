//! The decompression bound of a listing: inflate the dump with fetchkit-lister's gzip backend
//! (flate2 on zlib-rs, a `MultiGzDecoder` over a 128 KiB `BufReader`, as it reads) and walk the
//! tar members, reading every byte, until `data/versions.csv` is read. Nothing is parsed or
//! kept. Prints the bytes read.
//!
//! Each member is read into one reused 256 KiB heap buffer, the chunk size the lister inflates
//! into, and the bytes are counted and dropped. Not `io::copy`: its 8 KiB reads would make
//! zlib copy every output byte again through its window, so the bound would measure small reads
//! rather than inflation.
//!
//! Usage: `inflate DUMP.tar.gz`

use std::{
    fs::File,
    io::{BufReader, ErrorKind, Read},
};

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .context("usage: inflate DUMP.tar.gz")?;
    let file = File::open(&path).with_context(|| format!("{}: cannot open", path.display()))?;
    let gzip = flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(128 << 10, file));
    let mut archive = tar::Archive::new(gzip);
    // The lister's chunk size: each read asks for up to this much of the member.
    let mut buffer = vec![0u8; 256 << 10];
    let mut bytes = 0u64;
    for entry in archive.entries().context("cannot read the tar stream")? {
        let mut entry = entry.context("cannot read a tar member")?;
        let is_versions = entry
            .path()
            .context("a tar member path is not valid")?
            .ends_with("data/versions.csv");
        loop {
            match entry.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => bytes += read as u64,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error).context("cannot inflate a member"),
            }
        }
        if is_versions {
            println!("inflated {bytes} bytes up to the end of data/versions.csv");
            return Ok(());
        }
    }
    bail!("{}: no data/versions.csv in the archive", path.display())
}
