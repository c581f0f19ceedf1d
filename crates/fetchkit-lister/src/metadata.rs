//! Index metadata: what a cargo registry index line needs beyond a version line (features,
//! `links`, `rust_version` and dependencies), joined from `versions.csv` and
//! `dependencies.csv` when [`ListOptions::index_metadata`](crate::ListOptions) asks for it.
//!
//! The join is by version id, so it is the one place the lister keys versions by id; ids that
//! repeat among the listed versions are an error rather than a guess. `dependencies.csv` is
//! the dump's largest table: each row is looked up by its `version_id` alone and dropped
//! unless its version is kept, so only the listed versions' dependencies are held.

use std::sync::Arc;

use crate::ListError;
use crate::listing::{Chunked, IdMap};
use crate::rows::{At, DependencyRow};

/// What a cargo registry index line needs beyond a [`VersionLine`](crate::VersionLine).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionMetadata {
    /// The version's features, a JSON object of feature names to arrays of strings, as the
    /// dump wrote it (checked to have that shape); `{}` when the dump has none.
    pub features: String,
    /// The native library the version links (`package.links`).
    pub links: Option<String>,
    /// The version's minimum Rust version (`package.rust-version`); `None` also for dumps
    /// older than the column.
    pub rust_version: Option<String>,
    /// The version's dependencies, in the order of their rows in `dependencies.csv`.
    pub dependencies: Vec<Dependency>,
}

/// One dependency of a version, as `dependencies.csv` has it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dependency {
    /// The depended-on crate's name (from `crates.csv`): the registry's name for it, which a
    /// cargo index line calls `package` when the dependency is renamed.
    pub name: String,
    /// The name the dependent uses for it, when renamed (`explicit_name`).
    pub explicit_name: Option<String>,
    /// The version requirement, as written (`req`).
    pub req: String,
    /// Features enabled on it.
    pub features: Vec<String>,
    /// Whether it is optional.
    pub optional: bool,
    /// Whether its default features are enabled.
    pub default_features: bool,
    /// The `cfg(...)` or target triple it is limited to.
    pub target: Option<String>,
    /// Normal, build or dev.
    pub kind: DependencyKind,
}

/// What a dependency is for (`dependencies.csv`'s `kind`: 0, 1 or 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DependencyKind {
    /// `[dependencies]`.
    Normal,
    /// `[build-dependencies]`.
    Build,
    /// `[dev-dependencies]`.
    Dev,
}

impl DependencyKind {
    /// `normal`, `build` or `dev`, as a cargo index line spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyKind::Normal => "normal",
            DependencyKind::Build => "build",
            DependencyKind::Dev => "dev",
        }
    }
}

/// A kept version row's part of the join, at the row's number.
#[derive(Debug)]
struct Kept {
    id: i32,
    line: u64,
    metadata: VersionMetadata,
}

/// A dependency row read before its version could be told kept or not (a dump with
/// `dependencies.csv` before `versions.csv` or `crates.csv`).
#[derive(Debug)]
struct Pending {
    version_id: i32,
    crate_id: i32,
    line: u64,
    dependency: Dependency,
}

/// The join of version rows and dependency rows, fed as the members come.
#[derive(Debug, Default)]
pub(crate) struct Join {
    /// One per row the builder keeps, at the same row number.
    kept: Chunked<Kept>,
    /// Kept rows of listed crates by version id, once `crates.csv` and `versions.csv` are
    /// read: from then on a dependency row is kept or dropped as it comes.
    by_id: Option<IdMap<u32>>,
    pending: Vec<Pending>,
    crates_done: bool,
    /// `versions.csv`'s path, once it is read.
    versions_file: Option<String>,
    /// `dependencies.csv`'s path, for the errors of pending rows.
    dependencies_file: Option<String>,
    pub(crate) dependencies_read: u64,
}

impl Join {
    /// Adds the metadata of the row the builder keeps next.
    pub(crate) fn push(&mut self, id: i32, line: u64, metadata: VersionMetadata) {
        self.kept.push(Kept { id, line, metadata });
    }

    /// Counts a dependency row; whether its version may be kept.
    pub(crate) fn wants(&mut self, version_id: i32, file: &str) -> bool {
        self.dependencies_read += 1;
        match &self.by_id {
            Some(by_id) => by_id.contains_key(&version_id),
            None => {
                if self.dependencies_file.is_none() {
                    self.dependencies_file = Some(file.to_owned());
                }
                true
            }
        }
    }

    pub(crate) fn crates_done(&mut self) {
        self.crates_done = true;
    }

    pub(crate) fn versions_done(&mut self, file: &str) {
        self.versions_file = Some(file.to_owned());
    }

    /// Indexes the kept rows by version id once both tables are read, and joins the
    /// dependency rows that came before; `listed` tells a row of a listed crate (rows read
    /// before `crates.csv` may not be), `name_of` a crate id's name.
    pub(crate) fn index<'n>(
        &mut self,
        listed: impl Fn(usize) -> bool,
        name_of: impl Fn(i32) -> Option<&'n str>,
    ) -> Result<(), ListError> {
        if self.by_id.is_some() || !self.crates_done {
            return Ok(());
        }
        let Some(versions_file) = &self.versions_file else {
            return Ok(());
        };
        let mut by_id = IdMap::default();
        by_id.reserve(self.kept.count);
        for (row, kept) in self.kept.entries().enumerate() {
            if !listed(row) {
                continue;
            }
            if let Some(first) = by_id.insert(kept.id, row as u32) {
                let first = self.kept.get(first as usize).line;
                return Err(ListError::invalid_field(
                    versions_file,
                    kept.line,
                    "id",
                    kept.id.to_string().as_bytes(),
                    format!(
                        "the version id of line {first} too; dependencies are joined by \
                         version id, so listed versions need distinct ids"
                    ),
                ));
            }
        }
        self.by_id = Some(by_id);
        let file = self.dependencies_file.take().unwrap_or_default();
        for pending in std::mem::take(&mut self.pending) {
            let at = At {
                file: &file,
                line: pending.line,
            };
            self.attach(
                pending.version_id,
                pending.crate_id,
                pending.dependency,
                at,
                &name_of,
            )?;
        }
        Ok(())
    }

    /// Joins a dependency row whose version [`wants`](Join::wants) said may be kept.
    pub(crate) fn dependency<'n>(
        &mut self,
        row: DependencyRow<'_>,
        at: At<'_>,
        name_of: impl Fn(i32) -> Option<&'n str>,
    ) -> Result<(), ListError> {
        let dependency = Dependency {
            name: String::new(),
            explicit_name: row.explicit_name.map(str::to_owned),
            req: row.req.to_owned(),
            features: row.features,
            optional: row.optional,
            default_features: row.default_features,
            target: row.target.map(str::to_owned),
            kind: row.kind,
        };
        if self.by_id.is_none() {
            self.pending.push(Pending {
                version_id: row.version_id,
                crate_id: row.crate_id,
                line: at.line,
                dependency,
            });
            return Ok(());
        }
        self.attach(row.version_id, row.crate_id, dependency, at, &name_of)
    }

    fn attach<'n>(
        &mut self,
        version_id: i32,
        crate_id: i32,
        mut dependency: Dependency,
        at: At<'_>,
        name_of: &impl Fn(i32) -> Option<&'n str>,
    ) -> Result<(), ListError> {
        let Some(&row) = self.by_id.as_ref().and_then(|by_id| by_id.get(&version_id)) else {
            return Ok(());
        };
        let Some(name) = name_of(crate_id) else {
            return Err(at.error(
                "crate_id",
                crate_id.to_string().as_bytes(),
                "no crate with this id in crates.csv",
            ));
        };
        dependency.name = name.to_owned();
        self.kept
            .get_mut(row as usize)
            .metadata
            .dependencies
            .push(dependency);
        Ok(())
    }

    /// Each row's metadata where `keep` says the row is listed, else `None`.
    pub(crate) fn finish(self, keep: impl Fn(usize) -> bool) -> Vec<Option<Arc<VersionMetadata>>> {
        self.kept
            .into_values()
            .enumerate()
            .map(|(row, kept)| keep(row).then(|| Arc::new(kept.metadata)))
            .collect()
    }
}
