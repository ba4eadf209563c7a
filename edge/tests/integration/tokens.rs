//! The token gate: every refusal is a 403 with a JSON reason, and never reaches origin.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use marquee_proto::v1::{PlaybackClaims, SignedToken};
use prost::Message;

use crate::util::*;

async fn refused(url: &str) -> (u16, String, String) {
    let resp = client().get(url).send().await.expect("request");
    let status = resp.status().as_u16();
    let acao = resp
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    assert_eq!(
        acao.as_deref(),
        Some("*"),
        "browsers must be able to read the refusal"
    );
    let body: serde_json::Value = resp.json().await.expect("JSON error body");
    let code = body["error"]["code"].as_str().expect("code").to_owned();
    let message = body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    (status, code, message)
}

/// Re-encodes `token` with its claims changed but the original signature.
fn tamper(token: &str) -> String {
    let raw = URL_SAFE_NO_PAD.decode(token).expect("b64");
    let mut signed = SignedToken::decode(raw.as_slice()).expect("signed");
    let mut claims = PlaybackClaims::decode(signed.claims.as_slice()).expect("claims");
    claims.path_prefix = "/media/".into();
    signed.claims = claims.encode_to_vec();
    URL_SAFE_NO_PAD.encode(signed.encode_to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_tokens_get_403_with_their_code_before_any_origin_fetch() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/720p/seg-1.m4s";
    origin.put(path, 10_000, Some(SEGMENT_CC), Duration::ZERO);
    origin.put(
        "/media/t2/manifest.mpd",
        100,
        Some(MANIFEST_CC),
        Duration::ZERO,
    );
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let good = token_for(&s, "t1", "p1");

    let expired = s.sign(PlaybackClaims {
        path_prefix: "/media/t1/".into(),
        expires_at_unix: now_unix() - 1,
        ..Default::default()
    });
    // A plan that includes up to 480p may not fetch the 720p rung.
    let capped = |max_height| {
        s.sign(PlaybackClaims {
            path_prefix: "/media/t1/".into(),
            expires_at_unix: now_unix() + 600,
            max_height,
            ..Default::default()
        })
    };
    let stranger = signer("k9");
    let forged_same_kid = signer("k1");
    let cases = [
        (edge.url(&tamper(&good), path), "token_bad_signature"),
        (
            edge.url(&token_for(&forged_same_kid, "t1", "p"), path),
            "token_bad_signature",
        ),
        (edge.url(&expired, path), "token_expired"),
        (
            edge.url(&good, "/media/t2/manifest.mpd"),
            "token_out_of_scope",
        ),
        (
            edge.url(&good, "/media/t1/../t2/manifest.mpd"),
            "token_out_of_scope",
        ),
        (
            edge.url(&token_for(&stranger, "t1", "p"), path),
            "token_unknown_key",
        ),
        (edge.url("not-a-token", path), "token_malformed"),
        (edge.url(&capped(480), path), "token_above_plan"),
        (format!("{}{path}", edge.base), "token_missing"),
    ];
    for (url, want) in &cases {
        let (status, code, message) = refused(url).await;
        assert_eq!((status, code.as_str()), (403, *want), "{url}");
        assert!(!message.is_empty());
    }
    assert_eq!(
        origin.total_fetches(),
        0,
        "refused requests must never reach origin"
    );
    let within = client()
        .get(edge.url(&capped(720), path))
        .send()
        .await
        .expect("request");
    assert_eq!(
        within.status().as_u16(),
        200,
        "a 720p plan fetches the 720p rung"
    );

    let metrics = client()
        .get(format!("{}/metrics", edge.base))
        .send()
        .await
        .expect("metrics");
    let text = metrics.text().await.expect("text");
    for code in [
        "token_bad_signature",
        "token_expired",
        "token_out_of_scope",
        "token_unknown_key",
        "token_missing",
        "token_above_plan",
    ] {
        assert!(
            text.contains(&format!(
                "marquee_edge_token_rejections_total{{code=\"{code}\"}}"
            )),
            "{code} not counted:\n{text}"
        );
    }
    assert!(
        text.contains("marquee_edge_token_rejections_total{code=\"token_bad_signature\"} 2"),
        "{text}"
    );

    // The good token still works after all that, and is verified from the cache of signatures.
    for _ in 0..2 {
        let (status, _, _) = fetch(&edge.url(&good, path)).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn media_preflight_is_answered_and_media_writes_refused() {
    let origin = Origin::start().await;
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;

    let resp = client()
        .request(
            reqwest::Method::OPTIONS,
            edge.url(&token_for(&s, "t1", "p"), "/media/t1/manifest.mpd"),
        )
        .header("origin", "http://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "range")
        .send()
        .await
        .expect("preflight");
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let allowed = resp.headers()["access-control-allow-headers"]
        .to_str()
        .expect("str")
        .to_ascii_lowercase();
    assert!(allowed.contains("range"), "{allowed}");

    let resp = client()
        .post(edge.url(&token_for(&s, "t1", "p"), "/media/t1/x"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 405);
    assert_eq!(origin.total_fetches(), 0);
}

/// `PUT /v1/token-keys/{kid}` as `client`; the answer's status and JSON.
async fn publish(
    cp: &RealControlPlane,
    client: &reqwest::Client,
    kid: &str,
    key: &[u8],
) -> (u16, serde_json::Value) {
    let resp = client
        .put(format!("{}/v1/token-keys/{kid}", cp.url))
        .json(&serde_json::json!({ "public_key": URL_SAFE_NO_PAD.encode(key) }))
        .send()
        .await
        .expect("publish");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON answer"))
}

/// Origin rotates its key through the control-plane: the new key reaches the edge before
/// anyone signs with it, tokens of the old key play until it is retired, then stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotated_key_reaches_the_edge_first_and_the_retired_one_stops() {
    let origin = Origin::start().await;
    let path = "/media/t1/j1/video/720p/seg-1.m4s";
    origin.put(path, 10_000, Some(SEGMENT_CC), Duration::ZERO);
    let cp = RealControlPlane::start();
    let (k1, k2) = (signer("k1"), signer("k2"));
    let opts = EdgeOptions {
        control_plane: Some(cp.url.clone()),
        ..Default::default()
    };
    let edge = Edge::start(origin.addr, &k1, opts).await;
    wait_registered(&cp, &["edge-test-1"]).await;
    let as_origin = cp.client(marquee_tls::Service::Origin, "origin-1");
    let (old, new) = (token_for(&k1, "t1", "p1"), token_for(&k2, "t1", "p2"));
    assert_eq!(fetch(&edge.url(&old, path)).await.0, 200);
    let (status, _, _) = refused(&edge.url(&new, path)).await;
    assert_eq!(status, 403, "k2 is unknown before it is published");

    // Origin publishes its current key and the next one, then waits for the fleet.
    assert_eq!(
        publish(&cp, &as_origin, "k1", &k1.public_key()).await.0,
        200
    );
    let (status, published) = publish(&cp, &as_origin, "k2", &k2.public_key()).await;
    assert_eq!(status, 200, "{published}");
    let ready: serde_json::Value = as_origin
        .get(format!("{}/v1/token-keys/k2?wait_ms=10000", cp.url))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(
        ready["holding"],
        serde_json::json!(["edge-test-1"]),
        "{ready}"
    );
    assert_eq!(
        fetch(&edge.url(&new, path)).await.0,
        200,
        "k2 plays once ready"
    );
    assert_eq!(fetch(&edge.url(&old, path)).await.0, 200, "k1 still plays");

    // Bad publications change nothing.
    let (status, body) = publish(&cp, &as_origin, "k2", &k1.public_key()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &"token_key_conflict".into())
    );
    let (status, body) = publish(&cp, &as_origin, "k3", &[1, 2, 3]).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &"bad_token_key".into())
    );
    let as_edge = cp.client(marquee_tls::Service::Edge, "edge-test-1");
    let (status, body) = publish(&cp, &as_edge, "k9", &k1.public_key()).await;
    assert_eq!((status, &body["error"]["code"]), (403, &"forbidden".into()));

    // k1 retired a moment from now: once its time comes, its tokens stop on the edge.
    let retire = as_origin
        .post(format!("{}/v1/token-keys/k1/retire", cp.url))
        .json(&serde_json::json!({ "at_unix": now_unix() + 1 }))
        .send()
        .await
        .expect("retire");
    assert_eq!(retire.status(), 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _, _) = fetch(&edge.url(&old, path)).await;
        if status == 403 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "k1 still accepted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, code, _) = refused(&edge.url(&old, path)).await;
    assert_eq!(code, "token_unknown_key");
    assert_eq!(fetch(&edge.url(&new, path)).await.0, 200);
}
