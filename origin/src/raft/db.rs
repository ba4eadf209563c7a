//! The redb file behind one Raft node: table layout, opening with format checks, and the glue that
//! runs blocking redb transactions off the async runtime.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::{AnyError, ErrorSubject, ErrorVerb, StorageIOError};
use redb::{
    Database, MultimapTableHandle, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, TableHandle,
};

use super::types::{NodeId, SnapshotMeta, StorageError};

/// Log entries by index, each the JSON of an `openraft::Entry`.
pub(crate) const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");
/// Small records of the log store: vote, committed, last purged log id, and the store's identity.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_meta");
/// Written by origins before the state had its own file: the latest snapshot, `meta` (JSON
/// `SnapshotMeta`) and `data` (JSON of the whole app). Read once to migrate, then emptied.
pub(crate) const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new("raft_snapshot");

pub(crate) const KEY_VOTE: &str = "vote";
pub(crate) const KEY_COMMITTED: &str = "committed";
pub(crate) const KEY_PURGED: &str = "last_purged";
const KEY_FORMAT: &str = "format";
const KEY_NODE_ID: &str = "node_id";
pub(crate) const KEY_SNAP_META: &str = "meta";
pub(crate) const KEY_SNAP_DATA: &str = "data";

/// Written once at creation; a file without it (or with another value) is not ours.
const FORMAT: &[u8] = b"marquee-origin-raft/1";

/// Page cache of the log file: it stays small (purged behind each snapshot).
const LOG_CACHE_BYTES: usize = 16 << 20;

/// File name of the store inside the node's directory.
pub const STORE_FILE: &str = "raft.redb";

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreOpenError {
    #[error("cannot create directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is already open (by this or another process)")]
    AlreadyOpen { path: PathBuf },
    #[error("{path} is not a Marquee origin Raft store: {reason}")]
    Foreign { path: PathBuf, reason: String },
    #[error("{path} is corrupted or unreadable: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path} belongs to node {stored}, not node {requested}; node ids are never reused")]
    NodeIdMismatch {
        path: PathBuf,
        stored: NodeId,
        requested: NodeId,
    },
}

/// Opens or creates `<dir>/raft.redb` and checks it belongs to `node_id`. Returns the database
/// and whether it was created now. Blocking: call from `spawn_blocking`.
pub(crate) fn open_store(dir: &Path, node_id: NodeId) -> Result<(Database, bool), StoreOpenError> {
    std::fs::create_dir_all(dir).map_err(|source| StoreOpenError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(STORE_FILE);
    // The integrity check reads the whole file (small: a purged log and one snapshot) and turns an
    // altered file into a clean `Corrupted` error where a plain open may panic inside redb.
    let db = Database::builder()
        .set_check_integrity_on_open(true)
        .set_cache_size(LOG_CACHE_BYTES)
        .create(&path)
        .map_err(|e| classify_open_error(&path, e))?;
    let corrupt = |e: redb::Error| classify_error(&path, e);

    let txn = db.begin_write().map_err(|e| corrupt(e.into()))?;
    let created;
    {
        let mut meta = txn.open_table(META).map_err(|e| corrupt(e.into()))?;
        let format = meta
            .get(KEY_FORMAT)
            .map_err(|e| corrupt(e.into()))?
            .map(|v| v.value().to_vec());
        match format {
            Some(f) if f == FORMAT => {
                created = false;
                let stored = meta
                    .get(KEY_NODE_ID)
                    .map_err(|e| corrupt(e.into()))?
                    .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
                    .map(u64::from_be_bytes)
                    .ok_or_else(|| StoreOpenError::Corrupt {
                        path: path.clone(),
                        reason: "node id record is missing".into(),
                    })?;
                if stored != node_id {
                    return Err(StoreOpenError::NodeIdMismatch {
                        path,
                        stored,
                        requested: node_id,
                    });
                }
            }
            Some(f) => {
                let reason = format!("unknown format {:?}", String::from_utf8_lossy(&f));
                return Err(StoreOpenError::Foreign { path, reason });
            }
            None => {
                if meta.len().map_err(|e| corrupt(e.into()))? != 0 {
                    let reason = "raft_meta table has no format record".into();
                    return Err(StoreOpenError::Foreign { path, reason });
                }
                let others = other_tables(&txn).map_err(corrupt)?;
                if !others.is_empty() {
                    let reason = format!("it holds other tables: {}", others.join(", "));
                    return Err(StoreOpenError::Foreign { path, reason });
                }
                created = true;
                meta.insert(KEY_FORMAT, FORMAT)
                    .map_err(|e| corrupt(e.into()))?;
                meta.insert(KEY_NODE_ID, node_id.to_be_bytes().as_slice())
                    .map_err(|e| corrupt(e.into()))?;
            }
        }
        // Create the other tables so readers never meet a missing table.
        txn.open_table(LOG).map_err(|e| corrupt(e.into()))?;
        txn.open_table(SNAPSHOT).map_err(|e| corrupt(e.into()))?;
    }
    if created {
        txn.commit().map_err(|e| corrupt(e.into()))?;
    } else {
        txn.abort().map_err(|e| corrupt(e.into()))?;
    }
    Ok((db, created))
}

/// Names of tables that are not ours (a fresh store has none).
fn other_tables(txn: &redb::WriteTransaction) -> Result<Vec<String>, redb::Error> {
    let ours = [META.name(), LOG.name(), SNAPSHOT.name()];
    let plain = txn.list_tables()?.map(|t| t.name().to_string());
    let multi = txn.list_multimap_tables()?.map(|t| t.name().to_string());
    Ok(plain
        .chain(multi)
        .filter(|n| !ours.contains(&n.as_str()))
        .collect())
}

fn classify_open_error(path: &Path, e: redb::DatabaseError) -> StoreOpenError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreOpenError::AlreadyOpen {
            path: path.to_path_buf(),
        },
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            StoreOpenError::Foreign {
                path: path.to_path_buf(),
                reason: io.to_string(),
            }
        }
        other => classify_error(path, other.into()),
    }
}

fn classify_error(path: &Path, e: redb::Error) -> StoreOpenError {
    match e {
        redb::Error::TableTypeMismatch { .. } | redb::Error::TableIsMultimap(_) => {
            StoreOpenError::Foreign {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        }
        other => StoreOpenError::Corrupt {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// The open redb file, shared by the log store and the state machine. Signals `closed` once the
/// file is really closed (its lock released), which `Replicated::shutdown` waits for.
pub(crate) struct Store {
    db: Option<Database>,
    closed: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Store {
    pub(crate) fn new(db: Database) -> (Arc<Store>, tokio::sync::oneshot::Receiver<()>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (
            Arc::new(Store {
                db: Some(db),
                closed: Some(tx),
            }),
            rx,
        )
    }
}

impl std::ops::Deref for Store {
    type Target = Database;
    fn deref(&self) -> &Database {
        self.db
            .as_ref()
            .expect("the database is only taken in drop")
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        drop(self.db.take());
        if let Some(tx) = self.closed.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs a short redb job (a read from the page cache, or a commit without fsync) right here on
/// the calling task: handing it to the blocking pool and back cost more than the job itself
/// (measured: ~30 thread switches per write on the leader). A panic inside becomes a storage
/// error, as with [`blocking`]. The one fsync run here is a follower's journal sync (see
/// `log_store`); longer fsync'd commits go through [`blocking`].
// openraft's storage traits return its (large) StorageError; this only builds one.
#[allow(clippy::result_large_err)]
pub(crate) fn inline<T, F>(
    db: &Store,
    subject: ErrorSubject<NodeId>,
    verb: ErrorVerb,
    job: F,
) -> Result<T, StorageError>
where
    F: FnOnce(&Database) -> Result<T, DbError>,
{
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(db))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(storage_error(subject, verb, &e)),
        Err(_) => Err(storage_error(
            subject,
            verb,
            &DbError::Panicked("a storage job panicked".into()),
        )),
    }
}

/// Runs a blocking redb job on the blocking pool; a panic inside becomes a storage error.
pub(crate) async fn blocking<T, F>(
    db: &Arc<Store>,
    subject: ErrorSubject<NodeId>,
    verb: ErrorVerb,
    job: F,
) -> Result<T, StorageError>
where
    T: Send + 'static,
    F: FnOnce(&Database) -> Result<T, DbError> + Send + 'static,
{
    let db = db.clone();
    let res = tokio::task::spawn_blocking(move || job(&db)).await;
    match res {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(storage_error(subject, verb, &e)),
        Err(join) => Err(storage_error(
            subject,
            verb,
            &DbError::Panicked(join.to_string()),
        )),
    }
}

pub(crate) fn storage_error(
    subject: ErrorSubject<NodeId>,
    verb: ErrorVerb,
    e: &DbError,
) -> StorageError {
    StorageIOError::new(subject, verb, AnyError::new(e)).into()
}

/// A failed store operation (always fatal for the node).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error("redb: {0}")]
    Redb(#[from] redb::Error),
    #[error("journal: {0}")]
    Io(#[from] std::io::Error),
    #[error("undecodable record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("missing record: {0}")]
    Missing(&'static str),
    #[error("storage task panicked: {0}")]
    Panicked(String),
}

macro_rules! redb_from {
    ($($t:ty),*) => {$(
        impl From<$t> for DbError {
            fn from(e: $t) -> Self {
                DbError::Redb(e.into())
            }
        }
    )*};
}
redb_from!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// Starts a write transaction whose commit returns only once it is fsync'd. Explicit rather than
/// relying on redb's default, because the Raft log's correctness depends on it.
pub(crate) fn durable_txn(db: &Database) -> Result<redb::WriteTransaction, DbError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    Ok(txn)
}

/// Reads one JSON record from a `&str`-keyed table.
pub(crate) fn get_json<T: serde::de::DeserializeOwned>(
    db: &Database,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
) -> Result<Option<T>, DbError> {
    let txn = db.begin_read()?;
    let t = txn.open_table(table)?;
    let Some(v) = t.get(key)? else {
        return Ok(None);
    };
    Ok(Some(serde_json::from_slice(v.value())?))
}

/// Writes one JSON record in its own transaction, without fsync (a later durable commit or
/// checkpoint persists it).
pub(crate) fn put_json_lazily<T: serde::Serialize>(
    db: &Database,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
    value: &T,
) -> Result<(), DbError> {
    let bytes = serde_json::to_vec(value)?;
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::None)?;
    txn.open_table(table)?.insert(key, bytes.as_slice())?;
    txn.commit()?;
    Ok(())
}

/// The snapshot a pre-state-file origin left in the log file, if any: its meta and the JSON of
/// the whole app.
pub(crate) fn legacy_snapshot(db: &Database) -> Result<Option<(SnapshotMeta, Vec<u8>)>, DbError> {
    let Some(meta) = get_json::<SnapshotMeta>(db, SNAPSHOT, KEY_SNAP_META)? else {
        return Ok(None);
    };
    let txn = db.begin_read()?;
    let table = txn.open_table(SNAPSHOT)?;
    let data = table
        .get(KEY_SNAP_DATA)?
        .map(|v| v.value().to_vec())
        .ok_or(DbError::Missing("legacy snapshot data"))?;
    Ok(Some((meta, data)))
}

/// Empties the legacy snapshot table once the state file holds its contents.
pub(crate) fn clear_legacy_snapshot(db: &Database) -> Result<(), DbError> {
    let txn = durable_txn(db)?;
    txn.open_table(SNAPSHOT)?.retain(|_, _| false)?;
    txn.commit()?;
    Ok(())
}
