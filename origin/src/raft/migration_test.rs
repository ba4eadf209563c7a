//! A store written before the state had its own file (JSON snapshot in `raft.redb`, log entries
//! after it) opens with everything in it: the snapshot imported, the log replayed on top.
use std::collections::{BTreeMap, BTreeSet};

use openraft::{CommittedLeaderId, EntryPayload, LogId, Membership, StoredMembership, Vote};

use super::db::{
    self, KEY_COMMITTED, KEY_PURGED, KEY_SNAP_DATA, KEY_SNAP_META, KEY_VOTE, LOG, META, SNAPSHOT,
};
use super::types::{CommandJson, Entry, NodeAddrs, SnapshotMeta};
use super::{Replicated, STATE_FILE};
use crate::catalogue::state::{self as catalogue, TitleState};
use crate::state::Origin;
use crate::state::tests::LEGACY_STATE;

fn log_id(index: u64) -> LogId<u64> {
    LogId::new(CommittedLeaderId::new(1, 1), index)
}

/// Writes what an origin of the previous format left: snapshot at index 5, entries 6 and 7.
fn legacy_store(dir: &std::path::Path) {
    let (db, created) = db::open_store(dir, 1).unwrap();
    assert!(created);
    let membership = Membership::new(
        vec![BTreeSet::from([1])],
        BTreeMap::from([(1, NodeAddrs::from("x".to_owned()))]),
    );
    let meta = SnapshotMeta {
        last_log_id: Some(log_id(5)),
        last_membership: StoredMembership::new(Some(log_id(1)), membership),
        snapshot_id: "5-1".into(),
    };
    let entries = [
        (
            6,
            r#"{"CreateTitle":{"id":"t2","meta":{"name":"Later","synopsis":"","year":2021,"genres":[],"maturity_rating":"G","kind":"film","attribution":null},"now":9}}"#,
        ),
        (
            7,
            r#"{"SetPoster":{"title_id":"t1","content_type":"image/png","sha256":"beef"}}"#,
        ),
    ];
    let txn = db.begin_write().unwrap();
    {
        let mut snap = txn.open_table(SNAPSHOT).unwrap();
        snap.insert(KEY_SNAP_META, serde_json::to_vec(&meta).unwrap().as_slice())
            .unwrap();
        snap.insert(KEY_SNAP_DATA, LEGACY_STATE.as_bytes()).unwrap();
        let mut m = txn.open_table(META).unwrap();
        let vote = Vote::new_committed(1, 1);
        m.insert(KEY_VOTE, serde_json::to_vec(&vote).unwrap().as_slice())
            .unwrap();
        m.insert(
            KEY_PURGED,
            serde_json::to_vec(&log_id(5)).unwrap().as_slice(),
        )
        .unwrap();
        m.insert(
            KEY_COMMITTED,
            serde_json::to_vec(&Some(log_id(7))).unwrap().as_slice(),
        )
        .unwrap();
        let mut log = txn.open_table(LOG).unwrap();
        for (index, cmd) in entries {
            let entry = Entry {
                log_id: log_id(index),
                payload: EntryPayload::Normal(CommandJson::One(cmd.into())),
            };
            log.insert(index, serde_json::to_vec(&entry).unwrap().as_slice())
                .unwrap();
        }
    }
    txn.commit().unwrap();
}

#[tokio::test]
async fn a_store_from_before_state_files_keeps_its_accounts_titles_and_packages() {
    let dir = tempfile::tempdir().unwrap();
    legacy_store(dir.path());
    assert!(!dir.path().join(STATE_FILE).exists());
    let node = Replicated::open(dir.path(), 1, "x".to_owned(), Origin)
        .await
        .unwrap();
    let (account, t1, t2) = node
        .read(|tx| {
            Ok((
                crate::accounts::state::account_by_email(tx, "ada@example.com")?,
                catalogue::title(tx, "t1")?,
                catalogue::title(tx, "t2")?,
            ))
        })
        .unwrap();
    assert_eq!(account.map(|a| a.id), Some("a1".to_owned()));
    let t1 = t1.expect("t1 from the snapshot");
    assert_eq!(
        (t1.state, t1.package_path().as_str()),
        (TitleState::Ready, "/media/t1/j1")
    );
    assert_eq!(
        t1.poster.map(|p| p.sha256),
        Some("beef".to_owned()),
        "entry 7 replayed"
    );
    assert_eq!(
        t2.map(|t| t.meta.name),
        Some("Later".into()),
        "entry 6 replayed"
    );
    node.shutdown().await.unwrap();

    // The legacy snapshot is gone and a restart reads the state file as is.
    let (db, _) = db::open_store(dir.path(), 1).unwrap();
    assert!(db::legacy_snapshot(&db).unwrap().is_none());
    drop(db);
    let node = Replicated::open(dir.path(), 1, "x".to_owned(), Origin)
        .await
        .unwrap();
    let titles = node.read(|tx| catalogue::titles(tx, true)).unwrap();
    assert_eq!(titles.len(), 2);
    node.shutdown().await.unwrap();
}
