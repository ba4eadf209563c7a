//! `marquee-packager INPUT OUTPUT_DIR [--segment-seconds 2] [--ladder 720p,480p,360p]
//! [--subtitles en=en.vtt]...`

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use marquee_packager::{PackageRequest, PackageSummary, SubtitleInput, package, parse_ladder};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Package a video file for adaptive streaming: an H.264 ladder and AAC audio encoded by
/// ffmpeg, cut into CMAF segments by Marquee, with an HLS master playlist (master.m3u8) and a
/// DASH manifest (manifest.mpd) over the same segments. Needs ffmpeg and ffprobe on PATH.
#[derive(Parser, Debug)]
#[command(name = "marquee-packager", version, after_help = AFTER_HELP)]
struct Cli {
    /// The source video (any container/codec ffmpeg reads).
    input: PathBuf,
    /// Where to write the package (created if absent; existing files are overwritten).
    output_dir: PathBuf,
    /// Segment and keyframe interval in seconds (1..=30).
    #[arg(long, default_value_t = 2, env = "MARQUEE_PACKAGER_SEGMENT_SECONDS")]
    segment_seconds: u32,
    /// Rungs to encode, highest first, each HEIGHTp with an optional =KBPS, e.g.
    /// `720p,480p=1200,360p`. Rungs taller than the source are skipped. Default: 720p=3000,
    /// 480p=1400, 360p=800 capped at the source's height (smaller sources get lower rungs).
    #[arg(long, env = "MARQUEE_PACKAGER_LADDER")]
    ladder: Option<String>,
    /// A WebVTT subtitle file and its language, `LANG=FILE` (e.g. `en=film.en.vtt`); repeat
    /// for each language.
    #[arg(long = "subtitles", value_name = "LANG=FILE", value_parser = parse_subtitles)]
    subtitles: Vec<SubtitleInput>,
    /// No progress bar (for logs and CI).
    #[arg(long, env = "MARQUEE_PACKAGER_QUIET")]
    quiet: bool,
}

const AFTER_HELP: &str = "Output layout:
  master.m3u8, manifest.mpd, package.json
  video/<rung>/{init.mp4, seg-<n>.m4s, playlist.m3u8}
  audio/{init.mp4, seg-<n>.m4s, playlist.m3u8}     the first audio track; audio-2/, … the others
  subtitles/<lang>.{vtt, m3u8}                       one per --subtitles
  thumbnails/{sprite-<n>.jpg, thumbnails.vtt}        trick-play sprites and their WebVTT index

Every audio stream of the source becomes a track, named by its language tag.

Example:
  marquee-packager film.mov out/film --ladder 720p,480p,360p --subtitles en=film.en.vtt";

fn parse_subtitles(arg: &str) -> Result<SubtitleInput, String> {
    let (language, path) = arg
        .split_once('=')
        .filter(|(l, p)| !l.is_empty() && !p.is_empty())
        .ok_or("expected LANG=FILE, e.g. en=film.en.vtt")?;
    Ok(SubtitleInput {
        language: language.to_owned(),
        path: path.into(),
    })
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber_init();
    let cli = Cli::parse();
    let ladder = cli.ladder.as_deref().map(parse_ladder).transpose()?;
    let req = PackageRequest {
        input: cli.input.clone(),
        output_dir: cli.output_dir.clone(),
        segment_seconds: cli.segment_seconds,
        ladder,
        subtitles: cli.subtitles.clone(),
    };
    let bar = if cli.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(1000)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<11} [{bar:40}] {percent:>3}% {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let started = Instant::now();
    let result = package(&req, &mut |p| {
        bar.set_message(p.stage.as_str());
        bar.set_position((p.overall() * 1000.0) as u64);
    });
    bar.finish_and_clear();
    let summary = result.with_context(|| format!("packaging {}", cli.input.display()))?;
    print_summary(&summary, &cli.output_dir, started.elapsed());
    Ok(())
}

fn tracing_subscriber_init() {
    // Warnings only unless RUST_LOG says otherwise: the progress bar is the main feedback.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn print_summary(s: &PackageSummary, out: &std::path::Path, took: Duration) {
    println!(
        "{:<8} {:>11} {:>12} {:>12} {:>10}  codecs",
        "rung", "resolution", "target", "peak", "average"
    );
    for r in &s.rungs {
        println!(
            "{:<8} {:>11} {:>7} kb/s {:>7} kb/s {:>5} kb/s  {}",
            r.name,
            format!("{}x{}", r.width, r.height),
            r.target_kbps,
            r.bandwidth / 1000,
            r.average_bandwidth / 1000,
            r.codecs
        );
    }
    let a = &s.audio;
    println!(
        "{:<8} {:>11} {:>7} kb/s {:>7} kb/s {:>5} kb/s  {}{}",
        "audio",
        format!("{}ch {}Hz", a.channels, a.sample_rate),
        128,
        a.bandwidth / 1000,
        a.average_bandwidth / 1000,
        a.codecs,
        if a.silent {
            " (silence: the source has no audio)"
        } else {
            ""
        }
    );
    println!(
        "{:.2} s of video, {} segments of {} s per track, {} files in {} ({:.1} s)",
        s.duration_secs,
        s.segment_count,
        s.segment_seconds,
        s.files.len(),
        out.display(),
        took.as_secs_f64()
    );
}
