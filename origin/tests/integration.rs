//! Integration tests: the real `marquee-origin` binary on port 0 in a temp dir, driven over
//! HTTP. One binary, grouped by area under `api/`.

// clippy.toml lets #[test] functions unwrap; this crate's helpers are test code too.
#![allow(clippy::unwrap_used)]

mod api;
