//! JSON shapes of the subscription and billing API.

use marquee_billing::Money;
use marquee_billing::invoice::Invoice;
use marquee_billing::subscription::Status;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state::{self, BillingAccount, Charge, ChargeStatus, Purpose};
use crate::plans::wire::Price;

/// A card as typed into the sandbox's payment form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardForm {
    /// Digits, spaces and dashes allowed; the sandbox takes only Stripe's test numbers.
    pub number: String,
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: u16,
    pub cvc: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// A plan id from `GET /api/v1/plans`.
    pub plan: String,
    /// The gateway's payment method id (`pm_…`).
    pub payment_method: String,
    /// ISO 3166-1 alpha-2 country for currency and tax; by default the address's country.
    pub country: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanChange {
    pub plan: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodChange {
    pub payment_method: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockAdvance {
    /// Seconds to move the billing clock forward (at most 400 days at a time).
    pub advance_secs: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClockNow {
    /// The billing clock, Unix seconds.
    pub now: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentMethodView {
    pub id: String,
    /// `visa`, `mastercard`, `amex` or `card`.
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

impl From<&state::PaymentMethod> for PaymentMethodView {
    fn from(p: &state::PaymentMethod) -> Self {
        Self {
            id: p.id.clone(),
            brand: p.brand.clone(),
            last4: p.last4.clone(),
            exp_month: p.exp_month,
            exp_year: p.exp_year,
        }
    }
}

pub fn price(m: Money) -> Price {
    Price {
        minor: m.minor(),
        currency: m.currency().code().to_owned(),
        display: m.to_string(),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanSummary {
    pub id: String,
    pub name: String,
    pub streams: u8,
    /// e.g. `1080p`.
    pub top_resolution: String,
    pub profiles: u8,
}

impl PlanSummary {
    pub fn of(id: &str) -> Option<PlanSummary> {
        let p = state::find_plan(id).ok()?;
        Some(PlanSummary {
            streams: p.limits.streams,
            top_resolution: format!("{}p", p.limits.top_resolution.max_height()),
            profiles: p.limits.profiles,
            id: p.id,
            name: p.name,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionView {
    pub plan: PlanSummary,
    /// `trialing`, `active`, `past_due`, `cancelled` or `expired`.
    pub status: String,
    pub period_start: u64,
    /// When the current period ends (when past due: when the unpaid renewal was due).
    pub period_end: u64,
    pub cancel_at_period_end: bool,
    /// A cheaper plan that takes over at the next renewal.
    pub next_plan: Option<PlanSummary>,
    /// What the next renewal will charge, tax included, and when; none once cancelled.
    pub next_bill: Option<Bill>,
    pub failed_attempts: u32,
    pub ended_at: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Bill {
    pub at: u64,
    pub amount: Price,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChargeView {
    /// `checkout`, `renewal` or `upgrade`.
    pub purpose: String,
    /// `pending`, `requires_action`, `succeeded` or `failed`.
    pub status: String,
    pub amount: Price,
    /// Where the card holder confirms the payment (`requires_action`).
    pub challenge_url: Option<String>,
    /// Why it failed: `card_declined`, `insufficient_funds`, `authentication_failed`, …
    pub decline_code: Option<String>,
    pub message: Option<String>,
    /// The invoice it paid.
    pub invoice: Option<String>,
}

impl From<&Charge> for ChargeView {
    fn from(c: &Charge) -> Self {
        let purpose = match c.purpose {
            Purpose::Checkout { .. } => "checkout",
            Purpose::Renewal { .. } => "renewal",
            Purpose::Upgrade { .. } => "upgrade",
        };
        let mut view = ChargeView {
            purpose: purpose.into(),
            status: "pending".into(),
            amount: price(c.amount),
            challenge_url: None,
            decline_code: None,
            message: None,
            invoice: None,
        };
        match &c.status {
            ChargeStatus::Unanswered => {}
            ChargeStatus::RequiresAction { url, .. } => {
                view.status = "requires_action".into();
                view.challenge_url = Some(url.clone());
            }
            ChargeStatus::Succeeded { invoice, .. } => {
                view.status = "succeeded".into();
                view.invoice = Some(invoice.clone());
            }
            ChargeStatus::Failed { code, message } => {
                view.status = "failed".into();
                view.decline_code = Some(code.clone());
                view.message = Some(message.clone());
            }
        }
        view
    }
}

/// Everything the account page shows about money.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BillingOverview {
    pub subscription: Option<SubscriptionView>,
    pub payment_method: Option<PaymentMethodView>,
    /// The newest checkout or plan upgrade and how it went.
    pub last_charge: Option<ChargeView>,
    /// Whether the account may play now.
    pub entitled: bool,
    /// ISO 4217 code the account pays in.
    pub currency: Option<String>,
}

impl BillingOverview {
    pub fn of(account: Option<&BillingAccount>, last: Option<&Charge>, now: u64) -> Self {
        let Some(a) = account else {
            return BillingOverview {
                subscription: None,
                payment_method: None,
                last_charge: None,
                entitled: false,
                currency: None,
            };
        };
        let subscription = a.subscription.as_ref().and_then(|s| {
            let plan = PlanSummary::of(&s.plan)?;
            let renews = !s.status.is_ended() && !s.cancel_at_period_end;
            let next_bill = renews.then(|| next_bill(a, s)).flatten();
            Some(SubscriptionView {
                plan,
                status: status_name(s.status).to_owned(),
                period_start: s.period_start,
                period_end: s.period_end,
                cancel_at_period_end: s.cancel_at_period_end,
                next_plan: s.next_plan.as_deref().and_then(PlanSummary::of),
                next_bill,
                failed_attempts: s.failed_attempts,
                ended_at: s.ended_at,
            })
        });
        BillingOverview {
            entitled: a
                .subscription
                .as_ref()
                .is_some_and(|s| s.entitled_plan(now).is_some()),
            subscription,
            payment_method: a.payment_method.as_ref().map(PaymentMethodView::from),
            last_charge: last.map(ChargeView::from),
            currency: Some(a.currency.code().to_owned()),
        }
    }
}

/// What the next renewal charges (the next plan's price, tax included) and when.
fn next_bill(a: &BillingAccount, s: &marquee_billing::Subscription) -> Option<Bill> {
    let next = s.next_plan.as_deref().unwrap_or(&s.plan);
    let amount = state::find_plan(next).ok()?.price(a.currency)?;
    let rule = marquee_billing::tax::rule_for(&a.country);
    let total = marquee_billing::tax::apply(amount, rule).ok()?.total;
    Some(Bill {
        at: s.period_end,
        amount: price(total),
    })
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Trialing => "trialing",
        Status::Active => "active",
        Status::PastDue => "past_due",
        Status::Cancelled => "cancelled",
        Status::Expired => "expired",
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvoiceLine {
    pub description: String,
    pub amount: Price,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvoiceView {
    pub number: String,
    pub issued_at: u64,
    pub country: String,
    pub lines: Vec<InvoiceLine>,
    pub net: Price,
    pub tax: Price,
    pub total: Price,
    /// Tax rate in basis points (2000 = 20 %).
    pub tax_rate_bp: u32,
    /// Whether the prices already included the tax.
    pub tax_inclusive: bool,
    /// The HTML receipt.
    pub receipt_url: String,
}

impl From<&Invoice> for InvoiceView {
    fn from(i: &Invoice) -> Self {
        InvoiceView {
            number: i.number.clone(),
            issued_at: i.issued_at,
            country: i.country.clone(),
            lines: i
                .lines
                .iter()
                .map(|l| InvoiceLine {
                    description: l.description.clone(),
                    amount: price(l.amount),
                })
                .collect(),
            net: price(i.net),
            tax: price(i.tax),
            total: price(i.total),
            tax_rate_bp: i.tax_rule.rate_bp,
            tax_inclusive: i.tax_rule.inclusive,
            receipt_url: format!("/api/v1/billing/invoices/{}/receipt", i.number),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvoiceList {
    /// Newest first.
    pub invoices: Vec<InvoiceView>,
}
