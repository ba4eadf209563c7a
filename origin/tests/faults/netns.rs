//! Three origin nodes, each in its own network namespace: a client link per node (the test, in
//! the root namespace, reaches node k's API at 10.A.k.2) and a cluster link per node on one
//! bridge (Raft at 10.B.0.k). Cutting a node's cluster link partitions it from the others while
//! clients still reach it, which is what exposes stale reads.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `ip` ({e}): install iproute2 (deploy/setup.sh does)")
    });
    assert!(
        out.status.success(),
        "ip {}: {} (this test needs root for network namespaces)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn in_ns(ns: &str, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .expect("ip netns exec")
}

/// Removes links and namespaces an earlier run left behind (killed before its cleanup): their
/// names end in a process id that no longer runs, and their subnets would shadow ours.
fn remove_leftovers() {
    let names = |args: &[&str]| -> Vec<String> {
        let out = Command::new("ip").args(args).output().expect("ip");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split(['@', ' ']).next())
            .map(str::to_owned)
            .collect()
    };
    for link in names(&["-br", "link"]).into_iter().filter(|n| stale(n)) {
        let _ = Command::new("ip").args(["link", "del", &link]).status();
    }
    for ns in names(&["netns", "list"]).into_iter().filter(|n| stale(n)) {
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    }
}

/// Ours (`mq<tag><pid>…`) and its process is gone.
fn stale(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("mq") else {
        return false;
    };
    let digits: String = rest
        .chars()
        .skip(1)
        .take_while(char::is_ascii_digit)
        .collect();
    let Ok(pid) = digits.parse::<u32>() else {
        return false;
    };
    pid != std::process::id() % 100_000 && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

struct Node {
    ns: String,
    child: Option<Child>,
    api: String,
    raft: String,
    /// The root-namespace end of its cluster link (on the bridge).
    bridge_port: String,
    /// The root-namespace end of its client link.
    client_port: String,
}

pub struct Cluster {
    bridge: String,
    nodes: Vec<Node>,
    dir: tempfile::TempDir,
    secret: PathBuf,
    extra: Vec<String>,
}

impl Cluster {
    /// Builds the network and starts node 1 (forming the cluster), then 2 and 3 (joining).
    /// `tag` keeps names and subnets apart from another cluster in the same process.
    pub fn start(tag: &str, extra: &[&str]) -> Cluster {
        let id = format!("{tag}{}", std::process::id() % 100_000);
        let (a, b) = if tag == "f" { (77, 78) } else { (87, 88) };
        remove_leftovers();
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "a-cluster-secret-for-fault-tests").unwrap();
        let bridge = format!("mq{id}b");
        ip(&["link", "add", &bridge, "type", "bridge"]);
        ip(&["link", "set", &bridge, "up"]);
        let mut nodes = Vec::new();
        for k in 1..=3u8 {
            let ns = format!("mq{id}n{k}");
            ip(&["netns", "add", &ns]);
            in_ns(&ns, &["ip", "link", "set", "lo", "up"]);
            let (host, inner) = (format!("mq{id}a{k}"), format!("mq{id}A{k}"));
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &inner]);
            ip(&["link", "set", &inner, "netns", &ns]);
            ip(&["addr", "add", &format!("10.{a}.{k}.1/24"), "dev", &host]);
            ip(&["link", "set", &host, "up"]);
            let addr = format!("10.{a}.{k}.2/24");
            in_ns(&ns, &["ip", "addr", "add", &addr, "dev", &inner]);
            in_ns(&ns, &["ip", "link", "set", &inner, "up"]);
            let (port, cluster_if) = (format!("mq{id}c{k}"), format!("mq{id}C{k}"));
            ip(&[
                "link",
                "add",
                &port,
                "type",
                "veth",
                "peer",
                "name",
                &cluster_if,
            ]);
            ip(&["link", "set", &port, "master", &bridge]);
            ip(&["link", "set", &port, "up"]);
            ip(&["link", "set", &cluster_if, "netns", &ns]);
            let caddr = format!("10.{b}.0.{k}/24");
            in_ns(&ns, &["ip", "addr", "add", &caddr, "dev", &cluster_if]);
            in_ns(&ns, &["ip", "link", "set", &cluster_if, "up"]);
            nodes.push(Node {
                ns,
                child: None,
                api: format!("10.{a}.{k}.2:8080"),
                raft: format!("10.{b}.0.{k}:9101"),
                bridge_port: port,
                client_port: host.clone(),
            });
        }
        let mut cluster = Cluster {
            bridge,
            nodes,
            dir,
            secret,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        for k in 1..=3 {
            cluster.restart(k);
        }
        cluster
    }

    pub fn api_urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("http://{}", n.api))
            .collect()
    }

    /// (Re)starts node `k` (1-based) and waits for its listening line.
    pub fn restart(&mut self, k: usize) {
        let first_raft = self.nodes[0].raft.clone();
        let node = &self.nodes[k - 1];
        let data = self.dir.path().join(format!("node{k}"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("node{k}.log")))
            .unwrap();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &node.ns])
            .arg(env!("CARGO_BIN_EXE_marquee-origin"))
            .args(["--listen", &node.api, "--admin-email", "admin@example.com"])
            .arg("--data-dir")
            .arg(&data)
            .args(["--web-dir", "/nonexistent", "--node-id", &k.to_string()])
            .args(["--cluster-listen", &node.raft, "--cluster-secret-file"])
            .arg(&self.secret)
            .args(&self.extra)
            .env("RUST_LOG", "info,openraft=warn")
            .stdout(Stdio::piped())
            .stderr(log);
        if k == 1 {
            cmd.arg("--bootstrap");
        } else {
            cmd.args(["--join", &first_raft]);
        }
        let mut child = cmd.spawn().expect("start marquee-origin");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains(" listening on ") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            panic!("node {k} did not start; see its log:\n{}", self.log(k));
        }
        self.nodes[k - 1].child = Some(child);
    }

    pub fn log(&self, k: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node{k}.log"))).unwrap_or_default()
    }

    /// The last `lines` lines of every node's log, each under its node's name.
    pub fn log_tails(&self, lines: usize) -> String {
        (1..=self.nodes.len())
            .map(|k| {
                let log = self.log(k);
                let all: Vec<&str> = log.lines().collect();
                let tail = all[all.len().saturating_sub(lines)..].join("\n");
                format!("--- node {k} (last {lines} lines of its log) ---\n{tail}\n")
            })
            .collect()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self, k: usize) {
        if let Some(mut child) = self.nodes[k - 1].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Cuts the cluster links of `nodes`: they can reach neither each other nor the rest.
    pub fn cut(&self, nodes: &[usize]) {
        for &k in nodes {
            ip(&["link", "set", &self.nodes[k - 1].bridge_port, "down"]);
        }
    }

    pub fn heal(&self) {
        for n in &self.nodes {
            ip(&["link", "set", &n.bridge_port, "up"]);
        }
    }

    /// Flaps node `k`'s cluster link for `span`: down and up every 150 ms, so Raft sees bursts
    /// of loss, retries and elections. (`tc netem` would do it smoother, but this kernel and
    /// many CI kernels lack the sch_netem module.)
    pub async fn flap(&self, k: usize, span: Duration) {
        let port = self.nodes[k - 1].bridge_port.clone();
        let until = Instant::now() + span;
        let mut up = false;
        while Instant::now() < until {
            ip(&["link", "set", &port, if up { "up" } else { "down" }]);
            up = !up;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        ip(&["link", "set", &port, "up"]);
    }

    /// The node that leads, once one does (asked through each node's /healthz).
    pub async fn leader(&self) -> usize {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for (i, base) in self.api_urls().iter().enumerate() {
                let Ok(resp) = http.get(format!("{base}/healthz")).send().await else {
                    continue;
                };
                let text = resp.text().await.unwrap_or_default();
                if text.starts_with("ok") && text.contains("role=Leader") {
                    return i + 1;
                }
            }
            if Instant::now() > deadline {
                panic!("no leader within 30 s\n{}", self.log_tails(100));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for k in 1..=self.nodes.len() {
            self.kill(k);
        }
        for n in &self.nodes {
            // Deleting the root end of a veth deletes its peer in the namespace too.
            for link in [&n.bridge_port, &n.client_port] {
                let _ = Command::new("ip").args(["link", "del", link]).status();
            }
            let _ = Command::new("ip").args(["netns", "del", &n.ns]).status();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .status();
    }
}
