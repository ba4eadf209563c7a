//! The network of a one-node cluster: there is no peer, so any RPC (which openraft would only
//! send after a misconfiguration) fails with a clear "unreachable" error. Clusters of several
//! nodes use [`super::HttpNetwork`] instead.
use openraft::error::{InstallSnapshotError, RPCError, RaftError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};

use super::types::{NodeAddrs, NodeId, TypeConfig};

/// Why a peer cannot be reached from this build.
#[derive(Debug, thiserror::Error)]
#[error("unreachable: multi-node origin clusters are not supported yet (node {target} at {addr})")]
pub struct MultiNodeUnsupported {
    pub target: NodeId,
    pub addr: String,
}

/// Network factory for a one-node cluster.
#[derive(Debug, Clone, Default)]
pub struct SingleNodeNetwork;

/// A "connection" to a peer that always answers unreachable.
#[derive(Debug, Clone)]
pub struct UnreachablePeer {
    target: NodeId,
    addr: String,
}

impl UnreachablePeer {
    fn unreachable<E: std::error::Error>(&self) -> RPCError<NodeId, NodeAddrs, E> {
        let err = MultiNodeUnsupported {
            target: self.target,
            addr: self.addr.clone(),
        };
        RPCError::Unreachable(Unreachable::new(&err))
    }
}

impl RaftNetworkFactory<TypeConfig> for SingleNodeNetwork {
    type Network = UnreachablePeer;

    async fn new_client(&mut self, target: NodeId, node: &NodeAddrs) -> Self::Network {
        UnreachablePeer {
            target,
            addr: node.raft.clone(),
        }
    }
}

impl RaftNetwork<TypeConfig> for UnreachablePeer {
    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, NodeAddrs, RaftError<NodeId>>> {
        Err(self.unreachable())
    }

    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, NodeAddrs, RaftError<NodeId, InstallSnapshotError>>,
    > {
        Err(self.unreachable())
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, NodeAddrs, RaftError<NodeId>>> {
        Err(self.unreachable())
    }
}
