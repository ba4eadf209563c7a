//! The admin's view of packaging jobs.

use axum::extract::{Path, State};

use super::state::{self, Rejection};
use super::wire::Job;
use crate::accounts::Admin;
use crate::api::Ctx;
use crate::catalogue::api::checked_id;
use crate::error::{ApiError, ApiResult, Code, ErrorBody};

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        let code = match r {
            Rejection::TitleNotFound | Rejection::JobNotFound => Code::NotFound,
            Rejection::JobInProgress | Rejection::JobWrongState | Rejection::LeaseLost => {
                Code::JobInProgress
            }
        };
        ApiError::new(code, r.to_string())
    }
}

/// The latest packaging job of a title (admin).
#[utoipa::path(get, path = "/api/v1/admin/titles/{id}/job", security(("session" = [])), tag = "admin", params(("id" = String, Path, description = "Title id")),
    responses((status = 200, description = "The job", body = Job), (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn job(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Job>> {
    latest(&ctx, checked_id(&id)?)
}

/// The latest packaging job of a film's title or an episode (`id` checked by the caller).
pub(crate) fn latest(ctx: &Ctx, id: &str) -> ApiResult<axum::Json<Job>> {
    let job = ctx.read(|tx| state::title_job(tx, id))?;
    job.map(|j| axum::Json(Job::from(&j)))
        .ok_or_else(|| ApiError::not_found("job"))
}
