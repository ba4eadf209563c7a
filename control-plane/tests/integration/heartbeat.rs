use marquee_proto::v1::EdgeHeartbeat;
use prost::Message;

use crate::util::{ControlPlane, TWO_REGIONS, edge};

#[tokio::test]
async fn heartbeat_is_acknowledged_with_the_configured_timings() -> anyhow::Result<()> {
    let cp = ControlPlane::start(&[
        "--edge-timeout-ms",
        "4000",
        "--heartbeat-interval-ms",
        "1000",
    ])?;
    let ack = cp.heartbeat(&edge("e1", "eu-west", 0, 100)).await?;
    assert_eq!(ack.next_heartbeat_ms, 1000);
    assert_eq!(ack.edge_timeout_ms, 4000);
    Ok(())
}

#[tokio::test]
async fn undecodable_or_incomplete_heartbeats_get_400_with_a_reason() -> anyhow::Result<()> {
    let cp = ControlPlane::start(TWO_REGIONS)?;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"\xff\xff\xff garbage".to_vec(),
            "not a protobuf EdgeHeartbeat",
        ),
        (
            EdgeHeartbeat {
                region: "eu-west".into(),
                public_url: "http://a".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            "edge_id is required",
        ),
        (
            EdgeHeartbeat {
                edge_id: "e".into(),
                public_url: "http://a".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            "region is required",
        ),
        (
            EdgeHeartbeat {
                edge_id: "e".into(),
                region: "eu-west".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            "public_url is required",
        ),
        (
            EdgeHeartbeat {
                edge_id: "e".into(),
                region: "eu-west".into(),
                public_url: "edge.example:80".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            "not an absolute http:// or https:// URL",
        ),
    ];
    for (body, reason) in cases {
        let (status, text) = cp.post_heartbeat_bytes(body).await?;
        let text = String::from_utf8_lossy(&text);
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(reason), "expected {reason:?} in {text:?}");
    }
    // None of the refused heartbeats registered an edge.
    assert!(cp.steer_ids("region=eu-west").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() -> anyhow::Result<()> {
    let cp = ControlPlane::start(&[])?;
    cp.heartbeat(&edge("e1", "eu-west", 0, 0)).await?;
    let status = cp.terminate()?;
    assert!(status.success(), "exit status {status}");
    Ok(())
}

#[tokio::test]
async fn an_edge_reports_for_itself_only_and_replays_are_refused() -> anyhow::Result<()> {
    let cp = ControlPlane::start(TWO_REGIONS)?;
    // edge-1's certificate, a heartbeat for edge-2 with a tempting capacity: the forgery the
    // issue describes.
    let mut forged = edge("edge-2", "eu-west", 0, 1_000_000);
    forged.sent_at_unix_ms = crate::util::fresh_stamp();
    let (status, body) = cp
        .post_heartbeat_as("edge-1", forged.encode_to_vec())
        .await?;
    let body: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "identity_mismatch");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("edge edge-1")),
        "{body}"
    );

    // Origin's certificate is not an edge's.
    let origin = cp.http.clone();
    let resp = origin
        .post(cp.url("/v1/heartbeat"))
        .body(forged.encode_to_vec())
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 403);

    // The real edge-2, then the same bytes again (a replay).
    let mut real = edge("edge-2", "eu-west", 0, 100);
    real.sent_at_unix_ms = crate::util::fresh_stamp();
    real.requests_total = 10;
    real.cache_hits_total = 6;
    real.cache_misses_total = 2;
    real.bytes_served_total = 12_345;
    let (status, _) = cp.post_heartbeat_as("edge-2", real.encode_to_vec()).await?;
    assert_eq!(status, 200);
    let (status, body) = cp.post_heartbeat_as("edge-2", real.encode_to_vec()).await?;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    // A stamp from an hour ago: held back, or a wrong clock.
    let mut old = real.clone();
    old.sent_at_unix_ms -= 3_600_000;
    let (status, body) = cp.post_heartbeat_as("edge-2", old.encode_to_vec()).await?;
    let body: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &"heartbeat_clock_skew".into())
    );

    // Only the real heartbeat counts: capacity 100, not a million.
    let (_, edges) = cp.get_text("/v1/edges").await?;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&edges)?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["capacity_rps"], 100);
    // What the fleet page shows: hits over hits and misses, bytes served.
    assert_eq!(rows[0]["hit_ratio"], 0.75);
    assert_eq!(rows[0]["requests_total"], 10);
    assert_eq!(rows[0]["bytes_served_total"], 12_345);

    let (_, metrics) = cp.get_text("/metrics").await?;
    for line in [
        "marquee_control_plane_heartbeats_received_total{outcome=\"rejected\",reason=\"identity_mismatch\"} 1",
        "marquee_control_plane_heartbeats_received_total{outcome=\"rejected\",reason=\"forbidden\"} 1",
        "marquee_control_plane_heartbeats_received_total{outcome=\"rejected\",reason=\"heartbeat_replayed\"} 1",
        "marquee_control_plane_heartbeats_received_total{outcome=\"accepted\",reason=\"ok\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in:\n{metrics}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn clients_without_a_good_certificate_are_refused_in_the_handshake() -> anyhow::Result<()> {
    let cp = ControlPlane::start(&[])?;
    let tls = marquee_tls::Tls::load(&cp.pki.issue(marquee_tls::Service::Origin, "o")?)?;
    // Trusts the server, presents nothing.
    let roots = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(tls.roots())
    .with_no_client_auth();
    let anonymous = reqwest::Client::builder()
        .use_preconfigured_tls(roots)
        .build()?;
    assert!(anonymous.get(cp.url("/healthz")).send().await.is_err());

    // Another deployment's edge, trusting our server.
    let stranger = crate::util::Pki::new()?;
    let foreign = marquee_tls::Tls::load(&stranger.issue(marquee_tls::Service::Edge, "e")?)?;
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(tls.roots())
    .with_client_cert_resolver(foreign.key());
    let foreign = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .build()?;
    let mut hb = edge("e", "eu-west", 0, 100);
    hb.sent_at_unix_ms = crate::util::fresh_stamp();
    assert!(
        foreign
            .post(cp.url("/v1/heartbeat"))
            .body(hb.encode_to_vec())
            .send()
            .await
            .is_err()
    );
    // Plain HTTP to the TLS port.
    let plain = cp.base.replace("https://", "http://");
    assert!(reqwest::get(format!("{plain}/healthz")).await.is_err());

    let (_, metrics) = cp.get_text("/metrics").await?;
    for reason in ["no_certificate", "unknown_ca", "not_tls"] {
        let line = format!("marquee_tls_handshakes_refused_total{{reason=\"{reason}\"}} 1");
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in:\n{metrics}"
        );
    }
    assert!(cp.steer_ids("region=eu-west").await?.is_empty());
    Ok(())
}
