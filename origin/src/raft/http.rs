//! Raft RPCs between origin nodes over HTTP: the client side (`HttpNetwork`, used by openraft to
//! reach peers) and the server side (`router`, mounted by origin's HTTP server). Every request
//! carries the cluster secret in `x-marquee-raft-secret`; without it a peer could write the log.
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use openraft::BasicNode;
use openraft::error::{
    Fatal, InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};

use super::types::{NodeId, Raft, TypeConfig};

/// Path prefix of the Raft RPC routes.
pub const RAFT_RPC_PREFIX: &str = "/internal/raft";
/// Header that carries the cluster secret.
pub const SECRET_HEADER: &str = "x-marquee-raft-secret";

/// Largest accepted RPC body: a full append batch of big commands, or one snapshot chunk
/// ([`SNAPSHOT_CHUNK_BYTES`] of bytes, which JSON writes as numbers, ~4 characters each).
const MAX_RPC_BODY: usize = 64 << 20;
/// Snapshot bytes per install-snapshot RPC.
pub(crate) const SNAPSHOT_CHUNK_BYTES: u64 = 1 << 20;

type Wire<T> = Result<T, Fatal<NodeId>>;
type SnapshotWire =
    Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>;

/// A peer answered with a non-2xx status (e.g. a wrong secret).
#[derive(Debug, thiserror::Error)]
#[error("raft peer answered HTTP {0}")]
struct HttpStatus(u16);

/// openraft's network factory for HTTP peers.
#[derive(Clone)]
pub struct HttpNetwork {
    client: reqwest::Client,
    secret: Arc<str>,
}

impl HttpNetwork {
    pub fn new(secret: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            secret: secret.into(),
        }
    }
}

/// One peer; requests time out after openraft's per-RPC hard TTL.
pub struct HttpPeer {
    target: NodeId,
    node: BasicNode,
    net: HttpNetwork,
}

impl RaftNetworkFactory<TypeConfig> for HttpNetwork {
    type Network = HttpPeer;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> HttpPeer {
        HttpPeer {
            target,
            node: node.clone(),
            net: self.clone(),
        }
    }
}

impl HttpPeer {
    async fn call<Req, Resp, E>(
        &self,
        rpc: &str,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, BasicNode, E>>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned,
        E: std::error::Error,
    {
        let url = format!("http://{}{RAFT_RPC_PREFIX}/{rpc}", self.node.addr);
        let sent = self
            .net
            .client
            .post(url)
            .header(SECRET_HEADER, &*self.net.secret)
            .timeout(option.hard_ttl())
            .json(req)
            .send()
            .await;
        let resp = sent.map_err(|e| {
            if e.is_connect() || e.is_timeout() {
                RPCError::Unreachable(Unreachable::new(&e))
            } else {
                RPCError::Network(NetworkError::new(&e))
            }
        })?;
        if !resp.status().is_success() {
            let status = HttpStatus(resp.status().as_u16());
            return Err(RPCError::Network(NetworkError::new(&status)));
        }
        resp.json()
            .await
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))
    }

    fn remote<E: std::error::Error>(&self, e: E) -> RPCError<NodeId, BasicNode, E> {
        RPCError::RemoteError(RemoteError::new_with_node(
            self.target,
            self.node.clone(),
            e,
        ))
    }
}

impl RaftNetwork<TypeConfig> for HttpPeer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        let wire: Wire<_> = self.call("append", &rpc, &option).await?;
        wire.map_err(|f| self.remote(RaftError::Fatal(f)))
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        let wire: SnapshotWire = self.call("snapshot", &rpc, &option).await?;
        wire.map_err(|e| self.remote(e))
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        let wire: Wire<_> = self.call("vote", &rpc, &option).await?;
        wire.map_err(|f| self.remote(RaftError::Fatal(f)))
    }
}

#[derive(Clone)]
struct RpcState {
    raft: Raft,
    /// `None` on a single-node store: every RPC is refused.
    secret: Option<Arc<str>>,
}

impl RpcState {
    fn authorised(&self, headers: &HeaderMap) -> bool {
        let (Some(secret), Some(given)) = (&self.secret, headers.get(SECRET_HEADER)) else {
            return false;
        };
        // Compare digests with an xor-fold: time does not depend on where the inputs differ.
        let (want, got) = (sha256(secret.as_bytes()), sha256(given.as_bytes()));
        want.as_ref()
            .iter()
            .zip(got.as_ref())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

fn sha256(bytes: &[u8]) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, bytes)
}

/// Raft RPC routes (`POST /internal/raft/{append,vote,snapshot}`) for origin's HTTP server.
pub(crate) fn router(raft: Raft, secret: Option<Arc<str>>) -> Router {
    let state = RpcState { raft, secret };
    Router::new()
        .route(&format!("{RAFT_RPC_PREFIX}/append"), post(append))
        .route(&format!("{RAFT_RPC_PREFIX}/vote"), post(vote))
        .route(&format!("{RAFT_RPC_PREFIX}/snapshot"), post(snapshot))
        // Log batches and snapshot chunks (JSON) outgrow axum's 2 MB default body limit.
        .layer(DefaultBodyLimit::max(MAX_RPC_BODY))
        // Authentication runs before the body is parsed, so strangers learn nothing.
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

async fn authenticate(State(st): State<RpcState>, req: Request, next: Next) -> Response {
    if !st.authorised(req.headers()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    next.run(req).await
}

/// These RPCs have no API error (`Infallible`), so only a fatal error goes on the wire.
fn fatal_only<T>(r: Result<T, RaftError<NodeId>>) -> Json<Wire<T>> {
    Json(r.map_err(|e| match e {
        RaftError::Fatal(f) => f,
        RaftError::APIError(never) => match never {},
    }))
}

async fn append(
    State(st): State<RpcState>,
    Json(rpc): Json<AppendEntriesRequest<TypeConfig>>,
) -> Json<Wire<AppendEntriesResponse<NodeId>>> {
    fatal_only(st.raft.append_entries(rpc).await)
}

async fn vote(
    State(st): State<RpcState>,
    Json(rpc): Json<VoteRequest<NodeId>>,
) -> Json<Wire<VoteResponse<NodeId>>> {
    fatal_only(st.raft.vote(rpc).await)
}

async fn snapshot(
    State(st): State<RpcState>,
    Json(rpc): Json<InstallSnapshotRequest<TypeConfig>>,
) -> Json<SnapshotWire> {
    Json(st.raft.install_snapshot(rpc).await)
}
