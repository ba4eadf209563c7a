//! The async shell: axum routes over the shared registry, and the expiry sweeper. Every route
//! reads the caller's identity from its verified certificate ([`PeerIdentity`], put there by
//! [`marquee_tls::server::serve`]) and checks it before anything else.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use marquee_proto::PROTOBUF_CONTENT_TYPE;
use marquee_proto::v1::{EdgeHeartbeat, HeartbeatAck, SteeringAnswer};
use marquee_tls::server::PeerIdentity;
use marquee_tls::{Identity, Service};
use metrics_exporter_prometheus::PrometheusHandle;
use prost::Message;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::cidr::RegionMap;
use crate::config::Config;
use crate::error::{ApiError, parse_json};
use crate::metrics as m;
use crate::purge::PurgeLog;
use crate::ranker::{keep_current, rank};
use crate::registry::{EdgeStatus, HeartbeatError, Registry};
use crate::token_keys::TokenKeys;
use crate::token_keys_api;

/// Edges returned when the client asks for no particular number.
pub const DEFAULT_LIMIT: usize = 4;
/// Most edges one answer may hold.
pub const MAX_LIMIT: usize = 64;
/// Heartbeats are a few hundred bytes; refuse anything far larger before decoding.
const MAX_HEARTBEAT_BYTES: usize = 64 * 1024;

/// State shared by handlers and the sweeper.
pub struct AppState {
    inner: Mutex<Inner>,
    regions: RegionMap,
    default_region: String,
    edge_timeout: Duration,
    heartbeat_interval_ms: u32,
    edge_timeout_ms: u32,
    steering_ttl_secs: u32,
    prometheus: Option<PrometheusHandle>,
    /// Where operators' drains are kept (`drained.json`), when configured.
    drained_file: Option<PathBuf>,
    purges: PurgeHub,
    pub(crate) token_keys: KeyHub,
    /// Bumped at every accepted heartbeat, for callers waiting on edges to catch up.
    pub(crate) heartbeats: watch::Sender<u64>,
}

/// The published token keys, saved in the state directory.
pub(crate) struct KeyHub {
    pub(crate) keys: Mutex<TokenKeys>,
    pub(crate) file: Option<PathBuf>,
}

impl KeyHub {
    pub(crate) fn lock(&self) -> MutexGuard<'_, TokenKeys> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `change` to a copy, saves it, then makes it current: a key change a restarted
    /// control-plane forgot would strand edges or tokens.
    pub(crate) fn change<T>(
        &self,
        change: impl FnOnce(&mut TokenKeys) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut keys = self.lock();
        let mut next = keys.clone();
        let out = change(&mut next)?;
        if next != *keys {
            if let Some(file) = &self.file {
                save_json(file, &next).map_err(|e| ApiError::NotSaved(e.to_string()))?;
            }
            *keys = next;
        }
        Ok(out)
    }
}

/// The purge log and who has applied how much of it.
struct PurgeHub {
    log: Mutex<PurgeLog>,
    /// The newest seq, for edges waiting on a poll.
    latest: watch::Sender<u64>,
    /// The seq each edge last polled after (it has applied everything up to it).
    applied: Mutex<HashMap<String, u64>>,
    /// Bumped at every poll, for purges waiting on edges.
    polled: watch::Sender<u64>,
    file: Option<PathBuf>,
}

impl PurgeHub {
    fn load(file: Option<PathBuf>) -> Result<Self, std::io::Error> {
        let log: PurgeLog = match &file {
            Some(f) => load_json(f)?.unwrap_or_default(),
            None => PurgeLog::default(),
        };
        Ok(Self {
            latest: watch::Sender::new(log.latest()),
            log: Mutex::new(log),
            applied: Mutex::default(),
            polled: watch::Sender::new(0),
            file,
        })
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) registry: Registry,
    /// Every region ever seen, so a region whose last edge left reports 0, not a stale count.
    regions_seen: BTreeSet<String>,
}

impl AppState {
    /// `prometheus` renders `/metrics`; without it `/metrics` answers an empty body. Drains
    /// saved in the state directory are loaded.
    pub fn new(
        config: &Config,
        prometheus: Option<PrometheusHandle>,
    ) -> Result<Arc<Self>, std::io::Error> {
        let drained_file = config.state_dir.as_ref().map(|d| d.join("drained.json"));
        let mut inner = Inner::default();
        if let Some(file) = &drained_file {
            let drained: BTreeSet<String> = load_json(file)?.unwrap_or_default();
            for id in drained {
                inner.registry.set_drained(&id, true);
            }
        }
        let purges = PurgeHub::load(config.state_dir.as_ref().map(|d| d.join("purges.json")))?;
        let keys_file = config.state_dir.as_ref().map(|d| d.join("token-keys.json"));
        let token_keys = KeyHub {
            keys: Mutex::new(match &keys_file {
                Some(f) => load_json(f)?.unwrap_or_default(),
                None => TokenKeys::default(),
            }),
            file: keys_file,
        };
        Ok(Arc::new(Self {
            inner: Mutex::new(inner),
            regions: config.region_map(),
            default_region: config.default_region.trim().to_owned(),
            edge_timeout: config.edge_timeout(),
            heartbeat_interval_ms: config.heartbeat_interval_ms,
            edge_timeout_ms: config.edge_timeout_ms,
            steering_ttl_secs: config.steering_ttl_secs,
            prometheus,
            drained_file,
            purges,
            token_keys,
            heartbeats: watch::Sender::new(0),
        }))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the registry half-updated (every update
        // is a single insert/remove), so a poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops stale edges and refreshes the per-region gauges.
    pub fn sweep(&self, now: Instant) -> Vec<String> {
        let mut inner = self.lock();
        let gone = inner.registry.expire(now, self.edge_timeout);
        for id in &gone {
            tracing::info!(edge_id = %id, "edge expired: no heartbeat within the timeout");
        }
        m::edges_expired(gone.len());
        self.publish_health(&mut inner, now);
        drop(inner);
        let swept = self
            .token_keys
            .change(|keys| Ok(keys.sweep(unix_ms() / 1000)));
        match swept {
            Ok(true) => tracing::info!("retired token keys dropped from the set"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "retired token keys not dropped yet"),
        }
        gone
    }

    /// The edge timeout: an edge heard from within it is live.
    pub(crate) fn edge_timeout(&self) -> Duration {
        self.edge_timeout
    }

    fn publish_health(&self, inner: &mut Inner, now: Instant) {
        let counts = inner.registry.healthy_by_region(now, self.edge_timeout);
        inner.regions_seen.extend(counts.keys().cloned());
        for region in &inner.regions_seen {
            m::healthy_edges(region, counts.get(region).copied().unwrap_or(0));
        }
    }
}

/// All routes of the control-plane.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/heartbeat", post(heartbeat))
        .route("/v1/steer", get(steer))
        .route("/v1/edges", get(edges))
        .route("/v1/edges/{id}/drain", post(drain))
        .route("/v1/edges/{id}/restore", post(restore))
        .route("/v1/purge", post(purge))
        .route("/v1/purges", get(purges))
        .route("/v1/token-keys", get(token_keys_api::set))
        .route(
            "/v1/token-keys/{kid}",
            get(token_keys_api::status).put(token_keys_api::publish),
        )
        .route("/v1/token-keys/{kid}/retire", post(token_keys_api::retire))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_HEARTBEAT_BYTES))
        .with_state(state)
}

/// Removes expired edges every quarter timeout until `shutdown` turns true (or its sender is
/// dropped). Cancel-safe: each sweep runs under one lock.
pub async fn run_sweeper(state: Arc<AppState>, mut shutdown: watch::Receiver<bool>) {
    let period = (state.edge_timeout / 4).max(Duration::from_millis(50));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            _ = tick.tick() => {
                state.sweep(Instant::now());
                if let Some(p) = &state.prometheus {
                    p.run_upkeep();
                }
            }
        }
    }
    tracing::debug!("expiry sweeper stopped");
}

pub(crate) fn protobuf(msg: &impl Message) -> Response {
    ([(CONTENT_TYPE, PROTOBUF_CONTENT_TYPE)], msg.encode_to_vec()).into_response()
}

/// The caller's identity, if it is one of `allowed`.
pub(crate) fn caller<'a>(
    peer: &'a PeerIdentity,
    action: &'static str,
    allowed: &[Service],
    allowed_text: &'static str,
) -> Result<&'a Identity, ApiError> {
    let who = peer.0.as_ref().ok_or(ApiError::Unauthenticated)?;
    if allowed.contains(&who.service) {
        Ok(who)
    } else {
        Err(ApiError::Forbidden {
            who: who.to_string(),
            action,
            allowed: allowed_text,
        })
    }
}

async fn heartbeat(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let result = accept_heartbeat(&state, &peer, body);
    match &result {
        Ok(()) => m::heartbeat("accepted", "ok"),
        Err(e) => {
            m::heartbeat("rejected", e.code());
            // A refusal is news to an operator (a misconfigured or hostile caller).
            tracing::warn!(peer = ?peer.0, code = e.code(), reason = %e, "heartbeat refused");
        }
    }
    result?;
    state.heartbeats.send_modify(|n| *n = n.wrapping_add(1));
    Ok(protobuf(&HeartbeatAck {
        next_heartbeat_ms: state.heartbeat_interval_ms,
        edge_timeout_ms: state.edge_timeout_ms,
        token_keys_version: state.token_keys.lock().version(),
    }))
}

fn accept_heartbeat(state: &AppState, peer: &PeerIdentity, body: Bytes) -> Result<(), ApiError> {
    let edge = caller(peer, "send heartbeats", &[Service::Edge], "edges")?;
    let status = EdgeHeartbeat::decode(body)
        .map_err(|_| HeartbeatError::Undecodable)
        .and_then(EdgeStatus::from_heartbeat)?;
    if status.edge_id != edge.id {
        return Err(ApiError::NotThisEdge {
            certificate: edge.to_string(),
            claimed: status.edge_id,
        });
    }
    tracing::trace!(edge_id = %status.edge_id, region = %status.region, "heartbeat");
    let now = Instant::now();
    let mut inner = state.lock();
    inner.registry.record(status, now, unix_ms())?;
    state.publish_health(&mut inner, now);
    Ok(())
}

#[derive(Debug, Deserialize)]
struct SteerParams {
    client_ip: Option<String>,
    region: Option<String>,
    limit: Option<String>,
    /// The edge (content-steering pathway) the player streams from now: it stays first
    /// while it is about as good as the best, so players do not hop between equal edges.
    current: Option<String>,
}

pub(crate) const FLEET_READERS: &[Service] = &[Service::Origin, Service::Operator];

async fn steer(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Query(params): Query<SteerParams>,
) -> Result<Response, ApiError> {
    let answer = caller(
        &peer,
        "steer viewers",
        FLEET_READERS,
        "origin and operators",
    )
    .and_then(|_| steering_answer(&state, params, Instant::now()));
    m::steering_request(match &answer {
        Ok(_) => "ok",
        Err(e) => e.code(),
    });
    Ok(protobuf(&answer?))
}

fn steering_answer(
    state: &AppState,
    params: SteerParams,
    now: Instant,
) -> Result<SteeringAnswer, ApiError> {
    let limit = parse_limit(params.limit.as_deref())?;
    let client_region = client_region(state, &params)?;
    let inner = state.lock();
    let mut edges = rank(
        inner.registry.edges(),
        &client_region,
        now,
        state.edge_timeout,
        limit,
    );
    if let Some(current) = params.current.as_deref() {
        keep_current(&mut edges, current.trim());
    }
    Ok(SteeringAnswer {
        client_region,
        edges,
        generated_at_unix_ms: unix_ms(),
        ttl_secs: state.steering_ttl_secs,
    })
}

fn parse_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::BadLimit(s.to_owned())),
    }
}

/// Explicit region, else longest-prefix match of the client address, else the default.
/// A malformed `client_ip` is refused even when `region` is given: it is a caller bug.
fn client_region(state: &AppState, params: &SteerParams) -> Result<String, ApiError> {
    let ip = match params.client_ip.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Some(
            s.parse::<IpAddr>()
                .map_err(|_| ApiError::BadClientIp(s.to_owned()))?,
        ),
        _ => None,
    };
    let region = params
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match (region, ip) {
        (Some(region), _) => Ok(region.to_owned()),
        (None, Some(ip)) => Ok(state
            .regions
            .lookup(ip)
            .unwrap_or(&state.default_region)
            .to_owned()),
        (None, None) => Err(ApiError::NoClientLocation),
    }
}

/// One row of `GET /v1/edges`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct EdgeView {
    pub edge_id: String,
    pub region: String,
    pub public_url: String,
    pub last_seen_ms_ago: u64,
    pub healthy: bool,
    pub draining: bool,
    /// `active_requests / capacity_rps`; null when the edge does not know its capacity.
    pub load: Option<f64>,
    pub active_requests: u32,
    pub capacity_rps: u32,
    /// An operator took it out of steering.
    pub drained: bool,
    /// Since the edge started: requests, cache hits over hits and misses (null before any
    /// cacheable request), bytes sent to viewers.
    pub requests_total: u64,
    pub hit_ratio: Option<f64>,
    pub bytes_served_total: u64,
}

async fn edges(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
) -> Result<axum::Json<Vec<EdgeView>>, ApiError> {
    caller(&peer, "list edges", FLEET_READERS, "origin and operators")?;
    let now = Instant::now();
    let inner = state.lock();
    let mut rows: Vec<EdgeView> = inner
        .registry
        .edges()
        .map(|r| EdgeView {
            edge_id: r.status.edge_id.clone(),
            region: r.status.region.clone(),
            public_url: r.status.public_url.clone(),
            last_seen_ms_ago: now.saturating_duration_since(r.last_seen).as_millis() as u64,
            healthy: r.is_fresh(now, state.edge_timeout),
            draining: r.status.draining,
            load: (r.status.capacity_rps > 0).then(|| r.status.load()),
            active_requests: r.status.active_requests,
            capacity_rps: r.status.capacity_rps,
            drained: r.drained,
            requests_total: r.status.requests_total,
            hit_ratio: hit_ratio(r.status.cache_hits_total, r.status.cache_misses_total),
            bytes_served_total: r.status.bytes_served_total,
        })
        .collect();
    rows.sort_by(|a, b| a.edge_id.cmp(&b.edge_id));
    Ok(axum::Json(rows))
}

/// Hits over hits and misses, `None` before any cacheable request.
fn hit_ratio(hits: u64, misses: u64) -> Option<f64> {
    let total = hits + misses;
    (total > 0).then(|| hits as f64 / total as f64)
}

/// What `drain` and `restore` answer.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct DrainAnswer {
    pub edge_id: String,
    pub drained: bool,
    /// False when the edge already was in that state.
    pub changed: bool,
}

async fn drain(
    state: State<Arc<AppState>>,
    peer: Extension<PeerIdentity>,
    id: Path<String>,
) -> Result<axum::Json<DrainAnswer>, ApiError> {
    set_drained(state, peer, id, true)
}

async fn restore(
    state: State<Arc<AppState>>,
    peer: Extension<PeerIdentity>,
    id: Path<String>,
) -> Result<axum::Json<DrainAnswer>, ApiError> {
    set_drained(state, peer, id, false)
}

/// Operators only: an edge cannot drain itself or another (it stops by shutting down).
fn set_drained(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Path(edge_id): Path<String>,
    drained: bool,
) -> Result<axum::Json<DrainAnswer>, ApiError> {
    let who = caller(&peer, "drain edges", &[Service::Operator], "operators")?;
    Identity::new(Service::Edge, &edge_id).map_err(|_| ApiError::BadEdgeId(edge_id.clone()))?;
    let now = Instant::now();
    let mut inner = state.lock();
    let mut after = inner.registry.drained().clone();
    let changed = if drained {
        after.insert(edge_id.clone())
    } else {
        after.remove(&edge_id)
    };
    // Saved first: a drain the next restart would forget is not done.
    if changed && let Some(file) = &state.drained_file {
        save_json(file, &after).map_err(|e| ApiError::NotSaved(e.to_string()))?;
    }
    inner.registry.set_drained(&edge_id, drained);
    state.publish_health(&mut inner, now);
    tracing::info!(%edge_id, drained, by = %who, "operator changed an edge's drain");
    Ok(axum::Json(DrainAnswer {
        edge_id,
        drained,
        changed,
    }))
}

/// A JSON file written by [`save_json`]; `None` when it does not exist yet.
fn load_json<T: serde::de::DeserializeOwned>(
    file: &std::path::Path,
) -> Result<Option<T>, std::io::Error> {
    match std::fs::read(file) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", file.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Written beside and renamed over, so a crash leaves the old contents or the new.
fn save_json(file: &std::path::Path, value: &impl Serialize) -> Result<(), std::io::Error> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value)?)?;
    std::fs::rename(&tmp, file)
}

/// `POST /v1/purge`: what to drop, and how long to wait for the edges to confirm.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeRequest {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub titles: Vec<String>,
    /// Wait up to this long for every live edge to apply it [default 2000, at most 10000].
    pub wait_ms: Option<u64>,
}

/// The answer: the purge's number, the edges that applied it, those that had not yet.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct PurgeAnswer {
    pub seq: u64,
    pub applied_by: Vec<String>,
    pub pending: Vec<String>,
    pub waited_ms: u64,
}

/// A long poll is held this long when there is nothing new.
const POLL_HOLD: Duration = Duration::from_secs(20);

async fn purge(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    body: Bytes,
) -> Result<axum::Json<PurgeAnswer>, ApiError> {
    let who = caller(&peer, "purge", FLEET_READERS, "origin and operators")?;
    let req: PurgeRequest = parse_json(&body)?;
    let targets = crate::purge::targets(&req.paths, &req.titles)?;
    let count = targets.len();
    let seq = {
        let hub = &state.purges;
        let mut log = hub.log.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = log.clone();
        let seq = next.add(targets);
        // Saved first: a purge a restarted control-plane forgot would leave edges serving it.
        if let Some(file) = &hub.file {
            save_json(file, &next).map_err(|e| ApiError::NotSaved(e.to_string()))?;
        }
        *log = next;
        hub.latest.send_replace(seq);
        seq
    };
    m::purges(count);
    tracing::info!(seq, count, by = %who, "purge ordered");
    let started = Instant::now();
    let limit = Duration::from_millis(req.wait_ms.unwrap_or(2000).min(10_000));
    let mut polled = state.purges.polled.subscribe();
    loop {
        let (applied_by, pending) = purge_progress(&state, seq);
        let waited = started.elapsed();
        if pending.is_empty() || waited >= limit {
            return Ok(axum::Json(PurgeAnswer {
                seq,
                applied_by,
                pending,
                waited_ms: waited.as_millis() as u64,
            }));
        }
        let _ = tokio::time::timeout(limit - waited, polled.changed()).await;
    }
}

/// Live edges (heard from within the timeout) that have and have not applied purge `seq`.
fn purge_progress(state: &AppState, seq: u64) -> (Vec<String>, Vec<String>) {
    let now = Instant::now();
    let live: Vec<String> = state
        .lock()
        .registry
        .edges()
        .filter(|r| r.is_fresh(now, state.edge_timeout))
        .map(|r| r.status.edge_id.clone())
        .collect();
    let applied = state
        .purges
        .applied
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let (mut done, mut pending): (Vec<String>, Vec<String>) = live
        .into_iter()
        .partition(|id| applied.get(id).is_some_and(|&a| a >= seq));
    done.sort();
    pending.sort();
    (done, pending)
}

#[derive(Debug, Deserialize)]
struct PollParams {
    after: Option<String>,
}

/// `GET /v1/purges?after=SEQ`, edges only: answers at once when there is something newer than
/// SEQ, else when there is, or after [`POLL_HOLD`] with nothing.
async fn purges(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Query(params): Query<PollParams>,
) -> Result<Response, ApiError> {
    let edge = caller(&peer, "poll purges", &[Service::Edge], "edges")?;
    let raw = params.after.unwrap_or_default();
    let after: u64 = raw.trim().parse().map_err(|_| ApiError::BadAfter(raw))?;
    let hub = &state.purges;
    hub.applied
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(edge.id.clone(), after);
    hub.polled.send_modify(|n| *n = n.wrapping_add(1));
    let mut latest = hub.latest.subscribe();
    if *latest.borrow_and_update() == after {
        let _ = tokio::time::timeout(POLL_HOLD, latest.wait_for(|l| *l != after)).await;
    }
    let batch = hub
        .log
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .since(after);
    Ok(protobuf(&batch))
}

/// Any service of the deployment may scrape (Prometheus with an operator certificate).
async fn metrics(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
) -> Response {
    if peer.0.is_none() {
        return ApiError::Unauthenticated.into_response();
    }
    let body = state
        .prometheus
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
