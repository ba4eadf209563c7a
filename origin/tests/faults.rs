//! Three origin nodes in network namespaces under a concurrent client workload while the
//! network and the processes fail: the leader is killed, a minority and then the majority are
//! cut off, a link flaps, every node restarts. Two recorded histories must be linearizable:
//! sign-ups (create an account once per email) and sign-ins (does it exist?), and admins'
//! renames of titles with admin reads of them (a register per title). No acknowledged write may
//! be lost: neither an account nor a title an admin created. The same checker, run against
//! nodes that answer guarded reads from local state (`--unsafe-local-reads`), must catch the
//! stale read a partition causes.
//!
//! Needs root (network namespaces, veth): the suite runs as root, as CI does.

#![allow(clippy::unwrap_used)]

#[path = "faults/netns.rs"]
mod netns;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use marquee_linearizability::{CreateOnce, CreateOnceOp, Op, Register, RegisterOp, check};
use netns::Cluster;

const PASSWORD: &str = "correct horse battery";

type History = Arc<Mutex<Vec<Op<CreateOnceOp, bool>>>>;
/// Renames (`Write(title id, name)`) and admin reads of titles' names.
type Names = Arc<Mutex<Vec<Op<RegisterOp, Option<String>>>>>;
/// Names of the titles whose creation was acknowledged.
type Titles = Arc<Mutex<Vec<String>>>;

/// What the clients record, shared between them.
#[derive(Clone, Default)]
struct Records {
    accounts: History,
    names: Names,
    titles: Titles,
}

/// One sign-up or sign-in against `base`; `None` when no answer says what happened.
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
    timed(history, client, op, t0, async |op| {
        run_op(http, base, op).await
    })
    .await;
}

/// Runs `run` as `client`'s operation `op` and records it in `into`: called when it started,
/// returned when (and if) it was answered.
async fn timed<I, O>(
    into: &Mutex<Vec<Op<I, O>>>,
    client: u64,
    op: I,
    t0: Instant,
    run: impl AsyncFnOnce(&I) -> Option<O>,
) {
    let call = t0.elapsed().as_micros() as u64;
    let output = run(&op).await;
    let ret = output.as_ref().map(|_| t0.elapsed().as_micros() as u64);
    into.lock()
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

/// Creates a title as the admin on `base`; its id once acknowledged.
async fn create_title(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    name: &str,
) -> Option<String> {
    let body = serde_json::json!({"name": name, "synopsis": "", "year": 2024, "genres": [],
                                  "maturity_rating": "G", "kind": "film"});
    let resp = http
        .post(format!("{base}/api/v1/admin/titles"))
        .header("cookie", cookie)
        .json(&body)
        .send()
        .await
        .ok()?;
    if resp.status() != reqwest::StatusCode::CREATED {
        return None;
    }
    let title: serde_json::Value = resp.json().await.ok()?;
    title["id"].as_str().map(str::to_owned)
}

/// A rename (PATCH) or an admin read (read-index) of a title's name on `base`; `None` when
/// no answer says what happened.
async fn run_name_op(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    op: &RegisterOp,
) -> Option<Option<String>> {
    let (req, id) = match op {
        RegisterOp::Write(id, name) => {
            let body = serde_json::json!({ "name": name });
            (
                http.patch(format!("{base}/api/v1/admin/titles/{id}"))
                    .json(&body),
                id,
            )
        }
        RegisterOp::Read(id) => (http.get(format!("{base}/api/v1/admin/titles/{id}")), id),
    };
    let resp = req.header("cookie", cookie).send().await.ok()?;
    if resp.status() != reqwest::StatusCode::OK {
        return None;
    }
    let title: serde_json::Value = resp.json().await.ok()?;
    assert_eq!(title["id"], id.as_str());
    match op {
        RegisterOp::Write(..) => Some(None),
        RegisterOp::Read(_) => Some(title["name"].as_str().map(str::to_owned)),
    }
}

async fn record_name(
    names: &Names,
    http: &reqwest::Client,
    (client, base, cookie): (u64, &str, &str),
    op: RegisterOp,
    t0: Instant,
) {
    let run = async |op: &RegisterOp| run_name_op(http, base, cookie, op).await;
    timed(names, client, op, t0, run).await;
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

/// Clients hammering random nodes until `stop`: sign-ups and sign-ins over 40 emails, admin
/// title creates, and renames and admin reads of the `renamed` titles (each name unique).
fn start_workload(
    cluster: &Cluster,
    (records, cookie, renamed): (Records, String, Vec<String>),
    stop: Arc<std::sync::atomic::AtomicBool>,
    t0: Instant,
    seed: u64,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..6u64)
        .map(|client| {
            let bases = cluster.api_urls();
            let (records, cookie, renamed) = (records.clone(), cookie.clone(), renamed.clone());
            let stop = stop.clone();
            tokio::spawn(async move {
                let http = http_client(Duration::from_secs(3));
                let mut rng = Lcg(seed ^ ((client + 1) * 0x9E37_79B9));
                let mut seq = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let base = &bases[rng.next(bases.len() as u64) as usize];
                    seq += 1;
                    let title = renamed[rng.next(renamed.len() as u64) as usize].clone();
                    let op = match rng.next(12) {
                        0 => {
                            let name = format!("t{client}-{seq}");
                            if create_title(&http, base, &cookie, &name).await.is_some() {
                                records.titles.lock().unwrap().push(name);
                            }
                            continue;
                        }
                        1 => RegisterOp::Write(title, format!("n{client}-{seq}")),
                        2 => RegisterOp::Read(title),
                        _ => {
                            let email = format!("v{}@example.com", rng.next(40));
                            let op = if rng.next(3) == 0 {
                                CreateOnceOp::Create(email)
                            } else {
                                CreateOnceOp::Exists(email)
                            };
                            record(&records.accounts, &http, (client, base), op, t0).await;
                            continue;
                        }
                    };
                    let who = (client, base.as_str(), cookie.as_str());
                    record_name(&records.names, &http, who, op, t0).await;
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
    let records = Records::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let t0 = Instant::now();
    let seed = t0.elapsed().as_nanos() as u64 ^ u64::from(std::process::id());
    println!("workload seed {seed}");
    let renamed = titles_to_rename(cluster, &cookie, (&records.names, 3), t0).await;
    let work = (records.clone(), cookie.clone(), renamed.clone());
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
    let history = &records.accounts;
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
            record(history, &http, (100 + i as u64, base), op.clone(), t0).await;
            let last = history.lock().unwrap().last().cloned().unwrap();
            let node = i + 1;
            assert_eq!(
                last.output,
                Some(true),
                "{email} not found on node {node} (None: no answer)"
            );
        }
    }
    let created: Vec<String> = records.titles.lock().unwrap().clone();
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

    // Every node's admin read of each renamed title joins the history of names.
    for (i, base) in cluster.api_urls().iter().enumerate() {
        for id in &renamed {
            let who = (200 + i as u64, base.as_str(), cookie.as_str());
            let op = RegisterOp::Read(id.clone());
            record_name(&records.names, &http, who, op, t0).await;
        }
    }
    let names = records.names.lock().unwrap().clone();
    let answered = |w: bool| {
        names
            .iter()
            .filter(|o| o.ret.is_some() && matches!(o.input, RegisterOp::Write(..)) == w)
            .count()
    };
    let (renames, reads) = (answered(true), answered(false));
    println!(
        "{} name operations: {renames} renames and {reads} reads answered",
        names.len()
    );
    assert!(
        renames > 10 && reads > 10,
        "too few answered renames ({renames}) or reads ({reads}) to say anything"
    );
    let names = Register::without_unseen_unanswered_writes(&names);
    if let Err(v) = check(&Register, &names) {
        let ops: Vec<_> = v.stuck.iter().map(|&i| &names[i]).collect();
        panic!("{v}\nstuck operations: {ops:#?}\n(workload seed {seed})");
    }
}

/// `count` titles to rename, created (and their first names recorded as writes) before the
/// workload starts.
async fn titles_to_rename(
    cluster: &Cluster,
    cookie: &str,
    (names, count): (&Names, usize),
    t0: Instant,
) -> Vec<String> {
    let http = http_client(Duration::from_secs(10));
    let base = &cluster.api_urls()[0];
    let mut ids = Vec::new();
    for k in 0..count {
        let name = format!("renamed-{k}");
        let call = t0.elapsed().as_micros() as u64;
        let id = create_title(&http, base, cookie, &name)
            .await
            .expect("a title to rename is created");
        let ret = Some(t0.elapsed().as_micros() as u64);
        let op = RegisterOp::Write(id.clone(), name);
        names
            .lock()
            .unwrap()
            .push(Op::new(0, call, ret, op, Some(None)));
        ids.push(id);
    }
    ids
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

    // The same for an admin's read of a title renamed on the other side of the cut.
    cluster.heal();
    let cookie = admin_cookie(&cluster).await;
    let names: Names = Arc::default();
    let id = titles_to_rename(&cluster, &cookie, (&names, 1), t0).await[0].clone();
    let seen_by_cut = async || {
        let who = (1, bases[cut - 1].as_str(), cookie.as_str());
        record_name(&names, &http, who, RegisterOp::Read(id.clone()), t0).await;
        let last = names.lock().unwrap().pop().unwrap();
        last.output == Some(Some("renamed-0".to_owned()))
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen_by_cut().await {
        assert!(
            Instant::now() < deadline,
            "node {cut} never applied the title"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cluster.cut(&[cut]);
    let rename = RegisterOp::Write(id.clone(), "after the cut".into());
    record_name(&names, &http, (0, majority, &cookie), rename, t0).await;
    let read = RegisterOp::Read(id.clone());
    record_name(&names, &http, (1, &bases[cut - 1], &cookie), read, t0).await;
    let names = names.lock().unwrap().clone();
    assert_eq!(names[1].output, Some(None), "the majority takes the rename");
    assert_eq!(
        names[2].output,
        Some(Some("renamed-0".to_owned())),
        "the cut-off node answers with the old name"
    );
    let v = check(&Register, &names).expect_err("a stale admin read must be caught");
    assert_eq!(v.stuck, [2]);
}
