//! The edge's cache storage: pingora-cache's [`Storage`] on a foyer [`HybridCache`].
//!
//! Objects live in memory first; when the memory tier is full foyer writes evicted entries to
//! its disk tier, and a later lookup reads them back. Each entry holds pingora's serialized
//! [`CacheMeta`] and the whole body, so hits can [`HandleHit::seek`] for Range requests.
//! Fills are readable while they arrive ([`crate::fill`]): pingora releases the cache lock as
//! soon as a fill starts, and concurrent viewers stream from it instead of going to origin.

use std::any::Any;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use foyer::{
    BlockEngineConfig, Code, DeviceBuilder, FsDeviceBuilder, HybridCache, HybridCacheBuilder,
    Source,
};
use pingora_cache::key::CacheHashKey;
use pingora_cache::storage::{
    HandleHit, HitHandler, MissHandler, PurgeOutcome, PurgeTarget, PurgeType, Storage,
};
use pingora_cache::trace::SpanHandle;
use pingora_cache::{CacheKey, CacheMeta};
use pingora_core::{Error, ErrorType, Result};

use crate::fill::{Fill, InFlight, Partial, Publish, tag_to_id};

/// One cached response: pingora's meta (two serialized parts) and the body, plus the meta
/// decoded once while the entry sits in the memory tier (a hit then only clones it).
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub meta_internal: Bytes,
    pub meta_header: Bytes,
    pub body: Bytes,
    decoded: Arc<OnceLock<CacheMeta>>,
}

impl PartialEq for StoredObject {
    fn eq(&self, other: &Self) -> bool {
        (&self.meta_internal, &self.meta_header, &self.body)
            == (&other.meta_internal, &other.meta_header, &other.body)
    }
}

impl StoredObject {
    pub fn new(meta_internal: Bytes, meta_header: Bytes, body: Bytes) -> Self {
        Self {
            meta_internal,
            meta_header,
            body,
            decoded: Arc::default(),
        }
    }

    fn weight(&self) -> usize {
        // The decoded header is about as big as the encoded one.
        self.meta_internal.len() + 2 * self.meta_header.len() + self.body.len() + 64
    }

    /// The meta, its header decoded at most once per memory-tier entry (decompressing and
    /// parsing it is most of a hit's cost; copying a parsed one is a few allocations).
    fn meta(&self) -> Result<CacheMeta> {
        if let Some(copy) = self.decoded.get().and_then(copy_meta) {
            return Ok(copy);
        }
        let meta = CacheMeta::deserialize(&self.meta_internal, &self.meta_header)?;
        if let Some(copy) = copy_meta(&meta) {
            let _ = self.decoded.set(meta);
            return Ok(copy);
        }
        Ok(meta)
    }
}

/// A copy of `meta` (pingora's `CacheMeta` is not `Clone`), for the metas this edge makes:
/// no variance, no epoch override. Others (`None`) are decoded from their bytes every time.
fn copy_meta(meta: &CacheMeta) -> Option<CacheMeta> {
    if meta.variance().is_some() || meta.epoch_override().is_some() {
        return None;
    }
    let mut copy = CacheMeta::new(
        meta.fresh_until(),
        meta.created(),
        meta.stale_while_revalidate_sec(),
        meta.stale_if_error_sec(),
        meta.response_header_copy(),
    );
    // A revalidated object's age counts from its revalidation.
    if meta.updated() != meta.created() {
        copy.set_epoch_override(meta.updated());
    }
    Some(copy)
}

/// pingora's 128-bit hash of a cache key: the foyer key, so a lookup formats no string.
fn hash_key(key: &impl CacheHashKey) -> u128 {
    u128::from_be_bytes(key.combined_bin())
}

fn write_part(w: &mut impl Write, part: &[u8]) -> foyer::Result<()> {
    let len = u32::try_from(part.len())
        .map_err(|_| foyer::Error::new(foyer::ErrorKind::BufferSizeLimit, "part too large"))?;
    w.write_all(&len.to_le_bytes())
        .map_err(foyer::Error::io_error)?;
    w.write_all(part).map_err(foyer::Error::io_error)
}

fn read_part(r: &mut impl Read) -> foyer::Result<Bytes> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(foyer::Error::io_error)?;
    let mut buf = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut buf).map_err(foyer::Error::io_error)?;
    Ok(Bytes::from(buf))
}

// Length-prefixed parts: the disk format of one entry.
impl Code for StoredObject {
    fn encode(&self, writer: &mut impl Write) -> foyer::Result<()> {
        write_part(writer, &self.meta_internal)?;
        write_part(writer, &self.meta_header)?;
        write_part(writer, &self.body)
    }

    fn decode(reader: &mut impl Read) -> foyer::Result<Self> {
        Ok(Self::new(
            read_part(reader)?,
            read_part(reader)?,
            read_part(reader)?,
        ))
    }

    fn estimated_size(&self) -> usize {
        12 + self.meta_internal.len() + self.meta_header.len() + self.body.len()
    }
}

/// Errors building the cache.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot use cache dir {dir}: {source}")]
    Dir { dir: String, source: foyer::Error },
    #[error("cannot build the hybrid cache: {0}")]
    Build(foyer::Error),
}

/// The foyer-backed storage. Lives for the whole process (`&'static`, as pingora wants).
pub struct HybridStorage {
    cache: HybridCache<u128, StoredObject>,
    inflight: InFlight,
}

impl HybridStorage {
    /// Builds the cache; foyer's I/O runs on `runtime` (Pingora owns the other runtimes).
    pub async fn build(
        dir: &std::path::Path,
        memory_bytes: usize,
        disk_bytes: usize,
        runtime: tokio::runtime::Handle,
    ) -> Result<Self, StorageError> {
        let device = FsDeviceBuilder::new(dir)
            .with_capacity(disk_bytes)
            .build()
            .map_err(|source| StorageError::Dir {
                dir: dir.display().to_string(),
                source,
            })?;
        let cache = HybridCacheBuilder::new()
            .with_name("marquee-edge")
            .memory(memory_bytes)
            .with_shards(memory_shards(memory_bytes))
            .with_weighter(|_key: &u128, value: &StoredObject| 16 + value.weight())
            .storage()
            .with_engine_config(BlockEngineConfig::new(device))
            .with_spawner(runtime.into())
            .build()
            .await
            .map_err(StorageError::Build)?;
        Ok(Self {
            cache,
            inflight: InFlight::default(),
        })
    }

    /// Drops one object from both tiers (a purge by path).
    pub fn remove(&self, key: &CacheKey) {
        self.cache.remove(&hash_key(key));
    }

    /// Stops foyer, flushing what it buffers.
    pub async fn close(&self) {
        if let Err(e) = self.cache.close().await {
            tracing::warn!(error = %e, "closing the disk cache failed");
        }
    }
}

/// Shards split the memory tier; each must still hold several multi-MB segments.
fn memory_shards(memory_bytes: usize) -> usize {
    (memory_bytes / (32 * 1024 * 1024)).clamp(1, 8)
}

fn storage_error(context: &'static str, e: impl std::fmt::Display) -> Box<Error> {
    Error::explain(ErrorType::InternalError, format!("{context}: {e}"))
}

#[async_trait]
impl Storage for HybridStorage {
    async fn lookup(
        &'static self,
        key: &CacheKey,
        _trace: &SpanHandle,
    ) -> Result<Option<(CacheMeta, HitHandler)>> {
        let hash = hash_key(key);
        // A fill under way wins: it is at least as fresh as anything stored.
        if let Some(partial) = self.inflight.any(hash) {
            let meta = CacheMeta::deserialize(&partial.meta_internal, &partial.meta_header)?;
            return Ok(Some((meta, Box::new(partial.reader()))));
        }
        let Some(entry) = self
            .cache
            .get(&hash)
            .await
            .map_err(|e| storage_error("cache read", e))?
        else {
            return Ok(None);
        };
        let object = entry.value();
        let meta = object.meta()?;
        let hit = BodyHit::new(object.body.clone(), entry.source() == Source::Disk);
        Ok(Some((meta, Box::new(hit))))
    }

    async fn lookup_streaming_write(
        &'static self,
        key: &CacheKey,
        streaming_write_tag: Option<&[u8]>,
        trace: &SpanHandle,
    ) -> Result<Option<(CacheMeta, HitHandler)>> {
        let hash = hash_key(key);
        let Some(partial) =
            tag_to_id(streaming_write_tag).and_then(|id| self.inflight.get(hash, id))
        else {
            return self.lookup(key, trace).await;
        };
        let meta = CacheMeta::deserialize(&partial.meta_internal, &partial.meta_header)?;
        Ok(Some((meta, Box::new(partial.reader()))))
    }

    async fn get_miss_handler(
        &'static self,
        key: &CacheKey,
        meta: &CacheMeta,
        _trace: &SpanHandle,
    ) -> Result<MissHandler> {
        let (internal, header) = meta.serialize()?;
        Ok(Box::new(Fill::new(
            self,
            hash_key(key),
            internal.into(),
            header.into(),
        )))
    }

    async fn purge(
        &'static self,
        target: PurgeTarget<'_>,
        _purge_type: PurgeType,
        _trace: &SpanHandle,
    ) -> Result<PurgeOutcome> {
        let key = hash_key(target.key());
        let found = self
            .cache
            .get(&key)
            .await
            .map_err(|e| storage_error("cache read", e))?
            .is_some();
        self.cache.remove(&key);
        Ok(if found {
            PurgeOutcome::Purged(None)
        } else {
            PurgeOutcome::NotFound
        })
    }

    async fn update_meta(
        &'static self,
        key: &CacheKey,
        meta: &CacheMeta,
        _trace: &SpanHandle,
    ) -> Result<bool> {
        let key = hash_key(key);
        let Some(entry) = self
            .cache
            .get(&key)
            .await
            .map_err(|e| storage_error("cache read", e))?
        else {
            return Ok(false);
        };
        let (internal, header) = meta.serialize()?;
        let object = StoredObject::new(internal.into(), header.into(), entry.value().body.clone());
        self.cache.insert(key, object);
        Ok(true)
    }

    fn support_streaming_partial_write(&self) -> bool {
        true
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync + 'static) {
        self
    }
}

impl Publish for HybridStorage {
    fn publish(&self, key: u128, partial: &Partial, body: Bytes) {
        let object = StoredObject::new(
            partial.meta_internal.clone(),
            partial.meta_header.clone(),
            body,
        );
        self.cache.insert(key, object);
    }

    fn in_flight(&self) -> &InFlight {
        &self.inflight
    }
}

/// A hit on a complete body; seekable, so Range requests are served from cache.
pub struct BodyHit {
    body: Bytes,
    start: usize,
    end: usize,
    done: bool,
    /// Whether the entry came from the disk tier (reported in `Cache-Status`).
    pub from_disk: bool,
}

impl BodyHit {
    fn new(body: Bytes, from_disk: bool) -> Self {
        let end = body.len();
        Self {
            body,
            start: 0,
            end,
            done: false,
            from_disk,
        }
    }
}

#[async_trait]
impl HandleHit for BodyHit {
    async fn read_body(&mut self) -> Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        Ok(Some(self.body.slice(self.start..self.end)))
    }

    async fn finish(
        self: Box<Self>,
        _storage: &'static (dyn Storage + Sync),
        _key: &CacheKey,
        _trace: &SpanHandle,
    ) -> Result<()> {
        Ok(())
    }

    fn can_seek(&self) -> bool {
        true
    }

    fn seek(&mut self, start: usize, end: Option<usize>) -> Result<()> {
        if start >= self.body.len() {
            return Error::e_explain(
                ErrorType::InternalError,
                format!("seek start {start} beyond body {}", self.body.len()),
            );
        }
        self.start = start;
        // `end` is exclusive and may point past the body; serve what exists.
        self.end = end.map_or(self.body.len(), |e| e.min(self.body.len()));
        self.done = false;
        Ok(())
    }

    fn get_eviction_weight(&self) -> usize {
        self.body.len()
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }

    fn as_any_mut(&mut self) -> &mut (dyn Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_object_round_trips_through_its_disk_encoding() {
        let o = StoredObject::new(
            Bytes::from_static(b"internal"),
            Bytes::new(),
            Bytes::from(vec![7u8; 100_000]),
        );
        let mut buf = Vec::new();
        o.encode(&mut buf).unwrap();
        assert_eq!(buf.len(), o.estimated_size());
        let back = StoredObject::decode(&mut buf.as_slice()).unwrap();
        assert_eq!(back, o);
        assert!(StoredObject::decode(&mut &buf[..10]).is_err());
    }

    #[test]
    fn a_hit_gets_the_same_meta_from_the_decoded_copy_as_from_the_bytes() {
        use std::time::{Duration, SystemTime};
        let mut header = pingora_http::ResponseHeader::build(200, None).unwrap();
        header.insert_header("content-type", "video/mp4").unwrap();
        header.insert_header("content-length", "10").unwrap();
        let created = SystemTime::now() - Duration::from_secs(30);
        let mut meta = CacheMeta::new(created + Duration::from_secs(60), created, 5, 300, header);
        for revalidated in [false, true] {
            if revalidated {
                meta.update_freshness(SystemTime::now() + Duration::from_secs(60), 5, 300);
            }
            let (internal, header) = meta.serialize().unwrap();
            let object = StoredObject::new(internal.into(), header.into(), Bytes::new());
            let first = object.meta().unwrap();
            let second = object.meta().unwrap();
            assert!(object.decoded.get().is_some(), "decoded once, kept");
            for m in [&first, &second] {
                assert_eq!(m.fresh_until(), meta.fresh_until());
                assert_eq!(m.created(), meta.created());
                assert_eq!(m.epoch(), meta.epoch(), "revalidated: {revalidated}");
                assert_eq!(m.stale_while_revalidate_sec(), 5);
                assert_eq!(m.stale_if_error_sec(), 300);
                assert_eq!(m.headers()["content-type"], "video/mp4");
                assert_eq!(m.response_header().status, 200);
            }
        }
    }

    #[test]
    fn small_memory_tiers_are_not_split_into_tiny_shards() {
        assert_eq!(memory_shards(1 << 20), 1);
        assert_eq!(memory_shards(64 << 20), 2);
        assert_eq!(memory_shards(4 << 30), 8);
    }

    #[tokio::test]
    async fn seek_serves_the_requested_slice_and_can_be_repeated() {
        let mut hit = BodyHit::new(Bytes::from_static(b"0123456789"), false);
        hit.seek(2, Some(5)).unwrap();
        assert_eq!(
            hit.read_body().await.unwrap().unwrap(),
            Bytes::from_static(b"234")
        );
        assert!(hit.read_body().await.unwrap().is_none());
        hit.seek(8, Some(100)).unwrap();
        assert_eq!(
            hit.read_body().await.unwrap().unwrap(),
            Bytes::from_static(b"89")
        );
        assert!(hit.seek(10, None).is_err());
    }
}
