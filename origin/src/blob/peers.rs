//! Blobs from every node: a node that lacks an upload, a poster or a packaged file fetches it
//! from a member that has it, checks it against the hash the replicated state records, and
//! keeps the copy. Members serve their local blobs to each other on the Raft RPC listener
//! (`GET /internal/blobs/{*path}`, cluster secret), never on the public port.
//!
//! Packaged files are checked through their package's file list (`files.sha256.json`, one hash
//! per file), whose own hash is in the job's record: one replicated hash covers thousands of
//! segments.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::{BlobError, BlobStore, Stored};
use crate::raft::{Replicated, SECRET_HEADER, secret_matches};
use crate::state::Origin;

/// Name of a package's file list, beside its manifests.
pub const FILE_LIST: &str = "files.sha256.json";
const PEER_PREFIX: &str = "/internal/blobs";

/// Every file of a package with its hash and size.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PackageFiles {
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub size: u64,
}

impl From<Stored> for FileEntry {
    fn from(s: Stored) -> Self {
        Self {
            sha256: s.sha256,
            size: s.size,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("{path} is on no reachable node{tried}")]
    NotFound { path: String, tried: String },
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("the package file list is unreadable: {0}")]
    FileList(String),
}

/// Fetches missing blobs from the other members.
#[derive(Clone)]
pub struct PeerBlobs {
    raft: Replicated<Origin>,
    http: reqwest::Client,
    /// Blobs live in shared storage: there is nothing to copy.
    shared: bool,
}

impl PeerBlobs {
    pub fn new(raft: Replicated<Origin>, shared: bool) -> Self {
        // The raft peer client: blobs are copied over the same (mutual TLS) RPC listener.
        let http = raft.peer_client().unwrap_or_default();
        Self { raft, http, shared }
    }

    /// Makes sure `path` is in `blobs`: if absent, copies it from the first member that has it
    /// and whose copy hashes to `sha256`. A copy that does not match is dropped, never kept.
    pub async fn ensure_local(
        &self,
        blobs: &BlobStore,
        path: &str,
        sha256: &str,
    ) -> Result<(), PeerError> {
        if blobs.exists(path).await? {
            return Ok(());
        }
        let Some(secret) = self.raft.cluster_secret() else {
            return Err(not_found(path, Vec::new()));
        };
        let mut tried = Vec::new();
        for (id, node) in self.raft.member_nodes() {
            if id == self.raft.node_id() {
                continue;
            }
            match self
                .copy_from(blobs, &node.raft_url(), &secret, path, sha256)
                .await
            {
                Ok(true) => {
                    tracing::info!(path, from = id, "blob fetched from a peer");
                    metrics::counter!("marquee_origin_peer_blob_fetches_total", "result" => "ok")
                        .increment(1);
                    return Ok(());
                }
                Ok(false) => tried.push(format!("node {id}: not there")),
                Err(why) => {
                    metrics::counter!("marquee_origin_peer_blob_fetches_total", "result" => "error")
                        .increment(1);
                    tracing::warn!(path, from = id, why, "peer blob fetch failed");
                    tried.push(format!("node {id}: {why}"));
                }
            }
        }
        Err(not_found(path, tried))
    }

    /// Copies `path` from one peer into a scratch blob, then moves it in place if its hash is
    /// right. `Ok(false)`: the peer does not have it.
    async fn copy_from(
        &self,
        blobs: &BlobStore,
        base: &str,
        secret: &str,
        path: &str,
        sha256: &str,
    ) -> Result<bool, String> {
        let resp = self
            .http
            .get(format!("{base}{PEER_PREFIX}/{path}"))
            .header(SECRET_HEADER, secret)
            .timeout(Duration::from_secs(300))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match resp.status() {
            StatusCode::NOT_FOUND => return Ok(false),
            s if !s.is_success() => return Err(format!("answered {s}")),
            _ => {}
        }
        let scratch = format!("fetching/{}", crate::ids::new_id());
        let body = resp.bytes_stream().map_err(std::io::Error::other);
        let stored = blobs
            .put_stream(&scratch, Box::pin(body), u64::MAX)
            .await
            .map_err(|e| e.to_string())?;
        if stored.sha256 != sha256 {
            let _ = blobs.delete(&scratch).await;
            return Err(format!(
                "its copy hashes to {}, the cluster recorded {sha256}",
                stored.sha256
            ));
        }
        blobs
            .rename(&scratch, path)
            .await
            .map_err(|e| e.to_string())?;
        Ok(true)
    }

    /// The recorded hash of the packaged file `rel` in `media/<title_id>/<job_id>/`, through the
    /// job's file list (fetched from a peer if needed). `None` when the cluster records none
    /// (a package from before file lists, or no such job).
    pub async fn media_hash(
        &self,
        blobs: &BlobStore,
        title_id: &str,
        job_id: &str,
        rel: &str,
    ) -> Result<Option<String>, PeerError> {
        let job = self
            .raft
            .read(|tx| crate::jobs::state::job(tx, job_id))
            .map_err(|e| PeerError::FileList(e.to_string()))?;
        let Some(list_hash) = job
            .filter(|j| j.title_id == title_id)
            .and_then(|j| j.package_files_sha256)
        else {
            return Ok(None);
        };
        let list_path = format!("media/{title_id}/{job_id}/{FILE_LIST}");
        self.ensure_local(blobs, &list_path, &list_hash).await?;
        let list = read_file_list(blobs, &list_path).await?;
        Ok(list.files.get(rel).map(|f| f.sha256.clone()))
    }
}

/// What a member is asked to copy from the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Pull {
    Blob {
        path: String,
        sha256: String,
    },
    /// A whole package: its file list, then every file in it.
    Package {
        title_id: String,
        job_id: String,
        files_sha256: String,
    },
}

impl PeerBlobs {
    /// Asks every other member to copy `what` from whoever has it, so it survives the loss of
    /// this node. Returns how many members hold a copy now (0 when alone).
    pub async fn replicate(&self, what: Pull) -> usize {
        let Some(secret) = self.raft.cluster_secret() else {
            return 0;
        };
        if self.shared {
            // Shared storage (S3) already holds it for every member.
            return self.raft.member_nodes().len().saturating_sub(1);
        }
        let me = self.raft.node_id();
        let asks = self
            .raft
            .member_nodes()
            .into_iter()
            .filter(|(id, _)| *id != me)
            .map(|(id, node)| {
                let (what, secret) = (&what, secret.clone());
                async move {
                    let resp = self
                        .http
                        .post(format!("{}{PEER_PREFIX}-pull", node.raft_url()))
                        .header(SECRET_HEADER, &*secret)
                        .timeout(Duration::from_secs(600))
                        .json(what)
                        .send()
                        .await;
                    match resp {
                        Ok(r) if r.status().is_success() => true,
                        Ok(r) => {
                            let why = r.text().await.unwrap_or_default();
                            tracing::warn!(node = id, why, "a peer could not copy a blob");
                            false
                        }
                        Err(e) => {
                            tracing::warn!(node = id, error = %e, "a peer could not be asked to copy a blob");
                            false
                        }
                    }
                }
            });
        futures::future::join_all(asks)
            .await
            .into_iter()
            .filter(|ok| *ok)
            .count()
    }

    /// Copies `what` here (the receiving side of [`Self::replicate`]).
    async fn pull(&self, blobs: &BlobStore, what: Pull) -> Result<(), PeerError> {
        match what {
            Pull::Blob { path, sha256 } => self.ensure_local(blobs, &path, &sha256).await,
            Pull::Package {
                title_id,
                job_id,
                files_sha256,
            } => {
                let list_path = format!("media/{title_id}/{job_id}/{FILE_LIST}");
                self.ensure_local(blobs, &list_path, &files_sha256).await?;
                for (rel, file) in read_file_list(blobs, &list_path).await?.files {
                    let path = format!("media/{title_id}/{job_id}/{rel}");
                    self.ensure_local(blobs, &path, &file.sha256).await?;
                }
                Ok(())
            }
        }
    }
}

async fn read_file_list(blobs: &BlobStore, list_path: &str) -> Result<PackageFiles, PeerError> {
    let Some(reader) = blobs.get(list_path).await? else {
        return Err(not_found(list_path, Vec::new()));
    };
    let chunks: Vec<bytes::Bytes> = reader
        .stream
        .try_collect()
        .await
        .map_err(|e| PeerError::FileList(e.to_string()))?;
    serde_json::from_slice(&chunks.concat()).map_err(|e| PeerError::FileList(e.to_string()))
}

fn not_found(path: &str, tried: Vec<String>) -> PeerError {
    let tried = if tried.is_empty() {
        String::new()
    } else {
        format!(" ({})", tried.join("; "))
    };
    PeerError::NotFound {
        path: path.to_owned(),
        tried,
    }
}

#[derive(Clone)]
struct Serve {
    blobs: BlobStore,
    secret: Arc<str>,
    peers: PeerBlobs,
}

/// For the Raft RPC listener: `GET /internal/blobs/{*path}` (this node's own copy, or 404) and
/// `POST /internal/blobs-pull` (copy a blob or package here from the other members).
pub fn router(blobs: BlobStore, secret: Arc<str>, peers: PeerBlobs) -> Router {
    let state = Serve {
        blobs,
        secret,
        peers,
    };
    Router::new()
        .route(&format!("{PEER_PREFIX}/{{*path}}"), get(serve))
        .route(&format!("{PEER_PREFIX}-pull"), axum::routing::post(pull))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

async fn authenticate(State(st): State<Serve>, req: Request, next: Next) -> Response {
    if !secret_matches(&st.secret, req.headers()) {
        tracing::warn!(path = %req.uri().path(), "peer blob request refused: wrong or no cluster secret");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    next.run(req).await
}

async fn serve(State(st): State<Serve>, Path(path): Path<String>) -> Response {
    if path.starts_with("fetching/") || path.split('/').any(|s| s.is_empty() || s == "..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match st.blobs.get(&path).await {
        Ok(Some(blob)) => (
            [(axum::http::header::CONTENT_LENGTH, blob.size.to_string())],
            Body::from_stream(blob.stream),
        )
            .into_response(),
        Ok(None) | Err(BlobError::BadPath(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!(path, error = %e, "peer blob read failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn pull(State(st): State<Serve>, axum::Json(what): axum::Json<Pull>) -> Response {
    match st.peers.pull(&st.blobs, what).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
