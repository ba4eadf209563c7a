//! End-to-end tests: the real `marquee-edge` binary in front of a real loopback origin and a
//! real heartbeat receiver, all on port 0 / free ports, driven over HTTP.

mod caching;
mod freshness;
mod fronting;
mod ops;
mod protocols;
mod purges;
mod tokens;
mod util;
