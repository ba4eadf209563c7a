//! The sandbox gateway: takes Stripe's published test card numbers (and no others), keeps its
//! ledger in the replicated state, and shows its own 3-D Secure challenge page.

pub mod api;
pub mod ledger;

use marquee_billing::cards::{CardNumber, DeclineCode};

use self::ledger::{Command as LedgerCommand, PaymentStatus, SavedCard};
use super::gateway::{Gateway, GatewayError};
use super::state::{Applied, Charge, ChargeResult, Command, PaymentMethod};
use crate::api::Ctx;
use crate::error::{ApiError, ApiResult, Code};
use crate::ids::random_hex;

pub struct Sandbox;

/// Where the holder passes a payment's challenge (a page origin serves).
pub fn challenge_url(payment_id: &str) -> String {
    format!("/api/v1/billing/sandbox/challenges/{payment_id}")
}

/// A card as typed into the payment form.
pub struct CardDetails<'a> {
    pub number: &'a str,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: &'a str,
}

impl Sandbox {
    /// Checks a typed test card and saves it as a payment method, as a gateway's browser
    /// library would; `today` is (year, month) on the billing clock.
    pub async fn tokenise(
        &self,
        ctx: &Ctx,
        card: &CardDetails<'_>,
        today: (u16, u8),
    ) -> ApiResult<PaymentMethod> {
        let invalid = |message: String| ApiError::new(Code::InvalidCard, message);
        let number = CardNumber::parse(card.number).map_err(|e| invalid(e.to_string()))?;
        let behaviour = number
            .sandbox_behaviour()
            .map_err(|e| invalid(e.to_string()))?;
        if !(1..=12).contains(&card.exp_month) {
            return Err(invalid("the expiry month is 1 to 12".into()));
        }
        if (card.exp_year, card.exp_month) < today {
            return Err(invalid(format!(
                "this card expired at the end of {:02}/{}",
                card.exp_month, card.exp_year
            )));
        }
        let cvc_ok =
            (3..=4).contains(&card.cvc.len()) && card.cvc.bytes().all(|b| b.is_ascii_digit());
        if !cvc_ok {
            return Err(invalid("the security code (CVC) is 3 or 4 digits".into()));
        }
        let id = format!("pm_sb_{}", random_hex::<12>());
        let saved = SavedCard {
            behaviour,
            brand: brand(card.number).into(),
            last4: number.last4().to_owned(),
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            authenticated: false,
            succeeded: 0,
        };
        let method = shown(&id, &saved);
        ctx.apply(Command::Sandbox(LedgerCommand::SaveCard {
            id,
            card: saved,
        }))
        .await?;
        Ok(method)
    }
}

/// The card network, from the number's first digit.
fn brand(typed: &str) -> &'static str {
    match typed.trim_start().as_bytes().first() {
        Some(b'4') => "visa",
        Some(b'5') | Some(b'2') => "mastercard",
        Some(b'3') => "amex",
        _ => "card",
    }
}

fn shown(id: &str, card: &SavedCard) -> PaymentMethod {
    PaymentMethod {
        id: id.to_owned(),
        brand: card.brand.clone(),
        last4: card.last4.clone(),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
    }
}

impl Gateway for Sandbox {
    async fn customer(
        &self,
        _ctx: &Ctx,
        account_id: &str,
        _email: &str,
    ) -> Result<String, GatewayError> {
        Ok(format!("cus_sb_{account_id}"))
    }

    async fn attach(
        &self,
        ctx: &Ctx,
        _customer: &str,
        id: &str,
    ) -> Result<PaymentMethod, GatewayError> {
        // Linearizable: the card may have been saved through another node a moment ago.
        let card = ctx
            .read_checked(|tx| ledger::card(tx, id))
            .await
            .map_err(|e| GatewayError::Unavailable(e.body().error.message.clone()))?;
        card.map(|c| shown(id, &c))
            .ok_or_else(|| GatewayError::Refused {
                code: "resource_missing".into(),
                message: format!("no such payment method: {id}"),
            })
    }

    async fn charge(
        &self,
        ctx: &Ctx,
        key: &str,
        charge: &Charge,
        method: &str,
    ) -> Result<ChargeResult, GatewayError> {
        let cmd = Command::Sandbox(LedgerCommand::Charge {
            key: key.to_owned(),
            payment_id: format!("pi_sb_{}", random_hex::<12>()),
            payment_method: method.to_owned(),
            amount: charge.amount,
            off_session: charge.purpose.off_session(),
        });
        let payment = match ctx.apply(cmd).await {
            Ok(Applied::Sandbox(ledger::Applied::Payment(p))) => p,
            Ok(_) => return Err(GatewayError::Unavailable("unexpected ledger answer".into())),
            Err(e) if e.code.status().is_client_error() => {
                return Err(GatewayError::Refused {
                    code: "resource_missing".into(),
                    message: e.body().error.message.clone(),
                });
            }
            Err(e) => return Err(GatewayError::Unavailable(e.body().error.message.clone())),
        };
        Ok(result_of(&payment))
    }
}

/// What a ledger payment means to origin's billing.
pub fn result_of(payment: &ledger::Payment) -> ChargeResult {
    let declined = |code: &str, message: &str| ChargeResult::Failed {
        code: code.into(),
        message: message.into(),
    };
    match payment.status {
        PaymentStatus::Succeeded => ChargeResult::Succeeded {
            payment_id: payment.id.clone(),
        },
        PaymentStatus::AwaitingChallenge => ChargeResult::RequiresAction {
            payment_id: payment.id.clone(),
            url: challenge_url(&payment.id),
        },
        PaymentStatus::Declined(DeclineCode::CardDeclined) => {
            declined("card_declined", "the card was declined; try another card")
        }
        PaymentStatus::Declined(DeclineCode::InsufficientFunds) => declined(
            "insufficient_funds",
            "the card has insufficient funds; try another card",
        ),
        PaymentStatus::ChallengeFailed => declined(
            "authentication_failed",
            "the card's bank did not confirm the payment; try again or use another card",
        ),
    }
}
