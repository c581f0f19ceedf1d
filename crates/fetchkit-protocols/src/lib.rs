//! Fetch protocols: configurable steps that put a package from a source URL into a folder.
//!
//! **Layer:** 2, beside `fetchkit-index-cache` and `fetchkit-lister`; it knows nothing of
//! registries or mirrors.
//!
//! A protocol is a command run in a fresh temporary folder, or one of the built-in ones
//! (download and extract a zip; download and extract a `.tar.gz`). Users define protocols in
//! `[[protocol]]` tables of TOML files laid out as the Orbit package manager lays out its own,
//! so Orbit's configuration files work as they are: `name`, `description` (or `summary`),
//! `patterns` (globs over the whole source URL: missing matches every URL, `[]` none),
//! `command` (a string or an array) and `args`.
//!
//! [`Fetcher::fetch`] runs the whole job: select the protocol, run it in a fresh temporary
//! folder beside the destination, find the package's manifest ([`find_package_root`]), check
//! Orbit's content checksum ([`content_checksum`]) and rename the package into place. The
//! temporary folder is removed on every path, cancellation through a [`CancellationToken`]
//! included. [`extract`] is the safe extraction underneath, usable alone.
//!
//! The design decisions: selection is deterministic (precedence, then declaration order,
//! where Orbit iterates a hash map); an unknown `{{ variable }}` is an error (Orbit leaves it
//! in place silently); a substituted value never starts an option (`--upload-pack=…` as a
//! source URL for `git clone`) unless the command puts `--` before it.
//!
//! ```
//! use fetchkit_protocols::{Config, ConfigSources, Selected, Variables};
//!
//! let folder = tempfile::tempdir().unwrap();
//! let file = folder.path().join("config.toml");
//! std::fs::write(&file, r#"
//! [[protocol]]
//! name = "git"
//! patterns = ["*.git"]
//! command = "git clone -b {{ orbit.ip.version }} -- {{ orbit.ip.source }}"
//! "#).unwrap();
//! let config = Config::load(&ConfigSources { explicit: Some(file), ..Default::default() }).unwrap();
//!
//! let source = "http://127.0.0.1:8000/gates.git";
//! let Selected::Configured(git) = config.select(source, None).unwrap() else { panic!() };
//! let variables = Variables {
//!     name: None,
//!     version: Some("v1.0.0".into()),
//!     source: source.into(),
//!     tmp: "/tmp/fetch".into(),
//! };
//! assert_eq!(
//!     variables.fill_command(&git.command).unwrap(),
//!     ["git", "clone", "-b", "v1.0.0", "--", source]
//! );
//! assert_eq!(config.select("http://127.0.0.1:8000/gates.zip", None).unwrap().name(), "standard");
//!
//! // Running it: `Fetcher::new(config, client, retry).fetch(&FetchRequest::new(source, dest))`
//! // clones the tag into a temporary folder and moves the package to `dest`.
//! ```

mod checksum;
mod config;
mod error;
pub mod extract;
mod fetch;
mod manifest;
mod run;
mod stream;
mod template;

pub use checksum::{ChecksumError, content_checksum};
pub use config::{Builtin, Config, ConfigSources, Protocol, Selected};
pub use error::{ConfigError, TemplateError};
pub use extract::{ExtractError, Extracted, Limits};
pub use fetch::{
    DEFAULT_MANIFEST, DEFAULT_TIMEOUT, FetchError, FetchRequest, Fetched, Fetcher, OutputSink,
    Unpacked, unpack_file,
};
pub use manifest::{ManifestError, find_package_root};
pub use template::Variables;
pub use tokio_util::sync::CancellationToken;
