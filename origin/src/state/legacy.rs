//! The state as origins before state files kept it: the whole app as one JSON document in the
//! Raft snapshot. Read once, when such a store is first opened, into the domains' tables.

use std::collections::BTreeMap;

use redb::WriteTransaction;
use serde::Deserialize;

use crate::accounts::state::{Account, Session};
use crate::catalogue::state::Title;
use crate::jobs::state::Job;
use crate::raft::StoreError;
use crate::{accounts, catalogue, jobs};

#[derive(Deserialize)]
struct LegacyState {
    accounts: BTreeMap<String, Account>,
    sessions: BTreeMap<String, Session>,
    titles: BTreeMap<String, Title>,
    jobs: BTreeMap<String, Job>,
}

pub(super) fn import(tx: &WriteTransaction, json: &[u8]) -> Result<(), StoreError> {
    let old: LegacyState = serde_json::from_slice(json).map_err(|e| StoreError::Decode {
        table: "legacy snapshot",
        reason: format!("{:?} error at column {}", e.classify(), e.column()),
    })?;
    accounts::state::import(tx, old.accounts.into_values(), old.sessions)?;
    catalogue::state::import(tx, old.titles.into_values())?;
    jobs::state::import(tx, old.jobs.into_values())?;
    Ok(())
}
