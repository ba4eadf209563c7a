//! Profiles: an account's "who's watching" list, and every way to get one wrong.

use reqwest::StatusCode;
use serde_json::json;

use super::util::{Client, expect, expect_error, sign_up, start_origin};

/// `PUT /api/v1/sessions/current/profile` with `body`.
async fn pick(c: &mut Client, body: serde_json::Value) -> reqwest::Response {
    let bytes = body.to_string().into_bytes();
    c.put(
        "/api/v1/sessions/current/profile",
        "application/json",
        bytes,
    )
    .await
}

#[tokio::test]
async fn an_account_keeps_up_to_five_profiles_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut c = Client::new(&origin.base);
    expect_error(
        c.get("/api/v1/profiles").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    sign_up(&mut c, "family@example.com").await;

    let adult = json!({"name": "  Alex  ", "avatar": "owl", "language": "fr", "pin": "0427"});
    let alex = expect(c.post("/api/v1/profiles", adult).await, StatusCode::CREATED).await;
    assert_eq!(alex["name"], "Alex", "trimmed");
    assert_eq!(
        (alex["maturity"].as_str(), alex["kids"].as_bool()),
        (Some("18+"), Some(false))
    );
    assert_eq!(alex["has_pin"], true);
    assert!(
        alex.get("pin_hash").is_none() && alex.get("pin").is_none(),
        "{alex}"
    );
    let kid = json!({"name": "Kim", "kids": true});
    let kim = expect(c.post("/api/v1/profiles", kid).await, StatusCode::CREATED).await;
    assert_eq!(
        (kim["maturity"].as_str(), kim["avatar"].as_str()),
        (Some("7+"), Some("fox"))
    );

    // Bad input: a reason each, and nothing created.
    for (body, why) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(41)}), "name"),
        (json!({"name": "A", "avatar": "dragon"}), "avatar"),
        (json!({"name": "A", "language": "xx"}), "language"),
        (json!({"name": "A", "pin": "12a4"}), "pin"),
        (json!({"name": "A", "pin": "12345"}), "pin"),
        (json!({"name": "A", "kids": true, "maturity": "13+"}), "7+"),
    ] {
        let resp = c.post("/api/v1/profiles", body.clone()).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["code"], "invalid_profile", "{body}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{body}: {message}");
    }
    let seventh_level = c
        .post("/api/v1/profiles", json!({"name": "A", "maturity": "21+"}))
        .await;
    assert_eq!(seventh_level.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A kids profile cannot be raised above 7+ while it is one; edits name their fields.
    let kim_url = format!("/api/v1/profiles/{}", kim["id"].as_str().unwrap());
    expect_error(
        c.patch(&kim_url, json!({"maturity": "18+"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_profile",
    )
    .await;
    let grown = json!({"maturity": "13+", "kids": false, "name": "Kimberly"});
    let kim = expect(c.patch(&kim_url, grown).await, StatusCode::OK).await;
    assert_eq!(
        (kim["maturity"].as_str(), kim["name"].as_str()),
        (Some("13+"), Some("Kimberly"))
    );
    assert_eq!(kim["language"], "en", "unnamed fields stay");
    let alex_url = format!("/api/v1/profiles/{}", alex["id"].as_str().unwrap());
    // A profile with a PIN is changed only from a session that chose it with that PIN:
    // otherwise removing the PIN would get round it.
    expect_error(
        c.patch(&alex_url, json!({"pin": null})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        c.delete(&alex_url).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let alex_id = alex["id"].as_str().unwrap();
    let chosen = pick(&mut c, json!({"profile_id": alex_id, "pin": "0427"})).await;
    expect(chosen, StatusCode::OK).await;
    let unlocked = expect(
        c.patch(&alex_url, json!({"pin": null})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unlocked["has_pin"], false, "null removes the PIN");

    for n in 0..3 {
        let body = json!({"name": format!("Guest {n}")});
        expect(c.post("/api/v1/profiles", body).await, StatusCode::CREATED).await;
    }
    expect_error(
        c.post("/api/v1/profiles", json!({"name": "Sixth"})).await,
        StatusCode::CONFLICT,
        "profile_limit_reached",
    )
    .await;
    let list = expect(c.get("/api/v1/profiles").await, StatusCode::OK).await;
    let names: Vec<&str> = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alex", "Kimberly", "Guest 0", "Guest 1", "Guest 2"]);
    assert!(list["avatars"].as_array().unwrap().len() >= 5);

    // Another account sees none of them and can touch none of them.
    let mut other = Client::new(&origin.base);
    sign_up(&mut other, "neighbour@example.com").await;
    let theirs = expect(other.get("/api/v1/profiles").await, StatusCode::OK).await;
    assert_eq!(theirs["profiles"], json!([]));
    expect_error(
        other.patch(&alex_url, json!({"name": "Mine"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        other.delete(&alex_url).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Deleting one frees its place.
    expect(c.delete(&alex_url).await, StatusCode::NO_CONTENT).await;
    expect_error(
        c.delete(&alex_url).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect(
        c.post("/api/v1/profiles", json!({"name": "Sixth"})).await,
        StatusCode::CREATED,
    )
    .await;
    origin.stop();
}

/// "Who's watching?": the session carries the chosen profile; a PIN guards it, and guesses
/// are limited.
#[tokio::test]
async fn choosing_a_profile_needs_its_pin_and_sticks_to_the_session() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut c = Client::new(&origin.base);
    sign_up(&mut c, "household@example.com").await;
    let me = expect(c.get("/api/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["profile"], serde_json::Value::Null, "nobody chosen yet");
    let open = json!({"name": "Open"});
    let open = expect(c.post("/api/v1/profiles", open).await, StatusCode::CREATED).await;
    let locked = json!({"name": "Locked", "pin": "2468"});
    let locked = expect(
        c.post("/api/v1/profiles", locked).await,
        StatusCode::CREATED,
    )
    .await;
    let choose = |id: &serde_json::Value, pin: Option<&str>| json!({"profile_id": id.as_str().unwrap(), "pin": pin});

    let chosen = pick(&mut c, choose(&open["id"], None)).await;
    assert_eq!(expect(chosen, StatusCode::OK).await["name"], "Open");
    let me = expect(c.get("/api/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["profile"]["id"], open["id"]);

    for pin in [None, Some("1357")] {
        let resp = pick(&mut c, choose(&locked["id"], pin)).await;
        expect_error(resp, StatusCode::FORBIDDEN, "wrong_pin").await;
    }
    let me = expect(c.get("/api/v1/me").await, StatusCode::OK).await;
    assert_eq!(
        me["profile"]["id"], open["id"],
        "a refused choice changes nothing"
    );
    let resp = pick(&mut c, choose(&locked["id"], Some("2468"))).await;
    expect(resp, StatusCode::OK).await;
    let me = expect(c.get("/api/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["profile"]["id"], locked["id"]);

    // Someone else's profile does not exist for this account.
    let mut other = Client::new(&origin.base);
    sign_up(&mut other, "next-door@example.com").await;
    let resp = pick(&mut other, choose(&open["id"], None)).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;

    // Ten wrong guesses lock the PIN for a while; even the right one waits.
    for _ in 0..10 {
        let resp = pick(&mut c, choose(&locked["id"], Some("0000"))).await;
        expect_error(resp, StatusCode::FORBIDDEN, "wrong_pin").await;
    }
    let resp = pick(&mut c, choose(&locked["id"], Some("2468"))).await;
    assert!(resp.headers().contains_key("retry-after"));
    expect_error(resp, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;

    // Watching as a kids profile, nobody can add, change or delete profiles.
    let kid = json!({"name": "Kid", "kids": true});
    let kid = expect(c.post("/api/v1/profiles", kid).await, StatusCode::CREATED).await;
    expect(pick(&mut c, choose(&kid["id"], None)).await, StatusCode::OK).await;
    let kid_url = format!("/api/v1/profiles/{}", kid["id"].as_str().unwrap());
    let raise = json!({"kids": false, "maturity": "18+"});
    expect_error(
        c.patch(&kid_url, raise).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let more = json!({"name": "Grown-up"});
    expect_error(
        c.post("/api/v1/profiles", more).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // The parent switches back through the open profile (the locked one is locked out).
    expect(
        pick(&mut c, choose(&open["id"], None)).await,
        StatusCode::OK,
    )
    .await;

    // A locked profile cannot be deleted from another profile; a deleted profile no longer
    // counts as chosen.
    let locked_url = format!("/api/v1/profiles/{}", locked["id"].as_str().unwrap());
    expect_error(
        c.delete(&locked_url).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let url = format!("/api/v1/profiles/{}", open["id"].as_str().unwrap());
    expect(c.delete(&url).await, StatusCode::NO_CONTENT).await;
    let me = expect(c.get("/api/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["profile"], serde_json::Value::Null);
    origin.stop();
}
