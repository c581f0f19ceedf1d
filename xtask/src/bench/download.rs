//! `cargo xtask bench download`: `fetchkit download` of one large file from a loopback nginx,
//! against curl followed by sha256sum, and against its two bounds: hashing the file with
//! `openssl dgst -sha256` and transferring it with `curl -o /dev/null`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, bail, format_err};

use super::{CURL, NGINX, Nginx, OPENSSL, SHA256SUM};
use crate::{flags, util};

/// `curl+sha256sum / fetchkit` must be at least this.
const TARGET_VS_CURL: f64 = 5.0;
/// `fetchkit / openssl dgst -sha256` must be at most this.
const TARGET_VS_HASH: f64 = 1.25;

const COLUMNS: [&str; 5] = [
    "fetchkit",
    "curl + sha256sum",
    "openssl dgst -sha256",
    "curl -o /dev/null",
    "curl -o file",
];

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let values = flags::numbers(args, "bench download", &[("size-mib", 1024), ("rounds", 5)])?;
    let (size_mib, rounds) = (values[0], values[1]);
    if size_mib == 0 || rounds == 0 {
        bail!("bench download: --size-mib and --rounds must be at least 1");
    }

    let tools = super::ensure_tools(&[NGINX, CURL, OPENSSL, SHA256SUM])?;
    let [nginx, curl, openssl, sha256sum]: [PathBuf; 4] = tools
        .try_into()
        .map_err(|_| format_err!("bench download: expected four tool paths"))?;

    let target = util::target_dir()?;
    let fetchkit = super::build_cli_release(&target)?;
    let dir = target.join("bench").join("download");
    fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let data = dir.join("data.bin");
    super::ensure_data_file(&data, size_mib)?;
    let hex = super::openssl_sha256(&openssl, &data)?;
    println!("data.bin sha256 {hex}");

    let server = Nginx::start(&nginx, &dir, &dir)?;
    let url = server.url("data.bin");
    let out_fetchkit = dir.join("out-fetchkit.bin");
    let out_curl = dir.join("out-curl.bin");
    remove_if_present(&out_fetchkit)?;
    remove_if_present(&out_curl)?;

    println!("warm-up");
    util::run(Command::new(&curl).args(["-sS", "--fail", "-o", "/dev/null", &url]))?;

    let mut samples: Vec<[Duration; 5]> = Vec::new();
    for round in 1..=rounds {
        println!("round {round}/{rounds}");
        settle()?;
        let (fetchkit_time, ()) = super::time(|| {
            util::run(
                Command::new(&fetchkit)
                    .args(["download", &url, "-o"])
                    .arg(&out_fetchkit)
                    .args(["--sha256", &hex, "--quiet"]),
            )
        })?;
        check_size(&out_fetchkit, size_mib * super::MIB)?;
        remove_if_present(&out_fetchkit)?;

        settle()?;
        let (curl_sha_time, ()) = super::time(|| {
            util::run(
                Command::new(&curl)
                    .args(["-sS", "--fail", "-o"])
                    .arg(&out_curl)
                    .arg(&url),
            )?;
            let got =
                super::parse_hex_digest(&util::read(Command::new(&sha256sum).arg(&out_curl))?)?;
            if got != hex {
                bail!("{}: sha256 {got}, expected {hex}", out_curl.display());
            }
            Ok(())
        })?;
        remove_if_present(&out_curl)?;

        settle()?;
        let (hash_time, _) = super::time(|| {
            util::read(Command::new(&openssl).args(["dgst", "-sha256"]).arg(&data))
        })?;
        settle()?;
        let (transfer_time, ()) = super::time(|| {
            util::run(Command::new(&curl).args(["-sS", "--fail", "-o", "/dev/null", &url]))
        })?;
        // The floor of any tool that stores the file: transfer plus the page-cache write, no
        // hashing. Where the write costs more than the hash, this and not openssl is the bound.
        let out_write = dir.join("out-write.bin");
        settle()?;
        let (write_time, ()) = super::time(|| {
            util::run(
                Command::new(&curl)
                    .args(["-sS", "--fail", "-o"])
                    .arg(&out_write)
                    .arg(&url),
            )
        })?;
        remove_if_present(&out_write)?;
        samples.push([
            fetchkit_time,
            curl_sha_time,
            hash_time,
            transfer_time,
            write_time,
        ]);
    }
    drop(server);

    let report = Report::new(size_mib, samples);
    println!();
    println!("{}", report.table());
    println!("{}", report.verdicts());
    println!("row for docs/benchmarks.md (header too if the table is new):");
    println!();
    println!("{}", report.markdown(&super::today()?, &super::machine()?));
    Ok(())
}

/// `fetchkit` verified the digest itself; this only makes sure it wrote the whole file.
/// Writes back every dirty page before a timed command, so no tool pays for the writeback of
/// the previous one's output (on a 1 GiB file that shifts a run by up to a second).
fn settle() -> anyhow::Result<()> {
    util::run(&mut Command::new("sync"))
}

fn check_size(path: &Path, expected: u64) -> anyhow::Result<()> {
    let len = fs::metadata(path)
        .with_context(|| format!("{}: not written", path.display()))?
        .len();
    if len != expected {
        bail!("{}: {len} bytes, expected {expected}", path.display());
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("{}: cannot remove", path.display())),
    }
}

/// Timings of every round, per column (in [`COLUMNS`] order), and what follows from them.
#[derive(Debug)]
struct Report {
    size_mib: u64,
    samples: Vec<[Duration; 5]>,
    medians: [Duration; 5],
}

impl Report {
    fn new(size_mib: u64, samples: Vec<[Duration; 5]>) -> Report {
        let medians = std::array::from_fn(|column| {
            super::median(
                &samples
                    .iter()
                    .map(|round| round[column])
                    .collect::<Vec<_>>(),
            )
        });
        Report {
            size_mib,
            samples,
            medians,
        }
    }

    fn vs_curl(&self) -> f64 {
        self.medians[1].as_secs_f64() / self.medians[0].as_secs_f64()
    }

    fn vs_hash(&self) -> f64 {
        self.medians[0].as_secs_f64() / self.medians[2].as_secs_f64()
    }

    fn vs_write(&self) -> f64 {
        self.medians[0].as_secs_f64() / self.medians[4].as_secs_f64()
    }

    fn table(&self) -> String {
        let mut out = format!("{:<10}", "");
        for column in COLUMNS {
            out += &format!("{column:>22}");
        }
        let mut row = |label: &str, cells: [String; 5]| {
            out += &format!("\n{label:<10}");
            for cell in cells {
                out += &format!("{cell:>22}");
            }
        };
        for (index, round) in self.samples.iter().enumerate() {
            row(
                &format!("round {}", index + 1),
                round.map(|d| format!("{:.3} s", d.as_secs_f64())),
            );
        }
        row(
            "median",
            self.medians.map(|d| format!("{:.3} s", d.as_secs_f64())),
        );
        row(
            "MiB/s",
            self.medians
                .map(|d| format!("{:.0}", super::throughput(self.size_mib, d))),
        );
        out
    }

    fn verdicts(&self) -> String {
        format!(
            "curl+sha256sum / fetchkit = {:.2} (target >= {TARGET_VS_CURL:.2}): {}\n\
             fetchkit / openssl dgst -sha256 = {:.2} (target <= {TARGET_VS_HASH:.2}): {}\n\
             fetchkit / curl -o file = {:.2} (the transfer + write bound, for reference)",
            self.vs_curl(),
            pass(self.vs_curl() >= TARGET_VS_CURL),
            self.vs_hash(),
            pass(self.vs_hash() <= TARGET_VS_HASH),
            self.vs_write(),
        )
    }

    fn markdown(&self, date: &str, machine: &str) -> String {
        let cell = |d: Duration| {
            format!(
                "{:.3} s ({:.0} MiB/s)",
                d.as_secs_f64(),
                super::throughput(self.size_mib, d)
            )
        };
        let [fetchkit, curl_sha, hash, transfer, write] = self.medians.map(cell);
        format!(
            "| date | machine | size | rounds | fetchkit | curl + sha256sum | openssl dgst -sha256 \
             | curl -o /dev/null | curl -o file | curl+sha256sum / fetchkit (>= {TARGET_VS_CURL:.2}) \
             | fetchkit / openssl (<= {TARGET_VS_HASH:.2}) | fetchkit / curl -o file |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|\n\
             | {date} | {machine} | {} MiB | {} | {fetchkit} | {curl_sha} | {hash} | {transfer} \
             | {write} | {:.2} {} | {:.2} {} | {:.2} |",
            self.size_mib,
            self.samples.len(),
            self.vs_curl(),
            pass(self.vs_curl() >= TARGET_VS_CURL),
            self.vs_hash(),
            pass(self.vs_hash() <= TARGET_VS_HASH),
            self.vs_write(),
        )
    }
}

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Report;

    fn report() -> Report {
        let s = |ms: [u64; 5]| ms.map(Duration::from_millis);
        Report::new(
            1024,
            vec![
                s([1000, 5000, 900, 500, 1000]),
                s([1200, 6000, 1000, 600, 1100]),
                s([1100, 5600, 950, 550, 1000]),
            ],
        )
    }

    #[test]
    fn verdicts_use_medians() {
        let expected = "\
curl+sha256sum / fetchkit = 5.09 (target >= 5.00): PASS
fetchkit / openssl dgst -sha256 = 1.16 (target <= 1.25): PASS
fetchkit / curl -o file = 1.10 (the transfer + write bound, for reference)";
        assert_eq!(report().verdicts(), expected);
    }

    #[test]
    fn markdown_row() {
        let expected = "\
| date | machine | size | rounds | fetchkit | curl + sha256sum | openssl dgst -sha256 | curl -o /dev/null | curl -o file | curl+sha256sum / fetchkit (>= 5.00) | fetchkit / openssl (<= 1.25) | fetchkit / curl -o file |
|---|---|---|---|---|---|---|---|---|---|---|---|
| 2025-01-02 | 2 cores, test cpu | 1024 MiB | 3 | 1.100 s (931 MiB/s) | 5.600 s (183 MiB/s) | 0.950 s (1078 MiB/s) | 0.550 s (1862 MiB/s) | 1.000 s (1024 MiB/s) | 5.09 PASS | 1.16 PASS | 1.10 |";
        assert_eq!(
            report().markdown("2025-01-02", "2 cores, test cpu"),
            expected
        );
    }
}
