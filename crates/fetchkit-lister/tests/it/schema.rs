//! Schema and layout tolerance: old and new columns, timestamp forms, member order and names.

use crate::{
    Dump, Krate, Ver, check, list, new_crates, new_versions, old_crates, old_versions, summary,
};

const CRATES: &[Krate] = &[
    Krate(1339, "rand", "2022-02-14 08:37:47.035988"),
    Krate(545, "regex", "2022-07-05 18:00:33.712885"),
    Krate(2233, "regex-syntax", "2022-07-05 17:59:37.238137"),
    Krate(7, "no-versions", "2022-07-05 17:59:37"),
];

const VERSIONS: &[Ver] = &[
    Ver(
        1339,
        "0.1.3-experimental",
        "2017-11-30 05:24:37.146115",
        false,
        1,
    ),
    Ver(2233, "0.1.0", "2017-11-30 03:37:17.449539", false, 2),
    Ver(545, "0.1.2", "2017-11-30 02:29:20.01125", true, 3),
    Ver(1339, "0.1.2", "2017-11-30 03:14:27.545115", false, 4),
    Ver(545, "0.10.0", "2017-11-30 02:26:59.236947", false, 5),
    Ver(1339, "0.1.1", "2017-11-30 03:33:14.186028", false, 6),
    Ver(545, "0.9.0", "2017-11-30 02:51:27", false, 7),
    Ver(545, "1.0.0-alpha", "2017-11-30 03:03:20.1", false, 8),
    Ver(545, "1.0.0", "2017-11-30 03:03:20.143103", false, 9),
    // A version of a crate that crates.csv does not have (deleted): ignored.
    Ver(99, "1.0.0", "2017-11-30 03:03:20.143103", false, 10),
];

const EXPECTED: &str = "\
rand: 0.1.1 0.1.2 0.1.3-experimental
regex-syntax: 0.1.0
regex: 0.1.2(yanked) 0.9.0 0.10.0 1.0.0-alpha 1.0.0
";

const TIMESTAMP: &str = "2022-08-08T02:00:27.645191645Z";

fn old_dump() -> Dump {
    Dump::standard(TIMESTAMP, &old_crates(CRATES), &old_versions(VERSIONS))
}

fn new_dump() -> Dump {
    Dump::standard(TIMESTAMP, &new_crates(CRATES), &new_versions(VERSIONS))
}

#[test]
fn old_schema() {
    check(&old_dump().tar_gz(), None, EXPECTED);
}

#[test]
fn new_schema() {
    check(&new_dump().tar_gz(), None, EXPECTED);
}

#[test]
fn old_and_new_schema_give_identical_listings() {
    let old = list(&old_dump().tar_gz(), None).unwrap();
    let new = list(&new_dump().tar_gz(), None).unwrap();
    assert_eq!(old, new);
    let page = new.page(2).unwrap();
    let line = &page.versions[0];
    assert_eq!(line.checksum.to_hex(), "03".repeat(32));
    assert_eq!(
        line.crate_file,
        "https://static.registry.example/crates/regex/regex-0.1.2.crate"
    );
    assert_eq!(line.last_update.to_string(), "2017-11-30 02:29:20.01125");
    assert_eq!(
        (new.stats.crates, new.stats.versions, new.stats.yanked),
        (3, 9, 1)
    );
    assert_eq!((new.stats.crates_read, new.stats.versions_read), (4, 10));
}

#[test]
fn reversed_member_order_gives_identical_output() {
    for dump in [old_dump(), new_dump()] {
        let forward = list(&dump.tar_gz(), None).unwrap();
        let backward = list(&dump.reversed().tar_gz(), None).unwrap();
        assert_eq!(forward, backward);
        assert_eq!(summary(&forward), EXPECTED);
    }
}

#[test]
fn top_folder_names_and_prefixes_do_not_matter() {
    let crates = old_crates(CRATES);
    let versions = old_versions(VERSIONS);
    for folder in ["./2022-08-08-020027/", "some-other-name/", "./", ""] {
        let dump = Dump::default()
            .file(&format!("{folder}data/versions.csv"), &versions)
            .file(
                &format!("{folder}metadata.json"),
                crate::metadata(TIMESTAMP),
            )
            .file(&format!("{folder}data/crates.csv"), &crates);
        check(&dump.tar_gz(), None, EXPECTED);
    }
}

#[test]
fn timestamps_with_any_precision_and_suffix() {
    let crates = [Krate(1, "a", "2022-02-14 08:37:47+00")];
    let versions = [
        Ver(1, "1.0.0", "2017-11-30 05:24:37+00", false, 1),
        Ver(1, "1.0.1", "2017-11-30 05:24:37.1+00", false, 1),
        Ver(1, "1.0.2", "2017-11-30 05:24:37.123456789", false, 1),
        Ver(1, "1.0.3", "2017-11-30 05:24:37.12345+00", false, 1),
    ];
    for dump in [
        Dump::standard(TIMESTAMP, &old_crates(&crates), &old_versions(&versions)),
        Dump::standard(TIMESTAMP, &new_crates(&crates), &new_versions(&versions)),
    ] {
        let listing = list(&dump.tar_gz(), None).unwrap();
        let shown: Vec<String> = listing
            .page(0)
            .unwrap()
            .versions
            .iter()
            .map(|line| format!("{} = {}", line.last_update, line.last_update.timestamp()))
            .collect();
        assert_eq!(
            shown,
            [
                "2017-11-30 05:24:37+00 = 2017-11-30T05:24:37+00:00",
                "2017-11-30 05:24:37.1+00 = 2017-11-30T05:24:37.100000+00:00",
                "2017-11-30 05:24:37.123456789 = 2017-11-30T05:24:37.123456789+00:00",
                "2017-11-30 05:24:37.12345+00 = 2017-11-30T05:24:37.123450+00:00",
            ]
        );
    }
}

#[test]
fn blank_lines_are_skipped() {
    let crates = old_crates(CRATES).replace('\n', "\n\n");
    let versions = format!("\n{}\n\n", old_versions(VERSIONS).replace('\n', "\n\n\n"));
    // A blank first line is not the header: Postgres never writes one, and the csv reader
    // skips it like any other.
    check(
        &Dump::standard(TIMESTAMP, &crates, &versions).tar_gz(),
        None,
        EXPECTED,
    );
}

#[test]
fn crlf_line_ends_are_read() {
    let crates = old_crates(CRATES).replace('\n', "\r\n");
    let versions = old_versions(VERSIONS).replace('\n', "\r\n");
    check(
        &Dump::standard(TIMESTAMP, &crates, &versions).tar_gz(),
        None,
        EXPECTED,
    );
}

#[test]
fn a_huge_multi_line_readme_is_read() {
    let readme = format!("\"{}\"", "line, with \"\"quotes\"\"\n".repeat(400_000));
    let crates = format!(
        "id,name,readme,updated_at\n1,big,{readme},2022-02-14 08:37:47\n2,small,,2022-02-14 08:37:47\n"
    );
    assert!(crates.len() > 8 << 20);
    let versions = old_versions(&[
        Ver(1, "1.0.0", "2017-11-30 05:24:37", false, 1),
        Ver(2, "0.1.0", "2017-11-30 05:24:37", false, 2),
    ]);
    check(
        &Dump::standard(TIMESTAMP, &crates, &versions).tar_gz(),
        None,
        "big: 1.0.0\nsmall: 0.1.0\n",
    );
}

#[test]
fn duplicate_version_ids_and_numbers() {
    // Every row has id 602929 in the new layout; here the same number also appears twice for
    // one crate: the later row wins, as with Software Heritage's lister.
    let versions = [
        Ver(1, "1.0.0", "2017-11-30 05:24:37", false, 1),
        Ver(2, "1.0.0", "2017-11-30 05:24:37", false, 2),
        Ver(1, "1.0.0", "2017-11-30 06:00:00", true, 3),
    ];
    let crates = [
        Krate(1, "a", "2022-02-14 08:37:47"),
        Krate(2, "b", "2022-02-14 08:37:47"),
    ];
    let listing = list(
        &Dump::standard(TIMESTAMP, &new_crates(&crates), &new_versions(&versions)).tar_gz(),
        None,
    )
    .unwrap();
    assert_eq!(summary(&listing), "a: 1.0.0(yanked)\nb: 1.0.0\n");
    let page = listing.page(0).unwrap();
    let line = &page.versions[0];
    assert_eq!(line.checksum.to_hex(), "03".repeat(32));
    assert_eq!(line.last_update.to_string(), "2017-11-30 06:00:00");
}

#[test]
fn deleted_crates_are_reported() {
    let deleted = "available_at,created_at,deleted_at,deleted_by,id,message,name\n\
        2026-02-01 00:00:00+00,2025-01-01 00:00:00+00,2026-01-01 10:00:00.5+00,7,1,\"gone, sorry\",old-crate\n\
        2026-02-01 00:00:00+00,2025-01-01 00:00:00+00,2026-01-03 10:00:00+00,,2,,older-crate\n";
    let dump = old_dump();
    let mut members = dump.members.clone();
    // Where the registry puts it: after crates.csv, before versions.csv.
    let at = members
        .iter()
        .position(|(path, _)| path.ends_with("versions.csv"))
        .unwrap();
    members.insert(
        at,
        (
            "2022-08-08-020027/data/deleted_crates.csv".into(),
            deleted.into(),
        ),
    );
    let dump = Dump { members };
    let listing = list(&dump.tar_gz(), None).unwrap();
    assert_eq!(
        summary(&listing),
        format!(
            "{EXPECTED}deleted old-crate at 2026-01-01 10:00:00.5+00\n\
             deleted older-crate at 2026-01-03 10:00:00+00\n"
        )
    );
    assert_eq!(listing.stats.deleted, 2);
    assert_eq!(
        serde_json::to_string(&listing.deleted[0]).unwrap(),
        "{\"name\":\"old-crate\",\"deleted_at\":\"2026-01-01 10:00:00.5+00\"}"
    );
}

#[test]
fn a_crate_file_template_with_cargo_markers() {
    let mut options = crate::options(None);
    options.templates = fetchkit_lister::Templates::new(
        "http://127.0.0.1:1/dl/{lowerprefix}/{crate}/{version}/{sha256-checksum}",
        "http://127.0.0.1:1/crates/{crate}",
    )
    .unwrap();
    let listing =
        fetchkit_lister::list_from_reader(old_dump().tar_gz().as_slice(), &options).unwrap();
    let page = listing.page(0).unwrap();
    assert_eq!(
        page.versions[0].crate_file,
        format!("http://127.0.0.1:1/dl/ra/nd/rand/0.1.1/{}", "06".repeat(32))
    );
    let origin = page.origin(&options.templates);
    assert_eq!(origin.url, "http://127.0.0.1:1/crates/rand");
    assert_eq!(
        origin.extra_loader_arguments.artifacts[0].url,
        page.versions[0].crate_file
    );
}
