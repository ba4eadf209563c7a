//! The genre index: each genre's titles newest first, and how many titles each genre has, so a
//! home page's genre rows are a few short range scans at any catalogue size.

use redb::WriteTransaction;

use super::state::Title;
use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// Genre ‖ 0 ‖ newest first (`desc_u64(created_at)`) ‖ 0 ‖ title id → ().
pub(super) const BY_GENRE: Table<()> = Table::new("titles_by_genre");
/// Genre → number of titles in it (whatever their state).
const COUNTS: Table<u64> = Table::new("genre_counts");

fn entry(genre: &str, title: &Title) -> Vec<u8> {
    key::join(&[
        genre.as_bytes(),
        &key::desc_u64(title.created_at),
        title.id.as_bytes(),
    ])
}

/// Indexes `title` under each of its genres.
pub(super) fn add(tx: &WriteTransaction, title: &Title) -> Result<(), StoreError> {
    for genre in distinct(&title.meta.genres) {
        BY_GENRE.put(tx, &entry(genre, title), &())?;
        let n = COUNTS.get(tx, genre.as_bytes())?.unwrap_or(0);
        COUNTS.put(tx, genre.as_bytes(), &(n + 1))?;
    }
    Ok(())
}

/// Takes `title` (as it was indexed) out of each of its genres.
pub(super) fn remove(tx: &WriteTransaction, title: &Title) -> Result<(), StoreError> {
    for genre in distinct(&title.meta.genres) {
        if BY_GENRE.remove(tx, &entry(genre, title))? {
            match COUNTS.get(tx, genre.as_bytes())?.unwrap_or(0) {
                0 | 1 => drop(COUNTS.remove(tx, genre.as_bytes())?),
                n => COUNTS.put(tx, genre.as_bytes(), &(n - 1))?,
            }
        }
    }
    Ok(())
}

/// A title listing a genre twice is indexed once.
fn distinct(genres: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = genres.iter().map(String::as_str).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The `n` genres with the most titles, most first (ties by name).
pub fn top(tx: &impl Reads, n: usize) -> Result<Vec<(String, u64)>, StoreError> {
    let mut all: Vec<(String, u64)> = COUNTS
        .prefix(tx, b"", false, usize::MAX)?
        .into_iter()
        .map(|(k, count)| (String::from_utf8_lossy(&k).into_owned(), count))
        .collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(n);
    Ok(all)
}

/// The index prefix of one genre's titles.
pub(super) fn prefix(genre: &str) -> Vec<u8> {
    key::join(&[genre.as_bytes(), b""])
}

/// Whether the index was built (state files from before it have titles and no index).
pub(super) fn is_built(tx: &impl Reads) -> Result<bool, StoreError> {
    Ok(!COUNTS.prefix(tx, b"", false, 1)?.is_empty())
}
