//! The origin nodes an edge fills from, in order of preference, with the ones that recently
//! refused a connection set aside for a while. Pure bookkeeping (the clock is passed in), so the
//! choice is tested without sockets; the proxy retries a failed fill on the next node.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long a node that refused a connection is skipped.
pub const DOWN_FOR_MS: u64 = 5_000;

pub struct OriginSet {
    addrs: Vec<SocketAddr>,
    /// Per node: until when (ms on the caller's clock) it is skipped; 0 = up.
    down_until: Vec<AtomicU64>,
}

impl OriginSet {
    /// `addrs` must not be empty (configuration checks it).
    pub fn new(addrs: Vec<SocketAddr>) -> Self {
        let down_until = addrs.iter().map(|_| AtomicU64::new(0)).collect();
        Self { addrs, down_until }
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The node to ask: the first one that is up and not yet `tried` by this request; if every
    /// untried node is down, the one whose pause ends first (better than not asking at all).
    /// `None` once every node was tried.
    pub fn pick(&self, tried: &[SocketAddr], now_ms: u64) -> Option<SocketAddr> {
        let untried = || {
            self.addrs
                .iter()
                .zip(&self.down_until)
                .filter(|(a, _)| !tried.contains(a))
        };
        untried()
            .find(|(_, d)| d.load(Ordering::Relaxed) <= now_ms)
            .or_else(|| untried().min_by_key(|(_, d)| d.load(Ordering::Relaxed)))
            .map(|(a, _)| *a)
    }

    /// `addr` refused a connection: skip it for [`DOWN_FOR_MS`].
    pub fn mark_down(&self, addr: SocketAddr, now_ms: u64) {
        if let Some(i) = self.addrs.iter().position(|a| *a == addr) {
            self.down_until[i].store(now_ms + DOWN_FOR_MS, Ordering::Relaxed);
        }
    }

    /// `addr` answered: ask it again.
    pub fn mark_up(&self, addr: SocketAddr) {
        if let Some(i) = self.addrs.iter().position(|a| *a == addr) {
            self.down_until[i].store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> (OriginSet, [SocketAddr; 3]) {
        let a: [SocketAddr; 3] = [
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
            "127.0.0.1:3".parse().unwrap(),
        ];
        (OriginSet::new(a.to_vec()), a)
    }

    #[test]
    fn the_first_node_is_preferred_until_it_fails() {
        let (s, [a, b, c]) = set();
        assert_eq!(s.pick(&[], 0), Some(a));
        s.mark_down(a, 1_000);
        assert_eq!(s.pick(&[], 1_001), Some(b));
        assert_eq!(s.pick(&[b], 1_001), Some(c));
        // After the pause it is tried again first.
        assert_eq!(s.pick(&[], 1_000 + DOWN_FOR_MS), Some(a));
        s.mark_down(a, 10_000);
        s.mark_up(a);
        assert_eq!(s.pick(&[], 10_001), Some(a));
    }

    #[test]
    fn a_request_tries_each_node_once_even_when_all_are_down() {
        let (s, [a, b, c]) = set();
        s.mark_down(b, 100);
        s.mark_down(a, 200);
        s.mark_down(c, 300);
        assert_eq!(s.pick(&[], 400), Some(b), "the one back soonest");
        assert_eq!(s.pick(&[b], 400), Some(a));
        assert_eq!(s.pick(&[b, a], 400), Some(c));
        assert_eq!(s.pick(&[a, b, c], 400), None);
    }
}
