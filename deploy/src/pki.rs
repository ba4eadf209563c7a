//! The local world's certificates. `marquee up` makes the deployment CA in `<state>/ca` on the
//! first run and issues each service's certificate into `<state>/certs` at every start (for
//! 127.0.0.1 and localhost), so a world restarted now and then never meets an expired one.
//! The operator's own certificate (`operator-marquee`) is what `marquee edge list|drain` use.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use marquee_tls::ca::{CaDir, CaError};
use marquee_tls::{Service, Tls, TlsError, TlsFiles};

use crate::state::StateDir;

/// The id of the operator certificate `marquee up` issues for the CLI.
pub const OPERATOR_ID: &str = "marquee";
const LOCAL_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("HTTPS client: {0}")]
    Client(#[from] reqwest::Error),
}

#[derive(Debug, Clone)]
pub struct LocalPki {
    ca: CaDir,
    certs: PathBuf,
}

impl LocalPki {
    /// The state's CA, made now if this is the first run.
    pub fn prepare(state: &StateDir) -> Result<Self, PkiError> {
        let ca = CaDir::new(state.root().join("ca"));
        if !ca.cert_path().exists() {
            ca.init("Marquee local world CA")?;
        }
        Ok(Self {
            ca,
            certs: state.root().join("certs"),
        })
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.ca.cert_path()
    }

    /// Issues (or renews) `service` `id`'s certificate for the local addresses.
    pub fn issue(&self, service: Service, id: &str) -> Result<TlsFiles, PkiError> {
        let hosts: Vec<String> = LOCAL_HOSTS.iter().map(|h| h.to_string()).collect();
        self.ca.issue(service, id, &hosts, &self.certs)?;
        Ok(TlsFiles::in_dir(
            &self.certs,
            self.ca.cert_path(),
            service,
            id,
        ))
    }
}

/// `--tls-cert C --tls-key K --tls-ca CA`, as every service takes them.
pub fn tls_flags(files: &TlsFiles) -> Vec<OsString> {
    let mut argv = Vec::new();
    for (flag, path) in [
        ("--tls-cert", &files.cert),
        ("--tls-key", &files.key),
        ("--tls-ca", &files.ca),
    ] {
        argv.push(flag.into());
        argv.push(path.as_os_str().to_owned());
    }
    argv
}

/// An HTTPS client presenting `files`' certificate that trusts only a control-plane of the
/// same deployment.
pub fn control_plane_client(files: &TlsFiles) -> Result<reqwest::Client, PkiError> {
    let tls = Tls::load(files)?;
    let config = tls.client_config(Some(Service::ControlPlane), &[])?;
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(Duration::from_secs(10))
        .build()?)
}
