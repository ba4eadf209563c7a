//! Client address → region, by longest-prefix match over operator-given CIDR blocks.
//!
//! Operators list a few dozen prefixes at most, so a linear scan over a list sorted longest
//! prefix first is both the simplest and fast enough; no trie needed.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Why a `CIDR` or `CIDR=REGION` string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("{0:?} is not an IP address")]
    BadAddress(String),
    #[error("{0:?} is not a prefix length")]
    BadPrefixLength(String),
    #[error("prefix length /{len} is longer than the {max} bits of the address")]
    PrefixTooLong { len: u8, max: u8 },
    #[error(
        "{0} has bits set after its prefix length (did you mean a shorter address or longer prefix?)"
    )]
    HostBitsSet(String),
    #[error("{0:?} must look like CIDR=REGION, e.g. 10.0.0.0/8=eu-west")]
    BadRegionPrefix(String),
}

/// An IPv4 or IPv6 network such as `10.0.0.0/8` or `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    len: u8,
}

impl Cidr {
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// True when `ip` lies inside this network. IPv4-mapped IPv6 addresses
    /// (`::ffff:10.0.0.1`) match IPv4 networks, as dual-stack sockets report them that way.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(ip).into(), self.len, 32) == u32::from(net) as u128
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(ip), self.len, 128) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// Keeps the top `len` bits of a `width`-bit address.
fn masked(bits: u128, len: u8, width: u8) -> u128 {
    if len == 0 {
        return 0;
    }
    let host_bits = u32::from(width - len);
    let mask = (u128::MAX >> (128 - u32::from(width))) & !((1u128 << host_bits) - 1);
    bits & mask
}

fn bits_of(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4).into(), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// Parses `ADDR/LEN`; a bare address is a single host (`/32` or `/128`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (s, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| CidrError::BadAddress(addr.to_owned()))?;
        let (bits, width) = bits_of(network);
        let len = match len {
            Some(len) => len
                .parse::<u8>()
                .map_err(|_| CidrError::BadPrefixLength(len.to_owned()))?,
            None => width,
        };
        if len > width {
            return Err(CidrError::PrefixTooLong { len, max: width });
        }
        if masked(bits, len, width) != bits {
            return Err(CidrError::HostBitsSet(s.to_owned()));
        }
        Ok(Self { network, len })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

/// One `--region-prefix CIDR=REGION` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionPrefix {
    pub cidr: Cidr,
    pub region: String,
}

impl FromStr for RegionPrefix {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CidrError::BadRegionPrefix(s.to_owned());
        let (cidr, region) = s.split_once('=').ok_or_else(bad)?;
        let region = region.trim();
        if region.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            cidr: cidr.parse()?,
            region: region.to_owned(),
        })
    }
}

/// In the config file, as on the command line: `"CIDR=REGION"`.
impl<'de> serde::Deserialize<'de> for RegionPrefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Longest-prefix-match table from client address to region.
#[derive(Debug, Clone, Default)]
pub struct RegionMap {
    /// Sorted longest prefix first, so the first match is the most specific.
    entries: Vec<RegionPrefix>,
}

impl RegionMap {
    pub fn new(mut entries: Vec<RegionPrefix>) -> Self {
        // Stable sort: among equal prefixes the operator's first flag wins.
        entries.sort_by_key(|e| std::cmp::Reverse(e.cidr.prefix_len()));
        Self { entries }
    }

    /// The region of the most specific prefix containing `ip`, if any.
    pub fn lookup(&self, ip: IpAddr) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.cidr.contains(ip))
            .map(|e| e.region.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn map(specs: &[&str]) -> RegionMap {
        RegionMap::new(
            specs
                .iter()
                .map(|s| s.parse().expect("test prefix"))
                .collect(),
        )
    }

    #[test]
    fn ipv4_containment_respects_the_prefix_boundary() {
        let net: Cidr = "10.1.0.0/16".parse().expect("valid");
        assert!(net.contains(ip("10.1.0.0")));
        assert!(net.contains(ip("10.1.255.255")));
        assert!(!net.contains(ip("10.2.0.0")));
        assert!(!net.contains(ip("10.0.255.255")));
        assert!(!net.contains(ip("::1")));
    }

    #[test]
    fn odd_prefix_lengths_match_exactly() {
        let net: Cidr = "192.168.4.0/22".parse().expect("valid");
        assert!(net.contains(ip("192.168.7.255")));
        assert!(!net.contains(ip("192.168.8.0")));
        assert!(!net.contains(ip("192.168.3.255")));
    }

    #[test]
    fn ipv6_containment_and_mapped_ipv4() {
        let net: Cidr = "2001:db8::/32".parse().expect("valid");
        assert!(net.contains(ip("2001:db8:ffff::1")));
        assert!(!net.contains(ip("2001:db9::1")));
        let v4: Cidr = "127.0.0.0/8".parse().expect("valid");
        assert!(v4.contains(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn zero_length_prefix_matches_its_family_only() {
        let any4: Cidr = "0.0.0.0/0".parse().expect("valid");
        assert!(any4.contains(ip("203.0.113.9")));
        assert!(!any4.contains(ip("2001:db8::1")));
        let any6: Cidr = "::/0".parse().expect("valid");
        assert!(any6.contains(ip("2001:db8::1")));
    }

    #[test]
    fn bare_address_is_a_host_route() {
        let host: Cidr = "192.0.2.7".parse().expect("valid");
        assert_eq!(host.prefix_len(), 32);
        assert_eq!(host.to_string(), "192.0.2.7/32");
        assert!(host.contains(ip("192.0.2.7")));
        assert!(!host.contains(ip("192.0.2.8")));
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        assert_eq!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::PrefixTooLong { len: 33, max: 32 })
        );
        assert_eq!(
            "10.1.2.3/16".parse::<Cidr>(),
            Err(CidrError::HostBitsSet("10.1.2.3/16".into()))
        );
        assert_eq!(
            "ten/8".parse::<Cidr>(),
            Err(CidrError::BadAddress("ten".into()))
        );
        assert_eq!(
            "10.0.0.0/x".parse::<Cidr>(),
            Err(CidrError::BadPrefixLength("x".into()))
        );
        assert_eq!(
            "10.0.0.0/8".parse::<RegionPrefix>(),
            Err(CidrError::BadRegionPrefix("10.0.0.0/8".into()))
        );
        assert_eq!(
            "10.0.0.0/8=".parse::<RegionPrefix>(),
            Err(CidrError::BadRegionPrefix("10.0.0.0/8=".into()))
        );
    }

    #[test]
    fn longest_prefix_wins_regardless_of_flag_order() {
        let m = map(&[
            "10.0.0.0/8=eu-west",
            "10.2.0.0/16=us-east",
            "10.2.3.0/24=us-west",
            "2001:db8::/32=ap-south",
        ]);
        assert_eq!(m.lookup(ip("10.9.9.9")), Some("eu-west"));
        assert_eq!(m.lookup(ip("10.2.9.9")), Some("us-east"));
        assert_eq!(m.lookup(ip("10.2.3.4")), Some("us-west"));
        assert_eq!(m.lookup(ip("2001:db8::5")), Some("ap-south"));
        assert_eq!(m.lookup(ip("192.0.2.1")), None);
    }

    #[test]
    fn equal_prefixes_keep_the_first_flag() {
        let m = map(&["10.0.0.0/8=first", "10.0.0.0/8=second"]);
        assert_eq!(m.lookup(ip("10.0.0.1")), Some("first"));
    }
}
