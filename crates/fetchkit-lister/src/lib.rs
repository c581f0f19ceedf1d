//! Crates and versions listed from the public Rust registry's database dump, incrementally.
//!
//! **Layer:** 2, beside `fetchkit-protocols` and `fetchkit-index-cache`; it builds on
//! `fetchkit-transport` for fetching the dump and knows nothing of mirrors.
//!
//! **Status:** not yet implemented. This crate will stream-parse the dump's CSV tables and
//! keep a state so a second run lists only what changed. Until then it exports nothing.
