//! Errors the HTTP API answers, mapped to status codes in one place. Every answer is JSON:
//! `{"error":{"code":"…","message":"…"}}`, the code stable for machines, the message for people.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::registry::HeartbeatError;
use crate::token_keys::KeyError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("bad heartbeat: {0}")]
    Heartbeat(#[from] HeartbeatError),
    #[error(
        "the client certificate names {certificate}, but the heartbeat is for edge {claimed:?}: an edge reports for itself only"
    )]
    NotThisEdge {
        certificate: String,
        claimed: String,
    },
    #[error("{who} may not {action}; only {allowed} may")]
    Forbidden {
        who: String,
        action: &'static str,
        allowed: &'static str,
    },
    #[error("no client certificate: every caller needs one issued by the deployment CA")]
    Unauthenticated,
    #[error("client_ip {0:?} is not an IPv4 or IPv6 address")]
    BadClientIp(String),
    #[error("client_ip or region is required")]
    NoClientLocation,
    #[error("limit {0:?} must be a whole number from 1 to {max}", max = crate::server::MAX_LIMIT)]
    BadLimit(String),
    #[error("{0:?} is not an edge id: use 1 to 63 lowercase letters, digits and '-'")]
    BadEdgeId(String),
    #[error("the decision could not be saved, so nothing changed: {0}")]
    NotSaved(String),
    #[error("bad purge: {0}")]
    Purge(#[from] crate::purge::PurgeError),
    #[error("the body is not the JSON this endpoint takes: {0}")]
    BadJson(String),
    #[error("after {0:?} must be the whole number of the last purge applied")]
    BadAfter(String),
    #[error("wait_ms {0:?} must be a whole number of milliseconds up to 30000")]
    BadWait(String),
    #[error(transparent)]
    TokenKey(#[from] crate::token_keys::KeyError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Heartbeat(HeartbeatError::Replayed { .. }) => StatusCode::CONFLICT,
            Self::Heartbeat(_)
            | Self::BadClientIp(_)
            | Self::NoClientLocation
            | Self::BadLimit(_)
            | Self::BadEdgeId(_)
            | Self::Purge(_)
            | Self::BadJson(_)
            | Self::BadAfter(_)
            | Self::BadWait(_) => StatusCode::BAD_REQUEST,
            Self::NotThisEdge { .. } | Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::NotSaved(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TokenKey(e) => match e {
                KeyError::BadKid(_) | KeyError::BadKey => StatusCode::BAD_REQUEST,
                KeyError::Conflict(_) => StatusCode::CONFLICT,
                KeyError::Unknown(_) => StatusCode::NOT_FOUND,
            },
        }
    }

    /// Stable short code for answers, logs and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Heartbeat(HeartbeatError::Replayed { .. }) => "heartbeat_replayed",
            Self::Heartbeat(HeartbeatError::ClockSkew { .. }) => "heartbeat_clock_skew",
            Self::Heartbeat(_) => "bad_heartbeat",
            Self::NotThisEdge { .. } => "identity_mismatch",
            Self::Forbidden { .. } => "forbidden",
            Self::Unauthenticated => "unauthenticated",
            Self::BadClientIp(_) => "bad_client_ip",
            Self::NoClientLocation => "no_client_location",
            Self::BadLimit(_) => "bad_limit",
            Self::BadEdgeId(_) => "bad_edge_id",
            Self::NotSaved(_) => "not_saved",
            Self::Purge(_) => "bad_purge",
            Self::BadJson(_) => "bad_json",
            Self::BadAfter(_) => "bad_after",
            Self::BadWait(_) => "bad_wait",
            Self::TokenKey(e) => match e {
                KeyError::BadKid(_) | KeyError::BadKey => "bad_token_key",
                KeyError::Conflict(_) => "token_key_conflict",
                KeyError::Unknown(_) => "unknown_token_key",
            },
        }
    }
}

/// A JSON request body, or 400 `bad_json` saying what is wrong with it.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadJson(e.to_string()))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::debug!(code = self.code(), reason = %self, "request refused");
        let body = serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string() }
        });
        (self.status(), axum::Json(body)).into_response()
    }
}
