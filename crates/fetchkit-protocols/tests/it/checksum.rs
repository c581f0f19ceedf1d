//! Orbit's content checksum on trees written here: the reference vector, and what changes it.

use std::path::Path;

use fetchkit_protocols::{ChecksumError, content_checksum};

fn write(root: &Path, files: &[(&str, &[u8])]) {
    for (name, content) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// The tree of the reference notes and the digest they give for it.
const DEMO: &[(&str, &[u8])] = &[
    (
        "Orbit.toml",
        b"[ip]\nname = \"demo\"\nversion = \"1.0.0\"\n",
    ),
    ("README.md", b"demo ip\r\n"),
    ("rtl/and_gate.vhd", b"entity and_gate is\nend entity;\n"),
    ("rtl/blob.bin", &[0, 1, 2]),
];
const DEMO_DIGEST: &str = "23d846b6b6b9db5d57f4d1e4a96189d2babca37ec0185307e840ba2917af5fca";

fn checksum_of(files: &[(&str, &[u8])]) -> String {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), files);
    content_checksum(root.path()).unwrap()
}

#[test]
fn the_reference_vector() {
    assert_eq!(checksum_of(DEMO), DEMO_DIGEST);
}

#[test]
fn what_counts_and_what_does_not() {
    let with = |extra: &[(&str, &[u8])]| {
        let mut files = DEMO.to_vec();
        files.extend_from_slice(extra);
        checksum_of(&files)
    };
    // Left out: Orbit's own files, binary files, folders tagged as caches; CR bytes.
    for extra in [
        &[("Orbit.lock", &b"lock"[..])][..],
        &[(".orbit-checksum", b"x"), ("sub/.orbit-metadata", b"y")],
        &[("rtl/more.bin", b"a\0b")],
        &[
            ("build/CACHEDIR.TAG", b"Signature: x"),
            ("build/out.txt", b"z"),
        ],
    ] {
        assert_eq!(with(extra), DEMO_DIGEST, "{extra:?}");
    }
    let mut lf = DEMO.to_vec();
    lf[1] = ("README.md", b"demo ip\n");
    assert_eq!(checksum_of(&lf), DEMO_DIGEST, "CRLF and LF agree");

    // Counted: a new text file, a changed one, a renamed one, a hidden one, a removed one.
    let mut changed = DEMO.to_vec();
    changed[2] = ("rtl/and_gate.vhd", b"entity and_gate is\nend;\n");
    let mut renamed = DEMO.to_vec();
    renamed[2] = ("rtl/and.vhd", DEMO[2].1);
    let removed: Vec<_> = DEMO
        .iter()
        .copied()
        .filter(|(name, _)| *name != "README.md")
        .collect();
    for digest in [
        with(&[("rtl/or_gate.vhd", b"entity or_gate is\nend entity;\n")]),
        with(&[(".hidden", b"h")]),
        checksum_of(&changed),
        checksum_of(&renamed),
        checksum_of(&removed),
    ] {
        assert_ne!(digest, DEMO_DIGEST);
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_followed_inside_the_package_only() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), DEMO);
    let plain = content_checksum(root.path()).unwrap();

    // A link to a file inside hashes as a copy of it would; a dangling link is skipped; a
    // link to a folder that contains it does not loop.
    let copy = tempfile::tempdir().unwrap();
    write(copy.path(), DEMO);
    std::fs::copy(
        root.path().join("Orbit.toml"),
        copy.path().join("rtl/alias.toml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../Orbit.toml", root.path().join("rtl/alias.toml")).unwrap();
    std::os::unix::fs::symlink("nowhere", root.path().join("dangling")).unwrap();
    std::os::unix::fs::symlink("..", root.path().join("rtl/up")).unwrap();
    assert_ne!(content_checksum(root.path()).unwrap(), plain);
    assert_eq!(
        content_checksum(root.path()).unwrap(),
        content_checksum(copy.path()).unwrap()
    );

    std::os::unix::fs::symlink("/etc/hostname", root.path().join("rtl/key")).unwrap();
    let error = content_checksum(root.path()).unwrap_err();
    assert!(matches!(error, ChecksumError::Symlink(_)), "{error}");
}
