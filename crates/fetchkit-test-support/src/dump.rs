//! A registry database dump made from [`FakeCrate`]s, in the layout the registry publishes.

use std::fmt::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

use crate::FakeCrate;
use crate::archives::append_file;
use crate::registry::hex;

/// Builds a database dump `.tar.gz` from [`FakeCrate`]s, as the registry lays it out today: a
/// top folder named after the timestamp (`YYYY-MM-DD-HHMMSS/`), `README.md`, `metadata.json`,
/// then `data/crates.csv`, `data/deleted_crates.csv` (when crates were deleted),
/// `data/versions.csv` and `data/dependencies.csv`, with the columns in alphabetical order
/// and a few the lister has no use for among them.
///
/// Each [`krate`](DumpBuilder::krate) call adds one version with its own `updated_at`; a
/// crate's row in `crates.csv` takes the latest `updated_at` of its versions, as the
/// registry's triggers bump a crate with each publish and yank. Rows come in the order the
/// versions were added. Ids are distinct across tables (crates from 1000, versions from
/// 50000, dependencies from 900000), so a join on the wrong id finds nothing:
///
/// - `versions.csv`: `tar_sha256` is `\x` and the hex SHA-256 of [`FakeCrate::crate_file`],
///   `yanked` `t`/`f`, `features` the version's features as JSON (keys in the order Postgres'
///   `jsonb` writes them: shorter first, then by bytes), `links` and `rust_version` empty.
/// - `dependencies.csv`: one row per dependency of the [`FakeCrate`]: `crate_id` the
///   depended-on crate's (which must be in the dump), `explicit_name` the name used when the
///   dependency is renamed, `kind` 0, 1 or 2, `optional` `f`, `default_features` `t`,
///   `features` `{}` and no `target`.
///
/// Timestamps are given in the dump's form (`2026-01-01 10:00:00`, optionally with fractional
/// seconds and `+00`) and compared as text, so use one form throughout. `metadata.json`'s
/// timestamp is RFC 3339 (`2026-01-02T02:00:00Z`).
///
/// ```
/// use fetchkit_test_support::{DumpBuilder, FakeCrate};
///
/// let dump = DumpBuilder::new("2026-01-02T02:00:00Z")
///     .krate(FakeCrate::new("a", "1.0.0"), "2026-01-01 10:00:00")
///     .krate(FakeCrate::new("b", "0.1.0").dependency("a", "1"), "2026-01-01 11:00:00")
///     .tar_gz();
/// assert_eq!(&dump[..2], b"\x1f\x8b");
/// ```
#[derive(Debug, Clone)]
pub struct DumpBuilder {
    timestamp: String,
    versions: Vec<(FakeCrate, String)>,
    deleted: Vec<(String, String)>,
}

const FIRST_CRATE_ID: usize = 1000;
const FIRST_VERSION_ID: usize = 50_000;
const FIRST_DEPENDENCY_ID: usize = 900_000;

impl DumpBuilder {
    /// An empty dump taken at `timestamp` (RFC 3339, as `metadata.json` has it).
    ///
    /// # Panics
    ///
    /// If `timestamp` does not start `YYYY-MM-DDTHH:MM:SS`.
    pub fn new(timestamp: &str) -> DumpBuilder {
        folder(timestamp);
        DumpBuilder {
            timestamp: timestamp.to_owned(),
            versions: Vec::new(),
            deleted: Vec::new(),
        }
    }

    /// Adds a version, updated at `updated_at`; the same name and version again replaces the
    /// earlier one (keeping its place), as a republished [`SparseRegistry`](crate::SparseRegistry)
    /// version does.
    pub fn krate(mut self, krate: FakeCrate, updated_at: &str) -> DumpBuilder {
        let same = |(existing, _): &(FakeCrate, String)| {
            existing.name() == krate.name() && existing.version() == krate.version()
        };
        match self.versions.iter().position(same) {
            Some(at) => self.versions[at] = (krate, updated_at.to_owned()),
            None => self.versions.push((krate, updated_at.to_owned())),
        }
        self
    }

    /// Adds versions, all updated at `updated_at`.
    pub fn crates(
        self,
        crates: impl IntoIterator<Item = FakeCrate>,
        updated_at: &str,
    ) -> DumpBuilder {
        crates
            .into_iter()
            .fold(self, |dump, krate| dump.krate(krate, updated_at))
    }

    /// Reports `name` deleted at `deleted_at` in `data/deleted_crates.csv`.
    pub fn deleted(mut self, name: &str, deleted_at: &str) -> DumpBuilder {
        self.deleted.push((name.to_owned(), deleted_at.to_owned()));
        self
    }

    /// The dump as a `.tar.gz`.
    ///
    /// # Panics
    ///
    /// If a dependency names a crate that is not in the dump.
    pub fn tar_gz(&self) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        std::io::Write::write_all(&mut encoder, &self.tar()).expect("gzip into a Vec");
        encoder.finish().expect("gzip into a Vec")
    }

    /// The dump's tar, uncompressed.
    ///
    /// # Panics
    ///
    /// If a dependency names a crate that is not in the dump.
    pub fn tar(&self) -> Vec<u8> {
        let folder = folder(&self.timestamp);
        let mut members = vec![
            (
                "README.md".to_owned(),
                "# A fake registry database dump\n".to_owned(),
            ),
            (
                "metadata.json".to_owned(),
                format!(
                    "{{\n  \"timestamp\": \"{}\",\n  \"crates_io_commit\": \"unknown\"\n}}\n",
                    self.timestamp
                ),
            ),
            ("data/crates.csv".to_owned(), self.crates_csv()),
        ];
        if !self.deleted.is_empty() {
            members.push(("data/deleted_crates.csv".to_owned(), self.deleted_csv()));
        }
        members.push(("data/versions.csv".to_owned(), self.versions_csv()));
        members.push(("data/dependencies.csv".to_owned(), self.dependencies_csv()));

        let mut archive = tar::Builder::new(Vec::new());
        let directory = |archive: &mut tar::Builder<Vec<u8>>, path: &str| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            header.set_mode(0o755);
            header.set_mtime(1_700_000_000);
            archive
                .append_data(&mut header, path, std::io::empty())
                .expect("tar into a Vec");
        };
        directory(&mut archive, &format!("{folder}/"));
        directory(&mut archive, &format!("{folder}/data/"));
        for (path, contents) in members {
            append_file(
                &mut archive,
                &format!("{folder}/{path}"),
                contents.as_bytes(),
            );
        }
        archive.into_inner().expect("tar into a Vec")
    }

    /// Crate names in the order of their first version, each with its id and latest
    /// `updated_at`.
    fn crate_rows(&self) -> Vec<(usize, &str, &str)> {
        let mut rows: Vec<(usize, &str, &str)> = Vec::new();
        for (krate, updated_at) in &self.versions {
            match rows.iter_mut().find(|row| row.1 == krate.name()) {
                Some(row) => row.2 = row.2.max(updated_at.as_str()),
                None => rows.push((FIRST_CRATE_ID + rows.len(), krate.name(), updated_at)),
            }
        }
        rows
    }

    fn crates_csv(&self) -> String {
        let mut out = String::from("created_at,description,id,name,readme,updated_at\n");
        for (id, name, updated_at) in self.crate_rows() {
            let readme = format!("# {name}\n\nA fake crate, \"for tests\".\n");
            writeln!(
                out,
                "2025-01-01 00:00:00+00,{},{id},{name},{},{updated_at}",
                csv("A fake crate, for tests."),
                csv(&readme)
            )
            .expect("write to a String");
        }
        out
    }

    fn deleted_csv(&self) -> String {
        let mut out =
            String::from("available_at,created_at,deleted_at,deleted_by,id,message,name\n");
        for (index, (name, deleted_at)) in self.deleted.iter().enumerate() {
            writeln!(
                out,
                "{deleted_at},2025-01-01 00:00:00+00,{deleted_at},,{},,{name}",
                index + 1
            )
            .expect("write to a String");
        }
        out
    }

    fn versions_csv(&self) -> String {
        let crates = self.crate_rows();
        let mut out = String::from(
            "crate_id,crate_size,created_at,features,id,license,links,num,rust_version,\
             tar_sha256,updated_at,yanked\n",
        );
        for (index, (krate, updated_at)) in self.versions.iter().enumerate() {
            let file = krate.crate_file();
            writeln!(
                out,
                "{},{},{updated_at},{},{},MIT,,{},,\\x{},{updated_at},{}",
                crate_id(&crates, krate.name()),
                file.len(),
                csv(&features_json(krate.features())),
                FIRST_VERSION_ID + index,
                krate.version(),
                hex(&Sha256::digest(&file)),
                if krate.is_yanked() { "t" } else { "f" },
            )
            .expect("write to a String");
        }
        out
    }

    fn dependencies_csv(&self) -> String {
        let crates = self.crate_rows();
        let mut out = String::from(
            "crate_id,default_features,explicit_name,features,id,kind,optional,req,target,\
             version_id\n",
        );
        let mut id = FIRST_DEPENDENCY_ID;
        for (index, (krate, _)) in self.versions.iter().enumerate() {
            for dependency in krate.dependencies() {
                let package = dependency.package().unwrap_or(dependency.name());
                let explicit_name = dependency.package().map_or("", |_| dependency.name());
                let kind = match dependency.kind() {
                    "build" => 1,
                    "dev" => 2,
                    _ => 0,
                };
                writeln!(
                    out,
                    "{},t,{explicit_name},{{}},{id},{kind},f,{},,{}",
                    crate_id(&crates, package),
                    csv(dependency.req()),
                    FIRST_VERSION_ID + index,
                )
                .expect("write to a String");
                id += 1;
            }
        }
        out
    }
}

/// `YYYY-MM-DD-HHMMSS` from an RFC 3339 timestamp.
fn folder(timestamp: &str) -> String {
    let bytes = timestamp.as_bytes();
    let shaped = bytes.len() >= 19
        && bytes[..19].iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            10 => *byte == b'T',
            13 | 16 => *byte == b':',
            _ => byte.is_ascii_digit(),
        });
    assert!(shaped, "not an RFC 3339 timestamp: {timestamp:?}");
    format!(
        "{}-{}{}{}",
        &timestamp[..10],
        &timestamp[11..13],
        &timestamp[14..16],
        &timestamp[17..19]
    )
}

fn crate_id(crates: &[(usize, &str, &str)], name: &str) -> usize {
    crates
        .iter()
        .find(|row| row.1 == name)
        .unwrap_or_else(|| panic!("a dependency on {name}, which is not in the dump"))
        .0
}

/// A CSV field as Postgres' `COPY ... CSV` writes a non-null text: quoted when it holds a
/// separator, quote or line break (or is empty), quotes doubled.
fn csv(text: &str) -> String {
    if text.is_empty() || text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Features as `jsonb` writes them: keys shorter first, then by bytes; `": "` and `", "`.
fn features_json(features: &[(String, Vec<String>)]) -> String {
    let mut sorted: Vec<&(String, Vec<String>)> = features.iter().collect();
    sorted.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
    let quote = |text: &str| serde_json::Value::from(text).to_string();
    let entries: Vec<String> = sorted
        .iter()
        .map(|(name, enables)| {
            let enables: Vec<String> = enables.iter().map(|item| quote(item)).collect();
            format!("{}: [{}]", quote(name), enables.join(", "))
        })
        .collect();
    format!("{{{}}}", entries.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_follow_the_timestamp() {
        assert_eq!(folder("2026-01-02T03:04:05Z"), "2026-01-02-030405");
        assert_eq!(
            folder("2022-08-08T02:00:27.645191645Z"),
            "2022-08-08-020027"
        );
        for bad in ["2026-01-02", "2026-01-02 03:04:05", "2026/01/02T03:04:05Z"] {
            assert!(std::panic::catch_unwind(|| folder(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn fields_are_quoted_as_postgres_quotes_them() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv(""), "\"\"");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn features_in_jsonb_order() {
        let features = [
            ("serde".to_owned(), vec!["dep:serde".to_owned()]),
            (
                "default".to_owned(),
                vec!["std".to_owned(), "x\"y".to_owned()],
            ),
            ("std".to_owned(), vec![]),
            ("alloc".to_owned(), vec![]),
        ];
        assert_eq!(
            features_json(&features),
            "{\"std\": [], \"alloc\": [], \"serde\": [\"dep:serde\"], \
             \"default\": [\"std\", \"x\\\"y\"]}"
        );
        assert_eq!(features_json(&[]), "{}");
    }
}
