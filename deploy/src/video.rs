//! Demo clips made by ffmpeg from its synthetic lavfi sources (no media files needed), cached
//! in `<state>/media-cache/` so a second `marquee up` never re-encodes.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::catalogue::{Pattern, VideoRecipe};

/// Length of every demo clip.
pub const CLIP_SECONDS: u32 = 11;
const FPS: u32 = 30;

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("ffmpeg is not installed (Debian: apt-get install ffmpeg)")]
    FfmpegMissing,
    #[error("ffmpeg failed ({status}) making {path}: {stderr}")]
    Ffmpeg {
        path: PathBuf,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("could not write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The lavfi description of the picture, `height` lines tall (16:9). The cellular automata run
/// on a coarse grid scaled up with nearest-neighbour: visible cells, and clips a few MB instead
/// of ~20 MB of noise. Rendering at the clip's own size keeps small clips cheap to make.
pub fn video_source(pattern: Pattern, height: u32) -> String {
    let width = height * 16 / 9;
    let base = format!("size={width}x{height}:rate={FPS}");
    let coarse = format!("size=320x180:rate={FPS}");
    let upscale = format!("scale={width}:{height}:flags=neighbor");
    match pattern {
        Pattern::TestSrc2 => format!("testsrc2={base}"),
        Pattern::Mandelbrot => format!("mandelbrot={base}"),
        Pattern::Life => format!(
            "life={coarse}:mold=10:ratio=0.1:death_color=#101030:life_color=#f0a040,{upscale}"
        ),
        Pattern::CellAuto => {
            format!("cellauto={coarse}:rule=110:random_fill_ratio=0.5,{upscale}")
        }
        Pattern::Gradients => format!("gradients={base}:speed=0.03"),
        Pattern::SmpteHdBars => format!("smptehdbars={base}"),
    }
}

/// The lavfi description of the sound: a beeping sine tone.
pub fn audio_source(tone_hz: u32) -> String {
    format!("sine=frequency={tone_hz}:sample_rate=48000:beep_factor=2")
}

/// ffmpeg's arguments for one clip: H.264 + AAC in MP4 with keyframes every 2 s, as a
/// mezzanine an admin might upload; `height` below 720 scales the picture down.
pub fn ffmpeg_args(
    recipe: &VideoRecipe,
    (seconds, height): (u32, u32),
    out: &Path,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(video_source(recipe.pattern, height).into());
    for a in ["-f", "lavfi", "-i"] {
        args.push(a.into());
    }
    args.push(audio_source(recipe.tone_hz).into());
    if let Some(dub) = recipe.dub_tone_hz {
        for a in ["-f", "lavfi", "-i"] {
            args.push(a.into());
        }
        args.push(audio_source(dub).into());
    }
    let gop = (FPS * 2).to_string();
    for a in [
        "-t",
        &seconds.to_string(),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        &gop,
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
    ] {
        args.push(a.into());
    }
    if recipe.dub_tone_hz.is_some() {
        // The dub is the second audio track; tracks say their language as uploads do.
        for a in [
            "-map",
            "2:a",
            "-metadata:s:a:0",
            "language=eng",
            "-metadata:s:a:1",
            "language=fre",
        ] {
            args.push(a.into());
        }
    }
    args.push(out.as_os_str().to_owned());
    args
}

/// Returns the cached clip `<cache_dir>/<slug>.mp4`, making it first if absent. Writes to a
/// `.part` file and renames, so an interrupted run never leaves a truncated clip behind.
/// `shape` is (seconds, height).
pub async fn ensure_clip(
    recipe: &VideoRecipe,
    shape: (u32, u32),
    cache_dir: &Path,
    slug: &str,
) -> Result<PathBuf, VideoError> {
    let path = cache_dir.join(format!("{slug}.mp4"));
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.len() > 0) {
        return Ok(path);
    }
    let io_err = |source| VideoError::Io {
        path: path.clone(),
        source,
    };
    tokio::fs::create_dir_all(cache_dir).await.map_err(io_err)?;
    let part = cache_dir.join(format!("{slug}.mp4.part"));
    let output = Command::new("ffmpeg")
        .args(ffmpeg_args(recipe, shape, &part))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => VideoError::FfmpegMissing,
            _ => io_err(e),
        })?;
    if !output.status.success() {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(VideoError::Ffmpeg {
            path,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    tokio::fs::rename(&part, &path).await.map_err(io_err)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_sized_and_timed() {
        for p in Pattern::ALL {
            let src = video_source(p, 720);
            assert!(src.contains("rate=30"), "{src}");
            assert!(
                src.contains("size=1280x720") || src.ends_with("scale=1280:720:flags=neighbor"),
                "{src}"
            );
            let small = video_source(p, 360);
            assert!(
                small.contains("size=640x360") || small.ends_with("scale=640:360:flags=neighbor"),
                "{small}"
            );
        }
        assert_eq!(
            audio_source(440),
            "sine=frequency=440:sample_rate=48000:beep_factor=2"
        );
    }

    #[test]
    fn args_end_with_the_output_path() {
        let recipe = VideoRecipe {
            pattern: Pattern::Life,
            tone_hz: 300,
            dub_tone_hz: None,
        };
        let args = ffmpeg_args(&recipe, (11, 720), Path::new("/tmp/x.mp4.part"));
        assert_eq!(
            args.last().map(|a| a.as_os_str()),
            Some("/tmp/x.mp4.part".as_ref())
        );
        let joined: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
        let t = joined.iter().position(|a| a == "-t").expect("-t");
        assert_eq!(joined[t + 1], "11");
        let dubbed = VideoRecipe {
            dub_tone_hz: Some(500),
            ..recipe
        };
        let joined: Vec<String> = ffmpeg_args(&dubbed, (11, 720), Path::new("/tmp/x.mp4"))
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            joined
                .join(" ")
                .contains("-map 2:a -metadata:s:a:0 language=eng -metadata:s:a:1 language=fre")
        );
        let small = ffmpeg_args(&recipe, (60, 360), Path::new("/tmp/x.mp4"));
        let joined: Vec<_> = small.iter().map(|a| a.to_string_lossy()).collect();
        assert!(
            joined
                .iter()
                .any(|a| a.ends_with("scale=640:360:flags=neighbor")),
            "a small clip is rendered small: {joined:?}"
        );
    }

    /// Runs the real ffmpeg: a one-second clip must appear as a non-empty MP4 (ftyp box), the
    /// part file must be gone, and a second call must reuse the file instead of re-encoding.
    #[tokio::test]
    async fn makes_a_real_clip_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let recipe = VideoRecipe {
            pattern: Pattern::SmpteHdBars,
            tone_hz: 440,
            dub_tone_hz: None,
        };
        let path = ensure_clip(&recipe, (1, 720), dir.path(), "bars")
            .await
            .expect("clip");
        let bytes = std::fs::read(&path).expect("read");
        assert!(bytes.len() > 1000);
        assert_eq!(&bytes[4..8], b"ftyp");
        assert!(!dir.path().join("bars.mp4.part").exists());
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        let again = ensure_clip(&recipe, (1, 720), dir.path(), "bars")
            .await
            .expect("again");
        assert_eq!(again, path);
        let after = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(modified, after, "cached clip must not be re-encoded");
    }

    /// Every pattern's lavfi description must be accepted by the installed ffmpeg.
    #[tokio::test]
    async fn every_pattern_renders_with_real_ffmpeg() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clips = Pattern::ALL.iter().enumerate().map(|(i, p)| {
            let recipe = VideoRecipe {
                pattern: *p,
                tone_hz: 200 + 50 * i as u32,
                dub_tone_hz: None,
            };
            let dir = dir.path().to_path_buf();
            async move {
                (
                    p,
                    ensure_clip(&recipe, (1, 720), &dir, &format!("p{i}")).await,
                )
            }
        });
        for (pattern, clip) in futures::future::join_all(clips).await {
            let path = clip.unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
            assert!(
                std::fs::metadata(&path).expect("clip").len() > 1000,
                "{pattern:?}"
            );
        }
    }
}
