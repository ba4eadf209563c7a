//! `GET /api/v1/admin/cluster`, `POST /api/v1/admin/cluster/members`,
//! `DELETE /api/v1/admin/cluster/members/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::wire::{ClusterView, Member, NewMember, Role};
use crate::accounts::Admin;
use crate::api::Ctx;
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::raft::{MembershipError, NodeAddrs};

fn role(r: &str) -> Role {
    match r {
        "leader" => Role::Leader,
        "follower" => Role::Follower,
        _ => Role::Learner,
    }
}

fn membership_error(e: MembershipError) -> ApiError {
    match e {
        MembershipError::Rejected(why) => ApiError::new(Code::ClusterChangeRefused, why),
        MembershipError::NotLeader { .. } | MembershipError::Stopped => ApiError::new(
            Code::Unavailable,
            "the cluster has no leader right now; try again shortly",
        ),
        MembershipError::Fatal(_) => ApiError::internal("membership change", e),
    }
}

/// Every member of the origin cluster with its role, addresses and last applied index (admin).
#[utoipa::path(get, path = "/api/v1/admin/cluster", security(("session" = [])), tag = "admin",
    responses(
        (status = 200, description = "The cluster as this node sees it", body = ClusterView),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 503, description = "unavailable: no leader to confirm the session", body = ErrorBody),
    ))]
pub async fn view(State(ctx): State<Ctx>, _admin: Admin) -> axum::Json<ClusterView> {
    let status = ctx.raft.status();
    let members = ctx
        .raft
        .members()
        .await
        .into_iter()
        .map(|m| Member {
            node_id: m.node_id,
            role: role(&m.role),
            api_addr: m.api_addr,
            raft_addr: m.raft_addr,
            last_applied_index: m.last_applied_index,
            error: m.error,
        })
        .collect();
    axum::Json(ClusterView {
        node_id: status.node_id,
        leader_id: status.leader_id,
        term: status.current_term,
        members,
    })
}

/// Add a node (admin): it catches up as a learner, then becomes a voter.
#[utoipa::path(post, path = "/api/v1/admin/cluster/members", security(("session" = [])), tag = "admin",
    request_body = NewMember,
    responses(
        (status = 204, description = "The node is a voter"),
        (status = 400, description = "invalid_json", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 409, description = "cluster_change_refused: e.g. the id was used before, or the node did not catch up", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "invalid_body", body = ErrorBody),
        (status = 503, description = "unavailable: no leader", body = ErrorBody),
    ))]
pub async fn add(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Json(req): Json<NewMember>,
) -> ApiResult<StatusCode> {
    if req.node_id == 0 || req.raft_addr.trim().is_empty() {
        return Err(ApiError::new(
            Code::InvalidBody,
            "node_id must be positive and raft_addr set",
        ));
    }
    let node = NodeAddrs::new(req.raft_addr.trim(), req.api_addr.trim());
    ctx.raft
        .add_voter(req.node_id, node)
        .await
        .map_err(membership_error)?;
    tracing::info!(node_id = req.node_id, "node added to the cluster");
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a node (admin); its id is retired and never accepted again.
#[utoipa::path(delete, path = "/api/v1/admin/cluster/members/{id}", security(("session" = [])), tag = "admin",
    params(("id" = u64, Path, description = "Node id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 422, description = "invalid_body: not a node id", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 409, description = "cluster_change_refused: not a member, or the last voter", body = ErrorBody),
        (status = 503, description = "unavailable: no leader", body = ErrorBody),
    ))]
pub async fn remove(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::new(Code::InvalidBody, "the node id must be a number"))?;
    ctx.raft.remove_member(id).await.map_err(membership_error)?;
    tracing::info!(node_id = id, "node removed from the cluster");
    Ok(StatusCode::NO_CONTENT)
}
