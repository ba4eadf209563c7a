//! Asking ffprobe what a source holds.

use crate::error::PackageError;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// What the packager needs to know about a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub width: u32,
    pub height: u32,
    /// Display aspect ratio (sample aspect ratio applied).
    pub display_aspect: f64,
    /// Frame rate to encode at, `num/den`.
    pub frame_rate: (u32, u32),
    pub duration_secs: f64,
    /// Audio streams in source order (the first is the default track).
    pub audio: Vec<AudioStream>,
}

/// One audio stream of the source.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioStream {
    /// BCP 47 language tag ([`crate::language::normalise`]), `und` when untagged.
    pub language: String,
}

/// Most audio tracks packaged from one source (dubs beyond it are left out).
pub const MAX_AUDIO_TRACKS: usize = 8;

impl SourceInfo {
    pub fn has_audio(&self) -> bool {
        !self.audio.is_empty()
    }
}

/// Run `tool -version` to fail early with a clear message when ffmpeg is not installed.
pub fn check_tool(tool: &'static str) -> Result<(), PackageError> {
    match Command::new(tool).arg("-version").output() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(PackageError::FfmpegMissing { tool })
        }
        Err(e) => Err(PackageError::Io {
            path: tool.into(),
            source: e,
        }),
    }
}

pub fn probe(input: &Path) -> Result<SourceInfo, PackageError> {
    std::fs::File::open(input).map_err(|source| PackageError::InputMissing {
        path: input.into(),
        source,
    })?;
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(input)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PackageError::FfmpegMissing { tool: "ffprobe" },
            _ => PackageError::Io {
                path: "ffprobe".into(),
                source: e,
            },
        })?;
    let unreadable = |detail: String| PackageError::Unreadable {
        path: input.into(),
        detail,
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(unreadable(
            err.trim()
                .lines()
                .last()
                .unwrap_or("ffprobe failed")
                .to_string(),
        ));
    }
    let json: Value = serde_json::from_slice(&out.stdout).map_err(|e| unreadable(e.to_string()))?;
    from_ffprobe_json(&json).map_err(|e| match e {
        ProbeProblem::NoVideo => PackageError::NoVideo { path: input.into() },
        ProbeProblem::Bad(d) => unreadable(d),
    })
}

#[derive(Debug, PartialEq)]
pub enum ProbeProblem {
    NoVideo,
    Bad(String),
}

/// Interpret ffprobe's `-show_streams -show_format` JSON.
pub fn from_ffprobe_json(json: &Value) -> Result<SourceInfo, ProbeProblem> {
    let streams = json["streams"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let is = |s: &&Value, kind: &str| s["codec_type"] == kind;
    let video = streams
        .iter()
        .find(|s| is(s, "video") && s["disposition"]["attached_pic"].as_i64() != Some(1))
        .ok_or(ProbeProblem::NoVideo)?;
    let dim = |k: &str| {
        video[k]
            .as_u64()
            .filter(|&v| v > 0 && v <= 16384)
            .map(|v| v as u32)
    };
    let (mut width, mut height) = match (dim("width"), dim("height")) {
        (Some(w), Some(h)) => (w, h),
        _ => {
            return Err(ProbeProblem::Bad(
                "the video stream has no usable width and height".into(),
            ));
        }
    };
    // Phone videos are often stored sideways with a rotation; ffmpeg rotates them on decode.
    if rotation(video).rem_euclid(180) == 90 {
        std::mem::swap(&mut width, &mut height);
    }
    let sar = video["sample_aspect_ratio"]
        .as_str()
        .and_then(ratio)
        .filter(|&r| r > 0.0)
        .unwrap_or(1.0);
    let frame_rate = ["r_frame_rate", "avg_frame_rate"]
        .iter()
        .filter_map(|k| video[*k].as_str().and_then(rational))
        .find(|&(n, d)| {
            let fps = f64::from(n) / f64::from(d);
            (1.0..=60.0).contains(&fps)
        })
        .unwrap_or((30, 1));
    let number = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0)
    };
    let duration_secs = number(&json["format"]["duration"])
        .or_else(|| number(&video["duration"]))
        .ok_or_else(|| ProbeProblem::Bad("the source's duration is unknown".into()))?;
    Ok(SourceInfo {
        width,
        height,
        display_aspect: f64::from(width) * sar / f64::from(height),
        frame_rate,
        duration_secs,
        audio: streams
            .iter()
            .filter(|s| is(s, "audio"))
            .take(MAX_AUDIO_TRACKS)
            .map(|s| AudioStream {
                language: crate::language::normalise(s["tags"]["language"].as_str().unwrap_or("")),
            })
            .collect(),
    })
}

/// Display rotation in degrees, from the display matrix side data or the legacy `rotate` tag.
fn rotation(video: &Value) -> i64 {
    let side = video["side_data_list"]
        .as_array()
        .and_then(|l| l.iter().find_map(|d| d["rotation"].as_i64()));
    side.or_else(|| {
        video["tags"]["rotate"]
            .as_str()
            .and_then(|r| r.parse().ok())
    })
    .unwrap_or(0)
}

fn rational(s: &str) -> Option<(u32, u32)> {
    let (n, d) = s.split_once('/')?;
    let (n, d) = (n.parse().ok()?, d.parse().ok()?);
    (n > 0 && d > 0).then_some((n, d))
}

fn ratio(s: &str) -> Option<f64> {
    let (n, d) = s.split_once(':')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (d > 0.0).then(|| n / d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_video_audio_and_duration() {
        let j = json!({
            "streams": [
                {"codec_type": "video", "width": 1280, "height": 720, "r_frame_rate": "30000/1001",
                 "sample_aspect_ratio": "1:1"},
                {"codec_type": "audio"}
            ],
            "format": {"duration": "10.010000"}
        });
        let info = from_ffprobe_json(&j).expect("ok");
        assert_eq!(
            (info.width, info.height, info.frame_rate),
            (1280, 720, (30000, 1001))
        );
        assert!(info.has_audio());
        assert_eq!(info.audio[0].language, "und");
        assert!((info.duration_secs - 10.01).abs() < 1e-9);
        assert!((info.display_aspect - 16.0 / 9.0).abs() < 1e-9);
    }

    #[test]
    fn no_video_and_odd_rates() {
        let audio_only = json!({"streams": [{"codec_type": "audio"}], "format": {"duration": "3"}});
        assert_eq!(from_ffprobe_json(&audio_only), Err(ProbeProblem::NoVideo));
        assert_eq!(from_ffprobe_json(&json!({})), Err(ProbeProblem::NoVideo));
        let weird = json!({"streams": [{"codec_type": "video", "width": 640, "height": 480,
            "r_frame_rate": "90000/1", "avg_frame_rate": "0/0"}], "format": {"duration": "1"}});
        let info = from_ffprobe_json(&weird).expect("ok");
        assert_eq!(
            info.frame_rate,
            (30, 1),
            "out-of-range rates fall back to 30 fps"
        );
        assert!(!info.has_audio());
    }

    #[test]
    fn every_audio_stream_is_a_track_with_its_language() {
        let j = json!({"streams": [
            {"codec_type": "video", "width": 640, "height": 360, "r_frame_rate": "25/1"},
            {"codec_type": "audio", "tags": {"language": "eng"}},
            {"codec_type": "subtitle", "tags": {"language": "deu"}},
            {"codec_type": "audio", "tags": {"language": "fre"}}
        ], "format": {"duration": "2"}});
        let langs: Vec<String> = from_ffprobe_json(&j)
            .expect("ok")
            .audio
            .into_iter()
            .map(|a| a.language)
            .collect();
        assert_eq!(langs, ["en", "fr"]);
    }

    #[test]
    fn rotated_sources_swap_dimensions() {
        let j = json!({"streams": [{"codec_type": "video", "width": 1920, "height": 1080,
            "r_frame_rate": "30/1", "side_data_list": [{"rotation": -90}]}], "format": {"duration": "1"}});
        let info = from_ffprobe_json(&j).expect("ok");
        assert_eq!((info.width, info.height), (1080, 1920));
    }
}
