//! Marquee's end-to-end and comparative benchmarks. Each run measures a peer beside Marquee in
//! the same run and prints one table; they are binaries, not part of the test suite.
//!
//! - `edge-vs-nginx`: cache hits of a real 2-second video segment served by `marquee-edge` and
//!   by nginx `proxy_cache`, alternating A/B rounds of `wrk`. See `benches/README.md`.
//! - `origin-vs-etcd`: durable writes through origin clusters of 1, 3 and 5 nodes beside a
//!   3-node etcd, same run.
//! - `origin-failover`: the gap from killing the origin leader to the next committed write.
//! - `home-rows`: a profile's whole home page (`GET /api/v1/rows`) at 100 k titles and 1 M
//!   history rows, beside the skeleton's way (the whole catalogue, rows built in the browser).
//! - `search-vs-fts5`: 100 k titles, 1,000 mixed queries through Marquee's search engine and
//!   SQLite FTS5 on the same documents, and typo tolerance on 500 real titles.
//! - `recommend-movielens`: the recommender's offline quality on MovieLens 100K (when present
//!   in `../shared/data`) beside MostPopular, item-kNN and EASE.
//! - `progress-writes`: 2,000 progress reports a second through group commit, beside the same
//!   load written as one command each, on one node and on three.
//! - `edge-protocols`: cache hits at 1 KiB, 64 KiB and 2 MiB over HTTPS HTTP/1.1 and HTTP/2
//!   beside nginx `proxy_cache` (same certificate, TLS 1.3, workers), and the edge's HTTP/3
//!   beside its own HTTPS HTTP/1.1.
//! - `edge-coalescing`: 200 requests at once for one cold object from a slow origin: origin
//!   fetches and how soon the waiters finish, beside nginx's cache lock.
//! - `edge-hit-ratio`: a Zipf trace replayed through the edge at caches of 1 % and 10 % of the
//!   catalogue's bytes, beside LRU on the same trace.
//!
//! The pure parts (wrk output parsing, nginx configs, the table) are unit-tested here.

pub mod catalog;
pub mod coalescing;
pub mod edge;
pub mod etcd;
#[cfg(feature = "origin")]
pub mod fts5;
pub mod h2load;
pub mod h3load;
pub mod hit_ratio;
pub mod load;
pub mod movielens;
pub mod nginx;
pub mod origins;
pub mod procs;
pub mod protocols;
pub mod report;
pub mod run;
pub mod segment;
pub mod tls;
pub mod viewers;
pub mod wrk;
