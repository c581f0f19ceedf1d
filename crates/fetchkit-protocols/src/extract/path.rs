//! Which names an archive may use, checked before anything touches the disk.
//!
//! Archive names come from whoever built the archive, so every one is treated as hostile: it
//! must be a relative path made of plain components, readable the same way on every system.
//! Rather than guess what `C:x`, `a\..\b` or `/etc` were meant to be, such names are refused.

use std::path::{Path, PathBuf};

/// Why a name or link target was refused.
pub(crate) type Refusal = &'static str;

/// The relative path `name` stands for, or why it is refused. `Ok(None)` is the archive's root
/// itself (`./`, `.`), which a folder entry may name and a file may not.
pub(crate) fn entry_path(name: &[u8]) -> Result<Option<PathBuf>, Refusal> {
    let name = std::str::from_utf8(name).map_err(|_| "the name is not UTF-8")?;
    let components = components(name)?;
    let mut path = PathBuf::new();
    for component in components {
        if component == ".." {
            return Err("the path climbs out of the folder with `..`");
        }
        path.push(component);
    }
    Ok((!path.as_os_str().is_empty()).then_some(path))
}

/// Checks the target of a symbolic link at `link` (a path [`entry_path`] accepted): it must be
/// relative and, read lexically from the link's folder, stay inside the archive's root. The
/// link is checked again once it exists, since `..` after another link resolves physically.
pub(crate) fn link_target(link: &Path, target: &[u8]) -> Result<PathBuf, Refusal> {
    let target = std::str::from_utf8(target).map_err(|_| "the link target is not UTF-8")?;
    if target.is_empty() {
        return Err("the link target is empty");
    }
    let mut depth = link.components().count() - 1;
    for component in components(target)? {
        if component == ".." {
            depth = depth
                .checked_sub(1)
                .ok_or("the link points outside the folder")?;
        } else {
            depth += 1;
        }
    }
    Ok(PathBuf::from(target))
}

/// The plain components of `name`, refusing what would be read differently elsewhere.
fn components(name: &str) -> Result<Vec<&str>, Refusal> {
    if name.contains('\0') {
        return Err("the name contains a NUL byte");
    }
    if name.contains('\\') {
        // Windows tools read `\` as a separator: `..\x` would climb out there.
        return Err("the name contains a backslash");
    }
    if name.starts_with('/') {
        return Err("the path is absolute");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err("the path starts with a drive letter");
    }
    Ok(name
        .split('/')
        .filter(|component| !component.is_empty() && *component != ".")
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        let check = |name: &str, expected: Result<Option<&str>, &str>| {
            let actual = entry_path(name.as_bytes());
            let actual = actual
                .as_ref()
                .map(|path| path.as_ref().map(|path| path.to_str().unwrap()))
                .map_err(|reason| *reason);
            assert_eq!(actual, expected, "{name:?}");
        };
        check("a/b.txt", Ok(Some("a/b.txt")));
        check("./a//b/./c", Ok(Some("a/b/c")));
        check("pkg-1.0/", Ok(Some("pkg-1.0")));
        check("./", Ok(None));
        check(".", Ok(None));
        check("..a/b..", Ok(Some("..a/b..")));
        check("../x", Err("the path climbs out of the folder with `..`"));
        check(
            "a/../../x",
            Err("the path climbs out of the folder with `..`"),
        );
        // Even `a/../b`, which stays inside, is refused: no honest archive writes it.
        check("a/../b", Err("the path climbs out of the folder with `..`"));
        check("/etc/passwd", Err("the path is absolute"));
        check("C:/x", Err("the path starts with a drive letter"));
        check("c:x", Err("the path starts with a drive letter"));
        check("..\\x", Err("the name contains a backslash"));
        check("a\0b", Err("the name contains a NUL byte"));
        assert_eq!(entry_path(b"\xff"), Err("the name is not UTF-8"));
    }

    #[test]
    fn link_targets() {
        let check = |link: &str, target: &str, ok: bool| {
            let result = link_target(Path::new(link), target.as_bytes());
            assert_eq!(result.is_ok(), ok, "{link} -> {target}: {result:?}");
        };
        check("a", "b", true);
        check("a", "./b/c", true);
        check("d/a", "../b", true);
        check("d/e/a", "../../b", true);
        check("d/a", "../../b", false);
        check("a", "..", false);
        check("a", "../a", false);
        check("d/a", "x/../../..", false);
        check("a", "/etc/passwd", false);
        check("a", "C:/x", false);
        check("a", "..\\..\\x", false);
        check("a", "", false);
    }
}
