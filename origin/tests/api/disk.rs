//! A nearly full disk: on a small tmpfs, writes and uploads are refused with 507 and a reason
//! while reads go on; an upload that fills the disk is cut off and leaves nothing; once space is
//! back writes work again, and after a restart nothing acknowledged is lost.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use super::util::{ADMIN_EMAIL, Client, expect, expect_error, new_title, sign_up, start_origin};

/// A 48 MiB tmpfs mounted for the test, unmounted when dropped. Needs root (the suite runs as
/// root, as CI does); without it the test fails saying so.
struct SmallDisk {
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> SmallDisk {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("disk");
        std::fs::create_dir(&dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=48m", "tmpfs"])
            .arg(&dir)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mounting a 48 MiB tmpfs failed: this test needs root (CI runs as root)"
        );
        SmallDisk { dir, _tmp: tmp }
    }

    /// Fills the disk until `leave` bytes are free.
    fn fill_leaving(&self, leave: u64) -> PathBuf {
        let st = nix::sys::statvfs::statvfs(&self.dir).unwrap();
        let free = st.blocks_available() * st.fragment_size();
        let filler = self.dir.join("filler");
        let size = free.saturating_sub(leave) as usize;
        std::fs::write(&filler, vec![7u8; size]).unwrap();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

async fn titles(client: &mut Client) -> Vec<Value> {
    let list = expect(client.get("/api/v1/titles").await, StatusCode::OK).await;
    list["titles"].as_array().unwrap().clone()
}

fn data(disk: &SmallDisk) -> PathBuf {
    disk.dir.join("origin")
}

fn start(disk: &SmallDisk) -> super::util::Proc {
    start_origin(&data(disk), &["--min-free-disk-mb", "16"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nearly_full_disk_refuses_writes_cleanly_and_loses_nothing() {
    let disk = SmallDisk::mount();
    let origin = start(&disk);
    let mut admin = Client::new(&origin.base);
    sign_up(&mut admin, ADMIN_EMAIL).await;
    let before = admin
        .post("/api/v1/admin/titles", new_title("Before"))
        .await;
    expect(before, StatusCode::CREATED).await;

    // 10 MiB left, under the 16 MiB reserve: writes refused, reads served.
    let filler = disk.fill_leaving(10 << 20);
    let refused = admin
        .post("/api/v1/admin/titles", new_title("Refused"))
        .await;
    expect_error(
        refused,
        StatusCode::INSUFFICIENT_STORAGE,
        "insufficient_storage",
    )
    .await;
    assert_eq!(titles(&mut admin).await.len(), 1);
    let id = titles(&mut admin).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = admin
        .put(
            &format!("/api/v1/admin/titles/{id}/video"),
            "video/mp4",
            vec![0; 1 << 20],
        )
        .await;
    expect_error(
        upload,
        StatusCode::INSUFFICIENT_STORAGE,
        "insufficient_storage",
    )
    .await;

    // 24 MiB left: an upload of 30 MiB sent without a length fills the disk and is cut off.
    std::fs::remove_file(&filler).unwrap();
    let filler = disk.fill_leaving(24 << 20);
    let chunks = (0..30).map(|_| Ok::<_, std::io::Error>(vec![1u8; 1 << 20]));
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let cookie = format!("marquee_session={}", admin.cookie.clone().unwrap());
    let resp = reqwest::Client::new()
        .put(format!("{}/api/v1/admin/titles/{id}/video", origin.base))
        .header("cookie", cookie)
        .header("content-type", "video/mp4")
        .body(body)
        .send()
        .await
        .unwrap();
    expect_error(
        resp,
        StatusCode::INSUFFICIENT_STORAGE,
        "insufficient_storage",
    )
    .await;
    assert!(
        no_uploads_left(&data(&disk)),
        "a cut-off upload leaves nothing behind"
    );

    // Space back: writes work again; a restart keeps everything acknowledged.
    std::fs::remove_file(&filler).unwrap();
    let after = admin.post("/api/v1/admin/titles", new_title("After")).await;
    expect(after, StatusCode::CREATED).await;
    origin.stop();
    let origin = start(&disk);
    let mut client = Client::new(&origin.base);
    client.cookie.clone_from(&admin.cookie);
    let mut names: Vec<String> = titles(&mut client)
        .await
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["After", "Before"]);
    origin.stop();
}

fn no_uploads_left(data: &Path) -> bool {
    let uploads = data.join("blobs/uploads");
    walk(&uploads).is_empty()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
