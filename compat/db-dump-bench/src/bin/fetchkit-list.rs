//! `fetchkit_lister::list_from_path`, a full listing of a local dump with the benchmark's
//! templates: the stand-in for `fetchkit list crates` while the built CLI lacks that command.
//! Builds every origin, as the CLI does before writing it, but serialises nothing. Prints the
//! counts.
//!
//! Usage: `fetchkit-list DUMP.tar.gz CRATE_FILE_TEMPLATE ORIGIN_TEMPLATE`

use anyhow::Context;
use fetchkit_lister::{ListOptions, Templates, list_from_path};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, crate_file, origin] = args.as_slice() else {
        anyhow::bail!("usage: fetchkit-list DUMP.tar.gz CRATE_FILE_TEMPLATE ORIGIN_TEMPLATE");
    };
    let templates = Templates::new(crate_file.as_str(), origin.as_str())?;
    let options = ListOptions::new(templates.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("cannot start a tokio runtime")?;
    let listing = runtime
        .block_on(list_from_path(path, &options))
        .with_context(|| format!("{path}: listing failed"))?;
    let mut origins = 0usize;
    let mut artifacts = 0usize;
    for page in listing.pages() {
        let origin = page.origin(&templates);
        artifacts += origin.extra_loader_arguments.artifacts.len();
        origins += 1;
    }
    println!("{origins} origins, {artifacts} artifacts");
    Ok(())
}
