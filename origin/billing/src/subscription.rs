//! The subscription lifecycle as a pure state machine.
//!
//! Trialing → Active ⇄ PastDue → Cancelled or Expired. Every change comes from an [`Event`]
//! applied at a time the caller gives (a test moves that clock; origin's leader ticks every
//! subscription). The machine answers the next state and the [`Action`]s the caller owes
//! (charge, notify) and never does I/O. A charge is asked for once and then awaited: until
//! its result arrives no tick asks again, so a renewal is charged once however often the
//! clock ticks, and a result that arrives twice (a replayed webhook) is refused the second
//! time and changes nothing.

use serde::{Deserialize, Serialize};

const DAY: u64 = 86_400;
/// Billing periods are 30 days (not calendar months), so a period's end is plain arithmetic.
pub const PERIOD_SECS: u64 = 30 * DAY;
pub const TRIAL_SECS: u64 = 7 * DAY;
/// After a failed renewal, retries this long after the due date.
pub const RETRY_AFTER_SECS: [u64; 3] = [DAY, 3 * DAY, 5 * DAY];
/// A past-due account keeps playing this long after the due date, then expires.
pub const GRACE_SECS: u64 = 7 * DAY;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Trialing,
    Active,
    PastDue,
    Cancelled,
    Expired,
}

impl Status {
    pub fn is_ended(self) -> bool {
        matches!(self, Status::Cancelled | Status::Expired)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Subscription {
    pub plan: String,
    pub status: Status,
    /// The current period `[period_start, period_end)`; when past due, `period_end` is the
    /// date the unpaid renewal was due.
    pub period_start: u64,
    pub period_end: u64,
    pub cancel_at_period_end: bool,
    /// A cheaper plan that takes over at the next renewal.
    pub next_plan: Option<String>,
    /// Failed attempts at the renewal now due (0 unless past due).
    pub failed_attempts: u32,
    /// A charge was asked for and its result has not arrived.
    pub charge_pending: bool,
    pub ended_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// Time passed: renewals, retries, grace and scheduled cancellations are due by now.
    Tick,
    /// The pending charge went through.
    PaymentSucceeded,
    /// The pending charge was declined.
    PaymentFailed,
    /// Cancel: at the period's end when in good standing, at once when past due.
    Cancel,
    /// Undo a cancellation that has not taken effect.
    Resume,
    /// Move to `plan`; `upgrade` (it costs more, `Plan::is_upgrade_to`) applies now and is
    /// prorated, a downgrade waits for the period's end.
    ChangePlan { plan: String, upgrade: bool },
    /// A new card: a past-due renewal is tried again at once.
    PaymentMethodUpdated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Charge `plan` for the period starting `period_start`; `attempt` counts from 1. The
    /// three together make the gateway's idempotency key.
    ChargeRenewal {
        plan: String,
        period_start: u64,
        attempt: u32,
    },
    /// Charge the prorated difference between the plans now (`proration::upgrade` over the
    /// current period).
    ChargeUpgrade {
        from: String,
        to: String,
    },
    Notify(Notice),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    Renewed,
    PaymentFailed,
    CancellationScheduled,
    Cancelled,
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the subscription has ended; start a new one")]
    Ended,
    #[error("no charge is awaiting a result (already applied?)")]
    NoChargePending,
    #[error("nothing to resume: no cancellation is scheduled")]
    NothingToResume,
    #[error("already on that plan")]
    SamePlan,
    #[error("the subscription is past due: update the payment method first")]
    PastDue,
    #[error("a payment is being confirmed; try again in a minute")]
    ChargePending,
}

/// A transition: the state after the event and what the caller must now do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub next: Subscription,
    pub actions: Vec<Action>,
}

impl Subscription {
    /// A free trial of `plan` from `now`; the first charge is due when it ends.
    pub fn trial(plan: &str, now: u64) -> Subscription {
        Subscription::new(plan, Status::Trialing, now, now + TRIAL_SECS)
    }

    /// A subscription whose first period was paid at sign-up.
    pub fn paid(plan: &str, now: u64) -> Subscription {
        Subscription::new(plan, Status::Active, now, now + PERIOD_SECS)
    }

    fn new(plan: &str, status: Status, start: u64, end: u64) -> Subscription {
        Subscription {
            plan: plan.to_owned(),
            status,
            period_start: start,
            period_end: end,
            cancel_at_period_end: false,
            next_plan: None,
            failed_attempts: 0,
            charge_pending: false,
            ended_at: None,
        }
    }

    /// The plan the account may use at `now`, if any: in trial, active (a renewal in flight
    /// included) or past due within the grace period.
    pub fn entitled_plan(&self, now: u64) -> Option<&str> {
        let ok = match self.status {
            // A renewal in flight keeps the account playing, but not past the grace period.
            Status::Trialing | Status::Active => {
                !self.charge_pending || now < self.period_end + GRACE_SECS
            }
            Status::PastDue => now < self.period_end + GRACE_SECS,
            Status::Cancelled | Status::Expired => false,
        };
        ok.then_some(self.plan.as_str())
    }

    /// The first moment a [`Event::Tick`] can change this subscription; `None` when only
    /// another event can (it has ended, or a renewal's result is awaited). Lets a caller keep
    /// a due-date index instead of ticking every subscription every time.
    pub fn next_due(&self) -> Option<u64> {
        let due = self.period_end;
        match self.status {
            Status::Cancelled | Status::Expired => None,
            Status::Trialing | Status::Active if self.cancel_at_period_end => Some(due),
            _ if self.charge_pending => None,
            Status::Trialing | Status::Active => Some(due),
            Status::PastDue => {
                let retry = (self.failed_attempts as usize)
                    .checked_sub(1)
                    .and_then(|i| RETRY_AFTER_SECS.get(i))
                    .map(|after| due + after);
                let expiry = due + GRACE_SECS;
                Some(retry.map_or(expiry, |r| r.min(expiry)))
            }
        }
    }

    pub fn apply(&self, event: &Event, now: u64) -> Result<Step, Refusal> {
        if self.status.is_ended() {
            return match event {
                Event::Tick => Ok(self.unchanged()),
                _ => Err(Refusal::Ended),
            };
        }
        match event {
            Event::Tick => Ok(self.tick(now)),
            Event::PaymentSucceeded => self.paid_renewal(),
            Event::PaymentFailed => self.failed_renewal(),
            Event::Cancel => self.cancel(now),
            Event::Resume => self.resume(),
            Event::ChangePlan { plan, upgrade } => self.change_plan(plan, *upgrade),
            Event::PaymentMethodUpdated => Ok(self.retry_now()),
        }
    }

    fn unchanged(&self) -> Step {
        Step {
            next: self.clone(),
            actions: Vec::new(),
        }
    }

    /// Asks for the renewal charge (the caller sends its result back).
    fn charge(mut self) -> Step {
        self.charge_pending = true;
        let action = Action::ChargeRenewal {
            plan: self.plan.clone(),
            period_start: self.period_end,
            attempt: self.failed_attempts + 1,
        };
        Step::with_one(self, action)
    }

    fn end(mut self, status: Status, at: u64, notice: Notice) -> Step {
        self.status = status;
        self.ended_at = Some(at);
        self.charge_pending = false;
        Step::with_one(self, Action::Notify(notice))
    }

    fn tick(&self, now: u64) -> Step {
        let due = self.period_end;
        match self.status {
            Status::Trialing | Status::Active if now >= due => {
                if self.cancel_at_period_end {
                    return self.clone().end(Status::Cancelled, due, Notice::Cancelled);
                }
                if self.charge_pending {
                    return self.unchanged();
                }
                let mut next = self.clone();
                if let Some(plan) = next.next_plan.take() {
                    next.plan = plan;
                }
                next.charge()
            }
            // Nothing ends while a charge is awaited: its answer decides (a late success must
            // not meet an ended subscription).
            Status::PastDue if self.charge_pending => self.unchanged(),
            Status::PastDue if now >= due + GRACE_SECS => {
                self.clone()
                    .end(Status::Expired, due + GRACE_SECS, Notice::Expired)
            }
            Status::PastDue => {
                let retry_due = (self.failed_attempts as usize)
                    .checked_sub(1)
                    .and_then(|i| RETRY_AFTER_SECS.get(i))
                    .is_some_and(|after| now >= due + after);
                if retry_due {
                    self.clone().charge()
                } else {
                    self.unchanged()
                }
            }
            _ => self.unchanged(),
        }
    }

    fn paid_renewal(&self) -> Result<Step, Refusal> {
        if !self.charge_pending {
            return Err(Refusal::NoChargePending);
        }
        let mut next = self.clone();
        next.status = Status::Active;
        next.period_start = self.period_end;
        next.period_end = self.period_end + PERIOD_SECS;
        next.failed_attempts = 0;
        next.charge_pending = false;
        Ok(Step::with_one(next, Action::Notify(Notice::Renewed)))
    }

    fn failed_renewal(&self) -> Result<Step, Refusal> {
        if !self.charge_pending {
            return Err(Refusal::NoChargePending);
        }
        let mut next = self.clone();
        next.status = Status::PastDue;
        next.failed_attempts += 1;
        next.charge_pending = false;
        let actions = if self.status == Status::PastDue {
            Vec::new()
        } else {
            vec![Action::Notify(Notice::PaymentFailed)]
        };
        Ok(Step::with(next, actions))
    }

    fn cancel(&self, now: u64) -> Result<Step, Refusal> {
        if self.charge_pending {
            return Err(Refusal::ChargePending);
        }
        Ok(match self.status {
            Status::PastDue => self.clone().end(Status::Cancelled, now, Notice::Cancelled),
            _ if self.cancel_at_period_end => self.unchanged(),
            _ => {
                let mut next = self.clone();
                next.cancel_at_period_end = true;
                Step::with_one(next, Action::Notify(Notice::CancellationScheduled))
            }
        })
    }

    fn resume(&self) -> Result<Step, Refusal> {
        if !self.cancel_at_period_end {
            return Err(Refusal::NothingToResume);
        }
        let mut next = self.clone();
        next.cancel_at_period_end = false;
        Ok(Step::with(next, Vec::new()))
    }

    fn change_plan(&self, plan: &str, upgrade: bool) -> Result<Step, Refusal> {
        if self.status == Status::PastDue {
            return Err(Refusal::PastDue);
        }
        if plan == self.plan {
            return Err(Refusal::SamePlan);
        }
        if self.charge_pending {
            return Err(Refusal::ChargePending);
        }
        let mut next = self.clone();
        if self.status == Status::Trialing {
            // Nothing has been paid yet: the trial simply goes on with the other plan.
            next.plan = plan.to_owned();
            next.next_plan = None;
            return Ok(Step::with(next, Vec::new()));
        }
        if !upgrade {
            next.next_plan = Some(plan.to_owned());
            return Ok(Step::with(next, Vec::new()));
        }
        next.plan = plan.to_owned();
        next.next_plan = None;
        let action = Action::ChargeUpgrade {
            from: self.plan.clone(),
            to: plan.to_owned(),
        };
        Ok(Step::with_one(next, action))
    }

    fn retry_now(&self) -> Step {
        if self.status == Status::PastDue && !self.charge_pending {
            self.clone().charge()
        } else {
            self.unchanged()
        }
    }
}

impl Step {
    fn with(next: Subscription, actions: Vec<Action>) -> Step {
        Step { next, actions }
    }

    fn with_one(next: Subscription, action: Action) -> Step {
        Step {
            next,
            actions: vec![action],
        }
    }
}

#[cfg(test)]
mod tests;
