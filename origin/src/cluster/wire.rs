//! JSON shapes of the cluster admin API.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Leader,
    Follower,
    Learner,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub node_id: u64,
    pub role: Role,
    /// Public API base URL of the member.
    pub api_addr: String,
    /// Its Raft RPC address (reachable by members only).
    pub raft_addr: String,
    /// Last log index the member has applied; absent when it could not be asked.
    pub last_applied_index: Option<u64>,
    /// Why the member could not be asked, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClusterView {
    /// The node that answered.
    pub node_id: u64,
    pub leader_id: Option<u64>,
    pub term: u64,
    pub members: Vec<Member>,
}

/// A node to add: it must already run with `--cluster-listen` and the cluster's secret.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMember {
    /// Never used by any node of this cluster before.
    pub node_id: u64,
    /// Its Raft RPC address, e.g. `http://10.0.0.3:9101`.
    pub raft_addr: String,
    /// Its public API base URL.
    pub api_addr: String,
}
