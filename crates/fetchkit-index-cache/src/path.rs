//! Where a crate's file lives, in a registry index and in cargo's `.cache` beside it.

/// The relative path of `name`'s index file, as cargo computes it: the name lower-cased,
/// under `1/`, `2/`, `3/<first character>/` or `<characters 1-2>/<characters 3-4>/` by its
/// length in bytes. The same path names its file in cargo's index cache.
///
/// ```
/// use fetchkit_index_cache::index_path;
///
/// assert_eq!(index_path("a"), "1/a");
/// assert_eq!(index_path("ab"), "2/ab");
/// assert_eq!(index_path("abc"), "3/a/abc");
/// assert_eq!(index_path("MyCrate"), "my/cr/mycrate");
/// ```
///
/// Crate names are ASCII; a name that is not gets the same treatment as cargo gives it
/// (lower-cased in full, cut at byte lengths), except that a cut inside a character moves to
/// the end of that character rather than panicking.
pub fn index_path(name: &str) -> String {
    let name = name.to_lowercase();
    let cut = |at: usize| {
        let mut at = at.min(name.len());
        while !name.is_char_boundary(at) {
            at += 1;
        }
        at
    };
    match name.len() {
        0 => String::new(),
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..cut(1)]),
        _ => {
            let (first, second) = (cut(2), cut(4));
            format!("{}/{}/{name}", &name[..first], &name[first..second])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_cargo() {
        let cases = [
            ("a", "1/a"),
            ("Z", "1/z"),
            ("ab", "2/ab"),
            ("abc", "3/a/abc"),
            ("Abc", "3/a/abc"),
            ("abcd", "ab/cd/abcd"),
            ("serde", "se/rd/serde"),
            ("MyCrate", "my/cr/mycrate"),
            ("pin-project-lite", "pi/n-/pin-project-lite"),
            ("lock_api", "lo/ck/lock_api"),
            ("a-b", "3/a/a-b"),
            ("_x", "2/_x"),
            ("", ""),
            ("éa", "3/é/éa"),
            ("aé", "3/a/aé"),
            ("aéb", "aé/b/aéb"),
        ];
        for (name, expected) in cases {
            assert_eq!(index_path(name), expected, "{name}");
        }
    }
}
