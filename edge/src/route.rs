//! Where a request goes, decided from its method and path alone (no I/O).
//!
//! - `GET /healthz`, `GET /metrics`: answered by the edge itself.
//! - `OPTIONS` on media: CORS preflight, answered by the edge (a page on another host may
//!   play from it).
//! - `GET|HEAD /t/<token>/<path>`: token-gated; `<path>` is what origin is asked for and what
//!   the cache is keyed on, so the token never reaches origin nor the cache key.
//! - `/media/...` without a token: 403 `token_missing` (a player that lost its token should
//!   be told so, not sent a confusing 404).
//! - `/api/...`, any method: passed through to origin, never cached, rate-limited per client,
//!   so a browser needs this one host for the API too.
//! - any other `GET|HEAD`: the web app from origin, cached as origin says (hashed assets for a
//!   year, the page itself revalidated); other methods there are 405.

use http::Method;
use marquee_proto::token::{TokenRejection, split_token_path};

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    Metrics,
    Preflight,
    /// Origin's API, passed through.
    Api,
    /// The web app's files and pages, cached.
    Web,
    /// Token-gated media: the token still has to be verified against `path`.
    Gated {
        token: &'a str,
        path: &'a str,
    },
    /// Refused before any verification.
    Refuse(Refusal),
}

/// A refusal with a stable code, mapped to a status in [`Refusal::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Token(TokenRejection),
    NotFound,
    MethodNotAllowed,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Self::Token(_) => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Token(r) => r.code(),
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::Token(r) => r.to_string(),
            Self::NotFound => "this edge serves only /t/<token>/media/... paths".to_owned(),
            Self::MethodNotAllowed => {
                "media and the web app are read-only: use GET or HEAD (the API is under /api/)"
                    .to_owned()
            }
        }
    }

    /// `{"error":{"code":"...","message":"..."}}`, the shape every Marquee service answers.
    pub fn json_body(&self) -> String {
        format!(
            "{{\"error\":{{\"code\":\"{}\",\"message\":\"{}\"}}}}",
            self.code(),
            json_escape(&self.message())
        )
    }
}

/// Classifies a request. `path` is the URI path without the query.
pub fn classify<'a>(method: &Method, path: &'a str) -> Route<'a> {
    if path == "/api" || path.starts_with("/api/") {
        return Route::Api;
    }
    if method == Method::OPTIONS {
        return Route::Preflight;
    }
    let readable = method == Method::GET || method == Method::HEAD;
    match path {
        "/healthz" if readable => return Route::Health,
        "/metrics" if readable => return Route::Metrics,
        _ => {}
    }
    if path.starts_with("/t/") {
        if !readable {
            return Route::Refuse(Refusal::MethodNotAllowed);
        }
        return match split_token_path(path) {
            Ok((token, rest)) => Route::Gated { token, path: rest },
            Err(r) => Route::Refuse(Refusal::Token(r)),
        };
    }
    if path.starts_with("/media/") {
        return Route::Refuse(Refusal::Token(TokenRejection::Missing));
    }
    if !readable {
        return Route::Refuse(Refusal::MethodNotAllowed);
    }
    if !path.starts_with('/') || path.split('/').any(|s| s == "..") {
        return Route::Refuse(Refusal::NotFound);
    }
    Route::Web
}

/// The path with its token replaced, for logs: a playback token is a bearer credential.
pub fn redact_token(path: &str) -> String {
    match split_token_path(path) {
        Ok((_, rest)) => format!("/t/<token>{rest}"),
        Err(_) => path.to_owned(),
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_paths_are_split_and_the_token_kept_out_of_the_upstream_path() {
        let r = classify(&Method::GET, "/t/abc/media/t1/video/720p/seg-1.m4s");
        assert_eq!(
            r,
            Route::Gated {
                token: "abc",
                path: "/media/t1/video/720p/seg-1.m4s"
            }
        );
        let r = classify(&Method::HEAD, "/t/abc/media/t1/manifest.mpd");
        assert!(matches!(
            r,
            Route::Gated {
                path: "/media/t1/manifest.mpd",
                ..
            }
        ));
    }

    #[test]
    fn own_endpoints_and_preflight() {
        assert_eq!(classify(&Method::GET, "/healthz"), Route::Health);
        assert_eq!(classify(&Method::GET, "/metrics"), Route::Metrics);
        assert_eq!(classify(&Method::OPTIONS, "/t/x/media/a"), Route::Preflight);
    }

    #[test]
    fn media_without_token_is_403_missing() {
        let r = classify(&Method::GET, "/media/t1/manifest.mpd");
        assert_eq!(r, Route::Refuse(Refusal::Token(TokenRejection::Missing)));
        let Route::Refuse(refusal) = r else {
            unreachable!()
        };
        assert_eq!(refusal.status(), 403);
        assert_eq!(refusal.code(), "token_missing");
        assert_eq!(
            classify(&Method::GET, "/t/abc"),
            Route::Refuse(Refusal::Token(TokenRejection::Missing))
        );
    }

    #[test]
    fn the_api_passes_with_any_method_and_the_web_app_is_read_only() {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert_eq!(classify(&method, "/api/v1/titles"), Route::Api, "{method}");
        }
        assert_eq!(classify(&Method::GET, "/api"), Route::Api);
        assert_eq!(classify(&Method::GET, "/"), Route::Web);
        assert_eq!(classify(&Method::HEAD, "/titles/t1"), Route::Web);
        assert_eq!(classify(&Method::GET, "/assets/index-3f2a.js"), Route::Web);
        assert_eq!(
            classify(&Method::POST, "/titles/t1"),
            Route::Refuse(Refusal::MethodNotAllowed)
        );
        assert_eq!(
            classify(&Method::GET, "/assets/../secret"),
            Route::Refuse(Refusal::NotFound)
        );
        // "/apixyz" is a page, not the API.
        assert_eq!(classify(&Method::GET, "/apixyz"), Route::Web);
    }

    #[test]
    fn logs_never_see_the_token() {
        assert_eq!(
            redact_token("/t/SECRET/media/t1/x.m4s"),
            "/t/<token>/media/t1/x.m4s"
        );
        assert_eq!(redact_token("/media/t1/x.m4s"), "/media/t1/x.m4s");
    }

    #[test]
    fn writes_are_refused() {
        let r = classify(&Method::POST, "/t/abc/media/t1/x");
        assert_eq!(r, Route::Refuse(Refusal::MethodNotAllowed));
        let Route::Refuse(refusal) = r else {
            unreachable!()
        };
        assert_eq!(refusal.status(), 405);
    }

    #[test]
    fn error_body_is_json_with_code_and_escaped_message() {
        let body = Refusal::Token(TokenRejection::UnknownKey("a\"b\n".into())).json_body();
        let v: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(v["error"]["code"], "token_unknown_key");
        let message = v["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("unknown key id") && message.contains("a\\\"b\\n"),
            "{message}"
        );
    }
}
