//! `/v1/token-keys`: origin (or an operator) publishes and retires playback-token public keys
//! and waits until every live edge holds a new one; edges fetch the whole set.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use marquee_tls::Service;
use marquee_tls::server::PeerIdentity;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, parse_json};
use crate::server::{AppState, FLEET_READERS, caller, protobuf};
use crate::token_keys::KeyError;

/// Longest a status request may wait for edges to catch up.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// `PUT /v1/token-keys/{kid}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The raw 32-byte Ed25519 public key, base64url without padding.
    pub public_key: String,
}

/// `POST /v1/token-keys/{kid}/retire`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetireRequest {
    /// When edges stop accepting the key (Unix seconds).
    pub at_unix: u64,
}

#[derive(Debug, Deserialize)]
pub struct StatusParams {
    wait_ms: Option<String>,
}

/// Which live edges hold a key.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct KeyStatus {
    pub kid: String,
    /// The key-set version that first held it.
    pub added_in: u64,
    pub retire_at_unix: Option<u64>,
    /// Live edges verifying with it.
    pub holding: Vec<String>,
    /// Live edges still on an older set.
    pub missing: Vec<String>,
    /// Every live edge holds it: origin may sign with it.
    pub ready: bool,
}

fn key_status(state: &AppState, kid: &str) -> Result<KeyStatus, ApiError> {
    let entry = state
        .token_keys
        .lock()
        .get(kid)
        .cloned()
        .ok_or_else(|| KeyError::Unknown(kid.to_owned()))?;
    let now = Instant::now();
    let inner = state.lock();
    let live = inner
        .registry
        .edges()
        .filter(|r| r.is_fresh(now, state.edge_timeout()));
    let (holding, missing): (Vec<_>, Vec<_>) =
        live.partition(|r| r.status.token_keys_version >= entry.added_in);
    let ids = |rows: Vec<&crate::EdgeRecord>| {
        let mut ids: Vec<String> = rows.iter().map(|r| r.status.edge_id.clone()).collect();
        ids.sort();
        ids
    };
    let missing = ids(missing);
    Ok(KeyStatus {
        kid: kid.to_owned(),
        added_in: entry.added_in,
        retire_at_unix: entry.retire_at_unix,
        holding: ids(holding),
        ready: missing.is_empty(),
        missing,
    })
}

/// Edges fetch the set when their heartbeat's acknowledgement names another version.
pub(crate) async fn set(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
) -> Result<Response, ApiError> {
    caller(
        &peer,
        "read token keys",
        &[Service::Edge, Service::Origin, Service::Operator],
        "edges, origin and operators",
    )?;
    let set = state.token_keys.lock().set();
    Ok(protobuf(&set))
}

pub(crate) async fn publish(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Path(kid): Path<String>,
    body: Bytes,
) -> Result<axum::Json<KeyStatus>, ApiError> {
    let who = caller(
        &peer,
        "publish token keys",
        FLEET_READERS,
        "origin and operators",
    )?;
    let req: PublishRequest = parse_json(&body)?;
    let key = URL_SAFE_NO_PAD
        .decode(req.public_key.trim())
        .map_err(|_| KeyError::BadKey)?;
    let added = state
        .token_keys
        .change(|keys| Ok(keys.publish(&kid, key)?))?;
    if added {
        tracing::info!(%kid, by = %who, "token key published");
    }
    Ok(axum::Json(key_status(&state, &kid)?))
}

/// Answers at once when every live edge holds `kid` (or `wait_ms` is 0), else when they all
/// do or `wait_ms` has passed, whichever is first.
pub(crate) async fn status(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Path(kid): Path<String>,
    Query(params): Query<StatusParams>,
) -> Result<axum::Json<KeyStatus>, ApiError> {
    caller(
        &peer,
        "read token keys",
        FLEET_READERS,
        "origin and operators",
    )?;
    let wait = match params.wait_ms.as_deref().map(str::trim) {
        None | Some("") => Duration::ZERO,
        Some(raw) => raw
            .parse::<u64>()
            .map(Duration::from_millis)
            .ok()
            .filter(|w| *w <= MAX_WAIT)
            .ok_or_else(|| ApiError::BadWait(raw.to_owned()))?,
    };
    let deadline = Instant::now() + wait;
    let mut beats = state.heartbeats.subscribe();
    loop {
        let status = key_status(&state, &kid)?;
        let left = deadline.saturating_duration_since(Instant::now());
        if status.ready || left.is_zero() {
            return Ok(axum::Json(status));
        }
        let _ = tokio::time::timeout(left, beats.changed()).await;
    }
}

pub(crate) async fn retire(
    State(state): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
    Path(kid): Path<String>,
    body: Bytes,
) -> Result<axum::Json<KeyStatus>, ApiError> {
    let who = caller(
        &peer,
        "retire token keys",
        FLEET_READERS,
        "origin and operators",
    )?;
    let req: RetireRequest = parse_json(&body)?;
    state
        .token_keys
        .change(|keys| Ok(keys.retire(&kid, req.at_unix)?))?;
    tracing::info!(%kid, at_unix = req.at_unix, by = %who, "token key retirement set");
    Ok(axum::Json(key_status(&state, &kid)?))
}
