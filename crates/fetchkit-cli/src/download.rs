//! `fetchkit download`: one URL to a file or stdout, with the flags turned into library calls.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use fetchkit::transport::{Download, download_to_file, download_with_factory};

use crate::cli::DownloadArgs;
use crate::logging;
use crate::progress::Bar;
use crate::stdout::StdoutFactory;
use crate::transfer::{self, Destination};

pub(crate) async fn run(args: DownloadArgs) -> anyhow::Result<()> {
    let mut download = Download::parse(&args.url)?;
    if let Some(size) = args.size {
        download = download.size(size);
    }
    if let Some(sha256) = args.sha256 {
        download = download.sha256(sha256);
    }
    if let Some(sha512) = args.sha512 {
        download = download.sha512(sha512);
    }
    let destination = Destination::check(&args.output)?;

    let client = transfer::client_builder(&args.transfer).build()?;
    let retry = transfer::retry(&args.transfer);
    let quiet = args.transfer.quiet;
    let bar = Bar::for_stderr(quiet).map(Arc::new);
    if let Some(bar) = &bar {
        logging::set_progress_bar(bar.handle().clone());
        download = download.progress(bar.clone());
    }

    let started = Instant::now();
    let result = match &destination {
        Destination::Stdout => {
            download_with_factory(&client, &retry, &download, &mut StdoutFactory::new()).await
        }
        Destination::File(path) => download_to_file(&client, &retry, &download, path).await,
        Destination::Stream(path) => {
            let mut factory = StdoutFactory::open(path)
                .await
                .with_context(|| format!("{}: cannot open for writing", path.display()))?;
            download_with_factory(&client, &retry, &download, &mut factory).await
        }
    };
    if let Some(bar) = &bar {
        bar.clear();
        logging::clear_progress_bar();
    }
    let done = result?;

    if !quiet {
        let line = transfer::summary(&done, &destination.name(), started.elapsed(), None);
        eprintln!("{line}");
    }
    Ok(())
}
