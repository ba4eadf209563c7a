//! Bulk data for the search benchmark (`marquee-benches`, `search-vs-fts5`): titles written
//! into a state file through the catalogue's own import (so the search feed names each), then
//! a search index built from that state the way a node builds it at start. The server never
//! calls this.

use std::path::Path;

use redb::ReadableDatabase;

use crate::catalogue::state::{Title, import};
use crate::raft::StoreError;
use crate::raft::state_file;
use crate::search::index::{SearchError, SearchIndex};

/// Rows per transaction, as in [`crate::home_fill`].
const TITLES_PER_TXN: usize = 20_000;

/// Writes `titles` into the state file in `raft_dir` (made if missing), then builds the search
/// index of that state in `index_dir` (in memory when `None`). `progress(done)` follows each
/// transaction. Blocking.
pub fn index_of(
    raft_dir: &Path,
    titles: Vec<Title>,
    index_dir: Option<&Path>,
    mut progress: impl FnMut(usize),
) -> Result<SearchIndex, SearchError> {
    std::fs::create_dir_all(raft_dir).map_err(|e| SearchError::Dir(e.to_string()))?;
    let db = state_file::open(raft_dir)?;
    let mut done = 0;
    for chunk in titles.chunks(TITLES_PER_TXN) {
        let txn = db.begin_write().map_err(StoreError::from)?;
        import(&txn, chunk.iter().cloned())?;
        txn.commit().map_err(StoreError::from)?;
        done += chunk.len();
        progress(done);
    }
    state_file::persist(&db)?;
    let index = SearchIndex::open(index_dir)?;
    let tx = db.begin_read().map_err(StoreError::from)?;
    index.catch_up(&tx)?;
    Ok(index)
}
