//! Faster failover when the leader's process is gone.
//!
//! openraft 0.9 starts an election once the leader lease (`election_timeout_max`) and then a
//! random election timeout have passed without word from the leader: 300–400 ms by default,
//! in steps of its 75 ms tick. A leader that crashed or was killed is more than silent, though:
//! its host refuses connections to its Raft port at once. So a follower that has heard nothing
//! for two heartbeats tries that port; if the connection is refused, it stands for election as
//! soon as the lease runs out (voters refuse any candidate before that), a whole election
//! timeout sooner. A leader that is slow or cut off accepts the connection or does not answer,
//! and openraft's own timers decide as before. Standing early is always safe in Raft: at worst
//! it costs a term.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use openraft::ServerState;

use super::types::{NodeAddrs, NodeId, Raft};

type Metrics = tokio::sync::watch::Receiver<openraft::RaftMetrics<NodeId, NodeAddrs>>;

/// When this node last heard from a leader (an append or heartbeat it accepted).
pub(crate) struct LeaderContact {
    start: Instant,
    last_ms: AtomicU64,
}

impl LeaderContact {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        })
    }

    pub(crate) fn heard(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn silence(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Watches the leader on behalf of this voter until Raft stops.
pub(crate) fn spawn(raft: Raft, node_id: NodeId, contact: Arc<LeaderContact>, election_ms: u64) {
    let lease = Duration::from_millis(election_ms);
    let heartbeat = Duration::from_millis((election_ms / 4).max(1));
    let metrics = raft.metrics();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(heartbeat / 2).await;
            let (leader, addr) = match silent_leader(&metrics, node_id, &contact, 2 * heartbeat) {
                Watch::Stopped => return,
                Watch::Heard => continue,
                Watch::Silent(leader, addr) => (leader, addr),
            };
            if !refuses_connections(&addr, heartbeat).await {
                continue;
            }
            // The lease began when this node and the other voters last heard the leader, at
            // about the same time; a little margin, and a spread so that the followers do
            // not all stand at once.
            let spread = heartbeat / 4 * (node_id % 4) as u32;
            let wait = (lease + heartbeat / 4 + spread).saturating_sub(contact.silence());
            tokio::time::sleep(wait).await;
            match silent_leader(&metrics, node_id, &contact, lease) {
                Watch::Silent(still, _) if still == leader => {}
                Watch::Stopped => return,
                _ => continue,
            }
            tracing::info!(
                leader,
                "the leader's Raft port refuses connections; standing for election"
            );
            metrics::counter!("marquee_origin_raft_leader_gone_elections_total").increment(1);
            if raft.trigger().elect().await.is_err() {
                return;
            }
            // One early election per silence: openraft's timers take it from here.
            tokio::time::sleep(lease).await;
        }
    });
}

/// What the watch sees on one look.
enum Watch {
    /// Raft stopped: the watch ends.
    Stopped,
    /// Nothing to do: this node leads, is not a voter, or heard from its leader lately.
    Heard,
    /// This voter's leader (id, `host:port` of its Raft listener) has been silent.
    Silent(NodeId, String),
}

/// Whether this voter's leader has been silent for `at_least`.
fn silent_leader(
    metrics: &Metrics,
    node_id: NodeId,
    contact: &LeaderContact,
    at_least: Duration,
) -> Watch {
    let silent = contact.silence() >= at_least;
    let m = metrics.borrow();
    if m.state == ServerState::Shutdown || m.running_state.is_err() {
        return Watch::Stopped;
    }
    let membership = m.membership_config.membership();
    let leader = m.current_leader.filter(|l| *l != node_id);
    let voter = membership.voter_ids().any(|v| v == node_id);
    match leader.and_then(|l| membership.get_node(&l).map(|n| (l, n))) {
        Some((leader, node)) if silent && voter && m.state == ServerState::Follower => {
            Watch::Silent(leader, node.raft_host_port().to_owned())
        }
        _ => Watch::Heard,
    }
}

/// Whether `addr` refuses a TCP connection within `within` (nobody listens there); a
/// connection made, or no answer in time, is not that.
async fn refuses_connections(addr: &str, within: Duration) -> bool {
    matches!(
        tokio::time::timeout(within, tokio::net::TcpStream::connect(addr)).await,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused
    )
}
