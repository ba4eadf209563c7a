//! What makes any member answer any request: writes forwarded to the leader, read-index reads
//! on followers, and membership changes (join, remove) decided on the leader, all over the
//! authenticated Raft RPC listener. The leader side of each call is a plain function over
//! [`Raft`], used both by the RPC handlers and when this node is the leader itself.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use openraft::ChangeMembers;
use openraft::error::{ClientWriteError, RaftError};
use serde::{Deserialize, Serialize};

use super::error::{MembershipError, ReadError, WriteError};
use super::http::{RAFT_RPC_PREFIX, SECRET_HEADER};
use super::state_db::{RETIRED, StateDb};
use super::stream;
use super::types::{CommandJson, NodeAddrs, NodeId, OutcomeJson, Raft};
use super::{Status, status_of};

/// How long a forwarded call may take (a write waits for a quorum; a join for a catch-up).
pub(crate) const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest the leader waits for one of its proposals to commit and apply, or for a read-index
/// round, before it answers "no outcome in time" and takes the next: a stalled Raft gives its
/// callers an answer, and the queue behind it moves once Raft does.
pub(crate) const PROPOSAL_TIMEOUT: Duration = FORWARD_TIMEOUT;
/// How long a learner may take to catch up before the join is abandoned, plus the time to
/// stream the state at [`CATCH_UP_BYTES_PER_SEC`] ([`catch_up_budget`]).
pub(crate) const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);
/// A slow but healthy rate to stream and load a snapshot (this machine: ~30 MB/s).
const CATCH_UP_BYTES_PER_SEC: u64 = 4 << 20;
/// How long a joining node waits for the leader's answer; the leader bounds the wait itself
/// with [`catch_up_budget`], which grows with the data.
pub(crate) const JOIN_WAIT: Duration = Duration::from_secs(3600);

/// Why a forwarded call did not produce a result, as it goes over the wire.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("not the leader (leader: {leader_id:?} at {leader_addr:?})")]
    NotLeader {
        leader_id: Option<NodeId>,
        leader_addr: Option<String>,
    },
    #[error("raft is shut down")]
    Stopped,
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    Fatal(String),
    /// Raft gave no outcome in time (e.g. a proposal not committed within
    /// [`PROPOSAL_TIMEOUT`]): a write may or may not still be applied.
    #[error("no outcome in time: {0}")]
    TimedOut(String),
}

pub(crate) type Answer<T> = Result<T, Refusal>;

/// A membership change asked of the leader.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum MembershipChange {
    /// Add a node: it catches up as a learner, then becomes a voter (joint consensus).
    Join { node_id: NodeId, node: NodeAddrs },
    /// Remove a node; its id is retired for good.
    Remove { node_id: NodeId },
    /// A member that restarted at other addresses (e.g. a node of one turned into the first
    /// node of a cluster) tells the cluster where it is now. Sent only by an initialised member
    /// about itself, over the authenticated RPC listener.
    Readdress { node_id: NodeId, node: NodeAddrs },
}

/// The client side: calls a peer's RPC listener with the cluster secret. Forwarded writes and
/// read-index rounds go over pooled call streams ([`stream`]), the rest as POSTs.
#[derive(Clone)]
pub(crate) struct Peers {
    client: reqwest::Client,
    secret: std::sync::Arc<str>,
    streams: std::sync::Arc<stream::Pool<reqwest::Upgraded>>,
}

/// A forwarded call's transport failure: whether the request may have been acted on matters,
/// since only an undelivered write may be sent again.
pub(crate) enum CallError {
    /// Not delivered (connection refused, unknown host): safe to retry.
    NotDelivered(String),
    /// Delivered or maybe delivered, without an answer: the outcome is unknown.
    Unknown(String),
}

impl Peers {
    pub(crate) fn new(secret: std::sync::Arc<str>, client: reqwest::Client) -> Self {
        Self {
            client,
            secret,
            streams: std::sync::Arc::new(stream::Pool::new()),
        }
    }

    /// The HTTP client peers are called with (plain or mutual TLS).
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(crate) async fn call<Req: Serialize, Resp: serde::de::DeserializeOwned>(
        &self,
        base: &str,
        rpc: &str,
        req: &Req,
        timeout: Duration,
    ) -> Result<Answer<Resp>, CallError> {
        let base = NodeAddrs::new(base, "").raft_url();
        match stream::Call::for_rpc(rpc) {
            Some(call) => self.call_streamed(&base, call, req, timeout).await,
            None => self.post(&base, rpc, req, timeout).await,
        }
    }

    async fn post<Req: Serialize, Resp: serde::de::DeserializeOwned>(
        &self,
        base: &str,
        rpc: &str,
        req: &Req,
        timeout: Duration,
    ) -> Result<Answer<Resp>, CallError> {
        let sent = self
            .client
            .post(format!("{base}{RAFT_RPC_PREFIX}/{rpc}"))
            .header(SECRET_HEADER, &*self.secret)
            .timeout(timeout)
            .json(req)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Err(CallError::NotDelivered(e.to_string())),
            Err(e) => return Err(CallError::Unknown(e.to_string())),
        };
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Ok(Err(Refusal::Fatal(
                "the peer refused the cluster secret".into(),
            )));
        }
        if resp.status() == reqwest::StatusCode::FORBIDDEN {
            // Mutual TLS: the certificate is not an origin's; asking again will not help.
            let why = resp.text().await.unwrap_or_default();
            return Ok(Err(Refusal::Fatal(format!(
                "the peer refused this node's certificate: {why}"
            ))));
        }
        if !resp.status().is_success() {
            return Err(CallError::Unknown(format!(
                "peer answered {}",
                resp.status()
            )));
        }
        resp.json()
            .await
            .map_err(|e| CallError::Unknown(format!("undecodable answer: {e}")))
    }

    /// `call` over an idle stream to `base`, or a new one. A call on a stream is delivered or
    /// maybe delivered once its frame is written; only failing to open one is "not delivered".
    async fn call_streamed<Req: Serialize, Resp: serde::de::DeserializeOwned>(
        &self,
        base: &str,
        call: stream::Call,
        req: &Req,
        timeout: Duration,
    ) -> Result<Answer<Resp>, CallError> {
        let frame = stream::call_frame(call, req)
            .map_err(|e| CallError::NotDelivered(format!("cannot encode the call: {e}")))?;
        let mut conn = match self.streams.take(base) {
            Some(conn) => conn,
            None => match self.open_stream(base, timeout).await? {
                Ok(conn) => conn,
                Err(refusal) => return Ok(Err(refusal)),
            },
        };
        let answer = tokio::time::timeout(timeout, conn.round_trip(&frame))
            .await
            .map_err(|_| CallError::Unknown(format!("no answer within {timeout:?}")))?
            .map_err(|e| CallError::Unknown(format!("call stream broke: {e}")))?;
        let answer = serde_json::from_slice(answer)
            .map_err(|e| CallError::Unknown(format!("undecodable answer: {e}")))?;
        self.streams.put(base, conn);
        Ok(answer)
    }

    /// Opens a call stream to `base`; a refused secret is the peer's answer.
    async fn open_stream(
        &self,
        base: &str,
        timeout: Duration,
    ) -> Result<Answer<stream::Connection<reqwest::Upgraded>>, CallError> {
        let not_delivered =
            |e: String| CallError::NotDelivered(format!("cannot open a call stream: {e}"));
        let opening = stream::open(
            &self.client,
            base,
            "call-stream",
            &self.secret,
            stream::CALL_PROTOCOL,
        );
        let opened = match tokio::time::timeout(timeout, opening).await {
            Err(_) => return Err(not_delivered("timed out".into())),
            Ok(Err(stream::OpenError::Status(401))) => {
                let refusal = "the peer refused the cluster secret";
                return Ok(Err(Refusal::Fatal(refusal.into())));
            }
            Ok(Err(e)) => return Err(not_delivered(e.to_string())),
            Ok(Ok(conn)) => conn,
        };
        metrics::counter!("marquee_origin_raft_call_streams_opened_total").increment(1);
        Ok(Ok(opened))
    }
}

fn not_leader(f: openraft::error::ForwardToLeader<NodeId, NodeAddrs>) -> Refusal {
    Refusal::NotLeader {
        leader_id: f.leader_id,
        leader_addr: f.leader_node.map(|n| n.raft_url()),
    }
}

fn fatal(f: openraft::error::Fatal<NodeId>) -> Refusal {
    match f {
        openraft::error::Fatal::Stopped => Refusal::Stopped,
        other => Refusal::Fatal(other.to_string()),
    }
}

/// Leader side of a write (its own, or forwarded): proposes it and waits, at most
/// [`PROPOSAL_TIMEOUT`], for it to commit and apply.
pub(crate) async fn leader_write(raft: &Raft, cmd: CommandJson) -> Answer<OutcomeJson> {
    let Ok(written) = tokio::time::timeout(PROPOSAL_TIMEOUT, raft.client_write(cmd)).await else {
        metrics::counter!("marquee_origin_raft_timeouts_total", "what" => "write").increment(1);
        let waited = PROPOSAL_TIMEOUT.as_secs();
        let why = format!("the write was not committed within {waited} s; it may still be");
        return Err(Refusal::TimedOut(why));
    };
    match written {
        Ok(resp) => Ok(resp.data),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => Err(not_leader(f)),
        Err(RaftError::APIError(other)) => Err(Refusal::Rejected(other.to_string())),
        Err(RaftError::Fatal(f)) => Err(fatal(f)),
    }
}

/// Leader side of a read-index request: confirms leadership with a quorum and answers the
/// index a follower must have applied before it reads.
pub(crate) async fn leader_read_index(raft: &Raft) -> Answer<u64> {
    let Ok(confirmed) = tokio::time::timeout(PROPOSAL_TIMEOUT, raft.get_read_log_id()).await else {
        metrics::counter!("marquee_origin_raft_timeouts_total", "what" => "read_index")
            .increment(1);
        let waited = PROPOSAL_TIMEOUT.as_secs();
        return Err(Refusal::TimedOut(format!(
            "leadership was not confirmed within {waited} s"
        )));
    };
    match confirmed {
        Ok((read, _)) => Ok(read.map_or(0, |l| l.index)),
        Err(RaftError::APIError(openraft::error::CheckIsLeaderError::ForwardToLeader(f))) => {
            Err(not_leader(f))
        }
        Err(RaftError::APIError(other)) => Err(Refusal::Rejected(other.to_string())),
        Err(RaftError::Fatal(f)) => Err(fatal(f)),
    }
}

fn membership_refusal(e: RaftError<NodeId, ClientWriteError<NodeId, NodeAddrs>>) -> Refusal {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => not_leader(f),
        RaftError::APIError(other) => Refusal::Rejected(other.to_string()),
        RaftError::Fatal(f) => fatal(f),
    }
}

/// Leader side of a membership change. Node ids are never reused: a removed id is refused, and
/// so is an id already used by a node at another address.
pub(crate) async fn leader_change(
    raft: &Raft,
    state: &StateDb,
    peers: Option<&Peers>,
    change: MembershipChange,
) -> Answer<()> {
    let ensure_leader = raft.ensure_linearizable().await;
    if let Err(RaftError::APIError(openraft::error::CheckIsLeaderError::ForwardToLeader(f))) =
        ensure_leader
    {
        return Err(not_leader(f));
    }
    let membership = raft.metrics().borrow().membership_config.clone();
    match change {
        MembershipChange::Join { node_id, node } => {
            let retired = state
                .begin_read()
                .and_then(|tx| RETIRED.get(&tx, &node_id.to_be_bytes()))
                .map_err(|e| Refusal::Fatal(e.to_string()))?;
            if retired.is_some() {
                return Err(Refusal::Rejected(format!(
                    "node id {node_id} belonged to a node that was removed; node ids are never \
                     reused, start the new node with another --node-id"
                )));
            }
            let known = membership.membership().get_node(&node_id).cloned();
            match &known {
                Some(existing) if existing.raft != node.raft => {
                    return Err(Refusal::Rejected(format!(
                        "node id {node_id} is already a member at {}; node ids are never reused",
                        existing.raft
                    )));
                }
                Some(existing) if existing.api != node.api => {
                    let nodes = BTreeMap::from([(node_id, node.clone())]);
                    raft.change_membership(ChangeMembers::SetNodes(nodes), true)
                        .await
                        .map_err(membership_refusal)?;
                }
                _ => {}
            }
            let budget = catch_up_budget(state);
            let raft_url = node.raft_url();
            if known.is_none() {
                let add = raft.add_learner(node_id, node, true);
                match tokio::time::timeout(budget, add).await {
                    Ok(r) => r.map_err(membership_refusal)?,
                    Err(_) => return Err(not_caught_up(raft, node_id, budget).await),
                };
            }
            // openraft calls a learner "up to date" within a lag threshold even if it never
            // answered; a voter that cannot be reached would cost the cluster its quorum.
            if !caught_up(raft, node_id, (peers, &raft_url), budget).await {
                return Err(not_caught_up(raft, node_id, budget).await);
            }
            let is_voter = raft
                .metrics()
                .borrow()
                .membership_config
                .membership()
                .voter_ids()
                .any(|id| id == node_id);
            if !is_voter {
                let voters = BTreeSet::from([node_id]);
                raft.change_membership(ChangeMembers::AddVoterIds(voters), true)
                    .await
                    .map_err(membership_refusal)?;
            }
            Ok(())
        }
        MembershipChange::Readdress { node_id, node } => {
            match membership.membership().get_node(&node_id) {
                None => Err(Refusal::Rejected(format!("node {node_id} is not a member"))),
                Some(known) if *known == node => Ok(()),
                Some(_) => {
                    let nodes = BTreeMap::from([(node_id, node)]);
                    raft.change_membership(ChangeMembers::SetNodes(nodes), true)
                        .await
                        .map_err(membership_refusal)?;
                    Ok(())
                }
            }
        }
        MembershipChange::Remove { node_id } => {
            if membership.membership().get_node(&node_id).is_none() {
                return Err(Refusal::Rejected(format!("node {node_id} is not a member")));
            }
            let voters: BTreeSet<NodeId> = membership.membership().voter_ids().collect();
            if voters.contains(&node_id) && voters.len() == 1 {
                return Err(Refusal::Rejected(
                    "cannot remove the last voter of the cluster".into(),
                ));
            }
            if voters.contains(&node_id) {
                let gone = BTreeSet::from([node_id]);
                raft.change_membership(ChangeMembers::RemoveVoters(gone), false)
                    .await
                    .map_err(membership_refusal)?;
            } else {
                let gone = BTreeSet::from([node_id]);
                raft.change_membership(ChangeMembers::RemoveNodes(gone), false)
                    .await
                    .map_err(membership_refusal)?;
            }
            Ok(())
        }
    }
}

/// How long a new node may take to answer at all before it is given up on.
const FIRST_CONTACT: Duration = Duration::from_secs(10);

/// How long a new node may take to catch up: a minute, plus the time to stream and load a
/// snapshot of the state at a slow but healthy rate.
fn catch_up_budget(state: &StateDb) -> Duration {
    let bytes = std::fs::metadata(state.path()).map_or(0, |m| m.len());
    CATCH_UP_TIMEOUT + Duration::from_secs(bytes / CATCH_UP_BYTES_PER_SEC)
}

/// Waits until the leader has replicated its whole log to `node_id`. While a snapshot streams
/// to it nothing is matched yet, so after [`FIRST_CONTACT`] the node must answer its status
/// RPC (at `node`'s Raft address) to be waited for; a node that does not is given up on.
async fn caught_up(
    raft: &Raft,
    node_id: NodeId,
    node: (Option<&Peers>, &str),
    budget: Duration,
) -> bool {
    let started = Instant::now();
    let deadline = started + budget;
    let mut next_ping = started + FIRST_CONTACT;
    loop {
        let m = raft.metrics().borrow().clone();
        let matched = m
            .replication
            .as_ref()
            .and_then(|r| r.get(&node_id).cloned().flatten())
            .map(|l| l.index);
        if matched.is_some() && matched >= m.last_log_index {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        if matched.is_none() && Instant::now() >= next_ping {
            if !answers(node).await {
                return false;
            }
            next_ping = Instant::now() + Duration::from_secs(1);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the node at `url` answers its Raft status RPC.
async fn answers((peers, url): (Option<&Peers>, &str)) -> bool {
    let Some(peers) = peers else { return false };
    let status = peers.call::<_, Status>(url, "status", &(), Duration::from_secs(2));
    matches!(status.await, Ok(Ok(_)))
}

/// Drops a learner that never caught up and says why.
async fn not_caught_up(raft: &Raft, node_id: NodeId, budget: Duration) -> Refusal {
    let gone = BTreeSet::from([node_id]);
    if let Err(e) = raft
        .change_membership(ChangeMembers::RemoveNodes(gone), false)
        .await
    {
        tracing::warn!(node_id, error = %e, "could not drop a learner that never caught up");
    }
    Refusal::Rejected(format!(
        "node {node_id} did not answer or catch up within {} s: check that it runs with \
         --cluster-listen at that address and the same cluster secret",
        budget.as_secs()
    ))
}

/// Leader side: this node's status, for a member asking about the cluster.
pub(crate) fn local_status(raft: &Raft, node_id: NodeId) -> Status {
    status_of(node_id, &raft.metrics().borrow())
}

impl From<Refusal> for WriteError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotLeader {
                leader_id,
                leader_addr,
            } => WriteError::NotLeader {
                leader_id,
                leader_addr,
            },
            Refusal::Stopped => WriteError::Stopped,
            Refusal::TimedOut(e) => WriteError::Unknown(e),
            Refusal::Rejected(e) | Refusal::Fatal(e) => WriteError::Fatal(e),
        }
    }
}

impl From<Refusal> for ReadError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotLeader {
                leader_id,
                leader_addr,
            } => ReadError::NotLeader {
                leader_id,
                leader_addr,
            },
            Refusal::Stopped => ReadError::Stopped,
            Refusal::Rejected(e) | Refusal::TimedOut(e) => ReadError::Unavailable(e),
            Refusal::Fatal(e) => ReadError::Fatal(e),
        }
    }
}

impl From<Refusal> for MembershipError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotLeader {
                leader_id,
                leader_addr,
            } => MembershipError::NotLeader {
                leader_id,
                leader_addr,
            },
            Refusal::Stopped => MembershipError::Stopped,
            Refusal::Rejected(e) | Refusal::TimedOut(e) => MembershipError::Rejected(e),
            Refusal::Fatal(e) => MembershipError::Fatal(e),
        }
    }
}

/// Backs off between attempts to reach a leader, within an overall deadline.
pub(crate) struct Retry {
    deadline: Instant,
    pause: Duration,
}

impl Retry {
    pub(crate) fn new(total: Duration) -> Self {
        Self {
            deadline: Instant::now() + total,
            pause: Duration::from_millis(10),
        }
    }

    /// Sleeps before the next attempt; false once the deadline has passed.
    pub(crate) async fn wait(&mut self) -> bool {
        if Instant::now() + self.pause > self.deadline {
            return false;
        }
        tokio::time::sleep(self.pause).await;
        // Capped low: after a leader dies, an election takes a few hundred ms, and a long
        // pause here would add itself to every client's failover (measured: 620 ms at 500).
        self.pause = (self.pause * 2).min(Duration::from_millis(50));
        true
    }
}
