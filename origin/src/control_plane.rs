//! Origin's calls to the control-plane (over mutual TLS with this node's certificate): one
//! error type and one way to read answers, for steering, the fleet page, purges and token keys.

use std::time::Duration;

use crate::error::{ApiError, Code};

/// How long a call may take unless it waits on purpose (a long poll).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum CpError {
    #[error("no control-plane is configured (--control-plane)")]
    NotConfigured,
    #[error("the control-plane is unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// A 4xx/5xx answer; `message` is the control-plane's reason when it gave one.
    #[error("the control-plane answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("the control-plane's answer is not what origin expects: {0}")]
    Undecodable(String),
}

impl CpError {
    /// The 503 a viewer or admin gets when the control-plane could not be asked; the detail
    /// goes to the log.
    pub fn unavailable(self, doing: &str) -> ApiError {
        tracing::warn!(error = %self, doing, "control-plane call failed");
        ApiError::new(
            Code::Unavailable,
            format!("the control-plane could not be asked ({doing}); try again shortly"),
        )
    }
}

/// The body of a successful answer; a refusal becomes [`CpError::Refused`] carrying the
/// control-plane's `error.message` (or the start of its body).
async fn success(resp: reqwest::Response) -> Result<bytes::Bytes, CpError> {
    let status = resp.status();
    let body = resp.bytes().await?;
    if status.is_success() {
        return Ok(body);
    }
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
    Err(CpError::Refused {
        status: status.as_u16(),
        message,
    })
}

/// A JSON answer.
pub async fn json<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T, CpError> {
    let body = success(resp).await?;
    serde_json::from_slice(&body).map_err(|e| CpError::Undecodable(e.to_string()))
}

/// A protobuf answer.
pub async fn protobuf<T: prost::Message + Default>(resp: reqwest::Response) -> Result<T, CpError> {
    let body = success(resp).await?;
    T::decode(body).map_err(|e| CpError::Undecodable(e.to_string()))
}
