//! Errors of the replicated-state API. `NotLeader` / `Unavailable` are retryable (forward the
//! request or try again); `Fatal` means the node's Raft stopped on a storage or apply failure and
//! the process should exit and be looked at.
use openraft::error::{CheckIsLeaderError, ClientWriteError, ForwardToLeader, RaftError};

use super::db::StoreOpenError;
use super::types::{NodeAddrs, NodeId};

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The redb file cannot be used: foreign, corrupted, locked, or another node's.
    #[error(transparent)]
    Store(#[from] StoreOpenError),
    /// Raft refused to start on the stored data (e.g. an undecodable log entry).
    #[error("raft failed to start: {0}")]
    Raft(String),
    /// The options cannot work (e.g. a cluster secret too short to keep strangers out).
    #[error("invalid raft options: {0}")]
    Config(String),
    /// No leader was elected in time (one node: the store could not be written).
    #[error("no raft leader after {waited_ms} ms")]
    NoLeader { waited_ms: u64 },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// Retryable: this node is not the leader; forward to `leader_addr` when known.
    #[error("not the leader (leader: {leader_id:?} at {leader_addr:?})")]
    NotLeader {
        leader_id: Option<NodeId>,
        leader_addr: Option<String>,
    },
    /// The command could not be serialised (a bug in the command type, not the store).
    #[error("command cannot be encoded: {0}")]
    Encode(String),
    /// Raft was shut down; no new writes are accepted.
    #[error("raft is shut down")]
    Stopped,
    /// A write forwarded to the leader got no answer: it may or may not have been applied.
    #[error("the leader did not answer a forwarded write: {0}")]
    Unknown(String),
    /// Storage or apply failure: the node stopped replicating.
    #[error("fatal raft error: {0}")]
    Fatal(String),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ReadError {
    /// Retryable: this node is not the leader; forward to `leader_addr` when known.
    #[error("not the leader (leader: {leader_id:?} at {leader_addr:?})")]
    NotLeader {
        leader_id: Option<NodeId>,
        leader_addr: Option<String>,
    },
    /// Retryable: leadership could not be confirmed with a quorum.
    #[error("raft quorum unavailable: {0}")]
    Unavailable(String),
    #[error("raft is shut down")]
    Stopped,
    #[error("fatal raft error: {0}")]
    Fatal(String),
}

#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    /// Retryable: ask the leader instead.
    #[error("not the leader (leader: {leader_id:?} at {leader_addr:?})")]
    NotLeader {
        leader_id: Option<NodeId>,
        leader_addr: Option<String>,
    },
    /// The change is not allowed now (e.g. another change in progress, unknown node).
    #[error("membership change rejected: {0}")]
    Rejected(String),
    #[error("raft is shut down")]
    Stopped,
    #[error("fatal raft error: {0}")]
    Fatal(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ShutdownError {
    #[error("raft task failed while stopping: {0}")]
    Raft(String),
    /// Something still holds the redb file, so it cannot be reopened yet.
    #[error("raft store still open {waited_ms} ms after shutdown")]
    StoreStillOpen { waited_ms: u64 },
}

fn leader_parts(f: ForwardToLeader<NodeId, NodeAddrs>) -> (Option<NodeId>, Option<String>) {
    (f.leader_id, f.leader_node.map(|n| n.raft_url()))
}

fn is_stopped(f: &openraft::error::Fatal<NodeId>) -> bool {
    matches!(f, openraft::error::Fatal::Stopped)
}

impl From<RaftError<NodeId, ClientWriteError<NodeId, NodeAddrs>>> for WriteError {
    fn from(e: RaftError<NodeId, ClientWriteError<NodeId, NodeAddrs>>) -> Self {
        match e {
            RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
                let (leader_id, leader_addr) = leader_parts(f);
                WriteError::NotLeader {
                    leader_id,
                    leader_addr,
                }
            }
            RaftError::APIError(other) => WriteError::Fatal(other.to_string()),
            RaftError::Fatal(f) if is_stopped(&f) => WriteError::Stopped,
            RaftError::Fatal(f) => WriteError::Fatal(f.to_string()),
        }
    }
}

impl From<RaftError<NodeId, ClientWriteError<NodeId, NodeAddrs>>> for MembershipError {
    fn from(e: RaftError<NodeId, ClientWriteError<NodeId, NodeAddrs>>) -> Self {
        match e {
            RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
                let (leader_id, leader_addr) = leader_parts(f);
                MembershipError::NotLeader {
                    leader_id,
                    leader_addr,
                }
            }
            RaftError::APIError(other) => MembershipError::Rejected(other.to_string()),
            RaftError::Fatal(f) if is_stopped(&f) => MembershipError::Stopped,
            RaftError::Fatal(f) => MembershipError::Fatal(f.to_string()),
        }
    }
}

impl From<RaftError<NodeId, CheckIsLeaderError<NodeId, NodeAddrs>>> for ReadError {
    fn from(e: RaftError<NodeId, CheckIsLeaderError<NodeId, NodeAddrs>>) -> Self {
        match e {
            RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f)) => {
                let (leader_id, leader_addr) = leader_parts(f);
                ReadError::NotLeader {
                    leader_id,
                    leader_addr,
                }
            }
            RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(q)) => {
                ReadError::Unavailable(q.to_string())
            }
            RaftError::Fatal(f) if is_stopped(&f) => ReadError::Stopped,
            RaftError::Fatal(f) => ReadError::Fatal(f.to_string()),
        }
    }
}
