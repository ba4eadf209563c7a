//! openraft type configuration for origin.
//!
//! The log carries the application's command as JSON text (`serde_json` of `App::Command`) and the
//! response is the outcome as JSON text. JSON keeps the redb log readable when debugging a node
//! and needs no extra dependency; the price is that `App` types must round-trip through
//! `serde_json` (no non-string map keys other than integers, no NaN floats).

/// A node id; never reused for a different node.
pub type NodeId = u64;

/// Where a member is reached: its Raft RPC address (peers only) and its public API (operators,
/// edges). Serialised as `{"addr", "api_addr"}`, so memberships stored as openraft's
/// `BasicNode { addr }` still load.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeAddrs {
    /// Base of the Raft RPC listener, `host:port` or `http://host:port`.
    #[serde(rename = "addr")]
    pub raft: String,
    /// Public API base URL; empty when not known (stores from single-node days).
    #[serde(default, rename = "api_addr")]
    pub api: String,
}

impl NodeAddrs {
    pub fn new(raft: impl Into<String>, api: impl Into<String>) -> Self {
        Self {
            raft: raft.into(),
            api: api.into(),
        }
    }

    /// `host:port` of the Raft RPC listener, for a plain TCP connection: the address without
    /// its scheme or trailing slash (the server advertises `http://host:port`).
    pub fn raft_host_port(&self) -> &str {
        let bare = self.raft.trim_end_matches('/');
        bare.strip_prefix("http://")
            .or_else(|| bare.strip_prefix("https://"))
            .unwrap_or(bare)
    }

    /// The Raft RPC base URL, with a scheme.
    pub fn raft_url(&self) -> String {
        if self.raft.starts_with("http://") || self.raft.starts_with("https://") {
            self.raft.trim_end_matches('/').to_owned()
        } else {
            format!("http://{}", self.raft)
        }
    }
}

/// A bare address serves as both (single-node stores and tests).
impl From<String> for NodeAddrs {
    fn from(addr: String) -> Self {
        Self::new(addr.clone(), addr)
    }
}

impl std::fmt::Display for NodeAddrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "raft {} api {}", self.raft, self.api)
    }
}

/// The payload of one log entry: the JSON of one application command, or of several that
/// group commit coalesced into one entry. Untagged, so entries written as a bare string (every
/// entry before batches existed) still read as `One`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum CommandJson {
    One(String),
    /// Applied in order, in the entry's transaction; the outcome is a JSON array.
    Batch {
        batch: Vec<String>,
    },
}

/// The outcome of applying one log entry, serialised as JSON; empty for blank and membership
/// entries, which have no application outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutcomeJson(pub String);

openraft::declare_raft_types!(
    /// Origin's Raft types: JSON commands, one [`NodeAddrs`] per member.
    pub TypeConfig:
        D = CommandJson,
        R = OutcomeJson,
        NodeId = NodeId,
        Node = NodeAddrs,
        SnapshotData = tokio::fs::File,
);

pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, NodeAddrs>;
pub type StoredMembership = openraft::StoredMembership<NodeId, NodeAddrs>;
pub type Snapshot = openraft::Snapshot<TypeConfig>;
pub type Raft = openraft::Raft<TypeConfig>;
