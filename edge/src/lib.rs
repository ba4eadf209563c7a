//! Marquee's edge node: a Pingora reverse proxy in front of origin that verifies playback
//! tokens before any cache lookup, caches media in a foyer memory + disk cache, coalesces
//! concurrent misses into one origin fetch, and heartbeats its load to the control-plane.
//!
//! The decisions are pure and tested beside their code: [`route`] (what a path is),
//! [`tokens`] (token checks with a cache of verified signatures), [`policy`] (what to store,
//! the `Cache-Status` value). [`proxy`] wires them into Pingora's request phases, [`storage`]
//! implements pingora-cache's `Storage` on foyer, [`heartbeat`] talks to the control-plane.
//!
//! ```
//! use http::Method;
//! use marquee_edge::route::{classify, Route};
//!
//! // The token never reaches origin nor the cache key: only the stripped path does.
//! let route = classify(&Method::GET, "/t/TOKEN/media/t1/video/720p/seg-1.m4s");
//! assert_eq!(route, Route::Gated { token: "TOKEN", path: "/media/t1/video/720p/seg-1.m4s" });
//! ```

pub mod config;
pub mod fill;
pub mod h3;
pub mod heartbeat;
pub mod metrics;
pub mod origin_tls;
pub mod origins;
pub mod policy;
pub mod proxy;
pub mod purge;
pub mod ratelimit;
pub mod route;
pub mod storage;
pub mod tokens;

pub use config::{Args, Config, ConfigError};
pub use proxy::EdgeProxy;
pub use storage::HybridStorage;
