//! Subtitles through the API: uploaded before the video they go into its first package; added
//! later they re-package it; what is not WebVTT is refused with the reason. The package also
//! carries trick-play thumbnails the playback answer points at.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::playback::{EDGE_URL, start_control_plane};
use super::util::{
    ADMIN_EMAIL, Client, expect, expect_error, make_video, new_title, sign_up, start_origin,
    subscribe, wait_for_job,
};

const VTT: &str = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nA tone, and a test pattern.\n";

/// Fetches a file of the playback's package from origin with the pass's token.
async fn package_file(base: &str, play: &Value, url: &str) -> (StatusCode, String) {
    let path = url.strip_prefix(EDGE_URL).unwrap();
    let media = &path[path.find("/media/").unwrap()..];
    let resp = reqwest::Client::new()
        .get(format!("{base}{media}"))
        .bearer_auth(play["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn subtitles_go_into_the_package_and_a_change_repackages_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cp = start_control_plane(tmp.path());
    let flags = cp.origin_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let origin = start_origin(&tmp.path().join("origin"), &flags);
    let mut admin = Client::new(&origin.base);
    sign_up(&mut admin, ADMIN_EMAIL).await;
    let title = expect(
        admin.post("/api/v1/admin/titles", new_title("Tone")).await,
        StatusCode::CREATED,
    )
    .await;
    let id = title["id"].as_str().unwrap().to_owned();
    let subs = |lang: &str| format!("/api/v1/admin/videos/{id}/subtitles/{lang}");

    // Bad input: a reason each, nothing stored.
    for (lang, ctype, body, status, code) in [
        (
            "en",
            "text/vtt",
            "1\n00:00:01,000 --> 00:00:02,000\nSRT\n",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_subtitles",
        ),
        (
            "en",
            "text/vtt",
            "WEBVTT\n\nno cues\n",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_subtitles",
        ),
        (
            "english",
            "text/vtt",
            VTT,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_subtitles",
        ),
        (
            "en",
            "text/plain",
            VTT,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        ("en", "text/vtt", "", StatusCode::BAD_REQUEST, "empty_body"),
    ] {
        expect_error(
            admin
                .put(&subs(lang), ctype, body.as_bytes().to_vec())
                .await,
            status,
            code,
        )
        .await;
    }
    let missing = "/api/v1/admin/videos/ffffffffffffffffffffffffffffffff/subtitles/en";
    expect_error(
        admin.put(missing, "text/vtt", VTT.into()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let listed = expect(
        admin
            .get(&format!("/api/v1/admin/videos/{id}/subtitles"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["subtitles"], json!([]));

    // Before the video: stored for its first package.
    let resp = admin.put(&subs("eng"), "text/vtt", VTT.into()).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let video = make_video(tmp.path());
    let job = admin
        .put(
            &format!("/api/v1/admin/titles/{id}/video"),
            "video/mp4",
            video,
        )
        .await;
    expect(job, StatusCode::ACCEPTED).await;
    expect_error(
        admin.put(&subs("fr"), "text/vtt", VTT.into()).await,
        StatusCode::CONFLICT,
        "job_in_progress",
    )
    .await;
    wait_for_job(&mut admin, &id).await;

    cp.heartbeat().await;
    let mut viewer = Client::new(&origin.base);
    sign_up(&mut viewer, "viewer@example.com").await;
    subscribe(&mut viewer, "basic").await;
    let play_path = format!("/api/v1/titles/{id}/playback");
    let play = expect(viewer.post(&play_path, json!({})).await, StatusCode::OK).await;
    let (status, master) =
        package_file(&origin.base, &play, play["hls_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        master.contains("TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\""),
        "{master}"
    );
    let (status, mpd) = package_file(&origin.base, &play, play["dash_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(mpd.contains("<BaseURL>subtitles/en.vtt</BaseURL>"), "{mpd}");
    let (status, thumbs) = package_file(
        &origin.base,
        &play,
        play["thumbnails_url"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        thumbs.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nsprite-1.jpg#xywh=0,0,160,90"),
        "{thumbs}"
    );

    // After it: French joins through a new package.
    let job = expect(
        admin.put(&subs("fr"), "text/vtt", VTT.into()).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(job["state"], "queued");
    wait_for_job(&mut admin, &id).await;
    // Repackaging outlasts the control-plane's edge timeout: the edge reports again.
    cp.heartbeat().await;
    let play = expect(viewer.post(&play_path, json!({})).await, StatusCode::OK).await;
    let (_, master) = package_file(&origin.base, &play, play["hls_url"].as_str().unwrap()).await;
    assert!(
        master.contains("LANGUAGE=\"fr\"") && master.contains("LANGUAGE=\"en\""),
        "{master}"
    );
    let listed = expect(
        admin
            .get(&format!("/api/v1/admin/videos/{id}/subtitles"))
            .await,
        StatusCode::OK,
    )
    .await;
    let langs: Vec<&str> = listed["subtitles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["en", "fr"]);
    // Removing one re-packages without it; removing it again changes nothing.
    expect(admin.delete(&subs("en")).await, StatusCode::ACCEPTED).await;
    wait_for_job(&mut admin, &id).await;
    assert_eq!(
        admin.delete(&subs("en")).await.status(),
        StatusCode::NO_CONTENT
    );
    // Repackaging outlasts the control-plane's edge timeout: the edge reports again.
    cp.heartbeat().await;
    let play = expect(viewer.post(&play_path, json!({})).await, StatusCode::OK).await;
    let (_, master) = package_file(&origin.base, &play, play["hls_url"].as_str().unwrap()).await;
    assert!(
        !master.contains("LANGUAGE=\"en\",DEFAULT=NO,AUTOSELECT=YES,FORCED"),
        "{master}"
    );
}
