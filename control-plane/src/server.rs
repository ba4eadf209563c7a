//! The async shell: axum routes over the shared registry, and the expiry sweeper.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use marquee_proto::PROTOBUF_CONTENT_TYPE;
use marquee_proto::v1::{EdgeHeartbeat, HeartbeatAck, SteeringAnswer};
use metrics_exporter_prometheus::PrometheusHandle;
use prost::Message;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::cidr::RegionMap;
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics as m;
use crate::ranker::rank;
use crate::registry::{EdgeStatus, HeartbeatError, Registry};

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
    prometheus: Option<PrometheusHandle>,
}

#[derive(Default)]
struct Inner {
    registry: Registry,
    /// Every region ever seen, so a region whose last edge left reports 0, not a stale count.
    regions_seen: BTreeSet<String>,
}

impl AppState {
    /// `prometheus` renders `/metrics`; without it `/metrics` answers an empty body.
    pub fn new(config: &Config, prometheus: Option<PrometheusHandle>) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::default(),
            regions: config.region_map(),
            default_region: config.default_region.trim().to_owned(),
            edge_timeout: config.edge_timeout(),
            heartbeat_interval_ms: config.heartbeat_interval_ms,
            edge_timeout_ms: config.edge_timeout_ms,
            prometheus,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
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
        gone
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

fn protobuf(msg: &impl Message) -> Response {
    ([(CONTENT_TYPE, PROTOBUF_CONTENT_TYPE)], msg.encode_to_vec()).into_response()
}

async fn heartbeat(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    let result = EdgeHeartbeat::decode(body)
        .map_err(|_| HeartbeatError::Undecodable)
        .and_then(EdgeStatus::from_heartbeat);
    let status = match result {
        Ok(status) => status,
        Err(e) => {
            m::heartbeat("rejected");
            return Err(e.into());
        }
    };
    m::heartbeat("accepted");
    tracing::trace!(edge_id = %status.edge_id, region = %status.region, "heartbeat");
    let now = Instant::now();
    {
        let mut inner = state.lock();
        inner.registry.record(status, now);
        state.publish_health(&mut inner, now);
    }
    Ok(protobuf(&HeartbeatAck {
        next_heartbeat_ms: state.heartbeat_interval_ms,
        edge_timeout_ms: state.edge_timeout_ms,
    }))
}

#[derive(Debug, Deserialize)]
struct SteerParams {
    client_ip: Option<String>,
    region: Option<String>,
    limit: Option<String>,
}

async fn steer(
    State(state): State<Arc<AppState>>,
    Query(params): Query<SteerParams>,
) -> Result<Response, ApiError> {
    let answer = steering_answer(&state, params, Instant::now());
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
    let edges = rank(
        inner.registry.edges(),
        &client_region,
        now,
        state.edge_timeout,
        limit,
    );
    Ok(SteeringAnswer {
        client_region,
        edges,
        generated_at_unix_ms: unix_ms(),
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
}

async fn edges(State(state): State<Arc<AppState>>) -> axum::Json<Vec<EdgeView>> {
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
        })
        .collect();
    rows.sort_by(|a, b| a.edge_id.cmp(&b.edge_id));
    axum::Json(rows)
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let body = state
        .prometheus
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
