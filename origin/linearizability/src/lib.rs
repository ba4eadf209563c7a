//! A linearizability checker for histories recorded against a replicated service.
//!
//! A history is the operations clients ran, each with the time it was called, the time its
//! answer came back (or none: it timed out, so it may or may not have taken effect), what it
//! asked and what it got. The history is linearizable if the operations can be put in one order
//! that respects real time (an operation that returned before another was called comes first)
//! and in which a sequential [`Model`] gives every known answer.
//!
//! The search is Wing & Gong's, with the memoisation of Lowe and porcupine: at each step try
//! every operation that may come next, apply it to the model, and remember `(operations done,
//! model state)` pairs already explored. Histories are first split by key
//! ([`Model::partition`]): operations on independent keys linearize independently, which keeps
//! each search small.
//!
//! Unanswered operations are what make such searches explode: each may be placed anywhere
//! after its call, or nowhere, so `n` of them give `2^n` sets of placed ones to rule out.
//! Unanswered operations that ask the same thing are interchangeable, though (the one called
//! first can stand wherever a later one stands), so they are placed in call order only, which
//! leaves `n + 1` sets for `n` alike. A fault run on a slow machine, where most requests time
//! out, is checked in milliseconds instead of hours.
//!
//! ```
//! use marquee_linearizability::{check, CreateOnce, CreateOnceOp, Op};
//!
//! // B's read started after A's create returned, yet saw nothing: not linearizable.
//! let history = vec![
//!     Op::new(0, 10, Some(20), CreateOnceOp::create("ada"), Some(true)),
//!     Op::new(1, 30, Some(40), CreateOnceOp::exists("ada"), Some(false)),
//! ];
//! assert!(check(&CreateOnce, &history).is_err());
//! ```

use std::collections::HashSet;
use std::hash::Hash;

mod models;

pub use models::{CreateOnce, CreateOnceOp, Register, RegisterOp};

/// A sequential specification.
pub trait Model {
    /// Equal inputs ask the same thing (the checker treats alike unanswered ones as one kind).
    type Input: Clone + PartialEq + std::fmt::Debug;
    /// What the operation answered.
    type Output: Clone + std::fmt::Debug;
    type State: Clone + Eq + Hash + std::fmt::Debug;

    fn init(&self) -> Self::State;

    /// The state after `input` answered `output` in `state`, or `None` if that answer is
    /// impossible there. `output == None` is an operation whose answer never came: any answer
    /// it could have had is allowed.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// The key an operation touches; operations on different keys are checked apart.
    fn partition(&self, input: &Self::Input) -> String;
}

/// One operation of a history. Times are any monotonic clock shared by all clients.
#[derive(Debug, Clone)]
pub struct Op<I, O> {
    pub client: u64,
    pub call: u64,
    /// `None`: no answer came (timeout, connection lost); it may have taken effect.
    pub ret: Option<u64>,
    pub input: I,
    pub output: Option<O>,
}

impl<I, O> Op<I, O> {
    pub fn new(client: u64, call: u64, ret: Option<u64>, input: I, output: Option<O>) -> Self {
        Self {
            client,
            call,
            ret,
            input,
            output,
        }
    }

    fn returned_before(&self, other_call: u64) -> bool {
        self.ret.is_some_and(|r| r < other_call)
    }
}

/// Why a history is not linearizable: the key whose operations admit no order, and the longest
/// order found before the search got stuck (the operations that could not come next follow it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub key: String,
    /// Indexes into the checked history, in the longest order found.
    pub longest_prefix: Vec<usize>,
    /// Indexes of the operations of this key that no order could place.
    pub stuck: Vec<usize>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "key {:?} is not linearizable: after operations {:?}, none of {:?} can come next",
            self.key, self.longest_prefix, self.stuck
        )
    }
}

/// Checks `history` against `model`, key by key.
pub fn check<M: Model>(model: &M, history: &[Op<M::Input, M::Output>]) -> Result<(), Violation> {
    let mut keys: Vec<String> = Vec::new();
    let mut parts: Vec<Vec<usize>> = Vec::new();
    for (i, op) in history.iter().enumerate() {
        let key = model.partition(&op.input);
        match keys.iter().position(|k| *k == key) {
            Some(at) => parts[at].push(i),
            None => {
                keys.push(key);
                parts.push(vec![i]);
            }
        }
    }
    for (key, part) in keys.into_iter().zip(parts) {
        check_part(model, history, &part).map_err(|(longest_prefix, stuck)| Violation {
            key,
            longest_prefix,
            stuck,
        })?;
    }
    Ok(())
}

type Failure = (Vec<usize>, Vec<usize>);

/// One key's operations (`part`: indexes into `history`).
fn check_part<M: Model>(
    model: &M,
    history: &[Op<M::Input, M::Output>],
    part: &[usize],
) -> Result<(), Failure> {
    let n = part.len();
    let mut search = Search {
        model,
        history,
        part,
        alike_before: alike_before(history, part),
        seen: HashSet::new(),
        longest: Vec::new(),
    };
    let mut order = Vec::with_capacity(n);
    let mut done = vec![false; n];
    if search.dfs(&mut done, &mut order, model.init()) {
        return Ok(());
    }
    let placed: Vec<usize> = search.longest.iter().map(|&j| part[j]).collect();
    let stuck = part
        .iter()
        .copied()
        .filter(|i| !placed.contains(i))
        .collect();
    Err((placed, stuck))
}

/// Chains each unanswered operation of `part` to the previous one (by call time) with an
/// equal input; positions are into `part`.
fn alike_before<I: PartialEq, O>(history: &[Op<I, O>], part: &[usize]) -> Vec<Option<usize>> {
    let mut unanswered: Vec<usize> = (0..part.len())
        .filter(|&j| history[part[j]].ret.is_none())
        .collect();
    unanswered.sort_by_key(|&j| (history[part[j]].call, j));
    let mut before = vec![None; part.len()];
    for (at, &j) in unanswered.iter().enumerate() {
        let input = &history[part[j]].input;
        before[j] = unanswered[..at]
            .iter()
            .rev()
            .find(|&&k| history[part[k]].input == *input)
            .copied();
    }
    before
}

struct Search<'a, M: Model> {
    model: &'a M,
    history: &'a [Op<M::Input, M::Output>],
    part: &'a [usize],
    /// For an unanswered operation, the unanswered one with the same input called just before
    /// it (it must be placed first).
    alike_before: Vec<Option<usize>>,
    seen: HashSet<(Vec<bool>, M::State)>,
    longest: Vec<usize>,
}

impl<M: Model> Search<'_, M> {
    fn op(&self, j: usize) -> &Op<M::Input, M::Output> {
        &self.history[self.part[j]]
    }

    /// Linearizes the rest from `state`; `done[j]` marks operations already placed.
    fn dfs(&mut self, done: &mut Vec<bool>, order: &mut Vec<usize>, state: M::State) -> bool {
        if order.len() > self.longest.len() {
            self.longest.clone_from(order);
        }
        // Finished once every answered operation is placed; unanswered ones may never have run.
        let open = (0..done.len()).any(|j| !done[j] && self.op(j).ret.is_some());
        if !open {
            return true;
        }
        if !self.seen.insert((done.clone(), state.clone())) {
            return false;
        }
        for j in 0..done.len() {
            if done[j] || !self.may_come_next(done, j) {
                continue;
            }
            let op = self.op(j);
            let Some(next) = self.model.step(&state, &op.input, op.output.as_ref()) else {
                continue;
            };
            done[j] = true;
            order.push(j);
            if self.dfs(done, order, next) {
                return true;
            }
            order.pop();
            done[j] = false;
        }
        false
    }

    /// `j` may be placed next if no other unplaced operation returned before `j` was called,
    /// and (unanswered) once its alike predecessor is placed.
    fn may_come_next(&self, done: &[bool], j: usize) -> bool {
        if self.alike_before[j].is_some_and(|t| !done[t]) {
            return false;
        }
        let call = self.op(j).call;
        (0..done.len()).all(|k| k == j || done[k] || !self.op(k).returned_before(call))
    }
}

#[cfg(test)]
mod tests;
