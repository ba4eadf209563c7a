//! Watching history: where each profile is in each film and episode (reported by the player
//! every few seconds through group commit), the "Continue watching" row built from it, and the
//! viewing-history page with "hide" and CSV export.

pub mod api;
pub mod state;
#[cfg(test)]
mod tests;
pub mod wire;
