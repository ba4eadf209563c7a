//! Steering: which edges a client should use, best first. A pure function of the registry's
//! contents and `now`, so its order can be asserted exactly.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use marquee_proto::v1::RankedEdge;

use crate::registry::EdgeRecord;

/// Ranks edges for a client in `client_region`.
///
/// Only edges heard from within `timeout`, not shutting down and not drained by an operator
/// are eligible. Same-region edges come
/// first, then every other region; within each group lower load first, ties by `edge_id` so
/// that equal edges always come back in the same order. At most `limit` edges are returned.
///
/// The score is `1/(1+load)`, plus 1 for the client's region; it is strictly decreasing along
/// the returned list except between exact ties.
pub fn rank<'a>(
    edges: impl IntoIterator<Item = &'a EdgeRecord>,
    client_region: &str,
    now: Instant,
    timeout: Duration,
    limit: usize,
) -> Vec<RankedEdge> {
    let mut eligible: Vec<(&EdgeRecord, bool, f64)> = edges
        .into_iter()
        .filter(|r| r.is_steerable(now, timeout))
        .map(|r| (r, r.status.region == client_region, r.status.load()))
        .collect();
    eligible.sort_by(compare);
    eligible
        .into_iter()
        .take(limit)
        .map(|(r, same_region, load)| RankedEdge {
            edge_id: r.status.edge_id.clone(),
            region: r.status.region.clone(),
            public_url: r.status.public_url.clone(),
            https_url: r.status.https_url.clone(),
            score: f64::from(u8::from(same_region)) + 1.0 / (1.0 + load),
        })
        .collect()
}

/// How much better (in score) the best edge must be before a player leaves its current one:
/// a tenth of the load scale, and never across regions (those differ by a whole point).
pub const STICKY_MARGIN: f64 = 0.1;

/// Moves `current` to the front of `ranked` when it is still listed (healthy) and within
/// [`STICKY_MARGIN`] of the best: a playing session stays where its buffer is warm.
pub fn keep_current(ranked: &mut [RankedEdge], current: &str) {
    let Some(best) = ranked.first().map(|e| e.score) else {
        return;
    };
    if let Some(at) = ranked
        .iter()
        .position(|e| e.edge_id == current && best - e.score < STICKY_MARGIN)
    {
        ranked[..=at].rotate_right(1);
    }
}

fn compare(a: &(&EdgeRecord, bool, f64), b: &(&EdgeRecord, bool, f64)) -> Ordering {
    b.1.cmp(&a.1)
        .then(a.2.total_cmp(&b.2))
        .then_with(|| a.0.status.edge_id.cmp(&b.0.status.edge_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::EdgeStatus;

    const TIMEOUT: Duration = Duration::from_millis(1000);

    struct World {
        t0: Instant,
        edges: Vec<EdgeRecord>,
    }

    impl World {
        fn new() -> Self {
            Self {
                t0: Instant::now(),
                edges: Vec::new(),
            }
        }

        /// An edge last heard from `age_ms` before `now()`, with the given load numbers.
        fn edge(&mut self, id: &str, region: &str, active: u32, capacity: u32, age_ms: u64) {
            let now = self.now();
            self.edges.push(EdgeRecord {
                status: EdgeStatus {
                    edge_id: id.into(),
                    region: region.into(),
                    public_url: format!("http://{id}.test"),
                    https_url: String::new(),
                    capacity_rps: capacity,
                    active_requests: active,
                    draining: false,
                    sent_at_unix_ms: 0,
                    token_keys_version: 0,
                    requests_total: 0,
                    cache_hits_total: 0,
                    cache_misses_total: 0,
                    bytes_served_total: 0,
                },
                last_seen: now - Duration::from_millis(age_ms),
                drained: false,
            });
        }

        fn now(&self) -> Instant {
            self.t0 + Duration::from_secs(60)
        }

        fn order(&self, region: &str, limit: usize) -> Vec<String> {
            rank(&self.edges, region, self.now(), TIMEOUT, limit)
                .into_iter()
                .map(|e| e.edge_id)
                .collect()
        }
    }

    #[test]
    fn own_region_first_then_others_each_by_load() {
        let mut w = World::new();
        w.edge("us-busy", "us", 90, 100, 0);
        w.edge("eu-busy", "eu", 80, 100, 0);
        w.edge("us-idle", "us", 1, 100, 0);
        w.edge("eu-idle", "eu", 10, 100, 0);
        w.edge("ap-mid", "ap", 50, 100, 0);
        assert_eq!(
            w.order("eu", 10),
            ["eu-idle", "eu-busy", "us-idle", "ap-mid", "us-busy"]
        );
        assert_eq!(
            w.order("us", 10),
            ["us-idle", "us-busy", "eu-idle", "ap-mid", "eu-busy"]
        );
    }

    #[test]
    fn unknown_region_ranks_everyone_by_load() {
        let mut w = World::new();
        w.edge("b", "us", 20, 100, 0);
        w.edge("a", "eu", 70, 100, 0);
        assert_eq!(w.order("mars", 10), ["b", "a"]);
    }

    #[test]
    fn unknown_capacity_counts_as_moderate_load() {
        let mut w = World::new();
        w.edge("light", "eu", 10, 100, 0);
        w.edge("unknown", "eu", 5_000, 0, 0);
        w.edge("heavy", "eu", 90, 100, 0);
        assert_eq!(w.order("eu", 10), ["light", "unknown", "heavy"]);
    }

    #[test]
    fn ties_are_broken_by_edge_id() {
        let mut w = World::new();
        w.edge("c", "eu", 0, 0, 0);
        w.edge("a", "eu", 0, 0, 0);
        w.edge("b", "eu", 0, 0, 0);
        assert_eq!(w.order("eu", 10), ["a", "b", "c"]);
    }

    #[test]
    fn stale_and_draining_edges_are_excluded() {
        let mut w = World::new();
        w.edge("fresh", "eu", 50, 100, 1000);
        w.edge("stale", "eu", 0, 100, 1001);
        w.edge("draining", "eu", 0, 100, 0);
        w.edges[2].status.draining = true;
        assert_eq!(w.order("eu", 10), ["fresh"]);
    }

    #[test]
    fn limit_truncates_after_ranking() {
        let mut w = World::new();
        w.edge("other", "us", 0, 100, 0);
        w.edge("own-2", "eu", 60, 100, 0);
        w.edge("own-1", "eu", 30, 100, 0);
        assert_eq!(w.order("eu", 2), ["own-1", "own-2"]);
        assert!(w.order("eu", 0).is_empty());
    }

    #[test]
    fn scores_follow_the_order_and_carry_the_url() {
        let mut w = World::new();
        w.edge("own", "eu", 100, 100, 0);
        w.edge("far", "us", 0, 100, 0);
        let ranked = rank(&w.edges, "eu", w.now(), TIMEOUT, 10);
        assert_eq!(
            ranked,
            vec![
                RankedEdge {
                    edge_id: "own".into(),
                    region: "eu".into(),
                    public_url: "http://own.test".into(),
                    https_url: String::new(),
                    score: 1.5,
                },
                RankedEdge {
                    edge_id: "far".into(),
                    region: "us".into(),
                    public_url: "http://far.test".into(),
                    https_url: String::new(),
                    score: 1.0,
                },
            ]
        );
    }

    #[test]
    fn a_playing_session_keeps_its_edge_unless_another_is_clearly_better() {
        let mut w = World::new();
        w.edge("eu-a", "eu", 10, 100, 0);
        w.edge("eu-b", "eu", 15, 100, 0);
        w.edge("eu-busy", "eu", 90, 100, 0);
        w.edge("us-idle", "us", 0, 100, 0);
        let steer = |current: &str| {
            let mut ranked = rank(&w.edges, "eu", w.now(), TIMEOUT, 10);
            keep_current(&mut ranked, current);
            ranked.into_iter().map(|e| e.edge_id).collect::<Vec<_>>()
        };
        // Nearly as idle as the best: stays first, the rest keep their order.
        assert_eq!(steer("eu-b"), ["eu-b", "eu-a", "eu-busy", "us-idle"]);
        // Far busier, or in another region: the player is moved.
        assert_eq!(steer("eu-busy"), ["eu-a", "eu-b", "eu-busy", "us-idle"]);
        assert_eq!(steer("us-idle"), ["eu-a", "eu-b", "eu-busy", "us-idle"]);
        // Gone from the answer (dead, drained) or unknown: nothing to keep.
        assert_eq!(steer("edge-gone"), ["eu-a", "eu-b", "eu-busy", "us-idle"]);
    }
}
