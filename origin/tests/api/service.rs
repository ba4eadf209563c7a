//! Health, metrics, OpenAPI and the web app.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use super::util::{Client, expect, sign_up, start_origin};

#[tokio::test]
async fn health_openapi_and_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let health = reqwest::get(format!("{}/healthz", origin.base))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let text = health.text().await.unwrap();
    assert!(
        text.starts_with("ok\n") && text.contains("raft: node=1") && text.contains("leader=1"),
        "{text}"
    );

    // Plans are public and priced in the asked country's currency (yen have no decimals).
    let plans: serde_json::Value = reqwest::get(format!("{}/api/v1/plans?country=jp", origin.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &plans["country"],
            &plans["currency"],
            &plans["tax_included"]
        ),
        (
            &serde_json::json!("JP"),
            &serde_json::json!("JPY"),
            &serde_json::json!(true)
        )
    );
    let basic = &plans["plans"][0];
    assert_eq!(
        (&basic["id"], &basic["streams"], &basic["price"]["display"]),
        (
            &serde_json::json!("basic"),
            &serde_json::json!(1),
            &serde_json::json!("¥990")
        )
    );
    for bad in ["country=ZZ", "country=", "currency=EUR"] {
        let resp = reqwest::get(format!("{}/api/v1/plans?{bad}", origin.base))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_query", "{bad}");
    }

    let doc: serde_json::Value = reqwest::get(format!("{}/api/openapi.json", origin.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().expect("paths");
    for (p, method) in [
        ("/api/v1/accounts", "post"),
        ("/api/v1/sessions", "post"),
        ("/api/v1/sessions/current", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/plans", "get"),
        ("/api/v1/titles", "get"),
        ("/api/v1/titles/{id}", "get"),
        ("/api/v1/titles/{id}/poster", "get"),
        ("/api/v1/titles/{id}/playback", "post"),
        ("/api/v1/admin/titles", "post"),
        ("/api/v1/admin/titles/{id}", "get"),
        ("/api/v1/admin/titles/{id}", "patch"),
        ("/api/v1/admin/titles/{id}/poster", "put"),
        ("/api/v1/admin/titles/{id}/video", "put"),
        ("/api/v1/admin/titles/{id}/job", "get"),
    ] {
        assert!(
            paths.get(p).and_then(|o| o.get(method)).is_some(),
            "{method} {p} missing from OpenAPI"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["session"]["name"],
        "marquee_session"
    );
    assert!(
        doc["paths"]["/api/v1/me"]["get"]["security"].is_array(),
        "me needs a session"
    );
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for s in [
        "Account",
        "Title",
        "Job",
        "Playback",
        "NewTitle",
        "ErrorBody",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }

    let mut c = Client::new(&origin.base);
    sign_up(&mut c, "m@example.com").await;
    expect(c.get("/api/v1/me").await, StatusCode::OK).await;
    let needles = [
        r#"marquee_origin_http_requests_total{route="/api/v1/me",method="GET",status="200"}"#,
        r#"marquee_origin_http_requests_total{route="/api/v1/accounts",method="POST",status="201"}"#,
        "marquee_origin_http_request_duration_seconds_bucket",
        r#"marquee_origin_jobs{state="queued"} 0"#,
    ];
    let metrics = super::util::metrics_with(&origin.base, &needles).await;
    assert!(!metrics.contains("m@example.com"));
}

#[tokio::test]
async fn web_app_is_served_with_spa_fallback_or_a_build_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let web = tmp.path().join("web");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>Marquee app</title>",
    )
    .unwrap();
    std::fs::write(web.join("assets/app.js"), "console.log('marquee')").unwrap();
    let origin = start_origin(
        &tmp.path().join("origin"),
        &["--web-dir", web.to_str().unwrap()],
    );

    for page in ["/", "/titles/abc", "/account"] {
        let resp = reqwest::get(format!("{}{page}", origin.base))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{page}");
        assert!(resp.text().await.unwrap().contains("Marquee app"), "{page}");
    }
    let js = reqwest::get(format!("{}/assets/app.js", origin.base))
        .await
        .unwrap();
    assert!(
        js.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let api = reqwest::get(format!("{}/api/v1/nope", origin.base))
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    origin.stop();

    let bare = start_origin(&tmp.path().join("origin2"), &[]);
    let hint = reqwest::get(format!("{}/titles/abc", bare.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        hint.contains("npm ci --prefix origin/web &amp;&amp; npm run build --prefix origin/web"),
        "{hint}"
    );
}
