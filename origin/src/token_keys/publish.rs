//! Origin's side of token-key distribution: publishing keys to the control-plane, waiting until
//! every live edge holds one, retiring the replaced one; and a background task that keeps the
//! control-plane's set in step with the replicated keys.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tokio::sync::watch;

use super::state;
use crate::api::Ctx;
use crate::control_plane::{self, CALL_TIMEOUT, CpError};
use crate::ids::now_unix;

/// How often the control-plane's set is brought in step (a restarted control-plane without
/// its state, or a retirement that failed to send, is caught up by then).
const RESYNC_EVERY: Duration = Duration::from_secs(60);

/// The control-plane's view of one key (`/v1/token-keys/{kid}`).
#[derive(Debug, Deserialize)]
pub struct KeyStatus {
    pub holding: Vec<String>,
    pub missing: Vec<String>,
    pub ready: bool,
}

/// `PUT /v1/token-keys/{kid}`: idempotent for the same key.
pub async fn publish(
    ctx: &Ctx,
    cp: &str,
    kid: &str,
    public_key: &[u8],
) -> Result<KeyStatus, CpError> {
    let body = serde_json::json!({ "public_key": URL_SAFE_NO_PAD.encode(public_key) });
    let resp = ctx
        .control_plane
        .put(format!("{cp}/v1/token-keys/{kid}"))
        .timeout(CALL_TIMEOUT)
        .json(&body)
        .send()
        .await?;
    control_plane::json(resp).await
}

/// Waits up to `wait` (at most 30 s) for every live edge to hold `kid`.
pub async fn wait_ready(
    ctx: &Ctx,
    cp: &str,
    kid: &str,
    wait: Duration,
) -> Result<KeyStatus, CpError> {
    let resp = ctx
        .control_plane
        .get(format!("{cp}/v1/token-keys/{kid}"))
        .query(&[("wait_ms", wait.as_millis().to_string())])
        .timeout(wait + CALL_TIMEOUT)
        .send()
        .await?;
    control_plane::json(resp).await
}

/// Edges stop accepting `kid` at `at_unix`.
pub async fn retire(ctx: &Ctx, cp: &str, kid: &str, at_unix: u64) -> Result<(), CpError> {
    let resp = ctx
        .control_plane
        .post(format!("{cp}/v1/token-keys/{kid}/retire"))
        .timeout(CALL_TIMEOUT)
        .json(&serde_json::json!({ "at_unix": at_unix }))
        .send()
        .await?;
    control_plane::json::<serde_json::Value>(resp)
        .await
        .map(drop)
}

/// One pass: every key still accepted is published, every replaced one's retirement sent.
async fn resync(ctx: &Ctx, cp: &str) -> Result<(), String> {
    let now = now_unix();
    let (rotated, active) = ctx
        .read(|tx| Ok((state::all(tx)?, state::active(tx)?)))
        .map_err(|e| e.to_string())?;
    let file = ctx.keys.file_key();
    if active.is_none() {
        publish(ctx, cp, file.kid(), &file.public_key())
            .await
            .map_err(|e| e.to_string())?;
    }
    for (kid, key) in rotated {
        if key.retire_at.is_some_and(|at| at <= now) {
            continue;
        }
        let public = URL_SAFE_NO_PAD
            .decode(&key.public_key)
            .map_err(|e| format!("token key {kid}: {e}"))?;
        publish(ctx, cp, &kid, &public)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(at) = key.retire_at {
            retire(ctx, cp, &kid, at).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Keeps the control-plane's key set in step until `stop` turns true.
pub async fn run(ctx: Ctx, mut stop: watch::Receiver<bool>) {
    let Some(cp) = ctx.config.control_plane.clone() else {
        return;
    };
    let mut failing = false;
    loop {
        match resync(&ctx, &cp).await {
            Ok(()) if failing => {
                tracing::info!("token keys are in step with the control-plane again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "token keys not synced with the control-plane; retrying");
                }
                failing = true;
            }
        }
        // Retry sooner while failing: edges cannot check tokens of a key they never got.
        let next = if failing {
            Duration::from_secs(5)
        } else {
            RESYNC_EVERY
        };
        tokio::select! {
            _ = tokio::time::sleep(next) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
