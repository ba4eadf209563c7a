//! The catalogue in the replicated state: titles, their posters and their live package.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::facts::Facts;
use super::genres;
use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TitleKind {
    Film,
    Series,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TitleState {
    AwaitingVideo,
    Processing,
    Ready,
    Failed,
}

/// What an admin says about a title (validated by the handler).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleMeta {
    pub name: String,
    pub synopsis: String,
    pub year: u16,
    pub genres: Vec<String>,
    pub maturity_rating: String,
    pub kind: TitleKind,
    pub attribution: Option<String>,
    /// Languages, release date, cast and crew (none for titles made before they existed).
    #[serde(default)]
    pub facts: Facts,
}

/// Where the intro and the end credits are in a film's or an episode's video (seconds), set by
/// admins: the player offers "Skip intro" and, at the credits, the next episode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Markers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro_start_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro_end_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_start_secs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poster {
    pub content_type: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Title {
    pub id: String,
    pub meta: TitleMeta,
    pub state: TitleState,
    pub duration_secs: Option<f64>,
    pub poster: Option<Poster>,
    /// The latest packaging job.
    pub job_id: Option<String>,
    /// The live package's folder under `media/<title id>/` (its job id). Every package gets a
    /// folder of its own because edges keep segments as immutable: a re-packaged title must not
    /// reuse a URL. `None` on a ready title means a package from before folders existed, at the
    /// root of `media/<title id>/`.
    #[serde(default)]
    pub package_dir: Option<String>,
    #[serde(default)]
    pub markers: Markers,
    pub created_at: u64,
    /// When viewers may start watching (Unix seconds); until then the title is "coming soon":
    /// shown, not playable, and viewers may ask to be reminded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premieres_at: Option<u64>,
}

impl Title {
    /// Whether it is announced but not yet out at `now` (Unix seconds).
    pub fn coming_soon(&self, now: u64) -> bool {
        self.premieres_at.is_some_and(|at| at > now)
    }

    /// Where the live package starts, e.g. `/media/<id>/<job id>`, without a trailing slash.
    pub fn package_path(&self) -> String {
        match &self.package_dir {
            Some(dir) => format!("/media/{}/{dir}", self.id),
            None => format!("/media/{}", self.id),
        }
    }
}

/// Title id → title.
const TITLES: Table<Title> = Table::new("titles");
/// Newest first: `u64::MAX - created_at` (big-endian) ‖ 0 ‖ title id → ().
const TITLES_BY_NEWEST: Table<()> = Table::new("titles_by_newest");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    CreateTitle {
        id: String,
        meta: TitleMeta,
        now: u64,
    },
    SetPoster {
        title_id: String,
        content_type: String,
        sha256: String,
    },
    /// Changes the fields given (validated by the handler), as of this point in the log, so
    /// two admins editing different fields at once both keep their change.
    EditTitle {
        id: String,
        changes: TitleChanges,
    },
    SetTitleMarkers {
        id: String,
        markers: Markers,
    },
    /// Sets or clears when a title premieres; a ready title's release (and the reminders and
    /// notifications it fires) moves with it.
    SetPremiere {
        id: String,
        at: Option<u64>,
    },
}

/// Fields of a title to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synopsis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genres: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maturity_rating: Option<String>,
    /// An empty string removes the attribution (a JSON `null` could not say so: it reads back
    /// as "not given").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// Replaces the facts as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
}

impl TitleChanges {
    pub fn apply_to(&self, meta: &mut TitleMeta) {
        if let Some(name) = &self.name {
            meta.name.clone_from(name);
        }
        if let Some(synopsis) = &self.synopsis {
            meta.synopsis.clone_from(synopsis);
        }
        if let Some(year) = self.year {
            meta.year = year;
        }
        if let Some(genres) = &self.genres {
            meta.genres.clone_from(genres);
        }
        if let Some(rating) = &self.maturity_rating {
            meta.maturity_rating.clone_from(rating);
        }
        if let Some(a) = &self.attribution {
            meta.attribution = (!a.is_empty()).then(|| a.clone());
        }
        if let Some(facts) = &self.facts {
            meta.facts.clone_from(facts);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Applied {
    Title(Box<Title>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("a title with this id already exists")]
    TitleExists,
    #[error("no such title")]
    TitleNotFound,
}

pub type Outcome = Result<Applied, Rejection>;

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::CreateTitle { id, meta, now } => {
            if TITLES.contains(tx, id.as_bytes())? {
                return Ok(Err(Rejection::TitleExists));
            }
            let title = Title {
                id: id.clone(),
                meta: meta.clone(),
                state: TitleState::AwaitingVideo,
                duration_secs: None,
                package_dir: None,
                markers: Markers::default(),
                poster: None,
                job_id: None,
                created_at: *now,
                premieres_at: None,
            };
            put(tx, &title)?;
            Ok(Ok(Applied::Title(Box::new(title))))
        }
        Command::SetPoster {
            title_id,
            content_type,
            sha256,
        } => {
            let Some(mut title) = TITLES.get(tx, title_id.as_bytes())? else {
                return Ok(Err(Rejection::TitleNotFound));
            };
            title.poster = Some(Poster {
                content_type: content_type.clone(),
                sha256: sha256.clone(),
            });
            store(tx, &title)?;
            Ok(Ok(Applied::Title(Box::new(title))))
        }
        Command::EditTitle { id, changes } => {
            let Some(mut title) = TITLES.get(tx, id.as_bytes())? else {
                return Ok(Err(Rejection::TitleNotFound));
            };
            let before = title.clone();
            changes.apply_to(&mut title.meta);
            if title.meta.genres != before.meta.genres {
                genres::remove(tx, &before)?;
                genres::add(tx, &title)?;
            }
            store(tx, &title)?;
            Ok(Ok(Applied::Title(Box::new(title))))
        }
        Command::SetTitleMarkers { id, markers } => {
            let Some(mut title) = TITLES.get(tx, id.as_bytes())? else {
                return Ok(Err(Rejection::TitleNotFound));
            };
            title.markers = *markers;
            store(tx, &title)?;
            Ok(Ok(Applied::Title(Box::new(title))))
        }
        Command::SetPremiere { id, at } => {
            let Some(mut title) = TITLES.get(tx, id.as_bytes())? else {
                return Ok(Err(Rejection::TitleNotFound));
            };
            title.premieres_at = *at;
            if title.state == TitleState::Ready {
                crate::notifications::state::premiere_moved(tx, &title.id, *at)?;
            }
            store(tx, &title)?;
            Ok(Ok(Applied::Title(Box::new(title))))
        }
    }
}

/// Stores a new title with its index rows.
fn put(tx: &WriteTransaction, title: &Title) -> Result<(), StoreError> {
    let newest = key::join(&[&key::desc_u64(title.created_at), title.id.as_bytes()]);
    TITLES_BY_NEWEST.put(tx, &newest, &())?;
    genres::add(tx, title)?;
    store(tx, title)
}

/// Writes a changed title; search hears of it through its feed.
fn store(tx: &WriteTransaction, title: &Title) -> Result<(), StoreError> {
    TITLES.put(tx, title.id.as_bytes(), title)?;
    crate::search::feed::touched(tx, &title.id)
}

/// Builds what later versions index about titles and a state file written before lacks (the
/// genre index). Run on every node as it opens its state: the same state gives the same rows.
pub(crate) fn upgrade(tx: &WriteTransaction) -> Result<(), StoreError> {
    if genres::is_built(tx)? {
        return Ok(());
    }
    for (k, ()) in TITLES_BY_NEWEST.prefix(tx, b"", false, usize::MAX)? {
        if let Some(t) = TITLES.get(tx, key::last_part(&k).as_bytes())? {
            genres::add(tx, &t)?;
        }
    }
    Ok(())
}

/// Up to `want` ready titles that `keep` accepts from the index rows under `prefix` of `index`
/// (newest first), looking at no more than `max_scan` rows: a row is a few reads however big
/// the catalogue, and a filter that rejects nearly everything cannot make it scan it all.
fn newest_matching(
    tx: &impl Reads,
    index: Table<()>,
    prefix: &[u8],
    want: usize,
    max_scan: usize,
    keep: &dyn Fn(&Title) -> bool,
) -> Result<Vec<Title>, StoreError> {
    const PAGE: usize = 128;
    let end = key::prefix_end(prefix);
    let mut start = prefix.to_vec();
    let (mut out, mut scanned) = (Vec::new(), 0);
    while out.len() < want && scanned < max_scan {
        let rows = index.range(tx, &start, end.as_deref(), false, PAGE)?;
        for (k, ()) in &rows {
            if let Some(t) = TITLES.get(tx, key::last_part(k).as_bytes())?
                && t.state == TitleState::Ready
                && keep(&t)
            {
                out.push(t);
                if out.len() == want {
                    break;
                }
            }
        }
        scanned += rows.len();
        match rows.last() {
            Some((k, ())) if rows.len() == PAGE => {
                start = k.clone();
                start.push(0);
            }
            _ => break,
        }
    }
    Ok(out)
}

/// The newest ready titles `keep` accepts (see [`newest_matching`]).
pub fn newest(
    tx: &impl Reads,
    want: usize,
    max_scan: usize,
    keep: &dyn Fn(&Title) -> bool,
) -> Result<Vec<Title>, StoreError> {
    newest_matching(tx, TITLES_BY_NEWEST, b"", want, max_scan, keep)
}

/// The newest ready titles of `genre` that `keep` accepts.
pub fn newest_in_genre(
    tx: &impl Reads,
    genre: &str,
    want: usize,
    max_scan: usize,
    keep: &dyn Fn(&Title) -> bool,
) -> Result<Vec<Title>, StoreError> {
    newest_matching(
        tx,
        genres::BY_GENRE,
        &genres::prefix(genre),
        want,
        max_scan,
        keep,
    )
}

/// Imports titles kept by an origin from before state files.
pub(crate) fn import(
    tx: &WriteTransaction,
    titles: impl IntoIterator<Item = Title>,
) -> Result<(), StoreError> {
    for t in titles {
        put(tx, &t)?;
    }
    Ok(())
}

/// For the jobs domain: a video for `title_id` was queued as `job_id`; whether `title_id` is a
/// title. A ready title keeps playing its current package while the new one is made.
pub(crate) fn video_queued(
    tx: &WriteTransaction,
    title_id: &str,
    job_id: &str,
) -> Result<bool, StoreError> {
    let Some(mut title) = TITLES.get(tx, title_id.as_bytes())? else {
        return Ok(false);
    };
    if title.state != TitleState::Ready {
        title.state = TitleState::Processing;
    }
    title.job_id = Some(job_id.to_owned());
    store(tx, &title)?;
    Ok(true)
}

/// For the series domain: one of the series' episodes became playable, so the series is shown.
pub(crate) fn series_playable(tx: &WriteTransaction, id: &str) -> Result<(), StoreError> {
    if let Some(mut title) = TITLES.get(tx, id.as_bytes())?
        && title.state != TitleState::Ready
    {
        title.state = TitleState::Ready;
        crate::notifications::state::title_released(tx, &title)?;
        store(tx, &title)?;
    }
    Ok(())
}

/// For the jobs domain: `job_id` ended with a package (duration, folder) or an error. Only the
/// title's latest job changes it; a ready title whose new package failed stays ready.
pub(crate) fn job_finished(
    tx: &WriteTransaction,
    title_id: &str,
    job_id: &str,
    result: Result<(f64, Option<String>), ()>,
) -> Result<(), StoreError> {
    let Some(mut title) = TITLES.get(tx, title_id.as_bytes())? else {
        return Ok(());
    };
    if title.job_id.as_deref() != Some(job_id) {
        return Ok(());
    }
    match result {
        Ok((duration, package_dir)) => {
            if title.state != TitleState::Ready {
                crate::notifications::state::title_released(tx, &title)?;
            }
            title.state = TitleState::Ready;
            title.duration_secs = Some(duration);
            title.package_dir = package_dir;
        }
        Err(()) if title.state != TitleState::Ready => title.state = TitleState::Failed,
        Err(()) => return Ok(()),
    }
    store(tx, &title)
}

pub fn title(tx: &impl Reads, id: &str) -> Result<Option<Title>, StoreError> {
    TITLES.get(tx, id.as_bytes())
}

/// Titles newest first; `all` includes titles that are not ready (for admins).
pub fn titles(tx: &impl Reads, all: bool) -> Result<Vec<Title>, StoreError> {
    let mut out = Vec::new();
    for (k, ()) in TITLES_BY_NEWEST.prefix(tx, b"", false, usize::MAX)? {
        if let Some(t) = TITLES.get(tx, key::last_part(&k).as_bytes())?
            && (all || t.state == TitleState::Ready)
        {
            out.push(t);
        }
    }
    Ok(out)
}
