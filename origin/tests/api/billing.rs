//! Subscriptions against a running origin with the sandbox gateway: paying with each kind of
//! test card (declined, short of funds, a 3-D Secure challenge), plan changes, cancelling,
//! invoices and receipts, and renewals lived through by moving the billing clock.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::util::{
    ADMIN_EMAIL, Client, expect, expect_error, save_card, sign_up, start_origin, subscribe,
};

const DAY: u64 = 86_400;

async fn checkout(c: &mut Client, card: &str, plan: &str, country: &str) -> reqwest::Response {
    let pm = save_card(c, card).await;
    let body = json!({"plan": plan, "payment_method": pm, "country": country});
    c.post("/api/v1/subscription", body).await
}

async fn overview(c: &mut Client) -> Value {
    expect(c.get("/api/v1/subscription").await, StatusCode::OK).await
}

/// Polls the account's billing until `done` holds (the leader's biller runs once a second).
async fn wait_for(c: &mut Client, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let now = overview(c).await;
        if done(&now) {
            return now;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} within 20 s; billing is {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn advance(admin: &mut Client, secs: u64) {
    let body = json!({"advance_secs": secs});
    expect(
        admin.post("/api/v1/admin/billing/clock", body).await,
        StatusCode::OK,
    )
    .await;
}

async fn invoices(c: &mut Client) -> Vec<Value> {
    let list = expect(c.get("/api/v1/billing/invoices").await, StatusCode::OK).await;
    list["invoices"].as_array().expect("invoices").clone()
}

#[tokio::test]
async fn subscriptions_pay_renew_and_fail_the_way_each_test_card_says() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &["--billing-test-clock"]);
    let base = origin.base.clone();
    let mut admin = Client::new(&base);
    sign_up(&mut admin, ADMIN_EMAIL).await;

    expect_error(
        Client::new(&base).get("/api/v1/subscription").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // Cards are checked as typed: a typo, an expired card, a real (non-test) number.
    let mut ada = Client::new(&base);
    sign_up(&mut ada, "ada@example.com").await;
    for (card, why) in [
        (
            json!({"number": "4242 4242 4242 4241", "exp_month": 1, "exp_year": 2040, "cvc": "123"}),
            "check digit",
        ),
        (
            json!({"number": "4242424242424242", "exp_month": 1, "exp_year": 2020, "cvc": "123"}),
            "expired",
        ),
        (
            json!({"number": "4111111111111111", "exp_month": 1, "exp_year": 2040, "cvc": "123"}),
            "test cards",
        ),
        (
            json!({"number": "4242424242424242", "exp_month": 13, "exp_year": 2040, "cvc": "123"}),
            "month",
        ),
        (
            json!({"number": "4242424242424242", "exp_month": 1, "exp_year": 2040, "cvc": "12a"}),
            "CVC",
        ),
    ] {
        let resp = ada
            .post("/api/v1/billing/sandbox/payment-methods", card)
            .await;
        let body = expect(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["error"]["code"], "invalid_card");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{why}: {message}");
    }

    // Declined and short of funds: 402 with the reason, and no subscription.
    let resp = checkout(&mut ada, "4000000000000002", "standard", "US").await;
    expect_error(resp, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;
    let resp = checkout(&mut ada, "4000 0000 0000 9995", "standard", "US").await;
    let body = expect(resp, StatusCode::PAYMENT_REQUIRED).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("insufficient funds")
    );
    let now = overview(&mut ada).await;
    assert!(
        now["subscription"].is_null() && now["entitled"] == false,
        "{now}"
    );
    assert_eq!(
        now["last_charge"]["decline_code"], "insufficient_funds",
        "{now}"
    );

    // Bad requests change nothing.
    let pm = save_card(&mut ada, "4242424242424242").await;
    for (body, status, code) in [
        (
            json!({"plan": "platinum", "payment_method": pm}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_plan",
        ),
        (
            json!({"plan": "basic", "payment_method": pm, "country": "XX"}),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            json!({"plan": "basic", "payment_method": "pm_sb_nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_card",
        ),
        (
            json!({"plan": "basic"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        expect_error(ada.post("/api/v1/subscription", body).await, status, code).await;
    }
    assert!(overview(&mut ada).await["subscription"].is_null());

    // A card that asks for 3-D Secure: 202 and a challenge page; passing it pays.
    let resp = checkout(&mut ada, "4000002500003155", "standard", "GB").await;
    let pending = expect(resp, StatusCode::ACCEPTED).await;
    assert_eq!(
        pending["last_charge"]["status"], "requires_action",
        "{pending}"
    );
    assert_eq!(pending["entitled"], false);
    let challenge = pending["last_charge"]["challenge_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = ada.get(&challenge).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("£") && html.contains("Complete authentication"),
        "{html}"
    );
    let form = Some((
        "application/x-www-form-urlencoded",
        b"outcome=complete".to_vec(),
    ));
    let done = ada.send(Method::POST, &challenge, form.clone()).await;
    assert!(
        done.url().as_str().ends_with("/account?payment=paid"),
        "{}",
        done.url()
    );
    let paid = overview(&mut ada).await;
    assert_eq!(paid["subscription"]["status"], "active", "{paid}");
    assert_eq!(paid["entitled"], true);
    assert_eq!(paid["currency"], "GBP");
    assert_eq!(paid["payment_method"]["last4"], "3155");
    // The challenge answered twice is refused; still one invoice.
    let again = ada.send(Method::POST, &challenge, form).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let list = invoices(&mut ada).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let total = list[0]["total"]["display"].as_str().unwrap().to_owned();
    assert_eq!(
        total,
        paid["last_charge"]["amount"]["display"].as_str().unwrap()
    );
    let receipt = ada.get(list[0]["receipt_url"].as_str().unwrap()).await;
    assert_eq!(receipt.status(), StatusCode::OK);
    assert!(
        receipt.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        receipt.headers()
    );
    let receipt = receipt.text().await.unwrap();
    let number = list[0]["number"].as_str().unwrap();
    assert!(
        receipt.contains(number) && receipt.contains(&total),
        "{receipt}"
    );
    expect_error(
        ada.post(
            "/api/v1/subscription",
            json!({"plan": "basic", "payment_method": pm}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_subscribed",
    )
    .await;
    // Someone else's receipt is not found.
    let mut bob = Client::new(&base);
    sign_up(&mut bob, "bob@example.com").await;
    let stolen = bob.get(list[0]["receipt_url"].as_str().unwrap()).await;
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND);

    // Plan changes: up now, prorated (a second invoice); down at the renewal. This card asks
    // for a challenge whenever its holder pays in person, so the upgrade waits for it.
    let up = ada
        .send(
            Method::PUT,
            "/api/v1/subscription/plan",
            json_body(json!({"plan": "premium"})),
        )
        .await;
    let up = expect(up, StatusCode::ACCEPTED).await;
    assert_eq!(
        up["subscription"]["plan"]["id"], "standard",
        "not before it is paid: {up}"
    );
    let challenge = up["last_charge"]["challenge_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = Some((
        "application/x-www-form-urlencoded",
        b"outcome=complete".to_vec(),
    ));
    ada.send(Method::POST, &challenge, form).await;
    let up = overview(&mut ada).await;
    assert_eq!(up["subscription"]["plan"]["id"], "premium", "{up}");
    assert_eq!(up["last_charge"]["purpose"], "upgrade");
    let upgrade_cost = up["last_charge"]["amount"]["minor"].as_i64().unwrap();
    assert!(upgrade_cost > 0, "{up}");
    assert_eq!(invoices(&mut ada).await.len(), 2);
    let down = ada
        .send(
            Method::PUT,
            "/api/v1/subscription/plan",
            json_body(json!({"plan": "basic"})),
        )
        .await;
    let down = expect(down, StatusCode::OK).await;
    assert_eq!(down["subscription"]["plan"]["id"], "premium");
    assert_eq!(down["subscription"]["next_plan"]["id"], "basic", "{down}");
    let same = ada
        .send(
            Method::PUT,
            "/api/v1/subscription/plan",
            json_body(json!({"plan": "premium"})),
        )
        .await;
    expect_error(same, StatusCode::CONFLICT, "subscription_state").await;

    // Cancel runs to the period's end; resume undoes it.
    let cancelled = expect(
        ada.post("/api/v1/subscription/cancel", json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["subscription"]["cancel_at_period_end"], true);
    assert!(
        cancelled["subscription"]["next_bill"].is_null(),
        "{cancelled}"
    );
    assert_eq!(
        cancelled["entitled"], true,
        "plays to the end of the period"
    );
    let resumed = expect(
        ada.post("/api/v1/subscription/resume", json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(resumed["subscription"]["cancel_at_period_end"], false);
    let ada_due = resumed["subscription"]["period_end"].clone();
    expect_error(
        ada.post("/api/v1/subscription/resume", json!({})).await,
        StatusCode::CONFLICT,
        "subscription_state",
    )
    .await;

    // A card that pays once and then declines: the renewal fails, the account goes past due,
    // a new card pays it on the same billing day.
    let mut cy = Client::new(&base);
    sign_up(&mut cy, "cy@example.com").await;
    let resp = checkout(&mut cy, "4000000000000341", "basic", "JP").await;
    let first = expect(resp, StatusCode::CREATED).await;
    assert_eq!(first["currency"], "JPY");
    assert_eq!(first["last_charge"]["amount"]["display"], "¥990", "{first}");
    let due = first["subscription"]["period_end"].as_u64().unwrap();

    // Only admins move the clock.
    expect_error(
        cy.post("/api/v1/admin/billing/clock", json!({"advance_secs": 60}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    advance(&mut admin, 30 * DAY).await;
    let past_due = wait_for(&mut cy, "cy's renewal declined", |b| {
        b["subscription"]["status"] == "past_due"
    })
    .await;
    assert_eq!(past_due["entitled"], true, "grace period: {past_due}");
    // Ada's card renews (premium from the upgrade, basic from the downgrade at renewal).
    let renewed = wait_for(&mut ada, "ada's renewal", |b| {
        b["subscription"]["period_start"] == ada_due
    })
    .await;
    assert_eq!(renewed["subscription"]["status"], "active", "{renewed}");
    assert_eq!(
        renewed["subscription"]["plan"]["id"], "basic",
        "the downgrade took over"
    );
    assert_eq!(invoices(&mut ada).await.len(), 3);

    let new_card = save_card(&mut cy, "4242424242424242").await;
    let fixed = cy
        .send(
            Method::PUT,
            "/api/v1/billing/payment-method",
            json_body(json!({"payment_method": new_card})),
        )
        .await;
    let fixed = expect(fixed, StatusCode::OK).await;
    assert_eq!(fixed["subscription"]["status"], "active", "{fixed}");
    assert_eq!(
        fixed["subscription"]["period_start"], due,
        "the same billing day"
    );
    assert_eq!(fixed["payment_method"]["last4"], "4242");
    assert_eq!(invoices(&mut cy).await.len(), 2);

    // Unpaid past the grace period, an account expires and may not play.
    let mut di = Client::new(&base);
    sign_up(&mut di, "di@example.com").await;
    expect(
        checkout(&mut di, "4000000000000341", "basic", "US").await,
        StatusCode::CREATED,
    )
    .await;
    advance(&mut admin, 30 * DAY).await;
    wait_for(&mut di, "di past due", |b| {
        b["subscription"]["status"] == "past_due"
    })
    .await;
    advance(&mut admin, 8 * DAY).await;
    let expired = wait_for(&mut di, "di expired", |b| {
        b["subscription"]["status"] == "expired"
    })
    .await;
    assert_eq!(expired["entitled"], false, "{expired}");
    let retries = invoices(&mut di).await;
    assert_eq!(retries.len(), 1, "declined retries issue no invoices");
}

fn json_body(v: Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", v.to_string().into_bytes()))
}

#[tokio::test]
async fn a_deployment_with_a_real_clock_refuses_to_move_it() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut admin = Client::new(&origin.base);
    sign_up(&mut admin, ADMIN_EMAIL).await;
    expect_error(
        admin
            .post("/api/v1/admin/billing/clock", json!({"advance_secs": 60}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let sub = subscribe(&mut admin, "basic").await;
    assert_eq!(sub["entitled"], true, "{sub}");
}
