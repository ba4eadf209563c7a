//! Billing's replicated decisions: checkout, renewals asked once however often the clock
//! ticks, answers applied once, and the sandbox ledger charging once per key.

use marquee_billing::Currency;
use marquee_billing::cards::Behaviour;
use marquee_billing::subscription::{PERIOD_SECS, RETRY_AFTER_SECS, Status};

use super::sandbox::ledger::{self, Command as Ledger, PaymentStatus, SavedCard};
use super::state::{self, Applied, ChargeResult, ChargeStatus, Command, PaymentMethod, Rejection};
use crate::state::testing::TestState;

const T0: u64 = 1_800_000_000;

fn card(id: &str) -> PaymentMethod {
    PaymentMethod {
        id: id.into(),
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2040,
    }
}

/// Ada's checkout of `plan` under charge `key`.
fn checkout_of(key: &str, plan: &str, country: &str, now: u64) -> Command {
    Command::Checkout {
        key: key.into(),
        account_id: "a1".into(),
        email: "ada@example.com".into(),
        plan: plan.into(),
        country: country.into(),
        customer: "cus_a1".into(),
        payment_method: card("pm_1"),
        now,
    }
}

fn checkout(s: &TestState, key: &str, country: &str) -> state::Charge {
    match s.apply(checkout_of(key, "standard", country, T0)).unwrap() {
        Applied::Charge(c) => *c,
        other => panic!("{other:?}"),
    }
}

fn answer(
    s: &TestState,
    key: &str,
    result: ChargeResult,
    event: Option<&str>,
    now: u64,
) -> Result<Applied, Rejection> {
    s.apply(Command::Answer {
        key: key.into(),
        result,
        event: event.map(str::to_owned),
        now,
    })
}

fn paid(id: &str) -> ChargeResult {
    ChargeResult::Succeeded {
        payment_id: id.into(),
    }
}

fn subscribed(s: &TestState) {
    checkout(s, "k1", "DE");
    answer(s, "k1", paid("pi_1"), None, T0).unwrap();
}

#[test]
fn a_paid_checkout_starts_the_subscription_and_issues_an_invoice_in_the_countrys_currency() {
    let s = TestState::new();
    let charge = checkout(&s, "k1", "DE");
    assert_eq!(charge.amount.currency(), Currency::Eur);
    assert_eq!(charge.amount.minor(), 1_399, "German prices include VAT");
    assert!(
        s.read(|tx| state::entitled_plan(tx, "a1", T0)).is_none(),
        "not before it is paid"
    );
    answer(&s, "k1", paid("pi_1"), None, T0).unwrap();
    let plan = s.read(|tx| state::entitled_plan(tx, "a1", T0)).unwrap();
    assert_eq!(plan.id, "standard");
    let invoices = s.read(|tx| state::invoices(tx, "a1"));
    assert_eq!(invoices.len(), 1);
    let inv = &invoices[0];
    assert_eq!(inv.total, charge.amount);
    assert_eq!(inv.net.minor() + inv.tax.minor(), inv.total.minor());
    assert_eq!(
        s.apply(checkout_of("k2", "basic", "DE", T0)),
        Err(Rejection::AlreadySubscribed)
    );
}

#[test]
fn a_declined_checkout_subscribes_nobody_and_a_replayed_answer_changes_nothing() {
    let s = TestState::new();
    checkout(&s, "k1", "US");
    let declined = ChargeResult::Failed {
        code: "card_declined".into(),
        message: "declined".into(),
    };
    answer(&s, "k1", declined.clone(), Some("evt_1"), T0).unwrap();
    assert!(s.read(|tx| state::entitled_plan(tx, "a1", T0)).is_none());
    assert_eq!(
        answer(&s, "k1", paid("pi_x"), Some("evt_1"), T0),
        Err(Rejection::DuplicateEvent("evt_1".into()))
    );
    assert_eq!(
        answer(&s, "k1", paid("pi_x"), Some("evt_2"), T0),
        Err(Rejection::AlreadyAnswered),
        "a late success for a charge already failed is not applied"
    );
    assert!(s.read(|tx| state::invoices(tx, "a1")).is_empty());
}

#[test]
fn a_renewal_is_asked_once_however_often_the_clock_ticks() {
    let s = TestState::new();
    subscribed(&s);
    let due = T0 + PERIOD_SECS;
    assert!(s.read(|tx| state::due_accounts(tx, due - 1, 10)).is_empty());
    assert_eq!(
        s.read(|tx| state::due_accounts(tx, due, 10)),
        vec!["a1".to_owned()]
    );
    let tick = |now| {
        s.apply(Command::Tick {
            account_id: "a1".into(),
            now,
        })
        .unwrap()
    };
    let key = state::renewal_key("a1", due, 1);
    assert_eq!(tick(due), Applied::Renewals(vec![key.clone()]));
    // A new leader ticking again (or the same one a second later) asks for nothing more.
    assert_eq!(tick(due), Applied::Renewals(vec![]));
    assert_eq!(tick(due + 5), Applied::Renewals(vec![]));
    assert!(
        s.read(|tx| state::due_accounts(tx, due + 5, 10)).is_empty(),
        "awaiting the charge"
    );
    assert_eq!(s.read(|tx| state::unanswered(tx, 10)).len(), 1);
    answer(&s, &key, paid("pi_2"), None, due + 6).unwrap();
    let account = s.read(|tx| state::account(tx, "a1")).unwrap();
    let sub = account.subscription.unwrap();
    assert_eq!((sub.status, sub.period_start), (Status::Active, due));
    assert_eq!(s.read(|tx| state::invoices(tx, "a1")).len(), 2);
    assert!(s.read(|tx| state::unanswered(tx, 10)).is_empty());
}

#[test]
fn a_declined_renewal_goes_past_due_and_a_new_card_pays_it_at_once() {
    let s = TestState::new();
    subscribed(&s);
    let due = T0 + PERIOD_SECS;
    s.apply(Command::Tick {
        account_id: "a1".into(),
        now: due,
    })
    .unwrap();
    let declined = ChargeResult::Failed {
        code: "card_declined".into(),
        message: "declined".into(),
    };
    answer(&s, &state::renewal_key("a1", due, 1), declined, None, due).unwrap();
    let sub = s
        .read(|tx| state::account(tx, "a1"))
        .unwrap()
        .subscription
        .unwrap();
    assert_eq!(sub.status, Status::PastDue);
    assert_eq!(
        s.read(|tx| state::due_accounts(tx, due + RETRY_AFTER_SECS[0], 10)),
        vec!["a1".to_owned()],
        "the first retry is on the books"
    );
    let applied = s
        .apply(Command::UpdatePaymentMethod {
            account_id: "a1".into(),
            payment_method: card("pm_2"),
            now: due + 60,
        })
        .unwrap();
    let retry = state::renewal_key("a1", due, 2);
    assert_eq!(applied, Applied::Renewals(vec![retry.clone()]));
    let charge = s.read(|tx| state::charge(tx, &retry)).unwrap();
    assert_eq!(charge.payment_method.as_deref(), Some("pm_2"));
    answer(&s, &retry, paid("pi_3"), None, due + 61).unwrap();
    let sub = s
        .read(|tx| state::account(tx, "a1"))
        .unwrap()
        .subscription
        .unwrap();
    assert_eq!(
        (sub.status, sub.period_start),
        (Status::Active, due),
        "same billing day"
    );
}

#[test]
fn a_renewal_that_asks_for_a_challenge_fails_rather_than_waits() {
    let s = TestState::new();
    subscribed(&s);
    let due = T0 + PERIOD_SECS;
    s.apply(Command::Tick {
        account_id: "a1".into(),
        now: due,
    })
    .unwrap();
    let key = state::renewal_key("a1", due, 1);
    let challenge = ChargeResult::RequiresAction {
        payment_id: "pi_9".into(),
        url: "/x".into(),
    };
    answer(&s, &key, challenge, None, due).unwrap();
    let charge = s.read(|tx| state::charge(tx, &key)).unwrap();
    assert!(
        matches!(&charge.status, ChargeStatus::Failed { code, .. } if code == "authentication_required"),
        "{charge:?}"
    );
}

#[test]
fn an_upgrade_charges_the_prorated_difference_and_applies_when_paid() {
    let s = TestState::new();
    subscribed(&s);
    let half = T0 + PERIOD_SECS / 2;
    let applied = s
        .apply(Command::Upgrade {
            key: "u1".into(),
            account_id: "a1".into(),
            plan: "premium".into(),
            now: half,
        })
        .unwrap();
    let Applied::Charge(charge) = applied else {
        panic!()
    };
    let (standard, premium) = (
        1_399,
        state::find_plan("premium").unwrap().prices[&Currency::Eur],
    );
    let expected = (premium - standard) / 2;
    assert!(
        (charge.amount.minor() - expected).abs() <= 1,
        "{} vs {expected}",
        charge.amount.minor()
    );
    let sub = s
        .read(|tx| state::account(tx, "a1"))
        .unwrap()
        .subscription
        .unwrap();
    assert_eq!(sub.plan, "standard", "not before it is paid");
    answer(&s, "u1", paid("pi_u"), None, half).unwrap();
    let sub = s
        .read(|tx| state::account(tx, "a1"))
        .unwrap()
        .subscription
        .unwrap();
    assert_eq!(
        (sub.plan.as_str(), sub.period_end),
        ("premium", T0 + PERIOD_SECS)
    );
    assert_eq!(
        s.apply(Command::Upgrade {
            key: "u2".into(),
            account_id: "a1".into(),
            plan: "basic".into(),
            now: half,
        }),
        Err(Rejection::NotAnUpgrade {
            plan: "basic".into()
        })
    );
}

#[test]
fn the_billing_clock_only_moves_forward() {
    let s = TestState::new();
    assert_eq!(s.read(state::clock_offset), 0);
    s.apply(Command::AdvanceClock { secs: 86_400 }).unwrap();
    s.apply(Command::AdvanceClock { secs: 60 }).unwrap();
    assert_eq!(s.read(state::clock_offset), 86_460);
}

#[test]
fn the_sandbox_charges_once_per_key_and_remembers_a_passed_challenge() {
    let s = TestState::new();
    let save = |id: &str, behaviour| {
        s.apply(Command::Sandbox(Ledger::SaveCard {
            id: id.into(),
            card: SavedCard {
                behaviour,
                brand: "visa".into(),
                last4: "0000".into(),
                exp_month: 1,
                exp_year: 2040,
                authenticated: false,
                succeeded: 0,
            },
        }))
        .unwrap();
    };
    save("pm_ok", Behaviour::Succeeds);
    save("pm_3ds", Behaviour::RequiresChallenge);
    let amount = marquee_billing::Money::new(500, Currency::Usd).unwrap();
    let charge = |key: &str, pid: &str, pm: &str, off_session| match s
        .apply(Command::Sandbox(Ledger::Charge {
            key: key.into(),
            payment_id: pid.into(),
            payment_method: pm.into(),
            amount,
            off_session,
        }))
        .unwrap()
    {
        Applied::Sandbox(ledger::Applied::Payment(p)) => p,
        other => panic!("{other:?}"),
    };
    let first = charge("k", "pi_1", "pm_ok", false);
    let again = charge("k", "pi_2", "pm_ok", false);
    assert_eq!(again, first, "the same key answers the first payment");
    assert_eq!(s.read(|tx| ledger::payments(tx, "k")).len(), 1);
    let waiting = charge("c1", "pi_3", "pm_3ds", false);
    assert_eq!(waiting.status, PaymentStatus::AwaitingChallenge);
    assert_eq!(
        charge("c2", "pi_4", "pm_3ds", true).status,
        PaymentStatus::AwaitingChallenge,
        "not authenticated yet"
    );
    s.apply(Command::Sandbox(Ledger::Challenge {
        payment_id: "pi_3".into(),
        passed: true,
    }))
    .unwrap();
    assert_eq!(
        s.read(|tx| ledger::payment_by_id(tx, "pi_3"))
            .unwrap()
            .status,
        PaymentStatus::Succeeded
    );
    assert_eq!(
        charge("c3", "pi_5", "pm_3ds", true).status,
        PaymentStatus::Succeeded,
        "a card that passed a challenge pays renewals"
    );
}

#[test]
fn a_second_checkout_waits_for_the_first_and_an_abandoned_challenge_is_given_up() {
    let s = TestState::new();
    checkout(&s, "k1", "US");
    let again = checkout_of("k2", "standard", "US", T0 + 5);
    assert_eq!(
        s.apply(again.clone()),
        Err(Rejection::PaymentInProgress),
        "two tabs, one payment"
    );
    let challenge = ChargeResult::RequiresAction {
        payment_id: "pi_1".into(),
        url: "/c".into(),
    };
    answer(&s, "k1", challenge, None, T0).unwrap();
    assert!(
        s.read(|tx| state::unanswered(tx, 10)).is_empty(),
        "nothing for the biller to send"
    );
    // The viewer walks away from the challenge and pays with another card.
    s.apply(again).unwrap();
    let first = s.read(|tx| state::charge(tx, "k1")).unwrap();
    assert!(matches!(&first.status, ChargeStatus::Failed { code, .. } if code == "superseded"));
    assert_eq!(
        answer(&s, "k1", paid("pi_1"), Some("evt_late"), T0 + 9),
        Err(Rejection::AlreadyAnswered),
        "the old challenge can no longer pay"
    );
}

#[test]
fn a_retry_is_settled_by_the_answer_for_that_attempt() {
    let s = TestState::new();
    subscribed(&s);
    let due = T0 + PERIOD_SECS;
    s.apply(Command::Tick {
        account_id: "a1".into(),
        now: due,
    })
    .unwrap();
    let declined = ChargeResult::Failed {
        code: "card_declined".into(),
        message: "declined".into(),
    };
    answer(&s, &state::renewal_key("a1", due, 1), declined, None, due).unwrap();
    s.apply(Command::Tick {
        account_id: "a1".into(),
        now: due + RETRY_AFTER_SECS[0],
    })
    .unwrap();
    // Attempt 2 is awaited; nothing else may settle it.
    let sub = s
        .read(|tx| state::account(tx, "a1"))
        .unwrap()
        .subscription
        .unwrap();
    assert!(sub.charge_pending && sub.failed_attempts == 1);
    answer(
        &s,
        &state::renewal_key("a1", due, 2),
        paid("pi_r2"),
        None,
        due + 86_400,
    )
    .unwrap();
    let sub = s
        .read(|tx| state::account(tx, "a1"))
        .unwrap()
        .subscription
        .unwrap();
    assert_eq!((sub.status, sub.period_start), (Status::Active, due));
}
