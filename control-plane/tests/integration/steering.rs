use std::time::{Duration, Instant};

use crate::util::{ControlPlane, TWO_REGIONS, edge};

#[tokio::test]
async fn each_region_is_steered_to_its_own_edge_first() -> anyhow::Result<()> {
    let cp = ControlPlane::start(TWO_REGIONS)?;
    // The eu edge is busier than the us edge: region must still beat load.
    cp.heartbeat(&edge("edge-eu", "eu-west", 60, 100)).await?;
    cp.heartbeat(&edge("edge-us", "us-east", 5, 100)).await?;

    let eu = cp.steer("client_ip=10.1.7.7").await?;
    assert_eq!(eu.client_region, "eu-west");
    let ids: Vec<_> = eu.edges.iter().map(|e| e.edge_id.as_str()).collect();
    assert_eq!(ids, ["edge-eu", "edge-us"]);
    assert_eq!(eu.edges[0].public_url, "https://edge-eu.test:8443");
    assert!(eu.generated_at_unix_ms > 0);

    assert_eq!(
        cp.steer_ids("client_ip=10.2.0.1").await?,
        ["edge-us", "edge-eu"]
    );
    assert_eq!(
        cp.steer_ids("client_ip=2001:db8:2::9").await?,
        ["edge-us", "edge-eu"]
    );
    // Unknown prefix: the default region.
    assert_eq!(
        cp.steer("client_ip=192.0.2.1").await?.client_region,
        "eu-west"
    );
    // An explicit region hint wins over the address.
    let hinted = cp.steer("client_ip=10.1.7.7&region=us-east").await?;
    assert_eq!(hinted.client_region, "us-east");
    assert_eq!(hinted.edges[0].edge_id, "edge-us");
    assert_eq!(
        cp.steer_ids("client_ip=10.1.7.7&limit=1").await?,
        ["edge-eu"]
    );
    Ok(())
}

#[tokio::test]
async fn within_a_region_lower_load_comes_first() -> anyhow::Result<()> {
    let cp = ControlPlane::start(TWO_REGIONS)?;
    cp.heartbeat(&edge("eu-a", "eu-west", 90, 100)).await?;
    cp.heartbeat(&edge("eu-b", "eu-west", 10, 100)).await?;
    cp.heartbeat(&edge("us-a", "us-east", 0, 100)).await?;
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1").await?,
        ["eu-b", "eu-a", "us-a"]
    );
    // eu-b gets busy: the next heartbeat reorders the answer.
    cp.heartbeat(&edge("eu-b", "eu-west", 95, 100)).await?;
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1").await?,
        ["eu-a", "eu-b", "us-a"]
    );
    Ok(())
}

#[tokio::test]
async fn draining_edge_is_not_handed_out() -> anyhow::Result<()> {
    let cp = ControlPlane::start(TWO_REGIONS)?;
    cp.heartbeat(&edge("edge-eu", "eu-west", 0, 100)).await?;
    cp.heartbeat(&edge("edge-us", "us-east", 0, 100)).await?;
    let mut draining = edge("edge-eu", "eu-west", 0, 100);
    draining.draining = true;
    cp.heartbeat(&draining).await?;
    assert_eq!(cp.steer_ids("client_ip=10.1.0.1").await?, ["edge-us"]);
    // Undraining brings it back on the next heartbeat.
    cp.heartbeat(&edge("edge-eu", "eu-west", 0, 100)).await?;
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1").await?,
        ["edge-eu", "edge-us"]
    );
    Ok(())
}

#[tokio::test]
async fn silent_edge_disappears_after_the_timeout() -> anyhow::Result<()> {
    let cp = ControlPlane::start(&[
        "--edge-timeout-ms",
        "800",
        "--heartbeat-interval-ms",
        "200",
        "--region-prefix",
        "10.1.0.0/16=eu-west",
    ])?;
    cp.heartbeat(&edge("edge-eu", "eu-west", 0, 100)).await?;
    cp.heartbeat(&edge("edge-us", "us-east", 0, 100)).await?;
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1").await?,
        ["edge-eu", "edge-us"]
    );

    // edge-us keeps beating; edge-eu falls silent.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        cp.heartbeat(&edge("edge-us", "us-east", 0, 100)).await?;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(cp.steer_ids("client_ip=10.1.0.1").await?, ["edge-us"]);
    let (_, edges) = cp.get_text("/v1/edges").await?;
    assert!(
        !edges.contains("edge-eu"),
        "expired edge still listed: {edges}"
    );
    assert!(edges.contains("edge-us"), "{edges}");

    // A heartbeat brings the edge straight back.
    cp.heartbeat(&edge("edge-eu", "eu-west", 0, 100)).await?;
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1").await?,
        ["edge-eu", "edge-us"]
    );
    Ok(())
}

#[tokio::test]
async fn bad_steering_queries_get_400_with_a_reason() -> anyhow::Result<()> {
    let cp = ControlPlane::start(TWO_REGIONS)?;
    for (query, reason) in [
        ("client_ip=10.1.999.1", "is not an IPv4 or IPv6 address"),
        (
            "client_ip=banana&region=eu-west",
            "is not an IPv4 or IPv6 address",
        ),
        ("", "client_ip or region is required"),
        (
            "client_ip=10.1.0.1&limit=0",
            "must be a whole number from 1 to 64",
        ),
        (
            "client_ip=10.1.0.1&limit=lots",
            "must be a whole number from 1 to 64",
        ),
    ] {
        let (status, _, body) = cp.steer_raw(query).await?;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body.contains(reason),
            "{query}: expected {reason:?} in {body:?}"
        );
    }
    let (status, ctype, _) = cp.steer_raw("client_ip=10.1.0.1").await?;
    assert_eq!((status, ctype.as_str()), (200, "application/x-protobuf"));
    Ok(())
}

#[tokio::test]
async fn a_session_keeps_its_edge_and_learns_how_long_the_answer_holds() -> anyhow::Result<()> {
    let mut args = TWO_REGIONS.to_vec();
    args.extend(["--steering-ttl-secs", "7"]);
    let cp = ControlPlane::start(&args)?;
    cp.heartbeat(&edge("eu-a", "eu-west", 10, 100)).await?;
    cp.heartbeat(&edge("eu-b", "eu-west", 14, 100)).await?;
    cp.heartbeat(&edge("eu-busy", "eu-west", 95, 100)).await?;
    let fresh = cp.steer("client_ip=10.1.0.1").await?;
    assert_eq!(fresh.ttl_secs, 7);
    assert_eq!(fresh.edges[0].edge_id, "eu-a");
    // A session already on eu-b stays there; one on a crowded edge is moved off it.
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1&current=eu-b").await?,
        ["eu-b", "eu-a", "eu-busy"]
    );
    assert_eq!(
        cp.steer_ids("client_ip=10.1.0.1&current=eu-busy").await?,
        ["eu-a", "eu-b", "eu-busy"]
    );
    Ok(())
}
