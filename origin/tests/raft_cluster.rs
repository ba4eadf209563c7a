//! Three origin Raft nodes in one process, talking real HTTP on 127.0.0.1 (port 0): membership
//! changes, replication, forwarded writes, follower reads, authentication and leader failover.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use marquee_origin::raft::tables::Table;
use marquee_origin::raft::{
    App, Cluster, OpenError, Options, RAFT_RPC_PREFIX, Replicated, SECRET_HEADER, StoreError,
};

struct Counters;

const VALUES: Table<i64> = Table::new("values");

impl App for Counters {
    type Command = (String, i64);
    type Outcome = i64;
    fn apply(
        &self,
        tx: &redb::WriteTransaction,
        (key, by): &(String, i64),
    ) -> Result<i64, StoreError> {
        let v = VALUES.get(tx, key.as_bytes())?.unwrap_or(0) + by;
        VALUES.put(tx, key.as_bytes(), &v)?;
        Ok(v)
    }
}

/// Every counter, read locally.
fn all(raft: &Replicated<Counters>) -> BTreeMap<String, i64> {
    raft.read(|tx| {
        Ok(VALUES
            .prefix(tx, b"", false, usize::MAX)?
            .into_iter()
            .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
            .collect())
    })
    .expect("read")
}

const SECRET: &str = "test-cluster-secret";

struct Node {
    id: u64,
    /// Advertised Raft address, `http://host:port`.
    addr: String,
    raft: Replicated<Counters>,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start(id: u64, bootstrap: bool) -> anyhow::Result<Node> {
    start_with(id, bootstrap, Options::default()).await
}

async fn start_with(id: u64, bootstrap: bool, opts: Options) -> anyhow::Result<Node> {
    let dir = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    // Advertised as origin's server does it, with a scheme.
    let addr = format!("http://{}", listener.local_addr()?);
    let opts = Options {
        cluster: Cluster::Http {
            secret: SECRET.into(),
            bootstrap,
        },
        ..opts
    };
    let raft = Replicated::open_with(dir.path(), id, addr.clone(), opts, Counters).await?;
    let router = raft.rpc_router();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(Node {
        id,
        addr,
        raft,
        server,
        _dir: dir,
    })
}

async fn wait_for<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cmd(key: &str, by: i64) -> (String, i64) {
    (key.to_string(), by)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_replicate_and_fail_over() -> anyhow::Result<()> {
    let n1 = start(1, true).await?;
    let n2 = start(2, false).await?;
    let n3 = start(3, false).await?;
    assert_eq!(n1.raft.write(cmd("a", 1)).await?, 1);
    for n in [&n2, &n3] {
        let join = n1.raft.add_voter(n.id, n.addr.clone());
        tokio::time::timeout(Duration::from_secs(30), join).await??;
    }
    assert_eq!(n1.raft.write(cmd("a", 10)).await?, 11);

    // Followers apply the same log.
    for n in [&n2, &n3] {
        wait_for("replication", async || {
            (all(&n.raft).get("a").copied() == Some(11)).then_some(())
        })
        .await;
    }

    // A follower forwards a write to the leader and answers with its outcome.
    let leader_id = n1.raft.status().leader_id.expect("a leader");
    let follower = [&n1, &n2, &n3]
        .into_iter()
        .find(|n| n.id != leader_id)
        .expect("a follower");
    assert_eq!(follower.raft.write(cmd("a", 1)).await?, 12);

    // Raft RPCs need the cluster secret.
    let url = format!("{}{RAFT_RPC_PREFIX}/vote", n2.addr);
    let client = reqwest::Client::new();
    let resp = client.post(&url).body("{}").send().await?;
    assert_eq!(resp.status(), 401);
    let resp = client
        .post(&url)
        .header(SECRET_HEADER, "wrong")
        .body("{}")
        .send()
        .await?;
    assert_eq!(resp.status(), 401);

    // The leader goes away: the other two elect a new one and keep accepting writes.
    n1.raft.shutdown().await?;
    n1.server.abort();
    let (leader, other) = wait_for("a new leader", async || {
        let s = n2.raft.status();
        match s.leader_id {
            Some(2) => Some((&n2, &n3)),
            Some(3) => Some((&n3, &n2)),
            _ => None,
        }
    })
    .await;
    assert_eq!(leader.raft.write(cmd("a", 100)).await?, 112);
    // A follower's linearizable read sees that write at once (read-index through the leader).
    let linearizable = other
        .raft
        .read_linearizable(|tx| VALUES.get(tx, b"a"))
        .await?;
    assert_eq!(linearizable, Some(112));

    for n in [n2, n3] {
        n.raft.shutdown().await?;
        n.server.abort();
    }
    Ok(())
}

/// A node that joins after the leader purged its log catches up through a (multi-chunk) snapshot
/// sent over HTTP, then follows the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiner_catches_up_from_a_snapshot() -> anyhow::Result<()> {
    let opts = Options {
        snapshot_every: 20,
        keep_behind_snapshot: 0,
        ..Options::default()
    };
    let n1 = start_with(1, true, opts.clone()).await?;
    // ~3.6 MB of state: the snapshot goes over in several chunks, each above axum's default
    // body limit once JSON-encoded.
    let filler = "x".repeat(60_000);
    for i in 0..60 {
        n1.raft.write(cmd(&format!("{i:02}{filler}"), 1)).await?;
    }
    n1.raft.write(cmd("k0", 1)).await?;
    wait_for("snapshot and purge", async || {
        (n1.raft.status().purged_index >= Some(40)).then_some(())
    })
    .await;

    let n2 = start_with(2, false, opts).await?;
    let join = n1.raft.add_voter(n2.id, n2.addr.clone());
    tokio::time::timeout(Duration::from_secs(30), join).await??;
    let want = all(&n1.raft);
    wait_for("catch-up", async || (all(&n2.raft) == want).then_some(())).await;
    assert!(
        n2.raft.status().snapshot_index >= Some(40),
        "{:?}",
        n2.raft.status()
    );
    assert_eq!(n1.raft.write(cmd("k0", 1)).await?, want["k0"] + 1);
    wait_for("follow the log", async || {
        (all(&n2.raft).get("k0").copied() == Some(want["k0"] + 1)).then_some(())
    })
    .await;
    for n in [n1, n2] {
        n.raft.shutdown().await?;
        n.server.abort();
    }
    Ok(())
}

#[tokio::test]
async fn a_short_cluster_secret_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let opts = Options {
        cluster: Cluster::Http {
            secret: "short".to_owned(),
            bootstrap: true,
        },
        ..Options::default()
    };
    let res = Replicated::open_with(dir.path(), 1, "x".to_owned(), opts, Counters).await;
    let err = res.err().expect("must refuse");
    assert!(matches!(err, OpenError::Config(_)), "{err:?}");
    Ok(())
}

/// A leader whose process is gone (its Raft port refuses connections) is replaced by the
/// followers' leader watch, without waiting for openraft's election timer: here that timer is
/// off, so only the watch can elect, and it must do so soon after the old leader's lease ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_stand_as_soon_as_a_dead_leaders_lease_ends() -> anyhow::Result<()> {
    let opts = Options {
        timer_elections: false,
        ..Options::default()
    };
    let n1 = start_with(1, true, opts.clone()).await?;
    let n2 = start_with(2, false, opts.clone()).await?;
    let n3 = start_with(3, false, opts).await?;
    for n in [&n2, &n3] {
        let join = n1.raft.add_voter(n.id, n.addr.clone());
        tokio::time::timeout(Duration::from_secs(30), join).await??;
    }
    assert_eq!(n1.raft.write(cmd("a", 1)).await?, 1);

    n1.raft.shutdown().await?;
    n1.server.abort();
    let killed_at = Instant::now();
    let leader = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match n2.raft.status().leader_id {
                Some(id) if id != 1 => return id,
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("no new leader within 5 s of the old one's death"))?;
    println!(
        "node {leader} leads {:?} after the kill",
        killed_at.elapsed()
    );
    let (new, other) = if leader == 2 { (&n2, &n3) } else { (&n3, &n2) };
    assert_eq!(new.raft.write(cmd("a", 1)).await?, 2);
    wait_for("the other follower", async || {
        (other.raft.status().leader_id == Some(leader)).then_some(())
    })
    .await;
    for n in [n2, n3] {
        n.raft.shutdown().await?;
        n.server.abort();
    }
    Ok(())
}
