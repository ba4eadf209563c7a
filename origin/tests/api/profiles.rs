//! Profiles: an account's "who's watching" list, and every way to get one wrong.

use reqwest::StatusCode;
use serde_json::json;

use super::util::{Client, expect, expect_error, sign_up, start_origin};

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
