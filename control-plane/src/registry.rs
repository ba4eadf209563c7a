//! The edge registry: what the control-plane last heard from each edge, and when.
//!
//! Pure state: callers pass `now`, so expiry and health are deterministic in tests. The async
//! shell in [`crate::server`] wraps it in a mutex.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use axum::http::Uri;
use marquee_proto::v1::EdgeHeartbeat;

/// Longest edge id / region accepted; bounds memory held per (possibly hostile) heartbeat.
const MAX_NAME_LEN: usize = 128;
/// Longest public URL accepted.
const MAX_URL_LEN: usize = 2048;
/// A heartbeat stamped further than this from the control-plane's clock is refused: it was
/// held back and replayed, or the edge's clock is wrong (and so are its token checks).
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;
/// Load assumed for an edge that does not know its capacity: neither preferred over a
/// lightly loaded edge nor pushed behind a busy one.
pub const MODERATE_LOAD: f64 = 0.5;

/// Why a heartbeat was refused (answered as 400 with this text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatError {
    #[error("body is not a protobuf EdgeHeartbeat")]
    Undecodable,
    #[error("edge_id is required")]
    MissingEdgeId,
    #[error("region is required")]
    MissingRegion,
    #[error("public_url is required")]
    MissingPublicUrl,
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("public_url {0:?} is not an absolute http:// or https:// URL")]
    BadPublicUrl(String),
    #[error("https_url {0:?} is not an absolute https:// URL")]
    BadHttpsUrl(String),
    #[error("sent_at_unix_ms {got} is not after the last accepted heartbeat's ({last}): a replay")]
    Replayed { last: u64, got: u64 },
    #[error(
        "sent_at_unix_ms {got} is more than {max_s} s from the control-plane's clock ({now}): check the edge's clock",
        max_s = MAX_CLOCK_SKEW_MS / 1000
    )]
    ClockSkew { got: u64, now: u64 },
}

impl HeartbeatError {
    /// Stable short code for answers and the rejection metric.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::MissingEdgeId | Self::MissingRegion | Self::MissingPublicUrl => "missing_field",
            Self::TooLong { .. } => "too_long",
            Self::BadPublicUrl(_) => "bad_public_url",
            Self::BadHttpsUrl(_) => "bad_https_url",
            Self::Replayed { .. } => "replayed",
            Self::ClockSkew { .. } => "clock_skew",
        }
    }
}

/// A heartbeat that passed validation, as the registry stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeStatus {
    pub edge_id: String,
    pub region: String,
    /// Without a trailing slash, so callers can append `/t/...`.
    pub public_url: String,
    /// The HTTPS base URL beside a plain `public_url` (empty when there is none), likewise.
    pub https_url: String,
    /// 0 = unknown.
    pub capacity_rps: u32,
    pub active_requests: u32,
    pub draining: bool,
    /// The edge's clock when it sent the heartbeat; each must be later than the last.
    pub sent_at_unix_ms: u64,
    /// The token key set version the edge verifies with ([`crate::token_keys`]).
    pub token_keys_version: u64,
    /// Totals since the edge started.
    pub requests_total: u64,
    pub cache_hits_total: u64,
    pub cache_misses_total: u64,
    pub bytes_served_total: u64,
}

impl EdgeStatus {
    /// Checks the fields steering depends on and normalises the URL.
    pub fn from_heartbeat(hb: EdgeHeartbeat) -> Result<Self, HeartbeatError> {
        let edge_id = required(hb.edge_id, "edge_id", HeartbeatError::MissingEdgeId)?;
        let region = required(hb.region, "region", HeartbeatError::MissingRegion)?;
        let public_url = validate_url(hb.public_url)?;
        let https_url = validate_https_url(hb.https_url)?;
        Ok(Self {
            edge_id,
            region,
            public_url,
            https_url,
            capacity_rps: hb.capacity_rps,
            active_requests: hb.active_requests,
            draining: hb.draining,
            sent_at_unix_ms: hb.sent_at_unix_ms,
            token_keys_version: hb.token_keys_version,
            requests_total: hb.requests_total,
            cache_hits_total: hb.cache_hits_total,
            cache_misses_total: hb.cache_misses_total,
            bytes_served_total: hb.bytes_served_total,
        })
    }

    /// `active_requests / capacity_rps`, or [`MODERATE_LOAD`] when capacity is unknown.
    pub fn load(&self) -> f64 {
        if self.capacity_rps == 0 {
            MODERATE_LOAD
        } else {
            f64::from(self.active_requests) / f64::from(self.capacity_rps)
        }
    }
}

fn required(
    value: String,
    field: &'static str,
    missing: HeartbeatError,
) -> Result<String, HeartbeatError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(missing);
    }
    if value.len() > MAX_NAME_LEN {
        return Err(HeartbeatError::TooLong {
            field,
            max: MAX_NAME_LEN,
        });
    }
    Ok(value.to_owned())
}

fn validate_url(url: String) -> Result<String, HeartbeatError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(HeartbeatError::MissingPublicUrl);
    }
    if url.len() > MAX_URL_LEN {
        return Err(HeartbeatError::TooLong {
            field: "public_url",
            max: MAX_URL_LEN,
        });
    }
    let bad = || HeartbeatError::BadPublicUrl(url.to_owned());
    let uri: Uri = url.parse().map_err(|_| bad())?;
    let http = matches!(uri.scheme_str(), Some("http" | "https"));
    let has_host = uri.host().is_some_and(|h| !h.is_empty());
    if !http || !has_host || uri.query().is_some() {
        return Err(bad());
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `https_url`: empty, or an absolute `https://` URL (normalised like `public_url`).
fn validate_https_url(url: String) -> Result<String, HeartbeatError> {
    if url.trim().is_empty() {
        return Ok(String::new());
    }
    let bad = || HeartbeatError::BadHttpsUrl(url.trim().chars().take(MAX_URL_LEN).collect());
    match validate_url(url.clone()) {
        Ok(https) if https.starts_with("https://") => Ok(https),
        _ => Err(bad()),
    }
}

/// One known edge.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeRecord {
    pub status: EdgeStatus,
    pub last_seen: Instant,
    /// An operator took it out of steering (`marquee edge drain`).
    pub drained: bool,
}

impl EdgeRecord {
    /// Heard from within `timeout` of `now`.
    pub fn is_fresh(&self, now: Instant, timeout: Duration) -> bool {
        now.saturating_duration_since(self.last_seen) <= timeout
    }

    /// May be handed to viewers: fresh, not shutting down, not drained by an operator.
    pub fn is_steerable(&self, now: Instant, timeout: Duration) -> bool {
        self.is_fresh(now, timeout) && !self.status.draining && !self.drained
    }
}

/// Every edge heard from and not yet expired, by edge id, and the operator's drains.
#[derive(Debug, Default)]
pub struct Registry {
    edges: HashMap<String, EdgeRecord>,
    /// Kept apart from the records: a drain outlives the edge's restarts and expiry.
    drained: BTreeSet<String>,
    /// The last accepted `sent_at_unix_ms` per edge, kept past expiry so an old heartbeat
    /// cannot bring an edge back.
    last_sent: HashMap<String, u64>,
}

impl Registry {
    /// Records a heartbeat received at `now` (the control-plane's clock is `now_unix_ms`); a
    /// later one replaces the earlier. One that is not newer than the last, or far from the
    /// control-plane's clock, is refused and changes nothing.
    pub fn record(
        &mut self,
        status: EdgeStatus,
        now: Instant,
        now_unix_ms: u64,
    ) -> Result<(), HeartbeatError> {
        let got = status.sent_at_unix_ms;
        if got.abs_diff(now_unix_ms) > MAX_CLOCK_SKEW_MS {
            return Err(HeartbeatError::ClockSkew {
                got,
                now: now_unix_ms,
            });
        }
        if let Some(&last) = self.last_sent.get(&status.edge_id)
            && got <= last
        {
            return Err(HeartbeatError::Replayed { last, got });
        }
        self.last_sent.insert(status.edge_id.clone(), got);
        let record = EdgeRecord {
            last_seen: now,
            drained: self.drained.contains(&status.edge_id),
            status,
        };
        self.edges.insert(record.status.edge_id.clone(), record);
        Ok(())
    }

    /// An operator's drain (`true`) or its end; returns whether anything changed.
    pub fn set_drained(&mut self, edge_id: &str, drained: bool) -> bool {
        let changed = if drained {
            self.drained.insert(edge_id.to_owned())
        } else {
            self.drained.remove(edge_id)
        };
        if let Some(r) = self.edges.get_mut(edge_id) {
            r.drained = drained;
        }
        changed
    }

    /// Edges an operator drained, whether or not they are heard from.
    pub fn drained(&self) -> &BTreeSet<String> {
        &self.drained
    }

    pub fn get(&self, edge_id: &str) -> Option<&EdgeRecord> {
        self.edges.get(edge_id)
    }

    /// Drops edges not heard from within `timeout`; returns their ids, sorted.
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> Vec<String> {
        let mut gone: Vec<String> = self
            .edges
            .values()
            .filter(|r| !r.is_fresh(now, timeout))
            .map(|r| r.status.edge_id.clone())
            .collect();
        gone.sort();
        for id in &gone {
            self.edges.remove(id);
        }
        gone
    }

    pub fn edges(&self) -> impl Iterator<Item = &EdgeRecord> {
        self.edges.values()
    }

    /// Number of fresh, non-draining edges per region (what steering can hand out).
    pub fn healthy_by_region(&self, now: Instant, timeout: Duration) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for r in self.edges.values() {
            let entry = counts.entry(r.status.region.clone()).or_insert(0);
            if r.is_steerable(now, timeout) {
                *entry += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat(id: &str, region: &str, url: &str) -> EdgeHeartbeat {
        EdgeHeartbeat {
            edge_id: id.into(),
            region: region.into(),
            public_url: url.into(),
            ..Default::default()
        }
    }

    /// Records with a sent-at stamp later than every earlier one, as a live edge sends.
    fn record(reg: &mut Registry, status: EdgeStatus, at: Instant) {
        use std::sync::atomic::{AtomicU64, Ordering};
        static CLOCK: AtomicU64 = AtomicU64::new(1);
        let stamp = CLOCK.fetch_add(1, Ordering::Relaxed);
        reg.record(
            EdgeStatus {
                sent_at_unix_ms: stamp,
                ..status
            },
            at,
            stamp,
        )
        .expect("accepted");
    }

    fn status(id: &str, region: &str) -> EdgeStatus {
        EdgeStatus::from_heartbeat(heartbeat(id, region, "http://127.0.0.1:1")).expect("valid")
    }

    #[test]
    fn valid_heartbeat_is_normalised() {
        let s = EdgeStatus::from_heartbeat(heartbeat(" e1 ", "eu", "https://edge.example/ "))
            .expect("valid");
        assert_eq!(s.edge_id, "e1");
        assert_eq!(s.public_url, "https://edge.example");
    }

    #[test]
    fn missing_fields_are_named() {
        let check = |hb, want| assert_eq!(EdgeStatus::from_heartbeat(hb), Err(want));
        check(
            heartbeat("", "eu", "http://a"),
            HeartbeatError::MissingEdgeId,
        );
        check(
            heartbeat("e", " ", "http://a"),
            HeartbeatError::MissingRegion,
        );
        check(heartbeat("e", "eu", ""), HeartbeatError::MissingPublicUrl);
        check(
            heartbeat(&"x".repeat(129), "eu", "http://a"),
            HeartbeatError::TooLong {
                field: "edge_id",
                max: 128,
            },
        );
    }

    #[test]
    fn public_url_must_be_absolute_http() {
        for bad in [
            "ftp://a",
            "127.0.0.1:8080",
            "/relative",
            "http://",
            "http://a?x=1",
            "not a url",
        ] {
            assert_eq!(
                EdgeStatus::from_heartbeat(heartbeat("e", "eu", bad)),
                Err(HeartbeatError::BadPublicUrl(bad.into())),
                "{bad}"
            );
        }
        for good in ["http://127.0.0.1:8080", "https://[::1]:443/base"] {
            assert!(EdgeStatus::from_heartbeat(heartbeat("e", "eu", good)).is_ok());
        }
    }

    #[test]
    fn an_https_url_beside_a_plain_one_must_be_https() {
        let with = |https: &str| {
            EdgeStatus::from_heartbeat(EdgeHeartbeat {
                https_url: https.into(),
                ..heartbeat("e", "eu", "http://127.0.0.1:8080")
            })
        };
        assert_eq!(with("").unwrap().https_url, "");
        assert_eq!(
            with("https://localhost:8443/").unwrap().https_url,
            "https://localhost:8443"
        );
        for bad in ["http://localhost:8443", "localhost:8443", "https://"] {
            assert_eq!(
                with(bad),
                Err(HeartbeatError::BadHttpsUrl(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn load_uses_capacity_or_moderate_default() {
        let mut s = status("e", "eu");
        s.active_requests = 30;
        assert_eq!(s.load(), MODERATE_LOAD);
        s.capacity_rps = 120;
        assert_eq!(s.load(), 0.25);
    }

    #[test]
    fn expire_drops_only_stale_edges() {
        let t0 = Instant::now();
        let timeout = Duration::from_millis(800);
        let mut reg = Registry::default();
        record(&mut reg, status("old", "eu"), t0);
        record(
            &mut reg,
            status("new", "us"),
            t0 + Duration::from_millis(500),
        );
        assert!(reg.expire(t0 + timeout, timeout).is_empty());
        assert_eq!(
            reg.expire(t0 + Duration::from_millis(801), timeout),
            vec!["old".to_owned()]
        );
        let left: Vec<_> = reg.edges().map(|r| r.status.edge_id.as_str()).collect();
        assert_eq!(left, vec!["new"]);
    }

    #[test]
    fn later_heartbeat_replaces_earlier() {
        let t0 = Instant::now();
        let mut reg = Registry::default();
        record(&mut reg, status("e", "eu"), t0);
        let mut moved = status("e", "us");
        moved.draining = true;
        record(&mut reg, moved.clone(), t0 + Duration::from_secs(1));
        let all: Vec<_> = reg.edges().cloned().collect();
        assert_eq!(
            all,
            vec![EdgeRecord {
                status: EdgeStatus {
                    sent_at_unix_ms: all[0].status.sent_at_unix_ms,
                    ..moved
                },
                last_seen: t0 + Duration::from_secs(1),
                drained: false,
            }]
        );
    }

    #[test]
    fn healthy_counts_exclude_draining_and_stale_but_keep_the_region() {
        let t0 = Instant::now();
        let now = t0 + Duration::from_secs(5);
        let timeout = Duration::from_secs(1);
        let mut reg = Registry::default();
        record(&mut reg, status("a", "eu"), now);
        let mut draining = status("b", "eu");
        draining.draining = true;
        record(&mut reg, draining, now);
        record(&mut reg, status("c", "us"), t0);
        let counts = reg.healthy_by_region(now, timeout);
        assert_eq!(
            counts.into_iter().collect::<Vec<_>>(),
            vec![("eu".to_owned(), 1), ("us".to_owned(), 0)]
        );
    }

    #[test]
    fn replayed_and_skewed_heartbeats_are_refused_and_change_nothing() {
        let t0 = Instant::now();
        let mut reg = Registry::default();
        let at = |ms| EdgeStatus {
            sent_at_unix_ms: ms,
            ..status("e", "eu")
        };
        let now_ms = 1_000_000_000;
        reg.record(at(now_ms), t0, now_ms).unwrap();
        assert_eq!(
            reg.record(at(now_ms), t0 + Duration::from_secs(1), now_ms),
            Err(HeartbeatError::Replayed {
                last: now_ms,
                got: now_ms
            })
        );
        assert!(matches!(
            reg.record(at(now_ms + MAX_CLOCK_SKEW_MS + 1), t0, now_ms),
            Err(HeartbeatError::ClockSkew { .. })
        ));
        assert_eq!(reg.get("e").unwrap().last_seen, t0, "nothing changed");
        // Even after the edge expired, its old heartbeat cannot bring it back.
        reg.expire(t0 + Duration::from_secs(60), Duration::from_secs(1));
        assert!(reg.record(at(now_ms - 1), t0, now_ms).is_err());
        assert!(reg.get("e").is_none());
    }

    #[test]
    fn an_operator_drain_outlives_the_edges_restarts() {
        let t0 = Instant::now();
        let timeout = Duration::from_secs(5);
        let mut reg = Registry::default();
        assert!(
            reg.set_drained("e", true),
            "an edge not heard from yet can be drained"
        );
        record(&mut reg, status("e", "eu"), t0);
        assert!(!reg.get("e").unwrap().is_steerable(t0, timeout));
        record(&mut reg, status("e", "eu"), t0);
        assert!(reg.get("e").unwrap().drained);
        assert!(reg.set_drained("e", false));
        assert!(!reg.set_drained("e", false), "no change the second time");
        assert!(reg.get("e").unwrap().is_steerable(t0, timeout));
    }
}
