//! Seasons and episodes in the replicated state. A series is a catalogue title of kind
//! `series`; each of its episodes has its own video, packaging job and package, exactly as a
//! film's title does, under `media/<episode id>/`.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::catalogue::facts::Facts;
use crate::catalogue::state::{self as catalogue, Markers, TitleKind, TitleState};
use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Season {
    pub series_id: String,
    pub number: u16,
    pub name: String,
    pub created_at: u64,
}

/// What an admin says about an episode (validated by the handler).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeMeta {
    pub name: String,
    pub synopsis: String,
    /// Its air date, languages and people (none for episodes made before they existed).
    #[serde(default)]
    pub facts: Facts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    pub id: String,
    pub series_id: String,
    pub season: u16,
    pub number: u16,
    pub meta: EpisodeMeta,
    pub state: TitleState,
    /// The packaged video's length: the episode's runtime.
    pub duration_secs: Option<f64>,
    pub job_id: Option<String>,
    /// The live package's folder under `media/<episode id>/` (its job id).
    pub package_dir: Option<String>,
    #[serde(default)]
    pub markers: Markers,
    pub created_at: u64,
}

impl Episode {
    /// Where the live package starts, e.g. `/media/<id>/<job id>`, without a trailing slash.
    pub fn package_path(&self) -> String {
        match &self.package_dir {
            Some(dir) => format!("/media/{}/{dir}", self.id),
            None => format!("/media/{}", self.id),
        }
    }
}

/// Series id ‖ 0 ‖ season number (big-endian u16) → season.
const SEASONS: Table<Season> = Table::new("seasons");
/// Episode id → episode.
const EPISODES: Table<Episode> = Table::new("episodes");
/// Series id ‖ 0 ‖ season (u16 BE) ‖ episode number (u16 BE) → episode id: a series'
/// episodes in viewing order.
const EPISODES_IN_ORDER: Table<String> = Table::new("episodes_in_order");

fn season_key(series_id: &str, season: u16) -> Vec<u8> {
    key::join(&[series_id.as_bytes(), &season.to_be_bytes()])
}

fn episode_key(series_id: &str, season: u16, number: u16) -> Vec<u8> {
    let mut k = season_key(series_id, season);
    k.extend_from_slice(&number.to_be_bytes());
    k
}

/// A change to seasons and episodes, ids and timestamps decided by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    CreateSeason {
        series_id: String,
        number: u16,
        name: String,
        now: u64,
    },
    CreateEpisode {
        id: String,
        series_id: String,
        season: u16,
        number: u16,
        meta: EpisodeMeta,
        now: u64,
    },
    /// Changes the fields given, as of this point in the log.
    EditEpisode {
        id: String,
        name: Option<String>,
        synopsis: Option<String>,
        /// Replaces the facts as a whole.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        facts: Option<Facts>,
    },
    SetEpisodeMarkers {
        id: String,
        markers: Markers,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Applied {
    Season(Season),
    Episode(Box<Episode>),
}

/// Why a command was refused; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("no such series")]
    SeriesNotFound,
    #[error("this title is a film; only a series has seasons and episodes")]
    NotASeries,
    #[error("season {0} already exists")]
    SeasonExists(u16),
    #[error("season {0} does not exist; create it first")]
    SeasonNotFound(u16),
    #[error("season {season} already has an episode {number}")]
    EpisodeNumberTaken { season: u16, number: u16 },
    #[error("no such episode")]
    EpisodeNotFound,
    #[error("an episode with this id already exists")]
    EpisodeExists,
}

pub type Outcome = Result<Applied, Rejection>;

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::CreateSeason {
            series_id,
            number,
            name,
            now,
        } => {
            if let Err(r) = a_series(tx, series_id)? {
                return Ok(Err(r));
            }
            let k = season_key(series_id, *number);
            if SEASONS.contains(tx, &k)? {
                return Ok(Err(Rejection::SeasonExists(*number)));
            }
            let season = Season {
                series_id: series_id.clone(),
                number: *number,
                name: name.clone(),
                created_at: *now,
            };
            SEASONS.put(tx, &k, &season)?;
            Ok(Ok(Applied::Season(season)))
        }
        Command::CreateEpisode {
            id,
            series_id,
            season,
            number,
            meta,
            now,
        } => {
            if let Err(r) = a_series(tx, series_id)? {
                return Ok(Err(r));
            }
            if !SEASONS.contains(tx, &season_key(series_id, *season))? {
                return Ok(Err(Rejection::SeasonNotFound(*season)));
            }
            let order = episode_key(series_id, *season, *number);
            if EPISODES_IN_ORDER.contains(tx, &order)? {
                return Ok(Err(Rejection::EpisodeNumberTaken {
                    season: *season,
                    number: *number,
                }));
            }
            if EPISODES.contains(tx, id.as_bytes())? {
                return Ok(Err(Rejection::EpisodeExists));
            }
            let episode = Episode {
                id: id.clone(),
                series_id: series_id.clone(),
                season: *season,
                number: *number,
                meta: meta.clone(),
                state: TitleState::AwaitingVideo,
                duration_secs: None,
                job_id: None,
                package_dir: None,
                markers: Markers::default(),
                created_at: *now,
            };
            store(tx, &episode)?;
            EPISODES_IN_ORDER.put(tx, &order, id)?;
            Ok(Ok(Applied::Episode(Box::new(episode))))
        }
        Command::EditEpisode {
            id,
            name,
            synopsis,
            facts,
        } => edit(tx, id, |e| {
            if let Some(name) = name {
                e.meta.name.clone_from(name);
            }
            if let Some(synopsis) = synopsis {
                e.meta.synopsis.clone_from(synopsis);
            }
            if let Some(facts) = facts {
                e.meta.facts.clone_from(facts);
            }
        }),
        Command::SetEpisodeMarkers { id, markers } => edit(tx, id, |e| e.markers = *markers),
    }
}

fn edit(
    tx: &WriteTransaction,
    id: &str,
    change: impl FnOnce(&mut Episode),
) -> Result<Outcome, StoreError> {
    let Some(mut episode) = EPISODES.get(tx, id.as_bytes())? else {
        return Ok(Err(Rejection::EpisodeNotFound));
    };
    change(&mut episode);
    store(tx, &episode)?;
    Ok(Ok(Applied::Episode(Box::new(episode))))
}

/// Writes a changed episode; search hears of its series through its feed.
fn store(tx: &WriteTransaction, episode: &Episode) -> Result<(), StoreError> {
    EPISODES.put(tx, episode.id.as_bytes(), episode)?;
    crate::search::feed::touched(tx, &episode.series_id)
}

fn a_series(tx: &impl Reads, id: &str) -> Result<Result<(), Rejection>, StoreError> {
    Ok(match catalogue::title(tx, id)? {
        None => Err(Rejection::SeriesNotFound),
        Some(t) if t.meta.kind != TitleKind::Series => Err(Rejection::NotASeries),
        Some(_) => Ok(()),
    })
}

/// For the jobs domain: a video for episode `id` was queued as `job_id`; whether `id` is an
/// episode. A ready episode keeps playing its current package while the new one is made.
pub(crate) fn video_queued(
    tx: &WriteTransaction,
    id: &str,
    job_id: &str,
) -> Result<bool, StoreError> {
    let Some(mut episode) = EPISODES.get(tx, id.as_bytes())? else {
        return Ok(false);
    };
    if episode.state != TitleState::Ready {
        episode.state = TitleState::Processing;
    }
    episode.job_id = Some(job_id.to_owned());
    store(tx, &episode)?;
    Ok(true)
}

/// For the jobs domain: episode `id`'s job `job_id` ended with a package (duration, folder) or
/// an error. Only the latest job changes it. The first ready episode makes its series ready:
/// a series is shown once it has something to play.
pub(crate) fn job_finished(
    tx: &WriteTransaction,
    id: &str,
    job_id: &str,
    result: Result<(f64, Option<String>), ()>,
) -> Result<(), StoreError> {
    let Some(mut episode) = EPISODES.get(tx, id.as_bytes())? else {
        return Ok(());
    };
    if episode.job_id.as_deref() != Some(job_id) {
        return Ok(());
    }
    match result {
        Ok((duration, package_dir)) => {
            if episode.state != TitleState::Ready {
                crate::notifications::state::episode_released(tx, &episode.id)?;
            }
            episode.state = TitleState::Ready;
            episode.duration_secs = Some(duration);
            episode.package_dir = package_dir;
            catalogue::series_playable(tx, &episode.series_id)?;
        }
        Err(()) if episode.state != TitleState::Ready => episode.state = TitleState::Failed,
        Err(()) => return Ok(()),
    }
    store(tx, &episode)
}

pub fn episode(tx: &impl Reads, id: &str) -> Result<Option<Episode>, StoreError> {
    EPISODES.get(tx, id.as_bytes())
}

/// A series' seasons in order.
pub fn seasons(tx: &impl Reads, series_id: &str) -> Result<Vec<Season>, StoreError> {
    let prefix = key::join(&[series_id.as_bytes(), b""]);
    let rows = SEASONS.prefix(tx, &prefix, false, usize::MAX)?;
    Ok(rows.into_iter().map(|(_, s)| s).collect())
}

/// A series' episodes in viewing order (season, then number); `all` includes those not ready.
pub fn episodes(tx: &impl Reads, series_id: &str, all: bool) -> Result<Vec<Episode>, StoreError> {
    let prefix = key::join(&[series_id.as_bytes(), b""]);
    let mut out = Vec::new();
    for (_, id) in EPISODES_IN_ORDER.prefix(tx, &prefix, false, usize::MAX)? {
        if let Some(e) = EPISODES.get(tx, id.as_bytes())?
            && (all || e.state == TitleState::Ready)
        {
            out.push(e);
        }
    }
    Ok(out)
}

/// The ready episode after `current` in viewing order (across seasons), if any.
pub fn next_episode(tx: &impl Reads, current: &Episode) -> Result<Option<Episode>, StoreError> {
    // Keys are all the same length, so this key ‖ 0 is the least key after it.
    let mut start = episode_key(&current.series_id, current.season, current.number);
    start.push(0);
    let end = key::prefix_end(&key::join(&[current.series_id.as_bytes(), b""]));
    for (_, id) in EPISODES_IN_ORDER.range(tx, &start, end.as_deref(), false, usize::MAX)? {
        if let Some(e) = EPISODES.get(tx, id.as_bytes())?
            && e.state == TitleState::Ready
        {
            return Ok(Some(e));
        }
    }
    Ok(None)
}
