//! Index metadata: features, `links`, `rust_version` and dependencies joined from
//! `versions.csv` and `dependencies.csv`, and the crate filter.

use std::fmt::Write as _;
use std::sync::Arc;

use fetchkit_lister::{ListOptions, Listing, State, list_from_reader};

use crate::{Dump, metadata, state, summary};

const TIMESTAMP: &str = "2026-01-02T02:00:00Z";
const DIR: &str = "2026-01-02-020000";

/// `serde`, `serde_derive`, `app` and `old` (updated long ago: not new for [`since`]).
const CRATES: &str = "\
id,name,readme,updated_at
1,serde,\"multi\nline, \"\"quoted\"\"\",2026-01-01 10:00:00+00
2,serde_derive,,2026-01-01 10:00:00+00
3,app,,2026-01-01 11:00:00+00
4,old,,2025-01-01 00:00:00+00
";

fn sha(seed: u8) -> String {
    format!("\\x{}", format!("{seed:02x}").repeat(32))
}

fn versions() -> String {
    let mut out =
        String::from("crate_id,features,id,links,num,rust_version,tar_sha256,updated_at,yanked\n");
    for (crate_id, features, id, links, num, rust_version) in [
        (
            1,
            r#""{""default"": [""std""], ""std"": [], ""derive"": [""dep:serde_derive""]}""#,
            11,
            "",
            "1.0.0",
            "1.31",
        ),
        (2, "{}", 21, "", "1.0.0", ""),
        (3, "{}", 31, "z", "0.1.0", "1.70"),
        (3, "", 32, "", "0.2.0", ""),
        (4, "{}", 41, "", "1.0.0", ""),
    ] {
        writeln!(
            out,
            "{crate_id},{features},{id},{links},{num},{rust_version},{},2026-01-01 10:00:00+00,f",
            sha(id as u8)
        )
        .unwrap();
    }
    out
}

/// Dependencies, with the rows of a version that is in no dump (99) among them.
const DEPENDENCIES: &str = r#"crate_id,default_features,explicit_name,features,id,kind,optional,req,target,version_id
2,t,,{},1,0,t,=1.0.0,,11
1,t,,{},2,0,f,^1,,99
1,f,serde1,"{std,""with space"",""a\""b""}",3,0,f,^1,cfg(unix),31
2,t,,{},4,1,f,^1,,31
4,t,,{},5,2,f,*,,32
1,t,,{},6,0,f,^1.0.100,x86_64-unknown-linux-gnu,41
1,t,,{},7,0,f,^1.0.1,,32
"#;

/// What the full listing of [`dump`] shows with [`show`].
const EXPECTED: &str = r#"serde 1.0.0 features={"default": ["std"], "std": [], "derive": ["dep:serde_derive"]} links=- rust=1.31
  normal serde_derive =1.0.0 optional
serde_derive 1.0.0 features={} links=- rust=-
app 0.1.0 features={} links=z rust=1.70
  normal serde as serde1 ^1 features=[std|with space|a"b] no-default-features target=cfg(unix)
  build serde_derive ^1
app 0.2.0 features={} links=- rust=-
  dev old *
  normal serde ^1.0.1
old 1.0.0 features={} links=- rust=-
  normal serde ^1.0.100 target=x86_64-unknown-linux-gnu
"#;

/// Members as the registry orders them, with a big table after the ones read.
fn dump() -> Dump {
    Dump::default()
        .file(&format!("{DIR}/metadata.json"), metadata(TIMESTAMP))
        .file(&format!("{DIR}/data/crates.csv"), CRATES)
        .file(&format!("{DIR}/data/versions.csv"), versions())
        .file(&format!("{DIR}/data/dependencies.csv"), DEPENDENCIES)
        .file(
            &format!("{DIR}/data/version_downloads.csv"),
            "date,downloads,version_id\n2026-01-01,1,11\n",
        )
}

fn options(since: Option<State>) -> ListOptions {
    let mut options = crate::options(since);
    options.index_metadata = true;
    options
}

/// A state under which `old` is not new, the others are.
fn since() -> Option<State> {
    Some(state("2025-06-01T00:00:00Z"))
}

/// Every listed version with its metadata, and under it its dependencies.
fn show(listing: &Listing) -> String {
    let mut out = String::new();
    for page in listing.pages() {
        for line in &page.versions {
            let Some(metadata) = &line.metadata else {
                writeln!(out, "{} {} no metadata", line.name, line.version).unwrap();
                continue;
            };
            writeln!(
                out,
                "{} {} features={} links={} rust={}",
                line.name,
                line.version,
                metadata.features,
                metadata.links.as_deref().unwrap_or("-"),
                metadata.rust_version.as_deref().unwrap_or("-"),
            )
            .unwrap();
            for dependency in &metadata.dependencies {
                write!(out, "  {} {}", dependency.kind.as_str(), dependency.name).unwrap();
                if let Some(alias) = &dependency.explicit_name {
                    write!(out, " as {alias}").unwrap();
                }
                write!(out, " {}", dependency.req).unwrap();
                if !dependency.features.is_empty() {
                    write!(out, " features=[{}]", dependency.features.join("|")).unwrap();
                }
                if dependency.optional {
                    out.push_str(" optional");
                }
                if !dependency.default_features {
                    out.push_str(" no-default-features");
                }
                if let Some(target) = &dependency.target {
                    write!(out, " target={target}").unwrap();
                }
                out.push('\n');
            }
        }
    }
    out
}

/// Lists `dump` with `options` and compares [`show`]'s text, or the error.
#[track_caller]
fn check(dump: &Dump, options: &ListOptions, expected: &str) {
    let actual = match list_from_reader(dump.tar_gz().as_slice(), options) {
        Ok(listing) => show(&listing),
        Err(error) => format!("error: {error}\n"),
    };
    assert_eq!(actual, expected);
}

#[test]
fn features_links_rust_version_and_dependencies_are_joined() {
    let listing = list_from_reader(dump().tar_gz().as_slice(), &options(None)).unwrap();
    assert_eq!(show(&listing), EXPECTED);
    // Read: every row of dependencies.csv; kept: those of listed versions (not 99's).
    assert_eq!(
        (listing.stats.dependencies_read, listing.stats.dependencies),
        (7, 6)
    );
    let dependency = &listing.page(2).unwrap().versions[0]
        .metadata
        .clone()
        .unwrap()
        .dependencies[0];
    assert_eq!(
        (
            dependency.name.as_str(),
            dependency.explicit_name.as_deref()
        ),
        ("serde", Some("serde1"))
    );
}

#[test]
fn the_members_may_come_in_any_order() {
    let members = dump().members;
    let mut orders = 0;
    // Every order of the four members read (with the trailing table where it was).
    for code in 0..256 {
        let order: [usize; 4] = std::array::from_fn(|at| code >> (2 * at) & 3);
        let mut sorted = order;
        sorted.sort_unstable();
        if sorted != [0, 1, 2, 3] {
            continue;
        }
        let mut shuffled = Dump::default();
        for at in order.into_iter().chain([4]) {
            shuffled = shuffled.file(&members[at].0, &members[at].1);
        }
        check(&shuffled, &options(None), EXPECTED);
        check(
            &shuffled,
            &options(since()),
            EXPECTED.split("old 1.0.0").next().unwrap(),
        );
        orders += 1;
    }
    assert_eq!(orders, 24);
}

#[test]
fn dependencies_of_versions_not_listed_are_not_kept() {
    // `old` is not new: its version is not listed, and its dependency row is dropped.
    let listing = list_from_reader(dump().tar_gz().as_slice(), &options(since())).unwrap();
    assert_eq!(show(&listing), EXPECTED.split("old 1.0.0").next().unwrap());
    assert_eq!(
        (listing.stats.dependencies_read, listing.stats.dependencies),
        (7, 5)
    );
    // Named all the same when depended on: every crate's name is known.
    assert!(show(&listing).contains("  dev old *\n"));
}

#[test]
fn a_repeated_version_number_keeps_the_metadata_of_its_last_row() {
    let versions = format!(
        "{}3,\"{{\"\"new\"\": []}}\",33,,0.1.0,,{},2026-01-01 12:00:00+00,f\n",
        versions(),
        sha(33)
    );
    let dependencies = format!("{DEPENDENCIES}1,t,,{{}},8,0,f,^1.0.2,,33\n");
    let dump = dump()
        .replace("versions.csv", versions)
        .replace("dependencies.csv", dependencies);
    let listing = list_from_reader(dump.tar_gz().as_slice(), &options(None)).unwrap();
    let page = listing.page(2).unwrap();
    let metadata = page.versions[0].metadata.clone().unwrap();
    assert_eq!(page.versions[0].version, "0.1.0");
    assert_eq!(metadata.features, "{\"new\": []}");
    assert_eq!(metadata.dependencies.len(), 1);
    assert_eq!(metadata.dependencies[0].req, "^1.0.2");
    // The earlier row's two dependencies were joined, then dropped with it.
    assert_eq!(listing.stats.dependencies, 5);
}

#[test]
fn without_index_metadata_nothing_is_read_or_kept() {
    let plain = crate::options(None);
    let listing = list_from_reader(dump().tar_gz().as_slice(), &plain).unwrap();
    assert!(
        listing
            .pages()
            .flat_map(|page| page.versions)
            .all(|line| line.metadata.is_none())
    );
    assert_eq!(
        (listing.stats.dependencies_read, listing.stats.dependencies),
        (0, 0)
    );
    let expected = "serde: 1.0.0\nserde_derive: 1.0.0\napp: 0.1.0 0.2.0\nold: 1.0.0\n";
    assert_eq!(summary(&listing), expected);
    // Neither a dependencies.csv nor the versions' id column is needed, nor are they
    // looked at: a broken dependencies.csv, or none, makes no difference.
    for dump in [
        dump().without("dependencies.csv"),
        dump().replace("dependencies.csv", "not,a\ncsv"),
        dump().edit("versions.csv", ",id,", ",version_id,"),
        dump().edit("versions.csv", ",31,", ",thirty-one,"),
    ] {
        let listing = list_from_reader(dump.tar_gz().as_slice(), &plain).unwrap();
        assert_eq!(summary(&listing), expected);
    }
    // And the listing is the one index metadata makes, metadata aside.
    let with = list_from_reader(dump().tar_gz().as_slice(), &options(None)).unwrap();
    assert_eq!(summary(&with), expected);
    assert_ne!(with, listing);
}

#[test]
fn reading_stops_after_dependencies() {
    let mut archive = dump().tar_gz();
    archive.extend_from_slice(b"garbage after the needed members, not gzip at all");
    let listing = list_from_reader(archive.as_slice(), &options(None)).unwrap();
    assert_eq!(show(&listing), EXPECTED);
}

#[test]
fn a_missing_dependencies_table_is_an_error_when_asked_for() {
    check(
        &dump().without("dependencies.csv"),
        &options(None),
        "error: the dump has no data/dependencies.csv\n",
    );
    // A stale dump is not read further, so it needs none.
    let stale = list_from_reader(
        dump().without("dependencies.csv").tar_gz().as_slice(),
        &options(Some(state(TIMESTAMP))),
    )
    .unwrap();
    assert!(stale.stale);
}

#[test]
fn malformed_metadata_names_file_line_and_column() {
    let versions = format!("{DIR}/data/versions.csv");
    let dependencies = format!("{DIR}/data/dependencies.csv");
    for (member, from, to, expected) in [
        (
            "dependencies.csv",
            "4,t,,{},5,2,f,*,,32",
            "99,t,,{},5,2,f,*,,32",
            format!(
                "{dependencies}:6: column crate_id: no crate with this id in crates.csv, found \
                 \"99\""
            ),
        ),
        (
            "dependencies.csv",
            "2,t,,{},4,1,f,^1,,31",
            "2,t,,{},4,4,f,^1,,31",
            format!(
                "{dependencies}:5: column kind: expected 0 (normal), 1 (build) or 2 (dev), \
                 found \"4\""
            ),
        ),
        (
            "dependencies.csv",
            r#""{std,""with space"",""a\""b""}""#,
            r#""{std,with space}""#,
            format!(
                "{dependencies}:4: column features: white space in an unquoted element, found \
                 \"{{std,with space}}\""
            ),
        ),
        (
            "dependencies.csv",
            ",{},1,0,t,",
            ",{},1,0,maybe,",
            format!("{dependencies}:2: column optional: expected t or f, found \"maybe\""),
        ),
        (
            "dependencies.csv",
            "crate_id,default_features,",
            "dependency_id,default_features,",
            format!("{dependencies}: no crate_id column"),
        ),
        (
            "versions.csv",
            ",id,",
            ",version_id,",
            format!("{versions}: no id column"),
        ),
        (
            "versions.csv",
            "\n2,{},21,",
            "\n2,\"{\"\"a\"\": 1}\",21,",
            format!(
                "{versions}:3: column features: expected a JSON object of string arrays: \
                 invalid type: integer `1`, expected an array of strings at line 1 column 7, \
                 found \"{{\\\"a\\\": 1}}\""
            ),
        ),
        // Version ids are the join's key: two listed versions may not share one.
        (
            "versions.csv",
            ",32,,0.2.0,",
            ",11,,0.2.0,",
            format!(
                "{versions}:5: column id: the version id of line 2 too; dependencies are joined \
                 by version id, so listed versions need distinct ids, found \"11\""
            ),
        ),
    ] {
        check(
            &dump().edit(member, from, to),
            &options(None),
            &format!("error: {expected}\n"),
        );
        // The same with dependencies.csv first, joined only once the other tables are in.
        let mut reordered = dump().edit(member, from, to);
        reordered.members.swap(0, 3);
        check(&reordered, &options(None), &format!("error: {expected}\n"));
    }
}

#[test]
fn repeated_version_ids_of_crates_not_listed_do_not_matter() {
    // `old`'s version takes `serde`'s id; `old` is not listed, so no join is ambiguous.
    let dump = dump().edit("versions.csv", ",41,,1.0.0,", ",11,,1.0.0,");
    check(
        &dump,
        &options(since()),
        EXPECTED.split("old 1.0.0").next().unwrap(),
    );
    let mut filtered = options(None);
    filtered.crate_filter = Some(Arc::new(|name: &str| name != "old"));
    check(
        &dump,
        &filtered,
        EXPECTED.split("old 1.0.0").next().unwrap(),
    );
}

#[test]
fn the_crate_filter_lists_only_the_crates_it_accepts() {
    let deleted = "available_at,created_at,deleted_at,deleted_by,id,message,name\n\
        2026-02-01 00:00:00+00,2025-01-01 00:00:00+00,2026-01-01 10:00:00+00,7,1,,gone\n";
    let dump = Dump {
        members: {
            let mut members = dump().members;
            members.insert(
                2,
                (format!("{DIR}/data/deleted_crates.csv"), deleted.into()),
            );
            members
        },
    };
    let starts_with_serde = |options: &mut ListOptions| {
        options.crate_filter = Some(Arc::new(|name: &str| name.starts_with("serde")));
    };
    let mut plain = crate::options(None);
    starts_with_serde(&mut plain);
    let listing = list_from_reader(dump.tar_gz().as_slice(), &plain).unwrap();
    // Deleted crates are reported whatever the filter, and the state moves all the same.
    assert_eq!(
        summary(&listing),
        "serde: 1.0.0\nserde_derive: 1.0.0\ndeleted gone at 2026-01-01 10:00:00+00\n"
    );
    assert_eq!(listing.next_state(), state(TIMESTAMP));
    assert_eq!(listing.stats.versions_read, 5);
    assert!(format!("{plain:?}").contains("crate_filter: true"));

    let mut with_metadata = options(None);
    starts_with_serde(&mut with_metadata);
    let listing = list_from_reader(dump.tar_gz().as_slice(), &with_metadata).unwrap();
    assert_eq!(
        show(&listing),
        EXPECTED.split("app 0.1.0").next().unwrap(),
        "only serde's and serde_derive's"
    );
    assert_eq!(listing.stats.dependencies, 1);
    // With a state too: both must accept.
    let mut both = options(since());
    both.crate_filter = Some(Arc::new(|name: &str| name == "old" || name == "app"));
    let listing = list_from_reader(dump.tar_gz().as_slice(), &both).unwrap();
    assert_eq!(summary(&listing).lines().next(), Some("app: 0.1.0 0.2.0"));
    assert_eq!(listing.pages().len(), 1);
}

#[test]
fn options_show_the_new_settings() {
    let options = options(None);
    let shown = format!("{options:?}");
    assert!(shown.contains("index_metadata: true"), "{shown}");
    assert!(shown.contains("crate_filter: false"), "{shown}");
    let defaults = crate::options(None);
    assert!(!defaults.index_metadata);
    assert!(defaults.crate_filter.is_none());
}
