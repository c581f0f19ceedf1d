//! Test helpers for fetchkit (dev-only): see the helper's module docs.
