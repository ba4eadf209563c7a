//! Real handshakes over loopback sockets between configs this crate builds: who gets in, who
//! is refused and why, and renewals that take effect without a restart.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use marquee_tls::ca::CaDir;
use marquee_tls::{ClientAuth, Identity, Service, Tls, TlsFiles};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct World {
    dir: tempfile::TempDir,
    ca: CaDir,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("test step");
        let ca = CaDir::new(dir.path().join("ca"));
        ca.init("Test CA").expect("test step");
        Self { dir, ca }
    }

    fn issue(&self, service: Service, id: &str) -> TlsFiles {
        let out = self.dir.path().join("certs");
        self.ca
            .issue(service, id, &["localhost".into(), "127.0.0.1".into()], &out)
            .expect("test step");
        TlsFiles::in_dir(&out, self.ca.cert_path(), service, id)
    }

    fn tls(&self, service: Service, id: &str) -> Arc<Tls> {
        Tls::load(&self.issue(service, id)).expect("test step")
    }
}

/// A server that answers each connection with the identity it read from the client's
/// certificate ("-" for none), then closes.
async fn identity_echo(tls: &Tls, auth: ClientAuth) -> SocketAddr {
    let config = Arc::new(tls.server_config(auth, &[]).expect("test step"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("test step");
    let addr = listener.local_addr().expect("test step");
    tokio::spawn(async move {
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        loop {
            let (tcp, _) = listener.accept().await.expect("test step");
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let peer = marquee_tls::peer_identity(stream.get_ref().1.peer_certificates());
                let text = peer.map_or("-".to_owned(), |p| p.uri());
                let _ = stream.write_all(text.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

async fn dial(config: rustls::ClientConfig, addr: SocketAddr) -> Result<String, String> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.expect("test step");
    let name = ServerName::try_from("localhost").expect("test step");
    let mut stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    // TLS 1.3 refuses a client certificate after the client's side of the handshake is done:
    // the refusal arrives on the first read.
    stream
        .read_to_string(&mut text)
        .await
        .map_err(|e| e.to_string())?;
    Ok(text)
}

fn peer_serial(cert: &Path) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_file(cert)
        .expect("test step")
        .to_vec()
}

#[tokio::test]
async fn services_see_each_others_identity_and_strangers_are_refused() {
    let world = World::new();
    let control_plane = world.tls(Service::ControlPlane, "cp");
    let addr = identity_echo(&control_plane, ClientAuth::Required).await;

    let edge = world.tls(Service::Edge, "edge-1");
    let seen = dial(
        edge.client_config(Some(Service::ControlPlane), &[])
            .expect("test step"),
        addr,
    )
    .await
    .expect("test step");
    assert_eq!(seen, "spiffe://marquee/edge/edge-1");

    // No client certificate on a mutual-TLS listener.
    let anonymous = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("test step")
    .with_root_certificates(control_plane.roots())
    .with_no_client_auth();
    let err = dial(anonymous, addr).await.expect_err("must fail");
    assert!(err.contains("CertificateRequired"), "{err}");

    // A certificate from another deployment's CA.
    let stranger = World::new().tls(Service::Edge, "edge-1");
    let mut foreign = stranger.client_config(None, &[]).expect("test step");
    // It must trust our server to get as far as presenting its certificate.
    foreign = rustls::ClientConfig::builder_with_provider(foreign.crypto_provider().clone())
        .with_safe_default_protocol_versions()
        .expect("test step")
        .with_root_certificates(control_plane.roots())
        .with_client_cert_resolver(stranger.key());
    let err = dial(foreign, addr).await.expect_err("must fail");
    // Same CA name, other key: the signature does not verify (`decrypt_error`); another
    // name is an unknown issuer (`unknown_ca`). Either way, refused.
    assert!(
        err.contains("UnknownCA") || err.contains("DecryptError"),
        "{err}"
    );

    // An expired certificate from the right CA.
    let out = world.dir.path().join("expired");
    let day = Duration::from_secs(86_400);
    world
        .ca
        .issue_valid(
            Service::Edge,
            "edge-2",
            &["localhost".into()],
            &out,
            SystemTime::now() - 10 * day,
            SystemTime::now() - day,
        )
        .expect("test step");
    let expired = Tls::load(&TlsFiles::in_dir(
        &out,
        world.ca.cert_path(),
        Service::Edge,
        "edge-2",
    ))
    .expect("test step");
    let err = dial(expired.client_config(None, &[]).expect("test step"), addr)
        .await
        .expect_err("must fail");
    assert!(
        err.contains("CertificateExpired") || err.contains("xpired"),
        "{err}"
    );
}

#[tokio::test]
async fn a_client_refuses_a_server_that_is_not_the_service_it_dialled() {
    let world = World::new();
    let edge = world.tls(Service::Edge, "edge-1");
    let addr = identity_echo(&edge, ClientAuth::Optional).await;
    let origin = world.tls(Service::Origin, "o1");
    let err = dial(
        origin
            .client_config(Some(Service::ControlPlane), &[])
            .expect("test step"),
        addr,
    )
    .await
    .expect_err("must fail");
    assert!(err.contains("not a control-plane"), "{err}");
    // Optional client auth: a viewer without a certificate is served.
    let viewer = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("test step")
    .with_root_certificates(edge.roots())
    .with_no_client_auth();
    assert_eq!(dial(viewer, addr).await.expect("test step"), "-");
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart_and_a_swapped_identity_is_not() {
    let world = World::new();
    let files = world.issue(Service::Edge, "edge-1");
    let edge = Tls::load(&files).expect("test step");
    let before = edge.key().certified_key().cert[0].to_vec();
    assert_eq!(before, peer_serial(&files.cert));
    assert!(!edge.reload().expect("test step"), "nothing changed yet");

    // `marquee edge add` again: a renewal into the same files.
    std::thread::sleep(Duration::from_millis(20));
    world.issue(Service::Edge, "edge-1");
    assert!(edge.reload().expect("test step"));
    let after = edge.key().certified_key().cert[0].to_vec();
    assert_ne!(after, before);
    assert_eq!(after, peer_serial(&files.cert));
    assert_eq!(
        edge.identity(),
        &Identity::new(Service::Edge, "edge-1").expect("test step")
    );

    // Someone copies another edge's certificate over this one: refused, the old one serves on.
    let other = world.issue(Service::Edge, "edge-9");
    std::fs::copy(&other.cert, &files.cert).expect("test step");
    std::fs::copy(&other.key, &files.key).expect("test step");
    let err = edge.reload().expect_err("must fail");
    assert!(err.to_string().contains("restart"), "{err}");
    assert_eq!(edge.key().certified_key().cert[0].to_vec(), after);

    // A key that does not go with the certificate is named as such.
    let third = world.issue(Service::Edge, "edge-3");
    std::fs::copy(&other.key, &third.key).expect("test step");
    let err = Tls::load(&third).err().expect("test step");
    assert!(
        err.to_string().contains("does not go with the key"),
        "{err}"
    );
}
