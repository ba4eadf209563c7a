//! `marquee-control-plane`: see the crate docs and `control-plane/README.md`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use marquee_control_plane::{AppState, Args, Config, router, run_sweeper};
use marquee_tls::{ClientAuth, DEFAULT_RELOAD_EVERY, Tls};
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::net::TcpListener;
use tokio::sync::watch;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match args.resolve() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("marquee-control-plane: {e}");
            return ExitCode::from(2);
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("marquee-control-plane: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let prometheus = PrometheusBuilder::new()
        .install_recorder()
        .context("installing the metrics recorder")?;
    let state = AppState::new(&config, Some(prometheus)).context("loading the saved drains")?;
    let tls = Tls::load(&config.tls)?;
    let server_config = tls.server_config(ClientAuth::Required, &[b"h2", b"http/1.1"])?;
    tls.spawn_reloader(DEFAULT_RELOAD_EVERY);

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        identity = %tls.identity(),
        edge_timeout_ms = config.edge_timeout_ms,
        region_prefixes = config.region_prefixes.len(),
        default_region = %config.default_region,
        "control-plane starting"
    );

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let sweeper = tokio::spawn(run_sweeper(state.clone(), shutdown_rx));

    let server = marquee_tls::server::serve(
        listener,
        std::sync::Arc::new(server_config),
        router(state),
        shutdown_signal(),
    );
    println!("marquee-control-plane listening on https://{addr}");
    std::io::stdout().flush()?;
    server.await;

    let _ = shutdown_tx.send(true);
    sweeper.await.context("joining the expiry sweeper")?;
    tracing::info!("control-plane stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
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
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received, draining connections");
}
