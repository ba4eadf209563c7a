//! Spawning the control-plane with a deployment CA of its own and speaking its protobuf API as
//! the services that may: each edge with its own certificate, origin, an operator.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use marquee_proto::v1::{EdgeHeartbeat, HeartbeatAck, SteeringAnswer};
use marquee_tls::ca::CaDir;
use marquee_tls::{Service, Tls, TlsFiles};
use prost::Message;

/// A deployment CA in a temporary directory, issuing certificates for 127.0.0.1.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca: CaDir,
}

impl Pki {
    pub fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let ca = CaDir::new(dir.path().join("ca"));
        ca.init("Test CA")?;
        Ok(Self { dir, ca })
    }

    pub fn issue(&self, service: Service, id: &str) -> anyhow::Result<TlsFiles> {
        let out = self.dir.path().join("certs");
        self.ca.issue(service, id, &["127.0.0.1".into()], &out)?;
        Ok(TlsFiles::in_dir(&out, self.ca.cert_path(), service, id))
    }

    /// An HTTPS client presenting `service` `id`'s certificate, trusting only this CA's
    /// control-plane.
    pub fn client(&self, service: Service, id: &str) -> anyhow::Result<reqwest::Client> {
        let tls = Tls::load(&self.issue(service, id)?)?;
        let config = tls.client_config(Some(Service::ControlPlane), &[])?;
        Ok(reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .timeout(Duration::from_secs(10))
            .build()?)
    }
}

/// Heartbeat stamps later than every earlier one, as a live edge's clock gives.
pub fn fresh_stamp() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let prev = LAST.fetch_max(now, Ordering::SeqCst);
    if prev >= now {
        LAST.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        now
    }
}

/// A running control-plane, killed when dropped.
pub struct ControlPlane {
    child: Child,
    pub base: String,
    pub pki: Pki,
    /// Origin's client: steering.
    pub http: reqwest::Client,
    /// An operator's client: listing, draining, metrics.
    pub operator: reqwest::Client,
    edges: Mutex<HashMap<String, reqwest::Client>>,
}

impl ControlPlane {
    /// Starts the binary with `args` and waits for its "listening on" line.
    pub fn start(args: &[&str]) -> anyhow::Result<Self> {
        Self::start_with(Pki::new()?, args)
    }

    /// Starts it with the certificates of `pki` (to restart in the same deployment).
    pub fn start_with(pki: Pki, args: &[&str]) -> anyhow::Result<Self> {
        let files = pki.issue(Service::ControlPlane, "cp")?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_marquee-control-plane"))
            .args(["--listen", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(&files.cert)
            .arg("--tls-key")
            .arg(&files.key)
            .arg("--tls-ca")
            .arg(&files.ca)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("spawning marquee-control-plane")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let prefix = "marquee-control-plane listening on ";
        let Some(base) = line.trim().strip_prefix(prefix) else {
            let _ = child.kill();
            bail!("unexpected first stdout line {line:?}");
        };
        Ok(Self {
            base: base.to_owned(),
            child,
            http: pki.client(Service::Origin, "origin-1")?,
            operator: pki.client(Service::Operator, "alice")?,
            pki,
            edges: Mutex::default(),
        })
    }

    /// The client of edge `id`, with its own certificate.
    pub fn edge_client(&self, id: &str) -> anyhow::Result<reqwest::Client> {
        let mut edges = self.edges.lock().expect("test step");
        if let Some(c) = edges.get(id) {
            return Ok(c.clone());
        }
        let client = self.pki.client(Service::Edge, id)?;
        edges.insert(id.to_owned(), client.clone());
        Ok(client)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts raw bytes as a heartbeat body from edge "e"; returns status and body text.
    pub async fn post_heartbeat_bytes(&self, body: Vec<u8>) -> anyhow::Result<(u16, Vec<u8>)> {
        self.post_heartbeat_as("e", body).await
    }

    /// Posts raw bytes as a heartbeat body with edge `id`'s certificate.
    pub async fn post_heartbeat_as(
        &self,
        id: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let resp = self
            .edge_client(id)?
            .post(self.url("/v1/heartbeat"))
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .await?;
        Ok((resp.status().as_u16(), resp.bytes().await?.to_vec()))
    }

    /// Sends `hb` as its own edge would, stamped now.
    pub async fn heartbeat(&self, hb: &EdgeHeartbeat) -> anyhow::Result<HeartbeatAck> {
        let hb = EdgeHeartbeat {
            sent_at_unix_ms: fresh_stamp(),
            ..hb.clone()
        };
        let (status, body) = self
            .post_heartbeat_as(&hb.edge_id, hb.encode_to_vec())
            .await?;
        if status != 200 {
            bail!(
                "heartbeat answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(HeartbeatAck::decode(body.as_slice())?)
    }

    /// `GET /v1/steer?<query>`: status, content type and raw body.
    pub async fn steer_raw(&self, query: &str) -> anyhow::Result<(u16, String, Vec<u8>)> {
        let resp = self
            .http
            .get(self.url(&format!("/v1/steer?{query}")))
            .send()
            .await?;
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((resp.status().as_u16(), ctype, resp.bytes().await?.to_vec()))
    }

    pub async fn steer(&self, query: &str) -> anyhow::Result<SteeringAnswer> {
        let (status, _, body) = self.steer_raw(query).await?;
        if status != 200 {
            bail!(
                "steer answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(SteeringAnswer::decode(body.as_slice())?)
    }

    /// Edge ids of a steering answer, best first.
    pub async fn steer_ids(&self, query: &str) -> anyhow::Result<Vec<String>> {
        Ok(self
            .steer(query)
            .await?
            .edges
            .into_iter()
            .map(|e| e.edge_id)
            .collect())
    }

    /// `GET path` as an operator.
    pub async fn get_text(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let resp = self.operator.get(self.url(path)).send().await?;
        Ok((resp.status().as_u16(), resp.text().await?))
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("control-plane did not exit within 5 s of SIGTERM")
    }
}

impl ControlPlane {
    /// Stops the process and hands back its CA, for a restart.
    pub fn stop(mut self) -> Pki {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let pki = std::mem::replace(&mut self.pki, Pki::empty());
        drop(self);
        pki
    }
}

impl Pki {
    /// A placeholder left behind by [`ControlPlane::stop`].
    fn empty() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = CaDir::new(dir.path());
        Self { dir, ca }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A heartbeat from an edge with known capacity.
pub fn edge(id: &str, region: &str, active: u32, capacity: u32) -> EdgeHeartbeat {
    EdgeHeartbeat {
        edge_id: id.into(),
        region: region.into(),
        public_url: format!("https://{id}.test:8443"),
        capacity_rps: capacity,
        active_requests: active,
        ..Default::default()
    }
}

/// The two-region world most tests use.
pub const TWO_REGIONS: &[&str] = &[
    "--region-prefix",
    "10.1.0.0/16=eu-west",
    "--region-prefix",
    "10.2.0.0/16=us-east",
    "--region-prefix",
    "2001:db8:2::/48=us-east",
    "--default-region",
    "eu-west",
];
