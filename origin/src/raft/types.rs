//! openraft type configuration for origin.
//!
//! The log carries the application's command as JSON text (`serde_json` of `App::Command`) and the
//! response is the outcome as JSON text. JSON keeps the redb log readable when debugging a node
//! and needs no extra dependency; the price is that `App` types must round-trip through
//! `serde_json` (no non-string map keys other than integers, no NaN floats).
use openraft::BasicNode;

/// A node id; never reused for a different node.
pub type NodeId = u64;

/// One application command, serialised as JSON.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandJson(pub String);

/// The outcome of applying one log entry, serialised as JSON; empty for blank and membership
/// entries, which have no application outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutcomeJson(pub String);

openraft::declare_raft_types!(
    /// Origin's Raft types: JSON commands, one `BasicNode { addr }` per member.
    pub TypeConfig:
        D = CommandJson,
        R = OutcomeJson,
        NodeId = NodeId,
        Node = BasicNode,
        SnapshotData = tokio::fs::File,
);

pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, BasicNode>;
pub type StoredMembership = openraft::StoredMembership<NodeId, BasicNode>;
pub type Snapshot = openraft::Snapshot<TypeConfig>;
pub type Raft = openraft::Raft<TypeConfig>;
