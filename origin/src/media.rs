//! `GET /media/{title_id}/{*path}`: packaged media streamed from the blob store.
//!
//! Segments never change once written, so edges may cache them forever; manifests get a short
//! lifetime so a re-packaged title shows up within a minute.
//!
//! Media is not public: a fetch carries `Authorization: Bearer <playback token>`. Edges forward
//! the token of the viewer whose request missed their cache, so origin needs no separate edge
//! credential and a stranger who finds origin's address still cannot read the catalogue.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use marquee_proto::token::TokenVerifier;

use crate::api::Ctx;
use crate::blob::BlobReader;
use crate::error::{ApiError, ApiResult, Code};
use crate::ids;

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Manifests and small files: a minute fresh, then served stale for 30 s while one request
/// refreshes them, and for a day while origin cannot answer (RFC 5861).
pub const SHORT: &str = "public, max-age=60, stale-while-revalidate=30, stale-if-error=86400";

/// How long past its expiry origin still takes a forwarded token. The edge checked it strictly
/// a moment before; the slack absorbs clock skew between hosts and a slow cache fill.
pub const EXPIRY_GRACE_SECS: u64 = 300;

/// Content type and Cache-Control for a packaged file, by extension.
pub fn headers_for(path: &str) -> (&'static str, &'static str) {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "mpd" => ("application/dash+xml", SHORT),
        "m3u8" => ("application/vnd.apple.mpegurl", SHORT),
        "m4s" => ("video/iso.segment", IMMUTABLE),
        "mp4" => ("video/mp4", IMMUTABLE),
        "m4a" => ("audio/mp4", IMMUTABLE),
        "vtt" => ("text/vtt", SHORT),
        "jpg" | "jpeg" => ("image/jpeg", IMMUTABLE),
        "json" => ("application/json", SHORT),
        _ => ("application/octet-stream", SHORT),
    }
}

/// A relative media path with no empty, `.` or `..` segments and no odd characters.
pub fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 512
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

/// Checks the bearer playback token in `headers` for `path` (`/media/...`) at `now_unix`.
pub fn authorize(
    verifier: &TokenVerifier,
    headers: &HeaderMap,
    path: &str,
    now_unix: u64,
) -> ApiResult<()> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                Code::Unauthenticated,
                "media needs a playback token: send Authorization: Bearer <token> \
                 (edges forward the viewer's)",
            )
        })?;
    let late = now_unix.saturating_sub(EXPIRY_GRACE_SECS);
    verifier
        .verify(token.trim(), path, late)
        .map(drop)
        .map_err(|rejection| ApiError::new(Code::Forbidden, rejection.to_string()))
}

pub async fn serve(
    State(ctx): State<Ctx>,
    Path((title_id, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if !ids::is_valid_id(&title_id) || !is_safe_path(&path) {
        return Err(ApiError::not_found("media"));
    }
    let full_path = format!("/media/{title_id}/{path}");
    let now = ids::now_unix();
    let accepted = ctx.read(|tx| ctx.keys.verifier(tx, now))?;
    authorize(&accepted, &headers, &full_path, now)?;
    let blob = package_file(&ctx, &title_id, &path).await?;
    let (ctype, cache) = headers_for(&path);
    let headers = [
        (CONTENT_TYPE, ctype.to_owned()),
        (CACHE_CONTROL, cache.to_owned()),
        (CONTENT_LENGTH, blob.size.to_string()),
    ];
    Ok((headers, Body::from_stream(blob.stream)).into_response())
}

/// A packaged file of `title_id` (`path` under its media directory), copied from another
/// cluster member first when this node lacks it.
pub async fn package_file(ctx: &Ctx, title_id: &str, path: &str) -> ApiResult<BlobReader> {
    let blob_path = format!("media/{title_id}/{path}");
    let read = || async {
        ctx.blobs
            .get(&blob_path)
            .await
            .map_err(|e| ApiError::internal("media read", e))
    };
    let blob = match read().await? {
        Some(blob) => Some(blob),
        None => {
            fetch_from_peer(ctx, title_id, path).await?;
            read().await?
        }
    };
    blob.ok_or_else(|| ApiError::not_found("media"))
}

/// A packaged file this node lacks (packaged elsewhere in the cluster): fetched from a member,
/// checked against the package's file list.
async fn fetch_from_peer(ctx: &Ctx, title_id: &str, path: &str) -> ApiResult<()> {
    let Some((job_id, rel)) = path.split_once('/').filter(|(j, _)| ids::is_valid_id(j)) else {
        return Err(ApiError::not_found("media"));
    };
    let hash = ctx
        .peer_blobs
        .media_hash(&ctx.blobs, title_id, job_id, rel)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "no file list for a missing media file");
            ApiError::not_found("media")
        })?
        .ok_or_else(|| ApiError::not_found("media"))?;
    let blob_path = format!("media/{title_id}/{path}");
    ctx.peer_blobs
        .ensure_local(&ctx.blobs, &blob_path, &hash)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "media file on no reachable node");
            ApiError::not_found("media")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_short_lived_and_segments_immutable() {
        assert_eq!(headers_for("manifest.mpd"), ("application/dash+xml", SHORT));
        assert_eq!(
            headers_for("video/720p/playlist.m3u8"),
            ("application/vnd.apple.mpegurl", SHORT)
        );
        assert_eq!(
            headers_for("video/720p/seg-1.m4s"),
            ("video/iso.segment", IMMUTABLE)
        );
        assert_eq!(headers_for("audio/init.mp4"), ("video/mp4", IMMUTABLE));
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        h
    }

    #[test]
    fn media_needs_a_forwarded_token_for_its_title_not_long_expired() {
        use marquee_proto::token::TokenSigner;
        use marquee_proto::v1::PlaybackClaims;
        let pkcs8 = TokenSigner::generate_pkcs8().unwrap();
        let signer = TokenSigner::from_pkcs8("k1", &pkcs8).unwrap();
        let mut verifier = TokenVerifier::default();
        verifier.add_key("k1", signer.public_key());
        let token = signer.sign(PlaybackClaims {
            path_prefix: "/media/aa/".into(),
            expires_at_unix: 1_000,
            ..Default::default()
        });
        let path = "/media/aa/video/720p/seg-1.m4s";
        let check = |headers: &HeaderMap, path: &str, now: u64| {
            authorize(&verifier, headers, path, now).map_err(|e| e.code)
        };
        assert_eq!(
            check(&HeaderMap::new(), path, 10),
            Err(Code::Unauthenticated)
        );
        assert_eq!(check(&bearer(&token), path, 10), Ok(()));
        // Just expired at the edge's clock: still fine here (skew, slow fill)...
        assert_eq!(check(&bearer(&token), path, 1_000 + 60), Ok(()));
        // ...but not long expired.
        let late = 1_000 + EXPIRY_GRACE_SECS;
        assert_eq!(check(&bearer(&token), path, late), Err(Code::Forbidden));
        assert_eq!(
            check(&bearer(&token), "/media/bb/manifest.mpd", 10),
            Err(Code::Forbidden)
        );
        assert_eq!(check(&bearer("forged"), path, 10), Err(Code::Forbidden));
    }

    #[test]
    fn unsafe_paths_are_refused() {
        assert!(is_safe_path("video/720p/seg-1.m4s"));
        for bad in ["", "../x", "a/../b", "a//b", "./a", "a/b/", "a\\b", "a%2e"] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }
}
