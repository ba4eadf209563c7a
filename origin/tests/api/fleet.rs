//! The fleet page's API: the control-plane's edges with their cache figures, and purges, for
//! admins only.

use reqwest::StatusCode;
use serde_json::json;

use super::playback::start_control_plane;
use super::util::{ADMIN_EMAIL, Client, expect, expect_error, sign_up, start_origin};

#[tokio::test]
async fn admins_see_the_fleet_and_purge_through_the_control_plane() {
    let tmp = tempfile::tempdir().unwrap();
    let cp = start_control_plane(tmp.path());
    let flags = cp.origin_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let origin = start_origin(&tmp.path().join("origin"), &flags);
    let mut admin = Client::new(&origin.base);
    sign_up(&mut admin, ADMIN_EMAIL).await;
    let mut viewer = Client::new(&origin.base);
    sign_up(&mut viewer, "viewer@example.com").await;

    cp.heartbeat().await;
    let fleet = expect(admin.get("/api/v1/admin/fleet").await, StatusCode::OK).await;
    assert_eq!(fleet["control_plane"], true, "{fleet}");
    let edge = &fleet["edges"][0];
    assert_eq!(edge["edge_id"], "edge-test-1", "{fleet}");
    assert_eq!(edge["region"], "eu-west");
    assert_eq!(edge["healthy"], true);
    assert!(
        edge["hit_ratio"].is_null(),
        "no cacheable request yet: {edge}"
    );
    assert!(edge["bytes_served_total"].is_u64());
    expect_error(
        viewer.get("/api/v1/admin/fleet").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // A purge reaches the control-plane; the edge (which does not poll here) is pending.
    let purged = expect(
        admin
            .post("/api/v1/admin/purge", json!({ "titles": ["t1"] }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(purged["seq"], 1, "{purged}");
    assert_eq!(purged["pending"], json!(["edge-test-1"]), "{purged}");
    let refused = expect(
        admin
            .post("/api/v1/admin/purge", json!({ "paths": ["/etc/passwd"] }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["error"]["code"], "invalid_body");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not a media path")),
        "{refused}"
    );
    expect_error(
        viewer
            .post("/api/v1/admin/purge", json!({ "titles": ["t1"] }))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn without_a_control_plane_the_fleet_is_empty_and_purges_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut admin = Client::new(&origin.base);
    sign_up(&mut admin, ADMIN_EMAIL).await;
    let fleet = expect(admin.get("/api/v1/admin/fleet").await, StatusCode::OK).await;
    assert_eq!(fleet, json!({ "control_plane": false, "edges": [] }));
    let refused = expect(
        admin
            .post("/api/v1/admin/purge", json!({ "titles": ["t1"] }))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["error"]["code"], "no_control_plane");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--control-plane"))
    );
}
