//! Prometheus metrics: HTTP requests by route template and status, latency, jobs by state
//! (raft's own gauges come from `crate::raft`). Names follow `marquee_origin_<name>_<unit>[_total]`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::api::Ctx;

pub const HTTP_REQUESTS: &str = "marquee_origin_http_requests_total";
pub const HTTP_DURATION: &str = "marquee_origin_http_request_duration_seconds";
pub const JOBS: &str = "marquee_origin_jobs";

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the process-wide recorder. Call once, from `main`.
pub fn install() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full("marquee_origin_packaging_duration_seconds".into()),
            &[1.0, 5.0, 15.0, 60.0, 300.0, 1800.0],
        )?
        .install_recorder()
}

/// Middleware: counts and times every request, labelled by the route template (never the
/// raw path, which would explode the label set and could carry ids).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// `GET /metrics`: refreshes the gauges that mirror state, then renders.
pub async fn render(State(ctx): State<Ctx>, handle: PrometheusHandle) -> Response {
    match ctx.raft.read(crate::jobs::state::counts) {
        Ok(counts) => {
            for (state, n) in counts {
                metrics::gauge!(JOBS, "state" => state.as_str()).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot count jobs for metrics"),
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}
