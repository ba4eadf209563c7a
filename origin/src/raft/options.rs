//! Tuning and status types of the replicated state.
use std::time::Duration;

use super::types::NodeId;

/// Tuning; [`Options::default`] suits production.
#[derive(Debug, Clone)]
pub struct Options {
    /// Build a snapshot once this many entries were applied since the last one. The state is
    /// on disk already, so a snapshot only bounds the log and feeds lagging or new nodes; it
    /// costs a pass over every table, so it should not come often (etcd 3.4's default is
    /// 100,000; at 10,000 a snapshot every ~13 s at 1 write per ms took a quarter of the
    /// writes/s of a 3-node cluster and doubled its p99 on a 2-core machine).
    pub snapshot_every: u64,
    /// Entries kept in the log behind the latest snapshot (lets a lagging follower catch up
    /// without a full snapshot once there are several nodes).
    pub keep_behind_snapshot: u64,
    /// Longest a follower waits without hearing from the leader before it stands for election
    /// (its timeout is drawn from half this to this; heartbeats go 4 times as often). 200 ms
    /// suits nodes that share a loaded machine or a WAN; dedicated hosts on one LAN can go
    /// lower for faster failover (measured here: ~0.18 s at 120 ms, ~0.26 s at 200 ms, after a
    /// leader's process dies), at the risk of elections whenever a node stalls that long.
    pub election_timeout_ms: u64,
    /// How long [`super::Replicated::open`] waits for a leader and for the log replay.
    pub start_timeout: Duration,
    /// One node (default) or several talking HTTP.
    pub cluster: Cluster,
    /// BROKEN ON PURPOSE, for tests only: answer "linearizable" reads from local state without
    /// read-index, so the fault suite can show its checker catches the stale reads this causes.
    pub unsafe_local_reads: bool,
    /// For tests only: `false` turns off openraft's own election timer, so that only the
    /// leader watch ([`super::leader_watch`]) can start an election.
    #[doc(hidden)]
    pub timer_elections: bool,
    /// TLS for calling peers (mutual TLS with this node's certificate); `None`: plain HTTP.
    pub peer_tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// How this node reaches its peers.
#[derive(Clone, Default)]
pub enum Cluster {
    /// A one-node cluster: no network at all.
    #[default]
    SingleNode,
    /// Raft RPCs over HTTP ([`super::Replicated::rpc_router`] serves them). Exactly one node of a new
    /// cluster has `bootstrap: true` and initialises it; the others wait for
    /// [`super::Replicated::add_voter`] on the leader. Every node shares `secret`.
    Http { secret: String, bootstrap: bool },
}

impl std::fmt::Debug for Cluster {
    // Hand-written so the secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cluster::SingleNode => f.write_str("SingleNode"),
            Cluster::Http { bootstrap, .. } => write!(f, "Http {{ bootstrap: {bootstrap} }}"),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            snapshot_every: 100_000,
            keep_behind_snapshot: 100,
            election_timeout_ms: 200,
            start_timeout: Duration::from_secs(30),
            cluster: Cluster::SingleNode,
            unsafe_local_reads: false,
            timer_elections: true,
            peer_tls: None,
        }
    }
}

/// Raft status for /healthz and metrics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Status {
    pub node_id: NodeId,
    /// `Leader`, `Follower`, `Candidate`, `Learner` or `Shutdown`.
    pub role: String,
    pub current_term: u64,
    pub leader_id: Option<NodeId>,
    pub last_applied_index: Option<u64>,
    pub last_log_index: Option<u64>,
    /// Last log index covered by the latest snapshot.
    pub snapshot_index: Option<u64>,
    /// Last log index removed from the log (everything up to it is gone).
    pub purged_index: Option<u64>,
    /// `None` while Raft runs; the reason once it stopped.
    pub stopped: Option<String>,
}
