//! Sending a recorded charge to the gateway and replicating its answer: the one path shared by
//! checkout, upgrades, the sandbox's challenge page and the leader's renewals.

use super::clock;
use super::gateway::{Gateway, GatewayError};
use super::state::{Applied, Charge, ChargeResult, Command, Rejection};
use crate::api::Ctx;
use crate::error::{ApiError, ApiResult, Code};

/// Charges `charge` (recorded under `key`) and applies the answer; the charge as it stands
/// after. A gateway that cannot be reached leaves it unanswered for the biller to retry.
pub async fn send(ctx: &Ctx, key: &str, charge: &Charge) -> ApiResult<Charge> {
    // No card on file is every gateway's "declined", answered without asking one.
    let Some(method) = charge.payment_method.as_deref() else {
        let result = ChargeResult::Failed {
            code: "no_payment_method".into(),
            message: "there is no card on file; add one on the account page".into(),
        };
        return answer(ctx, key, result, None)
            .await
            .map(|(charge, _)| charge);
    };
    let result = match ctx.gateway.charge(ctx, key, charge, method).await {
        Ok(r) => r,
        Err(GatewayError::Refused { code, message }) => ChargeResult::Failed { code, message },
        Err(GatewayError::Unavailable(detail)) => {
            tracing::warn!(%key, %detail, "payment gateway unavailable; the charge stays unanswered");
            return Err(ApiError::new(
                Code::GatewayUnavailable,
                "the payment service did not answer; nothing was charged twice, try again shortly",
            )
            .retry_after(5));
        }
    };
    answer(ctx, key, result, None)
        .await
        .map(|(charge, _)| charge)
}

/// Replicates the gateway's `result` for charge `key`: the charge after, and whether this
/// answer changed it. An answer that came already (the gateway's event and our own call both
/// report it, or an event is replayed) changes nothing.
pub async fn answer(
    ctx: &Ctx,
    key: &str,
    result: ChargeResult,
    event: Option<String>,
) -> ApiResult<(Charge, bool)> {
    let cmd = Command::Answer {
        key: key.to_owned(),
        result,
        event,
        now: clock::now(ctx)?,
    };
    // No disk-space check: the money has moved, and recording that must not be refused.
    match ctx.raft.write(cmd.into()).await {
        Ok(crate::state::Outcome::Billing(Ok(Applied::Charge(c)))) => Ok((*c, true)),
        Ok(crate::state::Outcome::Billing(Err(
            Rejection::AlreadyAnswered | Rejection::DuplicateEvent(_),
        ))) => Ok((stored(ctx, key).await?, false)),
        Ok(crate::state::Outcome::Billing(Err(r))) => Err(r.into()),
        Ok(_) => Err(ApiError::internal(
            "billing answer",
            "outcome of another domain",
        )),
        Err(e) => Err(crate::api::write_error(e)),
    }
}

async fn stored(ctx: &Ctx, key: &str) -> ApiResult<Charge> {
    ctx.read_checked(|tx| super::state::charge(tx, key))
        .await?
        .ok_or_else(|| ApiError::not_found("charge"))
}
