//! JSON shapes of the fleet admin API.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One edge as the control-plane last heard from it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FleetEdge {
    pub edge_id: String,
    pub region: String,
    /// Where viewers reach it.
    pub public_url: String,
    /// Heard from within the control-plane's timeout.
    pub healthy: bool,
    /// Shutting down: finishing its viewers, taking no new ones.
    pub draining: bool,
    /// Taken out of steering by an operator.
    pub drained: bool,
    pub last_seen_ms_ago: u64,
    /// Active requests over its declared capacity; absent when it declares none.
    pub load: Option<f64>,
    pub active_requests: u32,
    pub capacity_rps: u32,
    /// Since the edge started.
    pub requests_total: u64,
    /// Cache hits over hits and misses since it started; absent before any.
    pub hit_ratio: Option<f64>,
    pub bytes_served_total: u64,
}

/// The fleet; `control_plane` false when this origin runs without one (no edges to show).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Fleet {
    pub control_plane: bool,
    pub edges: Vec<FleetEdge>,
}

/// Cached media to drop from every edge: exact media paths and/or whole titles.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeRequest {
    /// Token-free media paths, e.g. `/media/<title>/<job>/manifest.mpd`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Title ids: everything of each title.
    #[serde(default)]
    pub titles: Vec<String>,
}

/// Which live edges dropped it (within 2 s) and which had not yet.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PurgeResult {
    pub seq: u64,
    pub applied_by: Vec<String>,
    pub pending: Vec<String>,
}
