//! Bulk data for the scale benchmark (`marquee-benches`, `origin-scale`): accounts and small
//! history-like rows written straight into a stopped node's state file, as if the node had
//! served them for years. The server never calls this.
//!
//! Rows bypass the Raft log, so only a node whose log the benchmark then compacts behind a
//! snapshot is consistent with its peers; the benchmark does exactly that before adding one.

use std::path::Path;

use redb::TableDefinition;

use crate::accounts::state::{Account, import};
use crate::raft::StoreError;
use crate::raft::state_file;

/// Account id ‖ title number → `{"position_secs", "updated_at"}`: the shape of viewing history.
const HISTORY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("scale_history");
/// Rows per transaction: large enough to amortise a commit, small enough to bound its memory.
const ROWS_PER_TXN: u64 = 200_000;

/// The email of generated account `n` (its password is the `password_hash` given to [`fill`]).
pub fn email(n: u64) -> String {
    format!("viewer{n:08}@scale.test")
}

/// Adds `accounts` accounts (sharing `password_hash`) and `rows` history rows spread over them
/// to the state file in the raft directory `raft_dir` of a stopped node. `progress(done, total)`
/// is called after each transaction. Blocking.
pub fn fill(
    raft_dir: &Path,
    accounts: u64,
    rows: u64,
    password_hash: &str,
    mut progress: impl FnMut(u64, u64),
) -> Result<(), StoreError> {
    let db = state_file::open(raft_dir)?;
    let total = accounts + rows;
    let mut done = 0;
    for start in (0..accounts).step_by(ROWS_PER_TXN as usize) {
        let txn = db.begin_write()?;
        let end = (start + ROWS_PER_TXN).min(accounts);
        import(
            &txn,
            (start..end).map(|n| account(n, password_hash)),
            std::iter::empty(),
        )?;
        txn.commit()?;
        done += end - start;
        progress(done, total);
    }
    let per_account = rows.div_ceil(accounts.max(1));
    for start in (0..rows).step_by(ROWS_PER_TXN as usize) {
        let txn = db.begin_write()?;
        {
            let mut table = txn.open_table(HISTORY)?;
            for n in start..(start + ROWS_PER_TXN).min(rows) {
                let (owner, title) = (n / per_account, n % per_account);
                let mut key = account_id(owner).into_bytes();
                key.extend_from_slice(&(title as u32).to_be_bytes());
                let value = format!(
                    r#"{{"position_secs":{},"updated_at":{}}}"#,
                    n % 7_200,
                    1_790_000_000 + n
                );
                table.insert(key.as_slice(), value.as_bytes())?;
            }
        }
        txn.commit()?;
        done += (start + ROWS_PER_TXN).min(rows) - start;
        progress(done, total);
    }
    state_file::persist(&db)
}

fn account_id(n: u64) -> String {
    format!("{n:032x}")
}

fn account(n: u64, password_hash: &str) -> Account {
    Account {
        id: account_id(n),
        email: email(n),
        display_name: format!("Viewer {n}"),
        password_hash: password_hash.to_owned(),
        is_admin: false,
        created_at: 1_790_000_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_accounts_and_rows_are_in_the_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut calls = Vec::new();
        fill(dir.path(), 3, 10, "hash", |done, total| {
            calls.push((done, total))
        })
        .unwrap();
        assert_eq!(calls.last(), Some(&(13, 13)));
        let db = state_file::open(dir.path()).unwrap();
        let tx = redb::ReadableDatabase::begin_read(&db).unwrap();
        let found = crate::accounts::state::account_by_email(&tx, &email(2)).unwrap();
        assert_eq!(found.map(|a| a.id), Some(account_id(2)));
        let history = tx.open_table(HISTORY).unwrap();
        assert_eq!(redb::ReadableTableMetadata::len(&history).unwrap(), 10);
    }
}
