//! Versions in semver order, one per version number, for every page of a listing.
//!
//! A full listing orders two million versions. Comparing them as `semver::Version`s means
//! reading each number's text again from wherever it lies in memory (a cache miss per
//! version) and comparing five fields; instead each version gets a 64-bit key once, while the
//! rows are walked in the order they were read, and pages are ordered by key. The key packs
//! `MAJOR.MINOR.PATCH` and whether the version is a pre-release, a release or a release with
//! build metadata, so keys order as semver does except between two versions with the same
//! numbers and the same pre-release or build class (`1.0.0-alpha` and `1.0.0-beta`), which are
//! compared in full. Versions whose numbers do not fit the key have their page ordered in
//! full, the slow way.

use std::cmp::Ordering;

/// A version number's place in a page (see [`Page`](crate::Page)).
#[derive(Debug, PartialEq, Eq)]
enum VersionKey<'a> {
    Semver(semver::Version),
    Other(&'a str),
}

impl VersionKey<'_> {
    fn of(version: &str) -> VersionKey<'_> {
        if let Some(plain) = plain_version(version) {
            return VersionKey::Semver(plain);
        }
        match semver::Version::parse(version) {
            Ok(parsed) => VersionKey::Semver(parsed),
            Err(_) => VersionKey::Other(version),
        }
    }
}

/// `MAJOR.MINOR.PATCH` with nothing after it, the form of nearly every published version,
/// read without `semver`'s general parser (which allocates for every version). Anything else,
/// leading zeros and overflow included, is left to that parser.
fn plain_version(version: &str) -> Option<semver::Version> {
    plain_numbers(version).map(|[major, minor, patch]| semver::Version::new(major, minor, patch))
}

/// The three numbers of a plain `MAJOR.MINOR.PATCH` (see [`plain_version`]), in one pass
/// over the bytes: every row of a listing goes through here.
fn plain_numbers(version: &str) -> Option<[u64; 3]> {
    let mut numbers = [0u64; 3];
    let (mut part, mut digits) = (0, 0);
    for &byte in version.as_bytes() {
        if byte == b'.' {
            if digits == 0 || part == 2 {
                return None;
            }
            part += 1;
            digits = 0;
        } else if byte.is_ascii_digit() {
            // A second digit after a leading zero.
            if digits == 1 && numbers[part] == 0 {
                return None;
            }
            numbers[part] = numbers[part]
                .checked_mul(10)?
                .checked_add(u64::from(byte - b'0'))?;
            digits += 1;
        } else {
            return None;
        }
    }
    (part == 2 && digits > 0).then_some(numbers)
}

impl PartialOrd for VersionKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for VersionKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (VersionKey::Semver(a), VersionKey::Semver(b)) => a.cmp(b),
            (VersionKey::Other(a), VersionKey::Other(b)) => a.cmp(b),
            (VersionKey::Semver(_), VersionKey::Other(_)) => Ordering::Less,
            (VersionKey::Other(_), VersionKey::Semver(_)) => Ordering::Greater,
        }
    }
}

/// Orders the rows of one crate (see [`Page`]) and keeps one per version number, the last:
/// `rows` are in row order, `number` gives a row's version number, and `out` receives the
/// rows kept. `scratch` is reused from crate to crate.
fn order_versions<'a, T: Copy>(
    rows: &[T],
    number: impl Fn(&T) -> &'a str,
    scratch: &mut Vec<(VersionKey<'a>, usize)>,
    out: &mut Vec<T>,
) {
    out.clear();
    scratch.clear();
    scratch.extend(
        rows.iter()
            .enumerate()
            .map(|(at, row)| (VersionKey::of(number(row)), at)),
    );
    // Stable, so rows with the same number stay in row order and the last one is kept below.
    scratch.sort_by(|a, b| a.0.cmp(&b.0));
    for (at, (_, row)) in scratch.iter().enumerate() {
        let same_as_next = scratch
            .get(at + 1)
            .is_some_and(|(_, next)| number(&rows[*next]) == number(&rows[*row]));
        if !same_as_next {
            out.push(rows[*row]);
        }
    }
}

/// Bits per number in a packed key: versions past a million are left to the slow way.
const NUMBER_BITS: u32 = 20;
/// The lowest two bits of a packed key: pre-releases sort before their release, and a release
/// with build metadata after the plain release.
const PRE_RELEASE: u64 = 0;
const RELEASE: u64 = 1;
const WITH_BUILD: u64 = 2;
const CLASS: u64 = 0b11;
/// Keys at or above this are not packed versions; packed keys stay below 2^62.
const MARKERS: u64 = u64::MAX - 1;
/// A semver version whose numbers do not fit: its page is ordered the slow way.
const TOO_LARGE: u64 = u64::MAX - 1;
/// Not semver: after every semver version, ordered as text.
const NOT_SEMVER: u64 = u64::MAX;

fn packed(numbers: [u64; 3], class: u64) -> Option<u64> {
    let [major, minor, patch] = numbers;
    if (major | minor | patch) >> NUMBER_BITS != 0 {
        return None;
    }
    Some(major << (2 * NUMBER_BITS + 2) | minor << (NUMBER_BITS + 2) | patch << 2 | class)
}

/// A version's sort key: plain `MAJOR.MINOR.PATCH` quickly, anything else through `semver`.
pub(crate) fn sort_key(version: &str) -> u64 {
    match plain_numbers(version) {
        Some(numbers) => packed(numbers, RELEASE).unwrap_or(TOO_LARGE),
        None => parsed_key(version),
    }
}

fn parsed_key(version: &str) -> u64 {
    match VersionKey::of(version) {
        VersionKey::Semver(parsed) => {
            let class = if !parsed.pre.is_empty() {
                PRE_RELEASE
            } else if !parsed.build.is_empty() {
                WITH_BUILD
            } else {
                RELEASE
            };
            packed([parsed.major, parsed.minor, parsed.patch], class).unwrap_or(TOO_LARGE)
        }
        VersionKey::Other(_) => NOT_SEMVER,
    }
}

/// Whether two versions with this same key may still differ (and are compared in full).
fn key_is_shared(key: u64) -> bool {
    key >= MARKERS || key & CLASS != RELEASE
}

/// A row of a page being ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Item {
    /// From [`sort_key`].
    pub(crate) key: u64,
    pub(crate) row: u32,
    pub(crate) yanked: bool,
}

/// Orders consecutive pages of `items` in place (`sizes` gives their lengths; each page's
/// items are in row order), each by version with one item per version number, the last row's,
/// kept at the front of its page. Returns how many items each page keeps, and how many of
/// those are yanked. `number` gives a row's version number. Large listings are ordered on up
/// to `threads` threads, each over a share of the pages.
pub(crate) fn order_pages<'n, N>(
    items: &mut [Item],
    sizes: &[usize],
    number: &N,
    threads: usize,
) -> (Vec<usize>, u64)
where
    N: Fn(u32) -> &'n str + Sync,
{
    if threads <= 1 {
        return order_share(items, sizes, number);
    }
    let mut shares = Vec::with_capacity(threads);
    let (mut rest, mut rest_sizes) = (items, sizes);
    for share in (1..=threads).rev() {
        // Pages until this share has its part of the remaining items.
        let target = rest.len() / share;
        let (mut pages, mut length) = (0, 0);
        while pages < rest_sizes.len() && (length < target || share == 1) {
            length += rest_sizes[pages];
            pages += 1;
        }
        let (mine, others) = std::mem::take(&mut rest).split_at_mut(length);
        shares.push((mine, &rest_sizes[..pages]));
        (rest, rest_sizes) = (others, &rest_sizes[pages..]);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|(items, sizes)| scope.spawn(move || order_share(items, sizes, number)))
            .collect();
        let (mut kept, mut yanked) = (Vec::with_capacity(sizes.len()), 0);
        for handle in handles {
            let (share_kept, share_yanked) = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            kept.extend(share_kept);
            yanked += share_yanked;
        }
        (kept, yanked)
    })
}

fn order_share<'n>(
    items: &mut [Item],
    sizes: &[usize],
    number: &impl Fn(u32) -> &'n str,
) -> (Vec<usize>, u64) {
    let mut kept = Vec::with_capacity(sizes.len());
    let mut yanked = 0;
    let (mut scratch, mut ordered, mut runs) = (Vec::new(), Vec::new(), Vec::new());
    let mut start = 0;
    for &size in sizes {
        let page = &mut items[start..start + size];
        start += size;
        let count = if page.iter().any(|item| item.key == TOO_LARGE) {
            order_versions(page, |item| number(item.row), &mut scratch, &mut ordered);
            page[..ordered.len()].copy_from_slice(&ordered);
            ordered.len()
        } else {
            order_by_key(page, number, &mut runs)
        };
        yanked += page[..count].iter().filter(|item| item.yanked).count() as u64;
        kept.push(count);
    }
    (kept, yanked)
}

/// Orders one page of placed keys (see [`order_pages`]); returns how many items it keeps.
/// `scratch` is reused from page to page.
fn order_by_key<'n>(
    page: &mut [Item],
    number: &impl Fn(u32) -> &'n str,
    scratch: &mut Vec<(VersionKey<'n>, Item)>,
) -> usize {
    page.sort_unstable_by_key(|item| (item.key, item.row));
    // Runs of a key two different versions may share (`1.0.0-alpha`, `1.0.0-beta`) are
    // ordered in full, each version parsed once; stable, so rows stay in row order.
    let mut start = 0;
    while start < page.len() {
        let key = page[start].key;
        let end = start + page[start..].partition_point(|item| item.key == key);
        if end - start > 1 && key_is_shared(key) {
            scratch.clear();
            scratch.extend(
                page[start..end]
                    .iter()
                    .map(|item| (VersionKey::of(number(item.row)), *item)),
            );
            scratch.sort_by(|a, b| a.0.cmp(&b.0));
            for (slot, (_, item)) in page[start..end].iter_mut().zip(scratch.iter()) {
                *slot = *item;
            }
        }
        start = end;
    }
    let mut kept = 0;
    for at in 0..page.len() {
        let item = page[at];
        let same_as_next = page.get(at + 1).is_some_and(|next| {
            next.key == item.key
                && (!key_is_shared(item.key) || number(next.row) == number(item.row))
        });
        if !same_as_next {
            page[kept] = item;
            kept += 1;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Orders versions given in row order and shows the result as `version/marker` items.
    #[track_caller]
    fn check_order(rows: &[(&str, u8)], expected: &str) {
        let mut ordered = Vec::new();
        order_versions(rows, |row| row.0, &mut Vec::new(), &mut ordered);
        let actual: Vec<String> = ordered
            .iter()
            .map(|(version, marker)| format!("{version}/{marker}"))
            .collect();
        assert_eq!(actual.join(" "), expected, "order_versions");

        // The keyed way, as a listing orders its pages: the same order.
        let mut items: Vec<Item> = (0..rows.len())
            .map(|row| Item {
                key: sort_key(rows[row].0),
                row: row as u32,
                yanked: rows[row].1 % 2 == 1,
            })
            .collect();
        let number = |row: u32| rows[row as usize].0;
        let (kept, yanked) = order_pages(&mut items, &[rows.len()], &number, 1);
        let actual: Vec<String> = items[..kept[0]]
            .iter()
            .map(|item| {
                format!(
                    "{}/{}",
                    rows[item.row as usize].0, rows[item.row as usize].1
                )
            })
            .collect();
        assert_eq!(actual.join(" "), expected, "order_pages");
        let odd = ordered.iter().filter(|(_, marker)| marker % 2 == 1).count();
        assert_eq!(yanked, odd as u64);
    }

    #[test]
    fn plain_versions_take_the_quick_path_and_the_same_order() {
        for text in ["0.0.0", "1.2.3", "18446744073709551615.0.1"] {
            assert_eq!(
                plain_version(text),
                Some(semver::Version::parse(text).unwrap())
            );
        }
        for text in [
            "01.2.3",
            "1.2",
            "1.2.3.4",
            "1.2.3-alpha",
            "1.2.3+b",
            "18446744073709551616.0.0",
            "1..3",
            "a.b.c",
            "",
        ] {
            assert_eq!(plain_version(text), None, "{text}");
        }
    }

    #[test]
    fn versions_sort_by_semver() {
        check_order(
            &[
                ("1.0.0", 0),
                ("0.10.0", 0),
                ("1.0.0-alpha", 0),
                ("0.9.0", 0),
            ],
            "0.9.0/0 0.10.0/0 1.0.0-alpha/0 1.0.0/0",
        );
        check_order(
            &[
                ("1.0.0-rc.1", 0),
                ("1.0.0-alpha.1", 0),
                ("1.0.0-alpha", 0),
                ("1.0.0-beta", 0),
                ("1.0.0+build", 0),
                ("1.0.0", 0),
            ],
            "1.0.0-alpha/0 1.0.0-alpha.1/0 1.0.0-beta/0 1.0.0-rc.1/0 1.0.0/0 1.0.0+build/0",
        );
        check_order(
            &[("0.1.3-experimental", 0), ("0.1.2", 0), ("0.1.1", 0)],
            "0.1.1/0 0.1.2/0 0.1.3-experimental/0",
        );
    }

    #[test]
    fn non_semver_versions_come_last_as_strings() {
        check_order(
            &[
                ("0.0.1-001", 0),
                ("2.0.0", 0),
                ("0.3.0-alpha.01", 0),
                ("1.0", 0),
            ],
            "2.0.0/0 0.0.1-001/0 0.3.0-alpha.01/0 1.0/0",
        );
    }

    #[test]
    fn a_repeated_version_keeps_its_last_row() {
        check_order(
            &[
                ("1.0.0", 1),
                ("0.1.0", 2),
                ("1.0.0", 3),
                ("1.0.0", 4),
                ("0.1.0", 5),
            ],
            "0.1.0/5 1.0.0/4",
        );
        check_order(&[("x", 1), ("x", 2)], "x/2");
    }

    #[test]
    fn numbers_too_large_for_a_key_order_the_slow_way() {
        check_order(
            &[
                ("1048576.0.0", 0),
                ("1048575.0.0", 1),
                ("1.0.0-alpha", 2),
                ("1.0.0", 3),
                ("2.0", 4),
                ("1048576.0.0", 5),
            ],
            "1.0.0-alpha/2 1.0.0/3 1048575.0.0/1 1048576.0.0/5 2.0/4",
        );
    }

    #[test]
    fn keys_order_classes_and_numbers_as_semver_does() {
        check_order(
            &[
                ("1.0.0+build.2", 0),
                ("1.0.0", 1),
                ("1.0.0-rc.1", 2),
                ("1.0.0+build.10", 3),
                ("0.999999.999999", 4),
                ("1.0.0-alpha..1", 5),
                ("1.0.0-rc.1+b", 6),
                ("1.0.0-rc.1", 7),
            ],
            "0.999999.999999/4 1.0.0-rc.1/7 1.0.0-rc.1+b/6 1.0.0/1 1.0.0+build.2/0 \
             1.0.0+build.10/3 1.0.0-alpha..1/5",
        );
    }

    #[test]
    fn pages_are_ordered_alike_on_one_thread_or_several() {
        let numbers = [
            "0.1.0",
            "1.0.0-beta",
            "0.10.0",
            "x",
            "0.2.0",
            "0.1.0",
            "1.0.0",
        ];
        let items: Vec<Item> = (0..700u32)
            .map(|row| Item {
                key: sort_key(numbers[(row as usize * 7 + row as usize / 5) % numbers.len()]),
                row,
                yanked: row % 3 == 0,
            })
            .collect();
        let number = |row: u32| numbers[(row as usize * 7 + row as usize / 5) % numbers.len()];
        let sizes: Vec<usize> = (1..=36).collect::<Vec<_>>();
        assert_eq!(sizes.iter().sum::<usize>(), 666);
        let mut one = items[..666].to_vec();
        let mut four = one.clone();
        let single = order_pages(&mut one, &sizes, &number, 1);
        let several = order_pages(&mut four, &sizes, &number, 4);
        assert_eq!(single, several);
        assert_eq!(one, four);
    }
}
