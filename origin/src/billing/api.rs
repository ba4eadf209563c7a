//! The subscription and billing API: subscribe (plan + payment method), change plan, cancel,
//! resume, replace the card, invoices and receipts; and the test deployment's billing clock.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::charging;
use super::clock;
use super::gateway::{Gateway, GatewayError};
use super::state::{self, Applied, ChargeStatus, Command, Rejection, ViewerEvent};
use super::wire::{
    BillingOverview, CheckoutRequest, ClockAdvance, ClockNow, InvoiceList, InvoiceView,
    PaymentMethodChange, PlanChange,
};
use crate::accounts::{Admin, Viewer};
use crate::api::Ctx;
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::geo::ClientIp;
use crate::ids::new_id;
use crate::plans::api::checked_country;

/// The longest single move of the test clock.
const MAX_CLOCK_STEP_SECS: u64 = 400 * 86_400;

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        let code = match &r {
            Rejection::UnknownPlan(_) | Rejection::NotSoldIn { .. } => Code::InvalidPlan,
            Rejection::AlreadySubscribed => Code::AlreadySubscribed,
            Rejection::NotSubscribed => Code::NotSubscribed,
            Rejection::PaymentInProgress => Code::SubscriptionState,
            Rejection::Lifecycle(_) | Rejection::NotAnUpgrade { .. } => Code::SubscriptionState,
            Rejection::UnknownCharge => Code::NotFound,
            Rejection::AlreadyAnswered | Rejection::DuplicateEvent(_) => Code::AlreadyExists,
            Rejection::Money(_) => Code::SubscriptionState,
            Rejection::Sandbox(_) => Code::NotFound,
        };
        ApiError::new(code, r.to_string())
    }
}

fn gateway_error(e: GatewayError) -> ApiError {
    match e {
        GatewayError::Refused { message, .. } => ApiError::new(Code::InvalidCard, message),
        GatewayError::Unavailable(detail) => {
            tracing::warn!(%detail, "payment gateway unavailable");
            ApiError::new(
                Code::GatewayUnavailable,
                "the payment service did not answer; try again shortly",
            )
            .retry_after(5)
        }
    }
}

/// Gateways' payment method ids (`pm_…`): letters, digits and underscores. Anything else
/// never reaches a gateway (it would end up in a URL path and a header).
fn checked_payment_method(id: &str) -> ApiResult<()> {
    let ok =
        (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::InvalidCard,
            "payment_method is not a payment method id (pm_…)",
        ))
    }
}

/// The account's billing as of now, read linearizably (money is never shown stale).
async fn overview(ctx: &Ctx, account_id: &str) -> ApiResult<BillingOverview> {
    let id = account_id.to_owned();
    ctx.read_checked(move |tx| {
        let account = state::account(tx, &id)?;
        let last = match account.as_ref().and_then(|a| a.last_charge.as_deref()) {
            Some(key) => state::charge(tx, key)?,
            None => None,
        };
        Ok(BillingOverview::of(
            account.as_ref(),
            last.as_ref(),
            clock::now_in(tx)?,
        ))
    })
    .await
}

/// How a charge the viewer waited for went: 200/201 paid, 202 a challenge to pass first,
/// 402 declined (the reason says why; nothing changed).
async fn settled(
    ctx: &Ctx,
    account_id: &str,
    status: &ChargeStatus,
    paid: StatusCode,
) -> ApiResult<Response> {
    let code = match status {
        ChargeStatus::Succeeded { .. } => paid,
        ChargeStatus::RequiresAction { .. } | ChargeStatus::Unanswered => StatusCode::ACCEPTED,
        ChargeStatus::Failed { message, .. } => {
            return Err(ApiError::new(Code::PaymentDeclined, message.clone()));
        }
    };
    Ok((code, axum::Json(overview(ctx, account_id).await?)).into_response())
}

/// The account's plan, next bill, card and latest payment.
#[utoipa::path(get, path = "/api/v1/subscription", security(("session" = [])), tag = "billing",
    responses(
        (status = 200, description = "The account's billing (subscription null before the first)", body = BillingOverview),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now", body = ErrorBody),
    ))]
pub async fn get(State(ctx): State<Ctx>, viewer: Viewer) -> ApiResult<axum::Json<BillingOverview>> {
    Ok(axum::Json(overview(&ctx, &viewer.account.id).await?))
}

/// Subscribe: pays the first month of `plan` with `payment_method` now, in the currency of
/// the country (given, or the address's).
#[utoipa::path(post, path = "/api/v1/subscription", security(("session" = [])), tag = "billing",
    request_body = CheckoutRequest,
    responses(
        (status = 201, description = "Paid: the subscription is active", body = BillingOverview),
        (status = 202, description = "The card asks for a challenge first: open last_charge.challenge_url", body = BillingOverview),
        (status = 400, description = "invalid_json, or invalid_query: not a country code", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 402, description = "payment_declined: the reason says why; nothing is subscribed", body = ErrorBody),
        (status = 409, description = "already_subscribed", body = ErrorBody),
        (status = 422, description = "invalid_plan, invalid_card (unknown payment method) or invalid_body", body = ErrorBody),
        (status = 503, description = "gateway_unavailable or unavailable: try again shortly; nothing is charged twice", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: send Content-Type: application/json", body = ErrorBody),
    ))]
pub async fn subscribe(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    Json(req): Json<CheckoutRequest>,
) -> ApiResult<Response> {
    // Prices and tax follow where the viewer is; a country given in the body counts only
    // where the address tells nothing (or agrees), so nobody picks a cheaper country.
    let located = ctx.countries.of(ip).map(str::to_owned);
    let country = match (&req.country, located) {
        (Some(given), Some(here)) if checked_country(given)? != here => {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!("prices follow the country you are in ({here}), not {given}"),
            ));
        }
        (_, Some(here)) => here,
        (Some(given), None) => checked_country(given)?,
        (None, None) => String::new(),
    };
    checked_payment_method(&req.payment_method)?;
    state::find_plan(&req.plan)?;
    let account = &viewer.account;
    let customer = ctx
        .gateway
        .customer(&ctx, &account.id, &account.email)
        .await
        .map_err(gateway_error)?;
    let payment_method = ctx
        .gateway
        .attach(&ctx, &customer, &req.payment_method)
        .await
        .map_err(gateway_error)?;
    let key = format!("checkout-{}-{}", account.id, new_id());
    let cmd = Command::Checkout {
        key: key.clone(),
        account_id: account.id.clone(),
        email: account.email.clone(),
        plan: req.plan,
        country,
        customer,
        payment_method,
        now: clock::now(&ctx)?,
    };
    let Applied::Charge(charge) = ctx.apply(cmd).await? else {
        return Err(ApiError::internal("checkout", "no charge recorded"));
    };
    let charge = charging::send(&ctx, &key, &charge).await?;
    settled(&ctx, &account.id, &charge.status, StatusCode::CREATED).await
}

/// Change plan: a dearer plan applies now and charges the prorated difference; a cheaper one
/// takes over at the next renewal (in a free trial, any change applies now, free).
#[utoipa::path(put, path = "/api/v1/subscription/plan", security(("session" = [])), tag = "billing",
    request_body = PlanChange,
    responses(
        (status = 200, description = "Changed (or scheduled for the renewal)", body = BillingOverview),
        (status = 202, description = "The upgrade's payment asks for a challenge first", body = BillingOverview),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 402, description = "payment_declined: the upgrade was not paid; the plan is unchanged", body = ErrorBody),
        (status = 409, description = "not_subscribed, or subscription_state: same plan, past due, ended", body = ErrorBody),
        (status = 422, description = "invalid_plan", body = ErrorBody),
        (status = 503, description = "gateway_unavailable or unavailable", body = ErrorBody),
        (status = 400, description = "invalid_json or empty_body: the body is not JSON", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: send Content-Type: application/json", body = ErrorBody),
    ))]
pub async fn change_plan(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Json(req): Json<PlanChange>,
) -> ApiResult<Response> {
    let account_id = viewer.account.id;
    let target = state::find_plan(&req.plan)?;
    let current = ctx
        .read_checked(|tx| state::account(tx, &account_id))
        .await?
        .and_then(|a| Some((a.currency, a.subscription?)))
        .filter(|(_, s)| !s.status.is_ended());
    let Some((currency, sub)) = current else {
        return Err(Rejection::NotSubscribed.into());
    };
    let dearer =
        state::find_plan(&sub.plan).is_ok_and(|from| from.is_upgrade_to(&target, currency));
    let now = clock::now(&ctx)?;
    if !dearer || sub.status == marquee_billing::Status::Trialing {
        let event = ViewerEvent::Downgrade { plan: target.id };
        ctx.apply(Command::Lifecycle {
            account_id: account_id.clone(),
            event,
            now,
        })
        .await?;
        return Ok(axum::Json(overview(&ctx, &account_id).await?).into_response());
    }
    let key = format!("upgrade-{account_id}-{}", new_id());
    let cmd = Command::Upgrade {
        key: key.clone(),
        account_id: account_id.clone(),
        plan: target.id,
        now,
    };
    let Applied::Charge(charge) = ctx.apply(cmd).await? else {
        return Err(ApiError::internal("upgrade", "no charge recorded"));
    };
    let charge = charging::send(&ctx, &key, &charge).await?;
    settled(&ctx, &account_id, &charge.status, StatusCode::OK).await
}

async fn viewer_event(
    ctx: &Ctx,
    viewer: Viewer,
    event: ViewerEvent,
) -> ApiResult<axum::Json<BillingOverview>> {
    let account_id = viewer.account.id;
    ctx.apply(Command::Lifecycle {
        account_id: account_id.clone(),
        event,
        now: clock::now(ctx)?,
    })
    .await?;
    Ok(axum::Json(overview(ctx, &account_id).await?))
}

/// Cancel: playing goes on to the end of the paid period, then the subscription ends; past
/// due, it ends now.
#[utoipa::path(post, path = "/api/v1/subscription/cancel", security(("session" = [])), tag = "billing",
    responses(
        (status = 200, description = "Cancelled (at the period's end, or now when past due)", body = BillingOverview),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 409, description = "not_subscribed, or subscription_state: it has ended", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn cancel(
    State(ctx): State<Ctx>,
    viewer: Viewer,
) -> ApiResult<axum::Json<BillingOverview>> {
    viewer_event(&ctx, viewer, ViewerEvent::Cancel).await
}

/// Resume: undo a cancellation that has not taken effect.
#[utoipa::path(post, path = "/api/v1/subscription/resume", security(("session" = [])), tag = "billing",
    responses(
        (status = 200, description = "Renews again", body = BillingOverview),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 409, description = "not_subscribed, or subscription_state: nothing to resume", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn resume(
    State(ctx): State<Ctx>,
    viewer: Viewer,
) -> ApiResult<axum::Json<BillingOverview>> {
    viewer_event(&ctx, viewer, ViewerEvent::Resume).await
}

/// Replace the card. When a renewal is past due it is charged to the new card at once.
#[utoipa::path(put, path = "/api/v1/billing/payment-method", security(("session" = [])), tag = "billing",
    request_body = PaymentMethodChange,
    responses(
        (status = 200, description = "Saved (and a past-due renewal tried on it)", body = BillingOverview),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 409, description = "not_subscribed: subscribe first", body = ErrorBody),
        (status = 422, description = "invalid_card: no such payment method", body = ErrorBody),
        (status = 503, description = "gateway_unavailable or unavailable", body = ErrorBody),
        (status = 400, description = "invalid_json or empty_body: the body is not JSON", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: send Content-Type: application/json", body = ErrorBody),
    ))]
pub async fn update_payment_method(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Json(req): Json<PaymentMethodChange>,
) -> ApiResult<axum::Json<BillingOverview>> {
    checked_payment_method(&req.payment_method)?;
    let account_id = viewer.account.id;
    let customer = ctx
        .read_checked(|tx| state::account(tx, &account_id))
        .await?
        .map(|a| a.customer)
        .ok_or(Rejection::NotSubscribed)?;
    let payment_method = ctx
        .gateway
        .attach(&ctx, &customer, &req.payment_method)
        .await
        .map_err(gateway_error)?;
    let cmd = Command::UpdatePaymentMethod {
        account_id: account_id.clone(),
        payment_method,
        now: clock::now(&ctx)?,
    };
    if let Applied::Renewals(keys) = ctx.apply(cmd).await? {
        for key in keys {
            let charge = ctx.read(|tx| state::charge(tx, &key))?;
            if let Some(charge) = charge {
                charging::send(&ctx, &key, &charge).await?;
            }
        }
    }
    Ok(axum::Json(overview(&ctx, &account_id).await?))
}

/// The account's invoices, newest first.
#[utoipa::path(get, path = "/api/v1/billing/invoices", security(("session" = [])), tag = "billing",
    responses(
        (status = 200, description = "Invoices, newest first", body = InvoiceList),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn invoices(
    State(ctx): State<Ctx>,
    viewer: Viewer,
) -> ApiResult<axum::Json<InvoiceList>> {
    let all = ctx
        .read_checked(|tx| state::invoices(tx, &viewer.account.id))
        .await?;
    Ok(axum::Json(InvoiceList {
        invoices: all.iter().map(InvoiceView::from).collect(),
    }))
}

/// One invoice's receipt as a self-contained HTML page.
#[utoipa::path(get, path = "/api/v1/billing/invoices/{number}/receipt", security(("session" = [])), tag = "billing",
    params(("number" = String, Path, description = "Invoice number, e.g. MQ-0000000001")),
    responses(
        (status = 200, description = "The receipt", content_type = "text/html"),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 404, description = "not_found: no such invoice on this account", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
    ))]
pub async fn receipt(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> ApiResult<Response> {
    let invoice = ctx
        .read_checked(|tx| state::invoice(tx, &viewer.account.id, &number))
        .await?
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    let disposition = format!("inline; filename=\"marquee-{}.html\"", invoice.number);
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        invoice.to_html(),
    )
        .into_response())
}

/// Moves the billing clock forward (a test deployment only: `billing.test_clock`), so
/// renewals, retries and grace periods can be lived through in seconds.
#[utoipa::path(post, path = "/api/v1/admin/billing/clock", security(("session" = [])), tag = "admin",
    request_body = ClockAdvance,
    responses(
        (status = 200, description = "The billing clock now", body = ClockNow),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin, or this deployment's clock is real", body = ErrorBody),
        (status = 422, description = "invalid_body: more than 400 days at once", body = ErrorBody),
        (status = 503, description = "unavailable", body = ErrorBody),
        (status = 400, description = "invalid_json or empty_body: the body is not JSON", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: send Content-Type: application/json", body = ErrorBody),
    ))]
pub async fn advance_clock(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Json(req): Json<ClockAdvance>,
) -> ApiResult<axum::Json<ClockNow>> {
    if !ctx.config.billing.test_clock {
        return Err(ApiError::new(
            Code::Forbidden,
            "the billing clock moves only in a test deployment (billing.test_clock = true)",
        ));
    }
    if req.advance_secs > MAX_CLOCK_STEP_SECS {
        return Err(ApiError::new(
            Code::InvalidBody,
            format!("advance at most {MAX_CLOCK_STEP_SECS} seconds (400 days) at once"),
        ));
    }
    ctx.apply(Command::AdvanceClock {
        secs: req.advance_secs,
    })
    .await?;
    let now = ctx.read_checked(clock::now_in).await?;
    Ok(axum::Json(ClockNow { now }))
}
