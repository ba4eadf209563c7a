//! Recommendation rows over HTTP: viewers who watch two films together teach the model, and a
//! new profile that loves one of them gets the other as its top pick at once; its own plays make
//! "Because you watched" rows, and today's plays the Top 10.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::util::{
    Client, choose, expect, make_video, new_title, ready_title, sign_up, start_origin, wait_for_job,
};

pub(super) async fn film(admin: &mut Client, name: &str, video: &[u8]) -> String {
    let t = expect(
        admin.post("/api/v1/admin/titles", new_title(name)).await,
        StatusCode::CREATED,
    )
    .await;
    let id = t["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/admin/titles/{id}/video");
    expect(
        admin.put(&path, "video/mp4", video.to_vec()).await,
        StatusCode::ACCEPTED,
    )
    .await;
    wait_for_job(admin, &id).await;
    id
}

/// A signed-up viewer with a profile chosen.
pub(super) async fn viewer(base: &str, email: &str) -> Client {
    let mut c = Client::new(base);
    sign_up(&mut c, email).await;
    let p = expect(
        c.post("/api/v1/profiles", json!({"name": "Sam"})).await,
        StatusCode::CREATED,
    )
    .await;
    choose(&mut c, &p).await;
    c
}

async fn watched(c: &mut Client, id: &str) {
    let body = json!({"position_secs": 5.5}).to_string().into_bytes();
    let resp = c
        .put(&format!("/api/v1/progress/{id}"), "application/json", body)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

fn row<'a>(rows: &'a Value, id: &str) -> Option<&'a Value> {
    rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
}

fn titles(row: Option<&Value>) -> Vec<String> {
    row.map(|r| {
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["title"]["id"].as_str().unwrap().to_owned())
            .collect()
    })
    .unwrap_or_default()
}

/// The rows once `ready` accepts them (the model retrains within a second or two).
async fn rows_when(c: &mut Client, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = expect(c.get("/api/v1/rows").await, StatusCode::OK).await;
        if ready(&rows) {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "rows never became what was expected: {rows}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn what_viewers_watch_together_becomes_a_new_profiles_top_picks() {
    let tmp = tempfile::tempdir().unwrap();
    // Two countries by address prefix: the watchers are in New Zealand, one viewer in France.
    let countries = tmp.path().join("countries.toml");
    std::fs::write(
        &countries,
        "\"203.0.113.0/24\" = \"NZ\"\n\"198.51.100.0/24\" = \"FR\"\n",
    )
    .unwrap();
    let countries = countries.to_str().unwrap();
    let origin = start_origin(
        &tmp.path().join("origin"),
        &[
            "--recommend-every-secs",
            "1",
            "--country-prefixes",
            countries,
        ],
    );
    let (mut admin, a) = ready_title(&origin.base, tmp.path()).await;
    let video = make_video(tmp.path());
    let b = film(&mut admin, "Second Pattern", &video).await;
    let c = film(&mut admin, "Third Pattern", &video).await;
    for n in 0..3 {
        let mut v = viewer(&origin.base, &format!("watcher{n}@example.com")).await;
        v.forwarded_for = Some(format!("203.0.113.{}", 10 + n));
        watched(&mut v, &a).await;
        watched(&mut v, &b).await;
    }
    // One more play of the first film, so the chart has a clear number one.
    let mut fan = viewer(&origin.base, "fan@example.com").await;
    watched(&mut fan, &a).await;

    let mut pat = viewer(&origin.base, "pat@example.com").await;
    let love = json!({"thumb": "love"}).to_string().into_bytes();
    let resp = pat
        .put(&format!("/api/v1/ratings/{a}"), "application/json", love)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let rows = rows_when(&mut pat, |r| titles(row(r, "top-10")).len() == 2).await;
    let picks = titles(row(&rows, "top-picks"));
    assert_eq!(
        picks.first(),
        Some(&b),
        "watched with the loved film: {rows}"
    );
    assert!(!picks.contains(&a), "not the title it already loves");
    assert_eq!(
        row(&rows, "top-picks").unwrap()["name"],
        "Top picks for Sam"
    );
    let top = row(&rows, "top-10").unwrap();
    assert_eq!(top["ranked"], true);
    assert_eq!(
        titles(Some(top)).first(),
        Some(&a),
        "the most played today first: {top}"
    );

    watched(&mut pat, &c).await;
    let rows = rows_when(&mut pat, |r| row(r, &format!("because:{c}")).is_some()).await;
    let because = row(&rows, &format!("because:{c}")).unwrap();
    assert_eq!(because["name"], "Because you watched Third Pattern");
    assert_eq!(
        titles(Some(because)),
        std::slice::from_ref(&b),
        "the same genre, not what it has seen"
    );

    // Each country's chart counts the plays made there; a viewer elsewhere gets everyone's.
    let mut fr = viewer(&origin.base, "fr@example.com").await;
    fr.forwarded_for = Some("198.51.100.7".into());
    watched(&mut fr, &c).await;
    let chart_named =
        |name: &'static str| move |r: &Value| row(r, "top-10").is_some_and(|t| t["name"] == name);
    let mut in_france = Client::new(&origin.base);
    in_france.forwarded_for = Some("198.51.100.20".into());
    let rows = rows_when(&mut in_france, chart_named("Top 10 in France today")).await;
    assert_eq!(titles(row(&rows, "top-10")), std::slice::from_ref(&c));
    let mut in_nz = Client::new(&origin.base);
    in_nz.forwarded_for = Some("203.0.113.99".into());
    let rows = rows_when(&mut in_nz, chart_named("Top 10 in New Zealand today")).await;
    let mut nz = titles(row(&rows, "top-10"));
    nz.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(nz, want, "what the watchers in New Zealand played");
    let mut elsewhere = Client::new(&origin.base);
    elsewhere.forwarded_for = Some("192.0.2.1".into());
    rows_when(&mut elsewhere, chart_named("Top 10 on Marquee today")).await;
    origin.stop();
}
