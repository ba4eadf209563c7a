//! Origin's replicated application: routes each command to the domain that owns it.
//!
//! Each domain (`accounts`, `catalogue`, `jobs`, …) owns its commands, tables and queries in its
//! own folder; this module only knows their names. Handlers compute everything
//! non-deterministic (ids, timestamps, password hashes, content hashes) before building a
//! command; `apply` only decides, so every node reaches the same state.
//!
//! On the wire and in the log a command is its domain's command as is (`{"CreateTitle": …}`),
//! so log entries written before domains had their own enums still replay.

mod legacy;
#[cfg(test)]
pub(crate) mod tests;
mod upgrades;

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::raft::{App, StoreError};
use crate::{
    accounts, billing, catalogue, history, jobs, mylist, notifications, profiles, ratings, series,
    streams, subtitles, token_keys,
};

/// Every replicated change, by domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Accounts(accounts::state::Command),
    Profiles(profiles::state::Command),
    Catalogue(catalogue::state::Command),
    Series(series::state::Command),
    Subtitles(subtitles::state::Command),
    MyList(mylist::state::Command),
    Ratings(ratings::state::Command),
    History(history::state::Command),
    Jobs(jobs::state::Command),
    Notifications(notifications::state::Command),
    TokenKeys(token_keys::state::Command),
    Billing(billing::state::Command),
    Streams(streams::state::Command),
    /// `{"guard", "command"}`: a change that applies only while its session still may.
    Guarded(Guarded),
}

/// A command with the session check it needs, done as it applies ([`accounts::state::Guard`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guarded {
    pub guard: accounts::state::Guard,
    pub command: Box<Command>,
}

/// What a command produced, by domain; a refusal leaves the state unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Accounts(accounts::state::Outcome),
    Profiles(profiles::state::Outcome),
    Catalogue(catalogue::state::Outcome),
    Series(series::state::Outcome),
    Subtitles(subtitles::state::Outcome),
    MyList(mylist::state::Outcome),
    Ratings(ratings::state::Outcome),
    History(history::state::Outcome),
    Jobs(jobs::state::Outcome),
    Notifications(notifications::state::Outcome),
    TokenKeys(token_keys::state::Outcome),
    Billing(billing::state::Outcome),
    Streams(streams::state::Outcome),
    /// A guarded command whose session could no longer make it; nothing changed.
    Refused(accounts::state::GuardRefusal),
}

/// A domain's command type: how it wraps into [`Command`] and finds its outcome again.
pub trait DomainCommand: Into<Command> {
    type Applied;
    type Rejection;
    fn outcome(outcome: Outcome) -> Option<Result<Self::Applied, Self::Rejection>>;
}

macro_rules! domain {
    ($variant:ident, $module:ident) => {
        impl From<$module::state::Command> for Command {
            fn from(c: $module::state::Command) -> Self {
                Command::$variant(c)
            }
        }

        impl DomainCommand for $module::state::Command {
            type Applied = $module::state::Applied;
            type Rejection = $module::state::Rejection;
            fn outcome(outcome: Outcome) -> Option<$module::state::Outcome> {
                match outcome {
                    Outcome::$variant(o) => Some(o),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}
domain!(Accounts, accounts);
domain!(Profiles, profiles);
domain!(Catalogue, catalogue);
domain!(Series, series);
domain!(Subtitles, subtitles);
domain!(MyList, mylist);
domain!(Ratings, ratings);
domain!(History, history);
domain!(Jobs, jobs);
domain!(Notifications, notifications);
domain!(TokenKeys, token_keys);
domain!(Billing, billing);
domain!(Streams, streams);

/// The replicated application of an origin node.
#[derive(Debug, Default)]
pub struct Origin;

impl App for Origin {
    type Command = Command;
    type Outcome = Outcome;

    fn apply(&self, tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
        Ok(match cmd {
            Command::Accounts(c) => Outcome::Accounts(accounts::state::apply(tx, c)?),
            Command::Profiles(c) => Outcome::Profiles(profiles::state::apply(tx, c)?),
            Command::Catalogue(c) => Outcome::Catalogue(catalogue::state::apply(tx, c)?),
            Command::Series(c) => Outcome::Series(series::state::apply(tx, c)?),
            Command::Subtitles(c) => Outcome::Subtitles(subtitles::state::apply(tx, c)?),
            Command::MyList(c) => Outcome::MyList(mylist::state::apply(tx, c)?),
            Command::Ratings(c) => Outcome::Ratings(ratings::state::apply(tx, c)?),
            Command::History(c) => Outcome::History(history::state::apply(tx, c)?),
            Command::Jobs(c) => Outcome::Jobs(jobs::state::apply(tx, c)?),
            Command::Notifications(c) => {
                Outcome::Notifications(notifications::state::apply(tx, c)?)
            }
            Command::TokenKeys(c) => Outcome::TokenKeys(token_keys::state::apply(tx, c)?),
            Command::Billing(c) => Outcome::Billing(billing::state::apply(tx, c)?),
            Command::Streams(c) => Outcome::Streams(streams::state::apply(tx, c)?),
            Command::Guarded(g) => match accounts::state::check_guard(tx, &g.guard)? {
                Ok(()) => self.apply(tx, &g.command)?,
                Err(refusal) => Outcome::Refused(refusal),
            },
        })
    }

    fn upgrade(&self, tx: &WriteTransaction) -> Result<(), StoreError> {
        upgrades::run(tx)
    }

    fn import_legacy(&self, tx: &WriteTransaction, json: &[u8]) -> Result<(), StoreError> {
        legacy::import(tx, json)
    }
}

/// A state file in a temp dir that applies commands as Raft would, for the domains' tests.
#[cfg(test)]
pub(crate) mod testing {
    use redb::ReadableDatabase;

    use super::{DomainCommand, Origin};
    use crate::raft::App;
    use crate::raft::StoreError;

    pub(crate) struct TestState {
        _dir: tempfile::TempDir,
        db: redb::Database,
    }

    impl TestState {
        pub(crate) fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let db = redb::Database::create(dir.path().join("state.redb")).unwrap();
            Self { _dir: dir, db }
        }

        /// Every row of every table (empty tables, which a refused command may open, aside).
        fn rows(&self) -> Vec<(String, Vec<u8>, Vec<u8>)> {
            use redb::{ReadableTable, TableHandle};
            let tx = self.db.begin_read().unwrap();
            let mut out = Vec::new();
            for handle in tx.list_tables().unwrap() {
                let name = handle.name().to_owned();
                let def = redb::TableDefinition::<&[u8], &[u8]>::new(&name);
                for row in tx.open_table(def).unwrap().iter().unwrap() {
                    let (k, v) = row.unwrap();
                    out.push((name.clone(), k.value().to_vec(), v.value().to_vec()));
                }
            }
            out
        }

        /// Applies and commits `cmd`; checks that a refusal changed nothing.
        pub(crate) fn apply<C>(&self, cmd: C) -> Result<C::Applied, C::Rejection>
        where
            C: DomainCommand,
            C::Rejection: std::fmt::Debug,
        {
            let before = self.rows();
            let tx = self.db.begin_write().unwrap();
            let out = Origin.apply(&tx, &cmd.into()).unwrap();
            tx.commit().unwrap();
            let out = C::outcome(out).expect("the outcome of the command's own domain");
            if let Err(r) = &out {
                assert_eq!(self.rows(), before, "the refusal {r:?} changed the state");
            }
            out
        }

        pub(crate) fn read<R>(
            &self,
            f: impl FnOnce(&redb::ReadTransaction) -> Result<R, StoreError>,
        ) -> R {
            f(&self.db.begin_read().unwrap()).unwrap()
        }

        pub(crate) fn write(&self, f: impl FnOnce(&redb::WriteTransaction)) {
            let tx = self.db.begin_write().unwrap();
            f(&tx);
            tx.commit().unwrap();
        }
    }
}
