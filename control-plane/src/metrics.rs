//! Metric names and the small helpers that record them, so names live in one place.

/// Heartbeats received, labelled `outcome` = `accepted` | `rejected` and `reason` (`ok` or the
/// refusal's code: `identity_mismatch`, `heartbeat_replayed`, `forbidden`, ...).
pub const HEARTBEATS: &str = "marquee_control_plane_heartbeats_received_total";
/// Steering requests, labelled `outcome` = `ok` or the error code.
pub const STEERING_REQUESTS: &str = "marquee_control_plane_steering_requests_total";
/// Fresh, non-draining edges per `region`.
pub const HEALTHY_EDGES: &str = "marquee_control_plane_healthy_edges";
/// Edges dropped for missing their heartbeats.
pub const EDGES_EXPIRED: &str = "marquee_control_plane_edges_expired_total";

/// Paths and titles ordered purged.
pub const PURGES: &str = "marquee_control_plane_purges_total";

pub fn purges(count: usize) {
    metrics::counter!(PURGES).increment(count as u64);
}

pub fn heartbeat(outcome: &'static str, reason: &'static str) {
    metrics::counter!(HEARTBEATS, "outcome" => outcome, "reason" => reason).increment(1);
}

pub fn steering_request(outcome: &'static str) {
    metrics::counter!(STEERING_REQUESTS, "outcome" => outcome).increment(1);
}

pub fn healthy_edges(region: &str, count: usize) {
    metrics::gauge!(HEALTHY_EDGES, "region" => region.to_owned()).set(count as f64);
}

pub fn edges_expired(count: usize) {
    if count > 0 {
        metrics::counter!(EDGES_EXPIRED).increment(count as u64);
    }
}
