//! One host for the viewer: the edge serves the web app (cached as origin says) and passes
//! origin's API through (never cached, events unbuffered, limited per client), over every
//! protocol it speaks.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::protocols::{h3_request, tls_addr};
use crate::util::*;

async fn json(resp: reqwest::Response) -> serde_json::Value {
    resp.json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_passes_through_uncached_with_who_asked_and_events_unbuffered() {
    let origin = Origin::start().await;
    let edge = Edge::start(origin.addr, &signer("k1"), EdgeOptions::default()).await;
    let http = client();

    // A write with its query, body and cookie reaches origin as sent; origin's cookie comes
    // back; a viewer's own X-Forwarded-For is replaced by its real address.
    let resp = http
        .post(format!("{}/api/v1/echo?x=1", edge.base))
        .header("cookie", "marquee_session=s1")
        .header("x-forwarded-for", "203.0.113.9")
        .body("hello")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers().get("cache-status").is_none(),
        "the API is never cached"
    );
    let cookie = resp.headers().get("set-cookie").cloned();
    assert_eq!(
        cookie.as_ref().and_then(|c| c.to_str().ok()),
        Some("marquee_session=abc; Path=/; HttpOnly")
    );
    let echo = json(resp).await;
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path_and_query"], "/api/v1/echo?x=1");
    assert_eq!(echo["body_len"], 5);
    assert_eq!(echo["cookie"], "marquee_session=s1");
    assert_eq!(echo["x_forwarded_for"], "127.0.0.1");
    assert_eq!(echo["x_forwarded_proto"], "http");
    for _ in 0..2 {
        let resp = http.get(format!("{}/api/v1/echo", edge.base)).send().await;
        assert_eq!(resp.expect("get").status(), 200);
    }
    assert_eq!(
        origin.fetches("/api/v1/echo"),
        3,
        "every API call reaches origin"
    );

    // Over HTTP/3 too, body and all, marked as HTTPS.
    let (status, _, body) = h3_request(
        tls_addr(&edge),
        http::Method::PUT,
        "/api/v1/echo",
        Some(Bytes::from_static(b"over quic")),
    )
    .await;
    assert_eq!(status, 200);
    let echo: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        (echo["method"].as_str(), echo["body_len"].as_u64()),
        (Some("PUT"), Some(9))
    );
    assert_eq!(echo["x_forwarded_proto"], "https");
    assert_eq!(
        (
            echo["path_and_query"].as_str(),
            echo["x_forwarded_for"].as_str()
        ),
        (Some("/api/v1/echo"), Some("127.0.0.1")),
        "the path as asked, and the viewer's UDP address as who asked"
    );

    // Server-sent events arrive as origin sends them: the first before the second exists.
    let resp = http
        .get(format!("{}/api/events", edge.base))
        .send()
        .await
        .expect("events");
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the first event arrives while origin holds the second")
        .expect("a chunk")
        .expect("bytes");
    assert_eq!(first.as_ref(), b"data: one\n\n");
    origin.release_event();
    let second = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("second event")
        .expect("a chunk")
        .expect("bytes");
    assert_eq!(second.as_ref(), b"data: two\n\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_web_app_is_cached_as_origin_says_and_read_only() {
    let origin = Origin::start().await;
    let edge = Edge::start(origin.addr, &signer("k1"), EdgeOptions::default()).await;
    for _ in 0..3 {
        let (status, _, body) = fetch(&format!("{}/assets/app-3f2a.js", edge.base)).await;
        assert_eq!(status, 200);
        assert_eq!(body.as_ref(), b"// asset /assets/app-3f2a.js");
        let (status, _, page) = fetch(&format!("{}/titles/t1", edge.base)).await;
        assert_eq!(status, 200);
        assert!(page.starts_with(b"<!doctype html>"));
    }
    assert_eq!(
        origin.fetches("/assets/app-3f2a.js"),
        1,
        "hashed assets are kept"
    );
    assert_eq!(
        origin.fetches("/titles/t1"),
        3,
        "the page is asked again each time"
    );
    let resp = client()
        .get(format!("{}/assets/app-3f2a.js", edge.base))
        .send()
        .await
        .expect("asset");
    assert!(
        cache_status(&resp).contains("hit"),
        "{}",
        cache_status(&resp)
    );
    assert!(
        resp.headers().get("access-control-allow-origin").is_none(),
        "the app is same-origin: no CORS"
    );

    // Over HTTPS the answer advertises HTTP/3, so the browser moves everything there.
    let resp = pki()
        .viewer(true)
        .get(format!("{}/", edge.tls_base))
        .send()
        .await
        .expect("https");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("alt-svc").is_some());

    let resp = client()
        .post(format!("{}/titles/t1", edge.base))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 405);
    assert_eq!(json(resp).await["error"]["code"], "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_over_its_api_limit_gets_429_and_origin_never_sees_it() {
    let origin = Origin::start().await;
    let opts = EdgeOptions {
        extra: ["--api-rate-per-sec", "1", "--api-burst", "5"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, opts).await;
    let http = client();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let resp = http
            .get(format!("{}/api/v1/echo", edge.base))
            .send()
            .await
            .expect("get");
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            let retry: u64 = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .expect("Retry-After");
            assert!((1..=2).contains(&retry), "{retry}");
            assert_eq!(json(resp).await["error"]["code"], "rate_limited");
        }
    }
    let passed = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        (5..=6).contains(&passed),
        "burst of 5 (+1 refilled): {statuses:?}"
    );
    assert_eq!(origin.fetches("/api/v1/echo"), passed);
    // Media is not limited by the API budget.
    origin.put("/media/t1/a.m4s", 100, Some(SEGMENT_CC), Duration::ZERO);
    let edge_token = token_for(&s, "t1", "p");
    assert_eq!(
        fetch(&edge.url(&edge_token, "/media/t1/a.m4s")).await.0,
        200
    );
    let metrics = fetch(&format!("{}/metrics", edge.base)).await.2;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("marquee_edge_api_rate_limited_total"),
        "{metrics}"
    );
}
