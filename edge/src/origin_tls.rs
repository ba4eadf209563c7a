//! Fills over mutual TLS: the edge dials origin's services listener presenting its own
//! certificate and trusting only the deployment CA, with origin's host name checked.
//!
//! Pingora takes a client certificate as DER bytes on each peer (and pools connections per
//! certificate), so the current one is rebuilt only when the reloading key has a new
//! certificate: renewals reach new fills without a restart.

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use marquee_tls::{KeyDer, ReloadingKey, Tls};
use pingora_core::protocols::tls::CaType;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_core::utils::tls::{CertKey, WrappedX509, parse_x509};

pub struct OriginTls {
    key: Arc<ReloadingKey>,
    ca: Arc<CaType>,
    /// The DER the current `CertKey` was made from, to notice a reload by pointer.
    current: ArcSwap<(Arc<KeyDer>, Arc<CertKey>)>,
}

fn cert_key(der: &KeyDer) -> Arc<CertKey> {
    Arc::new(CertKey::new(der.chain.clone(), der.key.clone()))
}

impl OriginTls {
    pub fn new(tls: &Tls) -> Self {
        let key = tls.key();
        let ca: Vec<WrappedX509> = tls
            .ca_der()
            .iter()
            .map(|c| WrappedX509::new(c.to_vec(), parse_x509))
            .collect();
        let der = key.key_der();
        let current = ArcSwap::from_pointee((der.clone(), cert_key(&der)));
        Self {
            key,
            ca: Arc::from(ca.into_boxed_slice()),
            current,
        }
    }

    /// A peer for origin node `addr`, whose certificate must name `server_name`.
    pub fn peer(&self, addr: SocketAddr, server_name: &str) -> HttpPeer {
        let mut peer = HttpPeer::new_mtls(addr, server_name.to_owned(), self.client_cert());
        peer.options.ca = Some(self.ca.clone());
        peer
    }

    fn client_cert(&self) -> Arc<CertKey> {
        let der = self.key.key_der();
        let current = self.current.load();
        if Arc::ptr_eq(&current.0, &der) {
            return current.1.clone();
        }
        let fresh = cert_key(&der);
        self.current.store(Arc::new((der, fresh.clone())));
        fresh
    }
}
