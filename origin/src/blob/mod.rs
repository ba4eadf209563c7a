//! The blob store for uploads, posters and packaged media (`object_store`: the local
//! filesystem by default). Bytes stream through in chunks and are hashed on the way, so no
//! object is ever held whole in memory; only paths and hashes go into the replicated state.

use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::ids::Sha256;

pub mod peers;

/// Upload parts kept in flight at once; bounds memory to a few parts.
const MAX_PARTS_IN_FLIGHT: usize = 4;
const FILE_CHUNK: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store: {0}")]
    Store(#[from] object_store::Error),
    #[error("blob store local I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid blob path {0:?}")]
    BadPath(String),
}

/// Why a streamed put did not complete. Nothing is left behind in any case.
#[derive(Debug, thiserror::Error)]
pub enum PutStreamError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("reading the request body failed: {0}")]
    Body(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

/// Size and SHA-256 (hex) of what was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub size: u64,
    pub sha256: String,
}

/// A blob being read: its size and its bytes as a stream.
pub struct BlobReader {
    pub size: u64,
    pub stream: futures::stream::BoxStream<'static, Result<Bytes, object_store::Error>>,
}

#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Every node sees the same objects (S3): nothing to copy between members.
    shared: bool,
}

fn object_path(path: &str) -> Result<ObjectPath, BlobError> {
    ObjectPath::parse(path).map_err(|_| BlobError::BadPath(path.to_owned()))
}

impl BlobStore {
    /// A store rooted at `dir` on the local filesystem (created if absent).
    pub fn local(dir: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(fs),
            shared: false,
        })
    }

    /// A bucket of an S3-compatible store, shared by every node. Plain `http://` endpoints are
    /// allowed (a store on the same host or network); AWS itself is reached over HTTPS.
    pub fn s3(cfg: &crate::config::S3Config, secret_key: &str) -> Result<Self, BlobError> {
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_access_key_id(&cfg.access_key_id)
            .with_secret_access_key(secret_key);
        if let Some(endpoint) = &cfg.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        Ok(Self {
            store: Arc::new(b.build()?),
            shared: true,
        })
    }

    pub fn from_store(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            shared: false,
        }
    }

    /// Whether every node sees the same objects.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Streams `body` into `path`, hashing as it goes; refuses empty bodies and bodies over
    /// `limit` bytes (aborting the partial upload).
    pub async fn put_stream<S, E>(
        &self,
        path: &str,
        body: S,
        limit: u64,
    ) -> Result<Stored, PutStreamError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let location = object_path(path)?;
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(BlobError::from)?;
        let mut writer = WriteMultipart::new(upload);
        match copy_into(&mut writer, body, limit).await {
            Ok(stored) => {
                writer.finish().await.map_err(BlobError::from)?;
                Ok(stored)
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(path, error = %abort, "aborting a partial upload failed");
                }
                Err(e)
            }
        }
    }

    /// Copies a local file into the store, streaming.
    pub async fn put_file(&self, path: &str, local: &Path) -> Result<Stored, PutStreamError> {
        let file = tokio::fs::File::open(local)
            .await
            .map_err(BlobError::from)?;
        let chunks = futures::stream::try_unfold(file, |mut f| async move {
            let mut buf = BytesMut::zeroed(FILE_CHUNK);
            let n = f.read(&mut buf).await?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((n > 0).then(|| (buf.freeze(), f)))
        });
        self.put_stream(path, Box::pin(chunks), u64::MAX).await
    }

    /// The blob at `path`, or `None` when there is none.
    pub async fn get(&self, path: &str) -> Result<Option<BlobReader>, BlobError> {
        let location = object_path(path)?;
        match self.store.get(&location).await {
            Ok(got) => Ok(Some(BlobReader {
                size: got.meta.size,
                stream: got.into_stream(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the blob at `path` to a local file, streaming. Returns its size.
    pub async fn download_to(&self, path: &str, local: &Path) -> Result<u64, BlobError> {
        let location = object_path(path)?;
        let mut stream = self.store.get(&location).await?.into_stream();
        let mut file = tokio::fs::File::create(local).await?;
        let mut size = 0u64;
        while let Some(chunk) = stream.try_next().await? {
            file.write_all(&chunk).await?;
            size += chunk.len() as u64;
        }
        file.flush().await?;
        Ok(size)
    }

    /// Names of the folders directly under `prefix` (e.g. the packages under `media/<id>`).
    pub async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let listed = self
            .store
            .list_with_delimiter(Some(&object_path(prefix)?))
            .await?;
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .collect())
    }

    /// Deletes every blob under the folder `prefix`; returns how many there were.
    pub async fn delete_all_under(&self, prefix: &str) -> Result<u64, BlobError> {
        let mut listed = self.store.list(Some(&object_path(prefix)?));
        let mut deleted = 0;
        while let Some(meta) = listed.try_next().await? {
            self.delete(meta.location.as_ref()).await?;
            deleted += 1;
        }
        Ok(deleted)
    }

    /// Whether a blob exists at `path`.
    pub async fn exists(&self, path: &str) -> Result<bool, BlobError> {
        match self.store.head(&object_path(path)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves a blob (atomically on the local filesystem): a checked copy appears whole or not.
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        Ok(self
            .store
            .rename(&object_path(from)?, &object_path(to)?)
            .await?)
    }

    pub async fn delete(&self, path: &str) -> Result<(), BlobError> {
        match self.store.delete(&object_path(path)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

async fn copy_into<S, E>(
    writer: &mut WriteMultipart,
    mut body: S,
    limit: u64,
) -> Result<Stored, PutStreamError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut hash = Sha256::default();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| PutStreamError::Body(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(PutStreamError::TooLarge { limit });
        }
        hash.update(&chunk);
        writer
            .wait_for_capacity(MAX_PARTS_IN_FLIGHT)
            .await
            .map_err(BlobError::from)?;
        writer.put(chunk);
    }
    if size == 0 {
        return Err(PutStreamError::Empty);
    }
    Ok(Stored {
        size,
        sha256: hash.finish_hex(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        parts: &[&'static [u8]],
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    async fn read_all(store: &BlobStore, path: &str) -> Option<Vec<u8>> {
        let reader = store.get(path).await.unwrap()?;
        let parts: Vec<Bytes> = reader.stream.try_collect().await.unwrap();
        Some(parts.concat())
    }

    #[tokio::test]
    async fn streamed_put_stores_bytes_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let stored = store
            .put_stream("a/b.bin", chunks(&[b"ab", b"c"]), 10)
            .await
            .unwrap();
        assert_eq!(stored.size, 3);
        assert_eq!(stored.sha256, crate::ids::sha256_hex(b"abc"));
        assert_eq!(
            read_all(&store, "a/b.bin").await.as_deref(),
            Some(&b"abc"[..])
        );
        assert!(dir.path().join("a/b.bin").is_file());
    }

    #[tokio::test]
    async fn empty_and_oversized_bodies_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let empty = store.put_stream("e", chunks(&[]), 10).await;
        assert!(matches!(empty, Err(PutStreamError::Empty)), "{empty:?}");
        let big = store
            .put_stream("big", chunks(&[b"12345", b"678"]), 6)
            .await;
        assert!(
            matches!(big, Err(PutStreamError::TooLarge { limit: 6 })),
            "{big:?}"
        );
        assert!(read_all(&store, "e").await.is_none());
        assert!(read_all(&store, "big").await.is_none());
    }

    #[tokio::test]
    async fn files_round_trip_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(&dir.path().join("blobs")).unwrap();
        let src = dir.path().join("src");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let stored = store.put_file("x/y", &src).await.unwrap();
        assert_eq!(stored.size, data.len() as u64);
        let out = dir.path().join("out");
        assert_eq!(
            store.download_to("x/y", &out).await.unwrap(),
            data.len() as u64
        );
        assert_eq!(std::fs::read(&out).unwrap(), data);
        store.delete("x/y").await.unwrap();
        store.delete("x/y").await.unwrap();
        assert!(store.get("x/y").await.unwrap().is_none());
    }
}
