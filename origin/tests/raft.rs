//! The replicated state on real redb files in a temp dir: durability across restarts, snapshots
//! and log purging, linearizable reads, concurrency, and clear errors on bad stores.
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use marquee_origin::raft::tables::Table;
use marquee_origin::raft::{
    App, GroupCommit, OpenError, Options, RAFT_RPC_PREFIX, Replicated, SECRET_HEADER, STORE_FILE,
    StoreError, StoreOpenError, WriteError,
};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

/// A tiny deterministic app: named counters in a table, and a count of applied commands.
struct Counters;

const VALUES: Table<i64> = Table::new("values");
const STATS: Table<u64> = Table::new("stats");
const RATIO: Table<f64> = Table::new("ratio");

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Cmd {
    Add {
        key: String,
        by: i64,
    },
    Set {
        key: String,
        value: i64,
    },
    /// Stores `1 / by`.
    Invert {
        by: f64,
    },
    Explode,
}

impl App for Counters {
    type Command = Cmd;
    type Outcome = i64;

    fn apply(&self, tx: &redb::WriteTransaction, cmd: &Cmd) -> Result<i64, StoreError> {
        let n = STATS.get(tx, b"commands")?.unwrap_or(0);
        STATS.put(tx, b"commands", &(n + 1))?;
        match cmd {
            Cmd::Add { key, by } => {
                let v = VALUES.get(tx, key.as_bytes())?.unwrap_or(0) + by;
                VALUES.put(tx, key.as_bytes(), &v)?;
                Ok(v)
            }
            Cmd::Set { key, value } => {
                VALUES.put(tx, key.as_bytes(), value)?;
                Ok(*value)
            }
            Cmd::Invert { by } => {
                RATIO.put(tx, b"", &(1.0 / by))?;
                Ok(0)
            }
            Cmd::Explode => panic!("test app refuses this command"),
        }
    }
}

/// Every counter and the number of commands applied, read locally.
fn counters(node: &Replicated<Counters>) -> (BTreeMap<String, i64>, u64) {
    node.read(|tx| {
        let values = VALUES
            .prefix(tx, b"", false, usize::MAX)?
            .into_iter()
            .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
            .collect();
        Ok((values, STATS.get(tx, b"commands")?.unwrap_or(0)))
    })
    .expect("read")
}

fn value(node: &Replicated<Counters>, key: &str) -> i64 {
    counters(node).0.get(key).copied().unwrap_or(0)
}

fn add(key: &str, by: i64) -> Cmd {
    Cmd::Add {
        key: key.to_string(),
        by,
    }
}

async fn open(dir: &Path) -> Replicated<Counters> {
    Replicated::open(dir, 1, "127.0.0.1:0".to_owned(), Counters)
        .await
        .expect("open raft store")
}

fn small_snapshots() -> Options {
    Options {
        snapshot_every: 50,
        keep_behind_snapshot: 0,
        ..Options::default()
    }
}

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");

/// Log indexes still present in the redb file (read directly, Raft closed).
fn stored_log_indexes(dir: &Path) -> Vec<u64> {
    let db = redb::Database::open(dir.join(STORE_FILE)).expect("open redb");
    let txn = db.begin_read().expect("read txn");
    let table = txn.open_table(LOG).expect("log table");
    table
        .iter()
        .expect("iter")
        .map(|r| r.expect("row").0.value())
        .collect()
}

#[tokio::test]
async fn restart_keeps_state_and_outcomes_and_continues_the_log() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    let first = node.status();
    assert_eq!(
        first.leader_id,
        Some(1),
        "a one-node cluster leads itself: {first:?}"
    );
    assert_eq!(first.role, "Leader");

    let mut outcomes = Vec::new();
    for i in 0..20 {
        outcomes.push(
            node.write(add(if i % 2 == 0 { "a" } else { "b" }, i))
                .await?,
        );
    }
    assert_eq!(outcomes[18], (0..20).step_by(2).sum::<i64>());
    let before = counters(&node);
    let index_before = node.status().last_applied_index.expect("applied");
    node.shutdown().await?;

    let node = open(dir.path()).await;
    assert_eq!(counters(&node), before, "state after restart");
    let status = node.status();
    assert!(status.current_term >= first.current_term);
    // openraft may resume the same term without a new blank entry: applied is at least as before.
    assert!(
        status.last_applied_index >= Some(index_before),
        "replayed: {status:?}"
    );
    let next = node.write(add("a", 1000)).await?;
    assert_eq!(next, before.0["a"] + 1000);
    assert!(node.status().last_applied_index > status.last_applied_index);
    assert_eq!(counters(&node).1, 21);
    node.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn snapshot_and_purge_survive_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node =
        Replicated::open_with(dir.path(), 7, "n7".to_owned(), small_snapshots(), Counters).await?;
    for i in 0..230 {
        node.write(add(&format!("k{}", i % 7), 1)).await?;
    }
    // Snapshots build in the background: wait for one that covers most of the log.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        let s = node.status();
        if s.snapshot_index >= Some(180) && s.purged_index >= Some(180) {
            break s;
        }
        assert!(Instant::now() < deadline, "no snapshot/purge: {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let before = counters(&node);
    assert_eq!(before.1, 230);
    node.shutdown().await?;

    let purged = status.purged_index.expect("purged");
    let left = stored_log_indexes(dir.path());
    assert!(
        left.iter().all(|&i| i > purged),
        "log holds purged entries: {left:?}"
    );
    assert!(
        left.len() < 60,
        "log not purged: {} entries left",
        left.len()
    );

    let node =
        Replicated::open_with(dir.path(), 7, "n7".to_owned(), small_snapshots(), Counters).await?;
    assert_eq!(counters(&node), before, "snapshot + replay = state before");
    let s = node.status();
    assert!(
        s.snapshot_index >= status.snapshot_index,
        "snapshot kept: {s:?}"
    );
    assert_eq!(node.write(add("k0", 1)).await?, before.0["k0"] + 1);
    node.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn linearizable_read_sees_completed_writes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    node.write(add("balance", 42)).await?;
    let seen = node
        .read_linearizable(|tx| VALUES.get(tx, b"balance"))
        .await?;
    assert_eq!(seen, Some(42));
    node.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_apply_exactly_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let node = node.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..25 {
                    seen.push(node.write(add("shared", 1)).await.expect("write"));
                }
                seen
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    all.sort_unstable();
    // Each write saw a distinct counter value: none lost, none applied twice.
    assert_eq!(all, (1..=400).collect::<Vec<i64>>());
    assert_eq!(value(&node, "shared"), 400);
    node.shutdown().await?;
    let node = open(dir.path()).await;
    assert_eq!((value(&node, "shared"), counters(&node).1), (400, 400));
    node.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn foreign_file_is_a_clear_open_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join(STORE_FILE),
        b"these are not the pages you are looking for",
    )?;
    let err = Replicated::open(dir.path(), 1, "x".to_owned(), Counters)
        .await
        .err()
        .expect("must fail");
    assert!(
        matches!(err, OpenError::Store(StoreOpenError::Foreign { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not a Marquee origin Raft store"),
        "{err}"
    );

    // A real redb database of another program.
    let other = tempfile::tempdir()?;
    {
        let db = redb::Database::create(other.path().join(STORE_FILE))?;
        let txn = db.begin_write()?;
        txn.open_table(TableDefinition::<u64, u64>::new("raft_meta"))?
            .insert(1, 2)?;
        txn.commit()?;
    }
    let err = Replicated::open(other.path(), 1, "x".to_owned(), Counters)
        .await
        .err()
        .expect("must fail");
    assert!(
        matches!(err, OpenError::Store(StoreOpenError::Foreign { .. })),
        "{err:?}"
    );

    // A redb database of another program without any table name in common.
    let third = tempfile::tempdir()?;
    {
        let db = redb::Database::create(third.path().join(STORE_FILE))?;
        let txn = db.begin_write()?;
        txn.open_table(TableDefinition::<&str, &str>::new("users"))?
            .insert("ann", "x")?;
        txn.commit()?;
    }
    let err = Replicated::open(third.path(), 1, "x".to_owned(), Counters)
        .await
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("other tables: users"), "{err}");
    Ok(())
}

/// Writes a store, then overwrites `bytes[from..]` with garbage.
async fn corrupted_store(from: usize) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    for i in 0..30 {
        node.write(add("x", i)).await?;
    }
    node.shutdown().await?;
    let path = dir.path().join(STORE_FILE);
    let mut bytes = std::fs::read(&path)?;
    for b in bytes.iter_mut().skip(from) {
        *b = 0xA5;
    }
    std::fs::write(&path, bytes)?;
    Ok(dir)
}

#[tokio::test]
async fn corrupted_store_is_an_open_error_not_a_panic() -> anyhow::Result<()> {
    for from in [64, 4096] {
        let dir = corrupted_store(from).await?;
        let res = Replicated::open(dir.path(), 1, "x".to_owned(), Counters).await;
        let err = res.err().expect("a corrupted store must not open");
        assert!(
            matches!(err, OpenError::Store(StoreOpenError::Corrupt { .. })),
            "{from}: {err:?}"
        );
        assert!(err.to_string().contains("corrupted"), "{err}");
    }
    Ok(())
}

#[tokio::test]
async fn store_of_another_node_or_already_open_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    let again = Replicated::open(dir.path(), 1, "x".to_owned(), Counters)
        .await
        .err()
        .expect("locked");
    assert!(
        matches!(again, OpenError::Store(StoreOpenError::AlreadyOpen { .. })),
        "{again:?}"
    );
    node.shutdown().await?;

    let err = Replicated::open(dir.path(), 2, "x".to_owned(), Counters)
        .await
        .err()
        .expect("node 2");
    match err {
        OpenError::Store(StoreOpenError::NodeIdMismatch {
            stored, requested, ..
        }) => {
            assert_eq!((stored, requested), (1, 2));
        }
        other => panic!("expected a node id mismatch, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn writes_after_shutdown_or_a_failed_apply_are_errors() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    node.write(add("a", 1)).await?;
    let err = node.write(Cmd::Explode).await.expect_err("apply panicked");
    assert!(
        matches!(err, WriteError::Fatal(_) | WriteError::Stopped),
        "{err:?}"
    );
    assert!(
        node.status().stopped.is_some(),
        "raft must stop after a failed apply"
    );
    let err = node.write(add("a", 1)).await.expect_err("raft is stopped");
    assert!(
        matches!(err, WriteError::Fatal(_) | WriteError::Stopped),
        "{err:?}"
    );
    node.shutdown().await?;

    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    node.shutdown().await?;
    let err = node.write(add("a", 1)).await.expect_err("shut down");
    assert!(matches!(err, WriteError::Stopped), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn json_hostile_floats_are_refused_before_they_can_break_the_store() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    // NaN serialises as `null`: refused at the door, the node keeps working.
    let err = node
        .write(Cmd::Invert { by: f64::NAN })
        .await
        .expect_err("NaN command");
    assert!(matches!(err, WriteError::Encode(_)), "{err:?}");
    assert_eq!(node.write(add("a", 1)).await?, 1);
    // An infinity computed inside apply is stored as JSON `null`; reading it back is a clear
    // decode error naming the table, not a panic, and the node goes on.
    node.write(Cmd::Invert { by: 0.0 }).await?;
    let err = node
        .read(|tx| RATIO.get(tx, b""))
        .expect_err("null is no f64");
    assert!(err.to_string().contains("table ratio"), "{err}");
    assert_eq!(node.write(add("a", 1)).await?, 2);
    node.shutdown().await?;
    Ok(())
}

/// fsync'd write throughput, one writer and 16 concurrent writers (openraft batches concurrent
/// appends into one redb commit). Prints writes/s; asserts only a floor a user would feel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_throughput() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    let n: i32 = 300;
    let started = Instant::now();
    for i in 0..n {
        node.write(add("t", i64::from(i))).await?;
    }
    let sequential = f64::from(n) / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let node = node.clone();
            tokio::spawn(async move {
                for _ in 0..50 {
                    node.write(add("c", 1)).await.expect("write");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let concurrent = 800.0 / started.elapsed().as_secs_f64();
    println!(
        "raft writes (fsync'd, one node): {sequential:.0}/s sequential, {concurrent:.0}/s with 16 writers"
    );
    assert!(sequential > 20.0, "only {sequential:.1} writes/s");
    assert!(concurrent > 20.0, "only {concurrent:.1} writes/s");
    assert_eq!(value(&node, "c"), 800);
    node.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn empty_store_file_from_an_interrupted_first_start_opens_fresh() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join(STORE_FILE), b"")?;
    let node = open(dir.path()).await;
    assert_eq!(node.write(add("a", 2)).await?, 2);
    node.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn single_node_refuses_raft_rpcs() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    let req = axum::http::Request::post(format!("{RAFT_RPC_PREFIX}/vote"))
        .header(SECRET_HEADER, "")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{}"))?;
    let resp = tower::ServiceExt::oneshot(node.rpc_router(), req).await?;
    assert_eq!(resp.status(), 401);
    // The append stream is behind the same check, before any upgrade.
    let req = axum::http::Request::get(format!("{RAFT_RPC_PREFIX}/append-stream"))
        .header(SECRET_HEADER, "")
        .header("connection", "upgrade")
        .header("upgrade", "marquee-raft-append/1")
        .body(axum::body::Body::empty())?;
    let resp = tower::ServiceExt::oneshot(node.rpc_router(), req).await?;
    assert_eq!(resp.status(), 401);
    node.shutdown().await?;
    Ok(())
}

const CRASH_DIR_ENV: &str = "MARQUEE_RAFT_CRASH_DIR";

fn crash_options() -> Options {
    Options {
        snapshot_every: 20,
        keep_behind_snapshot: 5,
        ..Options::default()
    }
}

/// The child side of `killed_writer_keeps_every_acknowledged_write`: writes until killed,
/// printing `ack <value>` after each acknowledged write. Run alone (no env var), it writes a
/// bounded batch in a temp dir and checks each outcome.
#[tokio::test]
async fn crash_child_writes_and_acknowledges() -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let (dir, limit) = match std::env::var_os(CRASH_DIR_ENV) {
        Some(d) => (std::path::PathBuf::from(d), i64::MAX),
        None => (scratch.path().to_path_buf(), 50),
    };
    let node = Replicated::open_with(&dir, 3, "n3".to_owned(), crash_options(), Counters).await?;
    let mut expected = value(&node, "acked");
    let mut i = 0;
    while i < limit {
        expected += 1;
        let got = node.write(add("acked", 1)).await?;
        assert_eq!(got, expected);
        println!("ack {got}");
        i += 1;
    }
    node.shutdown().await?;
    Ok(())
}

/// SIGKILL a process in the middle of writing (snapshots included), then reopen: every write
/// it acknowledged is there.
#[tokio::test]
async fn killed_writer_keeps_every_acknowledged_write() -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir()?;
    let mut last_ack = 0;
    for round in 0..2 {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args([
                "--exact",
                "crash_child_writes_and_acknowledges",
                "--nocapture",
            ])
            .env(CRASH_DIR_ENV, dir.path())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let target = last_ack + 120;
        while let Some(line) =
            tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await??
        {
            if let Some(v) = line.strip_prefix("ack ") {
                last_ack = v.parse()?;
                if last_ack >= target {
                    break;
                }
            }
        }
        assert!(
            last_ack >= target,
            "round {round}: child stopped at {last_ack}"
        );
        child.kill().await?; // SIGKILL: no shutdown, no flush beyond what was fsync'd.
        let node = Replicated::open_with(dir.path(), 3, "n3".to_owned(), crash_options(), Counters)
            .await?;
        let (value, commands) = (value(&node, "acked"), counters(&node).1);
        assert!(
            value >= last_ack,
            "round {round}: acked {last_ack}, found {value}"
        );
        assert_eq!(value as u64, commands, "every command applied once");
        assert!(
            node.status().snapshot_index.is_some(),
            "snapshots were taken"
        );
        node.shutdown().await?;
        last_ack = value;
    }
    Ok(())
}

fn set(key: &str, value: i64) -> Cmd {
    Cmd::Set {
        key: key.to_owned(),
        value,
    }
}

/// 1,000 small writes from 50 writers go into a few dozen entries, and each key ends at its
/// writer's last value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_coalesces_small_writes_into_few_entries() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = open(dir.path()).await;
    let group = GroupCommit::start(node.clone(), Duration::from_millis(20));
    let before = node.status().last_log_index.unwrap_or(0);
    let writers: Vec<_> = (0..50)
        .map(|k| {
            let group = group.clone();
            tokio::spawn(async move {
                let key = format!("k{k}");
                for v in 1..=20 {
                    group.write(&key, set(&key, v)).await.expect("write");
                }
            })
        })
        .collect();
    for w in writers {
        w.await?;
    }
    let entries = node.status().last_log_index.unwrap_or(0) - before;
    println!("1000 group-committed writes took {entries} log entries");
    assert!(entries <= 200, "{entries} entries for 1000 writes");
    let (values, _) = counters(&node);
    assert_eq!(values.len(), 50);
    assert!(values.values().all(|v| *v == 20), "{values:?}");

    // Within one window, the last write for a key wins and everyone is answered.
    let before = node.status().last_log_index.unwrap_or(0);
    let burst = (1..=5).map(|v| group.write("same", set("same", v)));
    for answer in futures::future::join_all(burst).await {
        answer?;
    }
    assert_eq!(value(&node, "same"), 5);
    assert_eq!(node.status().last_log_index.unwrap_or(0) - before, 1);
    node.shutdown().await?;
    // Once Raft is down, a queued write is an error, not a hang.
    let err = group
        .write("late", set("late", 1))
        .await
        .expect_err("stopped");
    assert!(matches!(err, WriteError::Stopped), "{err:?}");
    Ok(())
}
