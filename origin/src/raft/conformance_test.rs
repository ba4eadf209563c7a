//! openraft's storage conformance suite against the redb log store and state machine.
use openraft::testing::{StoreBuilder, Suite};

use super::App;
use super::db::{self, Store};
use super::log_store::LogStore;
use super::state_machine::{self, StateMachine};
use super::types::{StorageError, TypeConfig};

/// The suite only writes blank and membership entries, so any app will do.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Noop;

impl App for Noop {
    type Command = ();
    type Outcome = ();
    fn apply(&mut self, _cmd: &()) {}
}

struct RedbBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine<Noop>, tempfile::TempDir> for RedbBuilder {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore, StateMachine<Noop>), StorageError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, _created) = db::open_store(dir.path(), 1).expect("open store");
        let applied = state_machine::load::<Noop>(&db).expect("load state");
        let (store, _closed) = Store::new(db);
        let shared = std::sync::Arc::new(tokio::sync::RwLock::new(applied));
        Ok((
            dir,
            LogStore::new(store.clone()),
            StateMachine::new(store, shared),
        ))
    }
}

#[test]
fn redb_store_passes_openraft_storage_suite() -> Result<(), Box<StorageError>> {
    Suite::test_all(RedbBuilder).map_err(Box::new)
}
