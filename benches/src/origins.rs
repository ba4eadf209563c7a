//! An origin cluster of real `marquee-origin` processes on loopback (1 node, or N forming a
//! Raft cluster), with an admin session for writes, and the means to kill and restart nodes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::procs::{ChildGuard, free_port};

pub const ADMIN: &str = "bench@marquee.local";
const PASSWORD: &str = "benchmark password";

struct Node {
    child: Option<ChildGuard>,
    args: Vec<String>,
    api: String,
}

pub struct Origins {
    bin: PathBuf,
    dir: PathBuf,
    nodes: Vec<Node>,
    /// The admin's session cookie (`marquee_session=…`).
    pub cookie: String,
}

impl Origins {
    pub async fn start(bin: &Path, nodes: usize, dir: &Path) -> anyhow::Result<Origins> {
        let secret = dir.join("cluster-secret");
        std::fs::write(&secret, "a-benchmark-cluster-secret")?;
        let raft: Vec<u16> = (0..nodes)
            .map(|_| free_port())
            .collect::<anyhow::Result<_>>()?;
        let mut origins = Origins {
            bin: bin.to_owned(),
            dir: dir.to_owned(),
            nodes: Vec::new(),
            cookie: String::new(),
        };
        for k in 1..=nodes {
            let api = free_port()?;
            let data = dir.join(format!("origin-{k}"));
            let mut args: Vec<String> = vec![
                "--listen".into(),
                format!("127.0.0.1:{api}"),
                "--data-dir".into(),
                data.display().to_string(),
                "--admin-email".into(),
                ADMIN.into(),
                "--web-dir".into(),
                "/nonexistent".into(),
                "--node-id".into(),
                k.to_string(),
            ];
            if nodes > 1 {
                args.extend([
                    "--cluster-listen".into(),
                    format!("127.0.0.1:{}", raft[k - 1]),
                    "--cluster-secret-file".into(),
                    secret.display().to_string(),
                ]);
                if k == 1 {
                    args.push("--bootstrap".into());
                } else {
                    args.extend(["--join".into(), format!("127.0.0.1:{}", raft[0])]);
                }
            }
            origins.nodes.push(Node {
                child: None,
                args,
                api: format!("http://127.0.0.1:{api}"),
            });
            origins.restart(k)?;
        }
        origins.cookie = origins.admin_session().await?;
        Ok(origins)
    }

    pub fn api_urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.api.clone()).collect()
    }

    /// (Re)starts node `k` (1-based); returns once it prints its listening line.
    pub fn restart(&mut self, k: usize) -> anyhow::Result<()> {
        let node = &mut self.nodes[k - 1];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("origin-{k}.log")))?;
        let mut cmd = Command::new(&self.bin);
        cmd.args(&node.args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = ChildGuard::spawn(&format!("origin {k}"), &mut cmd)?;
        let stdout = child.take_stdout().context("origin stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains(" listening on ") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(120)).is_err() {
            bail!("origin {k} did not start; see {}", self.dir.display());
        }
        node.child = Some(child);
        Ok(())
    }

    /// SIGKILL node `k`.
    pub fn kill(&mut self, k: usize) {
        if let Some(child) = self.nodes[k - 1].child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status();
            drop(child);
        }
    }

    /// The leading node (1-based), once one leads.
    pub async fn leader(&self) -> anyhow::Result<usize> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            for (i, base) in self.api_urls().iter().enumerate() {
                let Ok(resp) = http.get(format!("{base}/healthz")).send().await else {
                    continue;
                };
                let text = resp.text().await.unwrap_or_default();
                if text.starts_with("ok") && (self.nodes.len() == 1 || text.contains("role=Leader"))
                {
                    return Ok(i + 1);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("no origin leader within 30 s")
    }

    async fn admin_session(&self) -> anyhow::Result<String> {
        self.leader().await?;
        let http = reqwest::Client::new();
        let body = serde_json::json!({"email": ADMIN, "password": PASSWORD});
        let resp = http
            .post(format!("{}/api/v1/accounts", self.nodes[0].api))
            .json(&body)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("creating the bench admin failed: {}", resp.status());
        }
        let cookie = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()
                    .filter(|c| c.starts_with("marquee_session="))
            })
            .context("no session cookie")?
            .to_owned();
        Ok(cookie)
    }
}

/// A title of about `size` bytes of JSON: one durable write through the public API.
pub fn title_body(name: &str, size: usize) -> serde_json::Value {
    let synopsis = "x".repeat(size.saturating_sub(150));
    serde_json::json!({"name": name, "synopsis": synopsis, "year": 2024, "genres": ["bench"],
                       "maturity_rating": "G", "kind": "film"})
}

/// Creates a title through node `base`; true when acknowledged (201).
pub async fn create_title(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    body: &serde_json::Value,
) -> bool {
    http.post(format!("{base}/api/v1/admin/titles"))
        .header(reqwest::header::COOKIE, cookie)
        .json(body)
        .send()
        .await
        .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED)
}
