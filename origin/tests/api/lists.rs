//! What a profile keeps: My List, ratings, progress with "Continue watching", and the history
//! with hide and CSV export; each per profile, each refusing bad input, all gone with the
//! profile.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::util::{Client, choose, expect, expect_error, ready_title, sign_up, start_origin};

async fn put_json(c: &mut Client, path: &str, body: Value) -> reqwest::Response {
    c.put(path, "application/json", body.to_string().into_bytes())
        .await
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["id"]
                .as_str()
                .unwrap_or_else(|| t["title"]["id"].as_str().unwrap())
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_profile_keeps_its_list_ratings_progress_and_history_and_takes_them_along() {
    let tmp = tempfile::tempdir().unwrap();
    // Charts would come and go with the model's next training: train once, at start.
    let origin = start_origin(
        &tmp.path().join("origin"),
        &["--recommend-every-secs", "3600"],
    );
    let (mut admin, film) = ready_title(&origin.base, tmp.path()).await;
    let title = expect(
        admin.get(&format!("/api/v1/titles/{film}")).await,
        StatusCode::OK,
    )
    .await;
    let duration = title["duration_secs"].as_f64().unwrap();
    let mut c = Client::new(&origin.base);
    sign_up(&mut c, "family@example.com").await;

    // Everything here belongs to a profile: none chosen, none kept.
    for resp in [
        c.get("/api/v1/my-list").await,
        c.get("/api/v1/continue-watching").await,
        put_json(
            &mut c,
            &format!("/api/v1/progress/{film}"),
            json!({"position_secs": 1.0}),
        )
        .await,
    ] {
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["code"], "profile_required");
    }
    let ana = expect(
        c.post("/api/v1/profiles", json!({"name": "Ana"})).await,
        StatusCode::CREATED,
    )
    .await;
    let ben = expect(
        c.post("/api/v1/profiles", json!({"name": "Ben"})).await,
        StatusCode::CREATED,
    )
    .await;
    choose(&mut c, &ana).await;

    // My List.
    let item = format!("/api/v1/my-list/{film}");
    for _ in 0..2 {
        let resp = put_json(&mut c, &item, json!(null)).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    let list = expect(c.get("/api/v1/my-list").await, StatusCode::OK).await;
    assert_eq!(ids(&list, "titles"), [film.as_str()]);
    expect_error(
        put_json(
            &mut c,
            "/api/v1/my-list/ffffffffffffffffffffffffffffffff",
            json!(null),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Ratings show on the title page with the list.
    for bad in [
        json!({"thumb": "meh"}),
        json!({"thumb": "up", "stars": 5}),
        json!({}),
    ] {
        let resp = put_json(&mut c, &format!("/api/v1/ratings/{film}"), bad.clone()).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let rated = put_json(
        &mut c,
        &format!("/api/v1/ratings/{film}"),
        json!({"thumb": "love"}),
    )
    .await;
    assert_eq!(expect(rated, StatusCode::OK).await["thumb"], "love");
    let page = expect(
        c.get(&format!("/api/v1/titles/{film}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["mine"]["in_my_list"], true, "{page}");
    assert_eq!(page["mine"]["rating"], "love");

    // Progress: bad positions change nothing; a good one resumes and fills the row.
    let progress = format!("/api/v1/progress/{film}");
    for (body, status, code) in [
        (
            json!({"position_secs": -1.0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_progress",
        ),
        (
            json!({"position_secs": duration + 60.0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_progress",
        ),
        (
            json!({"position_secs": "3"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"position": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        expect_error(put_json(&mut c, &progress, body).await, status, code).await;
    }
    let overflow = c
        .put(
            &progress,
            "application/json",
            b"{\"position_secs\": 1e999}".to_vec(),
        )
        .await;
    assert_eq!(
        overflow.status(),
        StatusCode::BAD_REQUEST,
        "a number JSON cannot hold"
    );
    let row = expect(c.get("/api/v1/continue-watching").await, StatusCode::OK).await;
    assert!(
        row["items"].as_array().unwrap().is_empty(),
        "nothing recorded yet: {row}"
    );
    let resp = put_json(&mut c, &progress, json!({"position_secs": 2.5})).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let row = expect(c.get("/api/v1/continue-watching").await, StatusCode::OK).await;
    assert_eq!(ids(&row, "items"), [film.as_str()]);
    assert_eq!(row["items"][0]["progress"]["position_secs"], 2.5);
    assert_eq!(row["items"][0]["progress"]["finished"], false);
    let page = expect(
        c.get(&format!("/api/v1/titles/{film}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["mine"]["progress"]["position_secs"], 2.5);

    // The home page's rows, in order, for this profile.
    let rows = expect(c.get("/api/v1/rows").await, StatusCode::OK).await;
    let names: Vec<&str> = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Continue watching for Ana",
            "My List",
            "New releases",
            "test"
        ]
    );
    assert_eq!(
        rows["rows"][0]["items"][0]["progress"]["position_secs"],
        2.5
    );
    assert_eq!(rows["rows"][3]["id"], "genre:test");

    // Another profile of the same account sees none of it.
    choose(&mut c, &ben).await;
    let list = expect(c.get("/api/v1/my-list").await, StatusCode::OK).await;
    assert!(list["titles"].as_array().unwrap().is_empty());
    let page = expect(
        c.get(&format!("/api/v1/titles/{film}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["mine"], json!({"in_my_list": false}));
    let resp = put_json(&mut c, &progress, json!({"position_secs": duration})).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let row = expect(c.get("/api/v1/continue-watching").await, StatusCode::OK).await;
    assert!(
        row["items"].as_array().unwrap().is_empty(),
        "a finished film leaves the row: {row}"
    );

    // History, hide, CSV.
    let history = expect(c.get("/api/v1/history").await, StatusCode::OK).await;
    assert_eq!(history["items"][0]["title_name"], "Test Pattern");
    assert_eq!(history["items"][0]["progress"]["finished"], true);
    for bad in [
        "/api/v1/history?limit=0",
        "/api/v1/history?limit=x",
        "/api/v1/history?page=2",
    ] {
        expect_error(c.get(bad).await, StatusCode::BAD_REQUEST, "invalid_query").await;
    }
    let csv = c.get("/api/v1/history.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "date,title,season,episode,episode_name,position_secs,duration_secs,finished"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].contains(",Test Pattern,,,,") && lines[1].ends_with(",true"),
        "{csv}"
    );
    assert_eq!(
        c.delete(&format!("/api/v1/history/{film}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let history = expect(c.get("/api/v1/history").await, StatusCode::OK).await;
    assert!(history["items"].as_array().unwrap().is_empty());

    // "Remove from row", then deleting the profile takes its list, ratings and progress.
    choose(&mut c, &ana).await;
    assert_eq!(
        c.delete(&format!("/api/v1/continue-watching/{film}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let row = expect(c.get("/api/v1/continue-watching").await, StatusCode::OK).await;
    assert!(row["items"].as_array().unwrap().is_empty());
    let history = expect(c.get("/api/v1/history").await, StatusCode::OK).await;
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        1,
        "still in the history"
    );
    choose(&mut c, &ben).await;
    let gone = c
        .delete(&format!("/api/v1/profiles/{}", ana["id"].as_str().unwrap()))
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let again = expect(
        c.post("/api/v1/profiles", json!({"name": "Ana"})).await,
        StatusCode::CREATED,
    )
    .await;
    choose(&mut c, &again).await;
    let page = expect(
        c.get(&format!("/api/v1/titles/{film}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        page["mine"],
        json!({"in_my_list": false}),
        "a new profile starts empty"
    );
    let history = expect(c.get("/api/v1/history").await, StatusCode::OK).await;
    assert!(history["items"].as_array().unwrap().is_empty());

    // Made R, the film is out of a kids profile's reach for progress, lists and ratings too.
    let rated_r = json!({"maturity_rating": "R"});
    expect(
        admin
            .patch(&format!("/api/v1/admin/titles/{film}"), rated_r)
            .await,
        StatusCode::OK,
    )
    .await;
    let kid = expect(
        c.post("/api/v1/profiles", json!({"name": "Kit", "kids": true}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    choose(&mut c, &kid).await;
    for resp in [
        put_json(&mut c, &progress, json!({"position_secs": 1.0})).await,
        put_json(&mut c, &item, json!(null)).await,
        put_json(
            &mut c,
            &format!("/api/v1/ratings/{film}"),
            json!({"thumb": "up"}),
        )
        .await,
    ] {
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["code"], "maturity_restricted", "{err}");
    }
    let history = expect(c.get("/api/v1/history").await, StatusCode::OK).await;
    assert!(
        history["items"].as_array().unwrap().is_empty(),
        "nothing recorded"
    );
}
