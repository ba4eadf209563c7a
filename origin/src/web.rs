//! The web app: files from `--web-dir`, with SPA fallback to `index.html` for page routes.
//! Unknown `/api/…` and `/media/…` paths get a JSON 404 instead of the app.

use std::path::PathBuf;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::{ApiError, Code};

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marquee</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>The Marquee web app is not built</h1>
<p>The origin is running and its API answers under <code>/api/v1</code>
(see <a href="/api/openapi.json">/api/openapi.json</a>), but there is no built web app to serve.</p>
<p>Build it from the repository root, then reload this page:</p>
<pre>npm ci --prefix origin/web &amp;&amp; npm run build --prefix origin/web</pre>
<p>or point the origin at a built app with <code>--web-dir DIR</code>.</p>
</body></html>
"#;

fn is_reserved(path: &str) -> bool {
    ["/api/", "/media/"].iter().any(|p| path.starts_with(p))
        || path == "/api"
        || path == "/healthz"
        || path == "/metrics"
}

/// Router fallback: the app for page GETs, JSON errors for everything else.
pub async fn fallback(web_dir: PathBuf, req: Request) -> Response {
    if is_reserved(req.uri().path()) {
        return ApiError::new(Code::NotFound, "no such API route").into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return ApiError::new(Code::NotFound, "no such route").into_response();
    }
    let index = web_dir.join("index.html");
    if !index.is_file() {
        return Html(NOT_BUILT).into_response();
    }
    let cache_control = cache_control(req.uri().path());
    let serve = ServeDir::new(&web_dir).fallback(ServeFile::new(index));
    match serve.oneshot(req).await {
        Ok(mut resp) => {
            if resp.status().is_success() {
                resp.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(cache_control),
                );
            }
            resp.into_response()
        }
        Err(e) => ApiError::internal("web dir", e).into_response(),
    }
}

/// How long caches (the edges, browsers) may keep a file of the app: the bundler names every
/// asset by its content hash, so those never change; the page itself must be asked again so
/// a new release reaches viewers at once.
fn cache_control(path: &str) -> &'static str {
    if path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_kept_a_year_and_pages_are_asked_again() {
        assert_eq!(
            cache_control("/assets/index-3f2a9c.js"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control("/"), "no-cache");
        assert_eq!(cache_control("/titles/t1"), "no-cache");
    }

    #[test]
    fn api_and_media_paths_never_fall_back_to_the_app() {
        assert!(is_reserved("/api/v1/nope"));
        assert!(is_reserved("/media/x/y"));
        assert!(!is_reserved("/titles/abc"));
        assert!(!is_reserved("/"));
    }
}
