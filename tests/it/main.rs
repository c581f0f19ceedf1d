//! End-to-end tests of the `fetchkit` binary: each runs the built binary against a
//! `FaultServer` (or the fake Taskcluster services on one) on loopback and checks exit code,
//! stdout, stderr, the files left behind and the requests the server saw. Retry waits are skipped through the binary's
//! `FETCHKIT_TEST_NO_SLEEP` knob, so no test sleeps.

mod download;
mod index;
mod list;
mod mirror;
mod protocols;
mod support;
mod taskcluster;
