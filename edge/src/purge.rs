//! Purges from the control-plane: this edge long-polls `GET /v1/purges?after=SEQ` and applies
//! each purge as it arrives, so a purge reaches every edge within moments.
//!
//! A path is removed from both cache tiers. A title cannot be listed out of the cache (foyer
//! has no prefix scan), so each title has a generation that is part of its objects' cache keys:
//! bumping it makes every object of the title unreachable at once, and the old copies age out.
//! A reset (an edge away longer than the control-plane's log) bumps the epoch every key holds.
//! Generations, the epoch and the last seq applied are saved in the cache directory, beside the
//! disk tier they describe, so a restarted edge neither serves purged objects nor re-applies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use marquee_proto::v1::{PurgeBatch, purge};
use pingora_cache::CacheKey;
use prost::Message;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::storage::HybridStorage;

/// Purges applied, by kind (`path`, `title`, `reset`).
pub const PURGES_APPLIED: &str = "marquee_edge_purges_applied_total";
/// The control-plane holds a poll up to 20 s; give it room.
const POLL_TIMEOUT: Duration = Duration::from_secs(40);
const WARN_EVERY: Duration = Duration::from_secs(30);

/// What makes cache keys: the epoch and each purged title's generation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Generations {
    epoch: u32,
    titles: HashMap<String, u32>,
}

/// What is saved in `<cache-dir>/purges.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    applied: u64,
    generations: Generations,
}

/// The edge's purge state; read on every cache lookup without a lock.
pub struct Purges {
    generations: ArcSwap<Generations>,
    applied: std::sync::Mutex<u64>,
    file: PathBuf,
}

/// The title a media path belongs to: `/media/<title>/...`.
fn title_of(path: &str) -> Option<&str> {
    path.strip_prefix("/media/")?.split('/').next()
}

impl Purges {
    /// Loads what an earlier run saved in `cache_dir` (nothing on a first start).
    pub fn load(cache_dir: &Path) -> Self {
        let file = cache_dir.join("purges.json");
        let saved: Saved = std::fs::read(&file)
            .ok()
            .map(|bytes| match serde_json::from_slice(&bytes) {
                Ok(s) => s,
                Err(e) => {
                    // A damaged file cannot say what was purged: start a new epoch, so nothing
                    // cached before is served.
                    tracing::warn!(file = %file.display(), error = %e, "purge state unreadable; dropping the cache");
                    Saved {
                        applied: 0,
                        generations: Generations {
                            epoch: 1,
                            titles: HashMap::new(),
                        },
                    }
                }
            })
            .unwrap_or_default();
        Self {
            generations: ArcSwap::from_pointee(saved.generations),
            applied: std::sync::Mutex::new(saved.applied),
            file,
        }
    }

    /// The cache key of a token-free media path under the current generations.
    pub fn key(&self, path: &str) -> CacheKey {
        let generations = self.generations.load();
        let title = title_of(path)
            .and_then(|t| generations.titles.get(t))
            .copied()
            .unwrap_or(0);
        if generations.epoch == 0 && title == 0 {
            return CacheKey::new(path.as_bytes(), "");
        }
        let mut primary = Vec::with_capacity(path.len() + 16);
        primary.extend_from_slice(path.as_bytes());
        primary.extend_from_slice(format!("\0{}.{title}", generations.epoch).as_bytes());
        CacheKey::new(primary, "")
    }

    pub fn applied(&self) -> u64 {
        *self.applied.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a batch from the control-plane and saves the result; returns how many purges
    /// took effect.
    pub fn apply(&self, batch: &PurgeBatch, storage: &HybridStorage) -> usize {
        let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        let mut generations = Generations::clone(&self.generations.load());
        let mut count = 0;
        if batch.reset {
            generations.epoch += 1;
            generations.titles.clear();
            metrics::counter!(PURGES_APPLIED, "kind" => "reset").increment(1);
            count += 1;
        }
        for p in batch.purges.iter().filter(|p| p.seq > *applied) {
            match &p.target {
                Some(purge::Target::Path(path)) => {
                    storage.remove(&self.key(path));
                    metrics::counter!(PURGES_APPLIED, "kind" => "path").increment(1);
                }
                Some(purge::Target::TitleId(title)) => {
                    *generations.titles.entry(title.clone()).or_insert(0) += 1;
                    // Each key reads the generations afresh: publish before the next purge.
                    self.generations.store(Arc::new(generations.clone()));
                    metrics::counter!(PURGES_APPLIED, "kind" => "title").increment(1);
                }
                None => continue,
            }
            count += 1;
        }
        self.generations.store(Arc::new(generations.clone()));
        *applied = (*applied).max(batch.latest_seq);
        let saved = Saved {
            applied: *applied,
            generations,
        };
        if let Err(e) = save(&self.file, &saved) {
            tracing::warn!(file = %self.file.display(), error = %e, "purge state not saved");
        }
        count
    }
}

fn save(file: &Path, saved: &Saved) -> std::io::Result<()> {
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(saved)?)?;
    std::fs::rename(&tmp, file)
}

/// The client purges are polled with: mutual TLS like heartbeats, a longer timeout.
pub fn client(tls: &marquee_tls::Tls) -> anyhow::Result<reqwest::Client> {
    let config = tls.client_config(Some(marquee_tls::Service::ControlPlane), &[])?;
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(POLL_TIMEOUT)
        .build()?)
}

/// Polls and applies purges until `shutdown` turns true. A control-plane that cannot be
/// reached is retried every second and never stops the edge from serving.
pub async fn follow(
    client: reqwest::Client,
    control_plane: String,
    purges: Arc<Purges>,
    storage: &'static HybridStorage,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last_warn: Option<Instant> = None;
    loop {
        let url = format!("{control_plane}/v1/purges?after={}", purges.applied());
        let answer = tokio::select! {
            answer = poll(&client, &url) => answer,
            _ = shutdown.changed() => return,
        };
        match answer {
            Ok(batch) => {
                let count = purges.apply(&batch, storage);
                if count > 0 {
                    tracing::info!(count, seq = batch.latest_seq, "purges applied");
                }
            }
            Err(e) => {
                if last_warn.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    tracing::warn!(error = %e, "cannot poll purges; retrying");
                    last_warn = Some(Instant::now());
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

async fn poll(client: &reqwest::Client, url: &str) -> anyhow::Result<PurgeBatch> {
    let resp = client.get(url).send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        anyhow::bail!(
            "control-plane answered {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        );
    }
    Ok(PurgeBatch::decode(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pingora_cache::key::CacheHashKey;

    #[test]
    fn keys_change_with_the_titles_generation_only() {
        let dir = tempfile::tempdir().unwrap();
        let purges = Purges::load(dir.path());
        let a1 = purges.key("/media/t1/j/seg-1.m4s").combined();
        let b1 = purges.key("/media/t2/j/seg-1.m4s").combined();
        assert_eq!(
            a1,
            CacheKey::new("/media/t1/j/seg-1.m4s".as_bytes(), "").combined(),
            "unpurged keys are the plain path"
        );
        let mut g = Generations::clone(&purges.generations.load());
        g.titles.insert("t1".into(), 1);
        purges.generations.store(Arc::new(g));
        assert_ne!(purges.key("/media/t1/j/seg-1.m4s").combined(), a1);
        assert_eq!(purges.key("/media/t2/j/seg-1.m4s").combined(), b1);
        assert_eq!(title_of("/media/t9/x"), Some("t9"));
        assert_eq!(title_of("/other"), None);
    }
}
