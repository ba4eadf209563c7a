//! openraft's storage conformance suite against the redb log store and state machine.
use std::sync::Arc;

use openraft::testing::{StoreBuilder, Suite};

use super::App;
use super::db::{self, Store};
use super::journal::Journal;
use super::log_store::LogStore;
use super::state_db::StateDb;
use super::state_machine::{SnapshotDir, StateMachine};
use super::tables::StoreError;
use super::types::{StorageError, TypeConfig};

/// The suite only writes blank and membership entries, so any app will do.
struct Noop;

impl App for Noop {
    type Command = ();
    type Outcome = ();
    fn apply(&self, _tx: &redb::WriteTransaction, _cmd: &()) -> Result<(), StoreError> {
        Ok(())
    }
}

struct RedbBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine<Noop>, tempfile::TempDir> for RedbBuilder {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore, StateMachine<Noop>), StorageError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, _created) = db::open_store(dir.path(), 1).expect("open store");
        let state = StateDb::open(dir.path()).expect("open state");
        let snapshots = SnapshotDir::open(&dir.path().join("snapshots")).expect("snapshot dir");
        let journal = Journal::open(dir.path(), &db).expect("open journal");
        let (store, _closed) = Store::new(db);
        Ok((
            dir,
            LogStore::new(store, journal, 1),
            StateMachine::new(Arc::new(state), Arc::new(Noop), Arc::new(snapshots)),
        ))
    }
}

#[test]
fn redb_store_passes_openraft_storage_suite() -> Result<(), Box<StorageError>> {
    Suite::test_all(RedbBuilder).map_err(Box::new)
}
