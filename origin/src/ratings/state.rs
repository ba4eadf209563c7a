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
            RATINGS.put(tx, &row_key(profile_id, title_id), &rating)?;
        }
        Command::Unrate {
            profile_id,
            title_id,
        } => {
            RATINGS.remove(tx, &row_key(profile_id, title_id))?;
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
    for (title_id, _) in of_profile(tx, profile_id)? {
        RATINGS.remove(tx, &row_key(profile_id, &title_id))?;
    }
    Ok(())
}
