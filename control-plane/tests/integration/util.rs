//! Spawning the control-plane and speaking its protobuf API.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use marquee_proto::v1::{EdgeHeartbeat, HeartbeatAck, SteeringAnswer};
use prost::Message;

/// A running control-plane, killed when dropped.
pub struct ControlPlane {
    child: Child,
    pub base: String,
    pub http: reqwest::Client,
}

impl ControlPlane {
    /// Starts the binary with `args` and waits for its "listening on" line.
    pub fn start(args: &[&str]) -> anyhow::Result<Self> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_marquee-control-plane"))
            .args(["--listen", "127.0.0.1:0"])
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
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts raw bytes as a heartbeat body; returns status and body text.
    pub async fn post_heartbeat_bytes(&self, body: Vec<u8>) -> anyhow::Result<(u16, Vec<u8>)> {
        let resp = self
            .http
            .post(self.url("/v1/heartbeat"))
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .await?;
        Ok((resp.status().as_u16(), resp.bytes().await?.to_vec()))
    }

    pub async fn heartbeat(&self, hb: &EdgeHeartbeat) -> anyhow::Result<HeartbeatAck> {
        let (status, body) = self.post_heartbeat_bytes(hb.encode_to_vec()).await?;
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

    pub async fn get_text(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let resp = self.http.get(self.url(path)).send().await?;
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
        public_url: format!("http://{id}.test:8080"),
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
