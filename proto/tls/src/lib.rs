//! The deployment's TLS: its own CA ([`ca`]), who a certificate says its holder is
//! ([`identity`]), and the rustls configurations every Marquee service serves and dials with
//! ([`Tls`]): certificates that reload from disk without a restart, mutual TLS between
//! services, and the peer's identity read from its verified certificate.
//!
//! ```no_run
//! use marquee_tls::{ClientAuth, Tls, TlsFiles, identity::Service};
//!
//! # fn main() -> Result<(), marquee_tls::TlsError> {
//! let tls = Tls::load(&TlsFiles::in_dir("certs", "ca.pem", Service::Edge, "edge-1"))?;
//! // Viewers need no certificate; services must present one the CA issued.
//! let viewers = tls.server_config(ClientAuth::None, &[b"h2", b"http/1.1"])?;
//! let services = tls.server_config(ClientAuth::Required, &[b"h2", b"http/1.1"])?;
//! let control_plane = tls.client_config(Some(Service::ControlPlane), &[])?;
//! # Ok(()) }
//! ```

pub mod ca;
pub mod identity;
mod load;
mod reload;
#[cfg(feature = "server")]
pub mod server;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

pub use identity::{Identity, IdentityError, Service};
pub use reload::{KeyDer, ReloadingKey};

/// How often certificate files are checked for a renewal.
pub const DEFAULT_RELOAD_EVERY: Duration = Duration::from_secs(10);

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("{path}: {reason} (issue one with `marquee ca issue` or `marquee edge add`)")]
    BadCertificate { path: PathBuf, reason: String },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("certificate verification: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// The three files a service needs: its certificate chain, its private key, and the CA that
/// issued every certificate of the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl TlsFiles {
    /// The files `marquee` writes for `service` `id` into `dir` (`<service>-<id>.pem`, ...).
    pub fn in_dir(
        dir: impl AsRef<Path>,
        ca: impl Into<PathBuf>,
        service: Service,
        id: &str,
    ) -> Self {
        let stem = format!("{service}-{id}");
        let dir = dir.as_ref();
        Self {
            cert: dir.join(format!("{stem}.pem")),
            key: dir.join(format!("{stem}-key.pem")),
            ca: ca.into(),
        }
    }
}

/// Whether a server asks its clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Services only: a client without a certificate from the deployment CA is refused in the
    /// handshake.
    Required,
    /// A listener services and viewers share: a certificate is asked for, and verified when
    /// one is presented.
    Optional,
    /// Viewers only: no certificate is asked for.
    None,
}

/// A service's loaded TLS material: its reloading key, the CA roots and its own identity.
pub struct Tls {
    files: TlsFiles,
    key: Arc<ReloadingKey>,
    roots: Arc<RootCertStore>,
    ca_der: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    identity: Identity,
}

impl Tls {
    /// Loads and checks the files: the key matches the certificate, the certificate names a
    /// Marquee identity and the CA parses.
    pub fn load(files: &TlsFiles) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let ca_der = load::certificates(&files.ca)?;
        let roots = Arc::new(load::roots(&files.ca)?);
        let key = ReloadingKey::load(&files.cert, &files.key, provider.clone())?;
        let identity = key.identity();
        Ok(Arc::new(Self {
            files: files.clone(),
            key: Arc::new(key),
            roots,
            ca_der,
            provider,
            identity,
        }))
    }

    /// Who this service's certificate says it is.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The resolver serving the current certificate (for servers built elsewhere, e.g. Pingora).
    pub fn key(&self) -> Arc<ReloadingKey> {
        self.key.clone()
    }

    pub fn roots(&self) -> Arc<RootCertStore> {
        self.roots.clone()
    }

    /// The deployment CA's certificates as DER (for TLS stacks that take raw bytes).
    pub fn ca_der(&self) -> &[CertificateDer<'static>] {
        &self.ca_der
    }

    /// The verifier of clients' certificates against the deployment CA.
    pub fn client_verifier(
        &self,
        auth: ClientAuth,
    ) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
        let builder = rustls::server::WebPkiClientVerifier::builder_with_provider(
            self.roots.clone(),
            self.provider.clone(),
        );
        let builder = match auth {
            ClientAuth::Required => builder,
            ClientAuth::Optional | ClientAuth::None => builder.allow_unauthenticated(),
        };
        Ok(builder.build()?)
    }

    /// A TLS 1.2/1.3 server presenting the current certificate.
    pub fn server_config(
        &self,
        auth: ClientAuth,
        alpn: &[&[u8]],
    ) -> Result<ServerConfig, TlsError> {
        let builder = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Required | ClientAuth::Optional => {
                builder.with_client_cert_verifier(self.client_verifier(auth)?)
            }
        };
        let mut config = builder.with_cert_resolver(self.key.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    /// A client presenting this service's certificate, trusting only the deployment CA, and,
    /// when `expect` is given, only a server whose certificate names that service.
    pub fn client_config(
        &self,
        expect: Option<Service>,
        alpn: &[&[u8]],
    ) -> Result<ClientConfig, TlsError> {
        let verifier = verify::ServerIs::new(self.roots.clone(), self.provider.clone(), expect)?;
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_cert_resolver(self.key.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    /// An HTTP client builder dialling with [`Tls::client_config`]: this service's
    /// certificate, reloaded when renewed, and only servers the deployment CA issued (naming
    /// `expect`, when given).
    #[cfg(feature = "reqwest")]
    pub fn http_client(&self, expect: Option<Service>) -> Result<reqwest::ClientBuilder, TlsError> {
        let config = self.client_config(expect, &[])?;
        Ok(reqwest::Client::builder().use_preconfigured_tls(config))
    }

    /// Checks the files again; true when a new certificate was loaded. A file that does not
    /// load (half-written, wrong key) keeps the current certificate in service.
    pub fn reload(&self) -> Result<bool, TlsError> {
        self.key.reload_if_changed()
    }

    /// Reloads renewed certificates every `every` for as long as the runtime runs.
    pub fn spawn_reloader(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let tls = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                match tls.reload() {
                    Ok(true) => {
                        tracing::info!(cert = %tls.files.cert.display(), "certificate reloaded")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "certificate not reloaded; still serving the current one")
                    }
                }
            }
        })
    }
}

/// The identity a verified peer's certificate names, from the chain rustls kept.
pub fn peer_identity(chain: Option<&[CertificateDer<'_>]>) -> Option<Identity> {
    chain
        .and_then(|c| c.first())
        .and_then(|leaf| Identity::from_cert(leaf).ok())
}

/// Installs ring as the process's rustls provider (libraries that build their own configs,
/// such as Pingora and reqwest, ask for the process default). Harmless when already set.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
