//! `POST /api/v1/billing/webhooks/stripe`: Stripe's events about payments, accepted only with
//! a valid `Stripe-Signature` no older than 300 s, and applied once by event id, so a replayed
//! or repeated event changes nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use marquee_billing::webhook::{self, DEFAULT_TOLERANCE_SECS};
use serde::Serialize;
use utoipa::ToSchema;

use super::wire::{Event, PaymentIntent};
use crate::api::Ctx;
use crate::billing::charging;
use crate::billing::state::ChargeResult;
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::ids::now_unix;

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// Whether the event changed a charge (false: not about one of Marquee's charges, or a
    /// kind Marquee does not act on).
    pub applied: bool,
}

/// Receives Stripe's webhook events (payments that finished after the request that started
/// them: a passed 3-D Secure page, a payment that was processing).
#[utoipa::path(post, path = "/api/v1/billing/webhooks/stripe", tag = "billing",
    request_body(content = String, description = "Stripe's event JSON, exactly as sent", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "t=…,v1=…: HMAC-SHA256 of `t.body` under the endpoint's secret")),
    responses(
        (status = 200, description = "Received (a repeat of an event already applied changes nothing)", body = Received),
        (status = 400, description = "invalid_signature (missing, wrong or older than 300 s) or invalid_json", body = ErrorBody),
        (status = 404, description = "not_found: this deployment does not use Stripe", body = ErrorBody),
        (status = 503, description = "unavailable: try again (Stripe retries by itself)", body = ErrorBody),
    ))]
pub async fn receive(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Received>> {
    let stripe = ctx.gateway.stripe().ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            "this deployment does not take payments through Stripe",
        )
    })?;
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    webhook::verify(
        signature,
        &body,
        &stripe.webhook_secret,
        now_unix(),
        DEFAULT_TOLERANCE_SECS,
    )
    .map_err(|e| ApiError::new(Code::InvalidSignature, e.to_string()))?;
    let event: Event = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(Code::InvalidJson, format!("not a Stripe event: {e}")))?;
    let not_ours = axum::Json(Received { applied: false });
    let outcome = match event.kind.as_str() {
        "payment_intent.succeeded" | "payment_intent.payment_failed" => event.data.object,
        _ => return Ok(not_ours),
    };
    let intent: PaymentIntent = serde_json::from_value(outcome).map_err(|e| {
        ApiError::new(
            Code::InvalidJson,
            format!("the event's payment intent: {e}"),
        )
    })?;
    let Some(key) = intent.metadata.get("marquee_charge").cloned() else {
        return Ok(not_ours);
    };
    let result = if event.kind == "payment_intent.succeeded" {
        ChargeResult::Succeeded {
            payment_id: intent.id,
        }
    } else {
        intent.last_payment_error.unwrap_or_default().declined()
    };
    match charging::answer(&ctx, &key, result, Some(event.id)).await {
        Ok((_, applied)) => Ok(axum::Json(Received { applied })),
        Err(e) if e.code == Code::NotFound => Ok(not_ours),
        Err(e) => Err(e),
    }
}
