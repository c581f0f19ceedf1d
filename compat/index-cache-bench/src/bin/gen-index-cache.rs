//! Writes the data sets of `cargo xtask bench index-cache`, reproducibly from a seed:
//!
//! - `OUT/single`: one crate with `--versions` versions (2,000 by default) and heavy index
//!   lines (10 to 30 dependencies, about 1.6 KB on average), as the few crates with thousands of
//!   releases have;
//! - `OUT/folder`: `--crates` crates (10,000 by default) whose version counts follow a
//!   power law like a real registry's: about half have one version, the mean is about 8,
//!   1% have a hundred or more, up to 800.
//!
//! Each data set is a folder laid out as cargo's registry index folder: `.cache/<path>` for
//! each crate (cargo's path scheme: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`) and `names.txt`.
//! The index lines are built as a registry serves them (its field order, compact JSON) with
//! every field cargo reads: dependencies with name, req, features, optional,
//! default_features, target and kind, some renamed (`package`) or from another registry
//! (`registry`); a features map, `features2` with `v: 2` in later versions of some crates,
//! `links`, `rust_version`, `pubtime`; yanked versions, pre-releases, back-ported patches, and
//! build metadata on a few crates. Each crate's lines become its cache file through fetchkit's
//! `build_cache`, which writes the bytes cargo would write for them. Every cache file has at
//! least one version and an index version cargo writes (`etag: …`, `last-modified: …`,
//! `Unknown`), so the data holds no file either tool should refuse.
//!
//! Prints a summary, and writes it to `OUT/summary.txt` as `key=value` words.
//!
//! Usage: `gen-index-cache OUT [--seed N] [--crates N] [--versions N]`

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Write as _,
    fs,
    path::Path,
};

use anyhow::{Context, bail};
use fetchkit_index_cache::{build_cache, index_path};

/// Dependency and feature names, and the pieces crate names are made of.
const SYLLABLES: &[&str] = &[
    "serde", "tok", "io", "rand", "hyper", "clap", "log", "async", "core", "net", "http", "json",
    "yaml", "wasm", "bind", "gen", "sys", "util", "derive", "macro", "parse", "time", "uuid",
    "byte", "order", "mem", "map", "hash", "set", "cache", "lock", "sync", "fast", "tiny", "zero",
    "copy", "str", "buf", "read", "write", "fs", "path", "glob", "regex", "url", "tls", "crypt",
    "sha", "zip", "tar", "flate", "image", "font", "color", "term", "cli", "arg", "env", "config",
    "toml", "code", "proto", "rpc", "web", "socket", "stream", "future", "task", "pool", "thread",
    "par", "iter", "tools", "ext", "kit", "lite", "rs", "db", "sql", "query", "graph", "tree",
    "node", "vec", "mat", "num", "big", "int", "float", "simd", "gpu", "audio", "video", "win",
    "unix", "posix", "signal", "event", "loop", "timer",
];

const FEATURES: &[&str] = &[
    "std",
    "alloc",
    "serde",
    "derive",
    "full",
    "rt",
    "macros",
    "unstable",
    "nightly",
    "tls",
    "json",
    "async",
    "tokio",
    "log",
    "tracing",
    "simd",
    "compat",
    "experimental",
    "small",
];

const TARGETS: &[&str] = &[
    "cfg(unix)",
    "cfg(windows)",
    "cfg(target_os = \"linux\")",
    "cfg(target_arch = \"wasm32\")",
    "cfg(any(target_os = \"macos\", target_os = \"ios\"))",
    "cfg(not(target_env = \"msvc\"))",
];

/// The index URL a dependency from another registry names: reserved for examples, so no real
/// host is ever named.
const OTHER_REGISTRY: &str = "sparse+https://index.example.invalid/";

/// How to read the arguments.
const USAGE: &str = "gen-index-cache OUT [--seed N] [--crates N] [--versions N]";

fn main() -> anyhow::Result<()> {
    let mut out = None;
    let (mut seed, mut crates, mut versions) = (0x1dc_ca5e_u64, 10_000usize, 2_000usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| -> anyhow::Result<u64> {
            let value = args
                .next()
                .with_context(|| format!("`{flag}` needs a value"))?;
            value
                .parse()
                .with_context(|| format!("`{flag} {value}` is not a whole number"))
        };
        match arg.as_str() {
            "--seed" => seed = value("--seed")?,
            "--crates" => crates = value("--crates")? as usize,
            "--versions" => versions = value("--versions")? as usize,
            flag if flag.starts_with("--") => bail!("unknown flag `{flag}`; usage: {USAGE}"),
            _ if out.is_none() => out = Some(std::path::PathBuf::from(arg)),
            _ => bail!("unexpected argument `{arg}`; usage: {USAGE}"),
        }
    }
    let out = out.with_context(|| format!("usage: {USAGE}"))?;
    if crates == 0 || versions == 0 {
        bail!("--crates and --versions must be at least 1");
    }

    let mut rng = fastrand::Rng::with_seed(seed);
    // The single big crate's name comes first, so the folder never has it.
    let names = crate_names(&mut rng, crates + 1);
    let mut summary = String::new();

    let single = write_set(
        &out.join("single"),
        &names[..1],
        &mut rng,
        |_| versions,
        Weight::Heavy,
    )?;
    writeln!(summary, "single {}", single.words())?;

    let folder = write_set(
        &out.join("folder"),
        &names[1..],
        &mut rng,
        power_law,
        Weight::Typical,
    )?;
    writeln!(summary, "folder {}", folder.words())?;

    fs::write(out.join("summary.txt"), &summary)
        .with_context(|| format!("{}: cannot write the summary", out.display()))?;
    print!("{summary}");
    Ok(())
}

/// A version count drawn from a power law, `P(count >= k) = k^-0.95`, capped at 800: about
/// half the crates have one version, the mean is about 8, and 1% have 100 or more.
fn power_law(rng: &mut fastrand::Rng) -> usize {
    let u = 1.0 - rng.f64(); // in (0, 1]
    (u.powf(-1.0 / 0.95).floor() as usize).clamp(1, 800)
}

/// `count` distinct lower-case crate names: a few of one, two and three letters (each of
/// cargo's short path schemes), the rest made of syllables joined by `-`, `_` or nothing.
fn crate_names(rng: &mut fastrand::Rng, count: usize) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut names = Vec::with_capacity(count);
    while names.len() < count {
        let name = match rng.u32(0..1000) {
            0..=1 => letters(rng, 1),
            2..=9 => letters(rng, 2),
            10..=39 => letters(rng, 3),
            _ => {
                let parts = rng.usize(1..=3);
                let separator = ["-", "_", ""][rng.usize(0..3)];
                let mut name = (0..parts)
                    .map(|_| SYLLABLES[rng.usize(0..SYLLABLES.len())])
                    .collect::<Vec<_>>()
                    .join(separator);
                if rng.u32(0..10) == 0 {
                    write!(name, "{}", rng.u32(2..10)).unwrap();
                }
                name
            }
        };
        if seen.insert(name.clone()) {
            names.push(name);
        }
    }
    // The first name is the big crate's; give it a plausible one rather than a lucky draw.
    let big = "bindgen-sys-kit";
    if let Some(at) = names.iter().position(|name| name == big) {
        names.swap_remove(at);
        names.push(letters(rng, 12));
    }
    names[0] = big.to_owned();
    names
}

fn letters(rng: &mut fastrand::Rng, length: usize) -> String {
    (0..length).map(|_| rng.lowercase()).collect()
}

/// How heavy a crate's index lines are.
#[derive(Debug, Clone, Copy)]
enum Weight {
    /// 0 to 12 dependencies, mostly few: the bulk of a registry.
    Typical,
    /// 10 to 30 dependencies and a larger feature map: a crate with thousands of releases.
    Heavy,
}

/// What one data set holds.
#[derive(Debug, Default)]
struct SetSummary {
    files: usize,
    versions: usize,
    bytes: u64,
    yanked: usize,
    prereleases: usize,
    counts: Vec<usize>,
}

impl SetSummary {
    fn words(&self) -> String {
        let mut counts = self.counts.clone();
        counts.sort_unstable();
        let at = |q: f64| counts[((counts.len() - 1) as f64 * q).round() as usize];
        format!(
            "files={} versions={} bytes={} yanked={} prereleases={} median_versions={} \
             mean_versions={:.1} p99_versions={} max_versions={} over_100={}",
            self.files,
            self.versions,
            self.bytes,
            self.yanked,
            self.prereleases,
            at(0.5),
            self.versions as f64 / self.files as f64,
            at(0.99),
            counts.last().copied().unwrap_or(0),
            counts.iter().filter(|&&n| n >= 100).count(),
        )
    }
}

fn write_set(
    root: &Path,
    names: &[String],
    rng: &mut fastrand::Rng,
    mut version_count: impl FnMut(&mut fastrand::Rng) -> usize,
    weight: Weight,
) -> anyhow::Result<SetSummary> {
    let cache = root.join(".cache");
    let mut summary = SetSummary::default();
    let mut list = String::new();
    for name in names {
        let count = version_count(rng);
        let krate = Krate::new(rng, name, weight);
        let history = history(rng, count, krate.build_metadata);
        let mut index = String::new();
        for (at, version) in history.iter().enumerate() {
            let yanked = rng.u32(0..100) < if version.contains('-') { 8 } else { 4 };
            summary.yanked += usize::from(yanked);
            summary.prereleases += usize::from(version.contains('-'));
            krate.line(rng, version, at, history.len(), yanked, &mut index);
            index.push('\n');
        }
        let (bytes, skipped) = build_cache(&index_version(rng), index.as_bytes())
            .with_context(|| format!("{name}: cannot build the cache file"))?;
        if let Some(line) = skipped.first() {
            bail!("{name}: the generator wrote a line cargo would skip: {line}");
        }
        let path = cache.join(index_path(name));
        fs::create_dir_all(path.parent().expect("cache paths have a folder"))
            .with_context(|| format!("{}: cannot create its folder", path.display()))?;
        fs::write(&path, &bytes).with_context(|| format!("{}: cannot write", path.display()))?;
        writeln!(list, "{name}")?;
        summary.files += 1;
        summary.versions += history.len();
        summary.bytes += bytes.len() as u64;
        summary.counts.push(history.len());
    }
    fs::write(root.join("names.txt"), list)
        .with_context(|| format!("{}: cannot write names.txt", root.display()))?;
    Ok(summary)
}

/// The index version of a cache file, in the forms cargo writes for a sparse registry.
fn index_version(rng: &mut fastrand::Rng) -> String {
    let hex = |rng: &mut fastrand::Rng, digits| -> String {
        (0..digits)
            .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap())
            .collect()
    };
    match rng.u32(0..100) {
        0..=74 => format!("etag: W/\"{}\"", hex(rng, 32)),
        75..=84 => format!("etag: \"{}\"", hex(rng, 32)),
        85..=96 => format!(
            "last-modified: {}, {:02} {} 2026 {:02}:{:02}:{:02} GMT",
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][rng.usize(0..7)],
            rng.u32(1..29),
            ["Jan", "Mar", "Jun", "Sep", "Nov"][rng.usize(0..5)],
            rng.u32(0..24),
            rng.u32(0..60),
            rng.u32(0..60)
        ),
        _ => "Unknown".to_owned(),
    }
}

/// A crate's version history in publication order: mostly patch releases, some minor and
/// major ones (a few preceded by pre-releases), and back-ported patches to older series.
/// Every version is distinct (build metadata, when the crate carries it, is never the only
/// difference).
fn history(rng: &mut fastrand::Rng, count: usize, build_metadata: bool) -> Vec<String> {
    let (mut major, mut minor, mut patch) = match rng.u32(0..100) {
        0..=69 => (0u64, 1u64, 0u64),
        70..=84 => (0, 0, 1),
        _ => (1, 0, 0),
    };
    // The last patch of each (major, minor) series, for back-ports.
    let mut series: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    let mut out = Vec::with_capacity(count);
    let mut upstream = 0u64;
    let mut push = |out: &mut Vec<String>, text: String| {
        upstream += 1;
        if build_metadata {
            out.push(format!("{text}+upstream.{upstream}"));
        } else {
            out.push(text);
        }
    };
    push(&mut out, format!("{major}.{minor}.{patch}"));
    series.insert((major, minor), patch);
    while out.len() < count {
        let roll = rng.u32(0..1000);
        let older: Vec<(u64, u64)> = if roll < 40 {
            series
                .keys()
                .copied()
                .filter(|&key| key != (major, minor))
                .collect()
        } else {
            Vec::new()
        };
        if !older.is_empty() {
            // A fix back-ported to an older series.
            let key = older[rng.usize(0..older.len())];
            let last = series.get_mut(&key).expect("a known series");
            *last += 1;
            push(&mut out, format!("{}.{}.{last}", key.0, key.1));
            continue;
        }
        let major_odds = if major == 0 { 20 } else { 10 };
        if roll < 40 + 130 + major_odds {
            // A minor or major release, sometimes after pre-releases.
            if roll < 40 + 130 {
                if major == 0 && minor == 0 {
                    minor = 1;
                } else {
                    minor += 1;
                }
            } else {
                major += 1;
                minor = 0;
            }
            patch = 0;
            if rng.u32(0..100) < 25 {
                let stages = ["alpha", "beta", "rc"];
                let first = rng.usize(0..stages.len());
                for stage in &stages[first..] {
                    for number in 1..=rng.u64(1..=2) {
                        if out.len() + 1 < count {
                            push(&mut out, format!("{major}.{minor}.0-{stage}.{number}"));
                        }
                    }
                }
            }
        } else {
            patch += 1;
        }
        series.insert((major, minor), patch);
        push(&mut out, format!("{major}.{minor}.{patch}"));
    }
    out.truncate(count);
    out
}

/// One dependency as the registry writes it.
#[derive(Debug, Clone)]
struct Dep {
    name: String,
    req: (u64, u64, u64, u8),
    features: Vec<&'static str>,
    optional: bool,
    default_features: bool,
    target: Option<&'static str>,
    kind: &'static str,
    registry: bool,
    package: Option<String>,
}

impl Dep {
    fn new(rng: &mut fastrand::Rng) -> Dep {
        let name = {
            let parts = rng.usize(1..=2);
            (0..parts)
                .map(|_| SYLLABLES[rng.usize(0..SYLLABLES.len())])
                .collect::<Vec<_>>()
                .join(["-", "_"][rng.usize(0..2)])
        };
        let renamed = rng.u32(0..100) < 4;
        Dep {
            package: renamed.then(|| name.clone()),
            name: if renamed {
                format!("{name}{}", rng.u32(1..4))
            } else {
                name
            },
            req: (
                if rng.bool() { 0 } else { rng.u64(1..5) },
                rng.u64(0..30),
                rng.u64(0..20),
                rng.u8(0..100),
            ),
            features: (0..[0, 0, 0, 1, 1, 2, 3][rng.usize(0..7)])
                .map(|_| FEATURES[rng.usize(0..FEATURES.len())])
                .collect(),
            optional: rng.u32(0..100) < 20,
            default_features: rng.u32(0..100) < 85,
            target: (rng.u32(0..100) < 12).then(|| TARGETS[rng.usize(0..TARGETS.len())]),
            kind: [
                "normal", "normal", "normal", "normal", "dev", "dev", "build",
            ][rng.usize(0..7)],
            registry: rng.u32(0..100) < 2,
        }
    }

    /// The requirement as people write them: mostly caret, some tilde, exact or ranges.
    fn req(&self) -> String {
        let (major, minor, patch, style) = self.req;
        match style {
            0..=49 => format!("^{major}.{minor}.{patch}"),
            50..=69 => format!("^{major}.{minor}"),
            70..=79 => format!("^{major}"),
            80..=87 => format!("~{major}.{minor}.{patch}"),
            88..=93 => format!(">={major}.{minor}, <{}", major + 1),
            94..=97 => format!("={major}.{minor}.{patch}"),
            _ => "*".to_owned(),
        }
    }

    fn write(&self, out: &mut String) {
        out.push_str("{\"name\":");
        json_string(out, &self.name);
        out.push_str(",\"req\":");
        json_string(out, &self.req());
        out.push_str(",\"features\":[");
        for (at, feature) in self.features.iter().enumerate() {
            if at > 0 {
                out.push(',');
            }
            json_string(out, feature);
        }
        write!(
            out,
            "],\"optional\":{},\"default_features\":{},\"target\":",
            self.optional, self.default_features
        )
        .unwrap();
        match self.target {
            Some(target) => json_string(out, target),
            None => out.push_str("null"),
        }
        out.push_str(",\"kind\":");
        json_string(out, self.kind);
        if self.registry {
            out.push_str(",\"registry\":");
            json_string(out, OTHER_REGISTRY);
        }
        if let Some(package) = &self.package {
            out.push_str(",\"package\":");
            json_string(out, package);
        }
        out.push('}');
    }
}

/// What stays the same, or changes slowly, across a crate's versions.
#[derive(Debug)]
struct Krate {
    name: String,
    deps: Vec<Dep>,
    features: Vec<(&'static str, Vec<String>)>,
    /// From which version on (a fraction of the history) `features2` and `v: 2` appear.
    features2_from: Option<f64>,
    links: Option<String>,
    rust_version_from: Option<f64>,
    pubtime_from: f64,
    build_metadata: bool,
}

impl Krate {
    fn new(rng: &mut fastrand::Rng, name: &str, weight: Weight) -> Krate {
        let dep_count = match weight {
            Weight::Typical => [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12][rng.usize(0..14)],
            Weight::Heavy => rng.usize(10..=30),
        };
        let deps: Vec<Dep> = (0..dep_count).map(|_| Dep::new(rng)).collect();
        let feature_count = match weight {
            Weight::Typical => rng.usize(0..6),
            Weight::Heavy => rng.usize(8..16),
        };
        let mut features = Vec::new();
        for at in 0..feature_count {
            let feature = if at == 0 {
                "default"
            } else {
                FEATURES[rng.usize(0..FEATURES.len())]
            };
            if features.iter().any(|(known, _)| *known == feature) {
                continue;
            }
            let enables = (0..rng.usize(0..4))
                .map(|_| match deps.get(rng.usize(0..deps.len().max(1))) {
                    Some(dep) if rng.bool() => {
                        format!("{}/{}", dep.name, FEATURES[rng.usize(0..5)])
                    }
                    _ => FEATURES[rng.usize(0..FEATURES.len())].to_owned(),
                })
                .collect();
            features.push((feature, enables));
        }
        Krate {
            name: name.to_owned(),
            deps,
            features,
            features2_from: (rng.u32(0..100) < 30).then(|| rng.f64()),
            links: (rng.u32(0..100) < 3).then(|| {
                let length = rng.usize(1..6);
                letters(rng, length)
            }),
            rust_version_from: (rng.u32(0..100) < 45).then(|| rng.f64()),
            pubtime_from: 0.7 + 0.3 * rng.f64(),
            build_metadata: rng.u32(0..100) < 2,
        }
    }

    /// Appends the index line of `version`, the `at`-th of `count`, to `out`. Dependencies
    /// drift from version to version: requirements move on, a dependency comes or goes.
    fn line(
        &self,
        rng: &mut fastrand::Rng,
        version: &str,
        at: usize,
        count: usize,
        yanked: bool,
        out: &mut String,
    ) {
        let progress = at as f64 / count as f64;
        out.push_str("{\"name\":");
        json_string(out, &self.name);
        out.push_str(",\"vers\":");
        json_string(out, version);
        out.push_str(",\"deps\":[");
        let mut first = true;
        for (number, dep) in self.deps.iter().enumerate() {
            // Each dependency is absent from some stretch of the history.
            if (number * 7 + at / 13) % 11 == 10 {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            let mut dep = dep.clone();
            dep.req.1 += (at / 9) as u64;
            dep.req.2 = (dep.req.2 + at as u64) % 23;
            dep.write(out);
        }
        out.push_str("],\"cksum\":\"");
        for _ in 0..4 {
            write!(out, "{:016x}", rng.u64(..)).unwrap();
        }
        out.push_str("\",\"features\":{");
        // Only lines with `dep:` or `?/` features have `features2`: here, the optional deps'.
        let features2 = self.features2_from.is_some_and(|from| progress >= from)
            && self.deps.iter().any(|dep| dep.optional);
        for (number, (feature, enables)) in self.features.iter().enumerate() {
            if number > 0 {
                out.push(',');
            }
            json_string(out, feature);
            out.push_str(":[");
            for (at, enabled) in enables.iter().enumerate() {
                if at > 0 {
                    out.push(',');
                }
                json_string(out, enabled);
            }
            out.push(']');
        }
        out.push('}');
        if features2 {
            // The features that use `dep:` or `?/` syntax go in `features2`, which older cargos
            // do not read; `v: 2` says the line has it.
            out.push_str(",\"features2\":{");
            let optional = self.deps.iter().filter(|dep| dep.optional);
            for (number, dep) in optional.enumerate() {
                if number > 0 {
                    out.push(',');
                }
                json_string(out, &dep.name);
                out.push_str(":[");
                json_string(out, &format!("dep:{}", dep.name));
                out.push(',');
                json_string(out, &format!("{}?/std", dep.name));
                out.push(']');
            }
            out.push('}');
        }
        write!(out, ",\"yanked\":{yanked}").unwrap();
        if let Some(links) = &self.links {
            out.push_str(",\"links\":");
            json_string(out, links);
        }
        if self.rust_version_from.is_some_and(|from| progress >= from) {
            write!(
                out,
                ",\"rust_version\":\"1.{}\"",
                56 + (progress * 30.0) as u32
            )
            .unwrap();
        }
        if features2 {
            out.push_str(",\"v\":2");
        }
        if progress >= self.pubtime_from {
            write!(
                out,
                ",\"pubtime\":\"2026-{:02}-{:02}T{:02}:{:02}:{:02}Z\"",
                rng.u32(1..12),
                rng.u32(1..29),
                rng.u32(0..24),
                rng.u32(0..60),
                rng.u32(0..60)
            )
            .unwrap();
        }
        out.push('}');
    }
}

/// Appends `text` as a JSON string (quotes and backslashes escaped; the generator's strings
/// hold no control characters).
fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}
