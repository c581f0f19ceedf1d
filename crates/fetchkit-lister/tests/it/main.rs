//! Integration tests of `fetchkit-lister`: dumps built in the test (tar + gzip writers), the
//! Software Heritage fixtures, and downloads from the loopback fault server.

mod errors;
mod fake_dump;
mod incremental;
mod index_metadata;
mod remote;
mod schema;
mod swh;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use fetchkit_lister::{ListError, ListOptions, Listing, State, Templates, list_from_reader};

const CRATE_FILE: &str = "https://static.registry.example/crates/{crate}/{crate}-{version}.crate";
const ORIGIN: &str = "https://registry.example/crates/{crate}";

fn templates() -> Templates {
    Templates::new(CRATE_FILE, ORIGIN).unwrap()
}

fn options(since: Option<State>) -> ListOptions {
    let mut options = ListOptions::new(templates());
    options.since = since;
    options
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A `.tar.gz` archive assembled in the test, member by member, in the order given.
#[derive(Clone, Debug, Default)]
struct Dump {
    members: Vec<(String, Vec<u8>)>,
}

impl Dump {
    /// A dump laid out like the registry's: a dated folder, `metadata.json`, then `crates.csv`,
    /// `deleted_crates.csv` when given, `versions.csv`, and a trailing `dependencies.csv`.
    fn standard(timestamp: &str, crates: &str, versions: &str) -> Dump {
        Dump::default()
            .file("2022-08-08-020027/README.md", "# the dump\n")
            .file("2022-08-08-020027/metadata.json", metadata(timestamp))
            .file(
                "2022-08-08-020027/data/categories.csv",
                "category,id\nx,1\n",
            )
            .file("2022-08-08-020027/data/crates.csv", crates)
            .file("2022-08-08-020027/data/versions.csv", versions)
            .file(
                "2022-08-08-020027/data/dependencies.csv",
                "crate_id,id,version_id\n1,1,1\n",
            )
    }

    fn file(mut self, path: &str, contents: impl AsRef<[u8]>) -> Dump {
        self.members
            .push((path.to_owned(), contents.as_ref().to_vec()));
        self
    }

    /// The same members in the reverse order.
    fn reversed(mut self) -> Dump {
        self.members.reverse();
        self
    }

    /// Replaces the contents of the member whose path ends with `suffix`.
    fn replace(mut self, suffix: &str, contents: impl AsRef<[u8]>) -> Dump {
        let member = self
            .members
            .iter_mut()
            .find(|(path, _)| path.ends_with(suffix))
            .unwrap_or_else(|| panic!("no member ends with {suffix}"));
        member.1 = contents.as_ref().to_vec();
        self
    }

    /// Replaces `from` with `to` (once) in the member whose path ends with `member`.
    #[track_caller]
    fn edit(self, member: &str, from: &str, to: &str) -> Dump {
        let (_, contents) = self
            .members
            .iter()
            .find(|(path, _)| path.ends_with(member))
            .unwrap_or_else(|| panic!("no member ends with {member}"));
        let text = String::from_utf8(contents.clone()).unwrap();
        assert!(text.contains(from), "{from:?} not in {member}");
        self.replace(member, text.replacen(from, to, 1))
    }

    fn without(mut self, suffix: &str) -> Dump {
        self.members.retain(|(path, _)| !path.ends_with(suffix));
        self
    }

    fn tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, contents) in &self.members {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder
                .append_data(&mut header, path, contents.as_slice())
                .unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn tar_gz(&self) -> Vec<u8> {
        gzip(&self.tar())
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn metadata(timestamp: &str) -> String {
    format!("{{\n  \"timestamp\": \"{timestamp}\",\n  \"crates_io_commit\": \"unknown\"\n}}\n")
}

/// A crate row: id, name, crate-level `updated_at`.
#[derive(Clone, Copy, Debug)]
struct Krate(i64, &'static str, &'static str);

/// A version row: crate id, number, `updated_at`, yanked, checksum seed.
#[derive(Clone, Copy, Debug)]
struct Ver(i64, &'static str, &'static str, bool, u8);

impl Ver {
    fn checksum(&self) -> String {
        format!("{:02x}", self.4).repeat(32)
    }
}

/// `crates.csv` in the 2022 layout (as in the Software Heritage fixtures).
fn old_crates(crates: &[Krate]) -> String {
    let mut out = String::from(
        "created_at,description,documentation,downloads,homepage,id,max_upload_size,name,readme,repository,updated_at\n",
    );
    for Krate(id, name, updated_at) in crates {
        writeln!(
            out,
            "2015-02-03 06:17:14.147783,\"The {name} crate.\",https://docs.example/{name},10,,{id},,{name},,https://git.example/{name},{updated_at}"
        )
        .unwrap();
    }
    out
}

/// `versions.csv` in the 2022 layout: `checksum` as plain hex.
fn old_versions(versions: &[Ver]) -> String {
    let mut out = String::from(
        "checksum,crate_id,crate_size,created_at,downloads,features,id,license,links,num,published_by,updated_at,yanked\n",
    );
    for (index, version) in versions.iter().enumerate() {
        let Ver(crate_id, num, updated_at, yanked, _) = version;
        writeln!(
            out,
            "{},{crate_id},,2014-12-18 06:56:46.88489,845,{{}},{},MIT/Apache-2.0,,{num},,{updated_at},{}",
            version.checksum(),
            1000 + index,
            if *yanked { "t" } else { "f" }
        )
        .unwrap();
    }
    out
}

/// `crates.csv` in the 2026 layout: more columns, a long multi-line quoted readme.
fn new_crates(crates: &[Krate]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "created_at",
            "description",
            "documentation",
            "homepage",
            "id",
            "max_features",
            "max_upload_size",
            "name",
            "readme",
            "repository",
            "trustpub_only",
            "updated_at",
        ])
        .unwrap();
    for Krate(id, name, updated_at) in crates {
        let readme = format!(
            "# {name}\n\nA \"quoted\", comma-separated\r\nreadme,\n\n{}",
            "with many lines, \"quotes\" and commas\n".repeat(200)
        );
        writer
            .write_record([
                "2019-01-08 15:11:01.560092+00",
                &format!("The {name} crate, \"new\"."),
                "",
                "",
                &id.to_string(),
                "",
                "",
                name,
                &readme,
                "https://git.example/x",
                "f",
                updated_at,
            ])
            .unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

/// `versions.csv` in the 2026 layout: `tar_sha256` as a Postgres `bytea`, no `checksum`.
fn new_versions(versions: &[Ver]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "bin_names",
            "categories",
            "crate_id",
            "crate_size",
            "created_at",
            "description",
            "documentation",
            "downloads",
            "edition",
            "features",
            "has_lib",
            "homepage",
            "id",
            "keywords",
            "license",
            "links",
            "num",
            "num_no_build",
            "published_by",
            "repository",
            "rust_version",
            "tar_sha256",
            "updated_at",
            "yanked",
            "zip_json_sha256",
            "zip_sha256",
        ])
        .unwrap();
    for version in versions {
        let Ver(crate_id, num, updated_at, yanked, _) = version;
        writer
            .write_record([
                "{}",
                "{}",
                &crate_id.to_string(),
                "56972",
                "2022-08-15 13:52:11.642129+00",
                "",
                "",
                "580330",
                "2018",
                "{\"default\": [\"std\"], \"std\": []}",
                "t",
                "",
                // The same id for every row: ids must never be used as keys.
                "602929",
                "{a,b}",
                "Apache-2.0 OR MIT",
                "",
                num,
                num.split('+').next().unwrap(),
                "33035",
                "",
                "1.37",
                &format!("\\x{}", version.checksum()),
                updated_at,
                if *yanked { "t" } else { "f" },
                "",
                "",
            ])
            .unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

/// A listing in a form that is easy to compare and to read in a failure message: one line per
/// page (`name: version/yanked ...`), then deleted crates.
fn summary(listing: &Listing) -> String {
    let mut out = String::new();
    for page in listing.pages() {
        write!(out, "{}:", page.name).unwrap();
        for line in &page.versions {
            write!(out, " {}", line.version).unwrap();
            if line.yanked {
                out.push_str("(yanked)");
            }
        }
        out.push('\n');
    }
    for deleted in &listing.deleted {
        writeln!(out, "deleted {} at {}", deleted.name, deleted.deleted_at).unwrap();
    }
    out
}

fn list(dump: &[u8], since: Option<State>) -> Result<Listing, ListError> {
    list_from_reader(dump, &options(since))
}

/// Lists `dump` and compares the summary, or the error message.
#[track_caller]
fn check(dump: &[u8], since: Option<State>, expected: &str) {
    let actual = match list(dump, since) {
        Ok(listing) => summary(&listing),
        Err(error) => format!("error: {error}\n"),
    };
    assert_eq!(actual, expected);
}

fn state(timestamp: &str) -> State {
    State {
        last_dump: timestamp.parse().unwrap(),
    }
}
