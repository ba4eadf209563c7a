//! Purges through the real control-plane reach every edge in under a second.

use std::time::{Duration, Instant};

use marquee_tls::Service;
use serde_json::json;

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_purge_by_path_or_title_empties_every_edge_within_a_second() {
    let origin = Origin::start().await;
    let segment = "/media/t1/j1/video/720p/seg-1.m4s";
    let manifest = "/media/t1/j1/manifest.mpd";
    let other = "/media/t2/j1/manifest.mpd";
    for path in [segment, manifest, other] {
        origin.put(path, 10_000, Some(SEGMENT_CC), Duration::ZERO);
    }
    let cp = RealControlPlane::start();
    let s = signer("k1");
    let mut edges = Vec::new();
    for id in ["edge-a", "edge-b"] {
        let opts = EdgeOptions {
            control_plane: Some(cp.url.clone()),
            edge_id: Some(id.into()),
            ..Default::default()
        };
        edges.push(Edge::start(origin.addr, &s, opts).await);
    }
    wait_registered(&cp, &["edge-a", "edge-b"]).await;
    let t1 = token_for(&s, "t1", "p");
    let t2 = token_for(&s, "t2", "p");
    for edge in &edges {
        for (token, path) in [(&t1, segment), (&t1, manifest), (&t2, other)] {
            assert_eq!(fetch(&edge.url(token, path)).await.0, 200);
            assert!(fetch(&edge.url(token, path)).await.1.contains("hit"));
        }
    }

    let operator = cp.client(Service::Operator, "ops");
    let started = Instant::now();
    let answer: serde_json::Value = operator
        .post(format!("{}/v1/purge", cp.url))
        .json(&json!({ "paths": [segment] }))
        .send()
        .await
        .expect("purge")
        .json()
        .await
        .expect("json");
    let took = started.elapsed();
    assert_eq!(
        answer["applied_by"],
        json!(["edge-a", "edge-b"]),
        "{answer}"
    );
    assert_eq!(answer["pending"], json!([]));
    assert!(took < Duration::from_secs(1), "purge took {took:?}");
    for edge in &edges {
        let (_, cs, _) = fetch(&edge.url(&t1, segment)).await;
        assert!(cs.contains("fwd=miss"), "{} still had it: {cs}", edge.id);
        assert!(fetch(&edge.url(&t1, manifest)).await.1.contains("hit"));
    }
    assert_eq!(origin.fetches(segment), 4);

    // A takedown: everything of t1, nothing of t2.
    let answer: serde_json::Value = operator
        .post(format!("{}/v1/purge", cp.url))
        .json(&json!({ "titles": ["t1"] }))
        .send()
        .await
        .expect("purge")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["pending"], json!([]), "{answer}");
    for edge in &edges {
        assert!(fetch(&edge.url(&t1, manifest)).await.1.contains("fwd=miss"));
        assert!(fetch(&edge.url(&t1, segment)).await.1.contains("fwd=miss"));
        assert!(fetch(&edge.url(&t2, other)).await.1.contains("hit"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purges_from_edges_and_bad_purges_are_refused_and_change_nothing() {
    let cp = RealControlPlane::start();
    let edge = cp.client(Service::Edge, "edge-x");
    let resp = edge
        .post(format!("{}/v1/purge", cp.url))
        .json(&json!({ "paths": ["/media/t1/a"] }))
        .send()
        .await
        .expect("test step");
    assert_eq!(resp.status(), 403);
    let operator = cp.client(Service::Operator, "ops");
    for (body, code) in [
        (json!({ "paths": ["/t/TOKEN/media/t1/a"] }), "bad_purge"),
        (json!({}), "bad_purge"),
        (json!({ "pathz": ["/media/x"] }), "bad_json"),
    ] {
        let resp = operator
            .post(format!("{}/v1/purge", cp.url))
            .json(&body)
            .send()
            .await
            .expect("test step");
        assert_eq!(resp.status(), 400);
        let err: serde_json::Value = resp.json().await.expect("test step");
        assert_eq!(err["error"]["code"], code, "{err}");
    }
    // Nothing was numbered (a poll past the log is answered at once).
    let resp = edge
        .get(format!("{}/v1/purges?after=99", cp.url))
        .send()
        .await
        .expect("test step");
    assert_eq!(resp.status(), 200);
    use prost::Message;
    let batch = marquee_proto::v1::PurgeBatch::decode(resp.bytes().await.expect("test step"))
        .expect("test step");
    assert_eq!(batch.latest_seq, 0, "no purge was recorded");
}
