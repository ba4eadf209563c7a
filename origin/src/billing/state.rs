//! Billing in the replicated state: each account's subscription and payment method, the
//! charges asked of the gateway (keyed by their idempotency key), invoices, the gateway events
//! already applied, and the billing clock's offset.
//!
//! Every decision about money is made here, in `apply`, from the command's own `now`: a renewal
//! is asked for by a `Tick` the leader replicates, and its charge gets a key made of the
//! account, the period and the attempt. A new leader that ticks again finds the charge already
//! asked for and the gateway answers a repeated key with the first answer, so nothing is
//! charged twice across a failover. A result applied twice (a replayed webhook) is refused and
//! changes nothing.

use marquee_billing::invoice::{Invoice, Line};
use marquee_billing::plan::{self, Plan};
use marquee_billing::subscription::{Action, Event, Refusal, Status, Subscription};
use marquee_billing::{Currency, Money, proration};
use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use super::sandbox::ledger as sandbox;
use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// Account id → how it pays and what it is subscribed to.
const ACCOUNTS: Table<BillingAccount> = Table::new("billing_accounts");
/// Due time ‖ account id → (): when a tick can next change the account's subscription.
const DUE: Table<()> = Table::new("billing_due");
/// Idempotency key → the charge.
const CHARGES: Table<Charge> = Table::new("billing_charges");
/// Idempotency keys of charges the gateway has not answered yet.
const UNANSWERED: Table<()> = Table::new("billing_unanswered_charges");
/// Account id ‖ invoice number → invoice.
const INVOICES: Table<Invoice> = Table::new("billing_invoices");
/// Single rows: "invoice_seq" (the last invoice number), "clock_offset" (seconds).
const COUNTERS: Table<u64> = Table::new("billing_counters");
/// Gateway event id → when it was applied; a replayed event finds itself here.
const EVENTS: Table<u64> = Table::new("billing_gateway_events");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingAccount {
    /// ISO 3166-1 alpha-2, as chosen at checkout; decides tax. Empty when unknown.
    pub country: String,
    pub currency: Currency,
    /// The gateway's customer id.
    pub customer: String,
    pub payment_method: Option<PaymentMethod>,
    pub subscription: Option<Subscription>,
    /// The newest checkout or upgrade charge, so the account page can show how it went.
    pub last_charge: Option<String>,
    /// The key in [`DUE`] this account is filed under.
    due_at: Option<u64>,
}

/// A saved card as the gateway describes it; the number itself never reaches origin's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    /// The gateway's id (`pm_…`).
    pub id: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub account_id: String,
    pub purpose: Purpose,
    pub payment_method: Option<String>,
    pub customer: String,
    /// What the card is charged: the invoice's total.
    pub amount: Money,
    pub lines: Vec<Line>,
    pub created_at: u64,
    pub status: ChargeStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The first period of `plan`, paid at sign-up.
    Checkout { plan: String },
    /// A renewal the subscription asked for.
    Renewal {
        plan: String,
        period_start: u64,
        attempt: u32,
    },
    /// Moving up from `from` to `to` now, prorated over the period starting `period_start`
    /// (applied only if the subscription is still there when the payment succeeds).
    Upgrade {
        from: String,
        to: String,
        period_start: u64,
    },
}

impl Purpose {
    /// Charges made while the viewer is away (renewals) cannot stop for a challenge page.
    pub fn off_session(&self) -> bool {
        matches!(self, Purpose::Renewal { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Unanswered,
    /// The card holder must pass a challenge at `url` first.
    RequiresAction {
        payment_id: String,
        url: String,
    },
    Succeeded {
        payment_id: String,
        invoice: String,
    },
    Failed {
        code: String,
        message: String,
    },
}

/// What the gateway answered for a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeResult {
    Succeeded { payment_id: String },
    RequiresAction { payment_id: String, url: String },
    Failed { code: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Asks for the first payment of `plan`: records the payment method and the charge.
    Checkout {
        key: String,
        account_id: String,
        email: String,
        plan: String,
        country: String,
        customer: String,
        payment_method: PaymentMethod,
        now: u64,
    },
    /// Asks for the prorated difference to move up to `plan` now.
    Upgrade {
        key: String,
        account_id: String,
        plan: String,
        now: u64,
    },
    /// A lifecycle event from the viewer: cancel, resume, a downgrade (or a change in trial).
    Lifecycle {
        account_id: String,
        event: ViewerEvent,
        now: u64,
    },
    /// A new card; a past-due renewal is asked for again at once.
    UpdatePaymentMethod {
        account_id: String,
        payment_method: PaymentMethod,
        now: u64,
    },
    /// Time passed for this account (the leader's biller).
    Tick { account_id: String, now: u64 },
    /// The gateway's answer for charge `key`; `event` is the gateway's event id when it
    /// came by webhook.
    Answer {
        key: String,
        result: ChargeResult,
        event: Option<String>,
        now: u64,
    },
    /// Moves the billing clock `secs` further ahead of the system clock (tests only).
    AdvanceClock { secs: u64 },
    /// The sandbox gateway's own ledger.
    Sandbox(sandbox::Command),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewerEvent {
    Cancel,
    Resume,
    /// To a plan that costs less (from the next renewal), or any plan during a trial.
    Downgrade {
        plan: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Done,
    /// The charge to send to the gateway (also for a key asked before: same charge).
    Charge(Box<Charge>),
    /// Renewal charges a tick asked for.
    Renewals(Vec<String>),
    Sandbox(sandbox::Applied),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("there is no plan {0:?}; GET /api/v1/plans lists them")]
    UnknownPlan(String),
    #[error("the plan {plan} has no price in {currency}")]
    NotSoldIn { plan: String, currency: String },
    #[error("this account already has a subscription; change its plan instead")]
    AlreadySubscribed,
    #[error("this account has no subscription; choose a plan first")]
    NotSubscribed,
    #[error("a payment for this account is still being confirmed; check again in a minute")]
    PaymentInProgress,
    #[error("{0}")]
    Lifecycle(String),
    #[error("{plan} does not cost more than the current plan; downgrades wait for the renewal")]
    NotAnUpgrade { plan: String },
    #[error("no such charge")]
    UnknownCharge,
    #[error("this charge already has its answer; nothing changed")]
    AlreadyAnswered,
    #[error("gateway event {0} was already applied; nothing changed")]
    DuplicateEvent(String),
    #[error("{0}")]
    Money(String),
    #[error("{0}")]
    Sandbox(String),
}

pub type Outcome = Result<Applied, Rejection>;

impl From<Refusal> for Rejection {
    fn from(r: Refusal) -> Self {
        Rejection::Lifecycle(r.to_string())
    }
}

fn money_error(e: impl std::fmt::Display) -> Rejection {
    Rejection::Money(e.to_string())
}

pub fn find_plan(id: &str) -> Result<Plan, Rejection> {
    plan::default_plans()
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| Rejection::UnknownPlan(id.to_owned()))
}

fn price_of(plan: &Plan, currency: Currency) -> Result<Money, Rejection> {
    plan.price(currency).ok_or_else(|| Rejection::NotSoldIn {
        plan: plan.id.clone(),
        currency: currency.code().to_owned(),
    })
}

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    Ok(match cmd {
        Command::Checkout {
            key,
            account_id,
            email,
            plan,
            country,
            customer,
            payment_method,
            now,
        } => checkout(
            tx,
            Checkout {
                key,
                account_id,
                email,
                plan,
                country,
                customer,
                payment_method,
                now: *now,
            },
        )?,
        Command::Upgrade {
            key,
            account_id,
            plan,
            now,
        } => upgrade(tx, key, account_id, plan, *now)?,
        Command::Lifecycle {
            account_id,
            event,
            now,
        } => lifecycle(tx, account_id, event, *now)?,
        Command::UpdatePaymentMethod {
            account_id,
            payment_method,
            now,
        } => update_payment_method(tx, account_id, payment_method, *now)?,
        Command::Tick { account_id, now } => tick(tx, account_id, *now)?,
        Command::Answer {
            key,
            result,
            event,
            now,
        } => answer(tx, key, result, event.as_deref(), *now)?,
        Command::AdvanceClock { secs } => {
            let offset = clock_offset(tx)?.saturating_add(*secs);
            COUNTERS.put(tx, b"clock_offset", &offset)?;
            Ok(Applied::Done)
        }
        Command::Sandbox(c) => sandbox::apply(tx, c)?
            .map(Applied::Sandbox)
            .map_err(|e| Rejection::Sandbox(e.to_string())),
    })
}

struct Checkout<'a> {
    key: &'a str,
    account_id: &'a str,
    email: &'a str,
    plan: &'a str,
    country: &'a str,
    customer: &'a str,
    payment_method: &'a PaymentMethod,
    now: u64,
}

fn checkout(tx: &WriteTransaction, c: Checkout<'_>) -> Result<Outcome, StoreError> {
    if let Some(existing) = CHARGES.get(tx, c.key.as_bytes())? {
        return Ok(Ok(Applied::Charge(Box::new(existing))));
    }
    let previous = ACCOUNTS.get(tx, c.account_id.as_bytes())?;
    if previous
        .as_ref()
        .and_then(|a| a.subscription.as_ref())
        .is_some_and(|s| !s.status.is_ended())
    {
        return Ok(Err(Rejection::AlreadySubscribed));
    }
    if let Err(r) = settle_last_charge(tx, previous.as_ref())? {
        return Ok(Err(r));
    }
    let plan = match find_plan(c.plan) {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let currency = Currency::for_country(c.country);
    let price = match price_of(&plan, currency) {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let account = BillingAccount {
        country: c.country.to_owned(),
        currency,
        customer: c.customer.to_owned(),
        payment_method: Some(c.payment_method.clone()),
        last_charge: Some(c.key.to_owned()),
        due_at: previous.as_ref().and_then(|a| a.due_at),
        subscription: previous.and_then(|a| a.subscription),
    };
    ACCOUNTS.put(tx, c.account_id.as_bytes(), &account)?;
    let lines = vec![Line {
        description: format!("Marquee {} — first month ({})", plan.name, c.email),
        amount: price,
    }];
    let charge = new_charge(
        c.account_id,
        &account,
        Purpose::Checkout { plan: plan.id },
        lines,
        c.now,
    );
    let charge = match charge {
        Ok(ch) => ch,
        Err(r) => return Ok(Err(r)),
    };
    record_charge(tx, c.key, &charge)?;
    Ok(Ok(Applied::Charge(Box::new(charge))))
}

/// A charge for `lines`, totalled with the account's country's tax.
fn new_charge(
    account_id: &str,
    account: &BillingAccount,
    purpose: Purpose,
    lines: Vec<Line>,
    now: u64,
) -> Result<Charge, Rejection> {
    let draft =
        Invoice::new("draft", now, account_id, &account.country, lines).map_err(money_error)?;
    Ok(Charge {
        account_id: account_id.to_owned(),
        purpose,
        payment_method: account.payment_method.as_ref().map(|p| p.id.clone()),
        customer: account.customer.clone(),
        amount: draft.total,
        lines: draft.lines,
        created_at: now,
        status: ChargeStatus::Unanswered,
    })
}

/// Before a new checkout or upgrade: one still being confirmed refuses it (a second payment
/// would be taken for the same thing); one waiting for a challenge the viewer walked away from
/// is given up, so its page can no longer pay.
fn settle_last_charge(
    tx: &WriteTransaction,
    account: Option<&BillingAccount>,
) -> Result<Result<(), Rejection>, StoreError> {
    let Some(key) = account.and_then(|a| a.last_charge.as_deref()) else {
        return Ok(Ok(()));
    };
    let Some(mut last) = CHARGES.get(tx, key.as_bytes())? else {
        return Ok(Ok(()));
    };
    match last.status {
        ChargeStatus::Unanswered => Ok(Err(Rejection::PaymentInProgress)),
        ChargeStatus::RequiresAction { .. } => {
            last.status = ChargeStatus::Failed {
                code: "superseded".into(),
                message: "replaced by a newer payment before it was confirmed".into(),
            };
            CHARGES.put(tx, key.as_bytes(), &last)?;
            UNANSWERED.remove(tx, key.as_bytes())?;
            Ok(Ok(()))
        }
        _ => Ok(Ok(())),
    }
}

fn record_charge(tx: &WriteTransaction, key: &str, charge: &Charge) -> Result<(), StoreError> {
    CHARGES.put(tx, key.as_bytes(), charge)?;
    UNANSWERED.put(tx, key.as_bytes(), &())
}

fn upgrade(
    tx: &WriteTransaction,
    key: &str,
    account_id: &str,
    to: &str,
    now: u64,
) -> Result<Outcome, StoreError> {
    if let Some(existing) = CHARGES.get(tx, key.as_bytes())? {
        return Ok(Ok(Applied::Charge(Box::new(existing))));
    }
    let Some((account, sub)) = live(tx, account_id)? else {
        return Ok(Err(Rejection::NotSubscribed));
    };
    if let Err(r) = settle_last_charge(tx, Some(&account))? {
        return Ok(Err(r));
    }
    let decided = (|| {
        if sub.charge_pending {
            return Err(Rejection::PaymentInProgress);
        }
        if sub.status != Status::Active {
            // In a trial nothing was paid, so any change is free; past due pays first.
            let refusal = sub.apply(
                &Event::ChangePlan {
                    plan: to.to_owned(),
                    upgrade: true,
                },
                now,
            );
            return Err(refusal.err().map_or(
                Rejection::Lifecycle("during a free trial, change plans without paying".into()),
                Rejection::from,
            ));
        }
        let (from, target) = (find_plan(&sub.plan)?, find_plan(to)?);
        if !from.is_upgrade_to(&target, account.currency) {
            return Err(Rejection::NotAnUpgrade { plan: target.id });
        }
        let (old, new) = (
            price_of(&from, account.currency)?,
            price_of(&target, account.currency)?,
        );
        let cost = proration::upgrade(old, new, sub.period_start, sub.period_end, now)
            .map_err(money_error)?;
        let lines = vec![Line {
            description: format!(
                "Upgrade from {} to {} for the rest of this period",
                from.name, target.name
            ),
            amount: cost.due,
        }];
        let purpose = Purpose::Upgrade {
            from: from.id,
            to: target.id,
            period_start: sub.period_start,
        };
        new_charge(account_id, &account, purpose, lines, now)
    })();
    let charge = match decided {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    record_charge(tx, key, &charge)?;
    let mut account = account;
    account.last_charge = Some(key.to_owned());
    ACCOUNTS.put(tx, account_id.as_bytes(), &account)?;
    Ok(Ok(Applied::Charge(Box::new(charge))))
}

/// The account and its subscription, when it has one that has not ended.
fn live(
    tx: &impl Reads,
    account_id: &str,
) -> Result<Option<(BillingAccount, Subscription)>, StoreError> {
    Ok(ACCOUNTS.get(tx, account_id.as_bytes())?.and_then(|a| {
        let sub = a.subscription.clone()?;
        (!sub.status.is_ended()).then_some((a, sub))
    }))
}

fn lifecycle(
    tx: &WriteTransaction,
    account_id: &str,
    event: &ViewerEvent,
    now: u64,
) -> Result<Outcome, StoreError> {
    let Some((account, sub)) = live(tx, account_id)? else {
        return Ok(Err(Rejection::NotSubscribed));
    };
    let event = match event {
        ViewerEvent::Cancel => Event::Cancel,
        ViewerEvent::Resume => Event::Resume,
        ViewerEvent::Downgrade { plan } => {
            let (from, to) = match (find_plan(&sub.plan), find_plan(plan)) {
                (Ok(f), Ok(t)) => (f, t),
                (Err(r), _) | (_, Err(r)) => return Ok(Err(r)),
            };
            if sub.status != Status::Trialing && from.is_upgrade_to(&to, account.currency) {
                return Ok(Err(Rejection::Lifecycle(format!(
                    "{} costs more: upgrade instead (it applies now, prorated)",
                    to.name
                ))));
            }
            Event::ChangePlan {
                plan: to.id,
                upgrade: false,
            }
        }
    };
    match sub.apply(&event, now) {
        Ok(step) => {
            store(tx, account_id, account, step.next)?;
            Ok(Ok(Applied::Done))
        }
        Err(r) => Ok(Err(r.into())),
    }
}

fn update_payment_method(
    tx: &WriteTransaction,
    account_id: &str,
    method: &PaymentMethod,
    now: u64,
) -> Result<Outcome, StoreError> {
    let Some(mut account) = ACCOUNTS.get(tx, account_id.as_bytes())? else {
        return Ok(Err(Rejection::NotSubscribed));
    };
    account.payment_method = Some(method.clone());
    let Some(sub) = account
        .subscription
        .clone()
        .filter(|s| !s.status.is_ended())
    else {
        ACCOUNTS.put(tx, account_id.as_bytes(), &account)?;
        return Ok(Ok(Applied::Done));
    };
    step_with_renewals(
        tx,
        account_id,
        account,
        &sub,
        &Event::PaymentMethodUpdated,
        now,
    )
}

fn tick(tx: &WriteTransaction, account_id: &str, now: u64) -> Result<Outcome, StoreError> {
    let Some((account, sub)) = live(tx, account_id)? else {
        return Ok(Ok(Applied::Renewals(Vec::new())));
    };
    step_with_renewals(tx, account_id, account, &sub, &Event::Tick, now)
}

/// Applies `event` and records the renewal charges it asks for.
fn step_with_renewals(
    tx: &WriteTransaction,
    account_id: &str,
    account: BillingAccount,
    sub: &Subscription,
    event: &Event,
    now: u64,
) -> Result<Outcome, StoreError> {
    let step = match sub.apply(event, now) {
        Ok(s) => s,
        Err(r) => return Ok(Err(r.into())),
    };
    match renewal_charges(tx, account_id, &account, &step.actions, now)? {
        Ok(keys) => {
            store(tx, account_id, account, step.next)?;
            Ok(Ok(Applied::Renewals(keys)))
        }
        Err(r) => Ok(Err(r)),
    }
}

/// The charge key of a renewal: the same on every node and after any failover.
pub fn renewal_key(account_id: &str, period_start: u64, attempt: u32) -> String {
    format!("renewal-{account_id}-{period_start}-{attempt}")
}

/// Records the charges a step's `ChargeRenewal` actions ask for.
fn renewal_charges(
    tx: &WriteTransaction,
    account_id: &str,
    account: &BillingAccount,
    actions: &[Action],
    now: u64,
) -> Result<Result<Vec<String>, Rejection>, StoreError> {
    let mut keys = Vec::new();
    for action in actions {
        let Action::ChargeRenewal {
            plan,
            period_start,
            attempt,
        } = action
        else {
            continue;
        };
        let key = renewal_key(account_id, *period_start, *attempt);
        if CHARGES.contains(tx, key.as_bytes())? {
            continue;
        }
        let decided = find_plan(plan).and_then(|p| {
            let price = price_of(&p, account.currency)?;
            let lines = vec![Line {
                description: format!("Marquee {} — renewal", p.name),
                amount: price,
            }];
            let purpose = Purpose::Renewal {
                plan: p.id,
                period_start: *period_start,
                attempt: *attempt,
            };
            new_charge(account_id, account, purpose, lines, now)
        });
        match decided {
            Ok(charge) => record_charge(tx, &key, &charge)?,
            Err(r) => return Ok(Err(r)),
        }
        keys.push(key);
    }
    Ok(Ok(keys))
}

fn answer(
    tx: &WriteTransaction,
    key: &str,
    result: &ChargeResult,
    event: Option<&str>,
    now: u64,
) -> Result<Outcome, StoreError> {
    if let Some(id) = event
        && EVENTS.contains(tx, id.as_bytes())?
    {
        return Ok(Err(Rejection::DuplicateEvent(id.to_owned())));
    }
    let Some(mut charge) = CHARGES.get(tx, key.as_bytes())? else {
        return Ok(Err(Rejection::UnknownCharge));
    };
    let open = matches!(
        charge.status,
        ChargeStatus::Unanswered | ChargeStatus::RequiresAction { .. }
    );
    if !open {
        return Ok(Err(Rejection::AlreadyAnswered));
    }
    let Some(account) = ACCOUNTS.get(tx, charge.account_id.as_bytes())? else {
        return Ok(Err(Rejection::NotSubscribed));
    };
    let account_id = charge.account_id.clone();
    let sub = account.subscription.clone();
    charge.status = match result {
        ChargeResult::RequiresAction { payment_id, url } if !charge.purpose.off_session() => {
            ChargeStatus::RequiresAction {
                payment_id: payment_id.clone(),
                url: url.clone(),
            }
        }
        ChargeResult::RequiresAction { .. } => ChargeStatus::Failed {
            code: "authentication_required".into(),
            message: "the card asks for authentication, which a renewal cannot give; \
                      pay from the account page"
                .into(),
        },
        ChargeResult::Failed { code, message } => ChargeStatus::Failed {
            code: code.clone(),
            message: message.clone(),
        },
        ChargeResult::Succeeded { payment_id } => {
            let number = next_invoice_number(tx)?;
            let invoice = match Invoice::new(
                &number,
                now,
                &account_id,
                &account.country,
                charge.lines.clone(),
            ) {
                Ok(i) => i,
                Err(e) => return Ok(Err(money_error(e))),
            };
            INVOICES.put(
                tx,
                &key::join(&[account_id.as_bytes(), number.as_bytes()]),
                &invoice,
            )?;
            ChargeStatus::Succeeded {
                payment_id: payment_id.clone(),
                invoice: number,
            }
        }
    };
    let next = match (&charge.status, &charge.purpose, sub) {
        (ChargeStatus::RequiresAction { .. }, _, sub) => sub,
        // A live subscription is never replaced (both tabs paid): the later payment is kept on
        // record, not applied.
        (ChargeStatus::Succeeded { .. }, Purpose::Checkout { .. }, Some(sub))
            if !sub.status.is_ended() =>
        {
            tracing::warn!(%key, "a second checkout was paid for a live subscription");
            Some(sub)
        }
        (ChargeStatus::Succeeded { .. }, Purpose::Checkout { plan }, _) => {
            Some(Subscription::paid(plan, now))
        }
        (
            status,
            Purpose::Renewal {
                period_start,
                attempt,
                ..
            },
            Some(sub),
        ) if sub.charge_pending
            && sub.period_end == *period_start
            && sub.failed_attempts + 1 == *attempt =>
        {
            let event = match status {
                ChargeStatus::Succeeded { .. } => Event::PaymentSucceeded,
                _ => Event::PaymentFailed,
            };
            Some(sub.apply(&event, now).map_or(sub, |s| s.next))
        }
        (
            ChargeStatus::Succeeded { .. },
            Purpose::Upgrade {
                from,
                to,
                period_start,
            },
            Some(sub),
        ) if sub.plan == *from && sub.period_start == *period_start => {
            let change = Event::ChangePlan {
                plan: to.clone(),
                upgrade: true,
            };
            Some(sub.apply(&change, now).map_or(sub, |s| s.next))
        }
        // Anything else (a renewal the subscription no longer waits for, an upgrade priced for
        // a period that has passed) is recorded, not applied.
        (_, _, sub) => sub,
    };
    // Answered, or waiting for the holder: either way the biller has nothing to send.
    UNANSWERED.remove(tx, key.as_bytes())?;
    CHARGES.put(tx, key.as_bytes(), &charge)?;
    if let Some(id) = event {
        EVENTS.put(tx, id.as_bytes(), &now)?;
    }
    match next {
        Some(sub) => store(tx, &account_id, account, sub)?,
        None => ACCOUNTS.put(tx, account_id.as_bytes(), &account)?,
    }
    Ok(Ok(Applied::Charge(Box::new(charge))))
}

fn next_invoice_number(tx: &WriteTransaction) -> Result<String, StoreError> {
    let n = COUNTERS.get(tx, b"invoice_seq")?.unwrap_or(0) + 1;
    COUNTERS.put(tx, b"invoice_seq", &n)?;
    Ok(format!("MQ-{n:010}"))
}

/// Saves the subscription and files the account under its next due time.
fn store(
    tx: &WriteTransaction,
    account_id: &str,
    mut account: BillingAccount,
    sub: Subscription,
) -> Result<(), StoreError> {
    if let Some(old) = account.due_at {
        DUE.remove(tx, &due_key(old, account_id))?;
    }
    account.due_at = sub.next_due();
    if let Some(at) = account.due_at {
        DUE.put(tx, &due_key(at, account_id), &())?;
    }
    account.subscription = Some(sub);
    ACCOUNTS.put(tx, account_id.as_bytes(), &account)
}

fn due_key(at: u64, account_id: &str) -> Vec<u8> {
    key::join(&[&key::u64(at), account_id.as_bytes()])
}

// --- Reads ---

pub fn account(tx: &impl Reads, account_id: &str) -> Result<Option<BillingAccount>, StoreError> {
    ACCOUNTS.get(tx, account_id.as_bytes())
}

pub fn charge(tx: &impl Reads, key: &str) -> Result<Option<Charge>, StoreError> {
    CHARGES.get(tx, key.as_bytes())
}

/// Accounts due by `now`, oldest due first.
pub fn due_accounts(tx: &impl Reads, now: u64, max: usize) -> Result<Vec<String>, StoreError> {
    let end = key::u64(now.saturating_add(1));
    let rows = DUE.range(tx, &[], Some(&end), false, max)?;
    Ok(rows.iter().map(|(k, ())| key::last_part(k)).collect())
}

/// Charges the gateway has not answered yet (the biller sends them).
pub fn unanswered(tx: &impl Reads, max: usize) -> Result<Vec<(String, Charge)>, StoreError> {
    let mut out = Vec::new();
    for (k, ()) in UNANSWERED.prefix(tx, &[], false, max)? {
        let k = String::from_utf8_lossy(&k).into_owned();
        if let Some(c) = CHARGES.get(tx, k.as_bytes())?
            && matches!(c.status, ChargeStatus::Unanswered)
        {
            out.push((k, c));
        }
    }
    Ok(out)
}

/// Invoices one listing shows: eight years of monthly bills and then some.
pub const MAX_INVOICES_LISTED: usize = 120;

/// The account's invoices, newest first.
pub fn invoices(tx: &impl Reads, account_id: &str) -> Result<Vec<Invoice>, StoreError> {
    let prefix = key::join(&[account_id.as_bytes(), b""]);
    Ok(INVOICES
        .prefix(tx, &prefix, true, MAX_INVOICES_LISTED)?
        .into_iter()
        .map(|(_, i)| i)
        .collect())
}

pub fn invoice(
    tx: &impl Reads,
    account_id: &str,
    number: &str,
) -> Result<Option<Invoice>, StoreError> {
    INVOICES.get(tx, &key::join(&[account_id.as_bytes(), number.as_bytes()]))
}

pub fn clock_offset(tx: &impl Reads) -> Result<u64, StoreError> {
    Ok(COUNTERS.get(tx, b"clock_offset")?.unwrap_or(0))
}

/// The plan the account may watch with at `now`, if any.
pub fn entitled_plan(
    tx: &impl Reads,
    account_id: &str,
    now: u64,
) -> Result<Option<Plan>, StoreError> {
    let Some(account) = ACCOUNTS.get(tx, account_id.as_bytes())? else {
        return Ok(None);
    };
    Ok(account
        .subscription
        .as_ref()
        .and_then(|s| s.entitled_plan(now))
        .and_then(|id| find_plan(id).ok()))
}
