//! Marquee origin: the JSON API (accounts, catalogue, admin uploads, playback), the packaged
//! media it serves to edges, and the packaging job queue — all state replicated with Raft.
//!
//! The shape, from the outside in:
//! - [`server`] wires everything and owns the process lifecycle;
//! - [`api`] holds the HTTP handlers; they validate, decide ids and timestamps, then replicate
//!   a [`state::Command`] through [`raft::Replicated`];
//! - [`state::OriginState`] is the deterministic state machine (pure, unit-tested);
//! - [`blob::BlobStore`] keeps uploads, posters and packages; only their hashes are replicated;
//! - [`jobs`] runs the packager on uploads and stores the results under `media/{title_id}/`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod auth;
pub mod blob;
pub mod config;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod keys;
pub mod media;
pub mod metrics;
pub mod raft;
pub mod server;
pub mod state;
pub mod steering;
pub mod web;

pub use config::{Cli, Config};
pub use state::OriginState;
