//! Heartbeats to the control-plane: who this edge is and how loaded it is, and which
//! playback-token key set it verifies with. When the acknowledgement names another key set,
//! the edge fetches it (`GET /v1/token-keys`), installs it, and reports at once, so origin can
//! start signing with a new key moments after every edge has it.
//!
//! Runs on its own runtime (Pingora owns the main thread). A control-plane that cannot be
//! reached never stops the edge from serving: failures are logged at most every
//! [`WARN_EVERY`] and counted in `marquee_edge_heartbeat_failures_total`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use marquee_proto::PROTOBUF_CONTENT_TYPE;
use marquee_proto::v1::{EdgeHeartbeat, HeartbeatAck, TokenKeySet};
use marquee_tls::{Service, Tls};
use prost::Message;
use tokio::sync::watch;

use crate::metrics::{HEARTBEAT_FAILURES, Stats};
use crate::tokens::TokenGate;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
const WARN_EVERY: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Who this edge is, as reported in every heartbeat.
#[derive(Debug, Clone)]
pub struct Identity {
    pub edge_id: String,
    pub region: String,
    pub public_url: String,
    /// Beside a plain `public_url`; empty when there is none.
    pub https_url: String,
    pub capacity_rps: u32,
}

/// Why one heartbeat failed.
#[derive(Debug, thiserror::Error)]
pub enum HeartbeatError {
    #[error("control-plane unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("control-plane answered {status}: {reason}")]
    Refused { status: u16, reason: String },
    #[error("control-plane answer is not the protobuf message expected: {0}")]
    BadAck(#[from] prost::DecodeError),
    #[error(transparent)]
    BadKeys(#[from] crate::tokens::BadKeySet),
}

/// Builds the heartbeat message for the current state.
pub fn heartbeat(
    id: &Identity,
    stats: &Stats,
    draining: bool,
    token_keys_version: u64,
    now: SystemTime,
) -> EdgeHeartbeat {
    let snap = stats.snapshot();
    EdgeHeartbeat {
        edge_id: id.edge_id.clone(),
        region: id.region.clone(),
        public_url: id.public_url.clone(),
        https_url: id.https_url.clone(),
        capacity_rps: id.capacity_rps,
        active_requests: snap.active_requests,
        requests_total: snap.requests_total,
        cache_hits_total: snap.cache_hits_total,
        cache_misses_total: snap.cache_misses_total,
        bytes_served_total: snap.bytes_served_total,
        sent_at_unix_ms: now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        draining,
        token_keys_version,
    }
}

/// The wait before the next heartbeat, from the control-plane's answer (bounded, so a bad
/// answer can neither flood it nor silence the edge).
pub fn next_interval(ack: Option<&HeartbeatAck>) -> Duration {
    match ack {
        Some(a) if a.next_heartbeat_ms > 0 => {
            Duration::from_millis(u64::from(a.next_heartbeat_ms).clamp(200, 30_000))
        }
        _ => DEFAULT_INTERVAL,
    }
}

/// The HTTPS client heartbeats go out on: this edge's certificate (renewals included), and
/// only a server whose certificate the deployment CA issued to a control-plane.
pub fn client(tls: &Tls) -> Result<reqwest::Client, anyhow::Error> {
    let config = tls.client_config(Some(Service::ControlPlane), &[])?;
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

/// Sends heartbeats until `shutdown` turns true, then sends one last `draining` heartbeat.
pub async fn run(
    client: reqwest::Client,
    control_plane: String,
    id: Identity,
    stats: Arc<Stats>,
    gate: Arc<TokenGate>,
    mut shutdown: watch::Receiver<bool>,
) {
    let url = format!("{control_plane}/v1/heartbeat");
    let keys_url = format!("{control_plane}/v1/token-keys");
    let mut last_warn: Option<Instant> = None;
    let mut failing = false;
    loop {
        let draining = *shutdown.borrow();
        let msg = heartbeat(
            &id,
            &stats,
            draining,
            gate.keys_version(),
            SystemTime::now(),
        );
        let ack = match send(&client, &url, &msg).await {
            Ok(ack) => {
                if failing {
                    tracing::info!(%url, "control-plane reachable again");
                }
                failing = false;
                Some(ack)
            }
            Err(e) => {
                failing = true;
                metrics::counter!(HEARTBEAT_FAILURES).increment(1);
                if last_warn.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    tracing::warn!(%url, error = %e, "heartbeat failed; still serving");
                    last_warn = Some(Instant::now());
                }
                None
            }
        };
        if draining {
            return;
        }
        if let Some(ack) = &ack
            && ack.token_keys_version != gate.keys_version()
        {
            match refresh_keys(&client, &keys_url, &gate).await {
                // Tell the control-plane now: origin may be waiting on this edge.
                Ok(()) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "token keys not fetched; keeping the current ones")
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(next_interval(ack.as_ref())) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Fetches the control-plane's token key set and installs it.
async fn refresh_keys(
    client: &reqwest::Client,
    url: &str,
    gate: &TokenGate,
) -> Result<(), HeartbeatError> {
    let resp = client.get(url).send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        let reason = String::from_utf8_lossy(&body).chars().take(200).collect();
        return Err(HeartbeatError::Refused {
            status: status.as_u16(),
            reason,
        });
    }
    let set = TokenKeySet::decode(body)?;
    gate.install(&set)?;
    tracing::info!(version = set.version, kids = ?gate.kids(), "token keys installed");
    Ok(())
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    msg: &EdgeHeartbeat,
) -> Result<HeartbeatAck, HeartbeatError> {
    let resp = client
        .post(url)
        .header(http::header::CONTENT_TYPE, PROTOBUF_CONTENT_TYPE)
        .body(msg.encode_to_vec())
        .send()
        .await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        let reason = String::from_utf8_lossy(&body).chars().take(200).collect();
        return Err(HeartbeatError::Refused {
            status: status.as_u16(),
            reason,
        });
    }
    Ok(HeartbeatAck::decode(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_carries_identity_and_counters() {
        let id = Identity {
            edge_id: "e1".into(),
            region: "eu".into(),
            public_url: "https://x".into(),
            https_url: String::new(),
            capacity_rps: 9,
        };
        let stats = Stats::default();
        stats.request_started();
        stats.request_started();
        stats.request_finished("hit", 1);
        let hb = heartbeat(
            &id,
            &stats,
            true,
            7,
            UNIX_EPOCH + Duration::from_millis(1234),
        );
        assert_eq!(hb.edge_id, "e1");
        assert_eq!(hb.region, "eu");
        assert_eq!(hb.public_url, "https://x");
        assert_eq!(hb.capacity_rps, 9);
        assert_eq!(hb.active_requests, 1);
        assert_eq!(hb.requests_total, 2);
        assert_eq!(hb.cache_hits_total, 1);
        assert_eq!(hb.bytes_served_total, 1);
        assert_eq!(hb.sent_at_unix_ms, 1234);
        assert!(hb.draining);
        assert_eq!(hb.token_keys_version, 7);
    }

    #[test]
    fn interval_follows_the_ack_within_bounds() {
        assert_eq!(next_interval(None), DEFAULT_INTERVAL);
        let ack = |ms| HeartbeatAck {
            next_heartbeat_ms: ms,
            ..Default::default()
        };
        assert_eq!(next_interval(Some(&ack(500))), Duration::from_millis(500));
        assert_eq!(next_interval(Some(&ack(0))), DEFAULT_INTERVAL);
        assert_eq!(next_interval(Some(&ack(1))), Duration::from_millis(200));
        assert_eq!(next_interval(Some(&ack(u32::MAX))), Duration::from_secs(30));
    }
}
