//! `PUT` and `DELETE /api/v1/ratings/{title_id}`: the chosen profile's thumb on a title.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state::{Command, Rejection, Thumb};
use crate::api::Ctx;
use crate::catalogue::api::{checked_id, watchable_title};
use crate::error::{ApiError, ApiResult, ErrorBody, Json};
use crate::ids::now_unix;
use crate::profiles::Watching;

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {}
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// `down`, `up` or `love`.
    pub thumb: Thumb,
}

/// Rate a title for the chosen profile (replacing its earlier rating).
#[utoipa::path(put, path = "/api/v1/ratings/{title_id}", security(("session" = [])), tag = "lists",
    params(("title_id" = String, Path, description = "Title id")), request_body = RatingBody,
    responses(
        (status = 200, description = "Rated", body = RatingBody),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "maturity_restricted: above this profile's maturity limit", body = ErrorBody),
        (status = 404, description = "not_found: no such title", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 422, description = "invalid_body: thumb is not down, up or love", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn rate(
    State(ctx): State<Ctx>,
    w: Watching,
    Path(title_id): Path<String>,
    Json(body): Json<RatingBody>,
) -> ApiResult<axum::Json<RatingBody>> {
    let title = watchable_title(&ctx, &title_id, &w.profile)?;
    let cmd = Command::Rate {
        profile_id: w.profile.id,
        title_id: title.id,
        thumb: body.thumb,
        now: now_unix(),
    };
    ctx.apply(cmd).await?;
    Ok(axum::Json(body))
}

/// Take back the chosen profile's rating of a title.
#[utoipa::path(delete, path = "/api/v1/ratings/{title_id}", security(("session" = [])), tag = "lists",
    params(("title_id" = String, Path, description = "Title id")),
    responses(
        (status = 204, description = "Not rated (any more)"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 404, description = "not_found: not a title id", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn unrate(
    State(ctx): State<Ctx>,
    w: Watching,
    Path(title_id): Path<String>,
) -> ApiResult<StatusCode> {
    let cmd = Command::Unrate {
        profile_id: w.profile.id,
        title_id: checked_id(&title_id)?.to_owned(),
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}
