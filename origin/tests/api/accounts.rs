//! Sign up, sign in, sign out, and the errors a user can run into.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::util::{Client, PASSWORD, expect, expect_error, new_title, sign_up, start_origin};

#[tokio::test]
async fn sign_up_me_sign_out_and_sign_in_again() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut c = Client::new(&origin.base);

    let account = sign_up(&mut c, "  Viewer@Example.COM ").await;
    assert_eq!(account["email"], "viewer@example.com");
    assert_eq!(account["display_name"], "Tester");
    assert_eq!(account["is_admin"], false);
    assert!(account.get("password_hash").is_none(), "{account}");
    let token = c.cookie.clone().expect("sign-up sets the session cookie");

    let me = expect(c.get("/api/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["id"], account["id"]);

    expect(
        c.delete("/api/v1/sessions/current").await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(c.cookie.is_none(), "sign-out clears the cookie");
    expect_error(
        c.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // The old token is dead on the server too, not just forgotten by the browser.
    c.cookie = Some(token.clone());
    expect_error(
        c.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    c.cookie = None;

    let wrong = json!({"email": "viewer@example.com", "password": "not the password"});
    expect_error(
        c.post("/api/v1/sessions", wrong).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let unknown = json!({"email": "nobody@example.com", "password": PASSWORD});
    expect_error(
        c.post("/api/v1/sessions", unknown).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;

    let ok = json!({"email": "VIEWER@example.com", "password": PASSWORD});
    let again = expect(c.post("/api/v1/sessions", ok).await, StatusCode::OK).await;
    assert_eq!(again["id"], account["id"]);
    assert_ne!(
        c.cookie.as_deref(),
        Some(token.as_str()),
        "a new session gets a new token"
    );
    expect(c.get("/api/v1/me").await, StatusCode::OK).await;

    // The raw session token never reaches the logs.
    let log = origin.stderr();
    assert!(!log.contains(&token), "session token leaked into the log");
    assert!(!log.contains(PASSWORD), "password leaked into the log");
}

/// Password guessing is throttled per email: after 10 failures in 15 minutes even the right
/// password gets 429 with Retry-After, while other accounts sign in as usual.
#[tokio::test]
async fn repeated_wrong_passwords_lock_that_email_for_a_while() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut victim = Client::new(&origin.base);
    sign_up(&mut victim, "victim@example.com").await;
    let mut other = Client::new(&origin.base);
    sign_up(&mut other, "other@example.com").await;

    let mut guesser = Client::new(&origin.base);
    for i in 0..10 {
        let guess = json!({"email": "Victim@Example.com", "password": format!("guess-{i}-wrong")});
        expect_error(
            guesser.post("/api/v1/sessions", guess).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let right = json!({"email": "victim@example.com", "password": PASSWORD});
    let locked = guesser.post("/api/v1/sessions", right.clone()).await;
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (800..=900).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    expect_error(locked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    assert!(guesser.cookie.is_none(), "no session while locked");

    let ok = json!({"email": "other@example.com", "password": PASSWORD});
    expect(other.post("/api/v1/sessions", ok).await, StatusCode::OK).await;
    // The victim's existing session is untouched.
    expect(victim.get("/api/v1/me").await, StatusCode::OK).await;
    // A malformed email costs no hash and is not a lockable key.
    let malformed = json!({"email": "not-an-email", "password": PASSWORD});
    expect_error(
        guesser.post("/api/v1/sessions", malformed).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

/// Behind a TLS proxy the session cookie is `Secure`, so a browser never sends it over plain
/// HTTP; on plain HTTP (the local world) it cannot be.
#[tokio::test]
async fn the_session_cookie_is_secure_behind_https() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let http = reqwest::Client::new();
    let sign_up = |email: &str, proto: Option<&str>| {
        let mut req = http
            .post(format!("{}/api/v1/accounts", origin.base))
            .json(&json!({"email": email, "password": PASSWORD}));
        if let Some(proto) = proto {
            req = req.header("x-forwarded-proto", proto);
        }
        req.send()
    };
    let cookie =
        |resp: &reqwest::Response| resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    let proxied = sign_up("tls@example.com", Some("https")).await.unwrap();
    assert_eq!(proxied.status(), StatusCode::CREATED);
    assert!(
        cookie(&proxied).contains("; Secure"),
        "{}",
        cookie(&proxied)
    );
    let plain = sign_up("plain@example.com", None).await.unwrap();
    assert_eq!(plain.status(), StatusCode::CREATED);
    assert!(!cookie(&plain).contains("Secure"), "{}", cookie(&plain));
}

#[tokio::test]
async fn duplicate_email_is_a_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut c = Client::new(&origin.base);
    sign_up(&mut c, "ada@example.com").await;
    let again = json!({"email": "ADA@example.com", "password": "another password"});
    expect_error(
        Client::new(&origin.base)
            .post("/api/v1/accounts", again)
            .await,
        StatusCode::CONFLICT,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_in_the_error_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut c = Client::new(&origin.base);

    let short = json!({"email": "ada@example.com", "password": "short"});
    expect_error(
        c.post("/api/v1/accounts", short).await,
        StatusCode::BAD_REQUEST,
        "password_too_short",
    )
    .await;
    let bad_email = json!({"email": "ada.example.com", "password": PASSWORD});
    expect_error(
        c.post("/api/v1/accounts", bad_email).await,
        StatusCode::BAD_REQUEST,
        "invalid_email",
    )
    .await;

    let broken = c
        .send(
            Method::POST,
            "/api/v1/accounts",
            Some(("application/json", b"{\"email\": ".to_vec())),
        )
        .await;
    expect_error(broken, StatusCode::BAD_REQUEST, "invalid_json").await;
    let missing = json!({"email": "ada@example.com"});
    expect_error(
        c.post("/api/v1/accounts", missing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let not_json = c
        .send(
            Method::POST,
            "/api/v1/sessions",
            Some(("text/plain", b"hi".to_vec())),
        )
        .await;
    expect_error(
        not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    expect_error(
        c.get("/api/v1/no-such-route").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        c.get("/api/v1/titles/not-an-id").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn only_admins_manage_titles() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut anon = Client::new(&origin.base);
    expect_error(
        anon.post("/api/v1/admin/titles", new_title("X")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    let mut viewer = Client::new(&origin.base);
    sign_up(&mut viewer, "viewer@example.com").await;
    expect_error(
        viewer.post("/api/v1/admin/titles", new_title("X")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let mut admin = Client::new(&origin.base);
    let account = sign_up(&mut admin, super::util::ADMIN_EMAIL).await;
    assert_eq!(account["is_admin"], true);
    let title = expect(
        admin.post("/api/v1/admin/titles", new_title("Draft")).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(title["state"], "awaiting_video");
    let id = title["id"].as_str().unwrap();

    // Viewers do not see titles that are not ready; admins do.
    let list = expect(viewer.get("/api/v1/titles").await, StatusCode::OK).await;
    assert_eq!(list["titles"].as_array().map(Vec::len), Some(0), "{list}");
    let list = expect(admin.get("/api/v1/titles").await, StatusCode::OK).await;
    assert_eq!(list["titles"][0]["id"], id);
    expect_error(
        viewer.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let mut invalid = new_title("Bad");
    invalid["maturity_rating"] = json!("XXX");
    expect_error(
        admin.post("/api/v1/admin/titles", invalid).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_title",
    )
    .await;
    let mut wrong_kind = new_title("Bad");
    wrong_kind["kind"] = json!("opera");
    expect_error(
        admin.post("/api/v1/admin/titles", wrong_kind).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;

    let video = format!("/api/v1/admin/titles/{id}/video");
    expect_error(
        viewer.put(&video, "video/mp4", b"x".to_vec()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        admin.put(&video, "text/plain", b"x".to_vec()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    expect_error(
        admin.put(&video, "video/mp4", Vec::new()).await,
        StatusCode::BAD_REQUEST,
        "empty_body",
    )
    .await;
    expect_error(
        admin.get(&format!("/api/v1/admin/titles/{id}/job")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn admins_edit_the_fields_they_name() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut admin = Client::new(&origin.base);
    sign_up(&mut admin, super::util::ADMIN_EMAIL).await;
    let mut with_credit = new_title("Draft");
    with_credit["attribution"] = json!("Footage: CC BY 4.0");
    let title = expect(
        admin.post("/api/v1/admin/titles", with_credit).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/v1/admin/titles/{}", title["id"].as_str().unwrap());

    let edit = json!({"name": "  Final Cut ", "year": 2021, "attribution": ""});
    let edited = expect(admin.patch(&path, edit).await, StatusCode::OK).await;
    assert_eq!(edited["name"], "Final Cut", "trimmed like a new title");
    assert_eq!(edited["year"], 2021);
    assert_eq!(edited["synopsis"], title["synopsis"], "untouched");
    assert_eq!(edited["genres"], title["genres"], "untouched");
    assert!(edited.get("attribution").is_none(), "removed: {edited}");
    let read = expect(admin.get(&path).await, StatusCode::OK).await;
    assert_eq!(read, edited);

    for (body, code) in [
        (json!({}), "invalid_title"),
        (json!({"maturity_rating": "XXX"}), "invalid_title"),
        (json!({"name": " "}), "invalid_title"),
        (json!({"kind": "series"}), "invalid_body"),
    ] {
        let resp = admin.patch(&path, body.clone()).await;
        expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let read = expect(admin.get(&path).await, StatusCode::OK).await;
    assert_eq!(read, edited, "refused edits change nothing");

    let unknown = "/api/v1/admin/titles/0123456789abcdef0123456789abcdef";
    let rename = json!({"name": "X"});
    expect_error(
        admin.patch(unknown, rename.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(admin.get(unknown).await, StatusCode::NOT_FOUND, "not_found").await;
    let mut viewer = Client::new(&origin.base);
    sign_up(&mut viewer, "viewer@example.com").await;
    expect_error(
        viewer.patch(&path, rename).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(viewer.get(&path).await, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn the_devices_page_lists_sign_ins_and_signs_them_out_one_or_all() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut laptop = Client::new(&origin.base);
    laptop.user_agent = Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36".into());
    sign_up(&mut laptop, "many@example.com").await;
    let sign_in = async |agent: &str| {
        let mut c = Client::new(&origin.base);
        c.user_agent = Some(agent.to_owned());
        let creds = json!({"email": "many@example.com", "password": PASSWORD});
        expect(c.post("/api/v1/sessions", creds).await, StatusCode::OK).await;
        c
    };
    let mut phone = sign_in("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1").await;
    let mut tablet =
        sign_in("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0")
            .await;

    let list = expect(laptop.get("/api/v1/sessions").await, StatusCode::OK).await;
    let devices = list["devices"].as_array().unwrap();
    let names: Vec<&str> = devices
        .iter()
        .map(|d| d["device"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{list}");
    for name in ["Chrome on Linux", "Safari on iPhone", "Firefox on Windows"] {
        assert!(
            names.iter().any(|n| n.starts_with(name)),
            "{name} in {names:?}"
        );
    }
    let current: Vec<&serde_json::Value> =
        devices.iter().filter(|d| d["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert!(
        current[0]["device"].as_str().unwrap().starts_with("Chrome"),
        "{list}"
    );

    // Sign the phone out from the laptop: the phone's next request needs a sign-in.
    let phone_id = devices
        .iter()
        .find(|d| d["device"].as_str().unwrap().contains("iPhone"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = laptop.delete(&format!("/api/v1/sessions/{phone_id}")).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        phone.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // Another account cannot sign anyone out by id.
    let mut stranger = Client::new(&origin.base);
    sign_up(&mut stranger, "stranger@example.com").await;
    let laptop_id = current[0]["id"].as_str().unwrap();
    let resp = stranger
        .delete(&format!("/api/v1/sessions/{laptop_id}"))
        .await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    expect(laptop.get("/api/v1/me").await, StatusCode::OK).await;

    // Sign out everywhere: this device and the rest.
    let resp = laptop.send(Method::DELETE, "/api/v1/sessions", None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_error(
        laptop.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    expect_error(
        tablet.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    expect(stranger.get("/api/v1/me").await, StatusCode::OK).await;
}
