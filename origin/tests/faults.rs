//! Three origin nodes in network namespaces under a concurrent client workload while the
//! network and the processes fail: the leader is killed, a minority and then the majority are
//! cut off, a link flaps, every node restarts. The recorded history of sign-ups (create
//! an account once per email) and sign-ins (does it exist?) must be linearizable, and no
//! acknowledged write may be lost: neither an account nor a title an admin created. The same checker, run against nodes that answer guarded
//! reads from local state (`--unsafe-local-reads`), must catch the stale read a partition causes.
//!
//! Needs root (network namespaces, veth): the suite runs as root, as CI does.

#![allow(clippy::unwrap_used)]

#[path = "faults/netns.rs"]
mod netns;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use marquee_linearizability::{CreateOnce, CreateOnceOp, Op, check};
use netns::Cluster;

const PASSWORD: &str = "correct horse battery";

type History = Arc<Mutex<Vec<Op<CreateOnceOp, bool>>>>;
/// Names of the titles whose creation was acknowledged.
type Titles = Arc<Mutex<Vec<String>>>;

/// One client operation against node `node`, recorded with its call and return times.
async fn run_op(http: &reqwest::Client, base: &str, op: &CreateOnceOp) -> Option<bool> {
    let (path, email) = match op {
        CreateOnceOp::Create(e) => ("/api/v1/accounts", e),
        CreateOnceOp::Exists(e) => ("/api/v1/sessions", e),
    };
    let body = serde_json::json!({"email": email, "password": PASSWORD});
    let resp = http
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    match (op, status) {
        (CreateOnceOp::Create(_), 201) => Some(true),
        (CreateOnceOp::Create(_), 409) => Some(false),
        (CreateOnceOp::Exists(_), 200) => Some(true),
        (CreateOnceOp::Exists(_), 401) => Some(false),
        // 503, 429, anything else: no answer about the object (may or may not have run).
        _ => None,
    }
}

async fn record(
    history: &History,
    http: &reqwest::Client,
    (client, base): (u64, &str),
    op: CreateOnceOp,
    t0: Instant,
) {
    let call = t0.elapsed().as_micros() as u64;
    let output = run_op(http, base, &op).await;
    let ret = output.map(|_| t0.elapsed().as_micros() as u64);
    history
        .lock()
        .unwrap()
        .push(Op::new(client, call, ret, op, output));
}

/// An HTTP client whose every request gives up after `timeout`: no answer is an answer too.
fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

/// A tiny deterministic generator, so a failing run can be replayed by its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Creates a title as the admin on `base`; whether it was acknowledged.
async fn create_title(http: &reqwest::Client, base: &str, cookie: &str, name: &str) -> bool {
    let body = serde_json::json!({"name": name, "synopsis": "", "year": 2024, "genres": [],
                                  "maturity_rating": "G", "kind": "film"});
    http.post(format!("{base}/api/v1/admin/titles"))
        .header("cookie", cookie)
        .json(&body)
        .send()
        .await
        .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED)
}

/// The admin's session cookie, signed up on the first node that takes it.
async fn admin_cookie(cluster: &Cluster) -> String {
    let http = http_client(Duration::from_secs(10));
    let body = serde_json::json!({"email": "admin@example.com", "password": PASSWORD});
    let resp = http
        .post(format!("{}/api/v1/accounts", cluster.api_urls()[0]))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "admin sign-up");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// Clients hammering random nodes with sign-ups and sign-ins over 40 emails, and admin title
/// creates, until `stop`.
fn start_workload(
    cluster: &Cluster,
    (history, titles, cookie): (History, Titles, String),
    stop: Arc<std::sync::atomic::AtomicBool>,
    t0: Instant,
    seed: u64,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..6u64)
        .map(|client| {
            let bases = cluster.api_urls();
            let (history, titles, cookie) = (history.clone(), titles.clone(), cookie.clone());
            let stop = stop.clone();
            tokio::spawn(async move {
                let http = http_client(Duration::from_secs(3));
                let mut rng = Lcg(seed ^ ((client + 1) * 0x9E37_79B9));
                let mut seq = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let base = &bases[rng.next(bases.len() as u64) as usize];
                    seq += 1;
                    if rng.next(6) == 0 {
                        let name = format!("t{client}-{seq}");
                        if create_title(&http, base, &cookie, &name).await {
                            titles.lock().unwrap().push(name);
                        }
                        continue;
                    }
                    let email = format!("v{}@example.com", rng.next(40));
                    let op = if rng.next(3) == 0 {
                        CreateOnceOp::Create(email)
                    } else {
                        CreateOnceOp::Exists(email)
                    };
                    record(&history, &http, (client, base), op, t0).await;
                }
            })
        })
        .collect()
}

/// Acknowledged titles a node's catalogue lacks, once it has had up to 10 s to apply the log
/// (catalogue reads are local by design).
async fn missing_titles(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    created: &[String],
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list: serde_json::Value = match http
            .get(format!("{base}/api/v1/titles"))
            .header("cookie", cookie)
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        let names: BTreeSet<&str> = list["titles"]
            .as_array()
            .map(|a| a.iter().filter_map(|t| t["name"].as_str()).collect())
            .unwrap_or_default();
        let missing: Vec<String> = created
            .iter()
            .filter(|n| !names.contains(n.as_str()))
            .cloned()
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            return missing;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn summary(history: &[Op<CreateOnceOp, bool>]) -> String {
    let answered = history.iter().filter(|o| o.ret.is_some()).count();
    let created = history
        .iter()
        .filter(|o| matches!(o.input, CreateOnceOp::Create(_)) && o.output == Some(true))
        .count();
    format!(
        "{} operations, {answered} answered, {created} accounts created",
        history.len()
    )
}

/// Longest the fault scenario may take, end to end (it needs about a minute): a cluster that
/// stops answering fails the test with every node's log instead of hanging the suite.
const SCENARIO_LIMIT: Duration = Duration::from_secs(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_stays_linearizable_and_loses_nothing_under_faults() {
    let mut cluster = Cluster::start("f", &[]);
    let run = tokio::time::timeout(SCENARIO_LIMIT, faults_scenario(&mut cluster)).await;
    if run.is_err() {
        panic!(
            "the fault scenario did not finish within {SCENARIO_LIMIT:?}\n{}",
            cluster.log_tails(200)
        );
    }
}

async fn faults_scenario(cluster: &mut Cluster) {
    cluster.leader().await;
    let cookie = admin_cookie(cluster).await;
    let titles: Titles = Arc::default();
    let history: History = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let t0 = Instant::now();
    let seed = t0.elapsed().as_nanos() as u64 ^ u64::from(std::process::id());
    println!("workload seed {seed}");
    let work = (history.clone(), titles.clone(), cookie.clone());
    let clients = start_workload(cluster, work, stop.clone(), t0, seed);
    let phase = Duration::from_secs(3);

    tokio::time::sleep(phase).await; // healthy
    let leader = cluster.leader().await;
    println!("kill the leader (node {leader})");
    cluster.kill(leader);
    tokio::time::sleep(phase).await;
    cluster.restart(leader);
    let leader = cluster.leader().await;
    println!("cut off a minority: the leader (node {leader})");
    cluster.cut(&[leader]);
    tokio::time::sleep(phase).await;
    cluster.heal();
    let leader = cluster.leader().await;
    let followers: Vec<usize> = (1..=3).filter(|n| *n != leader).collect();
    println!("cut off the majority: nodes {followers:?}");
    cluster.cut(&followers);
    tokio::time::sleep(phase).await;
    cluster.heal();
    println!("node {}'s link flaps", followers[0]);
    cluster.flap(followers[0], phase).await;
    println!("restart every node");
    for n in 1..=3 {
        cluster.kill(n);
    }
    for n in 1..=3 {
        cluster.restart(n);
    }
    cluster.leader().await;
    tokio::time::sleep(phase).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }

    // No acknowledged sign-up is lost: every such account exists on every node now.
    let acked: BTreeSet<String> = history
        .lock()
        .unwrap()
        .iter()
        .filter_map(|o| match (&o.input, o.output) {
            (CreateOnceOp::Create(e), Some(true)) => Some(e.clone()),
            _ => None,
        })
        .collect();
    let http = http_client(Duration::from_secs(5));
    for (i, base) in cluster.api_urls().iter().enumerate() {
        for email in &acked {
            let op = CreateOnceOp::Exists(email.clone());
            record(&history, &http, (100 + i as u64, base), op.clone(), t0).await;
            let last = history.lock().unwrap().last().cloned().unwrap();
            let node = i + 1;
            assert_eq!(
                last.output,
                Some(true),
                "{email} not found on node {node} (None: no answer)"
            );
        }
    }
    let created: Vec<String> = titles.lock().unwrap().clone();
    for (i, base) in cluster.api_urls().iter().enumerate() {
        let missing = missing_titles(&http, base, &cookie, &created).await;
        assert!(
            missing.is_empty(),
            "node {} lost acknowledged titles: {missing:?}",
            i + 1
        );
    }
    let history = history.lock().unwrap().clone();
    println!("{}; {} titles created", summary(&history), created.len());
    assert!(
        history.iter().filter(|o| o.ret.is_some()).count() > 100,
        "too few answered operations to say anything: {}",
        summary(&history)
    );
    if let Err(v) = check(&CreateOnce, &history) {
        let ops: Vec<_> = v.stuck.iter().map(|&i| &history[i]).collect();
        panic!("{v}\nstuck operations: {ops:#?}\n(workload seed {seed})");
    }
}

/// The checker is not a rubber stamp: nodes that answer guarded reads locally give a stale
/// answer as soon as the node a client asks is cut off, and the checker says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checker_catches_reads_served_without_read_index() {
    let cluster = Cluster::start("b", &["--unsafe-local-reads"]);
    let leader = cluster.leader().await;
    let cut = if leader == 1 { 2 } else { 1 };
    let bases = cluster.api_urls();
    let http = http_client(Duration::from_secs(5));
    let history: History = Arc::new(Mutex::new(Vec::new()));
    let t0 = Instant::now();
    cluster.cut(&[cut]);
    let majority = &bases[leader - 1];
    let email = "stale@example.com".to_owned();
    record(
        &history,
        &http,
        (0, majority),
        CreateOnceOp::Create(email.clone()),
        t0,
    )
    .await;
    record(
        &history,
        &http,
        (1, &bases[cut - 1]),
        CreateOnceOp::Exists(email),
        t0,
    )
    .await;
    let history = history.lock().unwrap().clone();
    assert_eq!(
        history[0].output,
        Some(true),
        "the majority takes the sign-up"
    );
    assert_eq!(
        history[1].output,
        Some(false),
        "the cut-off node answers from stale state"
    );
    let v = check(&CreateOnce, &history).expect_err("a stale read must be caught");
    assert_eq!(v.key, "stale@example.com");
    assert_eq!(v.stuck, [1]);
}
