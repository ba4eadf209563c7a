//! Holding a stream: playback takes the lease, the player renews it while it plays
//! (`PUT /api/v1/streams/current`) and gives it back when it stops (`DELETE`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use utoipa::ToSchema;

use super::device;
use super::state::{Command, LEASE_SECS, Lease, Rejection};
use crate::accounts::Viewer;
use crate::api::Ctx;
use crate::billing;
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::ids::now_unix;

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::TooManyStreams { .. } => ApiError::new(Code::TooManyStreams, r.to_string()),
        }
    }
}

/// Takes or renews the viewer's session's stream of `title_id`, within `max_streams`.
pub async fn hold(
    ctx: &Ctx,
    viewer: &Viewer,
    headers: &HeaderMap,
    title_id: &str,
    max_streams: u8,
) -> ApiResult<()> {
    let now = now_unix();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let lease = Lease {
        device: device::name(user_agent),
        profile: viewer
            .profile
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        title_id: title_id.to_owned(),
        expires_at: now + LEASE_SECS,
    };
    ctx.apply(Command::Claim {
        account_id: viewer.account.id.clone(),
        session: viewer.token_hash.clone(),
        lease,
        max_streams,
        now,
    })
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamRenewal {
    /// The title playing.
    pub title_id: String,
}

/// Keep playing: renews this session's stream (players call it every 20 s; a stream not
/// renewed for 60 s is free for another device).
#[utoipa::path(put, path = "/api/v1/streams/current", security(("session" = [])), tag = "titles",
    request_body = StreamRenewal,
    responses(
        (status = 204, description = "The stream is this session's for another 60 s"),
        (status = 400, description = "invalid_json or empty_body", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 402, description = "subscription_required: the plan ended", body = ErrorBody),
        (status = 403, description = "too_many_streams: other devices took the plan's streams meanwhile; the message names them", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "invalid_body", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn renew(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    headers: HeaderMap,
    Json(req): Json<StreamRenewal>,
) -> ApiResult<StatusCode> {
    if !crate::ids::is_valid_id(&req.title_id) {
        return Err(ApiError::new(
            Code::InvalidBody,
            "title_id is not a title id",
        ));
    }
    let account_id = viewer.account.id.clone();
    let plan = ctx
        .read_checked(|tx| {
            billing::state::entitled_plan(tx, &account_id, billing::clock::now_in(tx)?)
        })
        .await?;
    match plan {
        Some(plan) => hold(&ctx, &viewer, &headers, &req.title_id, plan.limits.streams).await?,
        None if ctx.config.billing.require_subscription && !viewer.account.is_admin => {
            return Err(ApiError::new(
                Code::SubscriptionRequired,
                "your plan has ended; choose a plan to keep watching: see /plans",
            ));
        }
        None => {}
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Stop playing: the stream is free for another device at once.
#[utoipa::path(delete, path = "/api/v1/streams/current", security(("session" = [])), tag = "titles",
    responses(
        (status = 204, description = "Released (or there was nothing to release)"),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn release(State(ctx): State<Ctx>, viewer: Viewer) -> ApiResult<StatusCode> {
    ctx.apply(Command::Release {
        account_id: viewer.account.id,
        session: viewer.token_hash,
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
