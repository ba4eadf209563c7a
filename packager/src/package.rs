//! The packaging pipeline: probe → encode → segment → write manifests.

use crate::dash;
use crate::encode::{self, EncodeOutputs};
use crate::error::PackageError;
use crate::hls;
use crate::ladder::{self, Rung};
use crate::manifest::{Presentation, Rendition, Subtitles, segment_name};
use crate::mp4::{self, TrackKind};
use crate::output;
use crate::probe;
use crate::segment::{self, SegmentTiming};
use crate::source::{self, SourceTrack};
use crate::thumbnails;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What to package and how.
#[derive(Debug, Clone)]
pub struct PackageRequest {
    pub input: PathBuf,
    pub output_dir: PathBuf,
    /// Target segment (and GOP) length; 2 by default.
    pub segment_seconds: u32,
    /// `None` picks the default ladder for the source (see [`crate::ladder`]).
    pub ladder: Option<Vec<Rung>>,
    /// WebVTT files to package as subtitle tracks, one per language.
    pub subtitles: Vec<SubtitleInput>,
}

/// A WebVTT file and the language of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct SubtitleInput {
    /// A language tag (`en`, `fra`, …); normalised like audio tracks' ([`crate::language`]).
    pub language: String,
    pub path: PathBuf,
}

impl PackageRequest {
    pub fn new(input: impl Into<PathBuf>, output_dir: impl Into<PathBuf>) -> Self {
        Self {
            input: input.into(),
            output_dir: output_dir.into(),
            segment_seconds: 2,
            ladder: None,
            subtitles: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Probing,
    Encoding,
    Segmenting,
    Writing,
}

impl Stage {
    /// The stage's name as shown to people and stored in job progress (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Probing => "probing",
            Self::Encoding => "encoding",
            Self::Segmenting => "segmenting",
            Self::Writing => "writing",
        }
    }
}

/// A progress report: `fraction` (0..=1) is within `stage`; [`Progress::overall`] spans the job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub stage: Stage,
    pub fraction: f32,
}

impl Progress {
    /// Progress of the whole job, weighting encoding (the slow part) at 90 %.
    pub fn overall(&self) -> f32 {
        let (from, to) = match self.stage {
            Stage::Probing => (0.0, 0.02),
            Stage::Encoding => (0.02, 0.92),
            Stage::Segmenting => (0.92, 0.99),
            Stage::Writing => (0.99, 1.0),
        };
        from + (to - from) * self.fraction.clamp(0.0, 1.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RungSummary {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Peak segment bitrate, bit/s (what the manifests declare).
    pub bandwidth: u64,
    pub average_bandwidth: u64,
    /// The encoder's target, kbit/s.
    pub target_kbps: u32,
    pub codecs: String,
    pub frame_rate: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AudioSummary {
    pub codecs: String,
    pub bandwidth: u64,
    pub average_bandwidth: u64,
    pub sample_rate: u32,
    pub channels: u32,
    /// True when the source had no audio and silence was packaged.
    pub silent: bool,
    /// BCP 47 language tag, `und` when the source named none.
    #[serde(default)]
    pub language: String,
}

/// The trick-play thumbnails of a package (`thumbnails/thumbnails.vtt` indexes them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThumbnailSummary {
    pub interval_secs: u32,
    pub width: u32,
    pub height: u32,
    pub count: u32,
    pub sheets: u32,
}

/// The result of a packaging run; also written as `package.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageSummary {
    pub duration_secs: f64,
    pub segment_seconds: u32,
    /// Segments per track (every rung and the audio have the same count).
    pub segment_count: usize,
    pub rungs: Vec<RungSummary>,
    /// The default audio track (the first of `audio_tracks`).
    pub audio: AudioSummary,
    #[serde(default)]
    pub audio_tracks: Vec<AudioSummary>,
    /// Subtitle languages, as packaged.
    #[serde(default)]
    pub subtitles: Vec<String>,
    pub thumbnails: Option<ThumbnailSummary>,
    /// Every file written, relative to the output folder, `/`-separated.
    pub files: Vec<PathBuf>,
}

/// Package `req.input` into `req.output_dir`. Blocking: run it on a worker thread.
pub fn package(
    req: &PackageRequest,
    progress: &mut dyn FnMut(Progress),
) -> Result<PackageSummary, PackageError> {
    if !(1..=30).contains(&req.segment_seconds) {
        return Err(PackageError::InvalidRequest(format!(
            "segment length {} s is outside 1..=30",
            req.segment_seconds
        )));
    }
    progress(Progress {
        stage: Stage::Probing,
        fraction: 0.0,
    });
    probe::check_tool("ffmpeg")?;
    let subtitles = subtitle_tracks(&req.subtitles)?;
    // Refuse a folder we must not write into before spending minutes encoding.
    let earlier_files = output::check(&req.output_dir)?;
    let src = probe::probe(&req.input)?;
    let rungs = ladder::choose(src.height, req.ladder.as_deref())?;
    let thumbs = thumbnails::Plan::new(src.duration_secs, src.display_aspect);
    tracing::info!(input = %req.input.display(), height = src.height, duration = src.duration_secs,
        rungs = ?rungs.iter().map(|r| &r.name).collect::<Vec<_>>(), "packaging");
    progress(Progress {
        stage: Stage::Probing,
        fraction: 1.0,
    });

    let scratch = output::scratch_dir(&req.output_dir)?;
    let outputs = EncodeOutputs::in_dir(scratch.path(), rungs.len(), src.audio.len());
    if let Some(dir) = outputs.thumbnails.parent() {
        std::fs::create_dir_all(dir).map_err(PackageError::io(dir))?;
    }
    let args = encode::ffmpeg_args(
        &req.input,
        &src,
        &rungs,
        req.segment_seconds,
        &thumbs,
        &outputs,
    );
    tracing::debug!(?args, "running ffmpeg");
    progress(Progress {
        stage: Stage::Encoding,
        fraction: 0.0,
    });
    let encode_started = std::time::Instant::now();
    encode::run_ffmpeg(&args, src.duration_secs, &mut |f| {
        progress(Progress {
            stage: Stage::Encoding,
            fraction: f,
        })
    })?;

    metrics::histogram!("marquee_packager_encode_seconds")
        .record(encode_started.elapsed().as_secs_f64());
    // The encode worked: now the earlier package in the folder can go.
    output::remove_previous(&req.output_dir, &earlier_files)?;
    let mut files = Vec::new();
    let languages: Vec<String> = src.audio.iter().map(|a| a.language.clone()).collect();
    let mut presentation = segment_all(
        req,
        &rungs,
        &outputs,
        (src.frame_rate, &languages),
        &mut files,
        progress,
    )?;
    presentation.subtitles = write_subtitles(&req.output_dir, &subtitles, &mut files)?;
    let duration = presentation.duration_secs();
    write_thumbnails(&req.output_dir, &outputs, (&thumbs, duration), &mut files)?;

    progress(Progress {
        stage: Stage::Writing,
        fraction: 0.0,
    });
    write_text(
        &req.output_dir,
        "master.m3u8",
        &hls::master_playlist(&presentation),
        &mut files,
    )?;
    write_text(
        &req.output_dir,
        "manifest.mpd",
        &dash::mpd(&presentation),
        &mut files,
    )?;
    for s in &presentation.subtitles {
        write_text(
            &req.output_dir,
            &hls::subtitle_playlist_path(s),
            &hls::subtitle_playlist(s, presentation.duration_secs()),
            &mut files,
        )?;
    }
    for r in presentation.video.iter().chain(&presentation.audio) {
        write_text(
            &req.output_dir,
            &format!("{}/playlist.m3u8", r.dir),
            &hls::media_playlist(r),
            &mut files,
        )?;
    }
    files.push("package.json".into());
    let summary = summarise(
        &presentation,
        &rungs,
        req.segment_seconds,
        (!src.has_audio(), &thumbs),
        files,
    );
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    let path = req.output_dir.join("package.json");
    std::fs::write(&path, json + "\n").map_err(PackageError::io(path))?;
    progress(Progress {
        stage: Stage::Writing,
        fraction: 1.0,
    });
    metrics::counter!("marquee_packager_packages_total").increment(1);
    metrics::counter!("marquee_packager_media_seconds_total")
        .increment(summary.duration_secs.round() as u64);
    Ok(summary)
}

/// Each subtitle file checked to be WebVTT, with its language normalised; one per language.
fn subtitle_tracks(inputs: &[SubtitleInput]) -> Result<Vec<(String, PathBuf)>, PackageError> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for input in inputs {
        let text = std::fs::read(&input.path).map_err(|source| PackageError::InputMissing {
            path: input.path.clone(),
            source,
        })?;
        if let Err(detail) = crate::webvtt::check(&text) {
            return Err(PackageError::InvalidRequest(format!(
                "{} is not WebVTT: {detail}",
                input.path.display()
            )));
        }
        let language = crate::language::normalise(&input.language);
        if out.iter().any(|(l, _)| *l == language) {
            return Err(PackageError::InvalidRequest(format!(
                "two subtitle files for {language}"
            )));
        }
        out.push((language, input.path.clone()));
    }
    Ok(out)
}

fn write_subtitles(
    out: &Path,
    tracks: &[(String, PathBuf)],
    files: &mut Vec<PathBuf>,
) -> Result<Vec<Subtitles>, PackageError> {
    let mut written = Vec::new();
    for (language, path) in tracks {
        let bytes = std::fs::read(path).map_err(PackageError::io(path))?;
        let file = format!("subtitles/{language}.vtt");
        write_file(out, &file, &bytes, files)?;
        written.push(Subtitles {
            language: language.clone(),
            file,
        });
    }
    Ok(written)
}

/// Moves ffmpeg's sprite sheets into the package and writes their WebVTT index.
fn write_thumbnails(
    out: &Path,
    outputs: &EncodeOutputs,
    (plan, duration_secs): (&thumbnails::Plan, f64),
    files: &mut Vec<PathBuf>,
) -> Result<(), PackageError> {
    let from = outputs.thumbnails.parent().unwrap_or(out);
    for k in 0..plan.sheets() as usize {
        let name = thumbnails::sheet_name(k);
        let bytes = std::fs::read(from.join(&name)).map_err(PackageError::io(from.join(&name)))?;
        write_file(out, &format!("{}/{name}", thumbnails::DIR), &bytes, files)?;
    }
    let index = plan.index(duration_secs);
    write_text(
        out,
        &format!("{}/{}", thumbnails::DIR, thumbnails::INDEX),
        &index,
        files,
    )
}

fn segment_all(
    req: &PackageRequest,
    rungs: &[Rung],
    outputs: &EncodeOutputs,
    (frame_rate, languages): ((u32, u32), &[String]),
    files: &mut Vec<PathBuf>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Presentation, PackageError> {
    let steps = (rungs.len() + outputs.audio.len()) as f32;
    let mut video = Vec::new();
    let mut boundaries: Vec<f64> = Vec::new();
    for (i, rung) in rungs.iter().enumerate() {
        progress(Progress {
            stage: Stage::Segmenting,
            fraction: i as f32 / steps,
        });
        let mut track = source::read_track(&outputs.video[i])?;
        expect_kind(&track, TrackKind::Video)?;
        segment::normalise(
            TrackKind::Video,
            &mut track.samples,
            track.info.edit_media_time,
        );
        let ranges = segment::cut_video(&track.samples, track.info.timescale, req.segment_seconds);
        let starts = start_secs(&track, &ranges);
        if let Some(reference) = video.first() {
            check_aligned(&rung.name, reference, &boundaries, &starts, frame_rate)?;
        } else {
            boundaries = starts;
        }
        let dir = format!("video/{}", rung.name);
        let segments = write_track(&req.output_dir, &dir, &track, &ranges, files)?;
        let info = &track.info;
        video.push(Rendition {
            id: rung.name.clone(),
            dir,
            kind: TrackKind::Video,
            codec: info.codec.clone(),
            timescale: info.timescale,
            frame_rate: Some(frame_rate),
            language: None,
            segments,
        });
    }
    let mut audio = Vec::new();
    for (i, path) in outputs.audio.iter().enumerate() {
        progress(Progress {
            stage: Stage::Segmenting,
            fraction: (rungs.len() + i) as f32 / steps,
        });
        let mut track = source::read_track(path)?;
        expect_kind(&track, TrackKind::Audio)?;
        tracing::debug!(edit = ?track.info.edit_media_time, samples = track.samples.len(), "audio track");
        segment::normalise(
            TrackKind::Audio,
            &mut track.samples,
            track.info.edit_media_time,
        );
        let ranges = segment::cut_at_times(&track.samples, track.info.timescale, &boundaries);
        // The first track keeps the folder of packages from before several tracks.
        let dir = if i == 0 {
            "audio".to_owned()
        } else {
            format!("audio-{}", i + 1)
        };
        let segments = write_track(&req.output_dir, &dir, &track, &ranges, files)?;
        audio.push(Rendition {
            id: dir.clone(),
            dir,
            kind: TrackKind::Audio,
            codec: track.info.codec.clone(),
            timescale: track.info.timescale,
            frame_rate: None,
            language: Some(
                languages
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| crate::language::UNDETERMINED.into()),
            ),
            segments,
        });
    }
    progress(Progress {
        stage: Stage::Segmenting,
        fraction: 1.0,
    });
    Ok(Presentation {
        video,
        audio,
        subtitles: Vec::new(),
    })
}

fn expect_kind(track: &SourceTrack, kind: TrackKind) -> Result<(), PackageError> {
    if track.info.kind == kind {
        return Ok(());
    }
    Err(PackageError::Mp4 {
        file: track.path.clone(),
        source: mp4::Mp4Error::Unsupported(format!("expected a {kind:?} track")),
    })
}

fn start_secs(track: &SourceTrack, ranges: &[Range<usize>]) -> Vec<f64> {
    let ts = f64::from(track.info.timescale);
    segment::timings(&track.samples, ranges)
        .iter()
        .map(|t| t.start as f64 / ts)
        .collect()
}

/// Every rung must start its segments at the same times (within half a frame), or players
/// switching rungs would skip or repeat video.
fn check_aligned(
    rung: &str,
    reference: &Rendition,
    expected: &[f64],
    got: &[f64],
    (num, den): (u32, u32),
) -> Result<(), PackageError> {
    let half_frame = 0.5 * f64::from(den) / f64::from(num);
    let mismatch = if expected.len() != got.len() {
        Some(format!(
            "{} segments instead of {}",
            got.len(),
            expected.len()
        ))
    } else {
        expected
            .iter()
            .zip(got)
            .position(|(a, b)| (a - b).abs() > half_frame)
            .map(|k| {
                format!(
                    "segment {} starts at {:.3} s instead of {:.3} s",
                    k + 1,
                    got[k],
                    expected[k]
                )
            })
    };
    match mismatch {
        None => Ok(()),
        Some(detail) => Err(PackageError::Misaligned {
            rung: rung.into(),
            reference: reference.id.clone(),
            detail,
        }),
    }
}

/// Write `dir/init.mp4` and `dir/seg-<n>.m4s`; returns the segments' timings with file sizes.
fn write_track(
    out: &Path,
    dir: &str,
    track: &SourceTrack,
    ranges: &[Range<usize>],
    files: &mut Vec<PathBuf>,
) -> Result<Vec<SegmentTiming>, PackageError> {
    let folder = out.join(dir);
    std::fs::create_dir_all(&folder).map_err(PackageError::io(&folder))?;
    let init = mp4::write_init(&track.moov_body).map_err(|source| PackageError::Mp4 {
        file: track.path.clone(),
        source,
    })?;
    write_file(out, &format!("{dir}/init.mp4"), &init, files)?;
    let mut timings = segment::timings(&track.samples, ranges);
    for (k, range) in ranges.iter().enumerate() {
        let samples = &track.samples[range.clone()];
        let data = track.sample_data(samples)?;
        let seg = mp4::write_media_segment(k as u32 + 1, track.info.track_id, samples, &data);
        timings[k].bytes = seg.len() as u64;
        write_file(out, &format!("{dir}/{}", segment_name(k)), &seg, files)?;
    }
    Ok(timings)
}

fn write_file(
    out: &Path,
    rel: &str,
    bytes: &[u8],
    files: &mut Vec<PathBuf>,
) -> Result<(), PackageError> {
    let path = out.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(PackageError::io(parent))?;
    }
    std::fs::write(&path, bytes).map_err(PackageError::io(path))?;
    files.push(rel.into());
    Ok(())
}

fn write_text(
    out: &Path,
    rel: &str,
    text: &str,
    files: &mut Vec<PathBuf>,
) -> Result<(), PackageError> {
    write_file(out, rel, text.as_bytes(), files)
}

fn summarise(
    p: &Presentation,
    rungs: &[Rung],
    segment_seconds: u32,
    (silent, thumbs): (bool, &thumbnails::Plan),
    files: Vec<PathBuf>,
) -> PackageSummary {
    let audio_tracks: Vec<AudioSummary> = p
        .audio
        .iter()
        .map(|a| AudioSummary {
            codecs: a.codec.codecs.clone(),
            bandwidth: a.peak_bandwidth(),
            average_bandwidth: a.average_bandwidth(),
            sample_rate: a.codec.sample_rate,
            channels: a.codec.channels,
            silent,
            language: a.language.clone().unwrap_or_default(),
        })
        .collect();
    PackageSummary {
        duration_secs: (p.duration_secs() * 1000.0).round() / 1000.0,
        segment_seconds,
        segment_count: p.video.first().map_or(0, |v| v.segments.len()),
        rungs: p
            .video
            .iter()
            .zip(rungs)
            .map(|(v, r)| RungSummary {
                name: v.id.clone(),
                width: v.codec.width,
                height: v.codec.height,
                bandwidth: v.peak_bandwidth(),
                average_bandwidth: v.average_bandwidth(),
                target_kbps: r.video_kbps,
                codecs: v.codec.codecs.clone(),
                frame_rate: v.frame_rate_f64().unwrap_or(0.0),
            })
            .collect(),
        audio: audio_tracks.first().cloned().unwrap_or_default(),
        audio_tracks,
        subtitles: p.subtitles.iter().map(|s| s.language.clone()).collect(),
        thumbnails: Some(ThumbnailSummary {
            interval_secs: thumbs.interval_secs,
            width: thumbs.width,
            height: thumbs.height,
            count: thumbs.count,
            sheets: thumbs.sheets(),
        }),
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_are_their_serde_names() {
        for stage in [
            Stage::Probing,
            Stage::Encoding,
            Stage::Segmenting,
            Stage::Writing,
        ] {
            let json = serde_json::to_string(&stage).unwrap();
            assert_eq!(json, format!("\"{}\"", stage.as_str()));
        }
    }
}
