//! What later versions keep in the state and a state file written before lacks (an index, an
//! aggregate), built once as a node opens its state. Deterministic like `apply`: every node
//! builds the same rows from the same state.

use redb::WriteTransaction;

use crate::raft::StoreError;
use crate::raft::tables::Table;
use crate::{accounts, catalogue, ratings};

/// Name of an upgrade → () once it ran on this state.
const DONE: Table<()> = Table::new("upgrades_done");

type Upgrade = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Every upgrade, oldest first. Names are never reused.
const UPGRADES: &[(&str, Upgrade)] = &[
    ("genre_index", catalogue::state::upgrade),
    ("rating_counts", ratings::state::upgrade),
    ("sessions_by_account", accounts::state::upgrade),
];

pub(super) fn run(tx: &WriteTransaction) -> Result<(), StoreError> {
    for (name, upgrade) in UPGRADES {
        if !DONE.contains(tx, name.as_bytes())? {
            upgrade(tx)?;
            DONE.put(tx, name.as_bytes(), &())?;
        }
    }
    Ok(())
}
