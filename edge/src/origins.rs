//! The origin nodes an edge fills from, in order of preference, with the ones that recently
//! refused a connection set aside for a while. Pure bookkeeping (the clock is passed in), so the
//! choice is tested without sockets; the proxy retries a failed fill on the next node.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long a node that refused a connection is skipped.
pub const DOWN_FOR_MS: u64 = 5_000;

/// An origin node as configured: `HOST:PORT` (plain HTTP) or `https://HOST:PORT` (mutual TLS
/// with the edge's certificate; HOST is the name the node's certificate must carry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginAddr {
    pub addr: SocketAddr,
    /// The server name to verify; `None` for plain HTTP.
    pub tls_name: Option<String>,
}

impl FromStr for OriginAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (authority, tls) = match s.strip_prefix("https://") {
            Some(rest) => (rest.trim_end_matches('/'), true),
            None if s.contains("://") => {
                return Err(format!(
                    "origin {s:?}: use HOST:PORT for plain HTTP or https://HOST:PORT for mutual TLS"
                ));
            }
            None => (s, false),
        };
        let addr = authority
            .to_socket_addrs()
            .map_err(|e| format!("origin {s:?}: not a reachable HOST:PORT ({e})"))?
            .next()
            .ok_or_else(|| format!("origin {s:?}: the host name resolves to no address"))?;
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host)
            .trim_start_matches('[')
            .trim_end_matches(']');
        Ok(Self {
            addr,
            tls_name: tls.then(|| host.to_owned()),
        })
    }
}

impl fmt::Display for OriginAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tls_name {
            Some(name) => write!(f, "https://{name}:{}", self.addr.port()),
            None => write!(f, "{}", self.addr),
        }
    }
}

impl<'de> serde::Deserialize<'de> for OriginAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

pub struct OriginSet {
    addrs: Vec<SocketAddr>,
    /// Per node: the name to verify over mutual TLS, `None` for plain HTTP.
    tls_names: Vec<Option<String>>,
    /// Per node: until when (ms on the caller's clock) it is skipped; 0 = up.
    down_until: Vec<AtomicU64>,
}

impl OriginSet {
    /// `nodes` must not be empty (configuration checks it).
    pub fn new(nodes: Vec<OriginAddr>) -> Self {
        let down_until = nodes.iter().map(|_| AtomicU64::new(0)).collect();
        let (addrs, tls_names) = nodes.into_iter().map(|n| (n.addr, n.tls_name)).unzip();
        Self {
            addrs,
            tls_names,
            down_until,
        }
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The name `addr`'s certificate must carry, when it is reached over TLS.
    pub fn tls_name(&self, addr: SocketAddr) -> Option<&str> {
        let i = self.addrs.iter().position(|a| *a == addr)?;
        self.tls_names[i].as_deref()
    }

    /// Whether any node is reached over TLS (the edge then needs its certificate).
    pub fn any_tls(&self) -> bool {
        self.tls_names.iter().any(Option::is_some)
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
        let nodes = a.iter().map(|&addr| OriginAddr {
            addr,
            tls_name: None,
        });
        (OriginSet::new(nodes.collect()), a)
    }

    #[test]
    fn origin_addresses_say_plain_or_mutual_tls_and_bad_ones_say_what_to_write() {
        let plain: OriginAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(plain.tls_name, None);
        let tls: OriginAddr = "https://localhost:9443/".parse().unwrap();
        assert_eq!(tls.tls_name.as_deref(), Some("localhost"));
        assert_eq!(tls.addr.port(), 9443);
        assert_eq!(tls.to_string(), "https://localhost:9443");
        let ip: OriginAddr = "https://127.0.0.1:9443".parse().unwrap();
        assert_eq!(ip.tls_name.as_deref(), Some("127.0.0.1"));
        let err = "http://127.0.0.1:8080".parse::<OriginAddr>().unwrap_err();
        assert!(err.contains("https://HOST:PORT"), "{err}");
        let err = "127.0.0.1".parse::<OriginAddr>().unwrap_err();
        assert!(err.contains("HOST:PORT"), "{err}");
        let set = OriginSet::new(vec![plain.clone(), tls.clone()]);
        assert!(set.any_tls());
        assert_eq!(set.tls_name(tls.addr), Some("localhost"));
        assert_eq!(set.tls_name(plain.addr), None);
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
