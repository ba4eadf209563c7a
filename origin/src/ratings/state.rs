//! Ratings in the replicated state: one row per (profile, title).

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// The three thumbs of the big services: not for me, I like this, love this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Thumb {
    Down,
    Up,
    Love,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub thumb: Thumb,
    pub rated_at: u64,
}

/// Profile id ‖ title id → rating.
const RATINGS: Table<Rating> = Table::new("ratings");
/// Title id → how many profiles gave it each thumb: a title's viewer rating is one read.
const COUNTS: Table<ThumbCounts> = Table::new("rating_counts");

/// How many profiles rate a title each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbCounts {
    pub down: u64,
    pub up: u64,
    pub love: u64,
}

impl ThumbCounts {
    pub fn total(&self) -> u64 {
        self.down + self.up + self.love
    }

    /// The share of its ratings that are up or love, 0–100 rounded; `None` before any.
    pub fn liked_percent(&self) -> Option<u8> {
        let total = self.total();
        (total > 0)
            .then(|| ((self.up + self.love) * 100 + total / 2) / total)
            .map(|p| p.min(100) as u8)
    }

    fn of(&mut self, thumb: Thumb) -> &mut u64 {
        match thumb {
            Thumb::Down => &mut self.down,
            Thumb::Up => &mut self.up,
            Thumb::Love => &mut self.love,
        }
    }
}

/// Moves one profile's thumb on `title_id` from `before` to `after` in the title's counts.
fn count(
    tx: &WriteTransaction,
    title_id: &str,
    before: Option<Thumb>,
    after: Option<Thumb>,
) -> Result<(), StoreError> {
    if before == after {
        return Ok(());
    }
    let mut counts = COUNTS.get(tx, title_id.as_bytes())?.unwrap_or_default();
    if let Some(t) = before {
        let n = counts.of(t);
        *n = n.saturating_sub(1);
    }
    if let Some(t) = after {
        *counts.of(t) += 1;
    }
    if counts.total() == 0 {
        COUNTS.remove(tx, title_id.as_bytes())?;
    } else {
        COUNTS.put(tx, title_id.as_bytes(), &counts)?;
    }
    crate::search::feed::touched(tx, title_id)
}

/// A title's thumbs, all profiles together.
pub fn counts(tx: &impl Reads, title_id: &str) -> Result<ThumbCounts, StoreError> {
    Ok(COUNTS.get(tx, title_id.as_bytes())?.unwrap_or_default())
}

/// Counts the thumbs of a state file written before counts were kept: all of them again, so
/// counts a node kept before the upgrade ran are replaced, not added to.
pub(crate) fn upgrade(tx: &WriteTransaction) -> Result<(), StoreError> {
    for (k, _) in COUNTS.prefix(tx, b"", false, usize::MAX)? {
        COUNTS.remove(tx, &k)?;
    }
    for (k, rating) in RATINGS.prefix(tx, b"", false, usize::MAX)? {
        let title_id = key::last_part(&k);
        let mut counts = COUNTS.get(tx, title_id.as_bytes())?.unwrap_or_default();
        *counts.of(rating.thumb) += 1;
        COUNTS.put(tx, title_id.as_bytes(), &counts)?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Sets (or replaces) the profile's rating of a title.
    Rate {
        profile_id: String,
        title_id: String,
        thumb: Thumb,
        now: u64,
    },
    /// Takes a rating back; none there is no change.
    Unrate {
        profile_id: String,
        title_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Done,
}

/// Ratings are never refused once the handler let them through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {}

pub type Outcome = Result<Applied, Rejection>;

fn row_key(profile_id: &str, title_id: &str) -> Vec<u8> {
    key::join(&[profile_id.as_bytes(), title_id.as_bytes()])
}

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::Rate {
            profile_id,
            title_id,
            thumb,
            now,
        } => {
            let rating = Rating {
                thumb: *thumb,
                rated_at: *now,
            };
            let k = row_key(profile_id, title_id);
            let before = RATINGS.get(tx, &k)?.map(|r| r.thumb);
            RATINGS.put(tx, &k, &rating)?;
            count(tx, title_id, before, Some(*thumb))?;
        }
        Command::Unrate {
            profile_id,
            title_id,
        } => {
            let k = row_key(profile_id, title_id);
            if let Some(before) = RATINGS.get(tx, &k)? {
                RATINGS.remove(tx, &k)?;
                count(tx, title_id, Some(before.thumb), None)?;
            }
        }
    }
    Ok(Ok(Applied::Done))
}

/// The profile's rating of a title.
pub fn rating(
    tx: &impl Reads,
    profile_id: &str,
    title_id: &str,
) -> Result<Option<Rating>, StoreError> {
    RATINGS.get(tx, &row_key(profile_id, title_id))
}

/// Every rating of the profile: (title id, rating), by title id.
pub fn of_profile(tx: &impl Reads, profile_id: &str) -> Result<Vec<(String, Rating)>, StoreError> {
    let prefix = key::join(&[profile_id.as_bytes(), b""]);
    let rows = RATINGS.prefix(tx, &prefix, false, usize::MAX)?;
    Ok(rows
        .into_iter()
        .map(|(k, r)| (key::last_part(&k), r))
        .collect())
}

/// For the profiles domain: a deleted profile's ratings go with it.
pub(crate) fn forget_profile(tx: &WriteTransaction, profile_id: &str) -> Result<(), StoreError> {
    for (title_id, rating) in of_profile(tx, profile_id)? {
        RATINGS.remove(tx, &row_key(profile_id, &title_id))?;
        count(tx, &title_id, Some(rating.thumb), None)?;
    }
    Ok(())
}

/// Every rating: (profile id, title id, thumb), for training recommendations.
pub fn each_rating(
    tx: &impl Reads,
    mut f: impl FnMut(&str, &str, Thumb),
) -> Result<(), StoreError> {
    RATINGS.for_each(tx, |k, r| {
        f(&key::first_part(k), &key::last_part(k), r.thumb);
        Ok(())
    })
}
