//! A typed index line, for callers that need the fields; queries never build one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Fields nobody here knows yet, kept so that nothing is lost on the way through.
pub type UnknownFields = serde_json::Map<String, serde_json::Value>;

/// One line of a registry index: one published version of a crate, with every field cargo's
/// index format defines and any others kept in [`unknown`](IndexEntry::unknown).
///
/// Serializing gives valid index JSON, but not necessarily the original bytes (field order
/// and optional fields may differ): caches and mirrors store the raw line instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The crate's name, in its original case.
    pub name: String,
    /// The version, build metadata included.
    pub vers: String,
    /// Dependencies (required by cargo, even when empty).
    pub deps: Vec<IndexDependency>,
    /// Lowercase hex SHA-256 of the `.crate` file.
    pub cksum: String,
    /// Features and what each enables.
    #[serde(default)]
    pub features: BTreeMap<String, Vec<String>>,
    /// Features using newer syntax (`dep:`, `?`), kept apart so that older cargos skip them;
    /// implies `v` of 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features2: Option<BTreeMap<String, Vec<String>>>,
    /// Whether the version is yanked.
    #[serde(default)]
    pub yanked: bool,
    /// The native library the crate links, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<String>,
    /// The index format version of this line: 1 when absent, 2 with `features2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<u32>,
    /// The minimum supported Rust version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_version: Option<String>,
    /// When the version was published (`YYYY-MM-DDTHH:MM:SSZ`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubtime: Option<String>,
    /// Any other fields.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

/// A dependency of an [`IndexEntry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDependency {
    /// The name the dependent uses (the alias, when renamed).
    pub name: String,
    /// The version requirement.
    pub req: String,
    /// Features enabled on it.
    #[serde(default)]
    pub features: Vec<String>,
    /// Whether it is optional.
    #[serde(default)]
    pub optional: bool,
    /// Whether its default features are enabled.
    #[serde(default = "yes")]
    pub default_features: bool,
    /// The `cfg` or target triple it applies to, if any.
    #[serde(default)]
    pub target: Option<String>,
    /// `normal`, `dev` or `build` (absent means normal).
    #[serde(default)]
    pub kind: Option<String>,
    /// The index URL of another registry it comes from; absent for the same registry.
    #[serde(default)]
    pub registry: Option<String>,
    /// The crate's real name, when `name` is an alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Whether it is a public dependency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// Artifact kinds, for artifact dependencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Vec<String>>,
    /// The target of an artifact dependency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindep_target: Option<String>,
    /// Whether an artifact dependency's library is also used.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lib: bool,
    /// Any other fields.
    #[serde(flatten)]
    pub unknown: UnknownFields,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_read_and_unknown_ones_are_kept() {
        let line = r#"{"name":"Foo_bar","vers":"1.2.3+meta","deps":[{"name":"alias","req":"^1","features":["x"],"optional":true,"default_features":false,"target":"cfg(unix)","kind":"dev","registry":"sparse+http://127.0.0.1/index/","package":"real","public":true,"artifact":["bin"],"bindep_target":"x86_64-unknown-linux-gnu","lib":true,"future":1},{"name":"plain","req":"*"}],"cksum":"ab","features":{"default":["x"]},"features2":{"y":["dep:plain"]},"yanked":true,"links":"z","v":2,"rust_version":"1.60","pubtime":"2026-01-02T03:04:05Z","later":[1,2]}"#;
        let entry: IndexEntry = serde_json::from_str(line).unwrap();
        assert_eq!(entry.name, "Foo_bar");
        assert_eq!(entry.vers, "1.2.3+meta");
        assert!(entry.yanked);
        assert_eq!(entry.v, Some(2));
        assert_eq!(entry.features2.as_ref().unwrap()["y"], ["dep:plain"]);
        assert_eq!(entry.unknown["later"], serde_json::json!([1, 2]));
        let alias = &entry.deps[0];
        assert_eq!(alias.package.as_deref(), Some("real"));
        assert!(!alias.default_features && alias.optional && alias.lib);
        assert_eq!(alias.unknown["future"], 1);
        let plain = &entry.deps[1];
        assert!(plain.default_features && !plain.optional && plain.kind.is_none());
        // Written and read again: the same value.
        let again: IndexEntry =
            serde_json::from_str(&serde_json::to_string(&entry).unwrap()).unwrap();
        assert_eq!(again, entry);
    }

    #[test]
    fn required_fields_are_required() {
        for line in [
            r#"{"vers":"1.0.0","deps":[],"cksum":"00"}"#,
            r#"{"name":"a","deps":[],"cksum":"00"}"#,
            r#"{"name":"a","vers":"1.0.0","cksum":"00"}"#,
            r#"{"name":"a","vers":"1.0.0","deps":[]}"#,
        ] {
            assert!(serde_json::from_str::<IndexEntry>(line).is_err(), "{line}");
        }
        let minimal: IndexEntry =
            serde_json::from_str(r#"{"name":"a","vers":"1.0.0","deps":[],"cksum":"00"}"#).unwrap();
        assert!(!minimal.yanked && minimal.features.is_empty() && minimal.unknown.is_empty());
    }
}
