//! Seeds the demo catalogue through origin's admin API: create each title that does not exist
//! yet, give it a poster; give films a generated clip and series their seasons and episodes,
//! each with its clip (subtitles and intro/credits markers on the long ones); and wait until
//! every packaging job is done. Running it again finds everything in place and does nothing.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::api::{Api, ApiError, Markers, NewTitle, Title};
use crate::catalogue::{
    DEMO_SERIES, DemoEpisode, DemoTitle, EPISODE_HEIGHT, LONG_FILMS, LONG_SECONDS, VideoRecipe,
    long_clip_markers,
};
use crate::state::StateDir;
use crate::video::{self, VideoError};
use crate::{poster, subtitles};

/// Longest wait for all packaging jobs together.
const PACKAGING_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const POLL: Duration = Duration::from_millis(750);

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Video(#[from] VideoError),
    #[error("packaging {name:?} failed: {message}")]
    Packaging { name: String, message: String },
    #[error("packaging did not finish within {} min for: {}", PACKAGING_TIMEOUT.as_secs() / 60, names.join(", "))]
    Timeout { names: Vec<String> },
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub created: usize,
    pub uploaded: usize,
    pub already_ready: usize,
}

/// Seeds `titles`, generating clips of `clip_seconds` into the state's media cache (long films
/// and planned series episodes get [`LONG_SECONDS`]).
pub async fn seed(
    api: &Api,
    state: &StateDir,
    titles: &[DemoTitle],
    clip_seconds: u32,
) -> Result<SeedReport, SeedError> {
    let mut existing: HashMap<String, Title> = api
        .titles()
        .await?
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect();
    let mut seeding = Seeding {
        api,
        state,
        clip_seconds,
        report: SeedReport::default(),
        pending: Vec::new(),
    };
    for demo in titles {
        let title = match existing.remove(demo.name) {
            Some(title) => title,
            None => {
                seeding.report.created += 1;
                api.create_title(&new_title(demo)).await?
            }
        };
        // Worlds seeded before titles had facts get them now.
        if title.facts.get("release_date").is_none() {
            api.put_facts(&title.id, &demo.facts.to_json()).await?;
        }
        if title.poster_url.is_none() {
            api.put_poster(&title.id, poster::render(demo.name, demo.year))
                .await?;
        }
        if demo.kind == "series" {
            seeding.series(demo, &title.id).await?;
        } else {
            let long = LONG_FILMS.iter().find(|f| f.title == demo.name);
            let (seconds, subtitles) =
                long.map_or((clip_seconds, &[][..]), |f| (LONG_SECONDS, f.subtitles));
            let video = Video {
                target: format!("titles/{}", title.id),
                id: &title.id,
                name: demo.name.to_owned(),
                recipe: VideoRecipe {
                    dub_tone_hz: long
                        .filter(|f| f.dubbed)
                        .map(|_| demo.video.tone_hz * 3 / 2),
                    ..demo.video
                },
                shape: (seconds, 720),
                slug: demo.slug(),
                subtitles,
            };
            seeding.video(&video, &title.state).await?;
        }
    }
    wait_for_jobs(api, seeding.pending).await?;
    Ok(seeding.report)
}

/// One film's or episode's video to put in place.
struct Video<'a> {
    /// `titles/<id>` or `episodes/<id>`: where its video, job and markers live in the API.
    target: String,
    id: &'a str,
    name: String,
    recipe: VideoRecipe,
    /// (seconds, height) of the generated clip.
    shape: (u32, u32),
    slug: String,
    subtitles: &'a [&'a str],
}

struct Seeding<'a> {
    api: &'a Api,
    state: &'a StateDir,
    clip_seconds: u32,
    report: SeedReport,
    /// (job target, name) of videos being packaged.
    pending: Vec<(String, String)>,
}

impl Seeding<'_> {
    /// A film's or episode's video in `state`: nothing to do once ready, wait while processing,
    /// else its subtitles and markers first (so the first package has them), then the clip.
    async fn video(&mut self, v: &Video<'_>, state: &str) -> Result<(), SeedError> {
        match state {
            "ready" => self.report.already_ready += 1,
            "processing" => self.pending.push((v.target.clone(), v.name.clone())),
            _ => {
                let (seconds, _) = v.shape;
                for lang in v.subtitles {
                    let vtt = subtitles::webvtt(&v.name, lang, seconds);
                    self.api.put_subtitles(v.id, lang, vtt).await?;
                }
                if seconds >= LONG_SECONDS {
                    let (intro_start_secs, intro_end_secs, credits_start_secs) =
                        long_clip_markers(seconds);
                    let markers = Markers {
                        intro_start_secs,
                        intro_end_secs,
                        credits_start_secs,
                    };
                    self.api.put_markers(&v.target, &markers).await?;
                }
                upload(self.api, self.state, v).await?;
                self.report.uploaded += 1;
                self.pending.push((v.target.clone(), v.name.clone()));
            }
        }
        Ok(())
    }

    /// A series' seasons and episodes: the planned ones (long clips at 360 lines), or one short
    /// pilot for a series without a plan.
    async fn series(&mut self, demo: &DemoTitle, series_id: &str) -> Result<(), SeedError> {
        let plan = DEMO_SERIES.iter().find(|s| s.title == demo.name);
        let pilot = [DemoEpisode {
            name: "Pilot",
            synopsis: "Where it all begins.",
        }];
        let pilot_season: [&[DemoEpisode]; 1] = [&pilot];
        let seasons: &[&[DemoEpisode]] = plan.map_or(&pilot_season[..], |p| p.seasons);
        let subtitles = plan.map_or(&[][..], |p| p.subtitles);
        let shape = if plan.is_some() {
            (LONG_SECONDS, EPISODE_HEIGHT)
        } else {
            (self.clip_seconds, 720)
        };
        let have = self.api.seasons(series_id).await?;
        let mut k = 0;
        for (s, episodes) in seasons.iter().enumerate() {
            let season = s as u16 + 1;
            let existing = have.iter().find(|x| x.number == season);
            if existing.is_none() {
                self.api.create_season(series_id, season).await?;
            }
            for (e, planned) in episodes.iter().enumerate() {
                let number = e as u16 + 1;
                let found = existing.and_then(|x| x.episodes.iter().find(|ep| ep.number == number));
                let episode = match found {
                    Some(ep) => ep.clone(),
                    None => {
                        let made = (planned.name, planned.synopsis);
                        self.api
                            .create_episode(series_id, season, number, made)
                            .await?
                    }
                };
                k += 1;
                let video = Video {
                    target: format!("episodes/{}", episode.id),
                    id: &episode.id,
                    name: format!("{} S{season}:E{number}", demo.name),
                    // Each episode sounds a little different.
                    recipe: VideoRecipe {
                        tone_hz: demo.video.tone_hz + 40 * k,
                        pattern: plan.map_or(demo.video.pattern, |p| p.pattern),
                        dub_tone_hz: None,
                    },
                    shape,
                    slug: format!("{}-s{season}e{number}", demo.slug()),
                    subtitles,
                };
                self.video(&video, &episode.state).await?;
            }
        }
        Ok(())
    }
}

fn new_title(demo: &DemoTitle) -> NewTitle<'_> {
    NewTitle {
        name: demo.name,
        synopsis: demo.synopsis,
        year: demo.year,
        genres: demo.genres,
        maturity_rating: demo.maturity_rating,
        kind: demo.kind,
        facts: demo.facts.to_json(),
    }
}

async fn upload(api: &Api, state: &StateDir, v: &Video<'_>) -> Result<(), SeedError> {
    let spinner = ProgressBar::new_spinner().with_message(format!("generating {}", v.name));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let clip = video::ensure_clip(&v.recipe, v.shape, &state.media_cache_dir(), &v.slug).await;
    spinner.finish_and_clear();
    let clip = clip?;

    let size = std::fs::metadata(&clip).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(size)
        .with_style(bytes_style())
        .with_message(v.name.clone());
    let counter = bar.clone();
    api.put_video(&v.target, &clip, move |n| counter.inc(n))
        .await?;
    bar.finish_and_clear();
    say(
        &bar,
        &format!("uploaded {} ({:.1} MB)", v.name, size as f64 / 1e6),
    );
    Ok(())
}

async fn wait_for_jobs(api: &Api, mut pending: Vec<(String, String)>) -> Result<(), SeedError> {
    if pending.is_empty() {
        return Ok(());
    }
    let bar = ProgressBar::new(pending.len() as u64).with_style(count_style());
    bar.set_message("packaging");
    bar.enable_steady_tick(Duration::from_millis(250));
    let deadline = tokio::time::Instant::now() + PACKAGING_TIMEOUT;
    while !pending.is_empty() {
        if tokio::time::Instant::now() > deadline {
            bar.abandon();
            return Err(SeedError::Timeout {
                names: pending.into_iter().map(|(_, name)| name).collect(),
            });
        }
        let mut still = Vec::with_capacity(pending.len());
        for (id, name) in pending {
            let job = api.job(&id).await?;
            match job.state.as_str() {
                "succeeded" => {
                    bar.inc(1);
                    say(&bar, &format!("packaged {name}"));
                }
                "failed" => {
                    bar.abandon();
                    return Err(SeedError::Packaging {
                        name,
                        message: job
                            .error
                            .unwrap_or_else(|| format!("failed at {}", job.stage)),
                    });
                }
                _ => {
                    bar.set_message(format!(
                        "packaging {name}: {} {:.0}%",
                        job.stage,
                        job.progress * 100.0
                    ));
                    still.push((id, name));
                }
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(POLL).await;
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// Prints a progress line above the bar on a terminal, or as a plain line otherwise (CI logs).
fn say(bar: &ProgressBar, line: &str) {
    if bar.is_hidden() || bar.is_finished() {
        println!("  {line}");
    } else {
        bar.println(format!("  {line}"));
    }
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template("  uploading {msg} [{bar:30}] {bytes}/{total_bytes}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn count_style() -> ProgressStyle {
    ProgressStyle::with_template("  {spinner} [{bar:30}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}
