//! Blobs in S3-compatible storage: moto's S3 server (PyPI `moto[server]`, a real HTTP peer
//! speaking the S3 protocol with signatures) on loopback. An upload is packaged and its media
//! served while the local disk holds no blob at all.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::media::media_token;
use super::util::{ready_title, start_origin};

fn moto_server() -> PathBuf {
    super::util::installed_tool(
        "MARQUEE_MOTO_SERVER",
        "moto_server",
        "`pip install 'moto[server]==5.2.5'` and put it on PATH",
    )
}

struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    async fn start() -> Moto {
        let port = super::util::free_port();
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(&url).await.is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Moto { child, url }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_packages_live_in_s3_and_play_from_there() {
    let moto = Moto::start().await;
    let http = reqwest::Client::new();
    let made = http
        .put(format!("{}/marquee", moto.url))
        .send()
        .await
        .unwrap();
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("s3-secret");
    std::fs::write(&secret, "testing-secret").unwrap();
    let data = tmp.path().join("origin");
    let secret = secret.display().to_string();
    let origin = start_origin(
        &data,
        &[
            "--s3-bucket",
            "marquee",
            "--s3-endpoint",
            &moto.url,
            "--s3-access-key-id",
            "testing",
            "--s3-secret-key-file",
            &secret,
        ],
    );
    let (_admin, id) = ready_title(&origin.base, tmp.path()).await;

    let listed = http
        .get(format!(
            "{}/marquee?list-type=2&prefix=media/{id}/",
            moto.url
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("manifest.mpd"),
        "the package is in the bucket: {listed:.400}"
    );
    assert!(
        !data.join("blobs/media").exists() && !data.join("blobs/uploads").exists(),
        "nothing on the local disk"
    );
    let job = listed
        .split(&format!("media/{id}/"))
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let token = media_token(&data, &id, 600);
    let mpd = http
        .get(format!("{}/media/{id}/{job}/manifest.mpd", origin.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(mpd.status(), StatusCode::OK);
    assert!(mpd.text().await.unwrap().contains("<MPD"));
    origin.stop();
}
