//! The Stripe adapter against a local peer that answers Stripe's API with the published
//! shapes (`tests/fixtures/stripe`): what origin sends (bearer key, idempotency keys, form
//! fields), what each answer means (paid, declined, a 3-D Secure redirect, an unknown card),
//! and webhooks: signed, fresh, applied once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use marquee_billing::webhook;
use serde_json::{Value, json};

use super::util::{Client, expect, expect_error, sign_up, start_origin};

const SECRET_KEY: &str = "sk_test_marquee_4eC39HqLyjWDarjtT1zdp7dc";
const WEBHOOK_SECRET: &str = "whsec_marquee_test_5a3f0c1e";

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    auth: Option<String>,
    idempotency_key: Option<String>,
    form: HashMap<String, String>,
}

#[derive(Default)]
struct Peer {
    seen: Mutex<Vec<Seen>>,
    /// Idempotency key → the answer given, replayed for a repeat as Stripe does.
    answers: Mutex<HashMap<String, (StatusCode, String)>>,
    intents: Mutex<u32>,
}

fn fixture(name: &str, fill: &[(&str, String)]) -> String {
    let path = format!(
        "{}/tests/fixtures/stripe/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (k, v) in fill {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    assert!(
        !text.contains("{{"),
        "{name}: unfilled placeholder in {text}"
    );
    serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    text
}

async fn stripe_api(
    State(peer): State<Arc<Peer>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let key = header("idempotency-key");
    peer.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        auth: header("authorization"),
        idempotency_key: key.clone(),
        form: form.clone(),
    });
    if let Some(k) = &key
        && let Some((status, text)) = peer.answers.lock().unwrap().get(k).cloned()
    {
        return (status, [("content-type", "application/json")], text).into_response();
    }
    let (status, text) = answer(&peer, &path, &form);
    if let Some(k) = key {
        peer.answers
            .lock()
            .unwrap()
            .insert(k, (status, text.clone()));
    }
    (status, [("content-type", "application/json")], text).into_response()
}

fn answer(peer: &Peer, path: &str, form: &HashMap<String, String>) -> (StatusCode, String) {
    let f = |k: &str| form.get(k).cloned().unwrap_or_default();
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((name.to_owned(), Value::String(v.clone())))
        })
        .collect();
    if path == "customers" {
        let fill = [
            ("email", f("email")),
            ("account", f("metadata[marquee_account]")),
        ];
        return (StatusCode::OK, fixture("customer", &fill));
    }
    if let Some(pm) = path
        .strip_prefix("payment_methods/")
        .and_then(|p| p.strip_suffix("/attach"))
    {
        let last4 = match pm {
            "pm_card_visa" => "4242",
            "pm_card_chargeDeclinedInsufficientFunds" => "9995",
            "pm_card_authenticationRequired" => "3184",
            _ => {
                let fill = [("payment_method", pm.to_owned())];
                return (
                    StatusCode::NOT_FOUND,
                    fixture("error_resource_missing", &fill),
                );
            }
        };
        let fill = [
            ("payment_method", pm.to_owned()),
            ("last4", last4.to_owned()),
            ("customer", f("customer")),
        ];
        return (StatusCode::OK, fixture("payment_method", &fill));
    }
    assert_eq!(path, "payment_intents", "an API Marquee should not call");
    let n = {
        let mut n = peer.intents.lock().unwrap();
        *n += 1;
        *n
    };
    let fill = [
        ("intent", format!("pi_Marquee{n:04}")),
        ("amount", f("amount")),
        ("currency", f("currency")),
        ("customer", f("customer")),
        ("description", f("description")),
        ("payment_method", f("payment_method")),
        ("return_url", f("return_url")),
        ("metadata", Value::Object(metadata).to_string()),
    ];
    match f("payment_method").as_str() {
        "pm_card_chargeDeclinedInsufficientFunds" => (
            StatusCode::PAYMENT_REQUIRED,
            fixture("error_insufficient_funds", &fill),
        ),
        "pm_card_authenticationRequired" => (
            StatusCode::OK,
            fixture("payment_intent_requires_action", &fill),
        ),
        _ => (StatusCode::OK, fixture("payment_intent_succeeded", &fill)),
    }
}

async fn start_peer() -> (Arc<Peer>, String) {
    let peer = Arc::new(Peer::default());
    let app = axum::Router::new()
        .route("/v1/{*path}", post(stripe_api))
        .with_state(peer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (peer, url)
}

async fn checkout(c: &mut Client, pm: &str) -> reqwest::Response {
    let body = json!({"plan": "standard", "payment_method": pm, "country": "US"});
    c.post("/api/v1/subscription", body).await
}

async fn deliver(c: &mut Client, body: &str, signature: Option<String>) -> reqwest::Response {
    let url = format!("{}/api/v1/billing/webhooks/stripe", c.base);
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(s) = signature {
        req = req.header("Stripe-Signature", s);
    }
    req.send().await.unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn stripe_is_spoken_as_published_and_its_webhooks_apply_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (peer, stripe_url) = start_peer().await;
    let key_file = tmp.path().join("stripe-key");
    let hook_file = tmp.path().join("stripe-webhook");
    std::fs::write(&key_file, format!("{SECRET_KEY}\n")).unwrap();
    std::fs::write(&hook_file, WEBHOOK_SECRET).unwrap();
    let origin = start_origin(
        &tmp.path().join("origin"),
        &[
            "--billing-gateway",
            "stripe",
            "--stripe-api-url",
            &stripe_url,
            "--stripe-secret-key-file",
            key_file.to_str().unwrap(),
            "--stripe-webhook-secret-file",
            hook_file.to_str().unwrap(),
        ],
    );
    let mut viewer = Client::new(&origin.base);
    let account = sign_up(&mut viewer, "payer@example.com").await;
    let account_id = account["id"].as_str().unwrap().to_owned();

    // Card numbers never reach origin with Stripe: the sandbox's form is not there.
    let card =
        json!({"number": "4242424242424242", "exp_month": 1, "exp_year": 2040, "cvc": "123"});
    let resp = viewer
        .post("/api/v1/billing/sandbox/payment-methods", card)
        .await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;

    // An unknown payment method: Stripe's reason, as a 422.
    let resp = checkout(&mut viewer, "pm_card_nope").await;
    let body = expect(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["error"]["code"], "invalid_card");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("No such PaymentMethod"),
        "{body}"
    );

    // Declined: 402 with Stripe's decline code.
    let resp = checkout(&mut viewer, "pm_card_chargeDeclinedInsufficientFunds").await;
    let body = expect(resp, StatusCode::PAYMENT_REQUIRED).await;
    assert_eq!(
        body["error"]["message"],
        "Your card has insufficient funds."
    );
    let billing = expect(viewer.get("/api/v1/subscription").await, StatusCode::OK).await;
    assert_eq!(
        billing["last_charge"]["decline_code"], "insufficient_funds",
        "{billing}"
    );
    assert!(billing["subscription"].is_null());

    // 3-D Secure: 202 and Stripe's page; the result comes by webhook.
    let resp = checkout(&mut viewer, "pm_card_authenticationRequired").await;
    let pending = expect(resp, StatusCode::ACCEPTED).await;
    let url = pending["last_charge"]["challenge_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://hooks.stripe.com/3d_secure_2/"),
        "{pending}"
    );

    // What origin sent: every write authenticated and idempotent, amounts in minor units.
    let seen = peer.seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .all(|s| s.auth.as_deref() == Some(&format!("Bearer {SECRET_KEY}")))
    );
    assert!(seen.iter().all(|s| s.idempotency_key.is_some()), "{seen:?}");
    let customers: Vec<&Seen> = seen.iter().filter(|s| s.path == "customers").collect();
    assert_eq!(customers[0].form["email"], "payer@example.com");
    assert!(
        customers
            .iter()
            .all(|c| c.idempotency_key == customers[0].idempotency_key),
        "one customer per account, however often it is asked"
    );
    let intents: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.path == "payment_intents")
        .collect();
    assert_eq!(
        intents.len(),
        2,
        "the unknown card never reached a charge: {seen:?}"
    );
    let last = intents[1];
    assert_eq!(
        last.form["amount"], "1549",
        "Standard in US dollars, in cents"
    );
    assert_eq!(last.form["currency"], "usd");
    assert_eq!(last.form["confirm"], "true");
    assert_eq!(
        last.form["payment_method"],
        "pm_card_authenticationRequired"
    );
    assert!(last.form["return_url"].ends_with("/account?payment=returned"));
    assert!(
        !last.form.contains_key("off_session"),
        "the viewer is here for a checkout"
    );
    let charge_key = last.form["metadata[marquee_charge]"].clone();
    assert_eq!(last.idempotency_key.as_deref(), Some(charge_key.as_str()));
    assert_eq!(last.form["metadata[marquee_account]"], account_id);

    // Webhooks: forged, stale and unsigned events are refused and change nothing.
    let metadata = json!({"marquee_charge": charge_key, "marquee_account": account_id});
    let event = fixture(
        "event_payment_intent_succeeded",
        &[
            ("event", "evt_Marquee0001".to_owned()),
            ("intent", "pi_Marquee0002".to_owned()),
            ("amount", "1549".to_owned()),
            ("currency", "usd".to_owned()),
            ("customer", "cus_Marquee0001".to_owned()),
            ("metadata", metadata.to_string()),
        ],
    );
    let t = now();
    for (signature, why) in [
        (
            Some(webhook::sign(event.as_bytes(), b"whsec_someone_else", t)),
            "matches",
        ),
        (
            Some(webhook::sign(
                event.as_bytes(),
                WEBHOOK_SECRET.as_bytes(),
                t - 301,
            )),
            "tolerance",
        ),
        (None, "no Stripe-Signature"),
        (Some(format!("t={t}")), "no v1"),
    ] {
        let body = expect(
            deliver(&mut viewer, &event, signature).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(body["error"]["code"], "invalid_signature", "{why}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(why),
            "{why}: {body}"
        );
    }
    let tampered = event.replace("1549", "1");
    let signature = webhook::sign(event.as_bytes(), WEBHOOK_SECRET.as_bytes(), t);
    let resp = deliver(&mut viewer, &tampered, Some(signature.clone())).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_signature").await;
    let still = expect(viewer.get("/api/v1/subscription").await, StatusCode::OK).await;
    assert!(still["subscription"].is_null(), "{still}");

    // The genuine event activates the subscription; delivered again, it changes nothing.
    let got = expect(
        deliver(&mut viewer, &event, Some(signature.clone())).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["applied"], true);
    let active = expect(viewer.get("/api/v1/subscription").await, StatusCode::OK).await;
    assert_eq!(active["subscription"]["status"], "active", "{active}");
    assert_eq!(active["payment_method"]["last4"], "3184");
    let again = expect(
        deliver(&mut viewer, &event, Some(signature)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        again["applied"], false,
        "a replayed event is not applied twice"
    );
    let invoices = expect(viewer.get("/api/v1/billing/invoices").await, StatusCode::OK).await;
    assert_eq!(
        invoices["invoices"].as_array().unwrap().len(),
        1,
        "{invoices}"
    );
    // An event about a charge that is not Marquee's is acknowledged and ignored.
    let foreign = event
        .replace("evt_Marquee0001", "evt_Other")
        .replace(&charge_key, "someone-elses-charge");
    let signature = webhook::sign(foreign.as_bytes(), WEBHOOK_SECRET.as_bytes(), now());
    let got = expect(
        deliver(&mut viewer, &foreign, Some(signature)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["applied"], false);

    // Secrets never reach the log.
    let log = origin.stderr();
    assert!(
        !log.contains(SECRET_KEY) && !log.contains(WEBHOOK_SECRET),
        "{log}"
    );
}
