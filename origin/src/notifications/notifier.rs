//! The leader's notifier: once a second, on whichever node leads, it announces due releases,
//! starts a digest round when one is due, and sends the outbox's emails. Every node runs it;
//! only the leader acts, and what it does is replicated, so a new leader carries on where the
//! old one stopped without repeating a notification (ids) or an email (claims).

use std::sync::Arc;

use tokio::sync::watch;

use super::drafts::{self, Audience};
use super::mailer::Mailer;
use super::state::{self, Applied, Command, Delivery, Notification};
use crate::api::Ctx;
use crate::error::ApiError;
use crate::ids::{now_unix, random_hex};

/// Notifications one replicated command carries at most.
const CHUNK: usize = 500;
/// Releases one round announces at most.
const RELEASES_PER_ROUND: usize = 64;
/// Emails one round sends at most.
const MAILS_PER_ROUND: usize = 50;
/// Digest rounds start on Monday 09:00 UTC (the epoch was a Thursday).
const DIGEST_OFFSET_SECS: u64 = 4 * 86_400 + 9 * 3_600;

pub async fn run(ctx: Ctx, mailer: Option<Arc<Mailer>>, stop: watch::Receiver<bool>) {
    let stopping = stop.clone();
    crate::leader_rounds::every_second(&ctx, stop, "notification", || {
        let (ctx, mailer, stopping) = (ctx.clone(), mailer.clone(), stopping.clone());
        async move { round(&ctx, mailer.as_deref(), &stopping).await }
    })
    .await;
}

async fn round(
    ctx: &Ctx,
    mailer: Option<&Mailer>,
    stop: &watch::Receiver<bool>,
) -> Result<(), ApiError> {
    let now = now_unix();
    announce(ctx, mailer.is_some(), now).await?;
    digest(ctx, mailer.is_some(), now).await?;
    if let Some(mailer) = mailer {
        send_mail(ctx, mailer, now, stop).await?;
    }
    Ok(())
}

/// Drafts on a blocking thread: it reads every profile's taste.
async fn draft<T: Send + 'static>(
    ctx: &Ctx,
    f: impl FnOnce(&redb::ReadTransaction, &Ctx) -> Result<T, crate::raft::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let c = ctx.clone();
    tokio::task::spawn_blocking(move || c.read(|tx| f(tx, &c)))
        .await
        .map_err(|e| ApiError::internal("drafting notifications", e))?
}

async fn announce(ctx: &Ctx, mail: bool, now: u64) -> Result<(), ApiError> {
    let due = ctx.read(|tx| state::due_releases(tx, now, RELEASES_PER_ROUND))?;
    if due.is_empty() {
        return Ok(());
    }
    let announced = due.iter().map(|(k, _)| k.clone()).collect();
    let notes = draft(ctx, move |tx, _| {
        drafts::releases(tx, &Audience::read(tx)?, &due, now)
    })
    .await?;
    let last = Delivery {
        announced,
        ..Delivery::default()
    };
    deliver(ctx, notes, mail, last).await
}

async fn digest(ctx: &Ctx, mail: bool, now: u64) -> Result<(), ApiError> {
    let every = ctx.config.digest_every_secs;
    let current = now.saturating_sub(DIGEST_OFFSET_SECS) / every;
    let done = ctx.read(state::digest_round)?;
    let last = Delivery {
        digest_round: Some(current),
        ..Delivery::default()
    };
    match digest_step(done, current) {
        DigestStep::Start => deliver(ctx, Vec::new(), mail, last).await,
        DigestStep::Draft => {
            let notes = draft(ctx, move |tx, c| {
                let trained = c.recommendations.current();
                drafts::digest(tx, &Audience::read(tx)?, trained.as_deref(), current, now)
            })
            .await?;
            deliver(ctx, notes, mail, last).await
        }
        DigestStep::Wait => Ok(()),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum DigestStep {
    /// A new cluster starts counting: its first digest goes out at the next round, not now.
    Start,
    /// A round began since the last digest: draft this one (missed rounds are not caught up).
    Draft,
    Wait,
}

pub(super) fn digest_step(done: Option<u64>, current: u64) -> DigestStep {
    match done {
        None => DigestStep::Start,
        Some(r) if r < current => DigestStep::Draft,
        Some(_) => DigestStep::Wait,
    }
}

/// Replicates `notes` in chunks; the last chunk carries what the round settles, so a round cut
/// short by a failover is redone whole and its delivered notifications skipped.
async fn deliver(
    ctx: &Ctx,
    notes: Vec<Notification>,
    mail: bool,
    last: Delivery,
) -> Result<(), ApiError> {
    let salt = random_hex::<16>();
    let mut chunks: Vec<Vec<Notification>> = notes.chunks(CHUNK).map(<[_]>::to_vec).collect();
    let final_chunk = chunks.pop().unwrap_or_default();
    let mut new = 0;
    for notifications in chunks {
        let d = Delivery {
            notifications,
            mail,
            salt: salt.clone(),
            ..Delivery::default()
        };
        new += delivered(ctx.apply(Command::Deliver(Box::new(d))).await?);
    }
    let d = Delivery {
        notifications: final_chunk,
        mail,
        salt,
        ..last
    };
    new += delivered(ctx.apply(Command::Deliver(Box::new(d))).await?);
    if new > 0 {
        metrics::counter!("marquee_origin_notifications_total").increment(new as u64);
        tracing::info!(new, "notifications delivered");
    }
    Ok(())
}

fn delivered(applied: Applied) -> usize {
    match applied {
        Applied::Delivered(n) => n,
        _ => 0,
    }
}

/// Claims a batch, sends it, and settles each email. An email whose outcome could not be
/// recorded stays claimed (not sent again: at most once); one not sent because the node is
/// stopping goes back to the outbox for the next leader.
async fn send_mail(
    ctx: &Ctx,
    mailer: &Mailer,
    now: u64,
    stop: &watch::Receiver<bool>,
) -> Result<(), ApiError> {
    let ids = ctx.read(|tx| state::sendable(tx, now, MAILS_PER_ROUND))?;
    if ids.is_empty() {
        return Ok(());
    }
    let claim = Command::ClaimMail {
        ids,
        node: ctx.raft.node_id(),
        now,
    };
    let Applied::Claimed(claimed) = ctx.apply(claim).await? else {
        return Ok(());
    };
    for id in claimed {
        if *stop.borrow() {
            let back = Command::MailRetry { id, not_before: 0 };
            if let Err(e) = ctx.apply(back).await {
                tracing::warn!(error = %e.body().error.message, "could not hand an email back");
            }
            continue;
        }
        let Some(mail) = ctx.read(|tx| state::outbox_mail(tx, &id))? else {
            continue;
        };
        let done = match mailer.send(&mail).await {
            Ok(()) => {
                metrics::counter!("marquee_origin_mail_sent_total").increment(1);
                tracing::info!(notification = %id, kind = mail.notification.kind.as_str(), "email sent");
                Command::MailDone { id }
            }
            Err(f) if f.retry && mail.attempts < state::MAX_ATTEMPTS => {
                metrics::counter!("marquee_origin_mail_retries_total").increment(1);
                tracing::warn!(notification = %id, reason = %f.reason, "email not sent; will retry");
                // 1, 4, 16, 64 minutes.
                let wait = 60 * 4u64.pow(mail.attempts.saturating_sub(1));
                Command::MailRetry {
                    id,
                    not_before: now_unix() + wait,
                }
            }
            Err(f) => {
                metrics::counter!("marquee_origin_mail_failed_total").increment(1);
                tracing::warn!(notification = %id, reason = %f.reason, "email given up");
                Command::MailDone { id }
            }
        };
        if let Err(e) = ctx.apply(done).await {
            tracing::warn!(error = %e.body().error.message, "an email's outcome was not recorded; it stays claimed");
        }
    }
    let unconfirmed = ctx.read(state::unconfirmed_mail)?;
    metrics::gauge!("marquee_origin_mail_unconfirmed").set(unconfirmed as f64);
    Ok(())
}
