//! Who is asking: the session cookie resolved to an account (linearizable read, since it
//! guards access).

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;

use super::{auth, state};
use crate::api::Ctx;
use crate::error::{ApiError, Code};
use crate::ids::now_unix;

/// A signed-in account; rejects with 401 `unauthenticated`.
pub struct Viewer {
    pub account: state::Account,
    /// The profile chosen for this session, if any (and still there).
    pub profile: Option<crate::profiles::state::Profile>,
    /// SHA-256 of the session token, to end this session.
    pub token_hash: String,
}

/// A signed-in account or nobody; never rejects.
pub struct MaybeViewer(pub Option<Viewer>);

/// A signed-in admin; 401 without a session, 403 for other accounts.
pub struct Admin(pub state::Account);

/// An admin about to change something, for handlers that read nothing admin-only before the
/// change. The session is looked up locally (no read-index round); the change must go
/// through [`Ctx::apply_guarded`] with `guard`, which checks the session again, linearizably,
/// as the change applies. A session this node has not seen yet falls back to [`Admin`].
pub struct AdminWrite {
    pub account: state::Account,
    pub guard: state::Guard,
}

fn session_hash(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::session_from_cookie_header)
        .map(auth::token_hash)
}

impl FromRequestParts<Ctx> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, ApiError> {
        let token_hash = session_hash(parts).ok_or_else(ApiError::unauthenticated)?;
        let now = now_unix();
        let (account, profile) = ctx
            .read_checked(|tx| state::session_viewer(tx, &token_hash, now))
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    Code::Unauthenticated,
                    "your session has ended; sign in again",
                )
            })?;
        Ok(Self {
            account,
            profile,
            token_hash,
        })
    }
}

impl FromRequestParts<Ctx> for MaybeViewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, ApiError> {
        match Viewer::from_request_parts(parts, ctx).await {
            Ok(v) => Ok(Self(Some(v))),
            Err(e) if e.code == Code::Unauthenticated => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}

impl FromRequestParts<Ctx> for AdminWrite {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, ApiError> {
        let token_hash = session_hash(parts).ok_or_else(ApiError::unauthenticated)?;
        let now = now_unix();
        let local = ctx.read(|tx| state::session_account(tx, &token_hash, now))?;
        let account = match local {
            Some(account) if account.is_admin => account,
            _ => Admin::from_request_parts(parts, ctx).await?.0,
        };
        let guard = state::Guard {
            token_hash,
            now,
            admin: true,
        };
        Ok(Self { account, guard })
    }
}

impl FromRequestParts<Ctx> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, ApiError> {
        let viewer = Viewer::from_request_parts(parts, ctx).await?;
        if !viewer.account.is_admin {
            return Err(ApiError::new(Code::Forbidden, "only admins can do this"));
        }
        Ok(Self(viewer.account))
    }
}
