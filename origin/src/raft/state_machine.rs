//! `RaftStateMachine`: the application lives in memory; durability comes from the log plus
//! snapshots persisted to redb. A restart loads the latest snapshot and openraft replays the log
//! entries after it.
use std::io::Cursor;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use openraft::storage::RaftStateMachine;
use openraft::{
    AnyError, EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder,
    StorageIOError,
};
use redb::{Database, ReadableDatabase};
use tokio::sync::RwLock;

use super::App;
use super::db::{self, DbError, KEY_SNAP_DATA, KEY_SNAP_META, SNAPSHOT, Store};
use super::types::{
    Entry, LogId, OutcomeJson, Snapshot, SnapshotMeta, StorageError, StoredMembership, TypeConfig,
};

/// The applied application state and the Raft pointers that describe it.
pub(crate) struct Applied<A> {
    pub(crate) app: A,
    pub(crate) last_applied: Option<LogId>,
    pub(crate) membership: StoredMembership,
}

pub(crate) type Shared<A> = Arc<RwLock<Applied<A>>>;

/// Loads the state from the latest persisted snapshot, or a fresh default.
pub(crate) fn load<A: App>(db: &Database) -> Result<Applied<A>, DbError> {
    match read_snapshot(db)? {
        Some((meta, data)) => Ok(Applied {
            app: serde_json::from_slice(&data)?,
            last_applied: meta.last_log_id,
            membership: meta.last_membership,
        }),
        None => Ok(Applied {
            app: A::default(),
            last_applied: None,
            membership: StoredMembership::default(),
        }),
    }
}

fn read_snapshot(db: &Database) -> Result<Option<(SnapshotMeta, Vec<u8>)>, DbError> {
    let Some(meta) = db::get_json::<SnapshotMeta>(db, SNAPSHOT, KEY_SNAP_META)? else {
        return Ok(None);
    };
    let txn = db.begin_read()?;
    let table = txn.open_table(SNAPSHOT)?;
    let data = redb::ReadableTable::get(&table, KEY_SNAP_DATA)?
        .map(|v| v.value().to_vec())
        .ok_or_else(|| DbError::Missing("snapshot data"))?;
    Ok(Some((meta, data)))
}

/// Replaces the stored snapshot with `meta` + `data` in one fsync'd transaction.
fn write_snapshot(db: &Database, meta: &SnapshotMeta, data: &[u8]) -> Result<(), DbError> {
    let meta = serde_json::to_vec(meta)?;
    let txn = db::durable_txn(db)?;
    {
        let mut table = txn.open_table(SNAPSHOT)?;
        table.insert(KEY_SNAP_META, meta.as_slice())?;
        table.insert(KEY_SNAP_DATA, data)?;
    }
    txn.commit()?;
    Ok(())
}

/// The openraft state machine over `A`.
pub(crate) struct StateMachine<A: App> {
    db: Arc<Store>,
    shared: Shared<A>,
}

impl<A: App> StateMachine<A> {
    pub(crate) fn new(db: Arc<Store>, shared: Shared<A>) -> Self {
        Self { db, shared }
    }
}

/// Applies one normal entry. A command that does not decode or an `apply` that panics is fatal:
/// skipping it would make this node's state diverge from the others. The error names no command
/// content (commands may carry secrets; the reason ends up in /healthz).
fn apply_command<A: App>(app: &mut A, json: &str) -> Result<OutcomeJson, String> {
    let cmd: A::Command = serde_json::from_str(json).map_err(|e| {
        // Category and position only: serde's message may quote the (secret) value.
        format!(
            "undecodable command ({:?} error at column {})",
            e.classify(),
            e.column()
        )
    })?;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| app.apply(&cmd)))
        .map_err(|_| "App::apply panicked".to_string())?;
    let json = serde_json::to_string(&outcome).map_err(|e| format!("unencodable outcome: {e}"))?;
    Ok(OutcomeJson(json))
}

impl<A: App> RaftStateMachine<TypeConfig> for StateMachine<A> {
    type SnapshotBuilder = SnapshotBuilder<A>;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let g = self.shared.read().await;
        Ok((g.last_applied, g.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<OutcomeJson>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut g = self.shared.write().await;
        let mut out = Vec::new();
        for entry in entries {
            let outcome = match entry.payload {
                EntryPayload::Blank => OutcomeJson::default(),
                EntryPayload::Normal(cmd) => apply_command(&mut g.app, &cmd.0).map_err(|e| {
                    let subject = ErrorSubject::Apply(entry.log_id);
                    StorageIOError::new(subject, ErrorVerb::Write, AnyError::error(e))
                })?,
                EntryPayload::Membership(m) => {
                    g.membership = StoredMembership::new(Some(entry.log_id), m);
                    OutcomeJson::default()
                }
            };
            g.last_applied = Some(entry.log_id);
            out.push(outcome);
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            db: self.db.clone(),
            shared: self.shared.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let subject = ErrorSubject::Snapshot(Some(meta.signature()));
        let data = snapshot.into_inner();
        let app: A = serde_json::from_slice(&data).map_err(|e| {
            StorageIOError::new(subject.clone(), ErrorVerb::Read, AnyError::new(&e))
        })?;
        let stored = meta.clone();
        db::blocking(&self.db, subject, ErrorVerb::Write, move |db| {
            write_snapshot(db, &stored, &data)
        })
        .await?;
        let mut g = self.shared.write().await;
        *g = Applied {
            app,
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
        };
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, StorageError> {
        let found = db::blocking(
            &self.db,
            ErrorSubject::Snapshot(None),
            ErrorVerb::Read,
            read_snapshot,
        )
        .await?;
        Ok(found.map(|(meta, data)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}

/// Serialises a consistent view of the state and persists it as the current snapshot.
pub(crate) struct SnapshotBuilder<A: App> {
    db: Arc<Store>,
    shared: Shared<A>,
}

impl<A: App> RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder<A> {
    async fn build_snapshot(&mut self) -> Result<Snapshot, StorageError> {
        let (data, last_log_id, membership) = {
            let g = self.shared.read().await;
            let data = serde_json::to_vec(&g.app).map_err(|e| {
                StorageIOError::new(
                    ErrorSubject::StateMachine,
                    ErrorVerb::Read,
                    AnyError::new(&e),
                )
            })?;
            (data, g.last_applied, g.membership.clone())
        };
        // A snapshot that does not load back (e.g. a NaN float became `null`) would make the
        // store unopenable after the next restart; fail loudly now instead.
        if let Err(e) = serde_json::from_slice::<A>(&data) {
            let why = format!(
                "state does not round-trip through JSON: {:?} error",
                e.classify()
            );
            let subject = ErrorSubject::StateMachine;
            return Err(StorageIOError::new(subject, ErrorVerb::Read, AnyError::error(why)).into());
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let index = last_log_id
            .map(|l| l.index.to_string())
            .unwrap_or_else(|| "none".into());
        let meta = SnapshotMeta {
            last_log_id,
            last_membership: membership,
            snapshot_id: format!("{index}-{nanos}"),
        };
        let subject = ErrorSubject::Snapshot(Some(meta.signature()));
        let (stored, bytes) = (meta.clone(), data.clone());
        db::blocking(&self.db, subject, ErrorVerb::Write, move |db| {
            write_snapshot(db, &stored, &bytes)
        })
        .await?;
        metrics::counter!("marquee_origin_raft_snapshots_total").increment(1);
        metrics::gauge!("marquee_origin_raft_snapshot_bytes").set(data.len() as f64);
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}
