//! Marquee control-plane: the fleet's registry of edges and the steering of clients to them.
//!
//! Every caller speaks mutual TLS and is who its certificate says ([`marquee_tls`]). Edges send
//! an [`EdgeHeartbeat`](marquee_proto::v1::EdgeHeartbeat) every few seconds
//! (`POST /v1/heartbeat`), accepted only for the edge id their certificate names; an edge that
//! stops is forgotten after `--edge-timeout-ms`. Operators drain and restore edges
//! (`POST /v1/edges/{id}/drain`, `.../restore`). Operators and origin order purges
//! (`POST /v1/purge`), which edges receive by long-polling `GET /v1/purges`. Origin asks
//! `GET /v1/steer?client_ip=…` which edges a viewer should use and gets a
//! [`SteeringAnswer`](marquee_proto::v1::SteeringAnswer): healthy, non-draining edges, the
//! client's own region first, each group by load. The client's region comes from an explicit
//! `region` hint or the longest `--region-prefix` matching its address. Origin rotates its
//! playback-token key through [`token_keys`]: a new key reaches every edge before origin signs
//! with it.
//!
//! The decisions are pure and tested without I/O; [`server`] is the thin async shell:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use marquee_control_plane::{rank, EdgeStatus, Registry};
//! use marquee_proto::v1::EdgeHeartbeat;
//!
//! let now = Instant::now();
//! let mut registry = Registry::default();
//! let clock_ms = 1_700_000_000_000;
//! for (id, region) in [("edge-us", "us"), ("edge-eu", "eu")] {
//!     let hb = EdgeHeartbeat {
//!         edge_id: id.into(),
//!         region: region.into(),
//!         public_url: format!("https://{id}.example"),
//!         sent_at_unix_ms: clock_ms,
//!         ..Default::default()
//!     };
//!     registry.record(EdgeStatus::from_heartbeat(hb).unwrap(), now, clock_ms).unwrap();
//! }
//! let best = rank(registry.edges(), "eu", now, Duration::from_secs(6), 4);
//! assert_eq!(best[0].edge_id, "edge-eu");
//! assert_eq!(best[1].edge_id, "edge-us");
//! ```
//!
//! Coming later (see `docs/interfaces.md` and the architecture map): active health probes,
//! HLS/DASH content steering.

pub mod cidr;
pub mod config;
pub mod error;
pub mod metrics;
pub mod purge;
pub mod ranker;
pub mod registry;
pub mod server;
pub mod token_keys;
mod token_keys_api;

pub use cidr::{Cidr, CidrError, RegionMap, RegionPrefix};
pub use config::{Args, Config, ConfigError};
pub use error::ApiError;
pub use ranker::rank;
pub use registry::{EdgeRecord, EdgeStatus, HeartbeatError, Registry};
pub use server::{AppState, EdgeView, router, run_sweeper};
