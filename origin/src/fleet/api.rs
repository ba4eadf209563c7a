//! `GET /api/v1/admin/fleet` and `POST /api/v1/admin/purge`: the control-plane's answers,
//! asked over mutual TLS with this node's certificate.

use axum::extract::State;

use super::wire::{Fleet, FleetEdge, PurgeRequest, PurgeResult};
use crate::accounts::Admin;
use crate::api::Ctx;
use crate::control_plane::{self, CALL_TIMEOUT, CpError};
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};

/// Every edge with its health, load and cache figures (admin).
#[utoipa::path(get, path = "/api/v1/admin/fleet", security(("session" = [])), tag = "admin",
    responses(
        (status = 200, description = "The edges the control-plane knows, by id", body = Fleet),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 503, description = "unavailable: the control-plane could not be asked", body = ErrorBody),
    ))]
pub async fn fleet(State(ctx): State<Ctx>, _admin: Admin) -> ApiResult<axum::Json<Fleet>> {
    let Some(cp) = &ctx.config.control_plane else {
        return Ok(axum::Json(Fleet {
            control_plane: false,
            edges: Vec::new(),
        }));
    };
    let asked = async {
        let resp = ctx
            .control_plane
            .get(format!("{cp}/v1/edges"))
            .timeout(CALL_TIMEOUT)
            .send()
            .await?;
        control_plane::json::<Vec<FleetEdge>>(resp).await
    };
    let edges = asked.await.map_err(|e| e.unavailable("listing edges"))?;
    Ok(axum::Json(Fleet {
        control_plane: true,
        edges,
    }))
}

/// Drop cached media from every edge (admin): the answer says which live edges applied it.
#[utoipa::path(post, path = "/api/v1/admin/purge", security(("session" = [])), tag = "admin",
    request_body = PurgeRequest,
    responses(
        (status = 200, description = "Ordered; applied by the edges listed", body = PurgeResult),
        (status = 400, description = "invalid_json", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "invalid_body: nothing named, too many targets, or a path or title id that is not one", body = ErrorBody),
        (status = 409, description = "no_control_plane: this origin runs without one, so there are no edges", body = ErrorBody),
        (status = 503, description = "unavailable: the control-plane could not be asked; nothing was purged", body = ErrorBody),
    ))]
pub async fn purge(
    State(ctx): State<Ctx>,
    admin: Admin,
    Json(req): Json<PurgeRequest>,
) -> ApiResult<axum::Json<PurgeResult>> {
    let Some(cp) = &ctx.config.control_plane else {
        return Err(ApiError::new(
            Code::NoControlPlane,
            "this origin has no --control-plane: there are no edges to purge",
        ));
    };
    let body = serde_json::json!({ "paths": req.paths, "titles": req.titles, "wait_ms": 2000 });
    let asked = async {
        let resp = ctx
            .control_plane
            .post(format!("{cp}/v1/purge"))
            .timeout(CALL_TIMEOUT)
            .json(&body)
            .send()
            .await?;
        control_plane::json::<PurgeResult>(resp).await
    };
    let result = asked.await.map_err(|e| match e {
        // The control-plane checks the targets and says what is wrong with them.
        CpError::Refused {
            status: 400,
            message,
        } => ApiError::new(Code::InvalidBody, message),
        e => e.unavailable("ordering the purge"),
    })?;
    tracing::info!(seq = result.seq, by = %admin.0.id, paths = req.paths.len(), titles = req.titles.len(), "purge ordered");
    Ok(axum::Json(result))
}
