//! Origin's replicated state: an application state machine ([`App`]) replicated with openraft
//! 0.9 over durable redb files in the node's directory.
//!
//! * `raft.redb` holds the log, the vote and the commit pointer; `raft.journal` is the log's
//!   write-ahead journal: every append is a record there, synced with one `fdatasync` before
//!   openraft hears it is flushed; its rows stay in memory until the journal's next
//!   checkpoint (at most every 4 MiB) writes them to redb.
//! * `state.redb` holds the application's [`tables`] and the last applied log id and membership,
//!   written in the same transaction as each batch of commands, so a restart replays only the
//!   entries after it. Memory holds nothing but redb's bounded page cache.
//! * `snapshots/` holds the current snapshot: a stream of every table from one read transaction
//!   with a digest ([`snapshot`]); installing one builds a fresh state file, checks it and swaps
//!   it in. The log behind a snapshot is purged.
//! * One node is a complete cluster ([`Cluster::SingleNode`], the default): the first
//!   [`Replicated::open`] on an empty directory initialises it, later opens just restart it.
//! * Several nodes ([`Cluster::Http`]): Raft RPCs go over HTTP with a shared secret; origin's
//!   server mounts [`Replicated::rpc_router`]; one node bootstraps, the leader adds the others
//!   with [`Replicated::add_voter`]. Followers answer writes with [`WriteError::NotLeader`]
//!   naming the leader's address (forwarding is the caller's job).
//!
//! ```
//! use marquee_origin::raft::{App, Replicated, StoreError, tables::Table};
//!
//! const TOTAL: Table<u64> = Table::new("total");
//!
//! struct Counter;
//!
//! impl App for Counter {
//!     type Command = u64;
//!     type Outcome = u64;
//!     fn apply(&self, tx: &redb::WriteTransaction, by: &u64) -> Result<u64, StoreError> {
//!         let total = TOTAL.get(tx, b"")?.unwrap_or(0) + by;
//!         TOTAL.put(tx, b"", &total)?;
//!         Ok(total)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! # let tmp = tempfile::tempdir()?;
//! # let dir = tmp.path();
//! let state = Replicated::open(dir, 1, "127.0.0.1:7000".to_owned(), Counter).await?;
//! assert_eq!(state.write(5).await?, 5);
//! assert_eq!(state.read_linearizable(|tx| TOTAL.get(tx, b"")).await?, Some(5));
//! state.shutdown().await?;
//!
//! let state = Replicated::open(dir, 1, "127.0.0.1:7000".to_owned(), Counter).await?;
//! assert_eq!(state.read(|tx| TOTAL.get(tx, b""))?, Some(5), "durable across restarts");
//! # state.shutdown().await?;
//! # Ok(())
//! # }
//! ```
mod cluster;
mod coalesce;
#[cfg(test)]
mod conformance_test;
mod db;
mod error;
pub mod group_commit;
mod http;
mod journal;
mod leader_watch;
mod log_store;
#[cfg(test)]
mod migration_test;
pub mod network;
mod options;
pub mod snapshot;
mod state_db;
mod state_machine;
mod stream;
pub mod tables;
pub mod types;

/// The state file of a stopped node, for [`crate::scale_fill`].
pub(crate) mod state_file {
    pub(crate) use super::state_db::{open_for_fill as open, persist_file as persist};
}

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::{Config, SnapshotPolicy};
use tokio::sync::{Mutex, oneshot};

pub use cluster::MembershipChange;
use cluster::{CallError, Peers, Refusal, Retry};
pub use db::{STORE_FILE, StoreOpenError};
pub use error::{MembershipError, OpenError, ReadError, ShutdownError, WriteError};
pub use group_commit::GroupCommit;
pub use http::{HttpNetwork, RAFT_RPC_PREFIX, SECRET_HEADER, secret_matches};
use journal::Journal;
pub use options::{Cluster, Options, Status};
pub use state_db::STATE_FILE;
use state_db::StateDb;
pub use tables::StoreError;
pub use types::NodeAddrs;
use types::{CommandJson, NodeId, OutcomeJson, Raft};

/// The client for calling peers: plain HTTP, or mutual TLS with `tls`. Connecting gives up
/// after 2 s (a down peer must not hold up a forwarded call for long).
fn peer_client(tls: Option<&rustls::ClientConfig>) -> Result<reqwest::Client, OpenError> {
    let builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(2));
    let builder = match tls {
        Some(config) => builder.use_preconfigured_tls(config.clone()),
        None => builder,
    };
    builder
        .build()
        .map_err(|e| OpenError::Config(format!("cannot build the peer HTTP client: {e}")))
}

/// Shortest accepted [`Cluster::Http`] secret.
pub const MIN_SECRET_LEN: usize = 16;
/// Deadline for sending and installing one snapshot chunk ([`http::SNAPSHOT_CHUNK_BYTES`]).
const SNAPSHOT_CHUNK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for readers to let go of the state file.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// What commands and outcomes must be: JSON round-trippable, cloneable, printable, shareable.
pub trait LogValue:
    serde::Serialize + serde::de::DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static
{
}

impl<T> LogValue for T where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}

/// The replicated application: a deterministic state machine over [`tables`].
pub trait App: Send + Sync + 'static {
    type Command: LogValue;
    type Outcome: LogValue;
    /// Applies one command inside `tx`, the write transaction of its batch. Must be
    /// deterministic: same tables + command → same writes and outcome on every node (no clock,
    /// no randomness; callers put timestamps and ids into the command). A refusal is an
    /// `Outcome` and must leave the tables untouched (check before writing). `Err` is a storage
    /// failure: it stops Raft on this node (later writes fail with [`WriteError::Fatal`]), as
    /// does a panic.
    fn apply(
        &self,
        tx: &redb::WriteTransaction,
        cmd: &Self::Command,
    ) -> Result<Self::Outcome, StoreError>;

    /// Writes the state of a store made before the state had its own file (the JSON of the
    /// whole app, from its last snapshot) into `tx`. The default refuses: such stores predate
    /// this app.
    /// Brings a state file written by an older version up to date (indexes it lacks), as the
    /// node opens it. Must be deterministic like `apply`: every node upgrades the same state
    /// the same way.
    fn upgrade(&self, _tx: &redb::WriteTransaction) -> Result<(), StoreError> {
        Ok(())
    }

    fn import_legacy(&self, _tx: &redb::WriteTransaction, _json: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::Other(
            "this store was written by an older version that kept a JSON snapshot, \
             and this application cannot read it"
                .into(),
        ))
    }
}

/// A handle to this node's replicated state. Cheap to clone.
pub struct Replicated<A: App> {
    inner: Arc<Inner>,
    _app: std::marker::PhantomData<fn() -> A>,
}

struct Inner {
    node_id: NodeId,
    raft: Raft,
    state: Arc<StateDb>,
    /// The cluster secret for Raft RPCs; `None` for a single node.
    secret: Option<Arc<str>>,
    /// Client for forwarding to other members; `None` for a single node.
    peers: Option<Peers>,
    /// See [`Options::unsafe_local_reads`].
    unsafe_local_reads: bool,
    /// This node's callers' writes, sent (to the leader) as batches ([`coalesce`]).
    writes: coalesce::WriteQueue<WriteError>,
    /// What this node proposes while it leads, followers' forwarded batches included, merged
    /// into few entries ([`coalesce`]).
    proposals: coalesce::WriteQueue<Refusal>,
    /// Read-index rounds, shared by the callers waiting when each starts ([`coalesce`]).
    read_index: coalesce::ReadIndexQueue<ReadError>,
    /// Fires when the log file is closed; `shutdown` waits for it so the store can be reopened.
    closed: Mutex<Option<oneshot::Receiver<()>>>,
    /// When a leader was last heard from ([`leader_watch`]).
    contact: Arc<leader_watch::LeaderContact>,
}

impl<A: App> Replicated<A> {
    fn from_inner(inner: Arc<Inner>) -> Self {
        Self {
            inner,
            _app: std::marker::PhantomData,
        }
    }
}

impl<A: App> Clone for Replicated<A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            _app: std::marker::PhantomData,
        }
    }
}

/// Opens both files (migrating a legacy store) and the snapshot folder. Blocking.
fn open_files<A: App>(
    dir: &Path,
    node_id: NodeId,
    app: &A,
) -> Result<
    (
        redb::Database,
        Journal,
        bool,
        StateDb,
        state_machine::SnapshotDir,
    ),
    StoreOpenError,
> {
    let (log, created) = db::open_store(dir, node_id)?;
    let corrupt = |reason: String| StoreOpenError::Corrupt {
        path: dir.join(STATE_FILE),
        reason,
    };
    if !StateDb::exists(dir) {
        migrate_legacy(dir, &log, app).map_err(|e| corrupt(e.to_string()))?;
    }
    let state = StateDb::open(dir)?;
    upgrade(&state, app).map_err(|e| corrupt(e.to_string()))?;
    // A legacy snapshot left by a crash right after its migration is no longer needed.
    db::clear_legacy_snapshot(&log).map_err(|e| corrupt(e.to_string()))?;
    let snapshots = state_machine::SnapshotDir::open(&dir.join("snapshots")).map_err(|e| {
        StoreOpenError::CreateDir {
            path: dir.join("snapshots"),
            source: e,
        }
    })?;
    let journal = Journal::open(dir, &log).map_err(|e| StoreOpenError::Corrupt {
        path: dir.join(journal::JOURNAL_FILE),
        reason: e.to_string(),
    })?;
    Ok((log, journal, created, state, snapshots))
}

fn upgrade<A: App>(state: &StateDb, app: &A) -> Result<(), StoreError> {
    let db = state.db()?;
    let tx = db.begin_write()?;
    app.upgrade(&tx)?;
    tx.commit()?;
    Ok(())
}

/// A store from before state files: builds `state.redb` from its JSON snapshot (if it has one;
/// the log replays the rest), in a fresh file swapped in whole.
fn migrate_legacy<A: App>(dir: &Path, log: &redb::Database, app: &A) -> Result<(), StoreError> {
    let legacy = db::legacy_snapshot(log).map_err(|e| StoreError::Other(e.to_string()))?;
    let Some((meta, json)) = legacy else {
        return Ok(());
    };
    let fresh = dir.join(STATE_FILE).with_extension("redb.migrating");
    let db = state_db::create_fresh(&fresh)?;
    let tx = state_db::durable_write(&db)?;
    app.import_legacy(&tx, &json)?;
    state_db::LAST_APPLIED.put(&tx, state_db::KEY_LAST_APPLIED, &meta.last_log_id)?;
    state_db::MEMBERSHIP.put(&tx, state_db::KEY_MEMBERSHIP, &meta.last_membership)?;
    tx.commit()?;
    drop(db);
    std::fs::rename(&fresh, dir.join(STATE_FILE))
        .map_err(|e| StoreError::Other(format!("cannot move the migrated state in place: {e}")))?;
    tracing::info!(last_log_id = ?meta.last_log_id, "migrated the state of an older origin into state.redb");
    Ok(())
}

impl<A: App> Replicated<A> {
    /// Opens (or creates) the node's durable store under `dir` and starts Raft, with defaults.
    pub async fn open(
        dir: &Path,
        node_id: u64,
        advertise_addr: impl Into<NodeAddrs>,
        app: A,
    ) -> Result<Self, OpenError> {
        Self::open_with(dir, node_id, advertise_addr, Options::default(), app).await
    }

    /// Opens the store and starts Raft. Returns once this node has a leader and has applied
    /// everything committed, so a local `read` right after sees all earlier writes.
    #[tracing::instrument(skip_all, fields(node_id = node_id, dir = %dir.display()))]
    pub async fn open_with(
        dir: &Path,
        node_id: u64,
        advertise_addr: impl Into<NodeAddrs>,
        opts: Options,
        app: A,
    ) -> Result<Self, OpenError> {
        let advertise_addr = advertise_addr.into();
        if let Cluster::Http { secret, .. } = &opts.cluster
            && secret.len() < MIN_SECRET_LEN
        {
            let why = format!("the cluster secret needs at least {MIN_SECRET_LEN} characters");
            return Err(OpenError::Config(why));
        }
        let app = Arc::new(app);
        let (path, opening) = (dir.to_path_buf(), app.clone());
        let opened = tokio::task::spawn_blocking(move || open_files(&path, node_id, &*opening))
            .await
            // A panic inside redb on a damaged file is reported as corruption, not propagated.
            .map_err(|e| StoreOpenError::Corrupt {
                path: dir.to_path_buf(),
                reason: e.to_string(),
            })??;
        let (log_db, journal, created, state, snapshots) = opened;
        tracing::info!(created, "raft store opened");

        let (log_db, closed) = db::Store::new(log_db);
        let state = Arc::new(state);
        let config = Config {
            cluster_name: "marquee-origin".into(),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(opts.snapshot_every),
            max_in_snapshot_log_to_keep: opts.keep_behind_snapshot,
            snapshot_max_chunk_size: http::SNAPSHOT_CHUNK_BYTES,
            // openraft's 200 ms default is per chunk: a 1 MB chunk to a busy or distant peer can
            // miss it on every retry, and the joiner then never catches up.
            install_snapshot_timeout: SNAPSHOT_CHUNK_TIMEOUT.as_millis() as u64,
            // openraft 0.9 has a follower stand after the old leader's lease (the maximum) plus
            // its own timeout (min..max), and a candidate that meets a longer log backs off
            // another 2 × max; under load the followers' logs usually differ, so that second
            // round is common: failover takes ~2 × max to ~4 × max. A leader whose process is
            // gone is replaced sooner, right after its lease (`leader_watch`). Four heartbeats
            // fit in the lease. See Options::election_timeout_ms for the default.
            election_timeout_min: opts.election_timeout_ms / 2,
            election_timeout_max: opts.election_timeout_ms,
            heartbeat_interval: (opts.election_timeout_ms / 4).max(1),
            enable_elect: opts.timer_elections,
            ..Default::default()
        }
        .validate()
        .map_err(|e| OpenError::Raft(e.to_string()))?;
        let (log, sm) = (
            log_store::LogStore::new(log_db.clone(), journal, node_id),
            state_machine::StateMachine::new(state.clone(), app, Arc::new(snapshots)),
        );
        let config = Arc::new(config);
        let (raft, secret) = match &opts.cluster {
            Cluster::SingleNode => {
                let net = network::SingleNodeNetwork;
                (Raft::new(node_id, config, net, log, sm).await, None)
            }
            Cluster::Http { secret, .. } => {
                let client = peer_client(opts.peer_tls.as_deref())?;
                let net = HttpNetwork::new(secret, client.clone());
                let secret = Arc::<str>::from(secret.as_str());
                let peers = Peers::new(secret.clone(), client);
                (
                    Raft::new(node_id, config, net, log, sm).await,
                    Some((secret, peers)),
                )
            }
        };
        let (secret, peers) = secret.unzip();
        let raft = raft.map_err(|e| OpenError::Raft(e.to_string()))?;
        // The queues' tasks hold the node weakly, so dropping the last handle still ends them.
        let leader = raft.clone();
        let proposals =
            coalesce::WriteQueue::start(coalesce::PROPOSALS_IN_FLIGHT, move |payload| {
                let raft = leader.clone();
                async move { cluster::leader_write(&raft, payload).await }
            });
        let contact = leader_watch::LeaderContact::new();
        if matches!(opts.cluster, Cluster::Http { .. }) {
            let (raft, election_ms) = (raft.clone(), opts.election_timeout_ms);
            leader_watch::spawn(raft, node_id, contact.clone(), election_ms);
        }
        let inner = Arc::new_cyclic(|node: &std::sync::Weak<Inner>| {
            let (for_writes, for_reads) = (node.clone(), node.clone());
            Inner {
                node_id,
                raft,
                state,
                peers,
                secret,
                unsafe_local_reads: opts.unsafe_local_reads,
                closed: Mutex::new(Some(closed)),
                contact: contact.clone(),
                proposals,
                writes: coalesce::WriteQueue::start(coalesce::CALLERS_IN_FLIGHT, move |payload| {
                    let node = for_writes.upgrade().map(Self::from_inner);
                    async move {
                        match node {
                            Some(node) => node.write_json(payload).await,
                            None => Err(WriteError::Stopped),
                        }
                    }
                }),
                read_index: coalesce::ReadIndexQueue::start(move || {
                    let node = for_reads.upgrade().map(Self::from_inner);
                    async move {
                        match node {
                            Some(node) => node.fetch_read_index().await,
                            None => Err(ReadError::Stopped),
                        }
                    }
                }),
            }
        });
        drop(log_db);
        let this = Self::from_inner(inner);
        if let Err(e) = this.start(advertise_addr, &opts).await {
            // Release the files so the caller may retry or inspect them.
            let _ = this.shutdown().await;
            return Err(e);
        }
        spawn_metrics(this.inner.raft.clone());
        Ok(this)
    }

    /// Initialises a pristine node as a one-node cluster (never an initialised one), then waits
    /// for a leader and for the replay of committed entries.
    async fn start(&self, advertise_addr: NodeAddrs, opts: &Options) -> Result<(), OpenError> {
        let raft = &self.inner.raft;
        let timeout = opts.start_timeout;
        let fatal = |e: &dyn std::fmt::Display| OpenError::Raft(e.to_string());
        let pristine = !raft.is_initialized().await.map_err(|e| fatal(&e))?;
        let bootstrap = match opts.cluster {
            Cluster::SingleNode => true,
            Cluster::Http { bootstrap, .. } => bootstrap,
        };
        if pristine && bootstrap {
            let me = advertise_addr;
            let members = BTreeMap::from([(self.inner.node_id, me)]);
            raft.initialize(members).await.map_err(|e| fatal(&e))?;
            tracing::info!(
                node_id = self.inner.node_id,
                "initialised a one-node raft cluster"
            );
        } else if matches!(opts.cluster, Cluster::Http { .. }) {
            // A member of a multi-node cluster (joining or restarting): a leader needs a quorum,
            // which may not be up yet, so do not wait for one here.
            return Ok(());
        }
        let waited_ms = timeout.as_millis() as u64;
        let started = Instant::now();
        raft.wait(Some(timeout))
            .metrics(
                |m| m.current_leader.is_some() || m.running_state.is_err(),
                "leader known",
            )
            .await
            .map_err(|_| OpenError::NoLeader { waited_ms })?;
        if let Err(e) = &raft.metrics().borrow().running_state {
            return Err(fatal(e));
        }
        let left = timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, raft.ensure_linearizable()).await {
            Ok(Ok(_)) => Ok(()),
            // A follower cannot confirm reads itself; it is still usable for writes via forward.
            Ok(Err(openraft::error::RaftError::APIError(_))) => Ok(()),
            Ok(Err(e)) => Err(fatal(&e)),
            Err(_) => Err(OpenError::NoLeader { waited_ms }),
        }
    }

    /// Replicates and applies one command; returns its outcome once committed and applied.
    ///
    /// Not cancel-safe in the usual sense: dropping the future after it started may still let the
    /// command commit and apply. Commands should carry their own ids when retries matter.
    pub async fn write(&self, cmd: A::Command) -> Result<A::Outcome, WriteError> {
        let json = serde_json::to_string(&cmd).map_err(|e| WriteError::Encode(e.to_string()))?;
        // A command that would not decode at apply time (e.g. a NaN float becomes `null`) would
        // stop Raft on every node; refuse it here instead. Position only: values may be secret.
        if let Err(e) = serde_json::from_str::<A::Command>(&json) {
            let (kind, column) = (e.classify(), e.column());
            let why = format!("command does not round-trip through JSON ({kind:?} at {column})");
            return Err(WriteError::Encode(why));
        }
        let started = Instant::now();
        let res = self.propose_or_forward(json).await;
        let outcome = match res {
            Ok(out) => serde_json::from_str(&out.0).map_err(|e| {
                WriteError::Fatal(format!("undecodable outcome ({:?} error)", e.classify()))
            }),
            Err(e) => Err(e),
        };
        let result = if outcome.is_ok() { "ok" } else { "error" };
        metrics::counter!("marquee_origin_raft_writes_total", "result" => result).increment(1);
        metrics::histogram!("marquee_origin_raft_write_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        outcome
    }

    /// While this node leads, a write joins its proposals directly (batching it twice would only
    /// split the leader's entries); otherwise it is batched with this node's other writes and
    /// forwarded. "Not the leader" comes before anything is appended, so retrying is safe.
    async fn propose_or_forward(&self, json: String) -> Result<OutcomeJson, WriteError> {
        let leads = self.inner.raft.metrics().borrow().current_leader == Some(self.inner.node_id);
        if leads {
            match self
                .inner
                .proposals
                .write(CommandJson::One(json.clone()))
                .await
            {
                Err(Refusal::NotLeader { .. }) => {}
                other => return other.map_err(WriteError::from),
            }
        }
        self.inner.writes.write(CommandJson::One(json)).await
    }

    /// Writes through this node if it leads, else through the leader (forwarded over the Raft
    /// RPC listener), retrying while a leader is being elected. A forwarded write is sent again
    /// only when it was surely not delivered, so no command is applied twice by a retry.
    pub(crate) async fn write_json(&self, json: CommandJson) -> Result<OutcomeJson, WriteError> {
        let proposals = &self.inner.proposals;
        let here = || proposals.write(json.clone());
        match self
            .on_leader("write", &json, cluster::FORWARD_TIMEOUT, here)
            .await
        {
            Ok(out) => Ok(out),
            Err(Unanswered::Refused(r)) => Err(r.into()),
            Err(Unanswered::NoAnswer(e)) => Err(WriteError::Unknown(e)),
        }
    }

    /// Runs a call that needs the leader: `here` on this node, and while it answers "not the
    /// leader", the same request to the leader's `rpc` (retrying through elections for up to
    /// [`cluster::FORWARD_TIMEOUT`]). A forward is re-sent only when it surely never arrived.
    async fn on_leader<T, Fut>(
        &self,
        rpc: &str,
        req: &(impl serde::Serialize + Sync),
        call_timeout: Duration,
        here: impl Fn() -> Fut,
    ) -> Result<T, Unanswered>
    where
        T: serde::de::DeserializeOwned,
        Fut: std::future::Future<Output = cluster::Answer<T>>,
    {
        let mut retry = Retry::new(cluster::FORWARD_TIMEOUT);
        loop {
            // Asking here first only to hear "not the leader" costs trips to this node's
            // queue and Raft core; when another node is known to lead, go to it at once.
            let refusal = match self.other_leader() {
                Some(refusal) => refusal,
                None => match here().await {
                    Ok(v) => return Ok(v),
                    Err(r) => r,
                },
            };
            let (
                Some(peers),
                Refusal::NotLeader {
                    leader_id,
                    leader_addr,
                },
            ) = (&self.inner.peers, &refusal)
            else {
                return Err(Unanswered::Refused(refusal));
            };
            if let (Some(addr), true) = (leader_addr, *leader_id != Some(self.inner.node_id)) {
                match peers.call::<_, T>(addr, rpc, req, call_timeout).await {
                    Ok(Ok(v)) => return Ok(v),
                    Ok(Err(Refusal::NotLeader { .. })) | Err(CallError::NotDelivered(_)) => {}
                    Ok(Err(r)) => return Err(Unanswered::Refused(r)),
                    Err(CallError::Unknown(e)) => return Err(Unanswered::NoAnswer(e)),
                }
            }
            if !retry.wait().await {
                return Err(Unanswered::Refused(refusal));
            }
        }
    }

    /// "Not the leader", naming the leader, when this node knows another node leads.
    fn other_leader(&self) -> Option<Refusal> {
        let m = self.inner.raft.metrics();
        let m = m.borrow();
        let leader = m.current_leader.filter(|l| *l != self.inner.node_id)?;
        let node = m.membership_config.membership().get_node(&leader)?;
        Some(Refusal::NotLeader {
            leader_id: Some(leader),
            leader_addr: Some(node.raft_url()),
        })
    }

    /// Local read of the applied state (catalogue reads): `f` runs on one consistent read
    /// transaction. May lag the leader on a follower. Blocking but short (point reads and
    /// bounded scans through redb's page cache).
    pub fn read<R>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let tx = self.inner.state.begin_read()?;
        f(&tx)
    }

    /// Linearizable read (read-index via `ensure_linearizable`) for reads that guard money or
    /// access: sees every write that completed anywhere before the call.
    /// On a follower the leader confirms its leadership and names the index to wait for
    /// (read-index); the read then runs here once that index is applied.
    pub async fn read_linearizable<R>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<R, StoreError>,
    ) -> Result<R, ReadError> {
        self.read_barrier().await?;
        self.read(f)
            .map_err(|e| ReadError::Fatal(format!("state read failed: {e}")))
    }

    /// Returns once this node has applied everything committed before the call, anywhere:
    /// the leader confirms it still leads (a heartbeat round with a quorum) and names its read
    /// index, which this node then waits to apply.
    async fn read_barrier(&self) -> Result<(), ReadError> {
        if self.inner.unsafe_local_reads {
            return Ok(());
        }
        let index = self.inner.read_index.read_index().await?;
        self.wait_applied(index).await
    }

    /// One read-index round: the leader's read index, asked here or of the leader.
    async fn fetch_read_index(&self) -> Result<u64, ReadError> {
        let raft = &self.inner.raft;
        let here = || cluster::leader_read_index(raft);
        match self
            .on_leader("read-index", &(), cluster::FORWARD_TIMEOUT, here)
            .await
        {
            Ok(index) => Ok(index),
            Err(Unanswered::Refused(r)) => Err(r.into()),
            Err(Unanswered::NoAnswer(e)) => Err(ReadError::Unavailable(e)),
        }
    }

    async fn wait_applied(&self, index: u64) -> Result<(), ReadError> {
        self.inner
            .raft
            .wait(Some(cluster::FORWARD_TIMEOUT))
            .applied_index_at_least(Some(index), "read index")
            .await
            .map(drop)
            .map_err(|e| ReadError::Unavailable(format!("this node is catching up: {e}")))
    }

    /// Stops Raft and waits until both files are closed, so the store can be reopened.
    /// Idempotent. Other clones of this handle then answer `Stopped`.
    pub async fn shutdown(&self) -> Result<(), ShutdownError> {
        self.inner
            .raft
            .shutdown()
            .await
            .map_err(|e| ShutdownError::Raft(e.to_string()))?;
        // The state-machine worker and any snapshot build end just after the core; wait for them.
        let mut closed = self.inner.closed.lock().await;
        let waited_ms = CLOSE_WAIT.as_millis() as u64;
        if let Some(rx) = closed.as_mut() {
            match tokio::time::timeout(CLOSE_WAIT, rx).await {
                Ok(_) => *closed = None,
                Err(_) => return Err(ShutdownError::StoreStillOpen { waited_ms }),
            }
        }
        let state = self.inner.state.clone();
        let released = tokio::task::spawn_blocking(move || {
            // A clean stop leaves nothing for the next start to replay. Already closed: fine.
            let _ = state.persist();
            state.close(CLOSE_WAIT)
        })
        .await
        .unwrap_or(false);
        if !released {
            return Err(ShutdownError::StoreStillOpen { waited_ms });
        }
        Ok(())
    }

    /// Adds a node: it catches up as a learner, then joins the voters (joint consensus). Any
    /// member may be asked; the leader decides. The node must run with [`Cluster::Http`] and
    /// the same secret. Refused for an id that was ever removed or that another address uses.
    pub async fn add_voter(
        &self,
        node_id: u64,
        node: impl Into<NodeAddrs>,
    ) -> Result<(), MembershipError> {
        let node = node.into();
        self.change_membership(MembershipChange::Join { node_id, node })
            .await
    }

    /// Every member's id and addresses, as this node knows them.
    pub fn member_nodes(&self) -> Vec<(NodeId, NodeAddrs)> {
        let m = self.inner.raft.metrics().borrow().clone();
        m.membership_config
            .membership()
            .nodes()
            .map(|(id, n)| (*id, n.clone()))
            .collect()
    }

    pub fn node_id(&self) -> NodeId {
        self.inner.node_id
    }

    /// The cluster secret, for other services on the Raft RPC listener; `None` alone.
    pub fn cluster_secret(&self) -> Option<Arc<str>> {
        self.inner.secret.clone()
    }

    /// The client this node calls its peers with (mutual TLS when configured); `None` for a
    /// single node.
    pub fn peer_client(&self) -> Option<reqwest::Client> {
        self.inner.peers.as_ref().map(|p| p.client().clone())
    }

    /// This node's addresses as the membership records them.
    pub fn own_addrs(&self) -> Option<NodeAddrs> {
        let m = self.inner.raft.metrics().borrow().clone();
        m.membership_config
            .membership()
            .get_node(&self.inner.node_id)
            .cloned()
    }

    /// Whether this node is in the cluster's membership (as voter or learner) as far as it knows.
    pub fn is_member(&self) -> bool {
        let m = self.inner.raft.metrics().borrow().clone();
        m.membership_config
            .membership()
            .get_node(&self.inner.node_id)
            .is_some()
    }

    /// Asks the cluster that the member at `via` (its Raft RPC address) belongs to, to take
    /// this node in as `me`; returns once this node is a voter. Follows the leader's address
    /// when `via` is not the leader.
    pub async fn join_via(
        &self,
        via: &str,
        node_id: u64,
        me: NodeAddrs,
    ) -> Result<(), MembershipError> {
        let Some(peers) = &self.inner.peers else {
            return Err(MembershipError::Rejected(
                "a node of one cannot join a cluster".into(),
            ));
        };
        let change = MembershipChange::Join { node_id, node: me };
        let mut target = via.to_owned();
        // Retries (no leader yet, unreachable) stop after a while; one answered call may take
        // long, while the leader streams this node a large snapshot.
        let mut retry = Retry::new(cluster::CATCH_UP_TIMEOUT + cluster::FORWARD_TIMEOUT);
        loop {
            let answer = peers
                .call::<_, ()>(&target, "membership", &change, cluster::JOIN_WAIT)
                .await;
            let why = match answer {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(Refusal::NotLeader {
                    leader_addr: Some(addr),
                    ..
                })) => {
                    target = addr;
                    "redirected to the leader".to_owned()
                }
                Ok(Err(Refusal::NotLeader { .. })) => "the cluster has no leader yet".to_owned(),
                Ok(Err(r)) => return Err(r.into()),
                Err(CallError::NotDelivered(e) | CallError::Unknown(e)) => e,
            };
            tracing::info!(%target, why, "join not done yet; trying again");
            if !retry.wait().await {
                return Err(MembershipError::Rejected(format!(
                    "no answer from the cluster through {via}: {why}"
                )));
            }
        }
    }

    /// Removes a node from the cluster; its id is retired for good.
    pub async fn remove_member(&self, node_id: u64) -> Result<(), MembershipError> {
        self.change_membership(MembershipChange::Remove { node_id })
            .await
    }

    /// Runs `change` on the leader: here if this node leads, else forwarded.
    pub async fn change_membership(&self, change: MembershipChange) -> Result<(), MembershipError> {
        if self.inner.peers.is_none() {
            return Err(MembershipError::Rejected(
                "this origin runs as a cluster of one (no --cluster-listen): nodes cannot join \
                 or leave it"
                    .into(),
            ));
        }
        let deadline = cluster::CATCH_UP_TIMEOUT + cluster::FORWARD_TIMEOUT;
        let (raft, state) = (&self.inner.raft, &self.inner.state);
        let peers = self.inner.peers.as_ref();
        let here = || cluster::leader_change(raft, state, peers, change.clone());
        match self.on_leader("membership", &change, deadline, here).await {
            Ok(()) => Ok(()),
            Err(Unanswered::Refused(r)) => Err(r.into()),
            Err(Unanswered::NoAnswer(e)) => Err(MembershipError::Rejected(e)),
        }
    }

    /// Every member with its role, addresses and last applied index (asked of each member;
    /// an unreachable one says why).
    pub async fn members(&self) -> Vec<Member> {
        let m = self.inner.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership().clone();
        let voters: std::collections::BTreeSet<NodeId> = membership.voter_ids().collect();
        let asks = membership.nodes().map(|(id, node)| {
            let (id, node) = (*id, node.clone());
            let role = if m.current_leader == Some(id) {
                "leader"
            } else if voters.contains(&id) {
                "follower"
            } else {
                "learner"
            };
            async move {
                let status = self.member_status(id, &node).await;
                let (last_applied_index, error) = match status {
                    Ok(s) => (s.last_applied_index, None),
                    Err(e) => (None, Some(e)),
                };
                Member {
                    node_id: id,
                    role: role.to_owned(),
                    raft_addr: node.raft,
                    api_addr: node.api,
                    last_applied_index,
                    error,
                }
            }
        });
        futures::future::join_all(asks).await
    }

    async fn member_status(&self, id: NodeId, node: &NodeAddrs) -> Result<Status, String> {
        if id == self.inner.node_id {
            return Ok(self.status());
        }
        let Some(peers) = &self.inner.peers else {
            return Err("no cluster network".into());
        };
        let timeout = Duration::from_secs(2);
        match peers
            .call::<_, Status>(&node.raft, "status", &(), timeout)
            .await
        {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(r)) => Err(r.to_string()),
            Err(CallError::NotDelivered(e) | CallError::Unknown(e)) => Err(e),
        }
    }

    /// Routes `POST /internal/raft/{append,vote,snapshot}` for origin's HTTP server to merge.
    /// On a [`Cluster::SingleNode`] store every request is refused (401).
    pub fn rpc_router(&self) -> axum::Router {
        http::router(
            self.inner.raft.clone(),
            self.inner.proposals.clone(),
            self.inner.secret.clone(),
            self.inner.peers.clone(),
            self.inner.state.clone(),
            self.inner.node_id,
            self.inner.contact.clone(),
        )
    }

    /// Changes whenever this node's Raft state does (an entry applied among others): what
    /// derived data (the search index) waits on before it looks at the state again.
    pub fn metrics_watch(
        &self,
    ) -> tokio::sync::watch::Receiver<openraft::RaftMetrics<NodeId, NodeAddrs>> {
        self.inner.raft.metrics()
    }

    /// For /healthz and metrics: current term, leader id, last applied index.
    pub fn status(&self) -> Status {
        status_of(self.inner.node_id, &self.inner.raft.metrics().borrow())
    }
}

/// Why a call that needed the leader got no result.
enum Unanswered {
    /// This node or the leader refused it (or no leader came up in time).
    Refused(Refusal),
    /// A forwarded call got no answer: it may or may not have taken effect.
    NoAnswer(String),
}

/// A member as the cluster view shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    pub node_id: NodeId,
    /// `leader`, `follower` or `learner`.
    pub role: String,
    pub raft_addr: String,
    pub api_addr: String,
    pub last_applied_index: Option<u64>,
    /// Why the member's own status could not be read, if it could not.
    pub error: Option<String>,
}

pub(crate) fn status_of(node_id: NodeId, m: &openraft::RaftMetrics<NodeId, NodeAddrs>) -> Status {
    Status {
        node_id,
        role: format!("{:?}", m.state),
        current_term: m.current_term,
        leader_id: m.current_leader,
        last_applied_index: m.last_applied.map(|l| l.index),
        last_log_index: m.last_log_index,
        snapshot_index: m.snapshot.map(|l| l.index),
        purged_index: m.purged.map(|l| l.index),
        stopped: m.running_state.as_ref().err().map(|e| e.to_string()),
    }
}

/// Mirrors openraft's metrics into the `metrics` crate until Raft stops.
fn spawn_metrics(raft: Raft) {
    let mut rx = raft.metrics();
    drop(raft);
    tokio::spawn(async move {
        loop {
            {
                let m = rx.borrow_and_update();
                let leader = m.current_leader == Some(m.id);
                metrics::gauge!("marquee_origin_raft_term").set(m.current_term as f64);
                metrics::gauge!("marquee_origin_raft_is_leader").set(if leader {
                    1.0
                } else {
                    0.0
                });
                let applied = m.last_applied.map(|l| l.index).unwrap_or(0);
                metrics::gauge!("marquee_origin_raft_applied_index").set(applied as f64);
                // Everything up to it is gone from the log: a node further behind needs a snapshot.
                let purged = m.purged.map(|l| l.index).unwrap_or(0);
                metrics::gauge!("marquee_origin_raft_purged_index").set(purged as f64);
            }
            // Raft publishes metrics several times per write; gauges need not follow each one,
            // and every wake-up is a thread switch on the write path.
            tokio::time::sleep(METRICS_EVERY).await;
            if rx.changed().await.is_err() {
                break;
            }
        }
    });
}

/// How often at most the Raft gauges are refreshed.
const METRICS_EVERY: Duration = Duration::from_millis(200);
