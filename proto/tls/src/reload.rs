//! A certificate and key that are swapped in place when their files change, so renewals take
//! effect on the next handshake without a restart (rustls asks the resolver every time).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::identity::Identity;
use crate::{TlsError, load};

/// What the files looked like when last loaded (size and modification time of both).
type Stamp = [(u64, Option<SystemTime>); 2];

#[derive(Debug)]
pub struct ReloadingKey {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<Loaded>,
    stamp: Mutex<Stamp>,
}

#[derive(Debug)]
struct Loaded {
    key: Arc<CertifiedKey>,
    der: Arc<KeyDer>,
    identity: Identity,
}

/// The loaded certificate chain and private key as DER, for TLS stacks that take raw bytes
/// rather than a rustls resolver (Pingora's upstream peers).
#[derive(Debug)]
pub struct KeyDer {
    /// Leaf first.
    pub chain: Vec<Vec<u8>>,
    pub key: Vec<u8>,
}

fn stamp(paths: [&Path; 2]) -> Stamp {
    paths.map(|p| match std::fs::metadata(p) {
        Ok(m) => (m.len(), m.modified().ok()),
        Err(_) => (0, None),
    })
}

fn load_pair(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<Loaded, TlsError> {
    let chain = load::certificates(cert)?;
    let bad = |reason: String| TlsError::BadCertificate {
        path: cert.to_path_buf(),
        reason,
    };
    let identity = Identity::from_cert(&chain[0]).map_err(|e| bad(e.to_string()))?;
    let private = load::private_key(key)?;
    let der = Arc::new(KeyDer {
        chain: chain.iter().map(|c| c.to_vec()).collect(),
        key: private.secret_der().to_vec(),
    });
    let certified = CertifiedKey::from_der(chain, private, provider).map_err(|e| {
        bad(format!(
            "does not go with the key in {}: {e}",
            key.display()
        ))
    })?;
    Ok(Loaded {
        key: Arc::new(certified),
        der,
        identity,
    })
}

impl ReloadingKey {
    pub fn load(cert: &Path, key: &Path, provider: Arc<CryptoProvider>) -> Result<Self, TlsError> {
        let before = stamp([cert, key]);
        let loaded = load_pair(cert, key, &provider)?;
        Ok(Self {
            cert_path: cert.to_path_buf(),
            key_path: key.to_path_buf(),
            provider,
            current: ArcSwap::from_pointee(loaded),
            stamp: Mutex::new(before),
        })
    }

    pub fn identity(&self) -> Identity {
        self.current.load().identity.clone()
    }

    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        self.current.load().key.clone()
    }

    /// The current certificate and key as DER; a new `Arc` after each reload.
    pub fn key_der(&self) -> Arc<KeyDer> {
        self.current.load().der.clone()
    }

    /// Loads the files again when their size or time changed. A renewal must keep the
    /// identity: a file swapped for another service's is refused.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let mut last = self.stamp.lock().unwrap_or_else(|p| p.into_inner());
        let now = stamp([&self.cert_path, &self.key_path]);
        if now == *last {
            return Ok(false);
        }
        let loaded = load_pair(&self.cert_path, &self.key_path, &self.provider)?;
        let was = self.identity();
        if loaded.identity != was {
            *last = now;
            return Err(TlsError::BadCertificate {
                path: self.cert_path.clone(),
                reason: format!(
                    "now names {} where it named {was}; restart the service to change who it is",
                    loaded.identity
                ),
            });
        }
        self.current.store(Arc::new(loaded));
        *last = now;
        Ok(true)
    }
}

impl ResolvesServerCert for ReloadingKey {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certified_key())
    }
}

impl ResolvesClientCert for ReloadingKey {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.certified_key())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
