//! Natural batching of the two per-request consensus costs: writes and read-index rounds.
//!
//! openraft 0.9 turns every `client_write` into its own log entry, fsync and replication
//! message, and every `get_read_log_id` into its own heartbeat round to every voter. Under
//! concurrent load that caps throughput at one fsync (or one round trip) per request. Here
//! requests that arrive while earlier ones are in flight wait in a queue and go out together:
//!
//! * **writes**: the commands queued when a slot frees up become one [`CommandJson::Batch`]
//!   entry (applied in order in one transaction); each caller gets its own command's outcome.
//!   A lone command goes out as before, as one entry, so an idle node adds no latency.
//! * **read-index**: every caller queued when a round starts shares that round. A round that
//!   starts after a caller arrived confirms leadership and reads the commit index after that
//!   arrival, which is all a linearizable read needs.
//!
//! Nothing waits on a timer: batches form only from what piled up behind work in flight.

use std::future::Future;
use std::sync::Arc;

use serde_json::value::RawValue;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::cluster::Refusal;
use super::types::{CommandJson, OutcomeJson};

/// Payloads a node's callers may have in flight (to the leader) at once.
pub(crate) const CALLERS_IN_FLIGHT: usize = 2;
/// Entries the leader proposes at once. One: openraft 0.9 sends a follower one append at a time,
/// so a second entry in flight would only wait behind the first; everything that arrives
/// meanwhile goes into the next entry instead.
pub(crate) const PROPOSALS_IN_FLIGHT: usize = 1;
/// Most commands in one entry.
const MAX_BATCH_COMMANDS: usize = 1_000;
/// Most command bytes in one entry (an entry is replicated in one message).
const MAX_BATCH_BYTES: usize = 512 << 10;

type Reply<T, E> = oneshot::Sender<Result<T, E>>;

/// Queues payloads (single commands, or batches such as group commit's or a follower's) and
/// sends what piled up as one payload through `send`, which writes it (locally on the leader,
/// or forwarded to it) and answers its outcome or an error `E`. Each caller gets the outcome of
/// its own payload, in its own shape. Every node queues its callers' writes; the leader queues
/// every payload it proposes too, its followers' forwarded batches included, so the cluster's
/// concurrent writes become few entries.
pub(crate) struct WriteQueue<E> {
    tx: mpsc::UnboundedSender<(CommandJson, Reply<OutcomeJson, E>)>,
}

impl<E> Clone for WriteQueue<E> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<E: Clone + From<Refusal> + Send + 'static> WriteQueue<E> {
    /// Starts the sender task, with at most `in_flight` payloads sent and unanswered at once;
    /// it ends once every clone of the queue is dropped.
    pub(crate) fn start<F, Fut>(in_flight: usize, send: F) -> Self
    where
        F: Fn(CommandJson) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<OutcomeJson, E>> + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_batches(rx, in_flight, send));
        Self { tx }
    }

    /// Writes `payload` and answers its outcome: a command's, or an array for a batch.
    pub(crate) async fn write(&self, payload: CommandJson) -> Result<OutcomeJson, E> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((payload, reply))
            .map_err(|_| E::from(Refusal::Stopped))?;
        answer.await.unwrap_or(Err(E::from(Refusal::Stopped)))
    }
}

async fn send_batches<E, F, Fut>(
    mut rx: mpsc::UnboundedReceiver<(CommandJson, Reply<OutcomeJson, E>)>,
    in_flight: usize,
    send: F,
) where
    E: Clone + From<Refusal> + Send + 'static,
    F: Fn(CommandJson) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<OutcomeJson, E>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(in_flight));
    while let Some(first) = rx.recv().await {
        // Waiting for a slot is what lets a batch form.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (mut commands, mut bytes) = size(&first.0);
        let mut queued = vec![first];
        while commands < MAX_BATCH_COMMANDS && bytes < MAX_BATCH_BYTES {
            let Ok(next) = rx.try_recv() else { break };
            let (c, b) = size(&next.0);
            (commands, bytes) = (commands + c, bytes + b);
            queued.push(next);
        }
        let (payloads, replies): (Vec<CommandJson>, Vec<Reply<OutcomeJson, E>>) =
            queued.into_iter().unzip();
        metrics::histogram!("marquee_origin_raft_write_batch_commands").record(commands as f64);
        let (merged, shapes) = merge(payloads);
        let sent = send(merged);
        tokio::spawn(async move {
            let answers = split(sent.await, &shapes);
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(answer);
            }
            drop(slot);
        });
    }
}

/// Commands and bytes of a payload.
fn size(payload: &CommandJson) -> (usize, usize) {
    match payload {
        CommandJson::One(json) => (1, json.len()),
        CommandJson::Batch { batch } => (batch.len(), batch.iter().map(String::len).sum()),
    }
}

/// How a caller's payload sits in a merged one: `None` for a single command, `Some(n)` for a
/// batch of `n` commands (its outcome is an array).
type Shape = Option<usize>;

/// One payload for several: a lone command stays one (an idle node writes as it always did);
/// anything else becomes one batch of every command, in order.
fn merge(mut payloads: Vec<CommandJson>) -> (CommandJson, Vec<Shape>) {
    if let [CommandJson::One(_)] = payloads.as_slice() {
        return (payloads.remove(0), vec![None]);
    }
    let mut batch = Vec::new();
    let mut shapes = Vec::with_capacity(payloads.len());
    for payload in payloads {
        match payload {
            CommandJson::One(json) => {
                shapes.push(None);
                batch.push(json);
            }
            CommandJson::Batch { batch: more } => {
                shapes.push(Some(more.len()));
                batch.extend(more);
            }
        }
    }
    (CommandJson::Batch { batch }, shapes)
}

/// Each caller's answer from the merged payload's: its command's outcome, or the array of its
/// batch's; a refusal reaches every caller.
fn split<E: Clone + From<Refusal>>(
    answer: Result<OutcomeJson, E>,
    shapes: &[Shape],
) -> Vec<Result<OutcomeJson, E>> {
    let outcome = match answer {
        Ok(outcome) if shapes == [None] => return vec![Ok(outcome)],
        Ok(outcome) => outcome,
        Err(e) => return vec![Err(e); shapes.len()],
    };
    let count: usize = shapes.iter().map(|s| s.unwrap_or(1)).sum();
    let each = match serde_json::from_str::<Vec<Box<RawValue>>>(&outcome.0) {
        Ok(each) if each.len() == count => each,
        _ => {
            let why = format!("a batch of {count} commands got an outcome of another shape");
            return vec![Err(E::from(Refusal::Fatal(why))); shapes.len()];
        }
    };
    let mut each = each.into_iter().map(|raw| raw.get().to_owned());
    shapes
        .iter()
        .map(|shape| {
            Ok(OutcomeJson(match shape {
                None => each.next().unwrap_or_default(),
                Some(n) => format!("[{}]", each.by_ref().take(*n).collect::<Vec<_>>().join(",")),
            }))
        })
        .collect()
}

/// Shares read-index rounds between the callers queued when each round starts.
pub(crate) struct ReadIndexQueue<E> {
    tx: mpsc::UnboundedSender<Reply<u64, E>>,
}

impl<E> Clone for ReadIndexQueue<E> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<E: Clone + From<Refusal> + Send + 'static> ReadIndexQueue<E> {
    /// Starts the task that runs `round` for each group of callers; it ends once every clone
    /// of the queue is dropped.
    pub(crate) fn start<F, Fut>(round: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<u64, E>> + Send + 'static,
    {
        let (tx, mut rx) = mpsc::unbounded_channel::<Reply<u64, E>>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut waiting = vec![first];
                while let Ok(next) = rx.try_recv() {
                    waiting.push(next);
                }
                metrics::histogram!("marquee_origin_raft_read_index_batch_callers")
                    .record(waiting.len() as f64);
                let answer = round().await;
                for reply in waiting {
                    let _ = reply.send(answer.clone());
                }
            }
        });
        Self { tx }
    }

    /// The read index of a round that started after this call.
    pub(crate) async fn read_index(&self) -> Result<u64, E> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(reply).map_err(|_| E::from(Refusal::Stopped))?;
        answer.await.unwrap_or(Err(E::from(Refusal::Stopped)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// A sender that records each payload and answers after a delay, echoing every command
    /// as its outcome (an array for batches, as the state machine does).
    fn echo(seen: Arc<Mutex<Vec<CommandJson>>>) -> WriteQueue<Refusal> {
        WriteQueue::start(CALLERS_IN_FLIGHT, move |payload: CommandJson| {
            seen.lock().unwrap().push(payload.clone());
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(OutcomeJson(match payload {
                    CommandJson::One(json) => json,
                    CommandJson::Batch { batch } => format!("[{}]", batch.join(",")),
                }))
            }
        })
    }

    #[tokio::test]
    async fn a_lone_write_goes_out_as_one_entry() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let queue = echo(seen.clone());
        assert_eq!(queue.write(one("7")).await.unwrap().0, "7");
        assert_eq!(*seen.lock().unwrap(), vec![CommandJson::One("7".into())]);
    }

    #[tokio::test]
    async fn concurrent_writes_share_entries_and_each_gets_its_own_outcome() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let queue = echo(seen.clone());
        let calls: Vec<_> = (0..50)
            .map(|i| {
                let queue = queue.clone();
                tokio::spawn(async move { (i, queue.write(one(&format!("{{\"n\":{i}}}"))).await) })
            })
            .collect();
        for call in calls {
            let (i, answer) = call.await.unwrap();
            assert_eq!(answer.unwrap().0, format!("{{\"n\":{i}}}"));
        }
        let entries = seen.lock().unwrap().len();
        assert!(entries < 50, "50 concurrent writes took {entries} entries");
    }

    fn one(json: &str) -> CommandJson {
        CommandJson::One(json.into())
    }

    #[test]
    fn a_refused_batch_refuses_every_caller_and_a_misshapen_outcome_is_fatal() {
        let shapes = [None, None, None];
        let refused = split::<Refusal>(Err(Refusal::Stopped), &shapes);
        assert!(refused.iter().all(|a| matches!(a, Err(Refusal::Stopped))));
        let short = split::<Refusal>(Ok(OutcomeJson("[1,2]".into())), &shapes);
        assert!(short.iter().all(|a| matches!(a, Err(Refusal::Fatal(_)))));
    }

    #[test]
    fn merged_batches_keep_their_callers_shapes() {
        let batch = |items: &[&str]| CommandJson::Batch {
            batch: items.iter().map(|s| s.to_string()).collect(),
        };
        let (merged, shapes) = merge(vec![one("1"), batch(&["2", "3"]), one("4"), batch(&["5"])]);
        assert_eq!(merged, batch(&["1", "2", "3", "4", "5"]));
        let answers = split::<Refusal>(Ok(OutcomeJson("[1,2,3,4,5]".into())), &shapes);
        let answers: Vec<String> = answers.into_iter().map(|a| a.unwrap().0).collect();
        assert_eq!(answers, ["1", "[2,3]", "4", "[5]"]);
        // A lone batch stays a batch, so its caller still gets an array.
        let (merged, shapes) = merge(vec![batch(&["9"])]);
        assert_eq!(merged, batch(&["9"]));
        let answers = split::<Refusal>(Ok(OutcomeJson("[9]".into())), &shapes);
        assert_eq!(answers[0].as_ref().unwrap().0, "[9]");
    }

    #[tokio::test]
    async fn read_index_rounds_start_after_their_callers_arrive() {
        let rounds = Arc::new(Mutex::new(0u64));
        let counted = rounds.clone();
        let queue = ReadIndexQueue::<Refusal>::start(move || {
            let counted = counted.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let mut n = counted.lock().unwrap();
                *n += 1;
                Ok(*n)
            }
        });
        let first = queue.read_index();
        let (a, b) = tokio::join!(first, async {
            // Arrives while round 1 is in flight: it must get round 2, not round 1.
            tokio::time::sleep(Duration::from_millis(5)).await;
            tokio::join!(queue.read_index(), queue.read_index())
        });
        assert_eq!(a.unwrap(), 1);
        assert_eq!(
            (b.0.unwrap(), b.1.unwrap()),
            (2, 2),
            "later callers share round 2"
        );
        assert_eq!(*rounds.lock().unwrap(), 2);
    }
}
