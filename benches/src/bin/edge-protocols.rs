//! `edge-protocols`: see `benches/README.md`.

use std::process::ExitCode;

use clap::Parser;
use marquee_benches::edge::EdgeRunArgs;
use marquee_benches::procs::run_until_interrupted;
use marquee_benches::protocols::{Options, run};

/// Cache hits at 1 KiB, 64 KiB and 2 MiB over HTTPS HTTP/1.1 and HTTP/2: Marquee edge vs nginx
/// proxy_cache on the same certificate, TLS 1.3 and worker count; and the edge's HTTP/3 beside
/// its own HTTPS HTTP/1.1.
///
/// Needs nginx and h2load (apt packages nginx, nghttp2-client; installed when running as root)
/// and a built edge: `cargo build --release -p marquee-edge -p marquee-benches`. Runs on
/// 127.0.0.1 in a temp dir for about 3 sizes x 3 pairs x rounds x 2 x seconds.
#[derive(Debug, Parser)]
#[command(name = "edge-protocols", version, about, long_about)]
struct Args {
    /// A/B rounds per cell (the order alternates).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds of load per side per round (after 1 s of warm-up).
    #[arg(long, default_value_t = 5)]
    seconds: u32,
    /// Client connections.
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// Requests in flight per HTTP/2 or HTTP/3 connection.
    #[arg(long, default_value_t = 4)]
    streams: u32,
    /// Load generator threads (h2load --threads).
    #[arg(long, default_value_t = 1)]
    load_threads: u32,
    /// Edge worker threads, and nginx worker_processes to match.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    #[command(flatten)]
    run: EdgeRunArgs,
    /// Comparisons to run, comma-separated: h1 and h2 (edge vs nginx), h3 (edge h3 vs h1).
    #[arg(long, value_delimiter = ',', default_value = "h1,h2,h3")]
    protocols: Vec<String>,
    /// Let servers and load generators share every CPU instead of pinning the servers to
    /// CPU 0 and the load generators to the others.
    #[arg(long)]
    no_pin: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let a = Args::parse();
    let opts = Options {
        rounds: a.rounds,
        seconds: a.seconds,
        connections: a.connections,
        streams: a.streams,
        load_threads: a.load_threads,
        workers: a.workers,
        edge_bin: a.run.edge_bin,
        keep_dir: a.run.keep_dir,
        protocols: a.protocols,
        pin: !a.no_pin,
    };
    run_until_interrupted("edge-protocols", run(&opts)).await
}
