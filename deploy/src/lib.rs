//! Marquee's operator tool. `marquee up` brings up a local world — control-plane, one origin
//! node, two edges in two regions — on 127.0.0.1, seeds a demo catalogue through origin's
//! admin API on first run, and supervises the services until Ctrl-C:
//!
//! ```text
//! $ marquee up --state-dir .marquee --port 8080
//! Marquee is up: http://127.0.0.1:8080
//! ```
//!
//! Modules: [`children`] spawns and stops the services, [`ports`] picks ports and reads their
//! handshake lines, [`catalogue`], [`poster`] and [`video`] make the demo content, [`api`]
//! talks to origin, [`seed`] puts the content in, [`up`] ties it together.

pub mod api;
pub mod binaries;
pub mod catalogue;
pub mod children;
pub mod cli;
pub mod cluster;
pub mod fleet;
pub mod front;
pub mod mail;
pub mod pki;
pub mod ports;
pub mod poster;
pub mod seed;
pub mod state;
pub mod subtitles;
pub mod up;
pub mod video;

pub use cli::{Cli, ClusterAction, ClusterArgs, Command, UpArgs};
pub use up::{UpError, run as up};
