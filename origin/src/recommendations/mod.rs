//! Recommendations: a model each node trains in the background from the replicated state
//! (never replicated itself), and the home page rows it makes for a profile: Top picks, Because
//! you watched, Top 10 today and Trending now.

pub mod model;
pub mod rows;
pub mod signals;
#[cfg(test)]
pub(crate) mod tests;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::ids::now_unix;
use crate::raft::{Replicated, StoreError};
use crate::state::Origin;
use model::Trained;

/// This node's latest trained model.
#[derive(Default)]
pub struct Recommendations {
    trained: RwLock<Option<Arc<Trained>>>,
}

impl Recommendations {
    pub fn current(&self) -> Option<Arc<Trained>> {
        self.trained
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set(&self, t: Trained) {
        *self.trained.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(t));
    }
}

/// Trains at start, then again whenever entries have applied and `every` has passed since the
/// last training, until `stop`.
pub async fn train_in_background(
    recs: Arc<Recommendations>,
    raft: Replicated<Origin>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut applied = raft.metrics_watch();
    let mut trained_at: Option<Option<u64>> = None;
    loop {
        let last = raft.status().last_applied_index;
        if trained_at != Some(last) {
            let (r, into) = (raft.clone(), recs.clone());
            let started = std::time::Instant::now();
            let res = tokio::task::spawn_blocking(move || {
                r.read(|tx| {
                    let t = model::train(tx, now_unix() * 1000)
                        .map_err(|e| StoreError::Other(e.to_string()))?;
                    into.set(t);
                    Ok(())
                })
            })
            .await;
            match res {
                Ok(Ok(())) => {
                    metrics::histogram!("marquee_origin_recommend_train_seconds")
                        .record(started.elapsed().as_secs_f64());
                    if let Some(t) = recs.current() {
                        metrics::gauge!("marquee_origin_recommend_titles")
                            .set(t.titles.len() as f64);
                        metrics::gauge!("marquee_origin_recommend_profiles").set(t.profiles as f64);
                        metrics::gauge!("marquee_origin_recommend_interactions")
                            .set(t.interactions as f64);
                    }
                }
                Ok(Err(e)) => tracing::error!(error = %e, "recommendations could not train"),
                Err(e) => tracing::error!(error = %e, "recommendation training panicked"),
            }
            trained_at = Some(last);
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(every) => {}
        }
        // Nothing applied since: wait until something is.
        if raft.status().last_applied_index == last {
            let alive = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                c = applied.changed() => c.is_ok(),
            };
            if !alive {
                tokio::time::sleep(every).await;
            }
        }
    }
}
