//! Three real `marquee-origin` processes forming a cluster on loopback: any node serves any
//! request (writes forwarded, guarded reads through read-index), the admin view, failover after
//! the leader is killed, and clear refusals (a reused node id, a wrong secret).

use std::path::Path;
use std::time::{Duration, Instant};

use marquee_tls::{Service, Tls, TlsFiles};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::media::media_token;
use super::util::{
    ADMIN_EMAIL, Client, PASSWORD, Proc, expect, expect_error, make_clip, new_title, origin_fails,
    sign_up, start_origin, subscribe, wait_for_job,
};

const SECRET: &str = "a-cluster-secret-for-tests";

struct Node {
    id: u64,
    proc: Proc,
    rpc: String,
}

fn secret_file(dir: &Path, secret: &str) -> String {
    let path = dir.join(format!("secret-{}", secret.len()));
    std::fs::write(&path, secret).unwrap();
    path.display().to_string()
}

fn cluster_args(id: u64, secret: &str, how: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--node-id",
        &id.to_string(),
        "--cluster-listen",
        "127.0.0.1:0",
        "--cluster-secret-file",
        secret,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(how.iter().map(|s| s.to_string()));
    args
}

fn start(dir: &Path, id: u64, secret: &str, how: &[&str]) -> Node {
    let args = cluster_args(id, secret, how);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let proc = start_origin(&dir.join(format!("node{id}")), &args);
    let rpc = proc
        .printed_after("raft rpc at ")
        .expect("the node prints its raft RPC address");
    Node { id, proc, rpc }
}

async fn cluster_view(client: &mut Client) -> Value {
    expect(client.get("/api/v1/admin/cluster").await, StatusCode::OK).await
}

/// Polls `f` until it returns `Some`, for at most 30 s.
async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn leader_of(view: &Value) -> Option<u64> {
    view["members"]
        .as_array()?
        .iter()
        .find(|m| m["role"] == "leader")
        .and_then(|m| m["node_id"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_serve_any_request_and_survive_the_leader() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = secret_file(tmp.path(), SECRET);
    let clock = "--billing-test-clock";
    let n1 = start(tmp.path(), 1, &secret, &["--bootstrap", clock]);
    let n2 = start(tmp.path(), 2, &secret, &["--join", &n1.rpc, clock]);
    let n3 = start(tmp.path(), 3, &secret, &["--join", &n2.rpc, clock]);

    // A write sent to a follower is forwarded: sign-up on node 2, sign-in on node 3.
    let mut admin2 = Client::new(&n2.proc.base);
    let account = sign_up(&mut admin2, ADMIN_EMAIL).await;
    assert_eq!(account["is_admin"], true, "{account}");
    let mut admin3 = Client::new(&n3.proc.base);
    let signed_in = admin3
        .post(
            "/api/v1/sessions",
            json!({"email": ADMIN_EMAIL, "password": PASSWORD}),
        )
        .await;
    expect(signed_in, StatusCode::OK).await;
    // The session is checked on node 3 through read-index, whoever leads.
    let me = expect(admin3.get("/api/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["email"], ADMIN_EMAIL);
    let title = expect(
        admin3
            .post("/api/v1/admin/titles", new_title("Made on a follower"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = title["id"].as_str().unwrap().to_owned();
    let mut on_n1 = Client::new(&n1.proc.base);
    on_n1.cookie.clone_from(&admin2.cookie);
    let seen = expect(
        on_n1.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["name"], "Made on a follower");

    // The admin view, asked of any node, lists every member with role and applied index.
    let view = cluster_view(&mut admin3).await;
    let members = view["members"].as_array().unwrap();
    assert_eq!(members.len(), 3, "{view}");
    assert_eq!(
        members.iter().filter(|m| m["role"] == "leader").count(),
        1,
        "{view}"
    );
    assert_eq!(
        members.iter().filter(|m| m["role"] == "follower").count(),
        2,
        "{view}"
    );
    for (node, m) in [&n1, &n2, &n3].iter().zip(members) {
        assert_eq!(m["node_id"], node.id, "{view}");
        assert_eq!(m["api_addr"], node.proc.base, "{view}");
        assert!(m["last_applied_index"].as_u64().unwrap() > 0, "{view}");
    }

    // A subscriber whose renewal falls due just as the leader dies.
    let mut viewer = Client::new(&n3.proc.base);
    sign_up(&mut viewer, "subscriber@example.com").await;
    let paid = subscribe(&mut viewer, "standard").await;
    let renews_at = paid["subscription"]["period_end"].clone();
    let month = json!({"advance_secs": 30 * 86_400});
    let moved = admin3.post("/api/v1/admin/billing/clock", month).await;
    expect(moved, StatusCode::OK).await;

    // Kill the leader outright: the two left elect another and keep taking writes.
    let leader = leader_of(&view).unwrap();
    let mut nodes = vec![n1, n2, n3];
    let dead = nodes.iter().position(|n| n.id == leader).unwrap();
    let dead = nodes.remove(dead);
    dead.proc.crash();
    let survivor = &nodes[0];
    let mut admin = Client::new(&survivor.proc.base);
    admin.cookie.clone_from(&admin2.cookie);
    let killed_at = Instant::now();
    let created = admin
        .post("/api/v1/admin/titles", new_title("After the leader died"))
        .await;
    expect(created, StatusCode::CREATED).await;
    println!(
        "first write after killing the leader took {:?}",
        killed_at.elapsed()
    );
    let view = eventually("a new leader", async || {
        let v = cluster_view(&mut admin).await;
        leader_of(&v).filter(|l| *l != leader).map(|_| v)
    })
    .await;
    let gone = view["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["node_id"] == leader)
        .unwrap()
        .clone();
    assert!(gone["error"].is_string(), "the dead node says why: {view}");

    // The new leader renews the subscription, exactly once: one more invoice, however the
    // old leader's round was cut.
    let mut subscriber = Client::new(&survivor.proc.base);
    subscriber.cookie.clone_from(&viewer.cookie);
    eventually("the renewal on the new leader", async || {
        let b = expect(subscriber.get("/api/v1/subscription").await, StatusCode::OK).await;
        (b["subscription"]["period_start"] == renews_at).then_some(())
    })
    .await;
    let invoices = async |c: &mut Client| {
        let list = expect(c.get("/api/v1/billing/invoices").await, StatusCode::OK).await;
        list["invoices"].as_array().unwrap().len()
    };
    assert_eq!(
        invoices(&mut subscriber).await,
        2,
        "sign-up and one renewal"
    );
    // A few more biller rounds charge nothing more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(invoices(&mut subscriber).await, 2);

    // Remove the dead node; its id can never come back.
    let resp = admin
        .delete(&format!("/api/v1/admin/cluster/members/{leader}"))
        .await;
    expect(resp, StatusCode::NO_CONTENT).await;
    let view = cluster_view(&mut admin).await;
    assert_eq!(view["members"].as_array().unwrap().len(), 2, "{view}");
    let again = cluster_args(leader, &secret, &["--join", &survivor.rpc]);
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    let (code, stderr) = origin_fails(&tmp.path().join("reused"), &again);
    assert_ne!(code, 0);
    assert!(stderr.contains("never reused"), "{stderr}");
    let resp = admin
        .post(
            "/api/v1/admin/cluster/members",
            json!({"node_id": leader, "raft_addr": "127.0.0.1:1", "api_addr": "http://x"}),
        )
        .await;
    expect_error(resp, StatusCode::CONFLICT, "cluster_change_refused").await;
    // A node nobody can reach is refused (after its first-contact wait) rather than made a
    // voter the cluster would then need for every quorum; writes go on.
    let resp = admin
        .post(
            "/api/v1/admin/cluster/members",
            json!({"node_id": 7, "raft_addr": "127.0.0.1:1", "api_addr": "http://127.0.0.1:1"}),
        )
        .await;
    expect_error(resp, StatusCode::CONFLICT, "cluster_change_refused").await;
    let view = cluster_view(&mut admin).await;
    assert_eq!(view["members"].as_array().unwrap().len(), 2, "{view}");
    let created = admin
        .post("/api/v1/admin/titles", new_title("After a failed add"))
        .await;
    expect(created, StatusCode::CREATED).await;

    // A node with the wrong secret cannot join, and the member it asked logs the refusal.
    let wrong = secret_file(tmp.path(), "not-the-cluster-secret-at-all");
    let stranger = cluster_args(9, &wrong, &["--join", &survivor.rpc]);
    let stranger: Vec<&str> = stranger.iter().map(String::as_str).collect();
    let (code, stderr) = origin_fails(&tmp.path().join("stranger"), &stranger);
    assert_ne!(code, 0);
    assert!(stderr.contains("secret"), "{stderr}");
    assert!(
        survivor.proc.stderr().contains("wrong cluster secret"),
        "the refusal is logged"
    );
    for n in nodes {
        n.proc.stop();
    }
}

/// The node packaging a title dies mid-way: after its lease runs out another node takes the
/// job over (the upload was copied to it), and the title plays from every node left, whoever
/// packaged it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_packaging_job_survives_the_loss_of_its_node() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = secret_file(tmp.path(), SECRET);
    let lease = ["--job-lease-secs", "3"];
    let n1 = start(
        tmp.path(),
        1,
        &secret,
        &[&lease[..], &["--bootstrap"]].concat(),
    );
    // Every node signs playback tokens with the same key, as an operator would configure it.
    let key = tmp.path().join("node1/token-key.pk8").display().to_string();
    let shared = ["--token-key-file", key.as_str()];
    let join1 = ["--join", n1.rpc.as_str()];
    let n2 = start(
        tmp.path(),
        2,
        &secret,
        &[&lease[..], &shared, &join1].concat(),
    );
    let n3 = start(
        tmp.path(),
        3,
        &secret,
        &[&lease[..], &shared, &join1].concat(),
    );

    let mut admin = Client::new(&n2.proc.base);
    sign_up(&mut admin, ADMIN_EMAIL).await;
    let title = expect(
        admin
            .post("/api/v1/admin/titles", new_title("Survivor"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = title["id"].as_str().unwrap().to_owned();
    let video = make_clip(tmp.path(), 8);
    let upload = admin
        .put(
            &format!("/api/v1/admin/titles/{id}/video"),
            "video/mp4",
            video,
        )
        .await;
    expect(upload, StatusCode::ACCEPTED).await;
    let job_path = format!("/api/v1/admin/titles/{id}/job");
    let worker = eventually("a worker past fetching", async || {
        let job = expect(admin.get(&job_path).await, StatusCode::OK).await;
        (job["state"] == "running" && job["progress"].as_f64() > Some(0.05))
            .then(|| job["worker"].as_u64())
            .flatten()
    })
    .await;
    let mut nodes = vec![n1, n2, n3];
    let dead = nodes.remove(nodes.iter().position(|n| n.id == worker).unwrap());
    dead.proc.crash();
    let mut admin = Client::new(&nodes[0].proc.base);
    let signed_in = admin
        .post(
            "/api/v1/sessions",
            json!({"email": ADMIN_EMAIL, "password": PASSWORD}),
        )
        .await;
    expect(signed_in, StatusCode::OK).await;
    let job = wait_for_job(&mut admin, &id).await;
    assert_ne!(job["worker"].as_u64(), Some(worker), "{job}");

    let title = expect(
        admin.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(title["state"], "ready", "{title}");
    let token = media_token(&tmp.path().join("node1"), &id, 600);
    let package = job["id"].as_str().unwrap();
    for node in &nodes {
        let url = format!("{}/media/{id}/{package}/manifest.mpd", node.proc.base);
        let resp = reqwest::Client::new()
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "node {}", node.id);
        assert!(
            resp.text().await.unwrap().contains("<MPD"),
            "node {}",
            node.id
        );
    }
    for n in nodes {
        n.proc.stop();
    }
}

/// `--tls-cert/--tls-key/--tls-ca` for `id` of `service`, issued for 127.0.0.1.
fn tls_args(ca: &marquee_tls::ca::CaDir, dir: &Path, service: Service, id: &str) -> Vec<String> {
    ca.issue(service, id, &["127.0.0.1".into()], dir)
        .expect("issue");
    let files = TlsFiles::in_dir(dir, ca.cert_path(), service, id);
    [
        ("--tls-cert", &files.cert),
        ("--tls-key", &files.key),
        ("--tls-ca", &files.ca),
    ]
    .into_iter()
    .flat_map(|(flag, path)| [flag.to_owned(), path.display().to_string()])
    .collect()
}

fn with(base: Vec<String>, more: &[&str]) -> Vec<String> {
    more.iter().map(|s| s.to_string()).chain(base).collect()
}

/// With certificates, members call each other over mutual TLS and take only origins' calls;
/// the services listener serves edges and refuses a client without a certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_talk_mutual_tls_and_take_no_other_service() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = marquee_tls::ca::CaDir::new(tmp.path().join("ca"));
    ca.init("Cluster test CA").expect("CA");
    let certs = tmp.path().join("certs");
    let secret = secret_file(tmp.path(), SECRET);
    let tls1 = tls_args(&ca, &certs, Service::Origin, "origin-1");
    let n1_args = with(tls1, &["--bootstrap", "--internal-listen", "127.0.0.1:0"]);
    let n1 = start(tmp.path(), 1, &secret, &strs(&n1_args));
    assert!(n1.rpc.starts_with("https://"), "raft over TLS: {}", n1.rpc);
    let tls2 = tls_args(&ca, &certs, Service::Origin, "origin-2");
    let n2_args = with(tls2, &["--join", &n1.rpc]);
    let n2 = start(tmp.path(), 2, &secret, &strs(&n2_args));

    // A write on node 2 is forwarded to the leader over mutual TLS and read back on node 1.
    let mut on_n2 = Client::new(&n2.proc.base);
    sign_up(&mut on_n2, ADMIN_EMAIL).await;
    let title = expect(
        on_n2
            .post("/api/v1/admin/titles", new_title("Over TLS"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut on_n1 = Client::new(&n1.proc.base);
    on_n1.cookie.clone_from(&on_n2.cookie);
    let path = format!("/api/v1/titles/{}", title["id"].as_str().unwrap());
    let seen = expect(on_n1.get(&path).await, StatusCode::OK).await;
    assert_eq!(seen["name"], "Over TLS");
    let view = cluster_view(&mut on_n1).await;
    assert_eq!(view["members"].as_array().unwrap().len(), 2, "{view}");

    // An edge's certificate (and the secret) does not make a member: refused at once, logged.
    let edge = tls_args(&ca, &certs, Service::Edge, "edge-9");
    let stranger = with(edge, &["--join", &n1.rpc]);
    let stranger = cluster_args(9, &secret, &strs(&stranger));
    let (code, stderr) = origin_fails(&tmp.path().join("stranger"), &strs(&stranger));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("refused this node's certificate"),
        "{stderr}"
    );
    assert!(
        n1.proc.stderr().contains("peer not allowed here"),
        "the refusal is logged"
    );

    // The services listener: an edge's certificate gets in, no certificate does not.
    let services = n1
        .proc
        .printed_after("services listener on ")
        .expect("node 1 prints its services listener");
    let edge_files = TlsFiles::in_dir(&certs, ca.cert_path(), Service::Edge, "edge-9");
    let edge_tls = Tls::load(&edge_files).expect("edge tls");
    let as_edge = edge_tls
        .http_client(Some(Service::Origin))
        .expect("client")
        .build()
        .unwrap();
    let health = as_edge
        .get(format!("{services}/healthz"))
        .send()
        .await
        .expect("an edge reaches the services listener");
    assert_eq!(health.status(), StatusCode::OK);
    let roots = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(edge_tls.roots())
    .with_no_client_auth();
    let anonymous = reqwest::Client::builder()
        .use_preconfigured_tls(roots)
        .build()
        .unwrap()
        .get(format!("{services}/healthz"))
        .send()
        .await;
    assert!(anonymous.is_err(), "a client without a certificate got in");
    for n in [n1, n2] {
        n.proc.stop();
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
