//! The sandbox gateway's ledger, replicated like everything else, so the sandbox keeps a real
//! gateway's promise across a failover: a charge key asked again gets the first answer and
//! charges nothing more.

use marquee_billing::Money;
use marquee_billing::cards::{Behaviour, DeclineCode};
use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table};

/// Payment method id → the saved test card.
const CARDS: Table<SavedCard> = Table::new("sandbox_cards");
/// Charge key → the payment made for it.
const PAYMENTS: Table<Payment> = Table::new("sandbox_payments");
/// Payment id → its charge key (for the challenge page).
const BY_PAYMENT: Table<String> = Table::new("sandbox_payments_by_id");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCard {
    pub behaviour: Behaviour,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
    /// Passed a 3-D Secure challenge once: later charges while the holder is away succeed
    /// (as Stripe's test card 4000 0025 0000 3155 does once set up).
    pub authenticated: bool,
    /// Payments that went through, for cards that decline after the first.
    pub succeeded: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub key: String,
    pub payment_method: String,
    pub amount: Money,
    pub status: PaymentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Succeeded,
    Declined(DeclineCode),
    AwaitingChallenge,
    ChallengeFailed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    SaveCard {
        id: String,
        card: SavedCard,
    },
    /// Charges `amount` to the card once per `key`.
    Charge {
        key: String,
        payment_id: String,
        payment_method: String,
        amount: Money,
        off_session: bool,
    },
    /// The holder passed (or failed) the challenge of payment `payment_id`.
    Challenge {
        payment_id: String,
        passed: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Saved,
    Payment(Payment),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("no such payment method")]
    UnknownCard,
    #[error("no such payment")]
    UnknownPayment,
    #[error("this payment is not waiting for a challenge")]
    NotAwaitingChallenge,
}

pub fn apply(
    tx: &WriteTransaction,
    cmd: &Command,
) -> Result<Result<Applied, Rejection>, StoreError> {
    match cmd {
        Command::SaveCard { id, card } => {
            CARDS.put(tx, id.as_bytes(), card)?;
            Ok(Ok(Applied::Saved))
        }
        Command::Charge {
            key,
            payment_id,
            payment_method,
            amount,
            off_session,
        } => {
            if let Some(p) = PAYMENTS.get(tx, key.as_bytes())? {
                return Ok(Ok(Applied::Payment(p)));
            }
            let Some(mut card) = CARDS.get(tx, payment_method.as_bytes())? else {
                return Ok(Err(Rejection::UnknownCard));
            };
            let status = match card.behaviour {
                Behaviour::Succeeds => PaymentStatus::Succeeded,
                Behaviour::Declines(code) => PaymentStatus::Declined(code),
                Behaviour::RequiresChallenge if *off_session && card.authenticated => {
                    PaymentStatus::Succeeded
                }
                Behaviour::RequiresChallenge => PaymentStatus::AwaitingChallenge,
                Behaviour::DeclinesAfterFirst if card.succeeded == 0 => PaymentStatus::Succeeded,
                Behaviour::DeclinesAfterFirst => PaymentStatus::Declined(DeclineCode::CardDeclined),
            };
            if status == PaymentStatus::Succeeded {
                card.succeeded += 1;
                CARDS.put(tx, payment_method.as_bytes(), &card)?;
            }
            let payment = Payment {
                id: payment_id.clone(),
                key: key.clone(),
                payment_method: payment_method.clone(),
                amount: *amount,
                status,
            };
            PAYMENTS.put(tx, key.as_bytes(), &payment)?;
            BY_PAYMENT.put(tx, payment_id.as_bytes(), key)?;
            Ok(Ok(Applied::Payment(payment)))
        }
        Command::Challenge { payment_id, passed } => {
            let Some(key) = BY_PAYMENT.get(tx, payment_id.as_bytes())? else {
                return Ok(Err(Rejection::UnknownPayment));
            };
            let Some(mut payment) = PAYMENTS.get(tx, key.as_bytes())? else {
                return Ok(Err(Rejection::UnknownPayment));
            };
            if payment.status != PaymentStatus::AwaitingChallenge {
                return Ok(Err(Rejection::NotAwaitingChallenge));
            }
            payment.status = if *passed {
                PaymentStatus::Succeeded
            } else {
                PaymentStatus::ChallengeFailed
            };
            if *passed && let Some(mut card) = CARDS.get(tx, payment.payment_method.as_bytes())? {
                card.authenticated = true;
                card.succeeded += 1;
                CARDS.put(tx, payment.payment_method.as_bytes(), &card)?;
            }
            PAYMENTS.put(tx, key.as_bytes(), &payment)?;
            Ok(Ok(Applied::Payment(payment)))
        }
    }
}

pub fn card(tx: &impl Reads, id: &str) -> Result<Option<SavedCard>, StoreError> {
    CARDS.get(tx, id.as_bytes())
}

pub fn payment_by_id(tx: &impl Reads, payment_id: &str) -> Result<Option<Payment>, StoreError> {
    match BY_PAYMENT.get(tx, payment_id.as_bytes())? {
        Some(key) => PAYMENTS.get(tx, key.as_bytes()),
        None => Ok(None),
    }
}

/// Every payment made for keys starting with `prefix` (tests count charges with it).
#[cfg(test)]
pub fn payments(tx: &impl Reads, prefix: &str) -> Result<Vec<Payment>, StoreError> {
    Ok(PAYMENTS
        .prefix(tx, prefix.as_bytes(), false, 10_000)?
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}
