//! `GET /api/v1/admin/token-keys` and `POST /api/v1/admin/token-keys/rotate`.

use std::time::Duration;

use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use marquee_proto::token::TokenSigner;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::publish;
use super::state::{self, Command, Rejection, SecretKey};
use crate::accounts::Admin;
use crate::api::Ctx;
use crate::control_plane::CpError;
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::ids::{now_unix, now_unix_ms};

/// How long a rotation waits for every live edge to fetch the new key.
const DISTRIBUTION_WAIT: Duration = Duration::from_secs(20);

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        ApiError::new(Code::TokenKeyRotationRefused, r.to_string())
    }
}

/// One playback-token signing key.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenKeyView {
    pub kid: String,
    /// Tokens are signed with it now.
    pub active: bool,
    /// When its tokens stop being accepted (Unix seconds); absent for the active key.
    pub retire_at: Option<u64>,
}

/// The keys tokens may carry, the signing one first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenKeys {
    pub keys: Vec<TokenKeyView>,
}

/// A finished rotation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Rotation {
    /// The key new tokens are signed with.
    pub kid: String,
    pub previous_kid: String,
    /// Tokens of the previous key play until then (now plus the token lifetime).
    pub previous_valid_until: u64,
    /// The live edges that held the new key before origin signed with it.
    pub edges: Vec<String>,
}

/// The signing keys, the active one first, then those still accepted (admin).
#[utoipa::path(get, path = "/api/v1/admin/token-keys", security(("session" = [])), tag = "admin",
    responses(
        (status = 200, description = "The keys tokens may carry", body = TokenKeys),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 503, description = "unavailable: no leader to confirm the session", body = ErrorBody),
    ))]
pub async fn list(State(ctx): State<Ctx>, _admin: Admin) -> ApiResult<axum::Json<TokenKeys>> {
    let now = now_unix();
    let (rotated, signer) = ctx.read(|tx| Ok((state::all(tx)?, ctx.keys.signer(tx)?)))?;
    let mut keys = vec![TokenKeyView {
        kid: signer.kid().to_owned(),
        active: true,
        retire_at: None,
    }];
    keys.extend(
        rotated
            .into_iter()
            .filter(|(kid, k)| kid != signer.kid() && k.retire_at.is_some_and(|at| at > now))
            .map(|(kid, k)| TokenKeyView {
                kid,
                active: false,
                retire_at: k.retire_at,
            }),
    );
    Ok(axum::Json(TokenKeys { keys }))
}

fn control_plane_error(e: CpError) -> ApiError {
    e.unavailable("handing edges the new key; nothing changed")
}

/// Rotate the playback-token signing key (admin): a new key is published to the control-plane
/// and used only once every live edge holds it; the replaced key's tokens play for one more
/// token lifetime.
#[utoipa::path(post, path = "/api/v1/admin/token-keys/rotate", security(("session" = [])), tag = "admin",
    responses(
        (status = 200, description = "New tokens carry the new key", body = Rotation),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 409, description = "token_key_rotation_refused: no control-plane to hand edges the key, an edge did not fetch it in time, or another rotation landed first; nothing changed", body = ErrorBody),
        (status = 503, description = "unavailable: the control-plane or the cluster could not be reached; nothing changed", body = ErrorBody),
    ))]
pub async fn rotate(State(ctx): State<Ctx>, admin: Admin) -> ApiResult<axum::Json<Rotation>> {
    let Some(cp) = ctx.config.control_plane.clone() else {
        return Err(ApiError::new(
            Code::TokenKeyRotationRefused,
            "this origin has no --control-plane: edges could not receive a new key",
        ));
    };
    let previous = ctx.read(|tx| ctx.keys.signer(tx))?;
    let pkcs8 =
        TokenSigner::generate_pkcs8().map_err(|e| ApiError::internal("key generation", e))?;
    let kid = format!("k{}", now_unix_ms());
    let signer = TokenSigner::from_pkcs8(&kid, &pkcs8)
        .map_err(|e| ApiError::internal("key generation", e))?;
    publish::publish(&ctx, &cp, &kid, &signer.public_key())
        .await
        .map_err(control_plane_error)?;
    let status = publish::wait_ready(&ctx, &cp, &kid, DISTRIBUTION_WAIT)
        .await
        .map_err(control_plane_error)?;
    if !status.ready {
        return Err(ApiError::new(
            Code::TokenKeyRotationRefused,
            format!(
                "edges {} did not fetch the new key within {}s; tokens are still signed with {}, try again",
                status.missing.join(", "),
                DISTRIBUTION_WAIT.as_secs(),
                previous.kid()
            ),
        ));
    }
    let now = now_unix();
    let previous_valid_until = now + ctx.config.token_ttl_secs;
    ctx.apply(Command::Rotate {
        kid: kid.clone(),
        public_key: URL_SAFE_NO_PAD.encode(signer.public_key()),
        private_key: SecretKey(URL_SAFE_NO_PAD.encode(&pkcs8)),
        previous_kid: previous.kid().to_owned(),
        previous_public_key: URL_SAFE_NO_PAD.encode(previous.public_key()),
        previous_retire_at: previous_valid_until,
        now,
    })
    .await?;
    // Not fatal when it fails: the background sync sends it again.
    if let Err(e) = publish::retire(&ctx, &cp, previous.kid(), previous_valid_until).await {
        tracing::warn!(error = %e, kid = previous.kid(), "retirement not sent yet; the key sync will");
    }
    tracing::info!(%kid, previous = previous.kid(), by = %admin.0.id, edges = status.holding.len(), "playback-token key rotated");
    Ok(axum::Json(Rotation {
        kid,
        previous_kid: previous.kid().to_owned(),
        previous_valid_until,
        edges: status.holding,
    }))
}
