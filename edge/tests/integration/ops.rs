//! Operating the edge: heartbeats, metrics, start-up errors, shutdown, origin failures.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heartbeats_carry_identity_and_load_and_end_with_draining_on_sigterm() {
    let origin = Origin::start().await;
    let path = "/media/t1/manifest.mpd";
    origin.put(path, 1000, Some(MANIFEST_CC), Duration::ZERO);
    let sink = HeartbeatSink::start().await;
    let s = signer("k1");
    let mut edge = Edge::start(
        origin.addr,
        &s,
        EdgeOptions {
            control_plane: Some(sink.url.clone()),
            extra: vec!["--capacity-rps".into(), "500".into()],
            ..Default::default()
        },
    )
    .await;

    let first = sink.wait_for(Duration::from_secs(10), |_| true).await;
    assert_eq!(first.edge_id, "edge-test-1");
    // Sent with the edge's own certificate, over mutual TLS.
    assert_eq!(
        sink.senders()[0],
        Some(marquee_tls::Identity::new(marquee_tls::Service::Edge, "edge-test-1").unwrap())
    );
    assert_eq!(first.region, "test-region");
    assert_eq!(first.public_url, edge.base);
    assert_eq!(first.capacity_rps, 500);
    assert!(!first.draining);
    let age_ms = now_unix() * 1000 - first.sent_at_unix_ms.min(now_unix() * 1000);
    assert!(age_ms < 60_000, "sent_at_unix_ms is wall-clock ms");

    let token = token_for(&s, "t1", "p1");
    for _ in 0..3 {
        assert_eq!(fetch(&edge.url(&token, path)).await.0, 200);
    }
    // The sink asks for a heartbeat every 200 ms; the counters must show the traffic soon.
    let hb = sink
        .wait_for(Duration::from_secs(5), |hb| {
            hb.cache_hits_total >= 2 && hb.cache_misses_total >= 1
        })
        .await;
    assert_eq!(hb.cache_misses_total, 1);
    assert!(hb.requests_total >= 3, "{hb:?}");

    let pid = edge.child.id().to_string();
    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let draining = sink
        .wait_for(Duration::from_secs(5), |hb| hb.draining)
        .await;
    assert_eq!(draining.edge_id, "edge-test-1");
    let exited = wait_exit(&mut edge, Duration::from_secs(10));
    assert!(exited, "edge did not stop within 10 s of SIGTERM");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "shutdown took {:?}",
        started.elapsed()
    );
}

fn wait_exit(edge: &mut Edge, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = edge.child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unreachable_control_plane_does_not_stop_serving() {
    let origin = Origin::start().await;
    let path = "/media/t1/manifest.mpd";
    let body = origin.put(path, 1000, Some(MANIFEST_CC), Duration::ZERO);
    let s = signer("k1");
    let dead = format!("https://127.0.0.1:{}", free_port());
    let edge = Edge::start(
        origin.addr,
        &s,
        EdgeOptions {
            control_plane: Some(dead),
            ..Default::default()
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, _, got) = fetch(&edge.url(&token_for(&s, "t1", "p"), path)).await;
    assert_eq!((status, got), (200, body));
    let text = client()
        .get(format!("{}/metrics", edge.base))
        .send()
        .await
        .expect("m")
        .text()
        .await
        .expect("t");
    let failures = text
        .lines()
        .find(|l| l.starts_with("marquee_edge_heartbeat_failures_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("heartbeat failure counter");
    assert!(failures >= 1.0, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_and_health_are_served_by_the_edge() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/720p/seg-1.m4s";
    origin.put(path, 50_000, Some(SEGMENT_CC), Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let token = token_for(&s, "t1", "p");
    fetch(&edge.url(&token, path)).await;
    fetch(&edge.url(&token, path)).await;
    fetch(&edge.url("bad", path)).await;

    let health = client()
        .get(format!("{}/healthz", edge.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("t").trim(), "ok");

    // Requests are counted when pingora logs them, just after the viewer got the last byte.
    let wanted = [
        "marquee_edge_requests_total{result=\"hit\"} 1",
        "marquee_edge_requests_total{result=\"miss\"} 1",
        "marquee_edge_requests_total{result=\"denied\"} 1",
        "marquee_edge_served_bytes_total{result=\"hit\"} 50000",
        "marquee_edge_origin_fetch_duration_seconds_bucket",
        "marquee_edge_active_requests",
        "marquee_edge_token_rejections_total{code=\"token_malformed\"} 1",
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let text = loop {
        let url = format!("{}/metrics", edge.base);
        let text = client()
            .get(url)
            .send()
            .await
            .expect("m")
            .text()
            .await
            .expect("t");
        if wanted.iter().all(|w| text.contains(w)) || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for name in wanted {
        assert!(text.contains(name), "missing {name}:\n{text}");
    }
    let hit_bytes = text
        .lines()
        .find(|l| l.starts_with("marquee_edge_served_bytes_total{result=\"hit\"}"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("hit bytes");
    assert_eq!(hit_bytes, 50_000.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn origin_down_gives_502_json_and_logs_no_token() {
    let dead_origin: std::net::SocketAddr =
        format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let s = signer("k1");
    let opts = EdgeOptions {
        capture_stderr: true,
        ..Default::default()
    };
    let edge = Edge::start(dead_origin, &s, opts).await;
    let token = token_for(&s, "t1", "p");
    let resp = client()
        .get(edge.url(&token, "/media/t1/manifest.mpd"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "origin_unavailable");

    // The failure is logged (by pingora and the edge), with the token redacted.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !edge.stderr().contains("/t/<token>/media/t1/manifest.mpd") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = edge.stderr();
    assert!(
        log.contains("/t/<token>/media/t1/manifest.mpd"),
        "failure not logged:\n{log}"
    );
    assert!(
        !log.contains(&token),
        "the playback token leaked into the log:\n{log}"
    );
}

#[test]
fn refuses_to_start_without_keys_and_says_what_to_pass() {
    let out = Command::new(edge_binary())
        .args(["--listen", "127.0.0.1:0", "--origin", "127.0.0.1:1"])
        .env_remove("MARQUEE_EDGE_TOKEN_PUBLIC_KEY")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--token-public-key"), "{stderr}");

    let help = Command::new(edge_binary())
        .arg("--help")
        .output()
        .expect("help");
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--listen",
        "--origin",
        "--control-plane",
        "--edge-id",
        "--region",
        "--public-url",
        "--token-public-key",
        "--cache-dir",
        "--cache-memory-mb",
        "--cache-disk-mb",
        "MARQUEE_EDGE_LISTEN",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prints_the_listening_line_on_stdout() {
    let origin = Origin::start().await;
    let s = signer("k1");
    let port = free_port();
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = std::process::Command::new(edge_binary())
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--origin",
            &origin.addr.to_string(),
        ])
        .args([
            "--token-public-key",
            &s.public_key_spec(),
            "--cache-disk-mb",
            "64",
            "--cache-memory-mb",
            "8",
        ])
        .arg("--cache-dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(30), line)
        .await
        .expect("in time")
        .expect("join")
        .expect("read");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        line.trim(),
        format!("marquee-edge listening on http://127.0.0.1:{port}")
    );
}

/// A restarted edge (same cache folder) serves what it cached before from disk: an operator's
/// restart or upgrade must not send every viewer back to origin at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_edge_serves_its_earlier_cache_from_disk() {
    let origin = Origin::start().await;
    let s = signer("k1");
    let token = token_for(&s, "t1", "p1");
    let paths = [
        "/media/t1/video/720p/seg-1.m4s",
        "/media/t1/audio/seg-1.m4s",
    ];
    let bodies: Vec<_> = paths
        .iter()
        .map(|p| origin.put(p, 300_000, Some(SEGMENT_CC), Duration::ZERO))
        .collect();
    let cache = tempfile::tempdir().expect("tempdir");
    let opts = || EdgeOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        extra: vec!["--grace-period-secs".into(), "0".into()],
        ..Default::default()
    };

    let mut edge = Edge::start(origin.addr, &s, opts()).await;
    for path in paths {
        let (status, cs, _) = fetch(&edge.url(&token, path)).await;
        assert_eq!(
            (status, cs.as_str()),
            (200, "marquee-edge; fwd=miss; stored")
        );
    }
    let killed = Command::new("kill")
        .args(["-TERM", &edge.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert!(
        wait_exit(&mut edge, Duration::from_secs(15)),
        "edge did not stop"
    );
    drop(edge);

    let edge = Edge::start(origin.addr, &s, opts()).await;
    for (path, body) in paths.iter().zip(&bodies) {
        let (status, cs, got) = fetch(&edge.url(&token, path)).await;
        assert_eq!(status, 200);
        assert_eq!(cs, "marquee-edge; hit; detail=disk", "{path}");
        assert_eq!(&got, body, "{path}: the very bytes cached before");
        assert_eq!(origin.fetches(path), 1, "{path} fetched from origin again");
    }
}

/// With several origin nodes, a fill that finds the first one gone goes to the next; the dead
/// one is then skipped for a while instead of costing every request a refused connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_origin_node_is_skipped_and_the_next_one_fills() {
    let dead: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let live = Origin::start().await;
    let a = "/media/t1/video/720p/seg-1.m4s";
    let b = "/media/t1/video/720p/seg-2.m4s";
    let body_a = live.put(a, 50_000, Some(SEGMENT_CC), Duration::ZERO);
    let body_b = live.put(b, 50_000, Some(SEGMENT_CC), Duration::ZERO);
    let s = signer("k1");
    let opts = EdgeOptions {
        extra: vec!["--origin".into(), live.addr.to_string()],
        ..Default::default()
    };
    let edge = Edge::start(dead, &s, opts).await;
    let token = token_for(&s, "t1", "p");
    let (status, cs, got) = fetch(&edge.url(&token, a)).await;
    assert_eq!(
        (status, cs.as_str()),
        (200, "marquee-edge; fwd=miss; stored")
    );
    assert_eq!(got, body_a);
    let (status, _, got) = fetch(&edge.url(&token, b)).await;
    assert_eq!(status, 200);
    assert_eq!(got, body_b);
    let metrics = reqwest::get(format!("{}/metrics", edge.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let failovers = metrics
        .lines()
        .find(|l| l.starts_with("marquee_edge_origin_failovers_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok());
    assert_eq!(
        failovers,
        Some(1.0),
        "the second fill skips the dead node:\n{metrics}"
    );
}
