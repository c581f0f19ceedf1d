//! Software Heritage's view of a page: one origin per crate, with the artifacts its loader
//! fetches.

use serde::Serialize;

use fetchkit_transport::Sha256Digest;

use crate::listing::Hex;
use crate::{DumpTime, Page, Templates, Timestamp};

/// One crate as Software Heritage's `crates` loader expects it (a `ListedOrigin`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Origin {
    /// The crate's origin URL, from the origin template.
    pub url: String,
    /// Always `crates`.
    pub visit_type: &'static str,
    /// The `updated_at` of the page's *first* version (in page order), as Software Heritage's
    /// lister takes it; `None` for a page without versions (a listing never has one).
    pub last_update: Option<Timestamp>,
    /// What the loader gets.
    pub extra_loader_arguments: LoaderArguments,
}

/// The loader arguments of an [`Origin`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LoaderArguments {
    /// One per version, in page order.
    pub artifacts: Vec<Artifact>,
    /// One per version, in page order (the loader argument Software Heritage's lister sent
    /// from 2022-09 to 2024-08).
    pub crates_metadata: Vec<CrateMetadata>,
}

/// A crate file to fetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Artifact {
    /// The version number.
    pub version: String,
    /// `{name}-{version}.crate`.
    pub filename: String,
    /// The crate file's URL.
    pub url: String,
    /// Its digests.
    pub checksums: Checksums,
}

/// The digests of an [`Artifact`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checksums {
    /// SHA-256, serialized as lower-case hex.
    pub sha256: Sha256Digest,
}

impl Serialize for Checksums {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut checksums = serializer.serialize_struct("Checksums", 1)?;
        checksums.serialize_field("sha256", &Hex(&self.sha256))?;
        checksums.end()
    }
}

/// A version's metadata for the loader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CrateMetadata {
    /// The version number.
    pub version: String,
    /// Whether it is yanked.
    pub yanked: bool,
    /// Its `updated_at`, as the dump wrote it.
    pub last_update: DumpTime,
}

impl Page {
    /// The page as an origin: URL from `templates`' origin template; the artifacts' URLs are
    /// the lines' `crate_file` (made with the listing's templates).
    pub fn origin(&self, templates: &Templates) -> Origin {
        Origin {
            url: templates.origin_url(&self.name),
            visit_type: "crates",
            last_update: self
                .versions
                .first()
                .map(|line| line.last_update.timestamp()),
            extra_loader_arguments: LoaderArguments {
                artifacts: self
                    .versions
                    .iter()
                    .map(|line| Artifact {
                        version: line.version.clone(),
                        filename: line.filename(),
                        url: line.crate_file.clone(),
                        checksums: Checksums {
                            sha256: line.checksum,
                        },
                    })
                    .collect(),
                crates_metadata: self
                    .versions
                    .iter()
                    .map(|line| CrateMetadata {
                        version: line.version.clone(),
                        yanked: line.yanked,
                        last_update: line.last_update,
                    })
                    .collect(),
            },
        }
    }
}
