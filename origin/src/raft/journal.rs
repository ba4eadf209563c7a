//! The Raft log's write-ahead journal: a plain file in front of the redb log table.
//!
//! A durable redb commit writes several scattered pages and then fsyncs; with three nodes on one
//! disk those fsyncs queue behind each other (measured on this machine: 0.43 ms per commit with
//! three writers, against 0.19 ms to fdatasync a record written over already-allocated space).
//! So each append is one record here, and one `fdatasync` of this file makes it durable. The
//! rows themselves stay in memory (the *tail*, readable at once) until the next checkpoint
//! writes them to redb: a redb commit per append, even without fsync, cost ~50 µs on the path
//! every write waits for, on the leader and again on each follower. The tail never holds more
//! than one journal's worth of rows ([`CHECKPOINT_BYTES`]).
//!
//! Votes go the same way (a record, a commit without fsync, one sync): a durable redb commit
//! writes out everything appended since the last one, up to 4 MiB, and a voter slower than
//! openraft's vote timeout (half the election timeout) loses the election a round.
//!
//! A *checkpoint* (every durable commit of the log store: truncations, purges, and each time
//! the file reaches [`CHECKPOINT_BYTES`]) writes the tail to redb, so redb holds everything by
//! itself. It bumps
//! the journal's *generation* in the same commit and starts writing at offset 0 again, over the
//! old records. A restart replays only the records of the current generation, from the start,
//! up to the first one that is torn or older, so nothing truncated or purged comes back.
//!
//! A record is `[payload length u32][crc32 of generation and payload u32][generation u64]` and
//! its payload, all little-endian. A payload is a kind byte, then for log rows the rows
//! `[index u64][length u32][entry]`, or for a record of the log store's own (the vote)
//! `[key length u32][key][value]`.
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Mutex, RwLock};

use redb::{Database, ReadableDatabase};

use super::db::{DbError, LOG, META};

/// File name of the journal inside the node's directory.
pub const JOURNAL_FILE: &str = "raft.journal";
/// The generation the journal's records must carry to be replayed.
const KEY_GENERATION: &str = "journal_generation";
/// Once the file holds this much, the next append checkpoints and writes from offset 0 again.
const CHECKPOINT_BYTES: u64 = 4 << 20;
/// The file is filled with zeros up to this size when opened, so an append overwrites blocks
/// already allocated and its `fdatasync` writes no metadata (measured: 0.19 ms against
/// 0.23 ms while the file grows, with three nodes syncing on one disk). Zeros end a replay.
const PREALLOCATED_BYTES: u64 = CHECKPOINT_BYTES + (256 << 10);
const HEADER_BYTES: usize = 16;

/// Where the next record goes, and the generation it carries.
struct Cursor {
    offset: u64,
    generation: u64,
}

/// Rows appended since the last checkpoint, by index: all newer than any row in redb.
pub(crate) type Tail = BTreeMap<u64, Vec<u8>>;

pub(crate) struct Journal {
    file: File,
    cursor: Mutex<Cursor>,
    /// Locked after `cursor` when both are needed.
    tail: RwLock<Tail>,
}

impl Journal {
    /// Opens (or creates) the journal beside `db`, replays the current generation's records
    /// into the log table, and checkpoints. Blocking.
    pub(crate) fn open(dir: &Path, db: &Database) -> Result<Journal, DbError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(JOURNAL_FILE))?;
        let generation = stored_generation(db)?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut bytes)?;
        // Generation 0 is never written: the first open checkpoints to 1 before any append.
        let changes = if generation == 0 {
            Vec::new()
        } else {
            records(&bytes, generation)
        };
        let journal = Journal {
            file,
            cursor: Mutex::new(Cursor {
                offset: 0,
                generation,
            }),
            tail: RwLock::default(),
        };
        preallocate(&journal.file, bytes.len() as u64)?;
        let replayed = changes.len();
        journal.checkpoint(db, |txn| {
            for change in &changes {
                change.as_change().commit_to(txn)?;
            }
            Ok(())
        })?;
        if replayed > 0 {
            tracing::info!(records = replayed, "replayed the raft log journal");
        }
        Ok(journal)
    }

    fn cursor(&self) -> std::sync::MutexGuard<'_, Cursor> {
        self.cursor.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `rows` (index, entry bytes) as one record and adds them to the tail: readable at
    /// once ([`Journal::read`]), durable after the next [`Journal::sync`], in redb after the
    /// next checkpoint.
    pub(crate) fn append(&self, db: &Database, rows: &[(u64, Vec<u8>)]) -> Result<(), DbError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.write(db, &Change::Rows(rows))
    }

    /// Runs `read` with the log table's database and the tail, which no checkpoint moves
    /// meanwhile.
    pub(crate) fn read<R>(
        &self,
        db: &Database,
        read: impl FnOnce(&Database, &Tail) -> Result<R, DbError>,
    ) -> Result<R, DbError> {
        let tail = self.tail.read().unwrap_or_else(|p| p.into_inner());
        read(db, &tail)
    }

    /// Like [`Journal::append`], for one record of the log store's own table (the vote).
    pub(crate) fn put_meta(&self, db: &Database, key: &str, value: &[u8]) -> Result<(), DbError> {
        self.write(db, &Change::Meta { key, value })
    }

    fn write(&self, db: &Database, change: &Change<'_>) -> Result<(), DbError> {
        // One lock around record and commit: a checkpoint between them would reset the file
        // under a record whose change its durable commit does not hold.
        let mut cursor = self.cursor();
        let record = encode(cursor.generation, change);
        self.file.write_all_at(&record, cursor.offset)?;
        match change {
            Change::Rows(rows) => {
                let mut tail = self.tail.write().unwrap_or_else(|p| p.into_inner());
                tail.extend(rows.iter().cloned());
            }
            Change::Meta { .. } => {
                let mut txn = db.begin_write()?;
                txn.set_durability(redb::Durability::None)?;
                change.commit_to(&txn)?;
                txn.commit()?;
            }
        }
        cursor.offset += record.len() as u64;
        if cursor.offset >= CHECKPOINT_BYTES {
            drop(cursor);
            self.checkpoint(db, |_| Ok(()))?;
        }
        Ok(())
    }

    /// Makes every record written so far durable.
    pub(crate) fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// Runs `job` in a durable (fsync'd) commit that first writes the tail to redb (so `job`
    /// sees every append) and moves the journal to a fresh generation, so its old records are
    /// never replayed.
    pub(crate) fn checkpoint<F>(&self, db: &Database, job: F) -> Result<(), DbError>
    where
        F: FnOnce(&redb::WriteTransaction) -> Result<(), DbError>,
    {
        let started = std::time::Instant::now();
        let mut cursor = self.cursor();
        let mut tail = self.tail.write().unwrap_or_else(|p| p.into_inner());
        let next = cursor.generation + 1;
        let txn = super::db::durable_txn(db)?;
        {
            let mut log = txn.open_table(LOG)?;
            for (index, bytes) in tail.iter() {
                log.insert(*index, bytes.as_slice())?;
            }
        }
        job(&txn)?;
        txn.open_table(META)?
            .insert(KEY_GENERATION, next.to_be_bytes().as_slice())?;
        txn.commit()?;
        tail.clear();
        *cursor = Cursor {
            offset: 0,
            generation: next,
        };
        metrics::histogram!("marquee_origin_raft_log_checkpoint_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(())
    }
}

/// Grows the file from `len` to [`PREALLOCATED_BYTES`] with written zeros (a hole would need
/// blocks allocated, and metadata synced, on the first write into it).
fn preallocate(file: &File, len: u64) -> std::io::Result<()> {
    if len >= PREALLOCATED_BYTES {
        return Ok(());
    }
    let zeros = vec![0u8; 1 << 20];
    let mut at = len;
    while at < PREALLOCATED_BYTES {
        let n = zeros.len().min((PREALLOCATED_BYTES - at) as usize);
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    file.sync_all()
}

fn stored_generation(db: &Database) -> Result<u64, DbError> {
    let txn = db.begin_read()?;
    let meta = txn.open_table(META)?;
    let Some(v) = meta.get(KEY_GENERATION)? else {
        return Ok(0);
    };
    let bytes = <[u8; 8]>::try_from(v.value())
        .map_err(|_| DbError::Missing("a well-formed journal generation"))?;
    Ok(u64::from_be_bytes(bytes))
}

fn checksum(generation: u64, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&generation.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

const KIND_ROWS: u8 = 0;
const KIND_META: u8 = 1;

/// What one record changes.
enum Change<'a> {
    Rows(&'a [(u64, Vec<u8>)]),
    Meta { key: &'a str, value: &'a [u8] },
}

impl Change<'_> {
    fn commit_to(&self, txn: &redb::WriteTransaction) -> Result<(), DbError> {
        match self {
            Change::Rows(rows) => {
                let mut log = txn.open_table(LOG)?;
                for (index, bytes) in *rows {
                    log.insert(*index, bytes.as_slice())?;
                }
            }
            Change::Meta { key, value } => {
                txn.open_table(META)?.insert(*key, *value)?;
            }
        }
        Ok(())
    }
}

/// A change read back from the file.
enum Replayed {
    Rows(Vec<(u64, Vec<u8>)>),
    Meta { key: String, value: Vec<u8> },
}

impl Replayed {
    fn as_change(&self) -> Change<'_> {
        match self {
            Replayed::Rows(rows) => Change::Rows(rows),
            Replayed::Meta { key, value } => Change::Meta { key, value },
        }
    }
}

/// One record, built in place: the header's length and checksum are filled in once the payload
/// is written behind it.
fn encode(generation: u64, change: &Change<'_>) -> Vec<u8> {
    let mut record = vec![0u8; HEADER_BYTES];
    match change {
        Change::Rows(rows) => {
            record.reserve(1 + rows.iter().map(|(_, b)| 12 + b.len()).sum::<usize>());
            record.push(KIND_ROWS);
            for (index, bytes) in *rows {
                record.extend_from_slice(&index.to_le_bytes());
                record.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                record.extend_from_slice(bytes);
            }
        }
        Change::Meta { key, value } => {
            record.push(KIND_META);
            record.extend_from_slice(&(key.len() as u32).to_le_bytes());
            record.extend_from_slice(key.as_bytes());
            record.extend_from_slice(value);
        }
    }
    let payload = &record[HEADER_BYTES..];
    let (len, crc) = (payload.len() as u32, checksum(generation, payload));
    record[..4].copy_from_slice(&len.to_le_bytes());
    record[4..8].copy_from_slice(&crc.to_le_bytes());
    record[8..16].copy_from_slice(&generation.to_le_bytes());
    record
}

/// The changes of the leading records of `generation` in `bytes`, in order; stops at the
/// first record that is torn, damaged or of another generation.
fn records(bytes: &[u8], generation: u64) -> Vec<Replayed> {
    let mut changes = Vec::new();
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + HEADER_BYTES) {
        let word = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().expect("4 bytes"));
        let (len, crc) = (word(0) as usize, word(4));
        let gen_of = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
        let Some(payload) = bytes.get(at + HEADER_BYTES..at + HEADER_BYTES + len) else {
            break;
        };
        if gen_of != generation || len == 0 || checksum(gen_of, payload) != crc {
            break;
        }
        let Some(change) = decode(payload) else {
            break;
        };
        changes.push(change);
        at += HEADER_BYTES + len;
    }
    changes
}

fn decode(payload: &[u8]) -> Option<Replayed> {
    let (&kind, mut rest) = payload.split_first()?;
    match kind {
        KIND_ROWS => {
            let mut rows = Vec::new();
            while !rest.is_empty() {
                let index = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
                let len = u32::from_le_bytes(rest.get(8..12)?.try_into().ok()?) as usize;
                rows.push((index, rest.get(12..12 + len)?.to_vec()));
                rest = &rest[12 + len..];
            }
            Some(Replayed::Rows(rows))
        }
        KIND_META => {
            let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            let key = std::str::from_utf8(rest.get(4..4 + len)?).ok()?.to_owned();
            let value = rest[4 + len..].to_vec();
            Some(Replayed::Meta { key, value })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use redb::ReadableTable;

    use super::super::db::{STORE_FILE, open_store};
    use super::*;

    /// Opens the store in `dir` with its journal (replaying it).
    fn open(dir: &Path) -> (Database, Journal) {
        let (db, _) = open_store(dir, 1).unwrap();
        let journal = Journal::open(dir, &db).unwrap();
        (db, journal)
    }

    fn rows(from: u64, to: u64, tag: &str) -> Vec<(u64, Vec<u8>)> {
        (from..=to)
            .map(|i| (i, format!("{tag}{i}").into_bytes()))
            .collect()
    }

    fn log(db: &Database) -> Vec<(u64, String)> {
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(LOG).unwrap();
        let rows = table.iter().unwrap().map(|r| {
            let (k, v) = r.unwrap();
            (k.value(), String::from_utf8(v.value().to_vec()).unwrap())
        });
        rows.collect()
    }

    /// A node that crashes right after an fsync'd append: redb never made its rows durable,
    /// which this models by opening the journal over a copy of the redb file taken before.
    fn crash_after(dir: &Path, append: impl FnOnce(&Journal, &Database)) -> Database {
        let (db, journal) = open(dir);
        drop(db);
        let before = std::fs::read(dir.join(STORE_FILE)).unwrap();
        let (db, _) = open_store(dir, 1).unwrap();
        append(&journal, &db);
        journal.sync().unwrap();
        drop((journal, db));
        std::fs::write(dir.join(STORE_FILE), before).unwrap();
        open(dir).0
    }

    #[test]
    fn synced_appends_survive_a_crash_that_redb_did_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = crash_after(dir.path(), |journal, db| {
            journal.append(db, &rows(1, 3, "a")).unwrap();
            journal.append(db, &rows(4, 4, "a")).unwrap();
        });
        let want: Vec<_> = (1..=4).map(|i| (i, format!("a{i}"))).collect();
        assert_eq!(log(&db), want);
    }

    #[test]
    fn a_synced_vote_survives_a_crash_in_order_with_the_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = crash_after(dir.path(), |journal, db| {
            journal.put_meta(db, "vote", b"term 2").unwrap();
            journal.append(db, &rows(1, 1, "a")).unwrap();
            journal.put_meta(db, "vote", b"term 3").unwrap();
        });
        assert_eq!(log(&db), vec![(1, "a1".into())]);
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        let vote = meta.get("vote").unwrap().map(|v| v.value().to_vec());
        assert_eq!(vote.as_deref(), Some(&b"term 3"[..]), "the last vote wins");
    }

    #[test]
    fn appended_rows_are_read_from_memory_until_a_checkpoint_writes_them_to_redb() {
        let dir = tempfile::tempdir().unwrap();
        let (db, journal) = open(dir.path());
        journal.append(&db, &rows(1, 2, "a")).unwrap();
        journal.checkpoint(&db, |_| Ok(())).unwrap();
        journal.append(&db, &rows(3, 4, "a")).unwrap();
        let tail = |j: &Journal| j.read(&db, |_, tail| Ok(tail.clone())).unwrap();
        assert_eq!(tail(&journal).keys().copied().collect::<Vec<_>>(), [3, 4]);
        assert_eq!(log(&db).len(), 2, "no redb commit per append");
        // A truncation from 4 sees the tail's rows as if they were in redb.
        journal
            .checkpoint(&db, |txn| {
                txn.open_table(LOG)?
                    .retain_in::<u64, _>(4.., |_, _| false)?;
                Ok(())
            })
            .unwrap();
        assert!(tail(&journal).is_empty());
        let want: Vec<_> = (1..=3).map(|i| (i, format!("a{i}"))).collect();
        assert_eq!(log(&db), want);
    }

    #[test]
    fn records_of_an_older_generation_are_never_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let (db, journal) = open(dir.path());
        journal.append(&db, &rows(1, 5, "a")).unwrap();
        // A truncation from 3 on: the records holding a3..a5 stay in the file, one generation back.
        journal
            .checkpoint(&db, |txn| {
                txn.open_table(LOG)?
                    .retain_in::<u64, _>(3.., |_, _| false)?;
                Ok(())
            })
            .unwrap();
        journal.sync().unwrap();
        drop((journal, db));
        let (db, _) = open(dir.path());
        assert_eq!(log(&db), vec![(1, "a1".into()), (2, "a2".into())]);
    }

    #[test]
    fn a_torn_last_record_is_left_out_and_the_ones_before_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = crash_after(dir.path(), |journal, db| {
            journal.append(db, &rows(1, 2, "a")).unwrap();
            journal.append(db, &rows(3, 3, "b")).unwrap();
            // Tear the second record: its last byte never reached the disk.
            let end = journal.cursor().offset;
            journal.file.write_all_at(&[0xff], end - 1).unwrap();
        });
        assert_eq!(log(&db), vec![(1, "a1".into()), (2, "a2".into())]);
    }

    #[test]
    fn a_full_journal_checkpoints_and_starts_over_in_its_allocated_space() {
        let dir = tempfile::tempdir().unwrap();
        let (db, journal) = open(dir.path());
        let size = || {
            std::fs::metadata(dir.path().join(JOURNAL_FILE))
                .unwrap()
                .len()
        };
        assert_eq!(size(), PREALLOCATED_BYTES, "allocated when opened");
        let big = vec![b'x'; 1 << 20];
        let first = journal.cursor().generation;
        for i in 0..4 {
            journal.append(&db, &[(i, big.clone())]).unwrap();
        }
        let cursor = journal.cursor();
        assert_eq!(cursor.generation, first + 1, "one checkpoint after 4 MiB");
        assert_eq!(cursor.offset, 0);
        assert_eq!(size(), PREALLOCATED_BYTES, "never grown");
    }
}
