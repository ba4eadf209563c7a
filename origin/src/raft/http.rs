//! Raft RPCs between origin nodes over HTTP: the client side (`HttpNetwork`, used by openraft to
//! reach peers) and the server side (`router`, mounted by origin's HTTP server). Every request
//! carries the cluster secret in `x-marquee-raft-secret`; without it a peer could write the log.
//! Appends go over a long-lived upgraded connection per peer ([`super::stream`]).
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use openraft::error::{
    Fatal, InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{Backoff, RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};

use super::Status;
use super::cluster::{self, Answer, MembershipChange, Refusal};
use super::coalesce::{ReadIndexQueue, WriteQueue};
use super::leader_watch::LeaderContact;
use super::state_db::StateDb;
use super::stream;
use super::types::{CommandJson, NodeAddrs, NodeId, Raft, TypeConfig};

/// Path prefix of the Raft RPC routes.
pub const RAFT_RPC_PREFIX: &str = "/internal/raft";
/// Header that carries the cluster secret.
pub const SECRET_HEADER: &str = "x-marquee-raft-secret";

/// Largest accepted RPC body: a full append batch of big commands, or one framed snapshot chunk.
const MAX_RPC_BODY: usize = 64 << 20;
/// Snapshot bytes per install-snapshot RPC.
pub(crate) const SNAPSHOT_CHUNK_BYTES: u64 = 1 << 20;
/// Longest JSON header of a framed snapshot chunk (vote and snapshot meta: a few hundred bytes).
const MAX_SNAPSHOT_HEADER: usize = 1 << 20;

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
    /// `client` is the node's peer client ([`super::peer_client`]): plain or mutual TLS.
    pub fn new(secret: &str, client: reqwest::Client) -> Self {
        Self {
            client,
            secret: secret.into(),
        }
    }
}

/// One peer; requests time out after openraft's per-RPC hard TTL.
pub struct HttpPeer {
    target: NodeId,
    node: NodeAddrs,
    net: HttpNetwork,
    /// The append stream, once opened; taken out during a call, so a call cut short by
    /// openraft's timeout drops it (its state is unknown then).
    appends: Option<stream::Connection<reqwest::Upgraded>>,
}

impl RaftNetworkFactory<TypeConfig> for HttpNetwork {
    type Network = HttpPeer;

    async fn new_client(&mut self, target: NodeId, node: &NodeAddrs) -> HttpPeer {
        HttpPeer {
            target,
            node: node.clone(),
            net: self.clone(),
            appends: None,
        }
    }
}

impl HttpPeer {
    async fn call<Req, Resp, E>(
        &self,
        rpc: &str,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, NodeAddrs, E>>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned,
        E: std::error::Error,
    {
        let body = serde_json::to_vec(req).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        self.post(rpc, body, "application/json", option).await
    }

    async fn post<Resp, E>(
        &self,
        rpc: &str,
        body: Vec<u8>,
        content_type: &'static str,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, NodeAddrs, E>>
    where
        Resp: serde::de::DeserializeOwned,
        E: std::error::Error,
    {
        let url = format!("{}{RAFT_RPC_PREFIX}/{rpc}", self.node.raft_url());
        let sent = self
            .net
            .client
            .post(url)
            .header(SECRET_HEADER, &*self.net.secret)
            .header(axum::http::header::CONTENT_TYPE, content_type)
            // openraft wraps each RPC in its own timeout of `hard_ttl` and simply resends after
            // it; this one is only a backstop. Were it to fire first, the slow answer would
            // count as "unreachable", and openraft would stop replicating to that node for a
            // whole backoff (its default: 500 ms) — a stall that also set off elections.
            .timeout(option.hard_ttl() * 2)
            .body(body)
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

    /// Opens the append stream: an upgrade request on the RPC listener.
    async fn open_stream<E: std::error::Error>(
        &self,
    ) -> Result<stream::Connection<reqwest::Upgraded>, RPCError<NodeId, NodeAddrs, E>> {
        let (net, base) = (&self.net, self.node.raft_url());
        let opened = stream::open(
            &net.client,
            &base,
            "append-stream",
            &net.secret,
            stream::PROTOCOL,
        )
        .await
        .map_err(|e| match e {
            stream::OpenError::Unreachable(_) => RPCError::Unreachable(Unreachable::new(&e)),
            _ => RPCError::Network(NetworkError::new(&e)),
        })?;
        metrics::counter!("marquee_origin_raft_append_streams_opened_total").increment(1);
        Ok(opened)
    }

    /// One append round trip over the stream, opening it when needed. A stream that was idle
    /// may have been closed by a restarted peer: a failure on it is retried once on a fresh
    /// one (resending an append is harmless to Raft).
    async fn append_over_stream<E: std::error::Error>(
        &mut self,
        frame: &[u8],
        option: &RPCOption,
    ) -> Result<Wire<AppendEntriesResponse<NodeId>>, RPCError<NodeId, NodeAddrs, E>> {
        // A backstop only, like the HTTP timeout in `post`: openraft's own decides.
        let deadline = option.hard_ttl() * 2;
        let (mut conn, reused) = match self.appends.take() {
            Some(conn) => (conn, true),
            None => (self.open_stream_within(deadline).await?, false),
        };
        let mut answer = exchange(&mut conn, frame, deadline).await;
        if answer.is_err() && reused {
            conn = self.open_stream_within(deadline).await?;
            answer = exchange(&mut conn, frame, deadline).await;
        }
        let wire = answer?;
        self.appends = Some(conn);
        Ok(wire)
    }

    async fn open_stream_within<E: std::error::Error>(
        &self,
        deadline: Duration,
    ) -> Result<stream::Connection<reqwest::Upgraded>, RPCError<NodeId, NodeAddrs, E>> {
        tokio::time::timeout(deadline, self.open_stream())
            .await
            .map_err(|_| timed_out("opening the append stream timed out"))?
    }

    fn remote<E: std::error::Error>(&self, e: E) -> RPCError<NodeId, NodeAddrs, E> {
        RPCError::RemoteError(RemoteError::new_with_node(
            self.target,
            self.node.clone(),
            e,
        ))
    }
}

/// One append and its answer on `conn`, within `deadline`.
async fn exchange<E: std::error::Error>(
    conn: &mut stream::Connection<reqwest::Upgraded>,
    frame: &[u8],
    deadline: Duration,
) -> Result<Wire<AppendEntriesResponse<NodeId>>, RPCError<NodeId, NodeAddrs, E>> {
    let answer = tokio::time::timeout(deadline, conn.round_trip(frame))
        .await
        .map_err(|_| timed_out("append timed out"))?
        .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
    serde_json::from_slice(answer).map_err(|e| RPCError::Network(NetworkError::new(&e)))
}

fn timed_out<E: std::error::Error>(what: &'static str) -> RPCError<NodeId, NodeAddrs, E> {
    let e = io::Error::new(io::ErrorKind::TimedOut, what);
    RPCError::Unreachable(Unreachable::new(&e))
}

/// First pause before retrying a peer that refused or dropped a connection; it doubles up to
/// [`MAX_BACKOFF`]. openraft's default (a flat 500 ms) left a restarted node, or a follower
/// that missed one append, without entries for half a second.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

impl RaftNetwork<TypeConfig> for HttpPeer {
    fn backoff(&self) -> Backoff {
        let pauses =
            std::iter::successors(Some(FIRST_BACKOFF), |p| Some((*p * 2).min(MAX_BACKOFF)));
        Backoff::new(pauses)
    }

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, NodeAddrs, RaftError<NodeId>>> {
        let frame = stream::frame(&rpc).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let wire = self.append_over_stream(&frame, &option).await?;
        wire.map_err(|f| self.remote(RaftError::Fatal(f)))
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, NodeAddrs, RaftError<NodeId, InstallSnapshotError>>,
    > {
        let frame = snapshot_frame(rpc).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let wire: SnapshotWire = self
            .post("snapshot", frame, "application/octet-stream", &option)
            .await?;
        wire.map_err(|e| self.remote(e))
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, NodeAddrs, RaftError<NodeId>>> {
        let wire: Wire<_> = self.call("vote", &rpc, &option).await?;
        wire.map_err(|f| self.remote(RaftError::Fatal(f)))
    }
}

#[derive(Clone)]
struct RpcState {
    raft: Raft,
    /// This node's proposals while it leads, which forwarded writes join.
    proposals: WriteQueue<Refusal>,
    /// Read-index rounds for followers' forwarded reads, shared between them.
    reads: ReadIndexQueue<Refusal>,
    /// `None` on a single-node store: every RPC is refused.
    secret: Option<Arc<str>>,
    /// For asking a joining node whether it is alive while it catches up.
    peers: Option<cluster::Peers>,
    state: Arc<StateDb>,
    node_id: NodeId,
    /// Touched by every append accepted from a leader ([`super::leader_watch`]).
    contact: Arc<LeaderContact>,
}

impl RpcState {
    fn authorised(&self, headers: &HeaderMap) -> bool {
        self.secret
            .as_deref()
            .is_some_and(|secret| secret_matches(secret, headers))
    }
}

/// Whether `headers` carry the cluster `secret` (for other routes on the RPC listener).
pub fn secret_matches(secret: &str, headers: &HeaderMap) -> bool {
    let Some(given) = headers.get(SECRET_HEADER) else {
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

fn sha256(bytes: &[u8]) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, bytes)
}

/// Raft RPC routes for the node's RPC listener: `POST /internal/raft/{append,vote,snapshot}`
/// between peers, and `{write,read-index,membership,status}` for members forwarding to the
/// leader or asking about each other.
pub(crate) fn router(
    raft: Raft,
    proposals: WriteQueue<Refusal>,
    secret: Option<Arc<str>>,
    peers: Option<cluster::Peers>,
    state: Arc<StateDb>,
    node_id: NodeId,
    contact: Arc<LeaderContact>,
) -> Router {
    let leader = raft.clone();
    let reads = ReadIndexQueue::start(move || {
        let raft = leader.clone();
        async move { cluster::leader_read_index(&raft).await }
    });
    let state = RpcState {
        raft,
        proposals,
        reads,
        peers,
        secret,
        state,
        node_id,
        contact,
    };
    let route = |name: &str| format!("{RAFT_RPC_PREFIX}/{name}");
    Router::new()
        .route(&route("append-stream"), get(append_stream))
        .route(&route("vote"), post(vote))
        .route(&route("snapshot"), post(snapshot))
        .route(&route("call-stream"), get(call_stream))
        .route(&route("membership"), post(membership))
        .route(&route("status"), post(status))
        // Log batches and snapshot chunks outgrow axum's 2 MB default body limit.
        .layer(DefaultBodyLimit::max(MAX_RPC_BODY))
        // Authentication runs before the body is parsed, so strangers learn nothing.
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

async fn authenticate(State(st): State<RpcState>, req: Request, next: Next) -> Response {
    if !st.authorised(req.headers()) {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.to_string());
        let why = if st.secret.is_none() {
            "this node runs alone and takes no raft RPCs"
        } else if req.headers().contains_key(SECRET_HEADER) {
            "wrong cluster secret"
        } else {
            "no cluster secret"
        };
        tracing::warn!(peer, path = %req.uri().path(), why, "raft RPC refused");
        metrics::counter!("marquee_origin_raft_rpc_refused_total").increment(1);
        return StatusCode::UNAUTHORIZED.into_response();
    }
    next.run(req).await
}

/// A call stream ([`super::stream`]): a follower's forwarded writes and read-index rounds.
async fn call_stream(State(st): State<RpcState>, req: Request) -> Response {
    stream::accept(req, stream::CALL_PROTOCOL, move |body| {
        let st = st.clone();
        async move {
            let Some((call, json)) = stream::Call::parse(&body) else {
                tracing::warn!("raft call stream: unknown call, closing");
                return None;
            };
            match call {
                stream::Call::Write => {
                    let cmd: CommandJson = match serde_json::from_slice(json) {
                        Ok(cmd) => cmd,
                        Err(e) => {
                            tracing::warn!(error = %e, "raft call stream: not a write, closing");
                            return None;
                        }
                    };
                    stream::frame(&st.proposals.write(cmd).await).ok()
                }
                stream::Call::ReadIndex => stream::frame(&st.reads.read_index().await).ok(),
            }
        }
    })
}

async fn membership(
    State(st): State<RpcState>,
    Json(change): Json<MembershipChange>,
) -> Json<Answer<()>> {
    Json(cluster::leader_change(&st.raft, &st.state, st.peers.as_ref(), change).await)
}

async fn status(State(st): State<RpcState>) -> Json<Answer<Status>> {
    Json(Ok(cluster::local_status(&st.raft, st.node_id)))
}

/// These RPCs have no API error (`Infallible`), so only a fatal error goes on the wire.
fn fatal_only<T>(r: Result<T, RaftError<NodeId>>) -> Json<Wire<T>> {
    Json(r.map_err(|e| match e {
        RaftError::Fatal(f) => f,
        RaftError::APIError(never) => match never {},
    }))
}

/// The append stream ([`super::stream`]): a leader's appends, one frame each, answered in turn.
async fn append_stream(State(st): State<RpcState>, req: Request) -> Response {
    stream::accept(req, stream::PROTOCOL, move |body| {
        let st = st.clone();
        async move {
            let rpc: AppendEntriesRequest<TypeConfig> = match serde_json::from_slice(&body) {
                Ok(rpc) => rpc,
                Err(e) => {
                    tracing::warn!(error = %e, "raft append stream: not an append, closing");
                    return None;
                }
            };
            let answer = st.raft.append_entries(rpc).await;
            if matches!(&answer, Ok(r) if !matches!(r, AppendEntriesResponse::HigherVote(_))) {
                st.contact.heard();
            }
            stream::frame(&fatal_only(answer).0).ok()
        }
    })
}

async fn vote(
    State(st): State<RpcState>,
    Json(rpc): Json<VoteRequest<NodeId>>,
) -> Json<Wire<VoteResponse<NodeId>>> {
    fatal_only(st.raft.vote(rpc).await)
}

async fn snapshot(State(st): State<RpcState>, body: Bytes) -> Response {
    match parse_snapshot_frame(&body) {
        Ok(rpc) => Json::<SnapshotWire>(st.raft.install_snapshot(rpc).await).into_response(),
        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
    }
}

/// A snapshot chunk on the wire: a 4-byte big-endian length, the request as JSON without its data,
/// the chunk's SHA-256, then the chunk's raw bytes. JSON alone would write each byte as a number (~4× the size), which
/// made megabyte chunks slow enough to miss the RPC deadline on a loaded machine.
fn snapshot_frame(mut rpc: InstallSnapshotRequest<TypeConfig>) -> serde_json::Result<Vec<u8>> {
    let data = std::mem::take(&mut rpc.data);
    let header = serde_json::to_vec(&rpc)?;
    let mut frame = Vec::with_capacity(4 + header.len() + 32 + data.len());
    frame.extend_from_slice(&(header.len() as u32).to_be_bytes());
    frame.extend_from_slice(&header);
    frame.extend_from_slice(sha256(&data).as_ref());
    frame.extend_from_slice(&data);
    Ok(frame)
}

fn parse_snapshot_frame(frame: &[u8]) -> Result<InstallSnapshotRequest<TypeConfig>, String> {
    let (len, rest) = frame
        .split_first_chunk::<4>()
        .ok_or("snapshot frame shorter than its length prefix")?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > MAX_SNAPSHOT_HEADER || len > rest.len() {
        return Err(format!(
            "snapshot frame header of {len} bytes does not fit the {} bytes sent",
            rest.len()
        ));
    }
    let (header, rest) = rest.split_at(len);
    let (digest, data) = rest
        .split_first_chunk::<32>()
        .ok_or("snapshot frame ends before its chunk's SHA-256")?;
    // A chunk damaged on the way is refused (400); the leader's openraft sends it again.
    if sha256(data).as_ref() != digest {
        return Err("snapshot chunk does not match its SHA-256; send it again".into());
    }
    let mut rpc: InstallSnapshotRequest<TypeConfig> =
        serde_json::from_slice(header).map_err(|e| format!("snapshot frame header: {e}"))?;
    rpc.data = data.to_vec();
    Ok(rpc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake peer's append stream: each connection answers `per_connection` appends with
    /// `Success` after `delay`, then closes.
    async fn fake_peer(delay: Duration, per_connection: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let route = format!("{RAFT_RPC_PREFIX}/append-stream");
        let peer = Router::new().route(
            &route,
            get(move |req: Request| async move {
                let mut left = per_connection;
                stream::accept(req, stream::PROTOCOL, move |_| {
                    let open = left > 0;
                    left = left.saturating_sub(1);
                    async move {
                        if !open {
                            return None;
                        }
                        tokio::time::sleep(delay).await;
                        let ok = Wire::<AppendEntriesResponse<NodeId>>::Ok(
                            AppendEntriesResponse::Success,
                        );
                        stream::frame(&ok).ok()
                    }
                })
            }),
        );
        tokio::spawn(async move { axum::serve(listener, peer).await });
        format!("http://{addr}")
    }

    fn heartbeat() -> AppendEntriesRequest<TypeConfig> {
        AppendEntriesRequest {
            vote: openraft::Vote::new_committed(1, 1),
            prev_log_id: None,
            leader_commit: None,
            entries: Vec::new(),
        }
    }

    /// A peer that answers after openraft's per-RPC TTL is still heard: openraft's own timeout
    /// (which just resends) decides, not ours, which would call the peer unreachable and stop
    /// replicating to it for a whole backoff.
    #[tokio::test]
    async fn an_answer_slower_than_the_rpc_ttl_still_arrives() {
        let addr = fake_peer(Duration::from_millis(150), usize::MAX).await;
        let mut net = HttpNetwork::new("a-secret-for-this-test", reqwest::Client::new());
        let mut peer = net.new_client(2, &addr.into()).await;
        let ttl = RPCOption::new(Duration::from_millis(100));
        let answer = peer.append_entries(heartbeat(), ttl).await;
        assert!(
            matches!(answer, Ok(AppendEntriesResponse::Success)),
            "{answer:?}"
        );
        let first_pause = peer.backoff().next();
        assert!(
            first_pause < Some(Duration::from_millis(100)),
            "{first_pause:?}"
        );
    }

    /// Appends reuse one connection; when the peer has closed it (a restart), the next append
    /// goes through on a fresh one instead of failing.
    #[tokio::test]
    async fn appends_share_a_stream_and_survive_the_peer_closing_it() {
        let addr = fake_peer(Duration::ZERO, 2).await;
        let mut net = HttpNetwork::new("a-secret-for-this-test", reqwest::Client::new());
        let mut peer = net.new_client(2, &addr.into()).await;
        let ttl = RPCOption::new(Duration::from_secs(5));
        for n in 0..5 {
            let answer = peer.append_entries(heartbeat(), ttl.clone()).await;
            assert!(
                matches!(answer, Ok(AppendEntriesResponse::Success)),
                "append {n}: {answer:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_request_that_is_no_upgrade_is_refused_with_a_reason() {
        let addr = fake_peer(Duration::ZERO, 1).await;
        let resp = reqwest::get(format!("{addr}{RAFT_RPC_PREFIX}/append-stream"))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("Upgrade"));
    }

    fn chunk(data: Vec<u8>) -> InstallSnapshotRequest<TypeConfig> {
        InstallSnapshotRequest {
            vote: openraft::Vote::new(3, 1),
            meta: openraft::SnapshotMeta {
                snapshot_id: "3-1-41".into(),
                ..Default::default()
            },
            offset: 1 << 20,
            data,
            done: false,
        }
    }

    #[test]
    fn a_snapshot_chunk_goes_over_as_raw_bytes_and_comes_back_whole() {
        let data: Vec<u8> = (0..=255u8)
            .cycle()
            .take(SNAPSHOT_CHUNK_BYTES as usize)
            .collect();
        let frame = snapshot_frame(chunk(data.clone())).unwrap();
        assert!(
            frame.len() < data.len() + 1024,
            "framing overhead is the small header only, got {} bytes for {}",
            frame.len(),
            data.len()
        );
        assert_eq!(parse_snapshot_frame(&frame).unwrap(), chunk(data));
    }

    #[test]
    fn a_damaged_snapshot_frame_is_refused_with_a_reason() {
        assert!(
            parse_snapshot_frame(&[0, 0])
                .unwrap_err()
                .contains("length prefix")
        );
        let mut frame = snapshot_frame(chunk(vec![1, 2, 3])).unwrap();
        frame[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(
            parse_snapshot_frame(&frame)
                .unwrap_err()
                .contains("does not fit")
        );
        let mut frame = snapshot_frame(chunk(vec![1, 2, 3])).unwrap();
        frame[4] = b'!';
        assert!(parse_snapshot_frame(&frame).unwrap_err().contains("header"));
        // One bit flipped in the data on the way: refused by its hash, so it is sent again.
        let mut frame = snapshot_frame(chunk(vec![1, 2, 3])).unwrap();
        let last = frame.len() - 1;
        frame[last] ^= 1;
        assert!(
            parse_snapshot_frame(&frame)
                .unwrap_err()
                .contains("SHA-256")
        );
        let short = snapshot_frame(chunk(vec![])).unwrap();
        assert!(parse_snapshot_frame(&short[..short.len() - 1]).is_err());
    }
}
