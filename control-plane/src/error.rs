//! Errors the HTTP API answers, mapped to status codes in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::registry::HeartbeatError;

/// Every failure a client can cause. All are the client's to fix (4xx) and carry a plain-text
/// reason; nothing here is a server fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("bad heartbeat: {0}")]
    Heartbeat(#[from] HeartbeatError),
    #[error("client_ip {0:?} is not an IPv4 or IPv6 address")]
    BadClientIp(String),
    #[error("client_ip or region is required")]
    NoClientLocation,
    #[error("limit {0:?} must be a whole number from 1 to {max}", max = crate::server::MAX_LIMIT)]
    BadLimit(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Heartbeat(_)
            | Self::BadClientIp(_)
            | Self::NoClientLocation
            | Self::BadLimit(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// Stable short code for logs and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Heartbeat(_) => "bad_heartbeat",
            Self::BadClientIp(_) => "bad_client_ip",
            Self::NoClientLocation => "no_client_location",
            Self::BadLimit(_) => "bad_limit",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::debug!(code = self.code(), reason = %self, "request refused");
        (self.status(), format!("{self}\n")).into_response()
    }
}
