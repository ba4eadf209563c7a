//! The Stripe adapter: Stripe's HTTP API as published (form-encoded requests, bearer secret
//! key, an `Idempotency-Key` on every write), for Customers, attaching PaymentMethods and
//! PaymentIntents; and its webhooks (`webhook`). Card details never reach origin: the browser
//! turns them into a `pm_…` id with Stripe's own page.

pub mod webhook;
mod wire;

use std::time::Duration;

use reqwest::StatusCode;

use self::wire::{ErrorEnvelope, PaymentIntent, PaymentMethodObject};
use super::gateway::{Gateway, GatewayError};
use super::state::{Charge, ChargeResult, PaymentMethod};
use crate::api::Ctx;

/// Where Stripe's API lives unless the operator points elsewhere.
pub const API_URL: &str = "https://api.stripe.com";

pub struct Stripe {
    http: reqwest::Client,
    api_url: String,
    /// `sk_…`; read from its file at start, never logged.
    secret_key: String,
    /// Where Stripe sends the card holder back after a 3-D Secure page.
    return_url: String,
    /// The webhook endpoint's signing secret (`whsec_…`), never logged.
    webhook_secret: Vec<u8>,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("api_url", &self.api_url)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

impl Stripe {
    pub fn new(
        api_url: &str,
        secret_key: String,
        webhook_secret: String,
        return_url: String,
    ) -> Result<Stripe, reqwest::Error> {
        Ok(Stripe {
            webhook_secret: webhook_secret.into_bytes(),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
                .build()?,
            api_url: api_url.trim_end_matches('/').to_owned(),
            secret_key,
            return_url,
        })
    }

    /// POSTs `form` to `path` with `key` as its idempotency key; the parsed object, or the
    /// gateway error Stripe's answer means.
    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        form: &[(&str, String)],
    ) -> Result<Answer<T>, GatewayError> {
        let resp = self
            .http
            .post(format!("{}{path}", self.api_url))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", key)
            .form(form)
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(format!("Stripe did not answer: {e}")))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| GatewayError::Unavailable(format!("Stripe's answer was cut: {e}")))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map(Answer::Ok).map_err(|e| {
                GatewayError::Unavailable(format!(
                    "Stripe answered {path} with an unknown shape: {e}"
                ))
            });
        }
        let error = serde_json::from_slice::<ErrorEnvelope>(&body)
            .map(|e| e.error)
            .unwrap_or_default();
        match status {
            // A card error: the charge was tried and declined (the intent comes along).
            StatusCode::PAYMENT_REQUIRED => Ok(Answer::Declined(error)),
            s if s.is_server_error()
                || s == StatusCode::TOO_MANY_REQUESTS
                || s == StatusCode::CONFLICT =>
            {
                Err(GatewayError::Unavailable(format!(
                    "Stripe answered {s} ({}); the same key is retried later",
                    error.message.unwrap_or_default()
                )))
            }
            s => Err(GatewayError::Refused {
                code: error.code.unwrap_or_else(|| format!("http_{}", s.as_u16())),
                message: error
                    .message
                    .unwrap_or_else(|| format!("Stripe refused the request ({s})")),
            }),
        }
    }
}

enum Answer<T> {
    Ok(T),
    Declined(wire::StripeError),
}

impl Gateway for Stripe {
    async fn customer(
        &self,
        _ctx: &Ctx,
        account_id: &str,
        email: &str,
    ) -> Result<String, GatewayError> {
        // One customer per account however often this is asked: the key is the account.
        let form = [
            ("email", email.to_owned()),
            ("metadata[marquee_account]", account_id.to_owned()),
        ];
        match self
            .post::<wire::Customer>("/v1/customers", &format!("customer-{account_id}"), &form)
            .await?
        {
            Answer::Ok(c) => Ok(c.id),
            Answer::Declined(e) => Err(refused(e)),
        }
    }

    async fn attach(
        &self,
        _ctx: &Ctx,
        customer: &str,
        id: &str,
    ) -> Result<PaymentMethod, GatewayError> {
        let path = format!("/v1/payment_methods/{}/attach", path_safe(id));
        let form = [("customer", customer.to_owned())];
        let key = format!("attach-{id}-{customer}");
        match self.post::<PaymentMethodObject>(&path, &key, &form).await? {
            Answer::Ok(pm) => pm.shown(),
            Answer::Declined(e) => Err(refused(e)),
        }
    }

    async fn charge(
        &self,
        _ctx: &Ctx,
        key: &str,
        charge: &Charge,
        method: &str,
    ) -> Result<ChargeResult, GatewayError> {
        let mut form = vec![
            ("amount", charge.amount.minor().to_string()),
            (
                "currency",
                charge.amount.currency().code().to_ascii_lowercase(),
            ),
            ("customer", charge.customer.clone()),
            ("payment_method", method.to_owned()),
            ("payment_method_types[]", "card".to_owned()),
            ("confirm", "true".to_owned()),
            ("metadata[marquee_charge]", key.to_owned()),
            ("metadata[marquee_account]", charge.account_id.clone()),
        ];
        if let Some(line) = charge.lines.first() {
            form.push(("description", line.description.clone()));
        }
        if charge.purpose.off_session() {
            form.push(("off_session", "true".to_owned()));
        } else {
            form.push(("return_url", self.return_url.clone()));
        }
        match self
            .post::<PaymentIntent>("/v1/payment_intents", key, &form)
            .await?
        {
            Answer::Ok(pi) => pi.result(),
            Answer::Declined(e) => Ok(e.declined()),
        }
    }
}

fn refused(e: wire::StripeError) -> GatewayError {
    GatewayError::Refused {
        code: e.code.unwrap_or_else(|| "card_error".into()),
        message: e.message.unwrap_or_else(|| "the card was refused".into()),
    }
}

/// Ids go into a path: keep them to Stripe's id alphabet.
fn path_safe(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}
