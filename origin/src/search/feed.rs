//! Which titles' search documents changed, in the order they changed. Every node's search index
//! follows this feed from the number it last indexed, so it is updated as entries apply, after
//! a snapshot is installed and after a restart alike. Written by `apply` like any state, so
//! every node's feed is the same; one row per title (its latest change), so it is never bigger
//! than the catalogue.

use redb::WriteTransaction;

use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// Title id → the number of its latest change.
const SEQ_OF: Table<u64> = Table::new("search_feed_seq");
/// Change number (big-endian) → title id.
const BY_SEQ: Table<String> = Table::new("search_feed");
/// `last` → the latest change number.
const LAST: Table<u64> = Table::new("search_feed_last");

/// Records that what search knows of `title_id` (a film's or a series' id) changed.
pub(crate) fn touched(tx: &WriteTransaction, title_id: &str) -> Result<(), StoreError> {
    let next = last(tx)? + 1;
    if let Some(old) = SEQ_OF.get(tx, title_id.as_bytes())? {
        BY_SEQ.remove(tx, &key::u64(old))?;
    }
    BY_SEQ.put(tx, &key::u64(next), &title_id.to_owned())?;
    SEQ_OF.put(tx, title_id.as_bytes(), &next)?;
    LAST.put(tx, b"last", &next)
}

/// The latest change number (0 before any).
pub fn last(tx: &impl Reads) -> Result<u64, StoreError> {
    Ok(LAST.get(tx, b"last")?.unwrap_or(0))
}

/// Up to `limit` changes after number `after`, oldest first: (number, title id).
pub fn since(tx: &impl Reads, after: u64, limit: usize) -> Result<Vec<(u64, String)>, StoreError> {
    let start = key::u64(after.saturating_add(1));
    Ok(BY_SEQ
        .range(tx, &start, None, false, limit)?
        .into_iter()
        .filter_map(|(k, id)| Some((u64::from_be_bytes(k.try_into().ok()?), id)))
        .collect())
}
