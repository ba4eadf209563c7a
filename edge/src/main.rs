//! `marquee-edge`: see `edge/README.md` for flags, headers and metrics.

use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use marquee_edge::heartbeat::{self, Identity};
use marquee_edge::metrics::{self as edge_metrics, Stats};
use marquee_edge::origins::OriginSet;
use marquee_edge::tokens::TokenGate;
use marquee_edge::{Args, Config, EdgeProxy, HybridStorage};
use pingora_cache::lock::{CacheKeyLockImpl, CacheLock};
use pingora_core::server::configuration::ServerConf;
use pingora_core::server::{ExecutionPhase, RunArgs, Server};
use tokio::sync::watch;

/// A fill holding the cache lock longer than this lets waiters go to origin themselves.
const CACHE_LOCK_AGE_TIMEOUT: Duration = Duration::from_secs(30);

/// pingora-cache warns at every start that no header-compression dictionary is set: expected,
/// so it is kept out of the log whatever `RUST_LOG` says.
fn quiet_expected_warnings(filter: tracing_subscriber::EnvFilter) -> tracing_subscriber::EnvFilter {
    match "pingora_cache::meta=error".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(quiet_expected_warnings(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        ))
        .init();
    let config = match Args::parse().validate() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("marquee-edge: {e}");
            return ExitCode::from(2);
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("marquee-edge: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: Config) -> anyhow::Result<()> {
    let prometheus = edge_metrics::install().context("installing the metrics recorder")?;
    // Pingora owns the main thread and its own runtimes; foyer, heartbeats and metrics upkeep
    // run here.
    let background = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("edge-background")
        .enable_all()
        .build()
        .context("starting the background runtime")?;
    std::fs::create_dir_all(&config.cache_dir)
        .with_context(|| format!("creating cache dir {}", config.cache_dir.display()))?;
    let storage = background.block_on(HybridStorage::build(
        &config.cache_dir,
        config.cache_memory_bytes,
        config.cache_disk_bytes,
        background.handle().clone(),
    ))?;
    let storage: &'static HybridStorage = Box::leak(Box::new(storage));
    let lock: &'static CacheKeyLockImpl = Box::leak(CacheLock::new_boxed(CACHE_LOCK_AGE_TIMEOUT));
    let stats = Arc::new(Stats::default());

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    match &config.control_plane {
        Some(cp) => {
            let id = Identity {
                edge_id: config.edge_id.clone(),
                region: config.region.clone(),
                public_url: config.public_url.clone(),
                capacity_rps: config.capacity_rps,
            };
            background.spawn(heartbeat::run(cp.clone(), id, stats.clone(), shutdown_rx));
        }
        None => tracing::warn!("no --control-plane given: this edge sends no heartbeats"),
    }
    let upkeep = prometheus.clone();
    background.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });

    let conf = ServerConf {
        threads: config.threads,
        grace_period_seconds: Some(config.grace_period_secs),
        graceful_shutdown_timeout_seconds: Some(1),
        ..Default::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let proxy = EdgeProxy {
        origins: Arc::new(OriginSet::new(config.origins.clone())),
        gate: TokenGate::new(config.verifier.clone()),
        storage,
        lock,
        stats,
        prometheus,
    };
    let mut service = pingora_proxy::http_proxy_service(&server.configuration, proxy);
    service.add_tcp(&config.listen.to_string());
    server.add_service(service);

    // Heartbeats report `draining` as soon as a shutdown starts.
    let mut phases = server.watch_execution_phase();
    background.spawn(async move {
        while let Ok(phase) = phases.recv().await {
            if matches!(
                phase,
                ExecutionPhase::GracefulTerminate | ExecutionPhase::ShutdownStarted
            ) {
                let _ = shutdown_tx.send(true);
                break;
            }
        }
    });
    announce_when_listening(config.listen);
    tracing::info!(listen = %config.listen, origins = ?config.origins, edge_id = %config.edge_id, "edge starting");
    server.run(RunArgs::default());

    tracing::info!("edge stopped serving; closing the cache");
    background.block_on(async {
        // Let the last (draining) heartbeat go out, bounded.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), storage.close()).await;
    });
    background.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// Prints the one stdout line callers wait for, once the listener accepts connections.
fn announce_when_listening(listen: SocketAddr) {
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&listen, Duration::from_millis(200)).is_ok() {
                println!("marquee-edge listening on http://{listen}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        tracing::error!(%listen, "listener did not come up within 30 s");
    });
}
