//! Search over HTTP: facts an admin sets are searchable at once (typos and all), filters and
//! facet counts follow the profile's maturity limit, bad queries get 400, and the index
//! survives a restart and is rebuilt when lost.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::util::{Client, choose, expect, expect_error, ready_title, sign_up, start_origin};

fn ids(results: &Value) -> Vec<String> {
    results["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

fn count(results: &Value, facet: &str, value: &str) -> u64 {
    results["facets"][facet]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["value"] == value)
        .map_or(0, |v| v["count"].as_u64().unwrap())
}

#[tokio::test]
async fn admins_facts_are_searchable_at_once_within_the_profiles_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("origin");
    let origin = start_origin(&data, &[]);
    let (mut admin, film) = ready_title(&origin.base, tmp.path()).await;

    // The facts, with a release date that sets the year; checked first.
    let facts = json!({"facts": {
        "original_language": "fre", "audio_languages": ["fr", "en"],
        "release_date": "2001-04-25", "cast": ["Audrey Tautou"],
        "crew": [{"name": "Jean-Pierre Jeunet", "job": "Director"}]}});
    let path = format!("/api/v1/admin/titles/{film}");
    let bad = json!({"facts": {"release_date": "2001-02-30"}});
    expect_error(
        admin.patch(&path, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_title",
    )
    .await;
    let edited = expect(admin.patch(&path, facts).await, StatusCode::OK).await;
    assert_eq!(edited["year"], 2001, "{edited}");
    // The year follows the release date; changing it alone would be silently undone.
    let year_only = json!({"year": 1999});
    expect_error(
        admin.patch(&path, year_only).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_title",
    )
    .await;
    assert_eq!(edited["facts"]["original_language"], "fr");
    let renamed = json!({"name": "Amélie of Montmartre", "maturity_rating": "R"});
    expect(admin.patch(&path, renamed).await, StatusCode::OK).await;

    // Searchable the moment the edit is answered: a typo, no accent, a prefix, a crew name.
    for q in ["amelei", "AMELIE", "montm", "jeunet", "audrey tatou"] {
        let found = expect(
            admin.get(&format!("/api/v1/search?q={q}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(&found), std::slice::from_ref(&film), "{q}: {found}");
    }
    let french = expect(
        admin.get("/api/v1/search?language=fr&decade=2000").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (ids(&french), french["total"].as_u64()),
        (vec![film.clone()], Some(1))
    );
    assert_eq!(count(&french, "language", "en"), 1);
    assert_eq!(count(&french, "maturity", "R"), 1);
    let selected: Vec<&Value> = french["facets"]["language"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["selected"] == true)
        .collect();
    assert_eq!(
        selected,
        [&json!({"value": "fr", "count": 1, "selected": true})]
    );
    let german = expect(
        admin.get("/api/v1/search?language=de").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(german["total"], 0);

    // A thumb up shows as the viewer rating, and the "liked" filter finds it.
    let mut viewer = Client::new(&origin.base);
    sign_up(&mut viewer, "viewer@example.com").await;
    let ana = expect(
        viewer
            .post("/api/v1/profiles", json!({"name": "Ana"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    choose(&mut viewer, &ana).await;
    let rating = json!({"thumb": "up"}).to_string().into_bytes();
    expect(
        viewer
            .put(
                &format!("/api/v1/ratings/{film}"),
                "application/json",
                rating,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let liked = expect(viewer.get("/api/v1/search?liked=90").await, StatusCode::OK).await;
    assert_eq!(
        liked["titles"][0]["viewer_rating"],
        json!({"liked_percent": 100, "ratings": 1})
    );
    let page = expect(
        viewer.get(&format!("/api/v1/titles/{film}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["viewer_rating"]["liked_percent"], 100, "{page}");
    assert_eq!(page["facts"]["cast"], json!(["Audrey Tautou"]));

    // A kids profile finds nothing rated R, and no count gives it away.
    let kid = expect(
        viewer
            .post("/api/v1/profiles", json!({"name": "Kim", "kids": true}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    choose(&mut viewer, &kid).await;
    for q in [
        "/api/v1/search?q=amelie",
        "/api/v1/search?maturity=R",
        "/api/v1/search",
    ] {
        let found = expect(viewer.get(q).await, StatusCode::OK).await;
        assert_eq!(found["total"], 0, "{q}: {found}");
        assert_eq!(count(&found, "maturity", "R"), 0, "{q}: {found}");
        assert_eq!(count(&found, "genre", "test"), 0, "{q}: {found}");
    }

    // Bad input: 400 with the reason; punctuation finds nothing.
    for q in [
        format!("q={}", "a".repeat(201)),
        "colour=red".to_owned(),
        "decade=1995".into(),
        "liked=33".into(),
        "language=english".into(),
        "sort=random".into(),
        "cursor=%%%".into(),
        "cursor=bzk5OTk5".into(),
        "year_from=2010&year_to=2000".into(),
        "limit=0".into(),
    ] {
        expect_error(
            admin.get(&format!("/api/v1/search?{q}")).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
    }
    let punctuation = expect(
        admin.get("/api/v1/search?q=%21%3F%2E%2E").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(punctuation["total"], 0);

    // The index is kept across a restart, and rebuilt from the state when it is lost.
    origin.stop();
    let origin = start_origin(&data, &[]);
    let mut anyone = Client::new(&origin.base);
    let found = expect(anyone.get("/api/v1/search?q=amelie").await, StatusCode::OK).await;
    assert_eq!(ids(&found), std::slice::from_ref(&film), "after a restart");
    origin.stop();
    std::fs::remove_dir_all(data.join("search")).unwrap();
    let origin = start_origin(&data, &[]);
    anyone = Client::new(&origin.base);
    let found = expect(anyone.get("/api/v1/search?q=amelie").await, StatusCode::OK).await;
    assert_eq!(ids(&found), [film], "after the index was lost");
    origin.stop();
}
