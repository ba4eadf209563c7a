//! The devices page: the account's signed-in sessions, each with the device it signed in from,
//! and signing one out, or all of them ("sign out everywhere").

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::Viewer;
use super::api::signed_out;
use super::state::{self, Command};
use crate::api::Ctx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::ids::now_unix;

/// How a session is named to its account: a prefix of its token's hash (which itself never
/// leaves origin whole), enough to tell an account's sessions apart.
fn public_id(token_hash: &str) -> &str {
    &token_hash[..token_hash.len().min(16)]
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Device {
    /// Pass to `DELETE /api/v1/sessions/{id}` to sign it out.
    pub id: String,
    /// "Chrome on Linux"; "an unknown device" when it could not tell.
    pub device: String,
    /// When it signed in (Unix seconds).
    pub signed_in_at: u64,
    pub expires_at: u64,
    /// This very session.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Devices {
    /// Newest sign-in first.
    pub devices: Vec<Device>,
}

/// The account's signed-in devices.
#[utoipa::path(get, path = "/api/v1/sessions", security(("session" = [])), tag = "accounts",
    responses(
        (status = 200, description = "Every device signed in to this account, newest first", body = Devices),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn list(State(ctx): State<Ctx>, viewer: Viewer) -> ApiResult<axum::Json<Devices>> {
    let now = now_unix();
    let sessions = ctx
        .read_checked(|tx| state::sessions_of(tx, &viewer.account.id))
        .await?;
    let mut devices: Vec<Device> = sessions
        .into_iter()
        .filter(|(_, s)| s.expires_at > now)
        .map(|(hash, s)| Device {
            id: public_id(&hash).to_owned(),
            device: if s.device.is_empty() {
                "an unknown device".into()
            } else {
                s.device
            },
            signed_in_at: s.created_at,
            expires_at: s.expires_at,
            current: hash == viewer.token_hash,
        })
        .collect();
    devices.sort_by_key(|d| std::cmp::Reverse(d.signed_in_at));
    Ok(axum::Json(Devices { devices }))
}

/// Sign one device out (its next request needs a new sign-in).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", security(("session" = [])), tag = "accounts",
    params(("id" = String, Path, description = "A device's id from GET /api/v1/sessions")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 404, description = "not_found: no such device on this account", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn sign_out_device(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let sessions = ctx
        .read_checked(|tx| state::sessions_of(tx, &viewer.account.id))
        .await?;
    let found = sessions
        .into_iter()
        .find(|(hash, _)| !id.is_empty() && public_id(hash) == id)
        .ok_or_else(|| ApiError::not_found("device"))?;
    ctx.apply(Command::DeleteSession {
        token_hash: found.0,
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out everywhere: every device of this account, this one included.
#[utoipa::path(delete, path = "/api/v1/sessions", security(("session" = [])), tag = "accounts",
    responses(
        (status = 204, description = "Every device is signed out; this one's cookie is cleared"),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn sign_out_everywhere(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    request_headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    ctx.apply(Command::EndAllSessions {
        account_id: viewer.account.id,
    })
    .await?;
    signed_out(&ctx, &request_headers)
}
