//! Upload → packaging → media served; everything survives a restart.

use std::path::Path;

use marquee_proto::token::TokenSigner;
use marquee_proto::v1::PlaybackClaims;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::json;

use super::util::{ADMIN_EMAIL, Client, PASSWORD, expect, expect_error, ready_title, start_origin};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=60, stale-while-revalidate=30, stale-if-error=86400";

/// A playback token for `/media/{title_id}/`, signed with the origin's own key (as the
/// playback API would; edges forward such a token on every origin fetch).
pub(super) fn media_token(data: &Path, title_id: &str, ttl_secs: i64) -> String {
    let spec = std::fs::read_to_string(data.join("token-public-key")).unwrap();
    let kid = spec.split_once('=').expect("kid=key").0.trim();
    let pkcs8 = std::fs::read(data.join("token-key.pk8")).unwrap();
    let signer = TokenSigner::from_pkcs8(kid, &pkcs8).unwrap();
    let now = marquee_origin::ids::now_unix() as i64;
    signer.sign(PlaybackClaims {
        path_prefix: format!("/media/{title_id}/"),
        expires_at_unix: (now + ttl_secs) as u64,
        ..Default::default()
    })
}

async fn get_media(base: &str, id: &str, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{base}/media/{id}/{path}"));
    if let Some(token) = token {
        req = req.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    req.send().await.unwrap()
}

async fn check_media(
    (base, token): (&str, &str),
    id: &str,
    path: &str,
    ctype: &str,
    cache: &str,
) -> Vec<u8> {
    let resp = get_media(base, id, path, Some(token)).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    assert_eq!(resp.headers()[CONTENT_TYPE], ctype, "{path}");
    assert_eq!(resp.headers()[CACHE_CONTROL], cache, "{path}");
    let bytes = resp.bytes().await.unwrap().to_vec();
    assert!(!bytes.is_empty(), "{path} is empty");
    bytes
}

#[tokio::test]
async fn uploaded_video_is_packaged_served_and_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("origin");
    let origin = start_origin(&data, &[]);
    let (mut admin, id) = ready_title(&origin.base, tmp.path()).await;

    let title = expect(
        admin.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(title["state"], "ready", "{title}");
    let duration = title["duration_secs"].as_f64().expect("duration");
    assert!((5.0..7.5).contains(&duration), "duration {duration}");
    let job = expect(
        admin.get(&format!("/api/v1/admin/titles/{id}/job")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (job["state"].as_str(), job["progress"].as_f64()),
        (Some("succeeded"), Some(1.0)),
        "{job}"
    );

    // A viewer now sees it in the catalogue.
    let mut viewer = Client::new(&origin.base);
    super::util::sign_up(&mut viewer, "viewer@example.com").await;
    let list = expect(viewer.get("/api/v1/titles").await, StatusCode::OK).await;
    assert_eq!(list["titles"][0]["id"], id.as_str(), "{list}");

    // The package lives in a folder of its own, named after its job.
    let job_id = job["id"].as_str().expect("job id");
    let pkg = format!("{id}/{job_id}");

    // Media needs a playback token for this very title; a long-expired one is refused too.
    let token = media_token(&data, &id, 600);
    let resp = get_media(&origin.base, &pkg, "manifest.mpd", None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body = resp.text().await.unwrap();
    assert!(body.contains("Authorization: Bearer"), "{body}");
    let other_title = media_token(&data, &"0".repeat(32), 600);
    let expired = media_token(&data, &id, -3600);
    for (what, bad) in [("another title's", &other_title), ("expired", &expired)] {
        let resp = get_media(&origin.base, &pkg, "manifest.mpd", Some(bad)).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{what} token");
    }
    let media = (origin.base.as_str(), token.as_str());

    let mpd = check_media(media, &pkg, "manifest.mpd", "application/dash+xml", SHORT).await;
    assert!(String::from_utf8_lossy(&mpd).contains("<MPD"), "not an MPD");
    let m3u8 = check_media(
        media,
        &pkg,
        "master.m3u8",
        "application/vnd.apple.mpegurl",
        SHORT,
    )
    .await;
    assert!(
        String::from_utf8_lossy(&m3u8).starts_with("#EXTM3U"),
        "not an HLS playlist"
    );
    let init = check_media(media, &pkg, "audio/init.mp4", "video/mp4", IMMUTABLE).await;
    assert_eq!(&init[4..8], b"ftyp");
    check_media(
        media,
        &pkg,
        "audio/seg-1.m4s",
        "video/iso.segment",
        IMMUTABLE,
    )
    .await;
    for missing in ["nope.mpd", "../manifest.mpd", "audio/seg-999.m4s"] {
        let resp = get_media(&origin.base, &pkg, missing, Some(&token)).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    // Poster: stored, linked from the title, served with its type.
    let png = b"\x89PNG\r\n\x1a\nnot really a png but bytes".to_vec();
    let poster = format!("/api/v1/admin/titles/{id}/poster");
    expect_error(
        admin.put(&poster, "text/html", png.clone()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    expect(
        admin.put(&poster, "image/png", png.clone()).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let title = expect(
        viewer.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let url = title["poster_url"].as_str().expect("poster_url").to_owned();
    let resp = reqwest::get(format!("{}{url}", origin.base)).await.unwrap();
    assert_eq!(resp.headers()[CONTENT_TYPE], "image/png");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), png);

    // Restart on the same data dir: accounts, titles and media are still there.
    origin.stop();

    let origin = start_origin(&data, &["--max-upload-bytes", "1000"]);
    let mut again = Client::new(&origin.base);
    let signin = json!({"email": ADMIN_EMAIL, "password": PASSWORD});
    let account = expect(again.post("/api/v1/sessions", signin).await, StatusCode::OK).await;
    assert_eq!(account["is_admin"], true);
    let title = expect(
        again.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(title["state"], "ready", "{title}");
    assert!(title["poster_url"].is_string(), "{title}");
    // The signing key survived the restart too: the token minted before still works.
    check_media(
        (origin.base.as_str(), token.as_str()),
        &pkg,
        "manifest.mpd",
        "application/dash+xml",
        SHORT,
    )
    .await;
    let big = again
        .put(
            &format!("/api/v1/admin/titles/{id}/video"),
            "video/mp4",
            vec![7u8; 5000],
        )
        .await;
    expect_error(big, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    // The same without a Content-Length (chunked): cut off while streaming.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![7u8; 500])).collect();
    let chunked = reqwest::Client::new()
        .put(format!("{}/api/v1/admin/titles/{id}/video", origin.base))
        .header(
            "cookie",
            format!("marquee_session={}", again.cookie.clone().unwrap()),
        )
        .header("content-type", "video/mp4")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    expect_error(chunked, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    // The refused upload left the title as it was.
    let title = expect(
        again.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(title["state"], "ready", "{title}");
    origin.stop();
}

#[tokio::test]
async fn a_file_that_is_not_a_video_fails_its_job_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut admin = Client::new(&origin.base);
    super::util::sign_up(&mut admin, ADMIN_EMAIL).await;
    let title = expect(
        admin
            .post("/api/v1/admin/titles", super::util::new_title("Broken"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = title["id"].as_str().unwrap();
    let garbage = b"this is text pretending to be a video".repeat(100);
    expect(
        admin
            .put(
                &format!("/api/v1/admin/titles/{id}/video"),
                "video/mp4",
                garbage,
            )
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let job = loop {
        let job = expect(
            admin.get(&format!("/api/v1/admin/titles/{id}/job")).await,
            StatusCode::OK,
        )
        .await;
        if job["state"] == "failed" {
            break job;
        }
        assert_ne!(job["state"], "succeeded", "garbage was packaged: {job}");
        assert!(
            std::time::Instant::now() < deadline,
            "job did not fail in time: {job}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(
        job["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{job}"
    );
    let title = expect(
        admin.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(title["state"], "failed");
}

#[tokio::test]
async fn a_job_cut_short_by_a_crash_is_requeued_and_finishes_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("origin");
    let origin = start_origin(&data, &[]);
    let mut admin = Client::new(&origin.base);
    super::util::sign_up(&mut admin, ADMIN_EMAIL).await;
    let title = expect(
        admin
            .post("/api/v1/admin/titles", super::util::new_title("Long"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = title["id"].as_str().unwrap().to_owned();
    // Long enough that packaging is still running when we pull the plug.
    let clip = super::util::make_clip(tmp.path(), 90);
    expect(
        admin
            .put(
                &format!("/api/v1/admin/titles/{id}/video"),
                "video/mp4",
                clip,
            )
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let job = expect(
            admin.get(&format!("/api/v1/admin/titles/{id}/job")).await,
            StatusCode::OK,
        )
        .await;
        if job["state"] == "running" {
            break;
        }
        assert_eq!(
            job["state"], "queued",
            "job finished before the crash: {job}"
        );
        assert!(std::time::Instant::now() < deadline, "job never started");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    origin.crash();

    let origin = start_origin(&data, &[]);
    let mut admin = Client::new(&origin.base);
    let signin = json!({"email": ADMIN_EMAIL, "password": PASSWORD});
    expect(admin.post("/api/v1/sessions", signin).await, StatusCode::OK).await;
    let job = super::util::wait_for_job(&mut admin, &id).await;
    assert_eq!(job["state"], "succeeded");
    assert!(
        origin
            .stderr()
            .contains("re-queued interrupted packaging jobs"),
        "the restart did not re-queue"
    );
    let title = expect(
        admin.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(title["state"], "ready", "{title}");
    assert!(
        title["duration_secs"].as_f64().is_some_and(|d| d > 85.0),
        "{title}"
    );
    origin.stop();
}

/// Edges keep segments as immutable, so a re-packaged title must never reuse a URL: each
/// package gets its own folder, the title keeps playing meanwhile, and only the package
/// before the live one is kept for streams already under way.
#[tokio::test]
async fn re_uploading_makes_a_new_package_beside_the_old_and_prunes_older_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("origin");
    let origin = start_origin(&data, &[]);
    let (mut admin, id) = ready_title(&origin.base, tmp.path()).await;
    let token = media_token(&data, &id, 600);
    let manifest_status = async |job: &str| {
        get_media(
            &origin.base,
            &format!("{id}/{job}"),
            "manifest.mpd",
            Some(&token),
        )
        .await
        .status()
    };
    let mut jobs = vec![];
    for round in 0..3 {
        let job = expect(
            admin.get(&format!("/api/v1/admin/titles/{id}/job")).await,
            StatusCode::OK,
        )
        .await;
        jobs.push(job["id"].as_str().expect("job id").to_owned());
        if round == 2 {
            break;
        }
        let video = super::util::make_video(tmp.path());
        let url = format!("/api/v1/admin/titles/{id}/video");
        expect(
            admin.put(&url, "video/mp4", video).await,
            StatusCode::ACCEPTED,
        )
        .await;
        let title = expect(
            admin.get(&format!("/api/v1/titles/{id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(title["state"], "ready", "still playable while re-packaging");
        super::util::wait_for_job(&mut admin, &id).await;
    }
    assert_eq!(
        manifest_status(&jobs[0]).await,
        StatusCode::NOT_FOUND,
        "oldest pruned"
    );
    assert_eq!(
        manifest_status(&jobs[1]).await,
        StatusCode::OK,
        "previous kept"
    );
    assert_eq!(
        manifest_status(&jobs[2]).await,
        StatusCode::OK,
        "live package"
    );
    assert!(
        !data.join("blobs/media").join(&id).join(&jobs[0]).exists(),
        "the pruned package's files are gone from disk"
    );
    origin.stop();
}
