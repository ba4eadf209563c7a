//! After freshness ends: stale-while-revalidate, stale-if-error with origin killed, and short
//! negative caching of 404s.

use std::time::{Duration, Instant};

use crate::util::*;

/// Waits out a freshness lifetime: expiry is a time, not an event.
async fn let_expire(ttl_secs: u64) {
    tokio::time::sleep(Duration::from_millis(ttl_secs * 1000 + 200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn origin_killed_cached_objects_are_still_served_and_others_fail_clearly() {
    let origin = Origin::start().await;
    let manifest = "/media/t1/manifest.mpd";
    let body = origin.put(
        manifest,
        2_000,
        Some("public, max-age=1, stale-if-error=600"),
        Duration::ZERO,
    );
    let never_fetched = "/media/t1/video/720p/seg-9.m4s";
    origin.put(never_fetched, 1_000, Some(SEGMENT_CC), Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let token = token_for(&s, "t1", "p");
    assert_eq!(fetch(&edge.url(&token, manifest)).await.0, 200);

    origin.kill();
    let_expire(1).await;
    let (status, cs, got) = fetch(&edge.url(&token, manifest)).await;
    assert_eq!(status, 200, "{cs}");
    assert_eq!(got, body, "the stored copy, stale");
    assert!(cs.contains("fwd=stale"), "{cs}");

    let (status, _, refusal) = fetch(&edge.url(&token, never_fetched)).await;
    assert_eq!(status, 502);
    let refusal: serde_json::Value = serde_json::from_slice(&refusal).expect("test step");
    assert_eq!(refusal["error"]["code"], "origin_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_manifest_is_served_at_once_while_one_request_refreshes_it() {
    let origin = Origin::start().await;
    let manifest = "/media/t1/manifest.mpd";
    let cc = Some("public, max-age=1, stale-while-revalidate=30");
    let old = origin.put(manifest, 2_000, cc, Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let url = edge.url(&token_for(&s, "t1", "p"), manifest);
    assert_eq!(fetch(&url).await.2, old);

    // Origin publishes a new manifest, slowly: viewers must not wait for it.
    let new = origin.put(manifest, 3_000, cc, Duration::from_secs(2));
    let_expire(1).await;
    let started = Instant::now();
    let (status, cs, got) = fetch(&url).await;
    assert_eq!(status, 200);
    assert_eq!(got, old, "the stale copy, served at once");
    assert!(cs.contains("fwd=stale"), "{cs}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}: waited for origin",
        started.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, cs, got) = fetch(&url).await;
        if got == new {
            assert!(cs.contains("hit"), "{cs}");
            break;
        }
        assert!(Instant::now() < deadline, "never refreshed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        origin.fetches(manifest),
        2,
        "one refresh, in the background"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_object_is_asked_of_origin_once_in_a_burst() {
    let origin = Origin::start().await;
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let missing = "/media/t1/video/720p/seg-404.m4s";
    let url = edge.url(&token_for(&s, "t1", "p"), missing);
    let (status, cs, _) = fetch(&url).await;
    assert_eq!(status, 404, "{cs}");
    let (status, cs, _) = fetch(&url).await;
    assert_eq!(status, 404);
    assert!(cs.contains("hit"), "the 404 came from cache: {cs}");
    assert_eq!(origin.fetches(missing), 1);
}
