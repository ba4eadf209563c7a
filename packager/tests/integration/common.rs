//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// The machine has 2 cores: encodes and browser measurements run one at a time so that timing
/// assertions measure the player, not a busy CPU.
static HEAVY: Mutex<()> = Mutex::new(());

pub fn heavy() -> MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run ffmpeg with `args`, panicking with its stderr if it fails.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed (apt-get install -y ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A lavfi test clip: `testsrc2` video (moving picture, so B-frames are used) and, when
/// `audio`, a sine tone — encoded as a typical upload would be (H.264 with B-frames, AAC).
pub fn make_clip(dir: &Path, name: &str, size: &str, secs: u32, audio: bool) -> PathBuf {
    let path = dir.join(name);
    let video = format!("testsrc2=size={size}:rate=30");
    let t = secs.to_string();
    let p = path.to_string_lossy().into_owned();
    let mut args = vec!["-f", "lavfi", "-i", &video];
    if audio {
        args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]);
    }
    args.extend([
        "-t",
        &t,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-bf",
        "2",
        "-pix_fmt",
        "yuv420p",
    ]);
    if audio {
        args.extend(["-c:a", "aac"]);
    }
    args.push(&p);
    ffmpeg(&args);
    path
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
