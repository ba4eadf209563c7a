//! Steered manifests and the content-steering server, on the API host the viewer already
//! talks to. Both are addressed by the playback token (`/playback/t/{token}/…`), which the
//! player swaps for the renewed one like any edge URL, so no session cookie is needed.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use marquee_proto::v1::{PlaybackClaims, SteeringAnswer};

use super::steered::{self, Pathway, SteeringManifest};
use super::steering;
use crate::api::{API_PREFIX, Ctx};
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::geo::ClientIp;
use crate::{ids, media};

/// Per viewer and per moment: never stored by a browser or a cache on the way.
const NO_STORE: &str = "no-store";

/// When the control-plane sends no TTL (an older one), players ask again this often.
const DEFAULT_TTL_SECS: u32 = 30;

fn refused(rejection: marquee_proto::token::TokenRejection) -> ApiError {
    ApiError::new(Code::Forbidden, rejection.to_string())
}

fn steering_uri(token: &str) -> String {
    format!("{API_PREFIX}/playback/t/{token}/steering")
}

/// The steered edges that can be pathways, each with the package directory `dir` on it.
fn pathways(answer: &SteeringAnswer, token: &str, dir: &str, over_https: bool) -> Vec<Pathway> {
    answer
        .edges
        .iter()
        .filter(|e| steered::is_pathway_id(&e.edge_id))
        .map(|e| Pathway {
            id: e.edge_id.clone(),
            base_url: format!("{}/t/{token}{dir}/", steering::edge_base(e, over_https)),
        })
        .collect()
}

/// A title's manifest with every edge the viewer is steered to as a pathway.
#[utoipa::path(get, path = "/api/v1/playback/t/{token}/media/{path}", tag = "titles",
    params(("token" = String, Path, description = "The playback token"),
        ("path" = String, Path, description = "The manifest under the token's scope: `{media_id}/{package}/manifest.mpd` or `…/master.m3u8`")),
    responses(
        (status = 200, description = "DASH MPD with `<ContentSteering>` or HLS master playlist with `EXT-X-CONTENT-STEERING`", content_type = "application/dash+xml"),
        (status = 403, description = "forbidden: the token is invalid, expired or not for this title", body = ErrorBody),
        (status = 404, description = "not_found: no such manifest", body = ErrorBody),
        (status = 503, description = "no_edge_available", body = ErrorBody),
    ))]
pub async fn manifest(
    State(ctx): State<Ctx>,
    ClientIp(ip): ClientIp,
    steering::OverHttps(over_https): steering::OverHttps,
    Path((token, path)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (dir, is_dash) = match (
        path.strip_suffix("/manifest.mpd"),
        path.strip_suffix("/master.m3u8"),
    ) {
        (Some(dir), _) => (dir, true),
        (None, Some(dir)) => (dir, false),
        _ => return Err(ApiError::not_found("steered manifest")),
    };
    let Some((media_id, file)) = path
        .split_once('/')
        .filter(|(id, rest)| ids::is_valid_id(id) && media::is_safe_path(rest))
    else {
        return Err(ApiError::not_found("steered manifest"));
    };
    let now = ids::now_unix();
    let verifier = ctx.read(|tx| ctx.keys.verifier(tx, now))?;
    let claims = verifier
        .verify(&token, &format!("/media/{path}"), now)
        .map_err(refused)?;
    let packaged = media::package_file(&ctx, media_id, file).await?;
    let bytes: Vec<u8> = packaged
        .stream
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .map_err(|e| ApiError::internal("manifest read", e))?;
    let mut text = String::from_utf8(bytes).map_err(|e| ApiError::internal("manifest text", e))?;
    if claims.max_height > 0 {
        text = if is_dash {
            super::rungs::dash_within(&text, claims.max_height)
                .map_err(|e| ApiError::internal("manifest rungs", e))?
        } else {
            super::rungs::hls_within(&text, claims.max_height)
        };
    }
    let answer = super::api::steer(
        &ctx,
        steering::Viewer {
            client_ip: ip,
            region: None,
            current: None,
        },
    )
    .await?;
    let pathways = pathways(&answer, &token, &format!("/media/{dir}"), over_https);
    let steering = steering_uri(&token);
    let (ctype, body) = if is_dash {
        let body = steered::dash(&text, &pathways, &steering).ok_or_else(|| {
            ApiError::internal("manifest", "the packaged MPD has no <MPD> element")
        })?;
        ("application/dash+xml", body)
    } else {
        (
            "application/vnd.apple.mpegurl",
            steered::hls(&text, &pathways, &steering),
        )
    };
    Ok(([(CONTENT_TYPE, ctype), (CACHE_CONTROL, NO_STORE)], body).into_response())
}

/// The content-steering server: the order of edges this playback should use now.
#[utoipa::path(get, path = "/api/v1/playback/t/{token}/steering", tag = "titles",
    params(("token" = String, Path, description = "The playback token"),
        ("_DASH_pathway" = Option<String>, Query, description = "The pathway a DASH player uses now (sent by the player)"),
        ("_HLS_pathway" = Option<String>, Query, description = "The pathway an HLS player uses now (sent by the player)")),
    responses(
        (status = 200, description = "Steering manifest: `VERSION`, `TTL`, `RELOAD-URI`, `PATHWAY-PRIORITY` (and `SERVICE-LOCATION-PRIORITY` for DASH-IF players)", content_type = "application/json"),
        (status = 403, description = "forbidden: the token is invalid or expired", body = ErrorBody),
        (status = 503, description = "no_edge_available", body = ErrorBody),
    ))]
pub async fn steering(
    State(ctx): State<Ctx>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let now = ids::now_unix();
    let verifier = ctx.read(|tx| ctx.keys.verifier(tx, now))?;
    let claims: PlaybackClaims = verifier.verify_signature(&token).map_err(refused)?;
    if now >= claims.expires_at_unix {
        return Err(refused(marquee_proto::token::TokenRejection::Expired));
    }
    // A player falling back to its defaults reports them all ("a,b"): the first is in use.
    let current = query
        .get("_DASH_pathway")
        .or_else(|| query.get("_HLS_pathway"))
        .and_then(|p| p.split(',').next());
    let answer = super::api::steer(
        &ctx,
        steering::Viewer {
            client_ip: ip,
            region: None,
            current,
        },
    )
    .await?;
    let priority = answer
        .edges
        .iter()
        .map(|e| e.edge_id.clone())
        .filter(|id| steered::is_pathway_id(id))
        .collect();
    let ttl = match answer.ttl_secs {
        0 => DEFAULT_TTL_SECS,
        ttl => ttl,
    };
    tracing::debug!(playback_id = %claims.playback_id, ?current, "steering answer");
    let manifest = SteeringManifest::new(priority, ttl, steering_uri(&token));
    Ok(([(CACHE_CONTROL, NO_STORE)], axum::Json(manifest)).into_response())
}
