//! The node's search index: a tantivy index under `<data dir>/search/`, brought up to date from
//! the replicated state's feed ([`super::feed`]) by one follower task, read by any number of
//! searches. The feed number it shows is kept in each commit's payload, so a restart resumes
//! where it stopped and an index of another schema version, or ahead of the state, is rebuilt.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};
use tokio::sync::{Semaphore, watch};

use super::doc::{self, SearchDoc};
use super::feed;
use super::schema::{self, Fields};
use crate::catalogue::state as catalogue;
use crate::raft::tables::Reads;
use crate::raft::{Replicated, StoreError};
use crate::state::Origin;

/// The writer's buffer: enough for a full rebuild of a large catalogue in few segments.
const WRITER_BYTES: usize = 40_000_000;
/// Titles taken from the feed per commit while catching up.
const FEED_PAGE: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Dir(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What each commit records: the schema it was built with and the feed number it shows.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    version: u32,
    seq: u64,
}

pub struct SearchIndex {
    index: Index,
    pub(super) fields: Fields,
    reader: IndexReader,
    writer: Mutex<Writer>,
    /// The feed number searches see.
    shown: watch::Sender<u64>,
    /// Searches running at once (each on a blocking thread); more wait their turn, so a burst
    /// of slow queries cannot take every thread.
    pub(super) permits: Arc<Semaphore>,
}

struct Writer {
    writer: IndexWriter,
    /// The feed number committed; `None` until the index was built from this state.
    seq: Option<u64>,
}

impl SearchIndex {
    /// Opens the index in `dir` (made if missing; rebuilt from scratch if unreadable), or in
    /// memory when `dir` is `None`.
    pub fn open(dir: Option<&Path>) -> Result<Self, SearchError> {
        let (schema, fields) = schema::schema();
        let index = match dir {
            None => Index::create_in_ram(schema),
            Some(dir) => match open_dir(dir, &schema) {
                Ok(index) => index,
                Err(e) => {
                    tracing::warn!(error = %e, dir = %dir.display(), "search index unreadable; rebuilding it");
                    std::fs::remove_dir_all(dir).map_err(|e| SearchError::Dir(e.to_string()))?;
                    open_dir(dir, &schema)?
                }
            },
        };
        schema::register(&index);
        let seq = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
            .filter(|p| p.version == schema::VERSION)
            .map(|p| p.seq);
        let writer = index.writer_with_num_threads(1, WRITER_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            index,
            fields,
            reader,
            writer: Mutex::new(Writer { writer, seq }),
            shown: watch::channel(seq.unwrap_or(0)).0,
            permits: Arc::new(Semaphore::new(threads)),
        })
    }

    pub(super) fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// The feed number searches see now.
    pub fn shown_seq(&self) -> u64 {
        *self.shown.borrow()
    }

    /// Waits (at most `timeout`) until searches see feed number `seq`: a search right after a
    /// change sees it. Whether they do.
    pub async fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let mut rx = self.shown.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| *s >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Brings the index up to the state `tx` reads (blocking: run it off the async threads).
    /// Returns the feed number now shown.
    pub fn catch_up(&self, tx: &impl Reads) -> Result<u64, SearchError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let last = feed::last(tx)?;
        let seq = match w.seq {
            Some(seq) if seq <= last => self.follow(&mut w.writer, tx, seq, last)?,
            // Never built here, another schema, or ahead of this state (a state replaced by
            // an older one): build it all again.
            _ => self.rebuild(&mut w.writer, tx, last)?,
        };
        w.seq = Some(seq);
        drop(w);
        self.reader.reload()?;
        self.shown.send_replace(seq);
        Ok(seq)
    }

    fn rebuild(
        &self,
        writer: &mut IndexWriter,
        tx: &impl Reads,
        last: u64,
    ) -> Result<u64, SearchError> {
        let started = std::time::Instant::now();
        writer.delete_all_documents()?;
        let titles = catalogue::titles(tx, false)?;
        for t in &titles {
            if let Some(d) = doc::of_title(tx, &t.id)? {
                writer.add_document(schema::document(&self.fields, &d))?;
            }
        }
        commit(writer, last)?;
        // One segment: every fuzzy or prefix word walks each segment's dictionary, so a
        // freshly built index is merged whole (later changes are merged by the writer's policy).
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        tracing::info!(
            segments = segments.len(),
            titles = titles.len(),
            secs = started.elapsed().as_secs_f64(),
            "search index built"
        );
        Ok(last)
    }

    fn follow(
        &self,
        writer: &mut IndexWriter,
        tx: &impl Reads,
        mut seq: u64,
        last: u64,
    ) -> Result<u64, SearchError> {
        while seq < last {
            let changes = feed::since(tx, seq, FEED_PAGE)?;
            for (_, id) in &changes {
                self.upsert(writer, doc::of_title(tx, id)?, id)?;
            }
            seq = match changes.last() {
                Some((s, _)) if changes.len() == FEED_PAGE => *s,
                _ => last,
            };
            commit(writer, seq)?;
        }
        Ok(seq)
    }

    fn upsert(
        &self,
        writer: &IndexWriter,
        doc: Option<SearchDoc>,
        id: &str,
    ) -> Result<(), SearchError> {
        writer.delete_term(Term::from_field_text(self.fields.id, id));
        if let Some(d) = doc {
            writer.add_document(schema::document(&self.fields, &d))?;
        }
        Ok(())
    }
}

fn open_dir(dir: &Path, schema: &tantivy::schema::Schema) -> Result<Index, SearchError> {
    std::fs::create_dir_all(dir).map_err(|e| SearchError::Dir(e.to_string()))?;
    let mmap = MmapDirectory::open(dir).map_err(|e| SearchError::Dir(e.to_string()))?;
    Ok(Index::open_or_create(mmap, schema.clone())?)
}

fn commit(writer: &mut IndexWriter, seq: u64) -> Result<(), SearchError> {
    let payload = serde_json::to_string(&Payload {
        version: schema::VERSION,
        seq,
    })
    .unwrap_or_default();
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit()?;
    Ok(())
}

/// Keeps `index` up to date with `raft`'s applied state until `stop`: catches up whenever an
/// entry applies (and every few seconds whatever happens).
pub async fn follow(
    index: Arc<SearchIndex>,
    raft: Replicated<Origin>,
    mut stop: watch::Receiver<bool>,
) {
    let mut applied = raft.metrics_watch();
    loop {
        let (idx, r) = (index.clone(), raft.clone());
        let res = tokio::task::spawn_blocking(move || {
            r.read(|tx| {
                idx.catch_up(tx)
                    .map_err(|e| StoreError::Other(e.to_string()))
            })
        })
        .await;
        match res {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "search index could not catch up"),
            Err(e) => tracing::error!(error = %e, "search indexing panicked"),
        }
        let lag = raft
            .read(feed::last)
            .map_or(0, |last| last.saturating_sub(index.shown_seq()));
        metrics::gauge!("marquee_origin_search_lag_changes").set(lag as f64);
        let raft_stopped = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            changed = applied.changed() => changed.is_err(),
            () = tokio::time::sleep(Duration::from_secs(5)) => false,
        };
        // Raft has stopped: no more entries will apply; look again now and then.
        if raft_stopped {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        // Changes that come in a burst (a bulk import) go in one commit.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
