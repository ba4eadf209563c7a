//! `RaftStateMachine` over the state file ([`StateDb`]): each batch of entries is applied in one
//! redb write transaction that also records the last applied log id and membership, so a restart
//! replays only what came after. Snapshots are files under `<dir>/snapshots/` (see
//! [`super::snapshot`]).
use std::io::SeekFrom;
use std::os::fd::AsRawFd;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::storage::RaftStateMachine;
use openraft::{
    AnyError, EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder,
    StorageIOError,
};
use redb::ReadableDatabase;
use tokio::io::AsyncSeekExt;

use super::App;
use super::snapshot;
use super::state_db::{
    self, KEY_LAST_APPLIED, KEY_MEMBERSHIP, LAST_APPLIED, MEMBERSHIP, RETIRED, StateDb,
};
use super::tables::StoreError;
use super::types::{
    CommandJson, Entry, LogId, OutcomeJson, Snapshot, SnapshotMeta, StorageError, StoredMembership,
    TypeConfig,
};

/// Apply batches commit without fsync (the log already has them); at most this long passes
/// between durable commits, which bounds what a restart replays.
const DURABLE_EVERY: Duration = Duration::from_secs(1);
/// ...or this many commands, whichever comes first. A durable commit writes every page changed
/// since the last one while applies wait, so under load it comes sooner and stays short
/// (measured at 64 clients: ~15 ms once a second against ~3 ms every 500 commands, which took
/// the p99 from ~34 ms to ~24 ms); when quiet it stays rare and off the p99.
const DURABLE_AFTER_COMMANDS: usize = 500;

/// Applies since the last durable commit.
struct SinceDurable {
    at: Instant,
    commands: usize,
}

impl SinceDurable {
    fn new(now: Instant) -> Self {
        Self {
            at: now,
            commands: 0,
        }
    }

    /// Counts a batch of `commands` about to apply; whether its commit is the durable one
    /// (then the count starts over from `now`).
    fn due(&mut self, commands: usize, now: Instant) -> bool {
        self.commands += commands;
        let due =
            now.duration_since(self.at) >= DURABLE_EVERY || self.commands >= DURABLE_AFTER_COMMANDS;
        if due {
            *self = Self::new(now);
        }
        due
    }
}

fn storage(subject: ErrorSubject<u64>, verb: ErrorVerb, e: impl ToString) -> StorageError {
    StorageIOError::new(subject, verb, AnyError::error(e.to_string())).into()
}

/// Runs a blocking job; a panic becomes a storage error.
async fn blocking<T: Send + 'static>(
    subject: ErrorSubject<u64>,
    verb: ErrorVerb,
    job: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, StorageError> {
    match tokio::task::spawn_blocking(job).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(storage(subject, verb, e)),
        Err(join) => Err(storage(subject, verb, format!("task panicked: {join}"))),
    }
}

/// The openraft state machine over `A`.
pub(crate) struct StateMachine<A: App> {
    state: Arc<StateDb>,
    app: Arc<A>,
    snapshots: Arc<SnapshotDir>,
    since_durable: Arc<Mutex<SinceDurable>>,
}

impl<A: App> StateMachine<A> {
    pub(crate) fn new(state: Arc<StateDb>, app: Arc<A>, snapshots: Arc<SnapshotDir>) -> Self {
        Self {
            state,
            app,
            snapshots,
            since_durable: Arc::new(Mutex::new(SinceDurable::new(Instant::now()))),
        }
    }
}

/// Decodes and applies one command. A command that does not decode or an `apply` that panics
/// is fatal: skipping it would make this node diverge. The error names no command content
/// (commands may carry secrets; the reason ends up in /healthz).
fn apply_payload<A: App>(
    app: &A,
    txn: &redb::WriteTransaction,
    payload: &CommandJson,
) -> Result<OutcomeJson, String> {
    match payload {
        CommandJson::One(json) => apply_command(app, txn, json),
        CommandJson::Batch { batch } => {
            let mut outcomes = Vec::with_capacity(batch.len());
            for json in batch {
                outcomes.push(apply_command(app, txn, json)?.0);
            }
            Ok(OutcomeJson(format!("[{}]", outcomes.join(","))))
        }
    }
}

fn apply_command<A: App>(
    app: &A,
    txn: &redb::WriteTransaction,
    json: &str,
) -> Result<OutcomeJson, String> {
    let cmd: A::Command = serde_json::from_str(json).map_err(|e| {
        format!(
            "undecodable command ({:?} error at column {})",
            e.classify(),
            e.column()
        )
    })?;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| app.apply(txn, &cmd)))
        .map_err(|_| "App::apply panicked".to_string())?
        .map_err(|e| format!("applying a command failed: {e}"))?;
    let json = serde_json::to_string(&outcome).map_err(|e| format!("unencodable outcome: {e}"))?;
    Ok(OutcomeJson(json))
}

/// Stores a new membership; nodes it drops are retired, so their ids are never reused.
fn record_membership(
    txn: &redb::WriteTransaction,
    stored: &StoredMembership,
) -> Result<(), StoreError> {
    if let Some(before) = MEMBERSHIP.get(txn, KEY_MEMBERSHIP)? {
        let now: Vec<u64> = stored.membership().nodes().map(|(id, _)| *id).collect();
        for (id, _) in before.membership().nodes() {
            if !now.contains(id) {
                RETIRED.put(txn, &id.to_be_bytes(), &())?;
            }
        }
    }
    MEMBERSHIP.put(txn, KEY_MEMBERSHIP, stored)
}

fn commands_in(entry: &Entry) -> usize {
    match &entry.payload {
        EntryPayload::Normal(CommandJson::One(_)) => 1,
        EntryPayload::Normal(CommandJson::Batch { batch }) => batch.len(),
        EntryPayload::Blank | EntryPayload::Membership(_) => 0,
    }
}

fn apply_batch<A: App>(
    state: &StateDb,
    app: &A,
    entries: Vec<Entry>,
    durable: bool,
) -> Result<Vec<OutcomeJson>, (Option<LogId>, String)> {
    let db = state.db().map_err(|e| (None, e.to_string()))?;
    let txn = if durable {
        state_db::durable_write(&db)
    } else {
        db.begin_write()
            .map_err(StoreError::from)
            .and_then(|mut t| {
                t.set_durability(redb::Durability::None)?;
                Ok(t)
            })
    }
    .map_err(|e| (None, e.to_string()))?;
    let mut out = Vec::with_capacity(entries.len());
    let mut last = None;
    for entry in entries {
        let at = |e: String| (Some(entry.log_id), e);
        let outcome = match entry.payload {
            EntryPayload::Blank => OutcomeJson::default(),
            EntryPayload::Normal(cmd) => apply_payload(app, &txn, &cmd).map_err(at)?,
            EntryPayload::Membership(m) => {
                let stored = StoredMembership::new(Some(entry.log_id), m);
                record_membership(&txn, &stored).map_err(|e| at(e.to_string()))?;
                OutcomeJson::default()
            }
        };
        last = Some(entry.log_id);
        out.push(outcome);
    }
    if last.is_some() {
        LAST_APPLIED
            .put(&txn, KEY_LAST_APPLIED, &last)
            .map_err(|e| (last, e.to_string()))?;
    }
    let started = Instant::now();
    txn.commit().map_err(|e| (last, e.to_string()))?;
    if durable {
        metrics::histogram!("marquee_origin_raft_state_sync_duration_seconds")
            .record(started.elapsed().as_secs_f64());
    }
    Ok(out)
}

impl<A: App> RaftStateMachine<TypeConfig> for StateMachine<A> {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let state = self.state.clone();
        blocking(ErrorSubject::StateMachine, ErrorVerb::Read, move || {
            let tx = state.begin_read().map_err(|e| e.to_string())?;
            StateDb::applied(&tx).map_err(|e| e.to_string())
        })
        .await
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<OutcomeJson>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let (state, app) = (self.state.clone(), self.app.clone());
        let commands = entries.iter().map(commands_in).sum();
        let durable = (self.since_durable.lock())
            .unwrap_or_else(|p| p.into_inner())
            .due(commands, Instant::now());
        // A commit without fsync runs here (a thread switch costs more); the one that
        // fsyncs on the blocking pool.
        let res = if durable {
            tokio::task::spawn_blocking(move || apply_batch(&state, &*app, entries, durable))
                .await
                .map_err(|join| join.to_string())
        } else {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                apply_batch(&state, &*app, entries, durable)
            }))
            .map_err(|_| "panicked".to_owned())
        };
        match res {
            Ok(Ok(out)) => Ok(out),
            Ok(Err((Some(log_id), e))) => {
                Err(storage(ErrorSubject::Apply(log_id), ErrorVerb::Write, e))
            }
            Ok(Err((None, e))) => Err(storage(ErrorSubject::StateMachine, ErrorVerb::Write, e)),
            Err(join) => Err(storage(
                ErrorSubject::StateMachine,
                ErrorVerb::Write,
                format!("apply task panicked: {join}"),
            )),
        }
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            state: self.state.clone(),
            snapshots: self.snapshots.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError> {
        let path = self
            .snapshots
            .dir
            .join(format!("incoming-{}.part", crate::ids::random_hex::<8>()));
        let file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(|e| storage(ErrorSubject::Snapshot(None), ErrorVerb::Write, e))?;
        self.snapshots.receiving(file.as_raw_fd(), path);
        Ok(Box::new(file))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        mut snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError> {
        let subject = ErrorSubject::Snapshot(Some(meta.signature()));
        let fail = |e: &dyn std::fmt::Display| storage(subject.clone(), ErrorVerb::Write, e);
        snapshot.sync_all().await.map_err(|e| fail(&e))?;
        let received = self.snapshots.received(snapshot.as_raw_fd());
        snapshot
            .seek(SeekFrom::Start(0))
            .await
            .map_err(|e| fail(&e))?;
        let file = snapshot.into_std().await;
        let (state, snapshots, meta) = (self.state.clone(), self.snapshots.clone(), meta.clone());
        let app = self.app.clone();
        let started = std::time::Instant::now();
        blocking(subject.clone(), ErrorVerb::Write, move || {
            install(&state, &snapshots, &meta, file, received)?;
            // A snapshot from an older leader lacks what this version builds at open.
            super::upgrade(&state, &*app).map_err(|e| e.to_string())
        })
        .await?;
        metrics::counter!("marquee_origin_raft_snapshots_installed_total").increment(1);
        // Loading the received file into a fresh state file (the transfer is not included).
        metrics::histogram!("marquee_origin_raft_snapshot_install_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, StorageError> {
        let Some((meta, path)) = self.snapshots.current() else {
            return Ok(None);
        };
        let file = tokio::fs::File::open(&path).await.map_err(|e| {
            storage(
                ErrorSubject::Snapshot(Some(meta.signature())),
                ErrorVerb::Read,
                e,
            )
        })?;
        Ok(Some(Snapshot {
            meta,
            snapshot: Box::new(file),
        }))
    }
}

/// Copies what is read into a file: the received stream becomes the kept snapshot.
struct Tee<R, W> {
    from: R,
    to: W,
}

impl<R: std::io::Read, W: std::io::Write> std::io::Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.from.read(buf)?;
        self.to.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Checks the received stream into a fresh file, swaps it in, keeps it as the current snapshot.
fn install(
    state: &StateDb,
    snapshots: &SnapshotDir,
    meta: &SnapshotMeta,
    file: std::fs::File,
    received: Option<PathBuf>,
) -> Result<(), String> {
    let fresh = state.path().with_extension("redb.installing");
    let copy_path = snapshots
        .dir
        .join(format!("installing-{}.part", crate::ids::random_hex::<8>()));
    let copy = std::fs::File::create(&copy_path).map_err(|e| e.to_string())?;
    let mut tee = Tee {
        from: file,
        to: std::io::BufWriter::new(copy),
    };
    let loaded = snapshot::load(&mut tee, &fresh).map_err(|e| e.to_string());
    if let Some(path) = received {
        let _ = std::fs::remove_file(path);
    }
    let kept = loaded.and_then(|rows| {
        let copy = tee.to.into_inner().map_err(|e| e.to_string())?;
        copy.sync_all().map_err(|e| e.to_string())?;
        Ok(rows)
    });
    let rows = match kept.and_then(|rows| check_installed(&fresh, meta).map(|()| rows)) {
        Ok(rows) => rows,
        Err(e) => {
            let _ = std::fs::remove_file(&fresh);
            let _ = std::fs::remove_file(&copy_path);
            return Err(e);
        }
    };
    state.replace_with(&fresh).map_err(|e| e.to_string())?;
    tracing::info!(rows, last_log_id = ?meta.last_log_id, "snapshot installed");
    snapshots
        .keep(meta, &copy_path)
        .map_err(|e| format!("cannot keep the installed snapshot: {e}"))
}

/// The rebuilt file must describe the state the leader said it does.
fn check_installed(fresh: &Path, meta: &SnapshotMeta) -> Result<(), String> {
    let db = redb::Database::open(fresh).map_err(|e| format!("it does not open: {e}"))?;
    let tx = db.begin_read().map_err(|e| e.to_string())?;
    let (last, _) = StateDb::applied(&tx).map_err(|e| e.to_string())?;
    if last != meta.last_log_id {
        return Err(format!(
            "snapshot holds state at {last:?}, its meta says {:?}",
            meta.last_log_id
        ));
    }
    Ok(())
}

/// Dumps a consistent read of the state into a new snapshot file.
pub(crate) struct SnapshotBuilder {
    state: Arc<StateDb>,
    snapshots: Arc<SnapshotDir>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot, StorageError> {
        let (state, snapshots) = (self.state.clone(), self.snapshots.clone());
        let started = Instant::now();
        let (meta, path, bytes) =
            blocking(ErrorSubject::StateMachine, ErrorVerb::Read, move || {
                build(&state, &snapshots)
            })
            .await?;
        metrics::counter!("marquee_origin_raft_snapshots_total").increment(1);
        metrics::gauge!("marquee_origin_raft_snapshot_bytes").set(bytes as f64);
        metrics::histogram!("marquee_origin_raft_snapshot_build_seconds")
            .record(started.elapsed().as_secs_f64());
        let file = tokio::fs::File::open(&path).await.map_err(|e| {
            storage(
                ErrorSubject::Snapshot(Some(meta.signature())),
                ErrorVerb::Read,
                e,
            )
        })?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(file),
        })
    }
}

fn build(state: &StateDb, snapshots: &SnapshotDir) -> Result<(SnapshotMeta, PathBuf, u64), String> {
    // Durable first: the log behind this snapshot may be purged right after.
    state.persist().map_err(|e| e.to_string())?;
    let tx = state.begin_read().map_err(|e| e.to_string())?;
    let (last_log_id, last_membership) = StateDb::applied(&tx).map_err(|e| e.to_string())?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let index = last_log_id.map_or("none".to_owned(), |l| l.index.to_string());
    let meta = SnapshotMeta {
        last_log_id,
        last_membership,
        snapshot_id: format!("{index}-{nanos}"),
    };
    let tmp = snapshots
        .dir
        .join(format!("building-{}.part", crate::ids::random_hex::<8>()));
    let written = (|| {
        let file = std::fs::File::create(&tmp)?;
        snapshot::dump(&tx, &file).map_err(std::io::Error::other)?;
        file.sync_all()?;
        Ok::<_, std::io::Error>(file.metadata()?.len())
    })();
    drop(tx);
    let bytes = written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write the snapshot: {e}")
    })?;
    snapshots
        .keep(&meta, &tmp)
        .map_err(|e| format!("cannot keep the snapshot: {e}"))?;
    Ok((meta.clone(), snapshots.data_path(&meta), bytes))
}

/// `<dir>/snapshots`: the current snapshot (`snapshot-<id>.snap`, named by `current.meta`) and
/// files being received or built (`*.part`, removed at start).
pub(crate) struct SnapshotDir {
    dir: PathBuf,
    receiving: Mutex<Vec<(i32, PathBuf)>>,
}

impl SnapshotDir {
    /// Opens the folder and removes leftovers of interrupted transfers and builds. Blocking.
    pub(crate) fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "part") {
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            receiving: Mutex::new(Vec::new()),
        })
    }

    fn receiving(&self, fd: i32, path: PathBuf) {
        let mut r = self.receiving.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|(f, _)| *f != fd);
        r.push((fd, path));
    }

    fn received(&self, fd: i32) -> Option<PathBuf> {
        let mut r = self.receiving.lock().unwrap_or_else(|p| p.into_inner());
        let at = r.iter().position(|(f, _)| *f == fd)?;
        Some(r.remove(at).1)
    }

    fn data_path(&self, meta: &SnapshotMeta) -> PathBuf {
        // Ids come from the leader: keep file-name-safe characters only.
        let id: String = meta
            .snapshot_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("snapshot-{id}.snap"))
    }

    /// Makes `file` (complete and fsync'd) the current snapshot described by `meta`: the data
    /// goes under its own id, then `current.meta` is replaced atomically, then older data goes.
    fn keep(&self, meta: &SnapshotMeta, file: &Path) -> std::io::Result<()> {
        let data = self.data_path(meta);
        std::fs::rename(file, &data)?;
        let meta_tmp = self.dir.join("meta.part");
        std::fs::write(
            &meta_tmp,
            serde_json::to_vec(meta).map_err(std::io::Error::other)?,
        )?;
        std::fs::File::open(&meta_tmp)?.sync_all()?;
        std::fs::rename(&meta_tmp, self.dir.join("current.meta"))?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "snap") && path != data {
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(())
    }

    /// The current snapshot's meta and file, if a complete one exists.
    pub(crate) fn current(&self) -> Option<(SnapshotMeta, PathBuf)> {
        let meta = std::fs::read(self.dir.join("current.meta")).ok()?;
        let meta: SnapshotMeta = serde_json::from_slice(&meta).ok()?;
        let data = self.data_path(&meta);
        data.exists().then_some((meta, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_made_durable_every_500_commands_or_every_second() {
        let start = Instant::now();
        let mut since = SinceDurable::new(start);
        assert!(!since.due(300, start), "300 commands in");
        assert!(!since.due(199, start), "499 commands in");
        assert!(since.due(1, start), "the 500th command");
        assert!(!since.due(1, start), "counting starts over");
        let later = start + DURABLE_EVERY;
        assert!(since.due(0, later), "a second on, even when quiet");
        assert!(!since.due(10, later), "and the clock starts over too");
    }
}
