//! The benchmark's own CA and one server certificate for 127.0.0.1/localhost: the edge and
//! nginx serve the same certificate and key, so the TLS work is the same for both.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use marquee_tls::ca::CaDir;
use marquee_tls::{Service, Tls, TlsFiles};

/// Issues the CA and an edge certificate under `dir`; returns the files and the loaded roots.
pub fn bench_certificate(dir: &Path) -> anyhow::Result<(TlsFiles, Arc<Tls>)> {
    let ca = CaDir::new(dir.join("ca"));
    ca.init("Marquee bench CA").context("making the bench CA")?;
    let certs = dir.join("certs");
    let hosts = ["127.0.0.1".to_owned(), "localhost".to_owned()];
    ca.issue(Service::Edge, "bench-edge", &hosts, &certs)
        .context("issuing the bench certificate")?;
    let files = TlsFiles::in_dir(&certs, ca.cert_path(), Service::Edge, "bench-edge");
    let tls = Tls::load(&files).context("loading the bench certificate")?;
    Ok((files, tls))
}
