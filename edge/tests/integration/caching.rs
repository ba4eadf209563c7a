//! Cache behaviour seen from a viewer: hits, coalescing, the disk tier, ranges, Cache-Control.

use std::time::Duration;

use crate::util::*;

const MB: usize = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_fetch_is_a_stored_miss_then_a_hit_with_identical_bytes() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/720p/seg-1.m4s";
    let body = origin.put(path, MB, Some(SEGMENT_CC), Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let token = token_for(&s, "t1", "p1");

    let resp = client()
        .get(edge.url(&token, path))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(cache_status(&resp), "marquee-edge; fwd=miss; stored");
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert_eq!(resp.bytes().await.expect("body"), body);

    let (status, cs, second) = fetch(&edge.url(&token, path)).await;
    assert_eq!(status, 200);
    assert_eq!(cs, "marquee-edge; hit");
    assert_eq!(second, body, "a hit must serve the very bytes origin sent");
    assert_eq!(origin.fetches(path), 1);
    assert!(
        origin.seen_targets().iter().all(|t| t == path),
        "origin must see the stripped path only: {:?}",
        origin.seen_targets()
    );
    assert_eq!(
        origin.seen_authorizations(),
        [Some(format!("Bearer {token}"))],
        "the viewer's token goes to origin in a header, so origin can refuse strangers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_viewers_with_different_tokens_share_one_cached_copy() {
    let origin = Origin::start().await;
    let path = "/media/t1/manifest.mpd";
    let body = origin.put(path, 4096, Some(MANIFEST_CC), Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let (alice, bob) = (token_for(&s, "t1", "alice"), token_for(&s, "t1", "bob"));
    assert_ne!(alice, bob);

    let (_, cs, _) = fetch(&edge.url(&alice, path)).await;
    assert_eq!(cs, "marquee-edge; fwd=miss; stored");
    let (status, cs, got) = fetch(&edge.url(&bob, path)).await;
    assert_eq!(
        (status, cs.as_str()),
        (200, "marquee-edge; hit"),
        "the token must not be in the cache key"
    );
    assert_eq!(got, body);
    assert_eq!(origin.fetches(path), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_cold_requests_cause_one_origin_fetch() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/720p/seg-7.m4s";
    // Slow origin: every request arrives while the first fill is still under way.
    let body = origin.put(path, MB, Some(SEGMENT_CC), Duration::from_millis(500));
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;

    let requests = (0..20).map(|i| {
        let url = edge.url(&token_for(&s, "t1", &format!("viewer-{i}")), path);
        tokio::spawn(async move { fetch(&url).await })
    });
    let results = futures::future::join_all(requests).await;
    let mut misses = 0;
    for r in results {
        let (status, cs, got) = r.expect("task");
        assert_eq!(status, 200);
        assert_eq!(got.len(), body.len());
        assert!(got == body, "every waiter gets the whole object");
        if cs.contains("fwd=miss") {
            misses += 1;
        }
    }
    assert_eq!(
        origin.fetches(path),
        1,
        "concurrent misses must coalesce into one origin fetch"
    );
    assert_eq!(
        misses, 1,
        "exactly one request filled the cache, the others were hits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn objects_pushed_out_of_memory_are_served_from_disk() {
    let origin = Origin::start().await;
    let s = signer("k1");
    let edge = Edge::start(
        origin.addr,
        &s,
        EdgeOptions {
            memory_mb: 1,
            ..Default::default()
        },
    )
    .await;
    let token = token_for(&s, "t1", "p1");
    let paths: Vec<String> = (1..=5)
        .map(|n| format!("/media/t1/video/720p/seg-{n}.m4s"))
        .collect();
    let bodies: Vec<_> = paths
        .iter()
        .map(|p| origin.put(p, MB, Some(SEGMENT_CC), Duration::ZERO))
        .collect();

    for p in &paths {
        let (status, cs, _) = fetch(&edge.url(&token, p)).await;
        assert_eq!(
            (status, cs.as_str()),
            (200, "marquee-edge; fwd=miss; stored")
        );
    }
    // The memory tier holds 1 MiB: the earlier objects can only still be on disk.
    let mut from_disk = 0;
    let mut seen = Vec::new();
    for (p, body) in paths.iter().zip(&bodies) {
        let (status, cs, got) = fetch(&edge.url(&token, p)).await;
        assert_eq!(status, 200);
        assert!(cs.starts_with("marquee-edge; hit"), "{p}: {cs}");
        assert!(got == *body, "{p}: disk hit must return the original bytes");
        if cs == "marquee-edge; hit; detail=disk" {
            from_disk += 1;
        }
        seen.push(cs);
        assert_eq!(origin.fetches(p), 1, "{p} fetched again");
    }
    assert!(from_disk >= 4, "expected disk hits, got {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn range_requests_on_cached_objects_get_206_with_the_right_bytes() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/480p/seg-3.m4s";
    let body = origin.put(path, 300_000, Some(SEGMENT_CC), Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let url = edge.url(&token_for(&s, "t1", "p1"), path);

    // Cold: 206 with the range, cut from the fill as it arrives; the fill goes on whole.
    let resp = client()
        .get(&url)
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 206);
    assert!(
        cache_status(&resp).contains("fwd=miss"),
        "{}",
        cache_status(&resp)
    );
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 1000-1999/{}", body.len())
    );
    assert_eq!(resp.bytes().await.expect("body"), body.slice(1000..2000));
    // Warm: served from the cached object by seeking.
    let resp = client()
        .get(&url)
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 206);
    assert_eq!(cache_status(&resp), "marquee-edge; hit");
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 1000-1999/{}", body.len())
    );
    assert_eq!(resp.bytes().await.expect("body"), body.slice(1000..2000));
    let resp = client()
        .get(&url)
        .header("range", "bytes=-10")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.bytes().await.expect("body"),
        body.slice(body.len() - 10..)
    );
    assert_eq!(
        origin.fetches(path),
        1,
        "the range must come from the cached whole object"
    );
    let whole = client().get(&url).send().await.expect("get");
    assert_eq!(cache_status(&whole), "marquee-edge; hit");
    assert!(whole.bytes().await.expect("body") == body);
}

/// A viewer asks for the first bytes of a big cold object and hangs up: the fill still
/// completes, so the next viewer gets a hit and origin was asked once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ranged_miss_that_ends_early_still_fills_the_whole_object() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/1080p/seg-9.m4s";
    let body = origin.put_stalling(path, 2 << 20, Duration::from_millis(300));
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let url = edge.url(&token_for(&s, "t1", "p1"), path);
    let resp = client()
        .get(&url)
        .header("range", "bytes=0-1023")
        .send()
        .await
        .expect("get");
    // The range is in the first half: answered before origin sends the second.
    assert_eq!(resp.status(), 206);
    let got = tokio::time::timeout(Duration::from_millis(250), resp.bytes())
        .await
        .expect("the range comes before the fill finishes")
        .expect("body");
    assert_eq!(got, body.slice(0..1024));
    // Another viewer joins the fill with a range beyond what has arrived: cut as it comes.
    let resp = client()
        .get(&url)
        .header("range", "bytes=1500000-1500999")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 206, "{}", cache_status(&resp));
    assert_eq!(
        resp.bytes().await.expect("body"),
        body.slice(1_500_000..1_501_000)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let resp = client().get(&url).send().await.expect("get");
        let hit = cache_status(&resp).contains("hit");
        let got = resp.bytes().await.expect("body");
        assert!(got == body, "a whole, uncorrupted object");
        if hit {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the fill never completed"
        );
    }
    assert_eq!(origin.fetches(path), 1, "one origin fetch for all of it");
}

/// Malformed ranges are ignored (the whole object, as HTTP says), unsatisfiable or backwards
/// ones get 416 with the object's size; none of them change what is cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_and_unsatisfiable_ranges_are_answered_plainly() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/480p/seg-4.m4s";
    let body = origin.put(path, 10_000, Some(SEGMENT_CC), Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let url = edge.url(&token_for(&s, "t1", "p1"), path);
    for (range, want) in [
        ("bytes=abc", 200),
        // Backwards: refused as nginx does (RFC 9110 leaves ignoring or 416 to the server).
        ("bytes=500-100", 416),
        ("pages=1-2", 200),
        ("bytes=20000-", 416),
        ("bytes=20000-", 416),
        ("bytes=0-0", 206),
    ] {
        let resp = client()
            .get(&url)
            .header("range", range)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status().as_u16(), want, "{range}");
        match want {
            416 => assert_eq!(resp.headers()["content-range"], "bytes */10000", "{range}"),
            200 => assert!(resp.bytes().await.expect("body") == body, "{range}"),
            _ => assert_eq!(resp.bytes().await.expect("body"), body.slice(0..1)),
        }
    }
    assert_eq!(origin.fetches(path), 1, "refusals change nothing");
    let whole = client().get(&url).send().await.expect("get");
    assert!(whole.bytes().await.expect("body") == body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn origin_cache_control_is_honoured() {
    let origin = Origin::start().await;
    let no_store = "/media/t1/live.m3u8";
    let none = "/media/t1/none.bin";
    origin.put(no_store, 1000, Some("no-store"), Duration::ZERO);
    origin.put(none, 1000, None, Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let token = token_for(&s, "t1", "p1");

    for p in [no_store, none] {
        for _ in 0..2 {
            let (status, cs, _) = fetch(&edge.url(&token, p)).await;
            assert_eq!(
                (status, cs.as_str()),
                (200, "marquee-edge; fwd=miss"),
                "{p}"
            );
        }
        assert_eq!(origin.fetches(p), 2, "{p} must not be cached");
    }
    // 404s: see freshness.rs (kept briefly).
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_viewer_joining_a_fill_gets_bytes_before_the_fill_completes() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/720p/seg-9.m4s";
    let stall = Duration::from_millis(2000);
    let body = origin.put_stalling(path, 2 * MB, stall);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let first_url = edge.url(&token_for(&s, "t1", "first"), path);
    let second_url = edge.url(&token_for(&s, "t1", "second"), path);

    let first = tokio::spawn(async move { fetch(&first_url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The fill is stalled half-way: the second viewer must see its header and the first half now.
    let started = std::time::Instant::now();
    let mut resp = client().get(&second_url).send().await.expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        cache_status(&resp),
        "marquee-edge; hit",
        "joined the fill in progress"
    );
    let mut got = Vec::new();
    // Pingora flushes a response of known length only as its small write buffer fills: the
    // last few hundred bytes before origin's pause wait for the next bytes.
    while got.len() < body.len() / 2 - 4096 {
        let chunk = resp.chunk().await.expect("chunk").expect("more body");
        got.extend_from_slice(&chunk);
    }
    let first_half_after = started.elapsed();
    assert!(
        first_half_after < stall - Duration::from_millis(500),
        "the first half took {first_half_after:?}: the waiter was not streamed the fill"
    );
    while let Some(chunk) = resp.chunk().await.expect("chunk") {
        got.extend_from_slice(&chunk);
    }
    assert!(got == body, "the streamed copy must be the whole object");
    let (status, _, first_body) = first.await.expect("task");
    assert_eq!(status, 200);
    assert!(first_body == body);
    assert_eq!(origin.fetches(path), 1);
    let (_, cs, again) = fetch(&edge.url(&token_for(&s, "t1", "third"), path)).await;
    assert_eq!(cs, "marquee-edge; hit");
    assert!(again == body);
}
