//! Where a viewer is: the client's address, mapped to a country by an operator's table of
//! address prefixes (`--country-prefixes`). Today it names the country of "Top 10 in <country>
//! today" and of the plays counted there; territory windows will ask the same table.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use axum::http::HeaderMap;
use ipnet::IpNet;
use isocountry::CountryCode;

/// Address prefixes to countries; the longest matching prefix wins.
#[derive(Debug, Default, Clone)]
pub struct Countries {
    /// Longest prefix first.
    prefixes: Vec<(IpNet, CountryCode)>,
}

impl Countries {
    /// Reads a TOML file of `"<prefix>" = "<ISO 3166-1 alpha-2 code>"` lines; `None`: no table.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let table: BTreeMap<String, String> =
            toml::from_str(text).map_err(|e| format!("not a table of prefix = country: {e}"))?;
        let mut prefixes = Vec::with_capacity(table.len());
        for (prefix, code) in table {
            let net: IpNet = prefix.parse().map_err(|_| {
                format!("{prefix:?} is not an address prefix such as \"203.0.113.0/24\"")
            })?;
            let country = CountryCode::for_alpha2_caseless(code.trim()).map_err(|_| {
                format!("{code:?} (for {prefix}) is not an ISO 3166-1 country code such as \"NZ\"")
            })?;
            prefixes.push((net.trunc(), country));
        }
        prefixes.sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
        Ok(Self { prefixes })
    }

    /// The country `ip` is in, as its alpha-2 code, if the table knows.
    pub fn of(&self, ip: IpAddr) -> Option<&'static str> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.prefixes
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map(|(_, c)| c.alpha2())
    }
}

/// The viewer's address: the first `X-Forwarded-For` hop when a proxy of ours in front set one
/// (`trusted`: an edge on the services listener, or the local world's front door on this
/// machine), else the peer. A viewer's own header is never believed: it would pick its country.
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr, trusted: bool) -> IpAddr {
    let forwarded = || {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    };
    trusted.then(forwarded).flatten().unwrap_or(peer.ip())
}

/// Extractor for [`client_ip`]: trusts `X-Forwarded-For` from a peer with a deployment
/// certificate (the services listener) or from the loopback address.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
        let service = parts
            .extensions
            .get::<marquee_tls::server::PeerIdentity>()
            .is_some_and(|p| p.0.is_some());
        let trusted = service || peer.ip().is_loopback();
        Ok(Self(client_ip(&parts.headers, peer, trusted)))
    }
}

/// How a country is named in a sentence ("Top 10 in New Zealand today"): the ISO name, short.
pub fn display_name(code: &str) -> Option<String> {
    let country = CountryCode::for_alpha2_caseless(code).ok()?;
    let spoken = match country.alpha2() {
        "GB" => "the UK",
        "US" => "the US",
        "NL" => "the Netherlands",
        "PH" => "the Philippines",
        "AE" => "the UAE",
        "DO" => "the Dominican Republic",
        "KR" => "South Korea",
        "KP" => "North Korea",
        "RU" => "Russia",
        "VN" => "Vietnam",
        "LA" => "Laos",
        "SY" => "Syria",
        "MD" => "Moldova",
        "CD" => "DR Congo",
        // "Bolivia (Plurinational State of)", "Tanzania, United Republic of": the first part.
        _ => {
            let name = country.name();
            let name = name.split(" (").next().unwrap_or(name);
            return Some(name.split(',').next().unwrap_or(name).to_owned());
        }
    };
    Some(spoken.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_address_counts_only_from_a_proxy_of_ours() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.7, 10.0.0.1".parse().unwrap());
        let peer: SocketAddr = "198.51.100.2:5000".parse().unwrap();
        assert_eq!(client_ip(&headers, peer, true).to_string(), "203.0.113.7");
        assert_eq!(client_ip(&headers, peer, false).to_string(), "198.51.100.2");
        assert_eq!(client_ip(&HeaderMap::new(), peer, true), peer.ip());
    }

    #[test]
    fn the_longest_prefix_names_the_country() {
        let table = Countries::parse(
            r#"
            "203.0.113.0/24" = "NZ"
            "203.0.113.128/25" = "au"
            "2001:db8::/32" = "FR"
            "#,
        )
        .unwrap();
        let of = |ip: &str| table.of(ip.parse().unwrap());
        assert_eq!(of("203.0.113.7"), Some("NZ"));
        assert_eq!(of("203.0.113.200"), Some("AU"), "the /25 is more specific");
        assert_eq!(
            of("::ffff:203.0.113.9"),
            Some("NZ"),
            "an IPv4-mapped address"
        );
        assert_eq!(of("2001:db8::1"), Some("FR"));
        assert_eq!(of("198.51.100.1"), None);
        assert!(
            Countries::default()
                .of("203.0.113.7".parse().unwrap())
                .is_none()
        );
    }

    #[test]
    fn a_bad_line_says_what_is_wrong() {
        let e = Countries::parse(r#""203.0.113.0/24" = "XX""#).unwrap_err();
        assert!(e.contains("\"XX\"") && e.contains("ISO 3166-1"), "{e}");
        let e = Countries::parse(r#""not-a-net" = "NZ""#).unwrap_err();
        assert!(e.contains("not an address prefix"), "{e}");
    }

    #[test]
    fn countries_read_well_in_a_sentence() {
        assert_eq!(display_name("nz").as_deref(), Some("New Zealand"));
        assert_eq!(display_name("GB").as_deref(), Some("the UK"));
        assert_eq!(display_name("BO").as_deref(), Some("Bolivia"));
        assert_eq!(display_name("TZ").as_deref(), Some("Tanzania"));
        assert_eq!(display_name("ZZ"), None);
    }
}
