//! Metric names and the counters heartbeats report.
//!
//! Prometheus metrics go through the `metrics` crate and are rendered by the edge itself on
//! `/metrics`. Heartbeats need to read totals back, which `metrics` cannot do, so the few
//! counters they carry are also kept in [`Stats`].

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};

/// Requests by `result`: hit, miss, denied, local (healthz/metrics/preflight), error (origin failed).
pub const REQUESTS: &str = "marquee_edge_requests_total";
/// Token refusals by `code` (token_expired, token_bad_signature, ...).
pub const TOKEN_REJECTIONS: &str = "marquee_edge_token_rejections_total";
/// Response body bytes sent to viewers, by `result`.
pub const SERVED_BYTES: &str = "marquee_edge_served_bytes_total";
/// Time from sending a request to origin until its response header arrived.
pub const ORIGIN_FETCH_SECONDS: &str = "marquee_edge_origin_fetch_duration_seconds";
/// Fills that moved to another origin node after one refused a connection.
pub const ORIGIN_FAILOVERS: &str = "marquee_edge_origin_failovers_total";
/// Content misses by `reason`: `cold` (not in the cache) or `expired` (cached, no longer fresh).
pub const MISSES: &str = "marquee_edge_cache_misses_total";
/// Health misses: origin could not answer, by `kind` (`connect`, `status_5xx`, `broken`).
pub const ORIGIN_ERRORS: &str = "marquee_edge_origin_errors_total";
/// Stale copies served, by `reason`: `revalidating` (stale-while-revalidate) or
/// `origin_error` (stale-if-error, origin down).
pub const STALE_SERVED: &str = "marquee_edge_stale_served_total";
/// Requests being served right now.
pub const ACTIVE_REQUESTS: &str = "marquee_edge_active_requests";
/// Heartbeats that did not reach the control-plane.
pub const HEARTBEAT_FAILURES: &str = "marquee_edge_heartbeat_failures_total";
/// API requests refused with 429 (a client over its per-address limit).
pub const API_RATE_LIMITED: &str = "marquee_edge_api_rate_limited_total";

/// Installs the global Prometheus recorder and returns the handle `/metrics` renders.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let buckets = [
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets(&buckets)?
        .install_recorder()?;
    metrics::describe_counter!(
        REQUESTS,
        "Requests by result (hit, miss, denied, local, error)."
    );
    metrics::describe_counter!(TOKEN_REJECTIONS, "Playback-token refusals by code.");
    metrics::describe_counter!(
        API_RATE_LIMITED,
        "API requests refused with 429: a client address over its limit."
    );
    metrics::describe_counter!(
        SERVED_BYTES,
        metrics::Unit::Bytes,
        "Response body bytes sent to viewers."
    );
    metrics::describe_histogram!(
        ORIGIN_FETCH_SECONDS,
        metrics::Unit::Seconds,
        "Origin time to response header."
    );
    metrics::describe_gauge!(ACTIVE_REQUESTS, "Requests being served.");
    metrics::describe_counter!(MISSES, "Content misses by reason (cold, expired).");
    metrics::describe_counter!(
        ORIGIN_ERRORS,
        "Health misses: origin could not answer (connect, status_5xx, broken)."
    );
    metrics::describe_counter!(
        STALE_SERVED,
        "Stale copies served (revalidating, origin_error)."
    );
    metrics::describe_counter!(
        HEARTBEAT_FAILURES,
        "Heartbeats that failed to reach the control-plane."
    );
    // Zero-valued series so dashboards and tests see every name from the start.
    for result in RESULTS {
        metrics::counter!(REQUESTS, "result" => result).absolute(0);
        metrics::counter!(SERVED_BYTES, "result" => result).absolute(0);
    }
    metrics::counter!(HEARTBEAT_FAILURES).absolute(0);
    for reason in ["cold", "expired"] {
        metrics::counter!(MISSES, "reason" => reason).absolute(0);
    }
    for kind in ["connect", "status_5xx", "broken"] {
        metrics::counter!(ORIGIN_ERRORS, "kind" => kind).absolute(0);
    }
    metrics::gauge!(ACTIVE_REQUESTS).set(0.0);
    Ok(handle)
}

/// Every `result` label a request ends with.
const RESULTS: [&str; 6] = ["hit", "miss", "pass", "denied", "local", "error"];

/// The request and byte counters of each result, registered once so the hot path only adds
/// (a labelled `counter!` hashes its key into the registry on every call).
#[derive(Debug)]
struct ResultCounters {
    requests: Vec<metrics::Counter>,
    bytes: Vec<metrics::Counter>,
}

impl ResultCounters {
    fn register() -> Self {
        Self {
            requests: RESULTS
                .iter()
                .map(|r| metrics::counter!(REQUESTS, "result" => *r))
                .collect(),
            bytes: RESULTS
                .iter()
                .map(|r| metrics::counter!(SERVED_BYTES, "result" => *r))
                .collect(),
        }
    }

    fn count(&self, result: &'static str, body_bytes: u64) {
        match RESULTS.iter().position(|r| *r == result) {
            Some(i) => {
                self.requests[i].increment(1);
                self.bytes[i].increment(body_bytes);
            }
            None => {
                metrics::counter!(REQUESTS, "result" => result).increment(1);
                metrics::counter!(SERVED_BYTES, "result" => result).increment(body_bytes);
            }
        }
    }
}

/// Totals since start, shared by the proxy and the heartbeat task.
#[derive(Debug, Default)]
pub struct Stats {
    active: AtomicI64,
    requests: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    bytes: AtomicU64,
    /// Registered at the first request, once the recorder is installed.
    counters: std::sync::OnceLock<ResultCounters>,
    active_gauge: std::sync::OnceLock<metrics::Gauge>,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub active_requests: u32,
    pub requests_total: u64,
    pub cache_hits_total: u64,
    pub cache_misses_total: u64,
    pub bytes_served_total: u64,
}

impl Stats {
    fn active_gauge(&self) -> &metrics::Gauge {
        self.active_gauge
            .get_or_init(|| metrics::gauge!(ACTIVE_REQUESTS))
    }

    pub fn request_started(&self) {
        let now = self.active.fetch_add(1, Ordering::Relaxed) + 1;
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.active_gauge().set(now as f64);
    }

    pub fn request_finished(&self, result: &'static str, body_bytes: u64) {
        let now = self.active.fetch_sub(1, Ordering::Relaxed) - 1;
        self.active_gauge().set(now as f64);
        match result {
            "hit" => self.hits.fetch_add(1, Ordering::Relaxed),
            "miss" => self.misses.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        self.bytes.fetch_add(body_bytes, Ordering::Relaxed);
        self.counters
            .get_or_init(ResultCounters::register)
            .count(result, body_bytes);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            active_requests: u32::try_from(self.active.load(Ordering::Relaxed).max(0))
                .unwrap_or(u32::MAX),
            requests_total: self.requests.load(Ordering::Relaxed),
            cache_hits_total: self.hits.load(Ordering::Relaxed),
            cache_misses_total: self.misses.load(Ordering::Relaxed),
            bytes_served_total: self.bytes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_requests_hits_and_misses() {
        let s = Stats::default();
        s.request_started();
        s.request_started();
        assert_eq!(s.snapshot().active_requests, 2);
        s.request_finished("hit", 10);
        s.request_finished("miss", 10);
        s.request_started();
        s.request_finished("denied", 0);
        let snap = s.snapshot();
        assert_eq!(
            snap,
            StatsSnapshot {
                active_requests: 0,
                requests_total: 3,
                cache_hits_total: 1,
                cache_misses_total: 1,
                bytes_served_total: 20,
            }
        );
    }
}
