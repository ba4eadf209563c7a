//! Wiring: opens the replicated state, the blob store and the signing key, serves HTTP,
//! runs the packaging worker, and shuts everything down in order.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::{Notify, watch};
use tower_http::trace::TraceLayer;

use crate::token_keys::keyring::Keyring;
use marquee_tls::{ClientAuth, Service};

use crate::accounts::throttle::PasswordThrottle;
use crate::api::{self, Ctx};
use crate::blob::peers::PeerBlobs;
use crate::blob::{BlobError, BlobStore};
use crate::config::Config;
use crate::disk::DiskGuard;
use crate::keys::{self, KeyFileError};
use crate::raft::{Cluster, GroupCommit, NodeAddrs, OpenError, Options, Replicated, group_commit};
use crate::recommendations::Recommendations;
use crate::search::index::SearchIndex;
use crate::state::Origin;
use crate::{jobs, media, notifications, recommendations, search, web};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot create the data dir {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Keys(#[from] KeyFileError),
    #[error("cannot open the blob store: {0}")]
    Blob(#[from] BlobError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the replicated state: {0}")]
    Raft(#[from] OpenError),
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot read a secret from {path}: {source}")]
    Secret {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the search index: {0}")]
    Search(String),
    #[error("this node's certificate: {0}")]
    Tls(#[from] marquee_tls::TlsError),
    #[error("--country-prefixes: {0}")]
    Countries(String),
    #[error("cannot set up email: {0}")]
    Mail(String),
    #[error("the payment gateway: {0}")]
    Gateway(String),
    #[error("could not join the cluster through {via}: {reason}")]
    Join { via: String, reason: String },
}

/// Runs the origin until `shutdown` resolves, then drains and stops.
pub async fn run(
    config: Config,
    prometheus: PrometheusHandle,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let data_dir = config.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(|source| ServerError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let signer = keys::load_or_generate(&config.token_key_file, &config.token_kid)?;
    let spec = signer.public_key_spec();
    eprintln!("token public key: {spec}");
    let pub_file = config.public_key_file();
    std::fs::write(&pub_file, &spec).map_err(|source| ServerError::DataDir {
        path: pub_file.display().to_string(),
        source,
    })?;
    let blobs = match &config.s3 {
        Some(s3) => {
            let secret = std::fs::read_to_string(&s3.secret_key_file).map_err(|source| {
                ServerError::Secret {
                    path: s3.secret_key_file.display().to_string(),
                    source,
                }
            })?;
            tracing::info!(bucket = %s3.bucket, endpoint = ?s3.endpoint, "blobs in S3");
            BlobStore::s3(s3, secret.trim())?
        }
        None => BlobStore::local(&config.blob_dir())?,
    };
    // Make the sign-in decoy hash now, so the first unknown-email sign-in is not slower.
    tokio::task::spawn_blocking(crate::accounts::auth::decoy_hash);

    let (listener, addr) = bind(config.listen).await?;
    let api_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let tls = match &config.tls {
        Some(files) => {
            let tls = marquee_tls::Tls::load(files)?;
            tls.spawn_reloader(marquee_tls::DEFAULT_RELOAD_EVERY);
            Some(tls)
        }
        None => None,
    };
    let internal = match config.internal_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let (raft, rpc_server) = open_raft(&config, api_url, &blobs, tls.as_deref()).await?;

    let min_free = config.min_free_disk_mb << 20;
    let shared_blobs = blobs.is_shared();
    let progress_window_ms = config.progress_window_ms;
    let search = Arc::new(
        SearchIndex::open(Some(&data_dir.join("search")))
            .map_err(|e| ServerError::Search(e.to_string()))?,
    );
    let recommendations = Arc::new(Recommendations::default());
    let recommend_every = Duration::from_secs(config.recommend_every_secs);
    let countries = crate::geo::Countries::load(config.country_prefixes.as_deref())
        .map_err(ServerError::Countries)?;
    let countries = Arc::new(countries);
    let gateway = crate::billing::gateway::Configured::from_config(&config, addr)
        .map_err(ServerError::Gateway)?;
    let ctx = Ctx {
        raft: raft.clone(),
        blobs,
        config: Arc::new(config),
        keys: Arc::new(Keyring::new(signer)),
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .build()?,
        control_plane: control_plane_client(tls.as_deref())?,
        passwords: Arc::new(PasswordThrottle::new(hash_slots())),
        jobs_wake: Arc::new(Notify::new()),
        // A zero window still starts the committer (job progress uses it); progress reports
        // then skip it (`Ctx::apply_batched`).
        group: GroupCommit::start(
            raft.clone(),
            std::time::Duration::from_millis(progress_window_ms).max(group_commit::MIN_WINDOW),
        ),
        peer_blobs: PeerBlobs::new(raft.clone(), shared_blobs),
        disk: Arc::new(DiskGuard::new(&data_dir, min_free)),
        search: search.clone(),
        recommendations: recommendations.clone(),
        countries,
        gateway: Arc::new(gateway),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = tokio::spawn(jobs::worker::run(ctx.clone(), stop_rx.clone()));
    let indexer = tokio::spawn(search::index::follow(search, raft.clone(), stop_rx.clone()));
    let trainer = tokio::spawn(recommendations::train_in_background(
        recommendations,
        raft.clone(),
        recommend_every,
        stop_rx.clone(),
    ));
    let mailer = match &ctx.config.mail {
        Some(mail) => {
            let viewer_url = ctx
                .config
                .viewer_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}"));
            Some(Arc::new(
                notifications::mailer::Mailer::new(mail, &viewer_url).map_err(ServerError::Mail)?,
            ))
        }
        None => None,
    };
    let key_sync = tokio::spawn(crate::token_keys::publish::run(
        ctx.clone(),
        stop_rx.clone(),
    ));
    let notifier = tokio::spawn(notifications::notifier::run(
        ctx.clone(),
        mailer,
        stop_rx.clone(),
    ));
    let biller = tokio::spawn(crate::billing::biller::run(ctx.clone(), stop_rx.clone()));
    let drain = Duration::from_secs(ctx.config.drain_timeout_secs);
    let app = app(ctx, prometheus);
    // Edges fill and services call over mutual TLS: the same app, any deployment identity.
    let internal_app = app.clone();

    let mut stop = stop_rx;
    let serve = axum::serve(
        listener.tap_io(no_delay),
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop.wait_for(|s| *s).await;
    })
    .into_future();
    let mut server = tokio::spawn(serve);
    println!("marquee-origin listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let internal_server = match (internal, &tls) {
        (Some((listener, internal_addr)), Some(tls)) => {
            let config = tls.server_config(ClientAuth::Required, &[b"h2", b"http/1.1"])?;
            let mut stop = stop_tx.subscribe();
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            let serve =
                marquee_tls::server::serve(listener, Arc::new(config), internal_app, stopped);
            println!("marquee-origin services listener on https://{internal_addr}");
            tracing::info!(%internal_addr, "services listener (mutual TLS)");
            Some(tokio::spawn(serve))
        }
        _ => None,
    };

    let early = tokio::select! {
        () = shutdown => None,
        r = &mut server => Some(r),
    };
    let _ = stop_tx.send(true);
    let served = match early {
        Some(r) => r,
        None => {
            tracing::info!(
                drain_secs = drain.as_secs(),
                "shutting down: draining requests"
            );
            match tokio::time::timeout(drain, &mut server).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!("drain timed out; closing remaining connections");
                    server.abort();
                    Ok(Ok(()))
                }
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), worker)
        .await
        .is_err()
    {
        tracing::warn!("packaging worker did not stop in time");
    }
    if tokio::time::timeout(Duration::from_secs(5), indexer)
        .await
        .is_err()
    {
        tracing::warn!("search indexer did not stop in time");
    }
    if tokio::time::timeout(Duration::from_secs(5), trainer)
        .await
        .is_err()
    {
        tracing::warn!("recommendation trainer did not stop in time");
    }
    if tokio::time::timeout(Duration::from_secs(5), key_sync)
        .await
        .is_err()
    {
        tracing::warn!("token key sync did not stop in time");
    }
    if tokio::time::timeout(Duration::from_secs(5), notifier)
        .await
        .is_err()
    {
        tracing::warn!("notifier did not stop in time");
    }
    if tokio::time::timeout(Duration::from_secs(5), biller)
        .await
        .is_err()
    {
        tracing::warn!("biller did not stop in time");
    }
    if let Err(e) = raft.shutdown().await {
        tracing::error!(error = %e, "raft shutdown failed");
    }
    if let Some(rpc) = rpc_server {
        rpc.abort();
    }
    if let Some(internal) = internal_server
        && tokio::time::timeout(Duration::from_secs(6), internal)
            .await
            .is_err()
    {
        tracing::warn!("services listener did not stop in time");
    }
    tracing::info!("stopped");
    match served {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ServerError::Serve(e)),
        Err(e) => Err(ServerError::Serve(std::io::Error::other(e))),
    }
}

/// Small answers go out at once: without it a response written in two pieces waits for the
/// peer's delayed ACK (Go's servers, etcd among them, set this on every connection).
/// The client origin asks the control-plane with: this node's certificate (reloaded when
/// renewed) and only a control-plane's certificate from the deployment CA accepted.
fn control_plane_client(tls: Option<&marquee_tls::Tls>) -> Result<reqwest::Client, ServerError> {
    let builder = match tls {
        Some(tls) => tls.http_client(Some(Service::ControlPlane))?,
        None => reqwest::Client::builder(),
    };
    Ok(builder.connect_timeout(Duration::from_secs(2)).build()?)
}

async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), ServerError> {
    let bind_error = |source| ServerError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_error)?;
    let bound = listener.local_addr().map_err(bind_error)?;
    Ok((listener, bound))
}

fn no_delay(tcp: &mut tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
}

/// Opens the replicated state: a cluster of one, or a member of a cluster with its Raft RPC
/// listener (bound and serving before Raft starts, so peers can reach it) and, for a new node
/// with `--join`, its entry into the cluster.
async fn open_raft(
    config: &Config,
    api_url: String,
    blobs: &BlobStore,
    tls: Option<&marquee_tls::Tls>,
) -> Result<(Replicated<Origin>, Option<tokio::task::JoinHandle<()>>), ServerError> {
    let Some(cluster) = &config.cluster else {
        let opts = Options {
            snapshot_every: config.snapshot_every,
            election_timeout_ms: config.election_timeout_ms,
            ..Options::default()
        };
        let raft = Replicated::open_with(&config.raft_dir(), config.node_id, api_url, opts, Origin)
            .await?;
        return Ok((raft, None));
    };
    let secret =
        std::fs::read_to_string(&cluster.secret_file).map_err(|source| ServerError::Secret {
            path: cluster.secret_file.display().to_string(),
            source,
        })?;
    let (listener, rpc_addr) = bind(cluster.listen).await?;
    // With certificates, members call each other over mutual TLS and accept only origins.
    let scheme = if tls.is_some() { "https" } else { "http" };
    let advertise = match &cluster.advertise {
        Some(a) if a.contains("://") => a.clone(),
        Some(a) => format!("{scheme}://{a}"),
        None => format!("{scheme}://{rpc_addr}"),
    };
    let (peer_tls, rpc_tls) = match tls {
        Some(tls) => (
            Some(Arc::new(tls.client_config(Some(Service::Origin), &[])?)),
            Some(Arc::new(tls.server_config(ClientAuth::Required, &[])?)),
        ),
        None => (None, None),
    };
    let me = NodeAddrs::new(advertise, api_url);
    let opts = Options {
        cluster: Cluster::Http {
            secret: secret.trim().to_owned(),
            bootstrap: cluster.bootstrap,
        },
        unsafe_local_reads: config.unsafe_local_reads,
        snapshot_every: config.snapshot_every,
        election_timeout_ms: config.election_timeout_ms,
        peer_tls,
        ..Options::default()
    };
    if config.unsafe_local_reads {
        tracing::warn!("--unsafe-local-reads: guarded reads skip read-index (tests only)");
    }
    // Raft needs its listener up before it can win or hear an election, and the router needs
    // Raft: serve a late-bound router.
    let (router_tx, router_rx) = tokio::sync::oneshot::channel::<axum::Router>();
    let rpc_server = tokio::spawn(async move {
        let Ok(router) = router_rx.await else { return };
        if let Some(config) = rpc_tls {
            let router = marquee_tls::server::allow_only(router, &[Service::Origin]);
            return marquee_tls::server::serve(listener, config, router, std::future::pending())
                .await;
        }
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener.tap_io(no_delay), service).await {
            tracing::error!(error = %e, "raft RPC listener failed");
        }
    });
    let dir = config.raft_dir();
    let raft = Replicated::open_with(&dir, config.node_id, me.clone(), opts, Origin).await?;
    let peers = PeerBlobs::new(raft.clone(), blobs.is_shared());
    let peer_blobs = crate::blob::peers::router(blobs.clone(), Arc::from(secret.trim()), peers);
    let _ = router_tx.send(raft.rpc_router().merge(peer_blobs));
    println!("marquee-origin raft rpc at {scheme}://{rpc_addr}");
    tracing::info!(%rpc_addr, node_id = config.node_id, "raft RPC listening");
    if raft.is_member() && raft.own_addrs().as_ref() != Some(&me) {
        // Restarted at other addresses: tell the cluster, once it has a leader.
        let (raft, me, node_id) = (raft.clone(), me.clone(), config.node_id);
        tokio::spawn(async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            let change = crate::raft::MembershipChange::Readdress { node_id, node: me };
            while std::time::Instant::now() < deadline {
                match raft.change_membership(change.clone()).await {
                    Ok(()) => return tracing::info!("the cluster knows this node's new addresses"),
                    Err(e) => tracing::debug!(error = %e, "readdress not done yet"),
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            tracing::warn!("could not tell the cluster this node's new addresses");
        });
    }
    if let Some(via) = &cluster.join
        && !raft.is_member()
    {
        // A bare HOST:PORT means the scheme this node's members speak.
        let via = if via.contains("://") {
            via.clone()
        } else {
            format!("{scheme}://{via}")
        };
        tracing::info!(%via, "joining the cluster");
        raft.join_via(&via, config.node_id, me)
            .await
            .map_err(|e| ServerError::Join {
                via: via.clone(),
                reason: e.to_string(),
            })?;
        tracing::info!("joined the cluster");
    }
    Ok((raft, Some(rpc_server)))
}

/// The whole HTTP app.
pub fn app(ctx: Ctx, prometheus: PrometheusHandle) -> Router {
    let web_dir = ctx.config.web_dir.clone();
    api::router()
        .route("/media/{title_id}/{*path}", get(media::serve))
        .route("/healthz", get(healthz))
        .route(
            "/metrics",
            get(move |state| crate::metrics::render(state, prometheus.clone())),
        )
        .fallback(move |req| web::fallback(web_dir.clone(), req))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(TraceLayer::new_for_http())
        .with_state(ctx)
}

/// `200 ok` plus a line of raft status; 503 while there is no leader.
async fn healthz(State(ctx): State<Ctx>) -> impl IntoResponse {
    let s = ctx.raft.status();
    let raft = format!(
        "raft: node={} role={} term={} leader={} last_applied={} last_log={}",
        s.node_id,
        s.role,
        s.current_term,
        s.leader_id.map_or("none".into(), |l| l.to_string()),
        s.last_applied_index
            .map_or("none".into(), |i| i.to_string()),
        s.last_log_index.map_or("none".into(), |i| i.to_string()),
    );
    match (s.leader_id, &s.stopped) {
        (_, Some(reason)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("raft stopped: {reason}\n{raft}\n"),
        ),
        (Some(_), None) => (StatusCode::OK, format!("ok\n{raft}\n")),
        (None, None) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no raft leader\n{raft}\n"),
        ),
    }
}

/// Password hashes allowed at once: half the cores, so sign-in floods leave the rest serving.
fn hash_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2))
}
