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
const SECRET_FILE: &str = "cluster-secret";

struct Node {
    child: Option<ChildGuard>,
    args: Vec<String>,
    api: String,
}

pub struct Origins {
    bin: PathBuf,
    dir: PathBuf,
    nodes: Vec<Node>,
    /// Arguments every node gets (after the generated ones).
    extra: Vec<String>,
    /// Node 1's Raft RPC port, which later nodes join; `None` for a lone single node.
    first_raft: Option<u16>,
    /// The admin's session cookie (`marquee_session=…`).
    pub cookie: String,
}

impl Origins {
    pub async fn start(bin: &Path, nodes: usize, dir: &Path) -> anyhow::Result<Origins> {
        Self::start_with(bin, nodes, dir, nodes > 1, &[]).await
    }

    /// Starts `nodes` nodes, as a Raft cluster when `cluster` (a cluster of one can take more
    /// nodes later, [`Origins::add_node`]), each with the `extra` arguments too.
    pub async fn start_with(
        bin: &Path,
        nodes: usize,
        dir: &Path,
        cluster: bool,
        extra: &[&str],
    ) -> anyhow::Result<Origins> {
        if cluster {
            std::fs::write(dir.join(SECRET_FILE), "a-benchmark-cluster-secret")?;
        }
        let mut origins = Origins {
            bin: bin.to_owned(),
            dir: dir.to_owned(),
            nodes: Vec::new(),
            extra: extra.iter().map(|a| a.to_string()).collect(),
            first_raft: if cluster { Some(free_port()?) } else { None },
            cookie: String::new(),
        };
        for _ in 0..nodes {
            origins.add_node()?;
        }
        origins.cookie = origins.admin_session().await?;
        Ok(origins)
    }

    /// Starts one more node (node 1 bootstraps; later ones join it). Returns its number
    /// (1-based).
    pub fn add_node(&mut self) -> anyhow::Result<usize> {
        let k = self.nodes.len() + 1;
        let secret = self.dir.join(SECRET_FILE);
        let api = free_port()?;
        let data = self.data_dir(k);
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
        if let Some(first) = self.first_raft {
            let port = if k == 1 { first } else { free_port()? };
            args.extend([
                "--cluster-listen".into(),
                format!("127.0.0.1:{port}"),
                "--cluster-secret-file".into(),
                secret.display().to_string(),
            ]);
            if k == 1 {
                args.push("--bootstrap".into());
            } else {
                args.extend(["--join".into(), format!("127.0.0.1:{first}")]);
            }
        }
        args.extend(self.extra.iter().cloned());
        self.nodes.push(Node {
            child: None,
            args,
            api: format!("http://127.0.0.1:{api}"),
        });
        self.restart(k)?;
        Ok(k)
    }

    /// Stops node `k` with SIGTERM and waits for it to exit.
    pub fn stop(&mut self, k: usize) {
        drop(self.nodes[k - 1].child.take());
    }

    /// The process id of node `k`, while it runs.
    pub fn pid(&self, k: usize) -> Option<u32> {
        self.nodes[k - 1].child.as_ref().map(ChildGuard::id)
    }

    /// Node `k`'s data directory.
    pub fn data_dir(&self, k: usize) -> PathBuf {
        self.dir.join(format!("origin-{k}"))
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
        // Long: a joining node prints it only once it has caught up, which may mean streaming
        // and loading a snapshot of gigabytes. A node that exits fails this at once.
        if rx.recv_timeout(Duration::from_secs(1800)).is_err() {
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
        session_cookie(&resp)
    }
}

/// The `marquee_session=…` cookie a sign-up or sign-in answer sets.
pub fn session_cookie(resp: &reqwest::Response) -> anyhow::Result<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';')
                .next()
                .filter(|c| c.starts_with("marquee_session="))
        })
        .map(str::to_owned)
        .context("no session cookie")
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
