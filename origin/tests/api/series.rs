//! Series through the API: an admin builds seasons and episodes and uploads each episode's
//! video; a viewer sees the seasons and plays the right episode, with its markers and the next.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::playback::{EDGE_URL, start_control_plane};
use super::util::{
    ADMIN_EMAIL, Client, expect, expect_error, make_video, new_title, sign_up, start_origin,
    subscribe, wait_for_job_at,
};

async fn add_episode(admin: &mut Client, series: &str, season: u16, number: u16) -> Value {
    let path = format!("/api/v1/admin/titles/{series}/seasons/{season}/episodes");
    let body = json!({"number": number, "name": format!("Chapter {number}"), "synopsis": "Things happen."});
    expect(admin.post(&path, body).await, StatusCode::CREATED).await
}

#[tokio::test]
async fn a_series_plays_episode_by_episode_with_markers_and_the_next_one() {
    let tmp = tempfile::tempdir().unwrap();
    let cp = start_control_plane(tmp.path());
    let flags = cp.origin_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let origin = start_origin(&tmp.path().join("origin"), &flags);
    let mut admin = Client::new(&origin.base);
    sign_up(&mut admin, ADMIN_EMAIL).await;
    let mut series = new_title("Tide Pools");
    series["kind"] = json!("series");
    let show = expect(
        admin.post("/api/v1/admin/titles", series).await,
        StatusCode::CREATED,
    )
    .await;
    let show = show["id"].as_str().unwrap().to_owned();
    let film = expect(
        admin
            .post("/api/v1/admin/titles", new_title("A Film"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let film = film["id"].as_str().unwrap().to_owned();

    // Building it, and each wrong way to.
    let seasons = format!("/api/v1/admin/titles/{show}/seasons");
    let s1 = expect(
        admin.post(&seasons, json!({"number": 1})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (s1["name"].as_str(), s1["episodes"].as_array().map(Vec::len)),
        (Some("Season 1"), Some(0))
    );
    let named = json!({"number": 2, "name": "The Deep"});
    expect(admin.post(&seasons, named).await, StatusCode::CREATED).await;
    for (path, body, status, code) in [
        (
            seasons.clone(),
            json!({"number": 1}),
            StatusCode::CONFLICT,
            "already_exists",
        ),
        (
            seasons.clone(),
            json!({"number": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_episode",
        ),
        (
            seasons.clone(),
            json!({"number": 3, "name": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_episode",
        ),
        (
            format!("/api/v1/admin/titles/{film}/seasons"),
            json!({"number": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_episode",
        ),
        (
            format!("{seasons}/9/episodes"),
            json!({"number": 1, "name": "X"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            format!("{seasons}/1/episodes"),
            json!({"number": 1, "name": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_episode",
        ),
        (
            format!("{seasons}/1/episodes"),
            json!({"number": 1, "name": "X", "runtime": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        expect_error(admin.post(&path, body).await, status, code).await;
    }
    let e1 = add_episode(&mut admin, &show, 1, 1).await;
    let e2 = add_episode(&mut admin, &show, 1, 2).await;
    let s2e1 = add_episode(&mut admin, &show, 2, 1).await;
    expect_error(
        admin
            .post(
                &format!("{seasons}/1/episodes"),
                json!({"number": 2, "name": "Again"}),
            )
            .await,
        StatusCode::CONFLICT,
        "already_exists",
    )
    .await;
    assert_eq!(e1["state"], "awaiting_video", "{e1}");
    let [e1, e2, s2e1] = [&e1, &e2, &s2e1].map(|e| e["id"].as_str().unwrap().to_owned());

    // A series has no video of its own; each episode's is packaged on its own.
    let video = make_video(tmp.path());
    expect_error(
        admin
            .put(
                &format!("/api/v1/admin/titles/{show}/video"),
                "video/mp4",
                video.clone(),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_title",
    )
    .await;
    let viewer_list = Client::new(&origin.base).get("/api/v1/titles").await;
    let listed = expect(viewer_list, StatusCode::OK).await;
    assert!(
        listed["titles"].as_array().unwrap().is_empty(),
        "nothing playable yet: {listed}"
    );
    for id in [&e1, &e2] {
        let job = admin
            .put(
                &format!("/api/v1/admin/episodes/{id}/video"),
                "video/mp4",
                video.clone(),
            )
            .await;
        expect(job, StatusCode::ACCEPTED).await;
    }
    for id in [&e1, &e2] {
        wait_for_job_at(&mut admin, &format!("/api/v1/admin/episodes/{id}/job")).await;
    }

    // Markers: checked against the video's length and each other.
    let markers = format!("/api/v1/admin/episodes/{e1}/markers");
    for bad in [
        json!({"intro_start_secs": -1.0, "intro_end_secs": 2.0}),
        json!({"intro_start_secs": 3.0, "intro_end_secs": 2.0}),
        json!({"intro_start_secs": 1.0}),
        json!({"credits_start_secs": 600.0}),
        json!({"intro_start_secs": 1.0, "intro_end_secs": 4.0, "credits_start_secs": 3.0}),
    ] {
        let resp = admin
            .put(&markers, "application/json", bad.to_string().into_bytes())
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let good = json!({"intro_start_secs": 0.5, "intro_end_secs": 2.0, "credits_start_secs": 4.5});
    let set = admin
        .put(&markers, "application/json", good.to_string().into_bytes())
        .await;
    let set = expect(set, StatusCode::OK).await;
    assert_eq!(set["markers"], good);
    let renamed = admin
        .patch(
            &format!("/api/v1/admin/episodes/{e2}"),
            json!({"name": "  The Turn "}),
        )
        .await;
    assert_eq!(expect(renamed, StatusCode::OK).await["name"], "The Turn");

    // The viewer's side: only playable episodes, seasons with none left out.
    let mut viewer = Client::new(&origin.base);
    sign_up(&mut viewer, "viewer@example.com").await;
    subscribe(&mut viewer, "basic").await;
    let listed = expect(viewer.get("/api/v1/titles").await, StatusCode::OK).await;
    assert_eq!(listed["titles"][0]["id"], show.as_str(), "{listed}");
    let tree = expect(
        viewer.get(&format!("/api/v1/titles/{show}/seasons")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        tree["seasons"].as_array().unwrap().len(),
        1,
        "season 2 has nothing to play: {tree}"
    );
    let names: Vec<&str> = tree["seasons"][0]["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Chapter 1", "The Turn"]);
    assert!(
        tree["seasons"][0]["episodes"][0]["runtime_secs"]
            .as_f64()
            .unwrap()
            > 5.0
    );
    let admin_tree = expect(admin.get(&seasons).await, StatusCode::OK).await;
    assert_eq!(admin_tree["seasons"][1]["episodes"][0]["id"], s2e1.as_str());

    // Playing the series starts its first episode, tells the next, and carries the markers.
    cp.heartbeat().await;
    let play_path = format!("/api/v1/titles/{show}/playback");
    let play = expect(viewer.post(&play_path, json!({})).await, StatusCode::OK).await;
    assert_eq!(play["episode"]["id"], e1.as_str(), "{play}");
    assert_eq!(play["next_episode"]["id"], e2.as_str(), "{play}");
    assert_eq!(play["markers"], good);
    let dash = play["dash_url"].as_str().unwrap();
    assert!(
        dash.starts_with(EDGE_URL) && dash.contains(&format!("/media/{e1}/")),
        "{dash}"
    );
    let last = expect(
        viewer.post(&play_path, json!({"episode_id": e2})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(last["episode"]["id"], e2.as_str());
    assert!(
        last.get("next_episode").is_none(),
        "s2e1 is not ready: {last}"
    );
    for (episode, status) in [
        (&s2e1, StatusCode::CONFLICT),
        (&film, StatusCode::NOT_FOUND),
    ] {
        let resp = viewer
            .post(&play_path, json!({"episode_id": episode}))
            .await;
        assert_eq!(resp.status(), status, "{}", resp.text().await.unwrap());
    }
    // Into e1's credits (4.5 s): finished, so "Continue watching" and playing the series offer
    // e2; part-way into e2, playing resumes there and the season shows where.
    let profile = json!({"name": "Viewer"});
    let me = expect(
        viewer.post("/api/v1/profiles", profile).await,
        StatusCode::CREATED,
    )
    .await;
    let choose = json!({"profile_id": me["id"]}).to_string().into_bytes();
    let chosen = viewer
        .put(
            "/api/v1/sessions/current/profile",
            "application/json",
            choose,
        )
        .await;
    assert_eq!(chosen.status(), StatusCode::OK);
    let report = |secs: f64| json!({"position_secs": secs}).to_string().into_bytes();
    let series_progress = viewer
        .put(
            &format!("/api/v1/progress/{show}"),
            "application/json",
            report(1.0),
        )
        .await;
    assert_eq!(
        series_progress.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "progress is per episode"
    );
    let done = viewer
        .put(
            &format!("/api/v1/progress/{e1}"),
            "application/json",
            report(4.6),
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    let row = expect(
        viewer.get("/api/v1/continue-watching").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(row["items"][0]["title"]["id"], show.as_str(), "{row}");
    assert_eq!(
        row["items"][0]["episode"]["id"],
        e2.as_str(),
        "the next episode: {row}"
    );
    assert!(
        row["items"][0].get("progress").is_none(),
        "not started: {row}"
    );
    let next = expect(viewer.post(&play_path, json!({})).await, StatusCode::OK).await;
    assert_eq!(next["episode"]["id"], e2.as_str(), "{next}");
    assert!(next.get("resume_from_secs").is_none(), "{next}");
    let part = viewer
        .put(
            &format!("/api/v1/progress/{e2}"),
            "application/json",
            report(2.0),
        )
        .await;
    assert_eq!(part.status(), StatusCode::NO_CONTENT);
    let resumed = expect(viewer.post(&play_path, json!({})).await, StatusCode::OK).await;
    assert_eq!(
        (
            resumed["episode"]["id"].as_str(),
            resumed["resume_from_secs"].as_f64()
        ),
        (Some(e2.as_str()), Some(2.0))
    );
    let tree = expect(
        viewer.get(&format!("/api/v1/titles/{show}/seasons")).await,
        StatusCode::OK,
    )
    .await;
    let episodes = &tree["seasons"][0]["episodes"];
    assert_eq!(episodes[0]["progress"]["finished"], true, "{tree}");
    assert_eq!(episodes[1]["progress"]["position_secs"], 2.0, "{tree}");

    // The media itself comes from the episode's own package, with the pass's token.
    let media = &dash[dash.find("/media/").unwrap()..];
    let manifest = reqwest::Client::new()
        .get(format!("{}{media}", origin.base))
        .bearer_auth(play["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(manifest.status(), StatusCode::OK);
    assert!(manifest.text().await.unwrap().contains("<MPD"));
}
