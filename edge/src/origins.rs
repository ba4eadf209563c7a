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
/// with the edge's certificate; HOST is the name the node's certificate must carry). Host names
/// are looked up when the edge starts ([`OriginAddr::resolve`]), not when the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginAddr {
    /// As written, without brackets around an IPv6 address.
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

/// A configured node with its address looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOrigin {
    pub addr: SocketAddr,
    /// The server name to verify; `None` for plain HTTP.
    pub tls_name: Option<String>,
}

impl OriginAddr {
    /// Looks the host up (the first address it has).
    pub fn resolve(&self) -> Result<ResolvedOrigin, String> {
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("origin {self}: cannot look up {:?} ({e})", self.host))?
            .next()
            .ok_or_else(|| format!("origin {self}: {:?} has no address", self.host))?;
        Ok(ResolvedOrigin {
            addr,
            tls_name: self.tls.then(|| self.host.clone()),
        })
    }
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
        let bad = || format!("origin {s:?}: write HOST:PORT or https://HOST:PORT");
        let (host, port) = authority.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            tls,
        })
    }
}

impl fmt::Display for OriginAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https://" } else { "" };
        if self.host.contains(':') {
            write!(f, "{scheme}[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}{}:{}", self.host, self.port)
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
    pub fn new(nodes: Vec<ResolvedOrigin>) -> Self {
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
        let nodes = a.iter().map(|&addr| ResolvedOrigin {
            addr,
            tls_name: None,
        });
        (OriginSet::new(nodes.collect()), a)
    }

    #[test]
    fn origin_addresses_say_plain_or_mutual_tls_and_bad_ones_say_what_to_write() {
        let plain = "127.0.0.1:8080"
            .parse::<OriginAddr>()
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(plain.tls_name, None);
        let named: OriginAddr = "https://localhost:9443/".parse().unwrap();
        assert_eq!(named.to_string(), "https://localhost:9443");
        let tls = named.resolve().unwrap();
        assert_eq!(tls.tls_name.as_deref(), Some("localhost"));
        assert_eq!(tls.addr.port(), 9443);
        let ip = "https://127.0.0.1:9443".parse::<OriginAddr>().unwrap();
        assert_eq!(ip.resolve().unwrap().tls_name.as_deref(), Some("127.0.0.1"));
        // Names are looked up at start, not when read: a file may name hosts of elsewhere.
        let far: OriginAddr = "https://origin-1.invalid:8443".parse().unwrap();
        assert!(far.resolve().unwrap_err().contains("origin-1.invalid"));
        for bad in [
            "http://127.0.0.1:8080",
            "127.0.0.1",
            "https://:80",
            "h:0",
            "h:x",
        ] {
            let err = bad.parse::<OriginAddr>().unwrap_err();
            assert!(err.contains("https://HOST:PORT"), "{bad}: {err}");
        }
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
