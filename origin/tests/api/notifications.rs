//! Notifications through a real SMTP server: MailDev (npm `maildev`, SMTP in, a web inbox and
//! a JSON API out) on loopback. A viewer asks to be reminded of a coming-soon title; when its
//! premiere passes the bell's live stream counts one, the centre shows the reminder, exactly
//! one email arrives with a stable Message-ID and RFC 8058 headers, and the one-click POST to
//! its unsubscribe link turns those emails off.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::util::{
    Client, choose, expect, expect_error, free_port, installed_tool, metrics_with, ready_title,
    sign_up, start_origin,
};

fn maildev_bin() -> PathBuf {
    installed_tool(
        "MARQUEE_MAILDEV",
        "maildev",
        "`npm ci --prefix deploy/mail` and set MARQUEE_MAILDEV",
    )
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

struct MailDev {
    child: Child,
    smtp: u16,
    web: String,
    _dir: tempfile::TempDir,
}

impl MailDev {
    async fn start() -> MailDev {
        let dir = tempfile::tempdir().unwrap();
        let (smtp, web) = (free_port(), free_port());
        let child = Command::new(maildev_bin())
            .args(["--ip", "127.0.0.1", "--smtp", &smtp.to_string()])
            .args(["--web", &web.to_string(), "--web-ip", "127.0.0.1"])
            .arg("--mail-directory")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start maildev");
        let web = format!("http://127.0.0.1:{web}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{web}/api/email")).await.is_err() {
            assert!(Instant::now() < deadline, "maildev did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        MailDev {
            child,
            smtp,
            web,
            _dir: dir,
        }
    }

    async fn inbox(&self) -> Vec<Value> {
        let v: Value = reqwest::get(format!("{}/api/email", self.web))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array().cloned().unwrap_or_default()
    }
}

impl Drop for MailDev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the first header `name` in a raw message, folded lines joined.
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next()?;
    let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

fn row_titles(rows: &Value, id: &str) -> Vec<String> {
    let row = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id);
    row.map(|r| {
        let items = r["items"].as_array().unwrap();
        items
            .iter()
            .map(|c| c["title"]["id"].as_str().unwrap().to_owned())
            .collect()
    })
    .unwrap_or_default()
}

/// Reads server-sent events until one says `unread` is `want`.
async fn wait_for_unread(stream: &mut reqwest::Response, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no unread={want} event; got {seen}"))
            .unwrap()
            .expect("the stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains(&format!("\"unread\":{want}")) {
            assert!(seen.contains("event: unread"), "{seen}");
            return;
        }
    }
}

#[tokio::test]
async fn remind_me_notifies_in_the_app_and_by_one_email_that_can_unsubscribe() {
    let mail = MailDev::start().await;
    let dir = tempfile::tempdir().unwrap();
    let smtp = format!("smtp://127.0.0.1:{}", mail.smtp);
    let origin = start_origin(
        &dir.path().join("data"),
        &["--smtp-url", &smtp, "--viewer-url", "http://watch.test"],
    );
    let base = origin.base.clone();
    let (mut admin, id) = ready_title(&base, dir.path()).await;

    let mut viewer = Client::new(&base);
    sign_up(&mut viewer, "reminded@example.com").await;
    let p = expect(
        viewer
            .post("/api/v1/profiles", json!({"name": "Robin"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    choose(&mut viewer, &p).await;
    let remind = format!("/api/v1/reminders/{id}");
    expect_error(
        viewer.put(&remind, "", vec![]).await,
        StatusCode::CONFLICT,
        "already_released",
    )
    .await;

    // The admin announces a premiere in an hour.
    let path = format!("/api/v1/admin/titles/{id}/premiere");
    let body = json!({"premieres_at": now_secs() + 3600})
        .to_string()
        .into_bytes();
    let t = expect(
        admin.put(&path, "application/json", body).await,
        StatusCode::OK,
    )
    .await;
    assert!(t["premieres_at"].is_u64(), "{t}");
    expect_error(
        viewer
            .post(&format!("/api/v1/titles/{id}/playback"), json!({}))
            .await,
        StatusCode::CONFLICT,
        "coming_soon",
    )
    .await;
    expect(
        viewer.put(&remind, "", vec![]).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let rows = expect(viewer.get("/api/v1/rows").await, StatusCode::OK).await;
    assert_eq!(
        row_titles(&rows, "coming-soon"),
        std::slice::from_ref(&id),
        "{rows}"
    );
    assert!(
        !row_titles(&rows, "new").contains(&id),
        "not playable yet: {rows}"
    );
    let page = expect(
        viewer.get(&format!("/api/v1/titles/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["mine"]["reminded"], true, "{page}");

    let mut stream = viewer.get("/api/v1/notifications/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
    wait_for_unread(&mut stream, 0).await;
    // Then moves it to two seconds from now: the reminder fires then, not before.
    let premiere = now_secs() + 2;
    let body = json!({"premieres_at": premiere}).to_string().into_bytes();
    let t = expect(
        admin.put(&path, "application/json", body).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(t["premieres_at"], premiere);
    wait_for_unread(&mut stream, 1).await;
    assert!(now_secs() >= premiere, "not before the premiere");

    let centre = expect(viewer.get("/api/v1/notifications").await, StatusCode::OK).await;
    assert_eq!(centre["unread"], 1, "{centre}");
    let n = &centre["notifications"][0];
    assert_eq!(n["kind"], "reminder");
    assert_eq!(n["headline"], "Test Pattern is out now");
    assert_eq!(n["link"], format!("/title/{id}"));

    let rows = expect(viewer.get("/api/v1/rows").await, StatusCode::OK).await;
    assert!(row_titles(&rows, "coming-soon").is_empty(), "{rows}");
    assert!(row_titles(&rows, "new").contains(&id), "out now: {rows}");

    // Exactly one email, to the account, with the headers a mail client needs.
    let deadline = Instant::now() + Duration::from_secs(30);
    let inbox = loop {
        let inbox = mail.inbox().await;
        if !inbox.is_empty() {
            break inbox;
        }
        assert!(Instant::now() < deadline, "no email arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let email = &inbox[0];
    assert_eq!(email["subject"], "Test Pattern is out now");
    assert_eq!(
        email["envelope"]["to"][0]["address"],
        "reminded@example.com"
    );
    let source = format!(
        "{}/api/email/{}/source",
        mail.web,
        email["id"].as_str().unwrap()
    );
    let source = reqwest::get(source).await.unwrap().text().await.unwrap();
    let id_header = header(&source, "Message-ID").unwrap();
    assert!(
        id_header.starts_with(&format!("<{}@", n["id"].as_str().unwrap())),
        "{source}"
    );
    assert_eq!(
        header(&source, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click"),
        "{source}"
    );
    let link = header(&source, "List-Unsubscribe").unwrap();
    let token = link
        .trim_matches(['<', '>'])
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with("<http://watch.test/api/v1/unsubscribe/"),
        "{link}"
    );
    assert!(
        email["text"]
            .as_str()
            .unwrap()
            .contains(&format!("http://watch.test/title/{id}"))
    );

    // Marking read counts down live; the unread count is per profile.
    expect_error(
        viewer.post("/api/v1/notifications/read", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    expect(
        viewer
            .post("/api/v1/notifications/read", json!({"ids": [n["id"]]}))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    wait_for_unread(&mut stream, 0).await;

    // One-click unsubscribe, as a mail client does it: a POST without a session.
    let unsubscribe = format!("{base}/api/v1/unsubscribe/{token}");
    let resp = reqwest::Client::new()
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    let body = expect(resp, StatusCode::OK).await;
    assert_eq!(
        body,
        json!({"kind": "reminder", "profile_name": "Robin", "unsubscribed": true})
    );
    let prefs = expect(
        viewer.get("/api/v1/notifications/preferences").await,
        StatusCode::OK,
    )
    .await;
    let reminder = prefs["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "reminder")
        .unwrap();
    assert_eq!(
        reminder,
        &json!({"kind": "reminder", "in_app": true, "email": false})
    );
    let unknown = reqwest::Client::new()
        .post(format!("{base}/api/v1/unsubscribe/{}", "0".repeat(32)))
        .send()
        .await
        .unwrap();
    expect_error(unknown, StatusCode::NOT_FOUND, "not_found").await;

    // Still one email: the outbox let it go once sent, and sent it once.
    metrics_with(&base, &["marquee_origin_mail_sent_total 1\n"]).await;
    assert_eq!(mail.inbox().await.len(), 1);
    drop(stream);
    origin.stop();
}

#[tokio::test]
async fn the_weekly_digest_reaches_the_centre_and_the_inbox_once_a_round() {
    let mail = MailDev::start().await;
    let dir = tempfile::tempdir().unwrap();
    let smtp = format!("smtp://127.0.0.1:{}", mail.smtp);
    // A "week" of 3 seconds: the first round starts the count, the next one sends.
    let origin = start_origin(
        &dir.path().join("data"),
        &["--smtp-url", &smtp, "--digest-every-secs", "3"],
    );
    let base = origin.base.clone();
    let (mut admin, first) = ready_title(&base, dir.path()).await;
    let video = super::util::make_video(dir.path());
    let second = super::recommendations::film(&mut admin, "Second Pattern", &video).await;
    let mut viewer = super::recommendations::viewer(&base, "digest@example.com").await;
    let body = json!({"thumb": "love"}).to_string().into_bytes();
    let rate = format!("/api/v1/ratings/{first}");
    expect(
        viewer.put(&rate, "application/json", body).await,
        StatusCode::OK,
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(30);
    // A round may have passed before the thumb (nothing to pick then): wait for the picks.
    let digest = loop {
        let centre = expect(viewer.get("/api/v1/notifications").await, StatusCode::OK).await;
        if let Some(n) = centre["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == "digest" && n["body"] == "Chosen for you: Second Pattern.")
        {
            break n.clone();
        }
        assert!(Instant::now() < deadline, "no digest: {centre}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(digest["headline"], "This week's picks for Sam");
    assert_eq!(digest["body"], "Chosen for you: Second Pattern.");
    assert_eq!(digest["title_id"], second);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mail
        .inbox()
        .await
        .iter()
        .any(|e| e["subject"] == "This week's picks for Sam")
    {
        assert!(Instant::now() < deadline, "the digest email did not arrive");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    origin.stop();
}
