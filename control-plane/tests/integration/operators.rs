use crate::util::{ControlPlane, TWO_REGIONS, edge};

#[tokio::test]
async fn edges_listing_shows_state_for_operators() -> anyhow::Result<()> {
    let cp = ControlPlane::start(TWO_REGIONS)?;
    cp.heartbeat(&edge("edge-us", "us-east", 25, 100)).await?;
    let mut eu = edge("edge-eu", "eu-west", 3, 0);
    eu.draining = true;
    cp.heartbeat(&eu).await?;

    let resp = cp.http.get(cp.url("/v1/edges")).send().await?;
    assert_eq!(resp.status().as_u16(), 200);
    let rows: Vec<serde_json::Value> = resp.json().await?;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["edge_id"], "edge-eu");
    assert_eq!(rows[0]["draining"], true);
    assert_eq!(rows[0]["healthy"], true);
    assert_eq!(rows[0]["load"], serde_json::Value::Null);
    assert_eq!(rows[1]["edge_id"], "edge-us");
    assert_eq!(rows[1]["region"], "us-east");
    assert_eq!(rows[1]["public_url"], "https://edge-us.test:8443");
    assert_eq!(rows[1]["load"], 0.25);
    assert!(
        rows[1]["last_seen_ms_ago"]
            .as_u64()
            .is_some_and(|ms| ms < 5000)
    );
    Ok(())
}

#[tokio::test]
async fn healthz_and_metrics_report_what_happened() -> anyhow::Result<()> {
    let cp = ControlPlane::start(TWO_REGIONS)?;
    assert_eq!(cp.get_text("/healthz").await?, (200, "ok".to_owned()));

    cp.heartbeat(&edge("edge-eu", "eu-west", 0, 100)).await?;
    cp.heartbeat(&edge("edge-us", "us-east", 0, 100)).await?;
    cp.heartbeat(&edge("edge-us-2", "us-east", 0, 100)).await?;
    cp.post_heartbeat_bytes(b"\xff".to_vec()).await?;
    cp.steer("client_ip=10.1.0.1").await?;
    cp.steer_raw("client_ip=nope").await?;

    let (status, text) = cp.get_text("/metrics").await?;
    assert_eq!(status, 200);
    for line in [
        "marquee_control_plane_heartbeats_received_total{outcome=\"accepted\",reason=\"ok\"} 3",
        "marquee_control_plane_heartbeats_received_total{outcome=\"rejected\",reason=\"bad_heartbeat\"} 1",
        "marquee_control_plane_steering_requests_total{outcome=\"ok\"} 1",
        "marquee_control_plane_steering_requests_total{outcome=\"bad_client_ip\"} 1",
        "marquee_control_plane_healthy_edges{region=\"eu-west\"} 1",
        "marquee_control_plane_healthy_edges{region=\"us-east\"} 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    Ok(())
}

#[test]
fn bad_flags_stop_start_up_with_a_reason() -> anyhow::Result<()> {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_marquee-control-plane"))
            .args(args)
            .output()
    };
    let out = run(&["--region-prefix", "10.1.2.3/16=eu"])?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has bits set after its prefix length"));
    assert!(out.stdout.is_empty(), "must not claim to listen");

    let out = run(&["--edge-timeout-ms", "1000"])?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert"));

    let tls = [
        "--tls-cert",
        "c.pem",
        "--tls-key",
        "k.pem",
        "--tls-ca",
        "ca.pem",
    ];
    let out = run(&[&tls[..], &["--edge-timeout-ms", "100"]].concat())?;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "--heartbeat-interval-ms (2000) must be shorter than --edge-timeout-ms (100)"
        )
    );
    assert!(out.stdout.is_empty(), "must not claim to listen");
    Ok(())
}

#[tokio::test]
async fn operators_drain_edges_and_the_drain_outlives_a_restart() -> anyhow::Result<()> {
    let state = tempfile::tempdir()?;
    let state_dir = state.path().to_str().expect("test step").to_owned();
    let mut args = TWO_REGIONS.to_vec();
    args.extend(["--state-dir", &state_dir]);
    let cp = ControlPlane::start(&args)?;
    cp.heartbeat(&edge("edge-eu", "eu-west", 0, 100)).await?;
    cp.heartbeat(&edge("edge-us", "us-east", 0, 100)).await?;

    // An edge cannot drain another (nor itself): operators decide.
    let resp = cp
        .edge_client("edge-us")?
        .post(cp.url("/v1/edges/edge-eu/drain"))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1").await?,
        ["edge-eu", "edge-us"]
    );

    let resp = cp
        .operator
        .post(cp.url("/v1/edges/edge-eu/drain"))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let answer: serde_json::Value = resp.json().await?;
    assert_eq!(answer["changed"], true);
    assert_eq!(cp.steer_ids("client_ip=10.1.0.1").await?, ["edge-us"]);
    let resp = cp
        .operator
        .post(cp.url("/v1/edges/Bad_Id/drain"))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 400);

    // Restarted, the edge heartbeats again and stays drained.
    let pki = cp.stop();
    let cp = ControlPlane::start_with(pki, &args)?;
    cp.heartbeat(&edge("edge-eu", "eu-west", 0, 100)).await?;
    cp.heartbeat(&edge("edge-us", "us-east", 0, 100)).await?;
    assert_eq!(cp.steer_ids("client_ip=10.1.0.1").await?, ["edge-us"]);
    let (_, edges) = cp.get_text("/v1/edges").await?;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&edges)?;
    assert_eq!(rows[0]["drained"], true);

    let resp = cp
        .operator
        .post(cp.url("/v1/edges/edge-eu/restore"))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1").await?,
        ["edge-eu", "edge-us"]
    );
    Ok(())
}
