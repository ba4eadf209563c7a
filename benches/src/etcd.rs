//! A 3-node etcd cluster on loopback (Debian's `etcd-server`), durable as shipped: every commit
//! fsync'd on a quorum. Puts go through etcd's HTTP/JSON gateway, so both peers are measured
//! through the same kind of client.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::procs::{ChildGuard, find_program, free_port, wait_for_port};

pub struct Etcd {
    _children: Vec<ChildGuard>,
    pub client_urls: Vec<String>,
}

/// `etcd`, installing Debian's etcd-server when root and it is missing.
pub fn ensure_etcd() -> anyhow::Result<std::path::PathBuf> {
    if let Some(p) = find_program("etcd") {
        return Ok(p);
    }
    if !crate::procs::is_root() {
        bail!("etcd is missing: apt-get install -y etcd-server");
    }
    eprintln!("installing etcd-server (Debian) for the comparison");
    let ok = Command::new("apt-get")
        .args(["install", "-y", "-q", "etcd-server"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?
        .success();
    if !ok {
        bail!("apt-get install etcd-server failed");
    }
    find_program("etcd").context("etcd-server installed no etcd binary")
}

/// Starts `nodes` members, each with `GOMAXPROCS=threads` when given.
pub async fn start(nodes: usize, dir: &Path, threads: Option<usize>) -> anyhow::Result<Etcd> {
    let etcd = ensure_etcd()?;
    let ports: Vec<(u16, u16)> = (0..nodes)
        .map(|_| Ok((free_port()?, free_port()?)))
        .collect::<anyhow::Result<_>>()?;
    let initial: Vec<String> = ports
        .iter()
        .enumerate()
        .map(|(i, (_, peer))| format!("e{i}=http://127.0.0.1:{peer}"))
        .collect();
    let mut children = Vec::new();
    let mut client_urls = Vec::new();
    for (i, (client, peer)) in ports.iter().enumerate() {
        let log = std::fs::File::create(dir.join(format!("etcd-{i}.log")))?;
        let mut cmd = Command::new(&etcd);
        cmd.args(["--name", &format!("e{i}")])
            .arg("--data-dir")
            .arg(dir.join(format!("etcd-{i}")))
            .args([
                "--listen-client-urls",
                &format!("http://127.0.0.1:{client}"),
            ])
            .args([
                "--advertise-client-urls",
                &format!("http://127.0.0.1:{client}"),
            ])
            .args(["--listen-peer-urls", &format!("http://127.0.0.1:{peer}")])
            .args([
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
            ])
            .args(["--initial-cluster", &initial.join(",")])
            .args([
                "--initial-cluster-state",
                "new",
                "--initial-cluster-token",
                "bench",
            ])
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(n) = threads {
            cmd.env("GOMAXPROCS", n.to_string());
        }
        children.push(ChildGuard::spawn(&format!("etcd {i}"), &mut cmd)?);
        client_urls.push(format!("http://127.0.0.1:{client}"));
    }
    for (child, (client, _)) in children.iter_mut().zip(&ports) {
        wait_for_port(child, *client, Duration::from_secs(30)).await?;
    }
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if put(&http, &client_urls[0], "warmup", "x").await {
            return Ok(Etcd {
                _children: children,
                client_urls,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("etcd did not accept a put within 10 s")
}

/// A put through the gateway (`/v3/kv/put`, base64 key and value); true when acknowledged.
pub async fn put(http: &reqwest::Client, base: &str, key: &str, value: &str) -> bool {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let body = serde_json::json!({"key": b64(key), "value": b64(value)});
    http.post(format!("{base}/v3/kv/put"))
        .json(&body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}
