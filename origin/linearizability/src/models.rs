//! Sequential models of the objects the origin's workloads exercise.

use crate::Model;

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
