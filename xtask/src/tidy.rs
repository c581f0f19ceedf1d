//! Tidy tests: they hold the workspace, `docs/architecture.md` and the house rules to each other.
//!
//! The workspace comes from `cargo metadata`; the layering from the ```` ```text ```` block under
//! `## Layers` in `docs/architecture.md`. The checks are plain functions over plain data, tested
//! on small inputs first; each `#[test]` at the bottom applies one of them to the real workspace.

use std::{
    collections::{BTreeMap, HashMap},
    fmt, fs,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use cargo_metadata::DependencyKind;

use crate::util::project_root;

const ARCHITECTURE: &str = "docs/architecture.md";

/// Where a crate sits in the layering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Layer(u32),
    Dev,
    Tool,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Layer(n) => write!(f, "layer {n}"),
            Place::Dev => f.write_str("dev"),
            Place::Tool => f.write_str("tool"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Build,
    Dev,
}

impl Kind {
    fn suffix(self) -> &'static str {
        match self {
            Kind::Normal => "",
            Kind::Build => " as a build dependency",
            Kind::Dev => " as a dev-dependency",
        }
    }
}

#[derive(Debug, Clone)]
struct Dep {
    name: String,
    kind: Kind,
    /// A dependency on another package of this workspace.
    internal: bool,
}

#[derive(Debug, Clone)]
struct Package {
    name: String,
    /// The folder holding the package's Cargo.toml.
    dir: PathBuf,
    description: Option<String>,
    deps: Vec<Dep>,
}

#[derive(Debug)]
struct Workspace {
    root: PathBuf,
    packages: Vec<Package>,
}

/// The workspace as `cargo metadata --no-deps` describes it, loaded once per test run.
fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(|| {
        let root = project_root();
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(root.join("Cargo.toml"))
            .no_deps()
            .exec()
            .unwrap_or_else(|err| panic!("cargo metadata failed for {}: {err}", root.display()));
        let members: Vec<&cargo_metadata::Package> = metadata.workspace_packages();
        let names: Vec<String> = members.iter().map(|p| p.name.to_string()).collect();
        let packages = members
            .iter()
            .map(|p| Package {
                name: p.name.to_string(),
                dir: p
                    .manifest_path
                    .parent()
                    .expect("manifest has a folder")
                    .into(),
                description: p.description.clone(),
                deps: p
                    .dependencies
                    .iter()
                    .map(|d| Dep {
                        name: d.name.clone(),
                        kind: match d.kind {
                            DependencyKind::Development => Kind::Dev,
                            DependencyKind::Build => Kind::Build,
                            _ => Kind::Normal,
                        },
                        internal: d.path.is_some() && names.contains(&d.name),
                    })
                    .collect(),
            })
            .collect();
        Workspace { root, packages }
    })
}

// ---------------------------------------------------------------------------------------------
// The layering in docs/architecture.md.

/// Parses the ```` ```text ```` block under `## Layers`: `layer N names...`, `dev names...`,
/// `tool names...`. Returns each crate name with its place, in document order.
fn parse_layers(doc: &str) -> Result<Vec<(String, Place)>, String> {
    let mut lines = doc
        .lines()
        .skip_while(|line| line.trim_end() != "## Layers");
    if lines.next().is_none() {
        return Err(format!("{ARCHITECTURE} has no `## Layers` section"));
    }
    let no_block = || format!("{ARCHITECTURE}: no ```text block under `## Layers`");
    for line in lines.by_ref() {
        if line.trim() == "```text" {
            break;
        }
        if line.starts_with("## ") || line.trim_start().starts_with("```") {
            return Err(no_block());
        }
    }
    let mut listing = Vec::new();
    let mut closed = false;
    for line in lines {
        if line.trim() == "```" {
            closed = true;
            break;
        }
        let mut words = line.split_whitespace();
        let place = match words.next() {
            None => continue,
            Some("dev") => Place::Dev,
            Some("tool") => Place::Tool,
            Some("layer") => match words.next().map(str::parse) {
                Some(Ok(n)) => Place::Layer(n),
                _ => return Err(bad_line(line)),
            },
            Some(_) => return Err(bad_line(line)),
        };
        let before = listing.len();
        listing.extend(words.map(|name| (name.to_owned(), place)));
        if listing.len() == before {
            return Err(bad_line(line));
        }
    }
    if !closed {
        return Err(format!(
            "{ARCHITECTURE}: the ```text block under `## Layers` is not closed"
        ));
    }
    Ok(listing)
}

fn bad_line(line: &str) -> String {
    format!(
        "{ARCHITECTURE}: cannot read `{}` under `## Layers`; \
         expected `layer N name...`, `dev name...` or `tool name...`",
        line.trim()
    )
}

/// Every workspace package listed exactly once, and nothing else listed.
fn check_listing(packages: &[&str], listing: &[(String, Place)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&str, Vec<Place>> = BTreeMap::new();
    for (name, place) in listing {
        seen.entry(name).or_default().push(*place);
    }
    for (name, places) in &seen {
        if places.len() > 1 {
            let places: Vec<String> = places.iter().map(Place::to_string).collect();
            problems.push(format!(
                "{name} is listed {} times under `## Layers` in {ARCHITECTURE} ({}); keep one",
                places.len(),
                places.join(", ")
            ));
        }
        if !packages.contains(name) {
            problems.push(format!(
                "{ARCHITECTURE} lists {name} under `## Layers`, but no workspace package has that \
                 name; remove it or fix the name"
            ));
        }
    }
    for name in packages {
        if !seen.contains_key(name) {
            problems.push(format!(
                "{name} is a workspace package but is missing from the ```text block under \
                 `## Layers` in {ARCHITECTURE}; add it to a layer (or to dev or tool)"
            ));
        }
    }
    problems
}

/// Why a dependency of a crate at `from` on a crate at `to` breaks the layering, if it does.
fn layering_violation(from: Place, to: Place, kind: Kind) -> Option<&'static str> {
    let runtime = matches!(kind, Kind::Normal | Kind::Build);
    match (from, to) {
        (Place::Tool, _) => None,
        (_, Place::Tool) => Some("nothing may depend on a tool crate"),
        (Place::Layer(a), Place::Layer(b)) if runtime && b >= a => {
            Some("normal and build dependencies must point to a strictly lower layer")
        }
        (_, Place::Dev) if runtime => Some("dev crates may be named only as dev-dependencies"),
        _ => None,
    }
}

fn check_layering(packages: &[Package], places: &HashMap<String, Place>) -> Vec<String> {
    let mut problems = Vec::new();
    for package in packages {
        let Some(&from) = places.get(&package.name) else {
            continue;
        };
        for dep in package.deps.iter().filter(|dep| dep.internal) {
            let Some(&to) = places.get(&dep.name) else {
                continue;
            };
            if let Some(reason) = layering_violation(from, to, dep.kind) {
                problems.push(format!(
                    "{} ({from}) depends on {} ({to}){}: {reason}",
                    package.name,
                    dep.name,
                    dep.kind.suffix()
                ));
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Owners of external crates.

fn check_owners(packages: &[Package]) -> Vec<String> {
    let mut problems = Vec::new();
    for package in packages {
        for dep in package.deps.iter().filter(|dep| !dep.internal) {
            let name = package.name.as_str();
            match dep.name.as_str() {
                "reqwest" => {
                    let allowed =
                        name == "fetchkit-transport" || (name == "xtask" && dep.kind == Kind::Dev);
                    if !allowed {
                        problems.push(format!(
                            "{name} depends on reqwest{}: only fetchkit-transport may name \
                             reqwest (and xtask as a dev-dependency); go through \
                             fetchkit-transport instead",
                            dep.kind.suffix()
                        ));
                    }
                }
                "anyhow" if dep.kind != Kind::Dev && !["fetchkit-cli", "xtask"].contains(&name) => {
                    problems.push(format!(
                        "{name} depends on anyhow{}: anyhow is only for fetchkit-cli and \
                         xtask; give this crate a thiserror error enum",
                        dep.kind.suffix()
                    ));
                }
                _ => {}
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Libraries do not print or read the environment.

const LIBRARY_FORBIDDEN: &[&str] = &[
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
    "dbg!",
    "env::var",
];

/// The forbidden names in one line of library source. Comment lines are skipped (doc examples
/// may print); a name counts only where it starts a word (`print!` is not found in `eprint!`).
fn forbidden_in_line(line: &str) -> Vec<&'static str> {
    if line.trim_start().starts_with("//") {
        return Vec::new();
    }
    LIBRARY_FORBIDDEN
        .iter()
        .copied()
        .filter(|name| {
            line.match_indices(name).any(|(at, _)| {
                !line[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
        .collect()
}

fn check_library_source(root: &Path, file: &Path, text: &str) -> Vec<String> {
    let shown = file.strip_prefix(root).unwrap_or(file).display();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for name in forbidden_in_line(line) {
            problems.push(format!(
                "{shown}:{}: `{name}` in a library crate; only fetchkit-cli prints or reads \
                 environment variables (report through the Progress trait or tracing, take \
                 settings as arguments)",
                index + 1
            ));
        }
    }
    problems
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// No registry host names.

/// Built from pieces so that this file does not name them itself.
fn registry_hosts() -> Vec<String> {
    let rust = ["crates", "io"].join(".");
    let mut hosts = vec![
        format!("static.{rust}"),
        format!("index.{rust}"),
        ["files", "pythonhosted", "org"].join("."),
        ["registry", "npmjs", "org"].join("."),
        ["pypi", "org"].join("."),
        rust,
    ];
    // Most specific first, so a line is reported with the host it really names.
    hosts.sort_by_key(|host| std::cmp::Reverse(host.len()));
    hosts
}

fn check_hosts(path: &str, text: &str, hosts: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let lower = line.to_lowercase();
        if let Some(host) = hosts.iter().find(|host| lower.contains(host.as_str())) {
            problems.push(format!(
                "{path}:{}: names the registry host `{host}`; endpoints are configuration and \
                 tests use loopback, so remove it or describe it in words",
                index + 1
            ));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Crate documentation.

fn readme_mentions(readme: &str, name: &str) -> bool {
    let heading = format!("### {name}");
    let quoted = format!("`{name}`");
    readme
        .lines()
        .any(|line| line.trim_end() == heading || line.contains(&quoted))
}

fn starts_with_crate_doc(text: &str) -> bool {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .is_some_and(|line| line.starts_with("//!"))
}

// ---------------------------------------------------------------------------------------------
// The tests on the real workspace.

#[track_caller]
fn assert_none(what: &str, problems: Vec<String>) {
    if !problems.is_empty() {
        let mut message = format!("{} {what} problem(s):", problems.len());
        for problem in &problems {
            message += "\n  ";
            message += problem;
        }
        panic!("{message}");
    }
}

fn places() -> HashMap<String, Place> {
    let path = workspace().root.join(ARCHITECTURE);
    let doc = fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    parse_layers(&doc)
        .unwrap_or_else(|err| panic!("{err}"))
        .into_iter()
        .collect()
}

#[test]
fn layers_list_every_package_once() {
    let path = workspace().root.join(ARCHITECTURE);
    let doc = fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    let listing = parse_layers(&doc).unwrap_or_else(|err| panic!("{err}"));
    let names: Vec<&str> = workspace()
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_none("layer listing", check_listing(&names, &listing));
}

#[test]
fn dependencies_point_down() {
    assert_none("layering", check_layering(&workspace().packages, &places()));
}

#[test]
fn heavy_dependencies_have_one_owner() {
    assert_none("dependency owner", check_owners(&workspace().packages));
}

#[test]
fn libraries_do_not_print_or_read_the_environment() {
    let ws = workspace();
    let places = places();
    let mut problems = Vec::new();
    for package in &ws.packages {
        // Crates missing from the listing are checked too (that test reports them separately).
        let library = !matches!(places.get(&package.name), Some(Place::Dev | Place::Tool));
        if !library || package.name == "fetchkit-cli" {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&package.dir.join("src"), &mut files);
        for file in files {
            let text = fs::read_to_string(&file)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", file.display()));
            problems.extend(check_library_source(&ws.root, &file, &text));
        }
    }
    assert_none("library output", problems);
}

#[test]
fn no_registry_host_names() {
    let root = &workspace().root;
    let output = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .unwrap_or_else(|err| panic!("cannot run `git ls-files` in {}: {err}", root.display()));
    assert!(
        output.status.success(),
        "`git ls-files` failed in {}: {}",
        root.display(),
        { String::from_utf8_lossy(&output.stderr) }
    );
    let hosts = registry_hosts();
    let mut problems = Vec::new();
    for path in String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .filter(|p| !p.is_empty())
    {
        if Path::new(path)
            .file_name()
            .is_some_and(|name| name == "Cargo.lock")
        {
            continue;
        }
        // Tracked but deleted in the work tree: nothing to scan.
        let Ok(bytes) = fs::read(root.join(path)) else {
            continue;
        };
        if bytes.contains(&0) {
            continue; // binary
        }
        problems.extend(check_hosts(path, &String::from_utf8_lossy(&bytes), &hosts));
    }
    assert_none("registry host name", problems);
}

#[test]
fn crates_are_described() {
    let ws = workspace();
    let crates_dir = ws.root.join("crates");
    let crates: Vec<&Package> = ws
        .packages
        .iter()
        .filter(|p| p.dir.starts_with(&crates_dir))
        .collect();
    let mut problems = Vec::new();
    for package in &crates {
        if package
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            let manifest = package.dir.join("Cargo.toml");
            let manifest = manifest.strip_prefix(&ws.root).unwrap_or(&manifest);
            problems.push(format!(
                "{}: no `description`; add one line saying what {} does",
                manifest.display(),
                package.name
            ));
        }
    }
    match fs::read_to_string(crates_dir.join("README.md")) {
        Err(err) => problems.push(format!(
            "crates/README.md cannot be read ({err}); it needs one paragraph per crate, \
             each under a `### <name>` heading"
        )),
        Ok(readme) => {
            for package in &crates {
                if !readme_mentions(&readme, &package.name) {
                    problems.push(format!(
                        "crates/README.md does not mention {0}; add a `### {0}` paragraph that \
                         matches its Cargo.toml description",
                        package.name
                    ));
                }
            }
        }
    }
    assert_none("crate description", problems);
}

#[test]
fn crate_roots_start_with_docs() {
    let crates_dir = workspace().root.join("crates");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&crates_dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", crates_dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    dirs.sort();
    let mut problems = Vec::new();
    for dir in dirs {
        let lib = dir.join("src").join("lib.rs");
        let Ok(text) = fs::read_to_string(&lib) else {
            continue;
        };
        if !starts_with_crate_doc(&text) {
            let shown = lib.strip_prefix(&workspace().root).unwrap_or(&lib);
            problems.push(format!(
                "{} does not start with a `//!` doc comment; say what the crate is for, its \
                 layer and what it deliberately does not do",
                shown.display()
            ));
        }
    }
    assert_none("crate root doc", problems);
}

// ---------------------------------------------------------------------------------------------
// The checks themselves, on small inputs.

mod checks {
    use std::{collections::HashMap, path::Path};

    use super::*;

    fn check_parse(doc: &str, expected: Result<&[(&str, Place)], &str>) {
        let got = parse_layers(doc);
        let expected = expected
            .map(|list| {
                list.iter()
                    .map(|&(name, place)| (name.to_owned(), place))
                    .collect()
            })
            .map_err(str::to_owned);
        assert_eq!(got, expected);
    }

    const DOC: &str = "\
# Architecture

```
not this block
```

## Layers

Some words.

```text
layer 1  b c
layer 0  a

dev      t
tool     x
```

## Code map
";

    #[test]
    fn parse_layers_reads_the_block_under_the_heading() {
        check_parse(
            DOC,
            Ok(&[
                ("b", Place::Layer(1)),
                ("c", Place::Layer(1)),
                ("a", Place::Layer(0)),
                ("t", Place::Dev),
                ("x", Place::Tool),
            ]),
        );
    }

    #[test]
    fn parse_layers_errors() {
        check_parse(
            "# A\n",
            Err("docs/architecture.md has no `## Layers` section"),
        );
        check_parse(
            "## Layers\n\n## Next\n```text\nlayer 0 a\n```\n",
            Err("docs/architecture.md: no ```text block under `## Layers`"),
        );
        check_parse(
            "## Layers\n```text\nlayer zero a\n```\n",
            Err(
                "docs/architecture.md: cannot read `layer zero a` under `## Layers`; \
                 expected `layer N name...`, `dev name...` or `tool name...`",
            ),
        );
        check_parse(
            "## Layers\n```text\nlevel 0 a\n```\n",
            Err(
                "docs/architecture.md: cannot read `level 0 a` under `## Layers`; \
                 expected `layer N name...`, `dev name...` or `tool name...`",
            ),
        );
        check_parse(
            "## Layers\n```text\nlayer 0 a\n",
            Err("docs/architecture.md: the ```text block under `## Layers` is not closed"),
        );
    }

    #[test]
    fn listing_problems_name_the_crate() {
        let listing = parse_layers("## Layers\n```text\nlayer 1 a b\nlayer 0 a ghost\n```\n");
        let problems = check_listing(&["a", "b", "missing"], &listing.unwrap());
        assert_eq!(
            problems,
            [
                "a is listed 2 times under `## Layers` in docs/architecture.md (layer 1, \
                 layer 0); keep one",
                "docs/architecture.md lists ghost under `## Layers`, but no workspace package \
                 has that name; remove it or fix the name",
                "missing is a workspace package but is missing from the ```text block under \
                 `## Layers` in docs/architecture.md; add it to a layer (or to dev or tool)",
            ]
        );
    }

    fn package(name: &str, deps: &[(&str, Kind, bool)]) -> Package {
        Package {
            name: name.to_owned(),
            dir: Path::new("crates").join(name),
            description: None,
            deps: deps
                .iter()
                .map(|&(name, kind, internal)| Dep {
                    name: name.to_owned(),
                    kind,
                    internal,
                })
                .collect(),
        }
    }

    #[test]
    fn layering() {
        let places: HashMap<String, Place> = [
            ("fetchkit-retry", Place::Layer(0)),
            ("fetchkit-transport", Place::Layer(1)),
            ("fetchkit-lister", Place::Layer(2)),
            ("fetchkit-protocols", Place::Layer(2)),
            ("fetchkit-test-support", Place::Dev),
            ("xtask", Place::Tool),
        ]
        .into_iter()
        .map(|(name, place)| (name.to_owned(), place))
        .collect();
        let packages = [
            package(
                "fetchkit-retry",
                &[
                    ("fetchkit-transport", Kind::Normal, true),
                    ("fetchkit-transport", Kind::Dev, true),
                    ("fetchkit-test-support", Kind::Dev, true),
                ],
            ),
            package(
                "fetchkit-transport",
                &[
                    ("fetchkit-retry", Kind::Normal, true),
                    ("fetchkit-test-support", Kind::Normal, true),
                    ("tokio", Kind::Normal, false),
                ],
            ),
            package(
                "fetchkit-lister",
                &[("fetchkit-protocols", Kind::Build, true)],
            ),
            package(
                "fetchkit-test-support",
                &[
                    ("fetchkit-retry", Kind::Normal, true),
                    ("xtask", Kind::Dev, true),
                ],
            ),
            package("xtask", &[("fetchkit-test-support", Kind::Normal, true)]),
        ];
        assert_eq!(
            check_layering(&packages, &places),
            [
                "fetchkit-retry (layer 0) depends on fetchkit-transport (layer 1): normal and \
                 build dependencies must point to a strictly lower layer",
                "fetchkit-transport (layer 1) depends on fetchkit-test-support (dev): dev \
                 crates may be named only as dev-dependencies",
                "fetchkit-lister (layer 2) depends on fetchkit-protocols (layer 2) as a build \
                 dependency: normal and build dependencies must point to a strictly lower layer",
                "fetchkit-test-support (dev) depends on xtask (tool) as a dev-dependency: \
                 nothing may depend on a tool crate",
            ]
        );
    }

    #[test]
    fn owners() {
        let packages = [
            package("fetchkit-transport", &[("reqwest", Kind::Normal, false)]),
            package("fetchkit-mirror", &[("reqwest", Kind::Dev, false)]),
            package("fetchkit-retry", &[("anyhow", Kind::Normal, false)]),
            package("fetchkit-lister", &[("anyhow", Kind::Dev, false)]),
            package(
                "xtask",
                &[
                    ("reqwest", Kind::Dev, false),
                    ("anyhow", Kind::Normal, false),
                ],
            ),
            package("fetchkit-cli", &[("anyhow", Kind::Normal, false)]),
        ];
        assert_eq!(
            check_owners(&packages),
            [
                "fetchkit-mirror depends on reqwest as a dev-dependency: only \
                 fetchkit-transport may name reqwest (and xtask as a dev-dependency); go \
                 through fetchkit-transport instead",
                "fetchkit-retry depends on anyhow: anyhow is only for fetchkit-cli and xtask; \
                 give this crate a thiserror error enum",
            ]
        );
    }

    #[test]
    fn forbidden_names_start_words_and_skip_comments() {
        assert_eq!(forbidden_in_line(r#"    println!("x");"#), ["println!"]);
        assert_eq!(
            forbidden_in_line(r#"eprint!("x"); dbg!(y)"#),
            ["eprint!", "dbg!"]
        );
        assert_eq!(
            forbidden_in_line("let v = std::env::var(\"HOME\");"),
            ["env::var"]
        );
        assert_eq!(forbidden_in_line("let v = env::var_os(k);"), ["env::var"]);
        assert_eq!(
            forbidden_in_line("//! println!(\"example\");"),
            Vec::<&str>::new()
        );
        assert_eq!(
            forbidden_in_line("my_println!(x); fooenv::var"),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn library_source_reports_file_and_line() {
        let root = Path::new("/ws");
        let file = root.join("crates/fetchkit-retry/src/lib.rs");
        let problems = check_library_source(root, &file, "//! docs\n\nfn f() { dbg!(1); }\n");
        assert_eq!(
            problems,
            [
                "crates/fetchkit-retry/src/lib.rs:3: `dbg!` in a library crate; only fetchkit-cli \
              prints or reads environment variables (report through the Progress trait or \
              tracing, take settings as arguments)"
            ]
        );
    }

    #[test]
    fn hosts_are_found_case_insensitively_with_the_most_specific_name() {
        let hosts = registry_hosts();
        let rust = ["crates", "io"].join(".");
        let text = format!("fine\nsee https://INDEX.{rust}/x\nand {rust} too\n");
        assert_eq!(
            check_hosts("docs/a.md", &text, &hosts),
            [
                format!(
                    "docs/a.md:2: names the registry host `index.{rust}`; endpoints are \
                     configuration and tests use loopback, so remove it or describe it in words"
                ),
                format!(
                    "docs/a.md:3: names the registry host `{rust}`; endpoints are \
                     configuration and tests use loopback, so remove it or describe it in words"
                ),
            ]
        );
        assert!(check_hosts("a", "http://127.0.0.1:8080/index", &hosts).is_empty());
    }

    #[test]
    fn readme_and_crate_docs() {
        let readme = "# Crates\n\n### fetchkit-retry\nBackoff.\n\nSee `fetchkit-cli`.\n";
        assert!(readme_mentions(readme, "fetchkit-retry"));
        assert!(readme_mentions(readme, "fetchkit-cli"));
        assert!(!readme_mentions(readme, "fetchkit"));
        assert!(starts_with_crate_doc("\n//! Backoff.\n"));
        assert!(!starts_with_crate_doc("/// item doc\n"));
        assert!(!starts_with_crate_doc(""));
    }
}
