//! Accounts and sessions: sign-up, sign-in with throttling, the session cookie, and who is
//! asking (`Viewer`, `Admin`).

pub mod api;
pub mod auth;
pub mod devices;
pub mod session;
pub mod state;
#[cfg(test)]
mod tests;
pub mod throttle;
pub mod wire;

pub use session::{Admin, AdminWrite, MaybeViewer, Viewer};
