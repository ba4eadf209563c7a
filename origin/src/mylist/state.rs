//! My List in the replicated state: one row per (profile, title), and the same rows in the
//! order they were added.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// Titles one profile may keep on its list; the next is refused with this number.
pub const MAX_TITLES: usize = 500;

/// Profile id ‖ title id → when it was added (Unix seconds).
const LISTED: Table<u64> = Table::new("my_list");
/// Profile id ‖ newest first (`desc_u64(added_at)`) ‖ title id → ().
const BY_NEWEST: Table<()> = Table::new("my_list_by_newest");
/// Profile id → how many titles its list holds.
const COUNTS: Table<u64> = Table::new("my_list_counts");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Adds a title; adding one already there keeps its place.
    AddToList {
        profile_id: String,
        title_id: String,
        now: u64,
    },
    /// Removes a title; removing one not there is no change.
    RemoveFromList {
        profile_id: String,
        title_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("My List holds at most {max} titles; remove one first")]
    ListFull { max: usize },
}

pub type Outcome = Result<Applied, Rejection>;

fn row_key(profile_id: &str, title_id: &str) -> Vec<u8> {
    key::join(&[profile_id.as_bytes(), title_id.as_bytes()])
}

fn order_key(profile_id: &str, added_at: u64, title_id: &str) -> Vec<u8> {
    key::join(&[
        profile_id.as_bytes(),
        &key::desc_u64(added_at),
        title_id.as_bytes(),
    ])
}

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::AddToList {
            profile_id,
            title_id,
            now,
        } => {
            let row = row_key(profile_id, title_id);
            if LISTED.contains(tx, &row)? {
                return Ok(Ok(Applied::Done));
            }
            let count = COUNTS.get(tx, profile_id.as_bytes())?.unwrap_or(0);
            if count >= MAX_TITLES as u64 {
                return Ok(Err(Rejection::ListFull { max: MAX_TITLES }));
            }
            LISTED.put(tx, &row, now)?;
            BY_NEWEST.put(tx, &order_key(profile_id, *now, title_id), &())?;
            COUNTS.put(tx, profile_id.as_bytes(), &(count + 1))?;
            Ok(Ok(Applied::Done))
        }
        Command::RemoveFromList {
            profile_id,
            title_id,
        } => {
            remove(tx, profile_id, title_id)?;
            Ok(Ok(Applied::Done))
        }
    }
}

fn remove(tx: &WriteTransaction, profile_id: &str, title_id: &str) -> Result<(), StoreError> {
    let row = row_key(profile_id, title_id);
    let Some(added_at) = LISTED.get(tx, &row)? else {
        return Ok(());
    };
    LISTED.remove(tx, &row)?;
    BY_NEWEST.remove(tx, &order_key(profile_id, added_at, title_id))?;
    let count = COUNTS.get(tx, profile_id.as_bytes())?.unwrap_or(1);
    COUNTS.put(tx, profile_id.as_bytes(), &count.saturating_sub(1))
}

/// For the profiles domain: a deleted profile's list goes with it.
pub(crate) fn forget_profile(tx: &WriteTransaction, profile_id: &str) -> Result<(), StoreError> {
    for title_id in titles(tx, profile_id)? {
        remove(tx, profile_id, &title_id)?;
    }
    COUNTS.remove(tx, profile_id.as_bytes())?;
    Ok(())
}

/// The profile's list, newest first (title ids).
pub fn titles(tx: &impl Reads, profile_id: &str) -> Result<Vec<String>, StoreError> {
    let prefix = key::join(&[profile_id.as_bytes(), b""]);
    let rows = BY_NEWEST.prefix(tx, &prefix, false, MAX_TITLES)?;
    Ok(rows.iter().map(|(k, ())| key::last_part(k)).collect())
}

/// Whether `title_id` is on the profile's list.
pub fn contains(tx: &impl Reads, profile_id: &str, title_id: &str) -> Result<bool, StoreError> {
    LISTED.contains(tx, &row_key(profile_id, title_id))
}

/// Every listed title: (profile id, title id), for training recommendations.
pub fn each_listed(tx: &impl Reads, mut f: impl FnMut(&str, &str)) -> Result<(), StoreError> {
    LISTED.for_each(tx, |k, _| {
        f(&key::first_part(k), &key::last_part(k));
        Ok(())
    })
}
