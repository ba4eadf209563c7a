//! Loopback ports and the one-line "listening on" handshake services print on stdout.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// Picks a TCP port on 127.0.0.1 that is free right now, by binding port 0 and dropping the
/// listener. Another process may take it before the caller binds it; the window is small and
/// the caller notices (its child fails to start), which is acceptable for a local world.
pub fn free_port() -> io::Result<u16> {
    free_port_on(Ipv4Addr::LOCALHOST)
}

/// A port free on `address` right now.
pub fn free_port_on(address: Ipv4Addr) -> io::Result<u16> {
    let listener = TcpListener::bind(SocketAddr::from((address, 0)))?;
    Ok(listener.local_addr()?.port())
}

/// Reads the URL out of the line a service prints once it accepts connections:
/// `marquee-<service> listening on http(s)://127.0.0.1:PORT` (docs/interfaces.md).
/// Returns `None` for any other line, including another service's.
pub fn parse_listening_line(binary: &str, line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix(binary)?;
    let url = rest.strip_prefix(" listening on ")?.trim();
    let (scheme, authority) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host_port = authority.trim_end_matches('/');
    // Accept only a real socket address, so a stray log line cannot pass for the handshake.
    host_port.parse::<SocketAddr>().ok()?;
    Some(format!("{scheme}://{host_port}"))
}

/// The `host:port` part of an `http://host:port` URL.
pub fn authority(url: &str) -> &str {
    url.strip_prefix("http://")
        .unwrap_or(url)
        .trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_is_nonzero_and_bindable() {
        let port = free_port().expect("free port");
        assert_ne!(port, 0);
        let again = TcpListener::bind(("127.0.0.1", port));
        assert!(
            again.is_ok(),
            "port {port} should be bindable after picking it"
        );
    }

    #[test]
    fn free_ports_differ_while_held() {
        // Two listeners held at once can never share a port.
        let a = TcpListener::bind("127.0.0.1:0").expect("bind");
        let b = free_port().expect("free port");
        assert_ne!(a.local_addr().expect("addr").port(), b);
    }

    #[test]
    fn parses_the_handshake_line() {
        let line = "marquee-origin listening on http://127.0.0.1:43121\n";
        assert_eq!(
            parse_listening_line("marquee-origin", line).as_deref(),
            Some("http://127.0.0.1:43121")
        );
        assert_eq!(
            parse_listening_line(
                "marquee-control-plane",
                "marquee-control-plane listening on http://127.0.0.1:9/"
            )
            .as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(
            parse_listening_line(
                "marquee-control-plane",
                "marquee-control-plane listening on https://127.0.0.1:9"
            )
            .as_deref(),
            Some("https://127.0.0.1:9")
        );
    }

    #[test]
    fn rejects_other_lines() {
        for line in [
            "marquee-edge listening on http://127.0.0.1:80",
            "marquee-origin listening on ftp://127.0.0.1:80",
            "marquee-origin listening on http://localhost:80",
            "marquee-origin listening on http://127.0.0.1:notaport",
            "marquee-origin started",
            "",
            "INFO marquee-origin listening on http://127.0.0.1:80",
        ] {
            assert_eq!(
                parse_listening_line("marquee-origin", line),
                None,
                "{line:?}"
            );
        }
    }

    #[test]
    fn authority_strips_scheme() {
        assert_eq!(authority("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(authority("127.0.0.1:8080"), "127.0.0.1:8080");
    }
}
