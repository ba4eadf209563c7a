//! The deployment's own certificate authority (rcgen): `marquee ca init` makes it once, and
//! every service's certificate is issued by it (`marquee edge add`, `marquee ca issue`).
//! A service is who its certificate says: a URI name `spiffe://marquee/<service>/<id>` (see
//! [`crate::identity`]), beside the DNS names and addresses it serves.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::ServerName;

use crate::identity::{Identity, Service};

/// A CA lives ten years; a service's certificate 90 days (reissue with the same command).
const CA_LIFETIME: Duration = Duration::from_secs(10 * 365 * 86_400);
pub const LEAF_LIFETIME: Duration = Duration::from_secs(90 * 86_400);

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "a CA already exists in {0}; it signs every certificate of the deployment, so it is not replaced (move it away first to start over)"
    )]
    Exists(PathBuf),
    #[error("no CA in {0}: create one with `marquee ca init`")]
    Missing(PathBuf),
    #[error("{0:?} is not a valid id: use 1 to 63 lowercase letters, digits and '-'")]
    BadId(String),
    #[error("{0:?} is not a host name or an IP address")]
    BadHost(String),
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
}

/// The files of a CA directory.
#[derive(Debug, Clone)]
pub struct CaDir {
    dir: PathBuf,
}

/// Where an issued certificate and its key were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub identity: String,
}

impl CaDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The CA certificate: what every client and server trusts.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("ca-key.pem")
    }

    /// Makes the CA: an ECDSA P-256 key and a self-signed certificate allowed to sign service
    /// certificates only (path length 0). Never replaces an existing one.
    pub fn init(&self, name: &str) -> Result<PathBuf, CaError> {
        if self.key_path().exists() || self.cert_path().exists() {
            return Err(CaError::Exists(self.dir.clone()));
        }
        create_dir(&self.dir)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Marquee");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let (from, to) = validity(CA_LIFETIME);
        params.not_before = from;
        params.not_after = to;
        let cert = params.self_signed(&key)?;
        write_secret(&self.key_path(), &key.serialize_pem())?;
        write(&self.cert_path(), &cert.pem())?;
        Ok(self.cert_path())
    }

    /// Issues a certificate for `service` `id`, valid for `hosts` (DNS names or addresses) as a
    /// server and as a client (services talk mutual TLS), into `out` as `<service>-<id>.pem`
    /// and `<service>-<id>-key.pem`. Issuing again replaces them (a renewal).
    pub fn issue(
        &self,
        service: Service,
        id: &str,
        hosts: &[String],
        out: &Path,
    ) -> Result<Issued, CaError> {
        let (from, to) = validity(LEAF_LIFETIME);
        self.issue_valid(service, id, hosts, out, from.into(), to.into())
    }

    /// [`CaDir::issue`] with a chosen validity: tests use it for expired and not-yet-valid
    /// certificates.
    pub fn issue_valid(
        &self,
        service: Service,
        id: &str,
        hosts: &[String],
        out: &Path,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Issued, CaError> {
        let identity = Identity::new(service, id).map_err(|_| CaError::BadId(id.to_owned()))?;
        let issuer = self.issuer()?;
        let identity = identity.uri();
        let mut names = vec![SanType::URI(identity.as_str().try_into()?)];
        for host in hosts {
            // What a TLS client would accept as a name to connect to, and nothing else.
            let bad = || CaError::BadHost(host.clone());
            names.push(
                match ServerName::try_from(host.as_str()).map_err(|_| bad())? {
                    ServerName::IpAddress(ip) => SanType::IpAddress(std::net::IpAddr::from(ip)),
                    ServerName::DnsName(dns) => {
                        SanType::DnsName(dns.as_ref().try_into().map_err(|_| bad())?)
                    }
                    _ => return Err(bad()),
                },
            );
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{} {id}", service.as_str()));
        params.subject_alt_names = names;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before.into();
        params.not_after = not_after.into();
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        create_dir(out)?;
        let stem = format!("{}-{id}", service.as_str());
        let issued = Issued {
            cert: out.join(format!("{stem}.pem")),
            key: out.join(format!("{stem}-key.pem")),
            identity,
        };
        write_secret(&issued.key, &key.serialize_pem())?;
        write(&issued.cert, &cert.pem())?;
        Ok(issued)
    }

    fn issuer(&self) -> Result<Issuer<'static, KeyPair>, CaError> {
        let read = |path: PathBuf| {
            std::fs::read_to_string(&path).map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    CaError::Missing(self.dir.clone())
                } else {
                    CaError::Io { path, source }
                }
            })
        };
        let key = KeyPair::from_pem(&read(self.key_path())?)?;
        Ok(Issuer::from_ca_cert_pem(&read(self.cert_path())?, key)?)
    }
}

/// From an hour ago (clocks differ a little between machines) to `lifetime` from now.
fn validity(lifetime: Duration) -> (time::OffsetDateTime, time::OffsetDateTime) {
    let now = time::OffsetDateTime::now_utc();
    (now - Duration::from_secs(3600), now + lifetime)
}

fn create_dir(dir: &Path) -> Result<(), CaError> {
    std::fs::create_dir_all(dir).map_err(|source| CaError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), CaError> {
    std::fs::write(path, text).map_err(|source| CaError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A private key: readable by its owner only, from the moment it exists.
fn write_secret(path: &Path, text: &str) -> Result<(), CaError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| CaError::Io {
        path: path.to_path_buf(),
        source,
    };
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::RootCertStore;
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::server::WebPkiClientVerifier;

    use super::*;

    fn pem_cert(path: &Path) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(path).unwrap()
    }

    fn roots(ca: &CaDir) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(pem_cert(&ca.cert_path())).unwrap();
        Arc::new(roots)
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn an_issued_certificate_verifies_as_server_and_client_under_its_ca_only() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CaDir::new(dir.path().join("ca"));
        ca.init("Test CA").unwrap();
        let hosts = vec!["edge-1.example".to_owned(), "127.0.0.1".to_owned()];
        let issued = ca
            .issue(Service::Edge, "edge-1", &hosts, &dir.path().join("certs"))
            .unwrap();
        assert_eq!(issued.identity, "spiffe://marquee/edge/edge-1");
        let leaf = pem_cert(&issued.cert);

        let server = WebPkiServerVerifier::builder_with_provider(roots(&ca), provider())
            .build()
            .unwrap();
        let now = UnixTime::now();
        for name in ["edge-1.example", "127.0.0.1"] {
            let name = ServerName::try_from(name).unwrap();
            server
                .verify_server_cert(&leaf, &[], &name, &[], now)
                .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        }
        let other = ServerName::try_from("origin.example").unwrap();
        assert!(
            server
                .verify_server_cert(&leaf, &[], &other, &[], now)
                .is_err()
        );
        let client = WebPkiClientVerifier::builder_with_provider(roots(&ca), provider())
            .build()
            .unwrap();
        client.verify_client_cert(&leaf, &[], now).unwrap();

        // Another deployment's CA does not vouch for it.
        let stranger = CaDir::new(dir.path().join("other"));
        stranger.init("Other CA").unwrap();
        let foreign = WebPkiServerVerifier::builder_with_provider(roots(&stranger), provider())
            .build()
            .unwrap();
        let name = ServerName::try_from("edge-1.example").unwrap();
        assert!(
            foreign
                .verify_server_cert(&leaf, &[], &name, &[], now)
                .is_err()
        );

        let text = std::fs::read_to_string(&issued.cert).unwrap();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&issued.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key is its owner's only");
    }

    #[test]
    fn the_ca_is_never_replaced_and_bad_input_says_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CaDir::new(dir.path());
        assert!(matches!(
            ca.issue(Service::Edge, "e1", &[], dir.path()),
            Err(CaError::Missing(_))
        ));
        ca.init("Test CA").unwrap();
        let before = std::fs::read(ca.cert_path()).unwrap();
        assert!(matches!(ca.init("Again"), Err(CaError::Exists(_))));
        assert_eq!(std::fs::read(ca.cert_path()).unwrap(), before);
        assert!(matches!(
            ca.issue(Service::Edge, "Edge_1", &[], dir.path()),
            Err(CaError::BadId(_))
        ));
        assert!(matches!(
            ca.issue(Service::Origin, "o1", &["not a host".into()], dir.path()),
            Err(CaError::BadHost(_))
        ));
    }
}
