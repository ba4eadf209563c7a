//! `GET /api/v1/my-list`, `PUT` and `DELETE /api/v1/my-list/{title_id}`, for the chosen profile.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::state::{self, Command, Rejection};
use crate::api::Ctx;
use crate::catalogue::api::{checked_id, watchable_title};
use crate::catalogue::state::{self as catalogue, TitleState};
use crate::catalogue::wire::{Title, TitleList};
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::ids::now_unix;
use crate::policy;
use crate::profiles::Watching;

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::ListFull { .. } => ApiError::new(Code::ListFull, r.to_string()),
        }
    }
}

/// The chosen profile's list, most recently added first. Titles it may no longer see (its
/// limit was lowered, or a title was withdrawn) are left out, not forgotten.
#[utoipa::path(get, path = "/api/v1/my-list", security(("session" = [])), tag = "lists",
    responses(
        (status = 200, description = "The titles, most recently added first", body = TitleList),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn list(State(ctx): State<Ctx>, w: Watching) -> ApiResult<axum::Json<TitleList>> {
    let limit = w.profile.maturity;
    let titles = ctx.read(|tx| {
        let mut out = Vec::new();
        for id in state::titles(tx, &w.profile.id)? {
            if let Some(t) = catalogue::title(tx, &id)?
                && t.state == TitleState::Ready
                && policy::may_watch(limit, &t.meta.maturity_rating).is_ok()
            {
                out.push(Title::from(&t));
            }
        }
        Ok(out)
    })?;
    Ok(axum::Json(TitleList { titles }))
}

/// Add a title to the chosen profile's list; adding one already there keeps its place.
#[utoipa::path(put, path = "/api/v1/my-list/{title_id}", security(("session" = [])), tag = "lists",
    params(("title_id" = String, Path, description = "Title id")),
    responses(
        (status = 204, description = "On the list"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "maturity_restricted: above this profile's maturity limit", body = ErrorBody),
        (status = 404, description = "not_found: no such title", body = ErrorBody),
        (status = 409, description = "profile_required (choose who's watching first) or list_full", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn add(
    State(ctx): State<Ctx>,
    w: Watching,
    Path(title_id): Path<String>,
) -> ApiResult<StatusCode> {
    let title = watchable_title(&ctx, &title_id, &w.profile)?;
    let cmd = Command::AddToList {
        profile_id: w.profile.id,
        title_id: title.id,
        now: now_unix(),
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a title from the chosen profile's list; removing one not there is fine.
#[utoipa::path(delete, path = "/api/v1/my-list/{title_id}", security(("session" = [])), tag = "lists",
    params(("title_id" = String, Path, description = "Title id")),
    responses(
        (status = 204, description = "Not on the list (any more)"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 404, description = "not_found: not a title id", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn remove(
    State(ctx): State<Ctx>,
    w: Watching,
    Path(title_id): Path<String>,
) -> ApiResult<StatusCode> {
    let title_id = checked_id(&title_id)?.to_owned();
    let cmd = Command::RemoveFromList {
        profile_id: w.profile.id,
        title_id,
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}
