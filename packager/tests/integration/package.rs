//! Packaging real clips and checking the output layout, timing and manifests.

use super::common::{heavy, make_clip, read_json, repo_root};
use marquee_packager::mp4::{self, Sample, TrackKind, reader};
use marquee_packager::{PackageRequest, Stage, package};
use std::path::Path;
use std::process::Command;

/// Parse `dir/init.mp4` and all `dir/seg-*.m4s` back with our reader; returns each
/// segment's samples.
fn read_back(dir: &Path, segments: usize) -> (mp4::TrackInfo, Vec<Vec<Sample>>) {
    let init = std::fs::read(dir.join("init.mp4")).expect("init.mp4");
    assert_eq!(&init[4..8], b"ftyp");
    assert!(
        !init.windows(4).any(|w| w == b"edts"),
        "{}: init keeps an edit list",
        dir.display()
    );
    let moov = reader::require(&init, b"moov", "moov").expect("moov");
    let info = mp4::parse_init(moov.body).expect("init parses");
    let segs = (1..=segments)
        .map(|n| {
            let bytes = std::fs::read(dir.join(format!("seg-{n}.m4s"))).expect("segment");
            let mut samples = Vec::new();
            mp4::read_samples(&bytes, 0, &info, &mut 0, &mut samples).expect("segment parses");
            assert!(!samples.is_empty());
            assert!(
                samples[0].is_sync(),
                "segment {n} of {} starts with a non-sync sample",
                dir.display()
            );
            let end = samples
                .last()
                .map(|s| s.offset + u64::from(s.size))
                .unwrap_or(0);
            assert_eq!(end, bytes.len() as u64, "mdat holds exactly the samples");
            samples
        })
        .collect();
    assert!(!dir.join(format!("seg-{}.m4s", segments + 1)).exists());
    (info, segs)
}

#[test]
fn small_source_without_audio_via_cli() {
    let _guard = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let clip = make_clip(tmp.path(), "small.mp4", "320x180", 6, false);
    let out = tmp.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_marquee-packager"))
        .arg(&clip)
        .arg(&out)
        .arg("--quiet")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("180p") && stdout.contains("3 segments of 2 s"),
        "summary table: {stdout}"
    );
    assert!(stdout.contains("silence"), "{stdout}");

    let summary = read_json(&out.join("package.json"));
    let names: Vec<&str> = summary["rungs"]
        .as_array()
        .expect("rungs")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["180p", "120p", "90p"],
        "a small source gets three rungs of its own, never upscaled"
    );
    assert_eq!(summary["rungs"][0]["width"], 320);
    assert_eq!(summary["rungs"][2]["height"], 90);
    assert_eq!(summary["segment_count"], 3);
    assert_eq!(summary["audio"]["silent"], true);
    let duration = summary["duration_secs"].as_f64().expect("duration");
    assert!((duration - 6.0).abs() < 0.1, "{duration}");
    for file in summary["files"].as_array().expect("files") {
        assert!(
            out.join(file.as_str().expect("str")).is_file(),
            "{file} listed but missing"
        );
    }

    for rung in names {
        let (info, segs) = read_back(&out.join("video").join(rung), 3);
        assert_eq!(info.kind, TrackKind::Video);
        let first_pts = segs[0].iter().map(Sample::pts).min();
        assert_eq!(
            first_pts,
            Some(0),
            "{rung}: the first presented frame is at 0"
        );
        assert_eq!(segs[0][0].dts, 0);
        // Segments start every 2 s on the presentation timeline (30 fps ⇒ exact).
        for (k, s) in segs.iter().enumerate() {
            let start = s.iter().map(Sample::pts).min().unwrap_or(-1);
            assert_eq!(
                start,
                2 * k as i64 * i64::from(info.timescale),
                "{rung} segment {}",
                k + 1
            );
        }
    }
    let (audio, segs) = read_back(&out.join("audio"), 3);
    assert_eq!(
        (audio.kind, audio.codec.channels, audio.codec.sample_rate),
        (TrackKind::Audio, 2, 48000)
    );
    assert_eq!(segs[0][0].dts, 0);
}

#[test]
fn bear_clip_packages_with_progress() {
    let _guard = heavy();
    let bear = repo_root().join("../shared/data/media/bear-1280x720.mp4");
    assert!(
        bear.is_file(),
        "test media missing: {} (shared/data/media beside the repository)",
        bear.display()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("bear");
    let mut seen = Vec::new();
    let summary =
        package(&PackageRequest::new(&bear, &out), &mut |p| seen.push(p)).expect("packages");

    let names: Vec<&str> = summary.rungs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["720p", "480p", "360p"]);
    assert_eq!(
        (summary.rungs[1].width, summary.rungs[1].height),
        (854, 480)
    );
    assert!(
        summary
            .rungs
            .iter()
            .all(|r| r.codecs.starts_with("avc1.64") && r.bandwidth > 0)
    );
    assert_eq!(summary.audio.codecs, "mp4a.40.2");
    assert!(!summary.audio.silent);
    assert!(
        (summary.duration_secs - 2.74).abs() < 0.1,
        "{}",
        summary.duration_secs
    );
    assert_eq!(summary.segment_count, 2);

    // Progress: stages in order, overall progress never goes back, ends at 100 %.
    let stages: Vec<Stage> = seen.iter().map(|p| p.stage).collect();
    let mut order = stages.clone();
    order.dedup();
    assert_eq!(
        order,
        [
            Stage::Probing,
            Stage::Encoding,
            Stage::Segmenting,
            Stage::Writing
        ]
    );
    assert!(
        seen.windows(2).all(|w| w[1].overall() >= w[0].overall()),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(|p| p.overall()), Some(1.0));

    let master = std::fs::read_to_string(out.join("master.m3u8")).expect("master");
    assert_eq!(master.matches("#EXT-X-STREAM-INF:").count(), 3);
    assert!(
        master.contains(
            "RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO=\"audio\"\nvideo/720p/playlist.m3u8"
        ),
        "{master}"
    );
    let mpd = std::fs::read_to_string(out.join("manifest.mpd")).expect("mpd");
    assert_eq!(mpd.matches("<Representation ").count(), 4);
    assert!(mpd.contains("frameRate=\"30000/1001\""), "{mpd}");
    let playlist = std::fs::read_to_string(out.join("video/360p/playlist.m3u8")).expect("playlist");
    assert_eq!(playlist.matches("#EXTINF:").count(), 2);
    assert!(
        playlist.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n"),
        "{playlist}"
    );
}

#[test]
fn ladder_and_segment_length_from_the_cli() {
    let _guard = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let clip = make_clip(tmp.path(), "clip.mp4", "640x360", 4, true);
    let out = tmp.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_marquee-packager"))
        .arg(&clip)
        .arg(&out)
        .args([
            "--quiet",
            "--segment-seconds",
            "1",
            "--ladder",
            "480p,360p=500,240p",
        ])
        .output()
        .expect("runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary = read_json(&out.join("package.json"));
    let rungs = summary["rungs"].as_array().expect("rungs");
    assert_eq!(
        rungs.len(),
        2,
        "480p is taller than the source and is skipped"
    );
    assert_eq!(
        (&rungs[0]["name"], &rungs[0]["target_kbps"]),
        (&"360p".into(), &500.into())
    );
    assert_eq!(summary["segment_count"], 4);
    let playlist = std::fs::read_to_string(out.join("video/240p/playlist.m3u8")).expect("playlist");
    assert_eq!(
        playlist.matches("#EXTINF:1.00000,").count(),
        4,
        "{playlist}"
    );
    assert!(playlist.contains("#EXT-X-TARGETDURATION:1\n"));
    let audio = std::fs::read_to_string(out.join("audio/playlist.m3u8")).expect("audio playlist");
    assert_eq!(
        audio.matches("#EXTINF:").count(),
        4,
        "audio is cut at the video's boundaries: {audio}"
    );

    // Again into the same folder with 2-second segments and one rung: the folder then holds
    // exactly the new package, not the old one's extra segments and rung.
    let again = Command::new(env!("CARGO_BIN_EXE_marquee-packager"))
        .arg(&clip)
        .arg(&out)
        .args(["--quiet", "--ladder", "240p"])
        .output()
        .expect("runs");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let summary = read_json(&out.join("package.json"));
    let mut listed: Vec<String> = summary["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f.as_str().expect("path").to_owned())
        .collect();
    listed.sort();
    assert_eq!(files_under(&out), listed, "only the new package's files");
    assert!(!out.join("video/360p").exists() && !out.join("video/240p/seg-3.m4s").exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("scratch"))
        .collect();
    assert!(leftovers.is_empty(), "scratch folders left: {leftovers:?}");

    // A folder holding something else is refused before any encoding, and left as it was.
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), "mine").expect("write");
    let refused = Command::new(env!("CARGO_BIN_EXE_marquee-packager"))
        .arg(&clip)
        .arg(&foreign)
        .arg("--quiet")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("not empty"),
        "{stderr}"
    );
    assert_eq!(files_under(&foreign), ["notes.txt"]);
}

/// Every file under `root`, relative and `/`-separated, sorted.
fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// A source with an English and a French audio stream, packaged with English and German
/// subtitles: every track is a rendition in both manifests, and the thumbnails are indexed.
#[test]
fn dubbed_source_with_subtitles_and_thumbnails() {
    let _guard = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let clip = tmp.path().join("dubbed.mp4");
    super::common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=660:sample_rate=48000",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2:a",
        "-t",
        "7",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=fre",
        clip.to_str().unwrap(),
    ]);
    let vtt = |text: &str| format!("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n{text}\n");
    let (en, de) = (tmp.path().join("en.vtt"), tmp.path().join("de.vtt"));
    std::fs::write(&en, vtt("Hello")).unwrap();
    std::fs::write(&de, vtt("Hallo")).unwrap();
    let out = tmp.path().join("out");
    let mut req = PackageRequest::new(&clip, &out);
    req.subtitles = vec![
        marquee_packager::SubtitleInput {
            language: "en".into(),
            path: en,
        },
        marquee_packager::SubtitleInput {
            language: "deu".into(),
            path: de,
        },
    ];
    let summary = package(&req, &mut |_| {}).expect("packages");

    let languages: Vec<&str> = summary
        .audio_tracks
        .iter()
        .map(|a| a.language.as_str())
        .collect();
    assert_eq!(languages, ["en", "fr"]);
    assert_eq!(summary.subtitles, ["en", "de"]);
    let (fr, segs) = read_back(&out.join("audio-2"), summary.segment_count);
    assert_eq!((fr.kind, segs[0][0].dts), (TrackKind::Audio, 0));
    let master = std::fs::read_to_string(out.join("master.m3u8")).unwrap();
    assert!(
        master.contains("NAME=\"French\",LANGUAGE=\"fr\",DEFAULT=NO"),
        "{master}"
    );
    assert!(master.contains("TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"German\",LANGUAGE=\"de\""));
    let mpd = std::fs::read_to_string(out.join("manifest.mpd")).unwrap();
    assert_eq!(mpd.matches("contentType=\"audio\"").count(), 2, "{mpd}");
    assert!(mpd.contains("<BaseURL>subtitles/de.vtt</BaseURL>"));
    assert_eq!(
        std::fs::read_to_string(out.join("subtitles/de.vtt")).unwrap(),
        vtt("Hallo"),
        "cues pass through untouched"
    );
    let sub_playlist = std::fs::read_to_string(out.join("subtitles/en.m3u8")).unwrap();
    assert!(
        sub_playlist.contains("\nen.vtt\n#EXT-X-ENDLIST"),
        "{sub_playlist}"
    );

    let thumbs = summary.thumbnails.expect("thumbnails");
    assert_eq!(
        (thumbs.interval_secs, thumbs.count, thumbs.sheets),
        (2, 4, 1)
    );
    let sheet = out.join("thumbnails/sprite-1.jpg");
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(&sheet)
        .output()
        .expect("ffprobe");
    assert_eq!(
        String::from_utf8_lossy(&probe.stdout).trim(),
        "1600,900",
        "a 10x10 sheet of 160x90"
    );
    let index = std::fs::read_to_string(out.join("thumbnails/thumbnails.vtt")).unwrap();
    let last = index.rsplit("\n\n").next().unwrap();
    assert!(
        last.starts_with("00:00:06.000 --> 00:00:07."),
        "ends with the video: {index}"
    );
    assert!(
        last.ends_with("\nsprite-1.jpg#xywh=480,0,160,90\n"),
        "{index}"
    );
    for file in &summary.files {
        assert!(
            out.join(file).is_file(),
            "{} listed but missing",
            file.display()
        );
    }
}

#[test]
fn a_subtitle_file_that_is_not_webvtt_is_refused_before_encoding() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let srt = tmp.path().join("en.srt");
    std::fs::write(&srt, "1\n00:00:01,000 --> 00:00:02,000\nHello\n").unwrap();
    let mut req = PackageRequest::new(tmp.path().join("missing.mp4"), tmp.path().join("out"));
    req.subtitles = vec![marquee_packager::SubtitleInput {
        language: "en".into(),
        path: srt,
    }];
    let err = package(&req, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("not WebVTT"), "{err}");
}
