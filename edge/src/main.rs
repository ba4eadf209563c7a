//! `marquee-edge`: see `edge/README.md` for flags, headers and metrics.

use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use marquee_edge::heartbeat::{self, Identity};
use marquee_edge::metrics::{self as edge_metrics, Stats};
use marquee_edge::origin_tls::OriginTls;
use marquee_edge::origins::{OriginAddr, OriginSet};
use marquee_edge::purge::{self, Purges};
use marquee_edge::ratelimit::ApiLimiter;
use marquee_edge::tokens::TokenGate;
use marquee_edge::{Args, Config, EdgeProxy, HybridStorage, h3};
use marquee_tls::{Service, Tls};
use pingora_cache::lock::{CacheKeyLockImpl, CacheLock};
use pingora_core::apps::HttpServerOptions;
use pingora_core::listeners::tls::TlsSettings;
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

// glibc's malloc and free were ~15% of a loaded edge's CPU (per-request headers, QUIC frames);
// mimalloc, as in origin, is made for many small short-lived allocations across threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    marquee_tls::install_default_provider();
    let tls = match &config.tls {
        Some(files) => Some(Tls::load(files).context("loading the edge's certificate")?),
        None => None,
    };
    let edge_id = edge_id(&config, tls.as_deref())?;
    if let Some(tls) = &tls {
        let _runtime = background.enter();
        tls.spawn_reloader(config.tls_reload);
    }
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
    let purges = Arc::new(Purges::load(&config.cache_dir));

    let gate = Arc::new(TokenGate::new(config.verifier.clone()));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let h3_shutdown = shutdown_rx.clone();
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| config.default_public_url());
    match (&config.control_plane, &tls) {
        (Some(cp), Some(tls)) => {
            let id = Identity {
                edge_id: edge_id.clone(),
                region: config.region.clone(),
                public_url: public_url.clone(),
                https_url: config.public_https_url.clone().unwrap_or_default(),
                capacity_rps: config.capacity_rps,
            };
            let client = heartbeat::client(tls).context("building the heartbeat client")?;
            let poller = purge::client(tls).context("building the purge client")?;
            background.spawn(purge::follow(
                poller,
                cp.clone(),
                purges.clone(),
                storage,
                shutdown_rx.clone(),
            ));
            background.spawn(heartbeat::run(
                client,
                cp.clone(),
                id,
                stats.clone(),
                gate.clone(),
                shutdown_rx,
            ));
        }
        (Some(_), None) => unreachable!("the config requires TLS with a control-plane"),
        (None, _) => tracing::warn!("no --control-plane given: this edge sends no heartbeats"),
    }
    let upkeep = prometheus.clone();
    let api_limiter = Arc::new(ApiLimiter::new(config.api_rate_per_sec, config.api_burst));
    let limiter = api_limiter.clone();
    background.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
            limiter.forget_idle();
        }
    });

    let conf = ServerConf {
        threads: config.threads,
        grace_period_seconds: Some(config.grace_period_secs),
        graceful_shutdown_timeout_seconds: Some(1),
        ..Default::default()
    };
    let resolved_origins = config
        .origins
        .iter()
        .map(OriginAddr::resolve)
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let proxy = EdgeProxy {
        origins: Arc::new(OriginSet::new(resolved_origins)),
        origin_tls: tls.as_deref().map(|t| Arc::new(OriginTls::new(t))),
        gate: gate.clone(),
        storage,
        lock,
        stats,
        prometheus,
        purges,
        alt_svc: config.tls_listen.map(|addr| alt_svc(addr.port())),
        api_limiter: api_limiter.clone(),
    };
    // HTTP/3 requests are served by the same proxy, driven by the h3 accept loop (see `h3`).
    let h3_proxy = Arc::new(pingora_proxy::http_proxy(
        &server.configuration,
        proxy.clone(),
    ));
    let mut service = pingora_proxy::http_proxy_service(&server.configuration, proxy);
    if let Some(app) = service.app_logic_mut() {
        // Plain listeners take HTTP/2 with prior knowledge too (HTTP/1.1 otherwise).
        let mut options = HttpServerOptions::default();
        options.h2c = true;
        app.server_options = Some(options);
    }
    if let Some(listen) = config.listen {
        service.add_tcp(&listen.to_string());
    }
    // HTTP/3 gets a runtime of its own, as many threads as Pingora's: QUIC is user-space work
    // that would otherwise queue behind the background tasks.
    let h3 = match (config.tls_listen, &tls) {
        (Some(addr), Some(tls)) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(config.threads)
                .thread_name("edge-h3")
                .enable_all()
                .build()
                .context("starting the HTTP/3 runtime")?;
            let endpoint = {
                let _runtime = runtime.enter();
                h3::bind(addr, tls).with_context(|| format!("opening UDP {addr} for HTTP/3"))?
            };
            Some((runtime, endpoint))
        }
        _ => None,
    };
    if let (Some(addr), Some(tls)) = (config.tls_listen, &tls) {
        let mut settings =
            TlsSettings::intermediate("", "").map_err(|e| anyhow::anyhow!("TLS settings: {e}"))?;
        settings.set_cert_resolver(tls.key());
        settings.enable_h2();
        service.add_tls_with_settings(&addr.to_string(), None, settings);
    }
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
    if let Some((runtime, endpoint)) = &h3 {
        runtime.spawn(h3::serve(endpoint.clone(), h3_proxy, h3_shutdown));
    }
    announce_when_listening(config.listen, config.tls_listen);
    tracing::info!(listen = ?config.listen, tls_listen = ?config.tls_listen, origins = ?config.origins, %edge_id, "edge starting");
    server.run(RunArgs::default());

    tracing::info!("edge stopped serving; closing the cache");
    background.block_on(async {
        // Let the last (draining) heartbeat go out, bounded.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), storage.close()).await;
    });
    if let Some((runtime, _)) = h3 {
        runtime.shutdown_timeout(Duration::from_secs(1));
    }
    background.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// Prints the stdout lines callers wait for once the listeners accept connections: the plain
/// one first (`http://`), then the HTTPS one (`https://`). Pingora opens every listener of the
/// service at once, so with a plain listener only that one is probed (a bare TCP probe of the
/// TLS port would be an aborted handshake).
fn announce_when_listening(listen: Option<SocketAddr>, tls_listen: Option<SocketAddr>) {
    std::thread::spawn(move || {
        let Some(probe) = listen.or(tls_listen) else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&probe, Duration::from_millis(200)).is_err() {
            if Instant::now() >= deadline {
                tracing::error!(%probe, "listener did not come up within 30 s");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(addr) = listen {
            println!("marquee-edge listening on http://{addr}");
        }
        if let Some(addr) = tls_listen {
            println!("marquee-edge listening on https://{addr}");
        }
    });
}

/// `Alt-Svc` tells browsers HTTP/3 is on the same port over UDP, for a day.
fn alt_svc(port: u16) -> http::HeaderValue {
    http::HeaderValue::from_str(&format!("h3=\":{port}\"; ma=86400"))
        .unwrap_or_else(|_| http::HeaderValue::from_static("clear"))
}

/// The id heartbeats carry: the one the certificate names. A configured id that differs is a
/// mistake the control-plane would refuse every heartbeat for, so the edge does not start.
fn edge_id(config: &Config, tls: Option<&Tls>) -> anyhow::Result<String> {
    let named = tls.map(|t| t.identity());
    if let Some(named) = named
        && named.service != Service::Edge
    {
        anyhow::bail!(
            "the certificate names {named}, not an edge: issue one with `marquee edge add ID`"
        );
    }
    match (&config.edge_id, named) {
        (Some(id), Some(named)) if *id != named.id => anyhow::bail!(
            "--edge-id is {id:?} but the certificate names edge {:?}: heartbeats would be refused; use the certificate's id or issue one for {id:?}",
            named.id
        ),
        (Some(id), _) => Ok(id.clone()),
        (None, Some(named)) => Ok(named.id.clone()),
        (None, None) => Ok("edge-1".to_owned()),
    }
}
