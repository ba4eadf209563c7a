//! Marquee origin: the JSON API (accounts, catalogue, admin uploads, playback), the packaged
//! media it serves to edges, and the packaging job queue — all state replicated with Raft.
//!
//! The shape, from the outside in:
//! - [`server`] wires everything and owns the process lifecycle;
//! - [`api`] assembles the routes and the context handlers share;
//! - each domain — [`accounts`], [`catalogue`], [`jobs`], [`playback`] — owns its commands,
//!   tables and queries (`state`), its handlers (`api`) and its JSON shapes (`wire`); handlers
//!   validate, decide ids and timestamps, then replicate a command through [`raft::Replicated`];
//! - [`state::Origin`] routes each replicated command to its domain;
//! - [`policy`] decides who may see or play what, for every domain alike;
//! - [`blob::BlobStore`] keeps uploads, posters and packages; only their hashes are replicated;
//! - [`jobs::worker`] runs the packager on uploads and stores the results under `media/{title_id}/`.

pub mod accounts;
pub mod api;
pub mod billing;
pub mod blob;
pub mod catalogue;
pub mod cluster;
pub mod config;
pub mod control_plane;
pub mod disk;
pub mod error;
pub mod fleet;
pub mod geo;
pub mod history;
pub mod home_fill;
pub mod ids;
pub mod jobs;
pub mod keys;
pub mod leader_rounds;
pub mod media;
pub mod metrics;
pub mod mylist;
pub mod notifications;
pub mod plans;
pub mod playback;
pub mod policy;
pub mod profiles;
pub mod raft;
pub mod ratings;
pub mod recommendations;
pub mod rows;
#[doc(hidden)]
pub mod scale_fill;
pub mod search;
pub mod search_fill;
pub mod series;
pub mod server;
pub mod state;
pub mod streams;
pub mod subtitles;
pub mod token_keys;
pub mod web;

pub use config::{Cli, Config};
pub use state::Origin;
