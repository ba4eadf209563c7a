//! The leader's biller: once a second, on whichever node leads, it ticks every subscription
//! that is due by the billing clock (renewals, retries, grace, scheduled cancellations) and
//! sends the charges nobody has answered. Every node runs it; only the leader acts. What it
//! decides is replicated and every charge has a fixed idempotency key, so a new leader picks up
//! where the old one stopped and charges nothing twice.

use tokio::sync::watch;

use super::state::{self, Applied, Command};
use super::{charging, clock};
use crate::api::Ctx;
use crate::error::ApiError;

/// Accounts one round ticks at most; the rest wait a second.
const ACCOUNTS_PER_ROUND: usize = 200;
/// Unanswered charges one round sends at most.
const CHARGES_PER_ROUND: usize = 50;
/// A checkout or upgrade is sent by the request that made it; the biller takes it over only
/// when it is older than this (that request's node failed).
const ORPHANED_AFTER_SECS: u64 = 30;

pub async fn run(ctx: Ctx, stop: watch::Receiver<bool>) {
    crate::leader_rounds::every_second(&ctx, stop, "billing", || {
        let ctx = ctx.clone();
        async move { round(&ctx).await }
    })
    .await;
}

async fn round(ctx: &Ctx) -> Result<(), ApiError> {
    let now = clock::now(ctx)?;
    let due = ctx.read(|tx| state::due_accounts(tx, now, ACCOUNTS_PER_ROUND))?;
    // One account or charge that fails is logged and retried next round; it never holds up
    // the others.
    for account_id in due {
        let cmd = Command::Tick {
            account_id: account_id.clone(),
            now,
        };
        match ctx.apply(cmd).await {
            Ok(Applied::Renewals(keys)) if !keys.is_empty() => {
                tracing::info!(charges = keys.len(), "renewals due");
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(%account_id, error = %e.body().error.message, "tick failed");
            }
        }
    }
    let unanswered = ctx.read(|tx| state::unanswered(tx, CHARGES_PER_ROUND))?;
    for (key, charge) in unanswered {
        let orphaned = charge.created_at + ORPHANED_AFTER_SECS <= now;
        if (charge.purpose.off_session() || orphaned)
            && let Err(e) = charging::send(ctx, &key, &charge).await
        {
            tracing::warn!(%key, error = %e.body().error.message, "charge not sent; retrying");
        }
    }
    Ok(())
}
