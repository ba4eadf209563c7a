//! The parts of Stripe's objects the adapter reads (Stripe adds fields freely; unknown ones
//! are ignored).

use serde::Deserialize;

use super::super::gateway::GatewayError;
use super::super::state::{ChargeResult, PaymentMethod};

#[derive(Debug, Deserialize)]
pub struct Customer {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct PaymentMethodObject {
    pub id: String,
    pub card: Option<Card>,
}

#[derive(Debug, Deserialize)]
pub struct Card {
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

impl PaymentMethodObject {
    pub fn shown(self) -> Result<PaymentMethod, GatewayError> {
        let card = self.card.ok_or_else(|| GatewayError::Refused {
            code: "not_a_card".into(),
            message: "Marquee takes cards only".into(),
        })?;
        Ok(PaymentMethod {
            id: self.id,
            brand: card.brand,
            last4: card.last4,
            exp_month: card.exp_month,
            exp_year: card.exp_year,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub status: String,
    pub next_action: Option<NextAction>,
    pub last_payment_error: Option<StripeError>,
    #[serde(default)]
    pub metadata: std::collections::HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct NextAction {
    pub redirect_to_url: Option<RedirectToUrl>,
}

#[derive(Debug, Deserialize)]
pub struct RedirectToUrl {
    pub url: String,
}

impl PaymentIntent {
    /// What this intent's status means for the charge.
    pub fn result(self) -> Result<ChargeResult, GatewayError> {
        match self.status.as_str() {
            "succeeded" => Ok(ChargeResult::Succeeded {
                payment_id: self.id,
            }),
            "requires_action" => {
                let url = self
                    .next_action
                    .and_then(|a| a.redirect_to_url)
                    .map(|r| r.url)
                    .ok_or_else(|| {
                        GatewayError::Unavailable(format!(
                            "payment {} asks for an action Marquee cannot show (no redirect_to_url)",
                            self.id
                        ))
                    })?;
                Ok(ChargeResult::RequiresAction {
                    payment_id: self.id,
                    url,
                })
            }
            "requires_payment_method" | "canceled" => {
                Ok(self.last_payment_error.unwrap_or_default().declined())
            }
            // processing, requires_confirmation, requires_capture: the answer comes later, by
            // webhook; the charge stays unanswered.
            other => Err(GatewayError::Unavailable(format!(
                "payment {} is {other}; its result comes by webhook",
                self.id
            ))),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ErrorEnvelope {
    pub error: StripeError,
}

#[derive(Debug, Default, Deserialize)]
pub struct StripeError {
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
}

impl StripeError {
    /// A declined card: the most specific code Stripe gave (`insufficient_funds` over
    /// `card_declined`).
    pub fn declined(self) -> ChargeResult {
        ChargeResult::Failed {
            code: self
                .decline_code
                .or(self.code)
                .unwrap_or_else(|| "card_declined".into()),
            message: self
                .message
                .unwrap_or_else(|| "the card was declined; try another card".into()),
        }
    }
}

/// A webhook event: `{"id": "evt_…", "type": "payment_intent.succeeded", "data": {"object": …}}`.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: serde_json::Value,
}
