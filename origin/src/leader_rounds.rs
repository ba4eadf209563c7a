//! Work only the Raft leader does, in rounds once a second (the notifier, the biller). Every
//! node runs the loop; followers skip their turns, so whichever node leads carries on.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::api::Ctx;
use crate::error::ApiError;

/// Runs the round `round()` makes once a second while this node leads, until `stop`; a failed
/// round is logged (as `what`) and tried again a second later.
pub async fn every_second<F, R>(
    ctx: &Ctx,
    mut stop: watch::Receiver<bool>,
    what: &str,
    mut round: F,
) where
    F: FnMut() -> R,
    R: Future<Output = Result<(), ApiError>> + Send,
{
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tick.tick() => {}
        }
        let status = ctx.raft.status();
        if status.leader_id != Some(status.node_id) {
            continue;
        }
        if let Err(e) = round().await {
            tracing::warn!(error = %e.body().error.message, "{what} round failed; retrying");
        }
    }
}
