//! Group commit for high-rate small writes (playback progress, job progress, stream leases):
//! commands arriving within a short window are coalesced per key — the last one for a key
//! wins — and replicated as one Raft entry, so a viewer's heartbeat is not a consensus round
//! of its own.
//!
//! Every caller is answered when the entry holding its key's latest command is committed and
//! applied (or with the error that stopped it). A command superseded by a newer one for the
//! same key is answered the same way: its intent, "this key's latest value", was written.
//! One batch is in flight at a time; what arrives meanwhile forms the next one, which goes out
//! as soon as the one before is written: the window is only waited by a batch that starts from
//! idle, so under load the wait is the write in flight, not a timer on top of it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use super::types::CommandJson;
use super::{App, Replicated, WriteError};

/// How long the first command of a batch started from idle waits for others to join it.
pub const DEFAULT_WINDOW: Duration = Duration::from_millis(5);
/// The shortest window the committer runs with.
pub const MIN_WINDOW: Duration = Duration::from_millis(1);
/// Most distinct keys in one entry; more wait for the next.
const MAX_BATCH: usize = 2_000;

type Waiter = oneshot::Sender<Result<(), WriteError>>;

#[derive(Default)]
struct Pending {
    /// Key → position in `order`; a newer command for a key replaces the older in place.
    slots: HashMap<String, usize>,
    /// (key, command JSON) in order of each key's first arrival.
    order: Vec<(String, String)>,
    /// Callers per key, answered when that key's slot is written.
    waiters: HashMap<String, Vec<Waiter>>,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Notify,
}

/// A handle to a node's coalescing writer. Cheap to clone; the flusher task ends when every
/// handle is dropped or Raft stops.
pub struct GroupCommit<A: App> {
    shared: Arc<Shared>,
    _app: std::marker::PhantomData<fn() -> A>,
}

impl<A: App> Clone for GroupCommit<A> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            _app: std::marker::PhantomData,
        }
    }
}

impl<A: App> GroupCommit<A> {
    /// Starts the flusher for `raft`, coalescing over `window`.
    pub fn start(raft: Replicated<A>, window: Duration) -> Self {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
        });
        let flusher = shared.clone();
        tokio::spawn(async move {
            // Whether the last batch found more waiting when it was written.
            let mut busy = false;
            loop {
                let notified = flusher.wake.notified();
                if lock(&flusher).order.is_empty() {
                    busy = false;
                    // Idle: wait for work, and end once every handle is gone.
                    tokio::select! {
                        () = notified => {}
                        () = tokio::time::sleep(Duration::from_secs(1)) => {
                            if Arc::strong_count(&flusher) == 1 {
                                return;
                            }
                        }
                    }
                    continue;
                }
                drop(notified);
                if !busy {
                    tokio::time::sleep(window).await;
                }
                busy = true;
                let (batch, waiters) = take_batch(&flusher);
                let result = raft
                    .write_json(CommandJson::Batch { batch })
                    .await
                    .map(drop);
                metrics::counter!("marquee_origin_raft_group_commits_total").increment(1);
                for w in waiters {
                    let _ = w.send(result.clone());
                }
            }
        });
        Self {
            shared,
            _app: std::marker::PhantomData,
        }
    }

    /// Queues `cmd` as `key`'s latest value and waits until it (or a newer command for the
    /// same key) is committed and applied.
    pub async fn write(&self, key: &str, cmd: A::Command) -> Result<(), WriteError> {
        let json = serde_json::to_string(&cmd).map_err(|e| WriteError::Encode(e.to_string()))?;
        if serde_json::from_str::<A::Command>(&json).is_err() {
            return Err(WriteError::Encode(
                "command does not round-trip through JSON".into(),
            ));
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut p = lock(&self.shared);
            match p.slots.get(key) {
                Some(&at) => p.order[at].1 = json,
                None => {
                    let at = p.order.len();
                    p.slots.insert(key.to_owned(), at);
                    p.order.push((key.to_owned(), json));
                }
            }
            p.waiters.entry(key.to_owned()).or_default().push(tx);
        }
        metrics::counter!("marquee_origin_raft_group_commit_writes_total").increment(1);
        self.shared.wake.notify_one();
        rx.await.unwrap_or(Err(WriteError::Stopped))
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Pending> {
    shared.pending.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes up to [`MAX_BATCH`] keys' commands and the callers of those keys; the rest stay for
/// the next batch, renumbered.
fn take_batch(shared: &Shared) -> (Vec<String>, Vec<Waiter>) {
    let mut p = lock(shared);
    let rest = if p.order.len() > MAX_BATCH {
        p.order.split_off(MAX_BATCH)
    } else {
        Vec::new()
    };
    let taken = std::mem::replace(&mut p.order, rest);
    p.slots = p
        .order
        .iter()
        .enumerate()
        .map(|(at, (k, _))| (k.clone(), at))
        .collect();
    let mut waiters = Vec::new();
    let mut batch = Vec::with_capacity(taken.len());
    for (key, json) in taken {
        waiters.extend(p.waiters.remove(&key).unwrap_or_default());
        batch.push(json);
    }
    (batch, waiters)
}
