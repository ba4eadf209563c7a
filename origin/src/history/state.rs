//! Progress and history in the replicated state.
//!
//! One row per (profile, film or episode) holds the latest position; the same rows ordered by
//! time are the viewing history. Per (profile, title) the latest item watched, ordered by time,
//! is "Continue watching" (a series shows once, at its latest episode).

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// Where an item counts as finished when it has no credits marker: this share of its length.
pub const FINISHED_SHARE: f64 = 0.95;

/// A profile's place in one film or episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The film, or the episode's series.
    pub title_id: String,
    /// The film's title id, or the episode's id.
    pub item_id: String,
    pub position_secs: f64,
    pub duration_secs: f64,
    /// At or past the credits (else [`FINISHED_SHARE`] of the length).
    pub finished: bool,
    /// Unix milliseconds of the report.
    pub updated_at_ms: u64,
    /// Where the viewer was (ISO 3166-1 alpha-2), when the address table knew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A title's latest item for a profile: what "Continue watching" shows for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latest {
    pub item_id: String,
    pub updated_at_ms: u64,
    /// Taken off the row by the viewer; the next report puts it back.
    pub dismissed: bool,
}

/// Profile ‖ item id → progress.
const PROGRESS: Table<Progress> = Table::new("progress");
/// Profile ‖ newest first (`desc_u64(updated_at_ms)`) ‖ item id → (): the history.
const HISTORY: Table<()> = Table::new("history_by_newest");
/// Profile ‖ title id → latest item.
const LATEST: Table<Latest> = Table::new("progress_latest");
/// Profile ‖ newest first ‖ title id → (): titles not dismissed, for "Continue watching".
const CONTINUE: Table<()> = Table::new("continue_by_newest");

fn pair(profile_id: &str, id: &str) -> Vec<u8> {
    key::join(&[profile_id.as_bytes(), id.as_bytes()])
}

fn by_time(profile_id: &str, at_ms: u64, id: &str) -> Vec<u8> {
    key::join(&[profile_id.as_bytes(), &key::desc_u64(at_ms), id.as_bytes()])
}

fn profile_prefix(profile_id: &str) -> Vec<u8> {
    key::join(&[profile_id.as_bytes(), b""])
}

/// A report from the player, checked by the handler (a finite position within the item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub profile_id: String,
    pub title_id: String,
    pub item_id: String,
    pub position_secs: f64,
    pub duration_secs: f64,
    /// The item's credits marker, if it has one.
    pub credits_start_secs: Option<f64>,
    pub now_ms: u64,
    /// Where the viewer was (for the country's Top 10), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Report {
    /// Finished: into the credits if the item has a marker, else near its end.
    pub fn finished(&self) -> bool {
        match self.credits_start_secs {
            Some(credits) => self.position_secs >= credits,
            None => self.position_secs >= self.duration_secs * FINISHED_SHARE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// The player's position; an older report than the one kept (reordered between nodes'
    /// batches) changes nothing.
    RecordProgress(Report),
    /// "Remove from row": the title leaves "Continue watching" until it is watched again.
    DismissContinue {
        profile_id: String,
        title_id: String,
    },
    /// "Hide" in the history: the item's progress goes, and with it the title's place in
    /// "Continue watching" if it was the latest.
    HideFromHistory { profile_id: String, item_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Done,
}

/// Never refused once the handler let it through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {}

pub type Outcome = Result<Applied, Rejection>;

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::RecordProgress(r) => record(tx, r)?,
        Command::DismissContinue {
            profile_id,
            title_id,
        } => {
            let k = pair(profile_id, title_id);
            if let Some(mut latest) = LATEST.get(tx, &k)?
                && !latest.dismissed
            {
                CONTINUE.remove(tx, &by_time(profile_id, latest.updated_at_ms, title_id))?;
                latest.dismissed = true;
                LATEST.put(tx, &k, &latest)?;
            }
        }
        Command::HideFromHistory {
            profile_id,
            item_id,
        } => hide(tx, profile_id, item_id)?,
    }
    Ok(Ok(Applied::Done))
}

fn record(tx: &WriteTransaction, r: &Report) -> Result<(), StoreError> {
    let k = pair(&r.profile_id, &r.item_id);
    if let Some(old) = PROGRESS.get(tx, &k)? {
        if old.updated_at_ms > r.now_ms {
            return Ok(());
        }
        HISTORY.remove(tx, &by_time(&r.profile_id, old.updated_at_ms, &r.item_id))?;
    }
    let progress = Progress {
        title_id: r.title_id.clone(),
        item_id: r.item_id.clone(),
        position_secs: r.position_secs,
        duration_secs: r.duration_secs,
        finished: r.finished(),
        updated_at_ms: r.now_ms,
        country: r.country.clone(),
    };
    PROGRESS.put(tx, &k, &progress)?;
    HISTORY.put(tx, &by_time(&r.profile_id, r.now_ms, &r.item_id), &())?;

    let title_key = pair(&r.profile_id, &r.title_id);
    if let Some(old) = LATEST.get(tx, &title_key)? {
        if old.updated_at_ms > r.now_ms {
            return Ok(());
        }
        CONTINUE.remove(tx, &by_time(&r.profile_id, old.updated_at_ms, &r.title_id))?;
    }
    let latest = Latest {
        item_id: r.item_id.clone(),
        updated_at_ms: r.now_ms,
        dismissed: false,
    };
    LATEST.put(tx, &title_key, &latest)?;
    CONTINUE.put(tx, &by_time(&r.profile_id, r.now_ms, &r.title_id), &())
}

fn hide(tx: &WriteTransaction, profile_id: &str, item_id: &str) -> Result<(), StoreError> {
    let Some(old) = PROGRESS.get(tx, &pair(profile_id, item_id))? else {
        return Ok(());
    };
    PROGRESS.remove(tx, &pair(profile_id, item_id))?;
    HISTORY.remove(tx, &by_time(profile_id, old.updated_at_ms, item_id))?;
    let title_key = pair(profile_id, &old.title_id);
    if let Some(latest) = LATEST.get(tx, &title_key)?
        && latest.item_id == item_id
    {
        LATEST.remove(tx, &title_key)?;
        CONTINUE.remove(
            tx,
            &by_time(profile_id, latest.updated_at_ms, &old.title_id),
        )?;
    }
    Ok(())
}

/// For the profiles domain: a deleted profile's progress and history go with it.
pub(crate) fn forget_profile(tx: &WriteTransaction, profile_id: &str) -> Result<(), StoreError> {
    let prefix = profile_prefix(profile_id);
    for (k, _) in PROGRESS.prefix(tx, &prefix, false, usize::MAX)? {
        PROGRESS.remove(tx, &k)?;
    }
    for (k, _) in LATEST.prefix(tx, &prefix, false, usize::MAX)? {
        LATEST.remove(tx, &k)?;
    }
    for (k, ()) in HISTORY.prefix(tx, &prefix, false, usize::MAX)? {
        HISTORY.remove(tx, &k)?;
    }
    for (k, ()) in CONTINUE.prefix(tx, &prefix, false, usize::MAX)? {
        CONTINUE.remove(tx, &k)?;
    }
    Ok(())
}

/// The profile's place in a film or an episode.
pub fn progress(
    tx: &impl Reads,
    profile_id: &str,
    item_id: &str,
) -> Result<Option<Progress>, StoreError> {
    PROGRESS.get(tx, &pair(profile_id, item_id))
}

/// The title's latest item for the profile.
pub fn latest(
    tx: &impl Reads,
    profile_id: &str,
    title_id: &str,
) -> Result<Option<Latest>, StoreError> {
    LATEST.get(tx, &pair(profile_id, title_id))
}

/// Titles for "Continue watching", most recently watched first, at most `limit`: each with its
/// latest item's progress.
pub fn continue_watching(
    tx: &impl Reads,
    profile_id: &str,
    limit: usize,
) -> Result<Vec<Progress>, StoreError> {
    let mut out = Vec::new();
    for (k, ()) in CONTINUE.prefix(tx, &profile_prefix(profile_id), false, limit)? {
        let title_id = key::last_part(&k);
        if let Some(latest) = LATEST.get(tx, &pair(profile_id, &title_id))?
            && let Some(p) = PROGRESS.get(tx, &pair(profile_id, &latest.item_id))?
        {
            out.push(p);
        }
    }
    Ok(out)
}

/// The history, newest first: at most `limit` items watched before `before_ms` (all when
/// `None`).
pub fn history(
    tx: &impl Reads,
    profile_id: &str,
    before_ms: Option<u64>,
    limit: usize,
) -> Result<Vec<Progress>, StoreError> {
    let prefix = profile_prefix(profile_id);
    let start = match before_ms {
        // Strictly older than `before_ms`: the first key after every key at that time.
        Some(ms) => key::join(&[profile_id.as_bytes(), &key::desc_u64(ms), &[0xff]]),
        None => prefix.clone(),
    };
    let end = key::prefix_end(&prefix);
    let mut out = Vec::new();
    for (k, ()) in HISTORY.range(tx, &start, end.as_deref(), false, limit)? {
        if let Some(p) = PROGRESS.get(tx, &pair(profile_id, &key::last_part(&k)))? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Every profile's progress on every film or episode: (profile id, progress), for training
/// recommendations in the background.
pub fn each_progress(
    tx: &impl Reads,
    mut f: impl FnMut(&str, &Progress),
) -> Result<(), StoreError> {
    PROGRESS.for_each(tx, |k, p| {
        f(&key::first_part(k), &p);
        Ok(())
    })
}

/// One profile's progress on every film and episode it started.
pub fn progress_of_profile(tx: &impl Reads, profile_id: &str) -> Result<Vec<Progress>, StoreError> {
    let rows = PROGRESS.prefix(tx, &profile_prefix(profile_id), false, usize::MAX)?;
    Ok(rows.into_iter().map(|(_, p)| p).collect())
}
