//! Playback through a real control-plane: steering, URLs on the edge, a token edges accept.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use marquee_proto::token::{TokenRejection, TokenVerifier, split_token_path};
use marquee_proto::v1::EdgeHeartbeat;
use marquee_tls::ca::CaDir;
use marquee_tls::{Service, Tls, TlsFiles};
use prost::Message;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::util::{
    Client, Proc, choose, expect, expect_error, new_title, ready_title, sign_up, start_origin,
    subscribe,
};

pub(super) const EDGE_URL: &str = "http://127.0.0.1:9";

/// `marquee-control-plane`, built beside this test binary (target/<profile>/).
fn control_plane_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let bin = profile_dir.join("marquee-control-plane");
    assert!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build -p marquee-control-plane` (same CARGO_TARGET_DIR and profile)",
        bin.display()
    );
    bin
}

/// A real control-plane over mutual TLS, with a CA that also issued origin's and a test edge's
/// certificates.
pub(super) struct ControlPlane {
    /// Kept so the process lives as long as the test.
    _proc: Proc,
    pub base: String,
    ca: CaDir,
    certs: PathBuf,
}

impl ControlPlane {
    fn issue(&self, service: Service, id: &str) -> TlsFiles {
        self.ca
            .issue(service, id, &["127.0.0.1".into()], &self.certs)
            .expect("issue");
        TlsFiles::in_dir(&self.certs, self.ca.cert_path(), service, id)
    }

    /// The flags that let origin steer through this control-plane.
    pub fn origin_flags(&self) -> Vec<String> {
        let tls = self.issue(Service::Origin, "origin-1");
        let mut flags = vec!["--control-plane".to_owned(), self.base.clone()];
        for (flag, path) in [
            ("--tls-cert", &tls.cert),
            ("--tls-key", &tls.key),
            ("--tls-ca", &tls.ca),
        ] {
            flags.push(flag.to_owned());
            flags.push(path.to_string_lossy().into_owned());
        }
        flags
    }

    /// Reports edge-test-1 at [`EDGE_URL`], as that edge would, with its certificate.
    pub async fn heartbeat(&self) {
        self.heartbeat_edge("edge-test-1", EDGE_URL).await;
    }

    /// Reports edge `id` (region eu-west, idle) at `public_url`, with its certificate.
    pub async fn heartbeat_edge(&self, id: &str, public_url: &str) {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let hb = EdgeHeartbeat {
            edge_id: id.into(),
            region: "eu-west".into(),
            public_url: public_url.into(),
            capacity_rps: 1000,
            sent_at_unix_ms: now_ms,
            ..Default::default()
        };
        let tls = Tls::load(&self.issue(Service::Edge, id)).expect("tls");
        let config = tls
            .client_config(Some(Service::ControlPlane), &[])
            .expect("client config");
        let resp = reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .build()
            .unwrap()
            .post(format!("{}/v1/heartbeat", self.base))
            .header("content-type", marquee_proto::PROTOBUF_CONTENT_TYPE)
            .body(hb.encode_to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "heartbeat refused: {}",
            resp.text().await.unwrap_or_default()
        );
    }
}

pub(super) fn start_control_plane(dir: &std::path::Path) -> ControlPlane {
    let ca = CaDir::new(dir.join("ca"));
    ca.init("Test CA").expect("CA");
    let certs = dir.join("certs");
    ca.issue(Service::ControlPlane, "cp", &["127.0.0.1".into()], &certs)
        .expect("issue");
    let tls = TlsFiles::in_dir(&certs, ca.cert_path(), Service::ControlPlane, "cp");
    let mut args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--region-prefix",
        "127.0.0.0/8=eu-west",
        "--default-region",
        "eu-west",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (flag, path) in [
        ("--tls-cert", &tls.cert),
        ("--tls-key", &tls.key),
        ("--tls-ca", &tls.ca),
    ] {
        args.push(flag.to_owned());
        args.push(path.to_string_lossy().into_owned());
    }
    let proc = Proc::spawn(&control_plane_bin(), &args, dir.join("control-plane.log"));
    ControlPlane {
        base: proc.base.clone(),
        _proc: proc,
        ca,
        certs,
    }
}

#[tokio::test]
async fn playback_answers_edge_urls_with_a_token_the_edge_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let cp = start_control_plane(tmp.path());
    let data = tmp.path().join("origin");
    let mut flags = cp.origin_flags();
    flags.extend(["--token-kid".to_owned(), "k7".to_owned()]);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let origin = start_origin(&data, &flags);
    let (mut admin, id) = ready_title(&origin.base, tmp.path()).await;
    let path = format!("/api/v1/titles/{id}/playback");

    let mut anon = Client::new(&origin.base);
    expect_error(
        anon.post(&path, json!({})).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let mut viewer = Client::new(&origin.base);
    let account = sign_up(&mut viewer, "viewer@example.com").await;
    // Browsing is free; playing needs a plan (402, pointing at the plans).
    expect(
        viewer.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let refused = expect(
        viewer.post(&path, json!({})).await,
        StatusCode::PAYMENT_REQUIRED,
    )
    .await;
    assert_eq!(refused["error"]["code"], "subscription_required");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/plans")
    );
    subscribe(&mut viewer, "standard").await;

    // No edge has reported yet.
    expect_error(
        viewer.post(&path, json!({})).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "no_edge_available",
    )
    .await;

    cp.heartbeat().await;
    let play = expect(
        viewer.post(&path, json!({"region": "eu-west"})).await,
        StatusCode::OK,
    )
    .await;
    let token = play["token"].as_str().expect("token");
    assert_eq!(
        play["max_height"], 1080,
        "Standard plays up to 1080p: {play}"
    );
    two_screens_at_once(&origin.base, &path).await;
    let dash = play["dash_url"].as_str().expect("dash_url");
    // The live package's folder is named after the job that made it.
    let job = expect(
        admin.get(&format!("/api/v1/admin/titles/{id}/job")).await,
        StatusCode::OK,
    )
    .await;
    let package = format!("/media/{id}/{}", job["id"].as_str().expect("job id"));
    assert_eq!(dash, format!("{EDGE_URL}/t/{token}{package}/manifest.mpd"));
    assert_eq!(
        play["hls_url"],
        format!("{EDGE_URL}/t/{token}{package}/master.m3u8")
    );
    assert_eq!(play["edges"][0]["edge_id"], "edge-test-1", "{play}");
    assert_eq!(play["edges"][0]["base_url"], EDGE_URL);
    let expires_at = play["expires_at"].as_u64().expect("expires_at");

    // The edge's view: the key origin published, the token in the URL path.
    let spec =
        std::fs::read_to_string(data.join("token-public-key")).expect("token-public-key file");
    assert!(spec.starts_with("k7="), "{spec}");
    assert!(
        origin
            .stderr()
            .contains(&format!("token public key: {}", spec.trim()))
    );
    let mut verifier = TokenVerifier::default();
    verifier.add_key_spec(spec.trim()).unwrap();
    let url_path = dash.strip_prefix(EDGE_URL).unwrap();
    let (tok, media_path) = split_token_path(url_path).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = verifier
        .verify(tok, media_path, now)
        .expect("edge accepts the token");
    assert_eq!(claims.title_id, id);
    assert_eq!(claims.account_id, account["id"].as_str().unwrap());
    assert_eq!(claims.expires_at_unix, expires_at);
    assert_eq!(claims.max_height, 1080, "the edge refuses taller rungs");
    assert!(
        (now + 21_000..=now + 21_700).contains(&expires_at),
        "default ttl is 6 h"
    );
    assert_eq!(
        verifier.verify(
            tok,
            "/media/00000000000000000000000000000000/manifest.mpd",
            now
        ),
        Err(TokenRejection::OutOfScope)
    );

    // Two passes never share a token; a player renewing its pass is counted apart.
    let again = expect(viewer.post(&path, json!({})).await, StatusCode::OK).await;
    assert_ne!(again["token"], play["token"]);
    let renewed = expect(
        viewer.post(&path, json!({"renewal": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(renewed["token"], again["token"]);
    let counted = [
        r#"marquee_origin_playbacks_total{kind="start"} 4"#, // two of them by the other screens
        r#"marquee_origin_playbacks_total{kind="renewal"} 1"#,
    ];
    super::util::metrics_with(&origin.base, &counted).await;

    steered_manifests_name_every_edge(&cp, &origin.base, &mut viewer, &path, &package).await;
    maturity_is_enforced_wherever_the_title_appears(&mut admin, &mut viewer, &id, &verifier).await;

    // A title without video cannot be played.
    let draft = expect(
        admin.post("/api/v1/admin/titles", new_title("Draft")).await,
        StatusCode::CREATED,
    )
    .await;
    let draft_path = format!("/api/v1/titles/{}/playback", draft["id"].as_str().unwrap());
    expect_error(
        admin.post(&draft_path, json!({})).await,
        StatusCode::CONFLICT,
        "title_not_ready",
    )
    .await;
    expect_error(
        viewer
            .post(
                "/api/v1/titles/ffffffffffffffffffffffffffffffff/playback",
                json!({}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

/// With two edges up, the steered manifests (fetched without a session: the token is the
/// key) name both as pathways with the token in every URL, and the steering server orders
/// them, keeping a playing session on its edge.
async fn steered_manifests_name_every_edge(
    cp: &ControlPlane,
    base: &str,
    viewer: &mut Client,
    playback_path: &str,
    package: &str,
) {
    const SECOND_EDGE: &str = "http://127.0.0.2:9";
    cp.heartbeat().await;
    cp.heartbeat_edge("edge-test-2", SECOND_EDGE).await;
    let play = expect(viewer.post(playback_path, json!({})).await, StatusCode::OK).await;
    let token = play["token"].as_str().expect("token");
    let steered = format!("/api/v1/playback/t/{token}{package}");
    assert_eq!(play["steered_dash_url"], format!("{steered}/manifest.mpd"));
    assert_eq!(play["steered_hls_url"], format!("{steered}/master.m3u8"));
    let steering = format!("/api/v1/playback/t/{token}/steering");

    let mut anon = Client::new(base);
    let mpd = anon.get(&format!("{steered}/manifest.mpd")).await;
    assert_eq!(mpd.status(), StatusCode::OK);
    assert_eq!(mpd.headers()["content-type"], "application/dash+xml");
    assert_eq!(mpd.headers()["cache-control"], "no-store");
    let mpd = mpd.text().await.unwrap();
    for (edge, url) in [("edge-test-1", EDGE_URL), ("edge-test-2", SECOND_EDGE)] {
        let base_url =
            format!("<BaseURL serviceLocation=\"{edge}\">{url}/t/{token}{package}/</BaseURL>");
        assert!(mpd.contains(&base_url), "{base_url} missing from {mpd}");
    }
    let steering_element = format!(
        "<ContentSteering defaultServiceLocation=\"edge-test-1,edge-test-2\" queryBeforeStart=\"false\">{steering}</ContentSteering>"
    );
    assert!(mpd.contains(&steering_element), "{mpd}");
    assert!(
        mpd.contains("<SegmentTemplate"),
        "the packaged MPD is kept: {mpd}"
    );

    let m3u8 = anon.get(&format!("{steered}/master.m3u8")).await;
    assert_eq!(m3u8.status(), StatusCode::OK);
    let m3u8 = m3u8.text().await.unwrap();
    assert!(
        m3u8.contains(&format!(
            "#EXT-X-CONTENT-STEERING:SERVER-URI=\"{steering}\",PATHWAY-ID=\"edge-test-1\""
        )),
        "{m3u8}"
    );
    assert!(m3u8.contains(",PATHWAY-ID=\"edge-test-2\"\n"), "{m3u8}");
    assert!(
        m3u8.contains(&format!("\n{SECOND_EDGE}/t/{token}{package}/")),
        "{m3u8}"
    );

    let order = |answer: serde_json::Value| answer["PATHWAY-PRIORITY"].clone();
    let fresh = expect(anon.get(&steering).await, StatusCode::OK).await;
    assert_eq!(order(fresh.clone()), json!(["edge-test-1", "edge-test-2"]));
    assert_eq!(
        fresh["SERVICE-LOCATION-PRIORITY"],
        fresh["PATHWAY-PRIORITY"]
    );
    assert_eq!(fresh["VERSION"], 1);
    assert_eq!(fresh["TTL"], 30);
    assert_eq!(fresh["RELOAD-URI"], steering);
    // A player on edge-test-2 (as good as the best) stays there.
    let staying = anon
        .get(&format!(
            "{steering}?_DASH_pathway=edge-test-2&_DASH_throughput=900000"
        ))
        .await;
    assert_eq!(
        order(expect(staying, StatusCode::OK).await),
        json!(["edge-test-2", "edge-test-1"])
    );

    // A forged token, another title's scope or another file: refused with a reason.
    let forged = token.replace(&token[token.len() - 4..], "AAAA");
    expect_error(
        anon.get(&steering.replace(token, &forged)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let elsewhere =
        format!("/api/v1/playback/t/{token}/media/00000000000000000000000000000000/p/manifest.mpd");
    expect_error(
        anon.get(&elsewhere).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        anon.get(&format!("{steered}/video/seg-1.m4s")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

/// Made R, the ready title vanishes for a kids profile from the list, its page and playback
/// (403 with the reason); an adult profile plays it with a token naming the profile; once an
/// account has profiles, playing needs one chosen.
async fn maturity_is_enforced_wherever_the_title_appears(
    admin: &mut Client,
    viewer: &mut Client,
    id: &str,
    verifier: &TokenVerifier,
) {
    let rated_r = admin
        .patch(
            &format!("/api/v1/admin/titles/{id}"),
            json!({"maturity_rating": "R"}),
        )
        .await;
    expect(rated_r, StatusCode::OK).await;
    let play_path = format!("/api/v1/titles/{id}/playback");
    let kid = json!({"name": "Kim", "kids": true});
    let kim = expect(
        viewer.post("/api/v1/profiles", kid).await,
        StatusCode::CREATED,
    )
    .await;
    let adult = json!({"name": "Alex"});
    let alex = expect(
        viewer.post("/api/v1/profiles", adult).await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        viewer.post(&play_path, json!({})).await,
        StatusCode::CONFLICT,
        "profile_required",
    )
    .await;

    choose(viewer, &kim).await;
    let list = expect(viewer.get("/api/v1/titles").await, StatusCode::OK).await;
    assert!(
        !list["titles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id),
        "a kids profile's catalogue lists an R title: {list}"
    );
    for resp in [
        viewer.get(&format!("/api/v1/titles/{id}")).await,
        viewer.post(&play_path, json!({})).await,
    ] {
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["code"], "maturity_restricted", "{err}");
        assert_eq!(
            err["error"]["message"],
            "this title is rated R (18+); this profile's limit is 7+"
        );
    }

    choose(viewer, &alex).await;
    let list = expect(viewer.get("/api/v1/titles").await, StatusCode::OK).await;
    assert!(
        list["titles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id)
    );
    let play = expect(viewer.post(&play_path, json!({})).await, StatusCode::OK).await;
    let url_path = play["dash_url"]
        .as_str()
        .unwrap()
        .strip_prefix(EDGE_URL)
        .unwrap();
    let (tok, media_path) = split_token_path(url_path).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = verifier.verify(tok, media_path, now).unwrap();
    assert_eq!(claims.profile_id, alex["id"].as_str().unwrap());
}

/// Standard allows two screens: the viewer plays (above), a second session of the same account
/// plays too, a third is refused naming both, and gets in once one gives its screen back.
async fn two_screens_at_once(base: &str, path: &str) {
    let signed_in = async |agent: &str| {
        let mut c = Client::new(base);
        c.user_agent = Some(agent.to_owned());
        let creds = json!({"email": "viewer@example.com", "password": super::util::PASSWORD});
        expect(c.post("/api/v1/sessions", creds).await, StatusCode::OK).await;
        c
    };
    let mut tv = signed_in("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1").await;
    let mut third = signed_in(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    )
    .await;
    expect(tv.post(path, json!({})).await, StatusCode::OK).await;
    let refused = expect(third.post(path, json!({})).await, StatusCode::FORBIDDEN).await;
    assert_eq!(refused["error"]["code"], "too_many_streams", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("allows 2 screens") && message.contains("Safari on iPhone"),
        "{message}"
    );
    // Renewing keeps a screen; giving it back frees it for the third device at once.
    let title_id = path.split('/').nth(4).unwrap();
    let renewal = json!({"title_id": title_id});
    let resp = tv
        .send(
            Method::PUT,
            "/api/v1/streams/current",
            Some(("application/json", renewal.to_string().into_bytes())),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect(
        tv.delete("/api/v1/streams/current").await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect(third.post(path, json!({})).await, StatusCode::OK).await;
    expect(
        third.delete("/api/v1/streams/current").await,
        StatusCode::NO_CONTENT,
    )
    .await;
}
