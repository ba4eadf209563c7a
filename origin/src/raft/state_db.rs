//! The state machine's own redb file, `<dir>/state.redb`: the application's tables plus the Raft
//! pointers that describe them (last applied log id and membership), always written in the same
//! transaction as the commands they cover.
//!
//! The file can be replaced whole (a snapshot installed, a legacy store migrated): the new
//! contents are built in a fresh file beside it, checked, fsync'd, then renamed over it, so a
//! crash leaves either the old state or the new one, never a mix. Readers holding the old handle
//! finish on the old (now unlinked) file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redb::{Database, ReadTransaction, ReadableDatabase, WriteTransaction};

use super::db::StoreOpenError;
use super::tables::{StoreError, Table};
use super::types::{LogId, StoredMembership};

/// File name of the state inside the node's directory.
pub const STATE_FILE: &str = "state.redb";

/// Raft's pointers, one row each.
pub(crate) const LAST_APPLIED: Table<Option<LogId>> = Table::new("_raft_applied");
pub(crate) const MEMBERSHIP: Table<StoredMembership> = Table::new("_raft_applied");
pub(crate) const KEY_LAST_APPLIED: &[u8] = b"last_applied";
pub(crate) const KEY_MEMBERSHIP: &[u8] = b"membership";
/// Node id (big-endian) → (): ids of nodes removed from the cluster, never to be used again.
pub(crate) const RETIRED: Table<()> = Table::new("_raft_retired");
/// The file's identity, written at creation.
const META: Table<String> = Table::new("_state_meta");
const KEY_FORMAT: &[u8] = b"format";
const FORMAT: &str = "marquee-origin-state/1";

/// Memory redb may use to cache pages of the state file: a bound, so resident memory does not
/// grow with the number of rows.
const CACHE_BYTES: usize = 64 << 20;

/// The state file, swappable. Cheap to share (`Arc<StateDb>`).
pub(crate) struct StateDb {
    path: PathBuf,
    current: RwLock<Option<Arc<Database>>>,
}

/// Opens a redb file with the state's settings.
pub(crate) fn open_file(path: &Path) -> Result<Database, redb::DatabaseError> {
    Database::builder().set_cache_size(CACHE_BYTES).create(path)
}

impl StateDb {
    /// Opens `<dir>/state.redb`, creating it (with its format record) if absent. Blocking.
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreOpenError> {
        let path = dir.join(STATE_FILE);
        let corrupt = |reason: String| StoreOpenError::Corrupt {
            path: path.clone(),
            reason,
        };
        let db = open_file(&path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                StoreOpenError::AlreadyOpen { path: path.clone() }
            }
            other => corrupt(other.to_string()),
        })?;
        // With quick repair, like every durable commit of this file: a crash before the next
        // durable commit then reopens by loading the allocator state instead of scanning every
        // page (seconds for a file of millions of rows).
        let txn = durable_write(&db).map_err(|e| corrupt(e.to_string()))?;
        match META
            .get(&txn, KEY_FORMAT)
            .map_err(|e| corrupt(e.to_string()))?
        {
            Some(f) if f == FORMAT => {}
            Some(other) => {
                return Err(StoreOpenError::Foreign {
                    path,
                    reason: format!("unknown state format {other:?}"),
                });
            }
            None => META
                .put(&txn, KEY_FORMAT, &FORMAT.to_owned())
                .map_err(|e| corrupt(e.to_string()))?,
        }
        txn.commit().map_err(|e| corrupt(e.to_string()))?;
        Ok(Self {
            path,
            current: RwLock::new(Some(Arc::new(db))),
        })
    }

    pub(crate) fn exists(dir: &Path) -> bool {
        dir.join(STATE_FILE).exists()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open database, or an error once closed.
    pub(crate) fn db(&self) -> Result<Arc<Database>, StoreError> {
        let g = self
            .current
            .read()
            .map_err(|_| StoreError::Other("state lock poisoned".into()))?;
        g.clone()
            .ok_or_else(|| StoreError::Other("the state store is closed".into()))
    }

    pub(crate) fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        Ok(self.db()?.begin_read()?)
    }

    /// Raft's pointers as of `tx`.
    pub(crate) fn applied(
        tx: &impl super::tables::Reads,
    ) -> Result<(Option<LogId>, StoredMembership), StoreError> {
        let last = LAST_APPLIED.get(tx, KEY_LAST_APPLIED)?.flatten();
        let membership = MEMBERSHIP.get(tx, KEY_MEMBERSHIP)?.unwrap_or_default();
        Ok((last, membership))
    }

    /// Makes every earlier commit durable (apply batches commit without fsync; the Raft log
    /// holds what a crash would lose). Called before a snapshot, so the log is never purged
    /// past what the state file has on disk.
    pub(crate) fn persist(&self) -> Result<(), StoreError> {
        let db = self.db()?;
        let txn = durable_write(&db)?;
        txn.commit()?;
        Ok(())
    }

    /// Atomically replaces the state file with `fresh` (a complete, fsync'd redb file in the
    /// same directory) and switches readers to it.
    pub(crate) fn replace_with(&self, fresh: &Path) -> Result<(), StoreError> {
        let io = |what: &str, e: std::io::Error| StoreError::Other(format!("{what}: {e}"));
        let mut g = self
            .current
            .write()
            .map_err(|_| StoreError::Other("state lock poisoned".into()))?;
        std::fs::rename(fresh, &self.path).map_err(|e| io("cannot swap in the new state", e))?;
        sync_dir(&self.path).map_err(|e| io("cannot sync the state directory", e))?;
        let db = open_file(&self.path)
            .map_err(|e| StoreError::Other(format!("cannot open the new state: {e}")))?;
        *g = Some(Arc::new(db));
        Ok(())
    }

    /// Closes the file, waiting up to `wait` for readers to let go, so it can be reopened.
    pub(crate) fn close(&self, wait: Duration) -> bool {
        let taken = match self.current.write() {
            Ok(mut g) => g.take(),
            Err(_) => return false,
        };
        let Some(mut db) = taken else {
            return true;
        };
        let deadline = std::time::Instant::now() + wait;
        loop {
            match Arc::try_unwrap(db) {
                Ok(db) => {
                    drop(db);
                    return true;
                }
                Err(still) if std::time::Instant::now() < deadline => {
                    db = still;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return false,
            }
        }
    }
}

/// Opens the state file of a stopped node on its own, for bulk loading (the scale benchmark).
pub(crate) fn open_for_fill(dir: &Path) -> Result<Database, StoreError> {
    let state = StateDb::open(dir).map_err(|e| StoreError::Other(e.to_string()))?;
    let db = state.db()?;
    drop(state);
    Arc::try_unwrap(db).map_err(|_| StoreError::Other("the state file is in use".into()))
}

/// Makes every earlier commit to `db` durable.
pub(crate) fn persist_file(db: &Database) -> Result<(), StoreError> {
    durable_write(db)?.commit()?;
    Ok(())
}

/// A write transaction whose commit is fsync'd, with quick repair so a crash right after costs
/// no full scan of a large file at the next open.
pub(crate) fn durable_write(db: &Database) -> Result<WriteTransaction, StoreError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    txn.set_quick_repair(true);
    Ok(txn)
}

/// A fresh state file at `path` (removed first if a previous attempt left one), with the
/// format record.
pub(crate) fn create_fresh(path: &Path) -> Result<Database, StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(StoreError::Other(format!(
                "cannot remove {}: {e}",
                path.display()
            )));
        }
    }
    let db = open_file(path).map_err(|e| StoreError::Other(format!("cannot create: {e}")))?;
    let txn = db.begin_write()?;
    META.put(&txn, KEY_FORMAT, &FORMAT.to_owned())?;
    txn.commit()?;
    Ok(db)
}

fn sync_dir(file: &Path) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()
}
