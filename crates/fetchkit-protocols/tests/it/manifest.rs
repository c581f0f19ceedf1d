//! Finding the package root: the folder of the shallowest manifest, exactly one at that depth.

use std::path::Path;

use fetchkit_protocols::{ManifestError, find_package_root};

/// Lays out `files` (empty files; a name ending in `/` is a folder) and looks for `Orbit.toml`.
fn search(files: &[&str]) -> Result<String, ManifestError> {
    let dir = tempfile::tempdir().unwrap();
    for name in files {
        let path = dir.path().join(name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&path).unwrap();
        } else {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "").unwrap();
        }
    }
    let root = find_package_root(dir.path(), "Orbit.toml")?;
    let relative = root.strip_prefix(dir.path()).unwrap();
    Ok(if relative == Path::new("") {
        ".".to_owned()
    } else {
        relative.display().to_string()
    })
}

#[test]
fn the_shallowest_manifest_marks_the_package() {
    for (files, expected) in [
        (&["Orbit.toml", "src/x.vhd", "deps/a/Orbit.toml"][..], "."),
        (
            &["gates-1.0/Orbit.toml", "gates-1.0/sub/Orbit.toml", "README"],
            "gates-1.0",
        ),
        (&["a/b/c/d/Orbit.toml", "a/b/other/"], "a/b/c/d"),
        // Only a file of exactly that name counts.
        (
            &["x/orbit.toml", "x/Orbit.toml.bak", "y/z/Orbit.toml"],
            "y/z",
        ),
        (&["Orbit.toml/", "deeper/Orbit.toml"], "deeper"),
    ] {
        assert_eq!(search(files).unwrap(), expected, "{files:?}");
    }
}

#[test]
fn no_manifest_or_two_at_one_depth_is_an_error() {
    let error = search(&["src/x.vhd", "README"]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no Orbit.toml in what the protocol fetched (use --manifest NAME if the package's \
         manifest has another name)"
    );
    let error = search(&["b/Orbit.toml", "a/Orbit.toml", "c/d/Orbit.toml"]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "2 Orbit.toml files at the same depth, cannot tell which is the package: a, b"
    );
}

#[test]
fn another_manifest_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("serde-1.0.0")).unwrap();
    std::fs::write(dir.path().join("serde-1.0.0/Cargo.toml"), "").unwrap();
    let root = find_package_root(dir.path(), "Cargo.toml").unwrap();
    assert_eq!(root, dir.path().join("serde-1.0.0"));
}
