//! A sparse registry on loopback that real cargo can resolve, download and build from.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

use crate::archives::append_file;
use crate::{FaultServer, Resource};

/// What a [`SparseRegistry`]'s index files are served with, for cargo to record as their index
/// version and send back in conditional requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Validators {
    /// A strong `ETag` (cargo records `etag: "…"`).
    ETag,
    /// A weak `ETag` (`etag: W/"…"`), as CDNs send for compressed bodies.
    WeakETag,
    /// `Last-Modified` only (`last-modified: …`).
    LastModified,
    /// Both; cargo prefers the `ETag`.
    Both,
    /// Neither (cargo records `Unknown` and fetches whole files every time).
    None,
}

/// One version of a tiny crate that compiles: a `Cargo.toml` and a `src/lib.rs`.
#[derive(Debug, Clone)]
pub struct FakeCrate {
    name: String,
    version: String,
    dependencies: Vec<FakeDependency>,
    features: Vec<(String, Vec<String>)>,
    yanked: bool,
}

/// A dependency of a [`FakeCrate`].
#[derive(Debug, Clone)]
pub struct FakeDependency {
    /// The name the dependent uses.
    name: String,
    /// The published name, when renamed.
    package: Option<String>,
    req: String,
    kind: &'static str,
}

impl FakeCrate {
    /// A registry's worth of crates with every shape of name cargo files differently (1, 2, 3
    /// and 4+ characters, mixed case, `-` and `_`), pre-releases, build metadata, a yanked
    /// version, and dependencies between them (one renamed, one dev-only): `a` 1.0.0 and
    /// 1.1.0+build.7, `ab` 0.1.0 and 0.2.0-alpha.1, `abc` 2.0.0 and 2.1.0 (yanked), `MyCrate`
    /// 0.3.0, `dash-name` 1.0.0 and `under_name` 1.0.0.
    pub fn samples() -> Vec<FakeCrate> {
        vec![
            FakeCrate::new("a", "1.0.0"),
            FakeCrate::new("a", "1.1.0+build.7"),
            FakeCrate::new("ab", "0.1.0").dependency("a", "1"),
            FakeCrate::new("ab", "0.2.0-alpha.1").dependency("a", "1"),
            FakeCrate::new("abc", "2.0.0").feature("extra", &[]),
            FakeCrate::new("abc", "2.1.0").yanked(),
            FakeCrate::new("MyCrate", "0.3.0")
                .renamed_dependency("short", "ab", "0.1")
                .dev_dependency("abc", "2"),
            FakeCrate::new("dash-name", "1.0.0").dependency("under_name", "1"),
            FakeCrate::new("under_name", "1.0.0"),
        ]
    }

    /// `name` at `version` (build metadata and pre-releases allowed), with no dependencies.
    pub fn new(name: &str, version: &str) -> FakeCrate {
        FakeCrate {
            name: name.to_owned(),
            version: version.to_owned(),
            dependencies: Vec::new(),
            features: Vec::new(),
            yanked: false,
        }
    }

    /// A normal dependency on `name` from the same registry.
    pub fn dependency(self, name: &str, req: &str) -> FakeCrate {
        self.add(name, None, req, "normal")
    }

    /// A normal dependency on `package`, used under the name `alias`.
    pub fn renamed_dependency(self, alias: &str, package: &str, req: &str) -> FakeCrate {
        self.add(alias, Some(package), req, "normal")
    }

    /// A dev-dependency, which takes no part in resolving dependents.
    pub fn dev_dependency(self, name: &str, req: &str) -> FakeCrate {
        self.add(name, None, req, "dev")
    }

    /// A feature enabling `enables`.
    pub fn feature(mut self, name: &str, enables: &[&str]) -> FakeCrate {
        let enables = enables.iter().map(|&item| item.to_owned()).collect();
        self.features.push((name.to_owned(), enables));
        self
    }

    /// Marks the version yanked in the index.
    pub fn yanked(mut self) -> FakeCrate {
        self.yanked = true;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Its dependencies, in the order they were added.
    pub fn dependencies(&self) -> &[FakeDependency] {
        &self.dependencies
    }

    /// Its features and what each enables, in the order they were added.
    pub fn features(&self) -> &[(String, Vec<String>)] {
        &self.features
    }

    /// Whether it is yanked.
    pub fn is_yanked(&self) -> bool {
        self.yanked
    }

    fn add(mut self, name: &str, package: Option<&str>, req: &str, kind: &'static str) -> Self {
        self.dependencies.push(FakeDependency {
            name: name.to_owned(),
            package: package.map(str::to_owned),
            req: req.to_owned(),
            kind,
        });
        self
    }

    /// The `.crate` file: a gzipped tar of `NAME-VERSION/Cargo.toml` and `src/lib.rs`, with
    /// fixed modes and times, so the same crate always has the same checksum.
    pub fn crate_file(&self) -> Vec<u8> {
        let root = format!("{}-{}", self.name, self.version);
        let mut archive = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        for (path, contents) in [
            ("Cargo.toml", self.manifest()),
            (
                "src/lib.rs",
                format!(
                    "//! A fake crate.\n\npub const VERSION: &str = {:?};\n",
                    self.version
                ),
            ),
        ] {
            append_file(&mut archive, &format!("{root}/{path}"), contents.as_bytes());
        }
        archive
            .into_inner()
            .and_then(GzEncoder::finish)
            .expect("gzip into a Vec cannot fail")
    }

    /// The crate's line in the index, with `cksum` the SHA-256 of its `.crate` file.
    pub fn index_line(&self) -> String {
        let cksum = hex(&Sha256::digest(self.crate_file()));
        let quote = |text: &str| serde_json::Value::from(text).to_string();
        let deps: Vec<String> = self
            .dependencies
            .iter()
            .map(|dependency| {
                format!(
                    "{{\"name\":{},\"req\":{},\"features\":[],\"optional\":false,\
                     \"default_features\":true,\"target\":null,\"kind\":\"{}\"{}}}",
                    quote(&dependency.name),
                    quote(&dependency.req),
                    dependency.kind,
                    match &dependency.package {
                        Some(package) => format!(",\"package\":{}", quote(package)),
                        None => String::new(),
                    }
                )
            })
            .collect();
        let features: Vec<String> = self
            .features
            .iter()
            .map(|(name, enables)| {
                let enables: Vec<String> = enables.iter().map(|item| quote(item)).collect();
                format!("{}:[{}]", quote(name), enables.join(","))
            })
            .collect();
        format!(
            "{{\"name\":{},\"vers\":{},\"deps\":[{}],\"cksum\":\"{cksum}\",\"features\":{{{}}},\
             \"yanked\":{}}}",
            quote(&self.name),
            quote(&self.version),
            deps.join(","),
            features.join(","),
            self.yanked
        )
    }

    fn manifest(&self) -> String {
        let mut manifest = format!(
            "[package]\nedition = \"2021\"\nname = {:?}\nversion = {:?}\n\
             description = \"A fake crate.\"\nlicense = \"MIT\"\n\n[lib]\npath = \"src/lib.rs\"\n",
            self.name, self.version
        );
        for dependency in &self.dependencies {
            let table = match dependency.kind {
                "dev" => "dev-dependencies",
                "build" => "build-dependencies",
                _ => "dependencies",
            };
            manifest.push_str(&format!(
                "\n[{table}.{}]\nversion = {:?}\n",
                dependency.name, dependency.req
            ));
            if let Some(package) = &dependency.package {
                manifest.push_str(&format!("package = {package:?}\n"));
            }
        }
        if !self.features.is_empty() {
            manifest.push_str("\n[features]\n");
            for (name, enables) in &self.features {
                manifest.push_str(&format!("{name} = {enables:?}\n"));
            }
        }
        manifest
    }
}

impl FakeDependency {
    /// The name the dependent uses for it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The published name, when renamed.
    pub fn package(&self) -> Option<&str> {
        self.package.as_deref()
    }

    /// The version requirement.
    pub fn req(&self) -> &str {
        &self.req
    }

    /// `normal`, `build` or `dev`, as the index spells it.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// A sparse registry served by a [`FaultServer`] at `/index/`, with `.crate` files at
/// `/dl/NAME/VERSION/download`.
///
/// Index files carry the chosen [`Validators`], which change whenever a file does, and are
/// answered with `304` when a conditional request names the current ones; crates the registry
/// does not have get `404`, as cargo expects. Every request is recorded
/// ([`server`](SparseRegistry::server)). Dropping the registry stops the server.
#[derive(Debug)]
pub struct SparseRegistry {
    server: FaultServer,
    validators: Validators,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Lower-cased name to the crate's index lines, in publication order.
    files: BTreeMap<String, Vec<(FakeCrate, String)>>,
    /// Bumped on every change, so that every change gets new validators.
    revision: u64,
    /// Lower-cased name to the revision its file was last served at.
    served: BTreeMap<String, u64>,
}

impl SparseRegistry {
    /// Starts an empty registry.
    pub fn start(validators: Validators) -> SparseRegistry {
        let server = FaultServer::start();
        let config = format!(
            "{{\"dl\":\"{}\",\"api\":\"{}\"}}",
            server.url("/dl/{crate}/{version}/download"),
            server.url("")
        );
        server.route(
            "/index/config.json",
            Resource::new(config).content_type("application/json"),
        );
        SparseRegistry {
            server,
            validators,
            state: Mutex::new(State::default()),
        }
    }

    /// `sparse+http://127.0.0.1:PORT/index/`, as cargo's configuration spells it.
    pub fn index_url(&self) -> String {
        format!("sparse+{}", self.server.url("/index/"))
    }

    /// The server, for its request log.
    pub fn server(&self) -> &FaultServer {
        &self.server
    }

    /// `$CARGO_HOME/config.toml` text that makes this registry replace cargo's default one.
    pub fn cargo_config(&self) -> String {
        format!(
            "[source.crates-io]\nreplace-with = \"fake\"\n\n[source.fake]\nregistry = \"{}\"\n\n\
             [net]\nretry = 0\n",
            self.index_url()
        )
    }

    /// Publishes a version: its line is added to (or replaces the same version's line in) the
    /// crate's index file, and its `.crate` file is served.
    pub fn publish(&self, krate: FakeCrate) {
        self.server.route(
            &format!("/dl/{}/{}/download", krate.name, krate.version),
            Resource::new(krate.crate_file()),
        );
        let line = krate.index_line();
        let mut state = self.lock();
        let lines = state.files.entry(krate.name.to_lowercase()).or_default();
        lines.retain(|(existing, _)| existing.version != krate.version);
        lines.push((krate.clone(), line));
        self.serve(&mut state, &krate.name);
    }

    /// Marks a published version yanked (or not).
    ///
    /// # Panics
    ///
    /// If the version was not published.
    pub fn set_yanked(&self, name: &str, version: &str, yanked: bool) {
        let mut state = self.lock();
        let lines = state
            .files
            .get_mut(&name.to_lowercase())
            .unwrap_or_else(|| panic!("{name} was not published"));
        let (krate, line) = lines
            .iter_mut()
            .find(|(krate, _)| krate.version == version)
            .unwrap_or_else(|| panic!("{name} {version} was not published"));
        krate.yanked = yanked;
        *line = krate.index_line();
        self.serve(&mut state, name);
    }

    /// Removes a crate: its index file is answered with `404` from now on.
    pub fn remove(&self, name: &str) {
        self.lock().files.remove(&name.to_lowercase());
        self.server.unroute(&format!("/index/{}", index_path(name)));
    }

    /// The crate's index file as served now.
    pub fn index_file(&self, name: &str) -> Option<String> {
        self.lock()
            .files
            .get(&name.to_lowercase())
            .map(|lines| index_file(lines))
    }

    /// The index version cargo records for the crate's file as served now: `etag: …`,
    /// `last-modified: …` or `Unknown`.
    pub fn index_version(&self, name: &str) -> String {
        let state = self.lock();
        let revision = state.revision_of(name);
        let (etag, last_modified) = self.validators_at(&state, name, revision);
        match (etag, last_modified) {
            (Some(etag), _) => format!("etag: {etag}"),
            (None, Some(date)) => format!("last-modified: {date}"),
            (None, None) => "Unknown".to_owned(),
        }
    }

    /// Routes the crate's index file as it is now, with fresh validators.
    fn serve(&self, state: &mut MutexGuard<'_, State>, name: &str) {
        state.revision += 1;
        let revision = state.revision;
        let key = name.to_lowercase();
        let body = index_file(&state.files[&key]);
        let (etag, last_modified) = self.validators_at(state, name, revision);
        let mut resource = Resource::new(body).content_type("text/plain");
        if let Some(etag) = &etag {
            resource = resource.etag(etag);
        }
        if let Some(date) = &last_modified {
            resource = resource.last_modified(date);
        }
        state.served.insert(key, revision);
        self.server
            .route(&format!("/index/{}", index_path(name)), resource);
    }

    fn validators_at(
        &self,
        state: &State,
        name: &str,
        revision: u64,
    ) -> (Option<String>, Option<String>) {
        let body = state
            .files
            .get(&name.to_lowercase())
            .map(|lines| index_file(lines))
            .unwrap_or_default();
        let digest = hex(&Sha256::digest(format!("{revision}\n{body}")));
        let tag = &digest[..16];
        // One second per revision, so that every change moves `Last-Modified` forward.
        let date = httpdate::fmt_http_date(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_750_000_000 + revision),
        );
        match self.validators {
            Validators::ETag => (Some(format!("\"{tag}\"")), None),
            Validators::WeakETag => (Some(format!("W/\"{tag}\"")), None),
            Validators::LastModified => (None, Some(date)),
            Validators::Both => (Some(format!("\"{tag}\"")), Some(date)),
            Validators::None => (None, None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn revision_of(&self, name: &str) -> u64 {
        self.served
            .get(&name.to_lowercase())
            .copied()
            .unwrap_or_default()
    }
}

fn index_file(lines: &[(FakeCrate, String)]) -> String {
    lines.iter().map(|(_, line)| format!("{line}\n")).collect()
}

/// Cargo's path for a crate's index file (kept here rather than taken from
/// `fetchkit-index-cache`, so that the crate under test is not its own oracle).
fn index_path(name: &str) -> String {
    let name = name.to_lowercase();
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
