//! Profiles: up to five per account, each with its name, avatar, language, maturity limit and
//! optional PIN; the session carries the one chosen. Lists, history and ratings belong to a
//! profile and go with it.

pub mod api;
pub mod state;
#[cfg(test)]
mod tests;
pub mod watching;
pub mod wire;

pub use watching::Watching;
