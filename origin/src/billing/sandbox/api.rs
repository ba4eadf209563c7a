//! The sandbox gateway's own HTTP surface: saving a typed test card (what a gateway's browser
//! library does) and the 3-D Secure challenge page its "bank" shows.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ledger::{self, Command as LedgerCommand, PaymentStatus};
use super::{CardDetails, result_of};
use crate::accounts::Viewer;
use crate::api::Ctx;
use crate::billing::state::{Applied, Command};
use crate::billing::wire::{CardForm, PaymentMethodView};
use crate::billing::{charging, clock};
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};

fn sandbox_only(ctx: &Ctx) -> ApiResult<&super::Sandbox> {
    ctx.gateway.sandbox().ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            "this deployment takes real cards through its payment gateway, not the sandbox",
        )
    })
}

/// Save a test card as a payment method (the sandbox gateway only; Stripe's page does this
/// itself). Takes Stripe's published test numbers, such as 4242 4242 4242 4242.
#[utoipa::path(post, path = "/api/v1/billing/sandbox/payment-methods", security(("session" = [])), tag = "billing",
    request_body = CardForm,
    responses(
        (status = 201, description = "Saved; pass its id to subscribe or to replace the card", body = PaymentMethodView),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 404, description = "not_found: this deployment does not use the sandbox", body = ErrorBody),
        (status = 422, description = "invalid_card: the reason says which field (a typo, expired, not a test card)", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
        (status = 400, description = "invalid_json or empty_body: the body is not JSON", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: send Content-Type: application/json", body = ErrorBody),
    ))]
pub async fn save_card(
    State(ctx): State<Ctx>,
    _viewer: Viewer,
    Json(form): Json<CardForm>,
) -> ApiResult<(StatusCode, axum::Json<PaymentMethodView>)> {
    let sandbox = sandbox_only(&ctx)?;
    let today = year_month(clock::now(&ctx)?);
    let details = CardDetails {
        number: &form.number,
        exp_month: form.exp_month,
        exp_year: form.exp_year,
        cvc: form.cvc.trim(),
    };
    let method = sandbox.tokenise(&ctx, &details, today).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(PaymentMethodView::from(&method)),
    ))
}

/// (year, month) of a Unix time, UTC.
fn year_month(unix: u64) -> (u16, u8) {
    let at = time::OffsetDateTime::from_unix_timestamp(unix as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (at.year() as u16, u8::from(at.month()))
}

/// The challenge page: what is being paid, and the two answers a holder can give.
#[utoipa::path(get, path = "/api/v1/billing/sandbox/challenges/{payment_id}", tag = "billing",
    params(("payment_id" = String, Path, description = "The payment awaiting a challenge")),
    responses(
        (status = 200, description = "The sandbox bank's challenge page", content_type = "text/html"),
        (status = 404, description = "not_found: no such payment, or not the sandbox", body = ErrorBody),
    ))]
pub async fn challenge_page(
    State(ctx): State<Ctx>,
    Path(payment_id): Path<String>,
) -> ApiResult<Response> {
    sandbox_only(&ctx)?;
    let payment = ctx
        .read(|tx| ledger::payment_by_id(tx, &payment_id))?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let waiting = payment.status == PaymentStatus::AwaitingChallenge;
    let amount = html_escape::encode_text(&payment.amount.to_string()).into_owned();
    let action = html_escape::encode_double_quoted_attribute(&super::challenge_url(&payment.id))
        .into_owned();
    let body = if waiting {
        format!(
            r#"<p>Confirm a payment of <strong>{amount}</strong> to Marquee.</p>
<form method="post" action="{action}">
<button name="outcome" value="complete" type="submit">Complete authentication</button>
<button name="outcome" value="fail" type="submit">Fail authentication</button>
</form>"#
        )
    } else {
        "<p>This payment is not waiting for confirmation any more.</p><p><a href=\"/account\">Back to your account</a></p>".to_owned()
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Sandbox bank — confirm your payment</title>\
<style>body{{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}\
button{{font:inherit;padding:.6rem 1rem;margin:.3rem .3rem 0 0}}</style></head>\
<body><main><h1>Sandbox bank: 3-D Secure</h1>{body}\
<p><small>A test page of Marquee's sandbox gateway; no real bank is involved.</small></p></main></body></html>"
    );
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ChallengeAnswer {
    outcome: String,
}

/// The holder's answer on the challenge page; the payment is settled and the viewer sent
/// back to the account page.
pub async fn challenge_answer(
    State(ctx): State<Ctx>,
    Path(payment_id): Path<String>,
    axum::Form(answer): axum::Form<ChallengeAnswer>,
) -> ApiResult<Response> {
    sandbox_only(&ctx)?;
    let passed = match answer.outcome.as_str() {
        "complete" => true,
        "fail" => false,
        other => {
            return Err(ApiError::new(
                Code::InvalidBody,
                format!("outcome is complete or fail, not {other:?}"),
            ));
        }
    };
    // A payment the account gave up on (a newer one replaced it) can no longer be confirmed.
    let open = ctx
        .read_checked(|tx| {
            let Some(payment) = ledger::payment_by_id(tx, &payment_id)? else {
                return Ok(false);
            };
            Ok(
                crate::billing::state::charge(tx, &payment.key)?.is_some_and(|c| {
                    matches!(
                        c.status,
                        crate::billing::state::ChargeStatus::RequiresAction { .. }
                    )
                }),
            )
        })
        .await?;
    if !open {
        return Err(ApiError::not_found("payment waiting for confirmation"));
    }
    let cmd = Command::Sandbox(LedgerCommand::Challenge {
        payment_id: payment_id.clone(),
        passed,
    });
    let Applied::Sandbox(ledger::Applied::Payment(payment)) = ctx.apply(cmd).await? else {
        return Err(ApiError::internal("challenge", "no payment"));
    };
    // The gateway reports the outcome the way a webhook would: once, by event id.
    let event = format!("evt_sb_{payment_id}");
    charging::answer(&ctx, &payment.key, result_of(&payment), Some(event)).await?;
    let outcome = if passed { "paid" } else { "declined" };
    Ok(Redirect::to(&format!("/account?payment={outcome}")).into_response())
}
