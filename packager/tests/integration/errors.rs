//! Bad inputs get clear, typed errors; the CLI says what to do.

use super::common::{ffmpeg, heavy};
use marquee_packager::{PackageError, PackageRequest, package};
use std::process::Command;

fn run(input: &std::path::Path) -> Result<marquee_packager::PackageSummary, PackageError> {
    let out = tempfile::tempdir().expect("tempdir");
    package(
        &PackageRequest::new(input, out.path().join("o")),
        &mut |_| {},
    )
}

#[test]
fn missing_garbage_and_audio_only_inputs() {
    let _guard = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("nope.mp4");
    assert!(matches!(
        run(&missing),
        Err(PackageError::InputMissing { .. })
    ));

    let garbage = tmp.path().join("garbage.mp4");
    std::fs::write(
        &garbage,
        b"\0\0\0\x18ftypisomjunkjunkjunk not a video at all",
    )
    .expect("write");
    let err = run(&garbage).expect_err("garbage must fail");
    assert!(matches!(err, PackageError::Unreadable { .. }), "{err:?}");
    assert!(
        err.to_string().contains("not a readable media file"),
        "{err}"
    );

    let audio_only = tmp.path().join("tone.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-t",
        "1",
        "-c:a",
        "aac",
        &audio_only.to_string_lossy(),
    ]);
    let err = run(&audio_only).expect_err("audio only must fail");
    assert!(matches!(err, PackageError::NoVideo { .. }), "{err:?}");
    assert!(err.to_string().contains("has no video stream"));
}

#[test]
fn bad_requests_are_rejected_before_encoding() {
    let mut req = PackageRequest::new("/dev/null", "/tmp/never-written");
    req.segment_seconds = 0;
    let err = package(&req, &mut |_| {}).expect_err("0 s segments");
    assert!(matches!(err, PackageError::InvalidRequest(_)), "{err:?}");
}

#[test]
fn cli_without_ffmpeg_says_to_install_it() {
    let empty = tempfile::tempdir().expect("tempdir");
    let run = Command::new(env!("CARGO_BIN_EXE_marquee-packager"))
        .args(["in.mp4", "out", "--quiet"])
        .env("PATH", empty.path())
        .output()
        .expect("runs");
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("`ffmpeg` was not found on PATH: install ffmpeg"),
        "{stderr}"
    );
}

#[test]
fn cli_help_and_bad_ladder() {
    let help = Command::new(env!("CARGO_BIN_EXE_marquee-packager"))
        .arg("--help")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "INPUT",
        "OUTPUT_DIR",
        "--segment-seconds",
        "--ladder",
        "720p,480p=1200,360p",
        "master.m3u8",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}:\n{text}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_marquee-packager"))
        .args(["in.mp4", "out", "--ladder", "big"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ladder entry 'big'"));
}
