//! The lifecycle, by example and exhaustively: every state reachable from a trial or a paid
//! sign-up, under every event at every interesting moment, keeps the invariants.

use std::collections::{HashSet, VecDeque};

use super::*;

const T0: u64 = 1_800_000_000;

fn renewal(sub: &Subscription, now: u64) -> Step {
    sub.apply(&Event::Tick, now).unwrap()
}

#[test]
fn a_trial_renews_into_a_paid_period() {
    let sub = Subscription::trial("standard", T0);
    assert_eq!(
        renewal(&sub, T0 + DAY).actions,
        vec![],
        "nothing due mid-trial"
    );
    let due = T0 + TRIAL_SECS;
    let step = renewal(&sub, due);
    assert_eq!(
        step.actions,
        vec![Action::ChargeRenewal {
            plan: "standard".into(),
            period_start: due,
            attempt: 1
        }]
    );
    assert_eq!(renewal(&step.next, due + 60).actions, vec![], "asked once");
    let paid = step.next.apply(&Event::PaymentSucceeded, due + 1).unwrap();
    assert_eq!(paid.next.status, Status::Active);
    assert_eq!(
        (paid.next.period_start, paid.next.period_end),
        (due, due + PERIOD_SECS)
    );
    assert_eq!(
        paid.next.apply(&Event::PaymentSucceeded, due + 2),
        Err(Refusal::NoChargePending),
        "a replayed success changes nothing"
    );
}

#[test]
fn a_declined_renewal_retries_on_schedule_then_expires_after_grace() {
    let sub = Subscription::paid("basic", T0);
    let due = sub.period_end;
    let asked = renewal(&sub, due).next;
    let failed = asked.apply(&Event::PaymentFailed, due).unwrap();
    assert_eq!(failed.actions, vec![Action::Notify(Notice::PaymentFailed)]);
    let mut sub = failed.next;
    assert_eq!(sub.status, Status::PastDue);
    assert_eq!(sub.entitled_plan(due + DAY), Some("basic"), "grace period");
    for (i, after) in RETRY_AFTER_SECS.iter().enumerate() {
        assert_eq!(renewal(&sub, due + after - 1).actions, vec![], "not before");
        let step = renewal(&sub, due + after);
        assert_eq!(
            step.actions,
            vec![Action::ChargeRenewal {
                plan: "basic".into(),
                period_start: due,
                attempt: i as u32 + 2
            }]
        );
        sub = step
            .next
            .apply(&Event::PaymentFailed, due + after)
            .unwrap()
            .next;
    }
    assert_eq!(
        renewal(&sub, due + 6 * DAY).actions,
        vec![],
        "retries exhausted"
    );
    let expired = renewal(&sub, due + GRACE_SECS);
    assert_eq!(expired.next.status, Status::Expired);
    assert_eq!(expired.actions, vec![Action::Notify(Notice::Expired)]);
    assert_eq!(expired.next.entitled_plan(due + GRACE_SECS), None);
}

#[test]
fn a_new_card_recovers_a_past_due_account_on_its_old_cycle() {
    let sub = Subscription::paid("premium", T0);
    let due = sub.period_end;
    let past_due = renewal(&sub, due)
        .next
        .apply(&Event::PaymentFailed, due)
        .unwrap()
        .next;
    let retry = past_due
        .apply(&Event::PaymentMethodUpdated, due + 3600)
        .unwrap();
    assert!(matches!(
        retry.actions[..],
        [Action::ChargeRenewal { attempt: 2, .. }]
    ));
    let active = retry
        .next
        .apply(&Event::PaymentSucceeded, due + 3600)
        .unwrap()
        .next;
    assert_eq!(active.status, Status::Active);
    assert_eq!(active.period_start, due, "the cycle does not move");
}

#[test]
fn cancelling_runs_to_the_period_end_and_can_be_undone_until_then() {
    let sub = Subscription::paid("standard", T0);
    let cancelling = sub.apply(&Event::Cancel, T0 + DAY).unwrap();
    assert_eq!(
        cancelling.actions,
        vec![Action::Notify(Notice::CancellationScheduled)]
    );
    assert_eq!(
        cancelling.next.entitled_plan(T0 + 2 * DAY),
        Some("standard")
    );
    let resumed = cancelling.next.apply(&Event::Resume, T0 + 2 * DAY).unwrap();
    assert!(!resumed.next.cancel_at_period_end);
    let ended = renewal(&cancelling.next, sub.period_end);
    assert_eq!(ended.next.status, Status::Cancelled);
    assert_eq!(ended.next.ended_at, Some(sub.period_end));
    assert!(
        !ended
            .actions
            .iter()
            .any(|a| matches!(a, Action::ChargeRenewal { .. })),
        "no charge for a cancelled period"
    );
    assert_eq!(
        ended.next.apply(&Event::Resume, sub.period_end),
        Err(Refusal::Ended)
    );
}

#[test]
fn upgrades_apply_now_and_downgrades_at_renewal() {
    let sub = Subscription::paid("standard", T0);
    let up = sub
        .apply(
            &Event::ChangePlan {
                plan: "premium".into(),
                upgrade: true,
            },
            T0 + DAY,
        )
        .unwrap();
    assert_eq!(up.next.plan, "premium");
    assert_eq!(
        up.actions,
        vec![Action::ChargeUpgrade {
            from: "standard".into(),
            to: "premium".into()
        }]
    );
    let down = up
        .next
        .apply(
            &Event::ChangePlan {
                plan: "basic".into(),
                upgrade: false,
            },
            T0 + 2 * DAY,
        )
        .unwrap();
    assert_eq!(
        (down.next.plan.as_str(), down.next.next_plan.as_deref()),
        ("premium", Some("basic"))
    );
    let renewed = renewal(&down.next, sub.period_end);
    assert!(matches!(
        &renewed.actions[..],
        [Action::ChargeRenewal { plan, .. }] if plan == "basic"
    ));
}

/// Every event, with the plan changes a viewer could ask for.
fn events() -> Vec<Event> {
    let mut all = vec![
        Event::Tick,
        Event::PaymentSucceeded,
        Event::PaymentFailed,
        Event::Cancel,
        Event::Resume,
        Event::PaymentMethodUpdated,
    ];
    for (plan, upgrade) in [("basic", false), ("standard", true), ("premium", true)] {
        all.push(Event::ChangePlan {
            plan: plan.into(),
            upgrade,
        });
    }
    all
}

/// Moments around a state's own dates: just before and at the due date, each retry and the
/// end of grace.
fn moments(sub: &Subscription) -> Vec<u64> {
    let due = sub.period_end;
    let mut at = vec![sub.period_start, due - 1, due];
    for after in RETRY_AFTER_SECS.iter().chain([&GRACE_SECS]) {
        at.extend([due + after - 1, due + after]);
    }
    at
}

fn check_invariants(before: &Subscription, event: &Event, now: u64, step: &Step) {
    let after = &step.next;
    let what = format!("{event:?} at {now} on {before:?}");
    assert!(after.period_end > after.period_start, "{what}");
    if before.status.is_ended() {
        assert_eq!(after, before, "an ended subscription never changes: {what}");
    }
    let renewals = step
        .actions
        .iter()
        .filter(|a| matches!(a, Action::ChargeRenewal { .. }))
        .count();
    if renewals > 0 {
        assert!(
            renewals == 1 && !before.charge_pending && after.charge_pending,
            "a renewal is asked for once, and only when none is pending: {what}"
        );
    }
    if after.status == Status::PastDue {
        assert!(after.failed_attempts >= 1, "{what}");
    }
    if before.charge_pending {
        assert!(
            !after.status.is_ended(),
            "nothing ends while a charge is awaited (a late success would be lost): {what}"
        );
    }
    if after.status.is_ended() {
        assert!(after.ended_at.is_some() && !after.charge_pending, "{what}");
        assert_eq!(after.entitled_plan(now), None, "{what}");
    }
    if after.status == Status::Expired && before.status != Status::Expired {
        assert!(
            matches!(event, Event::Tick) && before.status == Status::PastDue,
            "only grace running out expires: {what}"
        );
        assert!(now >= before.period_end + GRACE_SECS, "{what}");
    }
    if after.status == Status::Cancelled && before.status != Status::Cancelled {
        let by_viewer = matches!(event, Event::Cancel);
        let scheduled = matches!(event, Event::Tick) && before.cancel_at_period_end;
        assert!(by_viewer || scheduled, "only the viewer cancels: {what}");
    }
}

#[test]
fn every_reachable_state_keeps_the_invariants_under_every_event() {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::new();
    for start in [
        Subscription::trial("standard", T0),
        Subscription::paid("standard", T0),
    ] {
        seen.insert(start.clone());
        queue.push_back(start);
    }
    let mut transitions = 0;
    let mut statuses = HashSet::new();
    while let Some(sub) = queue.pop_front() {
        statuses.insert(sub.status);
        for now in moments(&sub) {
            for event in events() {
                let Ok(step) = sub.apply(&event, now) else {
                    continue;
                };
                transitions += 1;
                check_invariants(&sub, &event, now, &step);
                if event == Event::Tick && sub.next_due().is_none_or(|due| now < due) {
                    assert_eq!(
                        (&step.next, step.actions.len()),
                        (&sub, 0),
                        "a tick before next_due ({:?}) changed {sub:?} at {now}",
                        sub.next_due()
                    );
                }
                // Keep the search finite: three periods and five failed attempts are enough.
                if step.next.period_end <= T0 + 3 * PERIOD_SECS + TRIAL_SECS
                    && step.next.failed_attempts <= 5
                    && seen.insert(step.next.clone())
                {
                    queue.push_back(step.next);
                }
            }
        }
    }
    assert_eq!(statuses.len(), 5, "every status was reached: {statuses:?}");
    assert!(
        seen.len() > 50 && transitions > 1_000,
        "{} states",
        seen.len()
    );
}

#[test]
fn refusals_say_why_and_change_nothing() {
    let ended = Subscription::trial("basic", T0)
        .apply(&Event::Cancel, T0)
        .unwrap()
        .next;
    let ended = renewal(&ended, T0 + TRIAL_SECS).next;
    for event in events() {
        match ended.apply(&event, T0 + TRIAL_SECS) {
            Ok(step) => assert_eq!((event, step.next), (Event::Tick, ended.clone())),
            Err(refusal) => assert_eq!(refusal, Refusal::Ended),
        }
    }
    let sub = Subscription::paid("basic", T0);
    assert_eq!(
        sub.apply(
            &Event::ChangePlan {
                plan: "basic".into(),
                upgrade: false
            },
            T0
        ),
        Err(Refusal::SamePlan)
    );
    assert_eq!(sub.apply(&Event::Resume, T0), Err(Refusal::NothingToResume));
    assert!(Refusal::PastDue.to_string().contains("payment method"));
}

#[test]
fn a_charge_in_flight_holds_off_cancelling_and_the_end_of_grace() {
    let sub = Subscription::paid("basic", T0);
    let due = sub.period_end;
    let asked = renewal(&sub, due).next;
    assert_eq!(
        asked.apply(&Event::Cancel, due + 1),
        Err(Refusal::ChargePending)
    );
    let past_due = asked.apply(&Event::PaymentFailed, due).unwrap().next;
    let retry = renewal(&past_due, due + RETRY_AFTER_SECS[0]).next;
    assert!(retry.charge_pending);
    // Grace runs out while the retry is awaited: it waits for the answer.
    let late = renewal(&retry, due + GRACE_SECS + 60);
    assert_eq!((&late.next, late.actions.len()), (&retry, 0));
    assert_eq!(retry.next_due(), None);
    assert_eq!(
        retry.entitled_plan(due + GRACE_SECS),
        None,
        "no playing past grace meanwhile"
    );
    let paid = retry
        .apply(&Event::PaymentSucceeded, due + GRACE_SECS + 61)
        .unwrap();
    assert_eq!(
        paid.next.status,
        Status::Active,
        "the late payment is honoured"
    );
}
