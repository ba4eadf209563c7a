//! Server verification for service-to-service calls: the deployment CA's WebPKI checks (chain,
//! expiry, host name), then the service the certificate names, so an edge's certificate can
//! never pass for the control-plane's even on a shared host name.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::identity::{Identity, Service};

#[derive(Debug)]
pub(crate) struct ServerIs {
    webpki: Arc<WebPkiServerVerifier>,
    expect: Option<Service>,
}

impl ServerIs {
    pub(crate) fn new(
        roots: Arc<RootCertStore>,
        provider: Arc<CryptoProvider>,
        expect: Option<Service>,
    ) -> Result<Self, crate::TlsError> {
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider).build()?;
        Ok(Self { webpki, expect })
    }
}

impl ServerCertVerifier for ServerIs {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        if let Some(expect) = self.expect {
            let named = Identity::from_cert(end_entity)
                .map_err(|e| rustls::Error::General(format!("server certificate: {e}")))?;
            if named.service != expect {
                return Err(rustls::Error::General(format!(
                    "the server's certificate names {named}, not a {expect}"
                )));
            }
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
