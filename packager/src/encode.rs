//! Running ffmpeg once for the whole ladder: one decode, `split` into the rungs, each rung and
//! the audio into its own fragmented MP4 in a scratch folder.
//!
//! Keyframes are aligned across rungs because every rung gets the same frames (a fixed rate
//! set by the `fps` filter before `split`) and the same forced keyframe times
//! (`-force_key_frames expr:gte(t,n_forced*SEG)`), with scene-cut keyframes off
//! (`-sc_threshold 0`) and a GOP cap equal to the segment length.

use crate::error::PackageError;
use crate::ladder::Rung;
use crate::probe::SourceInfo;
use crate::thumbnails;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where ffmpeg writes each track, and the thumbnail sprite sheets.
pub struct EncodeOutputs {
    pub video: Vec<PathBuf>,
    /// One per audio track (one, of silence, for a source without audio).
    pub audio: Vec<PathBuf>,
    /// `sprite-%d.jpg` in its own folder.
    pub thumbnails: PathBuf,
}

impl EncodeOutputs {
    pub fn in_dir(dir: &Path, rungs: usize, audio_tracks: usize) -> Self {
        Self {
            video: (0..rungs)
                .map(|i| dir.join(format!("video-{i}.mp4")))
                .collect(),
            audio: (0..audio_tracks.max(1))
                .map(|i| dir.join(format!("audio-{i}.mp4")))
                .collect(),
            thumbnails: dir.join("thumbnails").join("sprite-%d.jpg"),
        }
    }
}

/// The ffmpeg command line (without the program name).
pub fn ffmpeg_args(
    input: &Path,
    src: &SourceInfo,
    rungs: &[Rung],
    segment_seconds: u32,
    thumbnails: &thumbnails::Plan,
    out: &EncodeOutputs,
) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
    push(&[
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        "-i",
    ]);
    a.push(input.into());
    if !src.has_audio() {
        // No audio in the source: package silence so every title has the same shape.
        a.extend(
            [
                "-f",
                "lavfi",
                "-i",
                "anullsrc=channel_layout=stereo:sample_rate=48000",
            ]
            .map(OsString::from),
        );
    }
    let (num, den) = src.frame_rate;
    // One branch per rung, and one for the thumbnails.
    let mut graph = format!("[0:v:0]fps={num}/{den},split={}", rungs.len() + 1);
    for i in 0..rungs.len() {
        graph.push_str(&format!("[s{i}]"));
    }
    graph.push_str("[sthumbs]");
    for (i, r) in rungs.iter().enumerate() {
        graph.push_str(&format!(
            ";[s{i}]scale={}:{},setsar=1[v{i}]",
            r.width_for(src.display_aspect),
            r.height
        ));
    }
    graph.push_str(&format!(";[sthumbs]{}[thumbs]", thumbnails.filter()));
    a.extend(["-filter_complex".into(), graph.into()]);
    // GOP = segment length in frames (rounded up), so x264 adds no keyframes of its own.
    let gop = (f64::from(segment_seconds) * f64::from(num) / f64::from(den)).ceil() as u32;
    // delay_moov: the moov is written once the first fragment is known, so it carries the
    // edit list that says where presentation starts (B-frame delay, AAC priming).
    let fragmented = "+frag_keyframe+empty_moov+delay_moov+default_base_moof";
    for (i, r) in rungs.iter().enumerate() {
        let k = r.video_kbps;
        let args = [
            "-map".to_string(),
            format!("[v{i}]"),
            "-c:v".into(),
            "libx264".into(),
            "-preset".into(),
            "veryfast".into(),
            "-profile:v".into(),
            "high".into(),
            "-pix_fmt".into(),
            "yuv420p".into(),
            "-b:v".into(),
            format!("{k}k"),
            "-maxrate".into(),
            format!("{}k", k + k / 10),
            "-bufsize".into(),
            format!("{}k", 2 * k),
            "-g".into(),
            gop.to_string(),
            "-keyint_min".into(),
            gop.to_string(),
            "-sc_threshold".into(),
            "0".into(),
            "-force_key_frames".into(),
            format!("expr:gte(t,n_forced*{segment_seconds})"),
            "-an".into(),
            "-sn".into(),
            "-dn".into(),
            "-f".into(),
            "mp4".into(),
            "-movflags".into(),
            fragmented.into(),
        ];
        a.extend(args.into_iter().map(OsString::from));
        a.push(out.video[i].clone().into());
    }
    for (i, path) in out.audio.iter().enumerate() {
        a.extend(
            audio_args(src, i, segment_seconds)
                .into_iter()
                .map(OsString::from),
        );
        a.push(path.clone().into());
    }
    let sprites = [
        "-map",
        "[thumbs]",
        "-c:v",
        "mjpeg",
        "-q:v",
        "5",
        "-fps_mode",
        "vfr",
        "-an",
        "-sn",
        "-dn",
        "-f",
        "image2",
        "-start_number",
        "1",
    ];
    a.extend(sprites.map(OsString::from));
    a.push(out.thumbnails.clone().into());
    a
}

/// Arguments for audio track `i` (before its output path): AAC stereo 48 kHz, fragmented.
fn audio_args(src: &SourceInfo, i: usize, segment_seconds: u32) -> Vec<String> {
    let map = if src.has_audio() {
        format!("0:a:{i}")
    } else {
        "1:a:0".to_owned()
    };
    let mut audio = vec!["-map".to_string(), map];
    if !src.has_audio() {
        audio.extend(["-t".into(), format!("{:.3}", src.duration_secs)]);
    }
    audio.extend(
        [
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-ac",
            "2",
            "-ar",
            "48000",
            "-vn",
            "-sn",
            "-dn",
            "-f",
            "mp4",
            "-movflags",
            "+empty_moov+delay_moov+default_base_moof",
            "-frag_duration",
        ]
        .map(String::from),
    );
    audio.push((u64::from(segment_seconds) * 1_000_000).to_string());
    audio
}

/// Run ffmpeg, reporting progress as a fraction of the source's duration.
pub fn run_ffmpeg(
    args: &[OsString],
    duration_secs: f64,
    progress: &mut dyn FnMut(f32),
) -> Result<(), PackageError> {
    let mut child = Command::new("ffmpeg")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PackageError::FfmpegMissing { tool: "ffmpeg" },
            _ => PackageError::Io {
                path: "ffmpeg".into(),
                source: e,
            },
        })?;
    // Drain stderr on its own thread so a chatty ffmpeg never blocks on a full pipe.
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
            s
        })
    });
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(f) = progress_fraction(&line, duration_secs) {
                progress(f);
            }
        }
    }
    let status = child.wait().map_err(PackageError::io("ffmpeg"))?;
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
        return Err(PackageError::Encode {
            status: status.to_string(),
            stderr_tail: tail,
        });
    }
    progress(1.0);
    Ok(())
}

/// One line of `-progress` output → fraction done, for `out_time_us=` lines.
pub fn progress_fraction(line: &str, duration_secs: f64) -> Option<f32> {
    let us: f64 = line.strip_prefix("out_time_us=")?.trim().parse().ok()?;
    if duration_secs <= 0.0 || us < 0.0 {
        return None;
    }
    Some((us / 1e6 / duration_secs).clamp(0.0, 1.0) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(audio_tracks: usize) -> SourceInfo {
        let languages = ["en", "fr", "de"];
        SourceInfo {
            width: 1920,
            height: 1080,
            display_aspect: 16.0 / 9.0,
            frame_rate: (30, 1),
            duration_secs: 10.0,
            audio: languages[..audio_tracks]
                .iter()
                .map(|l| crate::probe::AudioStream {
                    language: (*l).into(),
                })
                .collect(),
        }
    }

    fn args(src: &SourceInfo, out: &EncodeOutputs) -> String {
        let rungs = crate::ladder::choose(1080, None).expect("ok");
        let plan = thumbnails::Plan::new(src.duration_secs, src.display_aspect);
        joined(&ffmpeg_args(
            Path::new("in.mov"),
            src,
            &rungs,
            2,
            &plan,
            out,
        ))
    }

    fn joined(args: &[OsString]) -> String {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn one_process_split_with_aligned_keyframes() {
        let out = EncodeOutputs::in_dir(Path::new("/tmp/x"), 3, 1);
        let cmd = args(&src(1), &out);
        assert!(cmd.contains(
            "-filter_complex [0:v:0]fps=30/1,split=4[s0][s1][s2][sthumbs];[s0]scale=1280:720,setsar=1[v0];[s1]scale=854:480,setsar=1[v1];[s2]scale=640:360,setsar=1[v2];[sthumbs]fps=1/2,scale=160:90,setsar=1,tile=10x10[thumbs]"
        ));
        assert_eq!(
            cmd.matches("-force_key_frames expr:gte(t,n_forced*2)")
                .count(),
            3
        );
        assert_eq!(cmd.matches("-sc_threshold 0").count(), 3);
        assert_eq!(cmd.matches("-g 60 -keyint_min 60").count(), 3);
        assert!(cmd.contains("-b:v 3000k -maxrate 3300k -bufsize 6000k"));
        assert!(cmd.contains("-map 0:a:0 -c:a aac -b:a 128k -ac 2 -ar 48000"));
        assert!(cmd.contains("-frag_duration 2000000 /tmp/x/audio-0.mp4 "));
        assert!(cmd.ends_with(
            "-map [thumbs] -c:v mjpeg -q:v 5 -fps_mode vfr -an -sn -dn -f image2 -start_number 1 /tmp/x/thumbnails/sprite-%d.jpg"
        ));
        assert!(!cmd.contains("anullsrc"));
        assert_eq!(
            cmd.matches("empty_moov+delay_moov+default_base_moof")
                .count(),
            4,
            "edit lists are written"
        );
    }

    #[test]
    fn every_audio_stream_gets_its_own_track() {
        let out = EncodeOutputs::in_dir(Path::new("/o"), 3, 3);
        let cmd = args(&src(3), &out);
        for i in 0..3 {
            assert!(cmd.contains(&format!("-map 0:a:{i} -c:a aac")), "{cmd}");
            assert!(cmd.contains(&format!("/o/audio-{i}.mp4")));
        }
    }

    #[test]
    fn silent_audio_for_sources_without_audio() {
        let out = EncodeOutputs::in_dir(Path::new("/o"), 3, 0);
        let cmd = args(&src(0), &out);
        assert!(cmd.contains("-f lavfi -i anullsrc=channel_layout=stereo:sample_rate=48000"));
        assert!(cmd.contains("-map 1:a:0 -t 10.000 -c:a aac"));
    }

    #[test]
    fn progress_lines() {
        assert_eq!(progress_fraction("out_time_us=5000000", 10.0), Some(0.5));
        assert_eq!(progress_fraction("out_time_us=50000000", 10.0), Some(1.0));
        assert_eq!(progress_fraction("out_time_us=N/A", 10.0), None);
        assert_eq!(progress_fraction("frame=12", 10.0), None);
    }
}
