//! `RaftLogStorage` over redb, with a write-ahead [`Journal`] making appends durable.
//!
//! Every append is one journal record, its rows kept in memory until the journal's next
//! checkpoint writes them to redb, so it is readable (and replication to followers starts) at
//! once; one `fdatasync` of the journal then makes it durable. Reads take the rows from redb and
//! from that tail. Who waits for that sync differs by who proposed the entries:
//! * the leader's own proposals: a flusher thread syncs once for every append queued since its
//!   last pass and only then reports them flushed (openraft counts the leader's own copy toward
//!   a quorum only then);
//! * entries received from a leader: synced before `append` returns (on the calling task),
//!   because openraft 0.9 acknowledges them to the leader as soon as it does, without waiting
//!   for the flush report.
//!
//! A vote is a journal record synced before `save_vote` returns; truncations and purges are
//! fsync'd redb commits (journal checkpoints).
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{ErrorSubject, ErrorVerb, OptionalSend, RaftLogReader};
use redb::{Database, ReadableDatabase, ReadableTable};

use super::db::{self, DbError, KEY_COMMITTED, KEY_PURGED, KEY_VOTE, LOG, META, Store};
use super::journal::{Journal, Tail};
use super::types::{Entry, LogId, NodeId, StorageError, TypeConfig, Vote};

/// The Raft log, vote and commit pointer of one node. Cheap to clone (it is also the log reader).
#[derive(Clone)]
pub(crate) struct LogStore {
    db: Arc<Store>,
    journal: Arc<Journal>,
    flusher: std::sync::mpsc::Sender<LogFlushed<TypeConfig>>,
    node_id: NodeId,
    /// The vote last saved or read: tells this node's own proposals (made while it leads under
    /// that vote) from entries a leader sent it.
    vote: Arc<std::sync::Mutex<Option<Vote>>>,
}

impl LogStore {
    /// `journal` must have been opened over `db` (which replays it).
    pub(crate) fn new(db: Arc<Store>, journal: Journal, node_id: NodeId) -> Self {
        let (flusher, queued) = std::sync::mpsc::channel();
        let journal = Arc::new(journal);
        let syncing = journal.clone();
        // Ends once every clone of the store is dropped.
        std::thread::Builder::new()
            .name("raft-log-flush".into())
            .spawn(move || flush_appends(&syncing, &queued))
            .expect("spawning the log flusher thread");
        Self {
            db,
            journal,
            flusher,
            node_id,
            vote: Arc::default(),
        }
    }

    fn remember_vote(&self, vote: Option<Vote>) {
        *self.vote.lock().unwrap_or_else(|p| p.into_inner()) = vote;
    }

    /// Whether every entry was proposed by this node as the leader of its current vote. A
    /// leader id (term, node) is unique, so entries carrying this node's current one can only
    /// be its own; entries a later leader sends back carry an older one.
    fn own_proposals(&self, entries: &[Entry]) -> bool {
        let vote = *self.vote.lock().unwrap_or_else(|p| p.into_inner());
        vote.is_some_and(|v| {
            v.is_committed()
                && v.leader_id().node_id == self.node_id
                && entries.iter().all(|e| e.log_id.leader_id == *v.leader_id())
        })
    }

    /// Runs `job` in a journal checkpoint (an fsync'd commit) on the blocking pool.
    async fn checkpoint<F>(&self, subject: ErrorSubject<NodeId>, job: F) -> Result<(), StorageError>
    where
        F: FnOnce(&redb::WriteTransaction) -> Result<(), DbError> + Send + 'static,
    {
        let journal = self.journal.clone();
        db::blocking(&self.db, subject, ErrorVerb::Write, move |db| {
            journal.checkpoint(db, job)
        })
        .await
    }
}

/// Makes appends durable in groups: one journal sync covers every record written before it,
/// then each waiting append hears its result.
fn flush_appends(journal: &Journal, queued: &std::sync::mpsc::Receiver<LogFlushed<TypeConfig>>) {
    while let Ok(first) = queued.recv() {
        let mut waiting = vec![first];
        waiting.extend(queued.try_iter());
        let started = std::time::Instant::now();
        let res = journal.sync();
        record_flush(started);
        for callback in waiting {
            match &res {
                Ok(()) => callback.log_io_completed(Ok(())),
                Err(e) => {
                    callback.log_io_completed(Err(std::io::Error::new(e.kind(), e.to_string())))
                }
            }
        }
    }
}

fn record_flush(started: std::time::Instant) {
    metrics::counter!("marquee_origin_raft_log_flushes_total").increment(1);
    metrics::histogram!("marquee_origin_raft_log_flush_duration_seconds")
        .record(started.elapsed().as_secs_f64());
}

/// The entries in `range`: redb's rows older than the tail, then the tail's.
fn read_range(
    db: &Database,
    tail: &Tail,
    range: (Bound<u64>, Bound<u64>),
) -> Result<Vec<Entry>, DbError> {
    let mut out = Vec::new();
    let tail_start = tail.keys().next().copied();
    let in_redb = match (tail_start, range.1) {
        (Some(start), Bound::Unbounded) => (range.0, Bound::Excluded(start)),
        (Some(start), Bound::Included(end)) if end >= start => (range.0, Bound::Excluded(start)),
        (Some(start), Bound::Excluded(end)) if end > start => (range.0, Bound::Excluded(start)),
        _ => range,
    };
    // A range that ends before it starts would make redb panic.
    if !empty(in_redb) {
        let txn = db.begin_read()?;
        let table = txn.open_table(LOG)?;
        for row in table.range::<u64>(in_redb)? {
            out.push(serde_json::from_slice(row?.1.value())?);
        }
    }
    if !empty(range) {
        for bytes in tail.range(range).map(|(_, v)| v) {
            out.push(serde_json::from_slice(bytes)?);
        }
    }
    Ok(out)
}

fn empty((start, end): (Bound<u64>, Bound<u64>)) -> bool {
    let first = match start {
        Bound::Included(s) => s,
        Bound::Excluded(s) => match s.checked_add(1) {
            Some(s) => s,
            None => return true,
        },
        Bound::Unbounded => 0,
    };
    match end {
        Bound::Included(e) => e < first,
        Bound::Excluded(e) => e <= first,
        Bound::Unbounded => false,
    }
}

fn log_state(db: &Database, tail: &Tail) -> Result<LogState<TypeConfig>, DbError> {
    let last_purged: Option<LogId> = db::get_json(db, META, KEY_PURGED)?;
    let last = match tail.last_key_value() {
        Some((_, v)) => Some(serde_json::from_slice::<Entry>(v)?.log_id),
        None => {
            let txn = db.begin_read()?;
            let table = txn.open_table(LOG)?;
            match table.last()? {
                Some((_, v)) => Some(serde_json::from_slice::<Entry>(v.value())?.log_id),
                None => last_purged,
            }
        }
    };
    Ok(LogState {
        last_purged_log_id: last_purged,
        last_log_id: last,
    })
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let bounds = (range.start_bound().cloned(), range.end_bound().cloned());
        // Replication reads what was just appended: it is in the tail, or in redb's cache.
        let journal = &self.journal;
        db::inline(&self.db, ErrorSubject::Logs, ErrorVerb::Read, move |db| {
            journal.read(db, |db, tail| read_range(db, tail, bounds))
        })
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let journal = self.journal.clone();
        db::blocking(&self.db, ErrorSubject::Logs, ErrorVerb::Read, move |db| {
            journal.read(db, log_state)
        })
        .await
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(vote)
            .map_err(|e| db::storage_error(ErrorSubject::Vote, ErrorVerb::Write, &e.into()))?;
        // A journal record and one sync, on the calling task: a durable redb commit here would
        // write out every append since the last checkpoint, and a voter slower than openraft's
        // vote timeout costs the candidate an election round.
        let journal = &self.journal;
        db::inline(&self.db, ErrorSubject::Vote, ErrorVerb::Write, |db| {
            journal.put_meta(db, KEY_VOTE, &bytes)?;
            journal.sync()?;
            Ok(())
        })?;
        let vote = *vote;
        self.remember_vote(Some(vote));
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        let vote = db::blocking(&self.db, ErrorSubject::Vote, ErrorVerb::Read, |db| {
            db::get_json(db, META, KEY_VOTE)
        })
        .await?;
        self.remember_vote(vote);
        Ok(vote)
    }

    // Not fsync'd: `committed` only lets a restart replay sooner; losing the latest value is safe
    // because the leader re-derives it, and the next durable commit persists it anyway.
    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        db::inline(&self.db, ErrorSubject::Store, ErrorVerb::Write, move |db| {
            db::put_json_lazily(db, META, KEY_COMMITTED, &committed)
        })
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        db::blocking(&self.db, ErrorSubject::Store, ErrorVerb::Read, |db| {
            Ok(db::get_json::<Option<LogId>>(db, META, KEY_COMMITTED)?.flatten())
        })
        .await
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let own = self.own_proposals(&entries);
        let rows = entries
            .iter()
            .map(|e| Ok((e.log_id.index, serde_json::to_vec(e)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(|e| db::storage_error(ErrorSubject::Logs, ErrorVerb::Write, &e.into()));
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                return Err(e);
            }
        };
        let count = rows.len() as u64;
        // Both run here, without a thread switch: the leader's own entries are reported
        // flushed after the flusher's next sync; received entries are synced before this
        // returns. That sync blocks this worker for one `fdatasync` (~0.2 ms), but the hand-off
        // to the blocking pool and back cost ~0.1 ms more on each append (measured on a
        // follower at 1 client: 0.47 ms per append through the pool, 0.35 ms here).
        let journal = &self.journal;
        let res = db::inline(&self.db, ErrorSubject::Logs, ErrorVerb::Write, |db| {
            journal.append(db, &rows)?;
            if !own {
                let started = std::time::Instant::now();
                journal.sync()?;
                record_flush(started);
            }
            Ok(())
        });
        metrics::counter!("marquee_origin_raft_log_entries_appended_total").increment(count);
        match &res {
            Ok(()) if own => {
                if let Err(unsent) = self.flusher.send(callback) {
                    let stopped = std::io::Error::other("the log flusher stopped");
                    unsent.0.log_io_completed(Err(stopped));
                }
            }
            Ok(()) => callback.log_io_completed(Ok(())),
            Err(e) => callback.log_io_completed(Err(std::io::Error::other(e.to_string()))),
        }
        res
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.checkpoint(ErrorSubject::Logs, move |txn| {
            txn.open_table(LOG)?
                .retain_in::<u64, _>(log_id.index.., |_, _| false)?;
            Ok(())
        })
        .await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(&log_id)
            .map_err(|e| db::storage_error(ErrorSubject::Logs, ErrorVerb::Delete, &e.into()))?;
        // The purge pointer and the deletion commit together, so no hole is ever visible.
        self.checkpoint(ErrorSubject::Logs, move |txn| {
            txn.open_table(META)?.insert(KEY_PURGED, bytes.as_slice())?;
            txn.open_table(LOG)?
                .retain_in::<u64, _>(..=log_id.index, |_, _| false)?;
            Ok(())
        })
        .await
    }
}
#[cfg(test)]
mod tests {
    use openraft::{CommittedLeaderId, EntryPayload};

    use super::*;

    fn entry(term: u64, node: NodeId, index: u64) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(term, node), index),
            payload: EntryPayload::Blank,
        }
    }

    #[test]
    fn a_range_read_joins_redb_and_the_tail_without_gaps_or_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = db::open_store(dir.path(), 1).unwrap();
        let journal = Journal::open(dir.path(), &db).unwrap();
        let rows = |from: u64, to: u64| -> Vec<(u64, Vec<u8>)> {
            (from..=to)
                .map(|i| (i, serde_json::to_vec(&entry(1, 1, i)).unwrap()))
                .collect()
        };
        journal.append(&db, &rows(1, 5)).unwrap();
        journal.checkpoint(&db, |_| Ok(())).unwrap();
        journal.append(&db, &rows(6, 9)).unwrap();
        let read = |range: (Bound<u64>, Bound<u64>)| -> Vec<u64> {
            let entries = journal.read(&db, |db, tail| read_range(db, tail, range));
            entries.unwrap().iter().map(|e| e.log_id.index).collect()
        };
        use Bound::{Excluded, Included, Unbounded};
        assert_eq!(read((Unbounded, Unbounded)), (1..=9).collect::<Vec<_>>());
        assert_eq!(read((Included(4), Excluded(8))), [4, 5, 6, 7]);
        assert_eq!(read((Included(2), Included(3))), [2, 3], "redb only");
        assert_eq!(read((Included(7), Unbounded)), [7, 8, 9], "tail only");
        assert_eq!(read((Included(6), Excluded(6))), Vec::<u64>::new());
        assert_eq!(read((Excluded(6), Excluded(6))), Vec::<u64>::new());
        assert_eq!(read((Included(8), Included(3))), Vec::<u64>::new());
        let state = journal.read(&db, log_state).unwrap();
        assert_eq!(state.last_log_id.map(|l| l.index), Some(9));
    }

    #[test]
    fn only_this_leaders_own_entries_skip_the_fsync_before_append_returns() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = db::open_store(dir.path(), 1).unwrap();
        let journal = Journal::open(dir.path(), &db).unwrap();
        let (store, _closed) = Store::new(db);
        let log = LogStore::new(store, journal, 1);
        assert!(!log.own_proposals(&[entry(2, 1, 5)]), "no vote yet");
        log.remember_vote(Some(Vote::new_committed(2, 1)));
        assert!(log.own_proposals(&[entry(2, 1, 5), entry(2, 1, 6)]));
        assert!(
            !log.own_proposals(&[entry(1, 1, 4)]),
            "an older term of its own, sent back"
        );
        assert!(!log.own_proposals(&[entry(2, 1, 5), entry(1, 2, 3)]));
        log.remember_vote(Some(Vote::new_committed(3, 2)));
        assert!(!log.own_proposals(&[entry(3, 2, 7)]), "another node leads");
        log.remember_vote(Some(Vote::new(4, 1)));
        assert!(
            !log.own_proposals(&[entry(4, 1, 8)]),
            "a candidate has no proposals"
        );
    }
}
