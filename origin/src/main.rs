//! `marquee-origin`: see `--help` and origin/README.md.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use marquee_origin::{Cli, Config, server};
use tracing_subscriber::EnvFilter;

// glibc's malloc showed as ~12% of a loaded cluster's CPU (many small JSON and HTTP buffers
// freed on other threads); mimalloc is built for exactly that pattern.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,openraft=warn")),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    // One crypto provider for every TLS client in the process (S3 among them): ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Config::resolve(Cli::parse()).context("invalid configuration")?;
    let prometheus =
        marquee_origin::metrics::install().context("cannot install the metrics recorder")?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = config.worker_threads {
        runtime.worker_threads(threads);
    }
    let runtime = runtime.enable_all().build()?;
    let result = runtime.block_on(server::run(config, prometheus, shutdown_signal()));
    // A packaging run cut short by shutdown may still be in a blocking thread: do not wait
    // for it; the job is re-queued at the next start.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result.context("marquee-origin failed")
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}
