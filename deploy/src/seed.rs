//! Seeds the demo catalogue through origin's admin API: create each title that does not exist
//! yet, give it a poster, upload a generated clip, and wait until every packaging job is done.
//! Running it again finds everything in place and does nothing.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::api::{Api, ApiError, NewTitle, Title};
use crate::catalogue::DemoTitle;
use crate::poster;
use crate::state::StateDir;
use crate::video::{self, VideoError};

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

/// Seeds `titles`, generating clips of `clip_seconds` into the state's media cache.
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
    let mut report = SeedReport::default();
    let mut pending: Vec<(String, String)> = Vec::new();

    for demo in titles {
        let title = match existing.remove(demo.name) {
            Some(title) => title,
            None => {
                report.created += 1;
                api.create_title(&new_title(demo)).await?
            }
        };
        if title.poster_url.is_none() {
            api.put_poster(&title.id, poster::render(demo.name, demo.year))
                .await?;
        }
        match title.state.as_str() {
            "ready" => report.already_ready += 1,
            "processing" => pending.push((title.id, demo.name.to_string())),
            _ => {
                upload(api, state, demo, &title.id, clip_seconds).await?;
                report.uploaded += 1;
                pending.push((title.id, demo.name.to_string()));
            }
        }
    }
    wait_for_jobs(api, pending).await?;
    Ok(report)
}

fn new_title(demo: &DemoTitle) -> NewTitle<'_> {
    NewTitle {
        name: demo.name,
        synopsis: demo.synopsis,
        year: demo.year,
        genres: demo.genres,
        maturity_rating: demo.maturity_rating,
        kind: demo.kind,
    }
}

async fn upload(
    api: &Api,
    state: &StateDir,
    demo: &DemoTitle,
    title_id: &str,
    clip_seconds: u32,
) -> Result<(), SeedError> {
    let spinner = ProgressBar::new_spinner().with_message(format!("generating {}", demo.name));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let clip = video::ensure_clip(
        &demo.video,
        clip_seconds,
        &state.media_cache_dir(),
        &demo.slug(),
    )
    .await;
    spinner.finish_and_clear();
    let clip = clip?;

    let size = std::fs::metadata(&clip).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(size)
        .with_style(bytes_style())
        .with_message(demo.name);
    let counter = bar.clone();
    api.put_video(title_id, &clip, move |n| counter.inc(n))
        .await?;
    bar.finish_and_clear();
    say(
        &bar,
        &format!("uploaded {} ({:.1} MB)", demo.name, size as f64 / 1e6),
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
