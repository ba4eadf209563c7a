//! Packaging jobs: the replicated queue ([`state`]), the worker that runs the packager
//! ([`worker`]), and the admin's view of a job ([`api`]).

pub mod api;
pub mod owner;
mod package;
pub mod state;
#[cfg(test)]
mod tests;
pub mod wire;
pub mod worker;
