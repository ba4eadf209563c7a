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
