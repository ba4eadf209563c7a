//! `GET /media/{title_id}/{*path}`: packaged media streamed from the blob store.
//!
//! Segments never change once written, so edges may cache them forever; manifests get a short
//! lifetime so a re-packaged title shows up within a minute.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::api::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::ids;

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const SHORT: &str = "public, max-age=60";

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

pub async fn serve(
    State(ctx): State<Ctx>,
    Path((title_id, path)): Path<(String, String)>,
) -> ApiResult<Response> {
    if !ids::is_valid_id(&title_id) || !is_safe_path(&path) {
        return Err(ApiError::not_found("media"));
    }
    let blob = ctx
        .blobs
        .get(&format!("media/{title_id}/{path}"))
        .await
        .map_err(|e| ApiError::internal("media read", e))?
        .ok_or_else(|| ApiError::not_found("media"))?;
    let (ctype, cache) = headers_for(&path);
    let headers = [
        (CONTENT_TYPE, ctype.to_owned()),
        (CACHE_CONTROL, cache.to_owned()),
        (CONTENT_LENGTH, blob.size.to_string()),
    ];
    Ok((headers, Body::from_stream(blob.stream)).into_response())
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

    #[test]
    fn unsafe_paths_are_refused() {
        assert!(is_safe_path("video/720p/seg-1.m4s"));
        for bad in ["", "../x", "a/../b", "a//b", "./a", "a/b/", "a\\b", "a%2e"] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }
}
