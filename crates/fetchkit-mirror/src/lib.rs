//! The main job: list, fetch, verify and lay out a registry that cargo builds from.
//!
//! **Layer:** 3; it composes the lister, the index cache, the transport and the retry crates,
//! and is itself composed only by the `fetchkit` umbrella and the CLI.
//!
//! **Status:** not yet implemented. This crate will run resumable, journaled mirrors whose
//! every `.crate` file is verified before it is visible. Until then it exports nothing.
