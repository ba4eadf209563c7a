//! Sequential models of the objects the origin's workloads exercise.

use std::collections::HashSet;

use crate::{Model, Op};

/// A flag per key that can be set once: an account per email. `create` answers whether it
/// created it (false: it existed already); `exists` answers whether it is there.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateOnce;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOnceOp {
    Create(String),
    Exists(String),
}

impl CreateOnceOp {
    pub fn create(key: &str) -> Self {
        Self::Create(key.to_owned())
    }
    pub fn exists(key: &str) -> Self {
        Self::Exists(key.to_owned())
    }
}

impl Model for CreateOnce {
    type Input = CreateOnceOp;
    /// `create`: whether it created; `exists`: whether it found.
    type Output = bool;
    type State = bool;

    fn init(&self) -> bool {
        false
    }

    fn step(&self, there: &bool, input: &CreateOnceOp, output: Option<&bool>) -> Option<bool> {
        match (input, output) {
            // Created: it was not there before.
            (CreateOnceOp::Create(_), Some(true)) => (!there).then_some(true),
            // Refused: it was there.
            (CreateOnceOp::Create(_), Some(false)) => there.then_some(true),
            // Unknown answer, but placed in the order: it ran, so it is there afterwards.
            (CreateOnceOp::Create(_), None) => Some(true),
            (CreateOnceOp::Exists(_), Some(found)) => (found == there).then_some(*there),
            (CreateOnceOp::Exists(_), None) => Some(*there),
        }
    }

    fn partition(&self, input: &CreateOnceOp) -> String {
        match input {
            CreateOnceOp::Create(k) | CreateOnceOp::Exists(k) => k.clone(),
        }
    }
}

/// A read/write register per key (e.g. a title's name as admins edit it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Register;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterOp {
    Write(String, String),
    Read(String),
}

impl Register {
    /// `history` without its unanswered writes of a value that no read returned. Each such
    /// write may or may not have happened; supposing it did not can only make the history
    /// easier to explain (no read needs its value), so the verdict is the same, and the
    /// search no longer has to try every place for each of them. With unique values per
    /// write, that leaves few unanswered writes however many requests timed out.
    pub fn without_unseen_unanswered_writes(
        history: &[Op<RegisterOp, Option<String>>],
    ) -> Vec<Op<RegisterOp, Option<String>>> {
        let seen: HashSet<(&str, &str)> = history
            .iter()
            .filter_map(|op| match (&op.input, &op.output) {
                (RegisterOp::Read(k), Some(Some(v))) => Some((k.as_str(), v.as_str())),
                _ => None,
            })
            .collect();
        history
            .iter()
            .filter(|op| match &op.input {
                RegisterOp::Write(k, v) => {
                    op.ret.is_some() || seen.contains(&(k.as_str(), v.as_str()))
                }
                RegisterOp::Read(_) => true,
            })
            .cloned()
            .collect()
    }
}

impl Model for Register {
    type Input = RegisterOp;
    /// A read's value (`None` inside: never written); writes answer `None`.
    type Output = Option<String>;
    type State = Option<String>;

    fn init(&self) -> Option<String> {
        None
    }

    fn step(
        &self,
        state: &Option<String>,
        input: &RegisterOp,
        output: Option<&Option<String>>,
    ) -> Option<Option<String>> {
        match input {
            RegisterOp::Write(_, v) => Some(Some(v.clone())),
            RegisterOp::Read(_) => match output {
                Some(seen) if seen != state => None,
                _ => Some(state.clone()),
            },
        }
    }

    fn partition(&self, input: &RegisterOp) -> String {
        match input {
            RegisterOp::Write(k, _) | RegisterOp::Read(k) => k.clone(),
        }
    }
}
