//! Who holds a certificate: one URI name `spiffe://marquee/<service>/<id>` (the SPIFFE form,
//! so tools that know it read it). Servers read it from a client's certificate after the
//! handshake and authorise by it, never by a name the client puts in a message.

use std::fmt;
use std::str::FromStr;

use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;

/// The trust domain in every service's URI name.
pub const TRUST_DOMAIN: &str = "marquee";

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Edge,
    Origin,
    ControlPlane,
    /// A person's tool (`marquee edge drain`, purges): may run the fleet, serves nothing.
    Operator,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::Edge,
        Service::Origin,
        Service::ControlPlane,
        Service::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Edge => "edge",
            Service::Origin => "origin",
            Service::ControlPlane => "control-plane",
            Service::Operator => "operator",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Service {
    type Err = IdentityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Service::ALL
            .into_iter()
            .find(|svc| svc.as_str() == s)
            .ok_or_else(|| IdentityError::UnknownService(s.to_owned()))
    }
}

/// A service and its id, as a certificate names them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub service: Service,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("{0:?} is not a valid id: use 1 to 63 lowercase letters, digits and '-'")]
    BadId(String),
    #[error("{0:?} is not a service: use edge, origin, control-plane or operator")]
    UnknownService(String),
    #[error("the certificate cannot be read: {0}")]
    Unparsable(String),
    #[error("the certificate names no Marquee identity (spiffe://{TRUST_DOMAIN}/<service>/<id>)")]
    Missing,
    #[error("the certificate names more than one Marquee identity")]
    Ambiguous,
}

impl Identity {
    pub fn new(service: Service, id: &str) -> Result<Self, IdentityError> {
        check_id(id)?;
        Ok(Self {
            service,
            id: id.to_owned(),
        })
    }

    /// The URI name written into the certificate.
    pub fn uri(&self) -> String {
        format!("spiffe://{TRUST_DOMAIN}/{}/{}", self.service, self.id)
    }

    /// Reads a `spiffe://marquee/<service>/<id>` URI; `None` for any other URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        let rest = uri.strip_prefix("spiffe://")?.strip_prefix(TRUST_DOMAIN)?;
        let (service, id) = rest.strip_prefix('/')?.split_once('/')?;
        Identity::new(service.parse().ok()?, id).ok()
    }

    /// The identity a (verified) certificate names: exactly one URI of this trust domain.
    pub fn from_cert(cert: &CertificateDer<'_>) -> Result<Self, IdentityError> {
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|e| IdentityError::Unparsable(e.to_string()))?;
        let names = parsed
            .subject_alternative_name()
            .map_err(|e| IdentityError::Unparsable(e.to_string()))?;
        let mut found = names
            .into_iter()
            .flat_map(|ext| ext.value.general_names.iter())
            .filter_map(|name| match name {
                GeneralName::URI(uri) => Identity::from_uri(uri),
                _ => None,
            });
        let first = found.next().ok_or(IdentityError::Missing)?;
        match found.next() {
            Some(_) => Err(IdentityError::Ambiguous),
            None => Ok(first),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.service, self.id)
    }
}

/// Ids name files and URI paths: keep them to DNS-label characters.
fn check_id(id: &str) -> Result<(), IdentityError> {
    let ok = (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(IdentityError::BadId(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_and_foreign_ones_are_ignored() {
        let edge = Identity::new(Service::Edge, "edge-eu-1").unwrap();
        assert_eq!(edge.uri(), "spiffe://marquee/edge/edge-eu-1");
        assert_eq!(Identity::from_uri(&edge.uri()), Some(edge));
        for other in [
            "spiffe://other/edge/e1",
            "spiffe://marquee/printer/e1",
            "spiffe://marquee/edge/E1",
            "spiffe://marquee/edge/e1/extra",
            "https://marquee/edge/e1",
            "spiffe://marqueeX/edge/e1",
        ] {
            assert_eq!(Identity::from_uri(other), None, "{other}");
        }
    }

    #[test]
    fn services_parse_by_name_and_say_what_exists() {
        assert_eq!("control-plane".parse(), Ok(Service::ControlPlane));
        let err = "cdn".parse::<Service>().unwrap_err();
        assert!(err.to_string().contains("edge, origin"), "{err}");
    }
}
