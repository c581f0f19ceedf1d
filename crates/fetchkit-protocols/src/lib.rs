//! Fetch protocols: configurable steps that put a package from a source URL into a folder.
//!
//! **Layer:** 2, beside `fetchkit-index-cache` and `fetchkit-lister`; it builds on
//! `fetchkit-transport` and `fetchkit-retry` and knows nothing of registries or mirrors.
//!
//! **Status:** not yet implemented. This crate will hold the HTTP zip, tarball, git and
//! arbitrary-command protocols, Orbit-compatible configuration, and extraction that refuses
//! paths escaping the destination. Until then it exports nothing, so nothing can depend on
//! behaviour that does not exist.
