//! Payment gateways behind one trait: the built-in sandbox for the local world and tests, and
//! Stripe. Origin decides what to charge (`state`); a gateway only moves the money, once per
//! idempotency key.

use std::future::Future;

use super::sandbox::Sandbox;
use super::state::{Charge, ChargeResult, PaymentMethod};
use super::stripe::Stripe;
use crate::api::Ctx;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The gateway could not be reached or failed; the same request may be retried.
    #[error("the payment gateway is unavailable: {0}")]
    Unavailable(String),
    /// The gateway refused the request itself (an unknown payment method, say).
    #[error("{message}")]
    Refused { code: String, message: String },
}

pub trait Gateway {
    /// The gateway's customer for this account (made once; the same id every time).
    fn customer(
        &self,
        ctx: &Ctx,
        account_id: &str,
        email: &str,
    ) -> impl Future<Output = Result<String, GatewayError>> + Send;

    /// Saves payment method `id` (made in the browser) for `customer`, for later renewals;
    /// answers how to show it.
    fn attach(
        &self,
        ctx: &Ctx,
        customer: &str,
        id: &str,
    ) -> impl Future<Output = Result<PaymentMethod, GatewayError>> + Send;

    /// Charges `charge.amount` to `payment_method`. Asking again with the same `key` charges
    /// nothing more and answers the first answer.
    fn charge(
        &self,
        ctx: &Ctx,
        key: &str,
        charge: &Charge,
        payment_method: &str,
    ) -> impl Future<Output = Result<ChargeResult, GatewayError>> + Send;
}

/// The gateway this deployment is configured with.
pub enum Configured {
    Sandbox(Sandbox),
    Stripe(Stripe),
}

impl Configured {
    /// The gateway `config` names; Stripe's secrets are read from their files now.
    pub fn from_config(
        config: &crate::config::Config,
        addr: std::net::SocketAddr,
    ) -> Result<Configured, String> {
        let stripe = match &config.billing.gateway {
            crate::config::GatewayKind::Sandbox => {
                tracing::warn!(
                    "payments go to the sandbox gateway: test cards only, no money moves \
                     (set [billing] gateway = \"stripe\" to take real payments)"
                );
                return Ok(Configured::Sandbox(Sandbox));
            }
            crate::config::GatewayKind::Stripe(s) => s,
        };
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let viewer = config
            .viewer_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        Stripe::new(
            &stripe.api_url,
            read(&stripe.secret_key_file)?,
            read(&stripe.webhook_secret_file)?,
            format!("{viewer}/account?payment=returned"),
        )
        .map(Configured::Stripe)
        .map_err(|e| format!("cannot set up the Stripe client: {e}"))
    }

    pub fn sandbox(&self) -> Option<&Sandbox> {
        match self {
            Configured::Sandbox(s) => Some(s),
            Configured::Stripe(_) => None,
        }
    }

    pub fn stripe(&self) -> Option<&Stripe> {
        match self {
            Configured::Stripe(s) => Some(s),
            Configured::Sandbox(_) => None,
        }
    }
}

impl Gateway for Configured {
    async fn customer(
        &self,
        ctx: &Ctx,
        account_id: &str,
        email: &str,
    ) -> Result<String, GatewayError> {
        match self {
            Configured::Sandbox(g) => g.customer(ctx, account_id, email).await,
            Configured::Stripe(g) => g.customer(ctx, account_id, email).await,
        }
    }

    async fn attach(
        &self,
        ctx: &Ctx,
        customer: &str,
        id: &str,
    ) -> Result<PaymentMethod, GatewayError> {
        match self {
            Configured::Sandbox(g) => g.attach(ctx, customer, id).await,
            Configured::Stripe(g) => g.attach(ctx, customer, id).await,
        }
    }

    async fn charge(
        &self,
        ctx: &Ctx,
        key: &str,
        charge: &Charge,
        payment_method: &str,
    ) -> Result<ChargeResult, GatewayError> {
        match self {
            Configured::Sandbox(g) => g.charge(ctx, key, charge, payment_method).await,
            Configured::Stripe(g) => g.charge(ctx, key, charge, payment_method).await,
        }
    }
}
