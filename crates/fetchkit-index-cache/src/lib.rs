//! Cargo's on-disk index cache format and a sparse-index client.
//!
//! **Layer:** 2, beside `fetchkit-protocols` and `fetchkit-lister`; it builds on
//! `fetchkit-transport` and knows nothing of mirrors or of the command line.
//!
//! **Status:** not yet implemented. This crate will read and write cargo's index cache files
//! byte for byte and fetch sparse-index entries with conditional requests. Until then it
//! exports nothing.
