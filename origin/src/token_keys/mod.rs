//! Playback-token signing keys and their rotation.
//!
//! Origin starts with the key in `--token-key-file`. An admin rotates it
//! (`POST /api/v1/admin/token-keys/rotate`): origin makes a new key, publishes its public half
//! to the control-plane, waits until every live edge holds it, and only then replicates it as
//! the key every node signs with ([`state`]). The key it replaced stays accepted (by edges and
//! by origin's own media check) for one token lifetime, then the control-plane drops it.

pub mod api;
pub mod keyring;
pub mod publish;
pub mod state;
#[cfg(test)]
mod tests;
