//! Cache fills in progress, readable while they arrive (streaming partial writes).
//!
//! A fill registers a [`Partial`] under its cache key before the first body byte; the first
//! viewer's response and every viewer that arrives meanwhile read chunks from it as origin
//! sends them, instead of waiting for the whole object. When the fill completes the object
//! is inserted into the foyer cache *before* the partial is unregistered, so a lookup always
//! finds one or the other. A fill dropped before completion (origin failed, object too big)
//! is marked aborted and its readers get an error instead of a truncated body.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use dashmap::DashMap;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora_cache::CacheKey;
use pingora_cache::storage::{HandleHit, HandleMiss, MissFinishType, Storage};
use pingora_cache::trace::SpanHandle;
use pingora_core::{Error, ErrorType, Result};
use tokio::sync::watch;

/// Where a fill stands: how many chunks exist and whether more will come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub chunks: usize,
    pub status: Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Writing,
    Complete,
    Aborted,
}

/// One object being filled: its meta and the chunks received so far.
pub struct Partial {
    pub meta_internal: Bytes,
    pub meta_header: Bytes,
    chunks: Mutex<Vec<Bytes>>,
    progress: watch::Sender<Progress>,
}

impl Partial {
    fn new(meta_internal: Bytes, meta_header: Bytes) -> Self {
        let (progress, _) = watch::channel(Progress {
            chunks: 0,
            status: Status::Writing,
        });
        Self {
            meta_internal,
            meta_header,
            chunks: Mutex::new(Vec::new()),
            progress,
        }
    }

    fn chunks(&self) -> MutexGuard<'_, Vec<Bytes>> {
        // A poisoned lock only means a panic elsewhere; the chunk list itself stays valid.
        self.chunks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, data: Bytes) {
        let n = {
            let mut chunks = self.chunks();
            chunks.push(data);
            chunks.len()
        };
        self.progress.send_modify(|p| p.chunks = n);
    }

    fn set_status(&self, status: Status) {
        self.progress.send_modify(|p| p.status = status);
    }

    /// The whole body, once complete.
    fn concat(&self) -> Bytes {
        let chunks = self.chunks();
        let mut body = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
        for c in chunks.iter() {
            body.extend_from_slice(c);
        }
        body.freeze()
    }

    /// A reader starting at the first chunk.
    pub fn reader(self: &Arc<Self>) -> PartialHit {
        PartialHit {
            partial: self.clone(),
            progress: self.progress.subscribe(),
            next: 0,
            offset: 0,
            range: 0..usize::MAX,
        }
    }
}

/// Fills in progress by cache key (pingora's 128-bit key hash), then by write id (a key may
/// briefly have two writers). Sharded, so hits on other keys never wait on a fill's bookkeeping.
#[derive(Default)]
pub struct InFlight {
    fills: DashMap<u128, HashMap<u64, Arc<Partial>>>,
    next_id: AtomicU64,
}

impl InFlight {
    pub fn start(
        &self,
        key: u128,
        meta_internal: Bytes,
        meta_header: Bytes,
    ) -> (u64, Arc<Partial>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let partial = Arc::new(Partial::new(meta_internal, meta_header));
        self.fills
            .entry(key)
            .or_default()
            .insert(id, partial.clone());
        (id, partial)
    }

    /// Any fill of `key` in progress.
    pub fn any(&self, key: u128) -> Option<Arc<Partial>> {
        self.fills
            .get(&key)
            .and_then(|m| m.values().next().cloned())
    }

    pub fn get(&self, key: u128, id: u64) -> Option<Arc<Partial>> {
        self.fills.get(&key).and_then(|m| m.get(&id).cloned())
    }

    fn remove(&self, key: u128, id: u64) {
        if let dashmap::mapref::entry::Entry::Occupied(mut m) = self.fills.entry(key) {
            m.get_mut().remove(&id);
            if m.get().is_empty() {
                m.remove();
            }
        }
    }
}

/// Reads a fill while it arrives. Seeking is lazy: it only sets the byte range to return, and
/// reading waits for those bytes to arrive (a seek past what has arrived must not fail, or
/// pingora would drop the viewer, and with a cache-lock waiter possibly the fill).
pub struct PartialHit {
    partial: Arc<Partial>,
    progress: watch::Receiver<Progress>,
    /// The next chunk to look at, and the body offset it starts at.
    next: usize,
    offset: usize,
    /// The bytes to return (end exclusive).
    range: std::ops::Range<usize>,
}

impl PartialHit {
    /// The part of `chunk` (starting at body offset `at`) inside the range, if any.
    fn clip(&self, chunk: &Bytes, at: usize) -> Option<Bytes> {
        let start = self.range.start.max(at);
        let end = self.range.end.min(at + chunk.len());
        (start < end).then(|| chunk.slice(start - at..end - at))
    }
}

#[async_trait]
impl HandleHit for PartialHit {
    /// Cancel-safe: a chunk is only consumed once it is returned.
    async fn read_body(&mut self) -> Result<Option<Bytes>> {
        loop {
            if self.offset >= self.range.end {
                return Ok(None);
            }
            let progress = *self.progress.borrow_and_update();
            if self.next < progress.chunks {
                let chunk = self.partial.chunks()[self.next].clone();
                let at = self.offset;
                self.next += 1;
                self.offset += chunk.len();
                match self.clip(&chunk, at) {
                    Some(part) => return Ok(Some(part)),
                    None => continue,
                }
            }
            match progress.status {
                Status::Complete => return Ok(None),
                Status::Aborted => {
                    return Error::e_explain(
                        ErrorType::InternalError,
                        "the cache fill was abandoned",
                    );
                }
                Status::Writing => {}
            }
            if self.progress.changed().await.is_err() {
                return Error::e_explain(ErrorType::InternalError, "the cache fill vanished");
            }
        }
    }

    async fn finish(
        self: Box<Self>,
        _: &'static (dyn Storage + Sync),
        _: &CacheKey,
        _: &SpanHandle,
    ) -> Result<()> {
        Ok(())
    }

    fn should_count_access(&self) -> bool {
        false
    }

    fn can_seek(&self) -> bool {
        true
    }

    /// Sets the range to return (`end` exclusive, as pingora passes it); the bytes are waited
    /// for as they arrive.
    fn seek(&mut self, start: usize, end: Option<usize>) -> Result<()> {
        if self.offset > start {
            return Error::e_explain(
                ErrorType::InternalError,
                "a fill reader cannot seek backwards",
            );
        }
        self.range = start..end.unwrap_or(usize::MAX);
        Ok(())
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }

    fn as_any_mut(&mut self) -> &mut (dyn Any + Send + Sync) {
        self
    }
}

/// What a completed fill is handed to (the foyer cache).
pub trait Publish: Send + Sync {
    fn publish(&self, key: u128, partial: &Partial, body: Bytes);
    fn in_flight(&self) -> &InFlight;
}

/// The writer side of one fill.
pub struct Fill {
    pub(crate) owner: &'static dyn Publish,
    pub(crate) key: u128,
    pub(crate) id: u64,
    pub(crate) tag: [u8; 8],
    pub(crate) partial: Arc<Partial>,
    pub(crate) finished: bool,
}

impl Fill {
    pub fn new(
        owner: &'static dyn Publish,
        key: u128,
        meta_internal: Bytes,
        meta_header: Bytes,
    ) -> Self {
        let (id, partial) = owner.in_flight().start(key, meta_internal, meta_header);
        Self {
            owner,
            key,
            id,
            tag: id.to_be_bytes(),
            partial,
            finished: false,
        }
    }
}

/// The write id carried in pingora's streaming-write tag.
pub fn tag_to_id(tag: Option<&[u8]>) -> Option<u64> {
    tag.and_then(|t| <[u8; 8]>::try_from(t).ok())
        .map(u64::from_be_bytes)
}

#[async_trait]
impl HandleMiss for Fill {
    async fn write_body(&mut self, data: Bytes, _eof: bool) -> Result<()> {
        if !data.is_empty() {
            self.partial.push(data);
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<MissFinishType> {
        let body = self.partial.concat();
        let size = body.len();
        // Publish before unregistering, so lookups never fall between the two.
        self.owner.publish(self.key, &self.partial, body);
        self.partial.set_status(Status::Complete);
        self.owner.in_flight().remove(self.key, self.id);
        self.finished = true;
        Ok(MissFinishType::Created(size))
    }

    fn streaming_write_tag(&self) -> Option<&[u8]> {
        Some(&self.tag)
    }
}

impl Drop for Fill {
    fn drop(&mut self) {
        if !self.finished {
            self.partial.set_status(Status::Aborted);
            self.owner.in_flight().remove(self.key, self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sink {
        inflight: InFlight,
        published: Mutex<Vec<(u128, Bytes)>>,
    }

    impl Publish for Sink {
        fn publish(&self, key: u128, _partial: &Partial, body: Bytes) {
            assert!(
                self.inflight.any(key).is_some(),
                "published while still registered"
            );
            self.published.lock().unwrap().push((key, body));
        }
        fn in_flight(&self) -> &InFlight {
            &self.inflight
        }
    }

    fn sink() -> &'static Sink {
        Box::leak(Box::new(Sink {
            inflight: InFlight::default(),
            published: Mutex::new(Vec::new()),
        }))
    }

    #[tokio::test]
    async fn readers_get_chunks_as_they_arrive_and_the_whole_object_is_published() {
        let s = sink();
        let mut fill = Box::new(Fill::new(s, 7, Bytes::new(), Bytes::new()));
        let mut early = s.inflight.any(7).unwrap().reader();
        fill.write_body(Bytes::from_static(b"ab"), false)
            .await
            .unwrap();
        assert_eq!(
            early.read_body().await.unwrap().unwrap(),
            Bytes::from_static(b"ab")
        );
        // The next read waits for the writer.
        let pending =
            tokio::time::timeout(std::time::Duration::from_millis(50), early.read_body()).await;
        assert!(
            pending.is_err(),
            "a reader must wait for bytes that have not arrived"
        );
        fill.write_body(Bytes::from_static(b"cd"), true)
            .await
            .unwrap();
        let id = tag_to_id(fill.streaming_write_tag()).unwrap();
        let mut own = s.inflight.get(7, id).unwrap().reader();
        fill.finish().await.unwrap();
        assert_eq!(
            early.read_body().await.unwrap().unwrap(),
            Bytes::from_static(b"cd")
        );
        assert!(early.read_body().await.unwrap().is_none());
        assert_eq!(
            own.read_body().await.unwrap().unwrap(),
            Bytes::from_static(b"ab")
        );
        assert!(s.inflight.any(7).is_none());
        assert_eq!(
            s.published.lock().unwrap().as_slice(),
            &[(7, Bytes::from_static(b"abcd"))]
        );
    }

    #[tokio::test]
    async fn a_range_is_cut_from_the_fill_as_its_bytes_arrive() {
        let sink = sink();
        let mut fill = Box::new(Fill::new(sink, 8, Bytes::new(), Bytes::new()));
        let mut reader = sink.in_flight().any(8).unwrap().reader();
        assert!(reader.can_seek());
        // Bytes 3..8, asked before any has arrived.
        reader.seek(3, Some(8)).unwrap();
        let early =
            tokio::time::timeout(std::time::Duration::from_millis(50), reader.read_body()).await;
        assert!(
            early.is_err(),
            "a seek past the fill waits instead of failing"
        );
        fill.write_body(Bytes::from_static(b"0123"), false)
            .await
            .unwrap();
        assert_eq!(
            reader.read_body().await.unwrap().unwrap(),
            Bytes::from_static(b"3")
        );
        fill.write_body(Bytes::from_static(b"4567"), false)
            .await
            .unwrap();
        fill.write_body(Bytes::from_static(b"89"), false)
            .await
            .unwrap();
        assert_eq!(
            reader.read_body().await.unwrap().unwrap(),
            Bytes::from_static(b"4567")
        );
        assert!(
            reader.read_body().await.unwrap().is_none(),
            "the range ends the read"
        );
        assert!(reader.seek(0, None).is_err(), "no seeking backwards");
        fill.finish().await.unwrap();
    }

    #[tokio::test]
    async fn an_abandoned_fill_errors_its_readers_and_publishes_nothing() {
        let s = sink();
        let mut fill = Fill::new(s, 7, Bytes::new(), Bytes::new());
        let mut reader = s.inflight.any(7).unwrap().reader();
        fill.write_body(Bytes::from_static(b"ab"), false)
            .await
            .unwrap();
        drop(fill);
        assert!(reader.read_body().await.unwrap().is_some());
        assert!(
            reader.read_body().await.is_err(),
            "a truncated body must not look complete"
        );
        assert!(s.inflight.any(7).is_none());
        assert!(s.published.lock().unwrap().is_empty());
    }
}
