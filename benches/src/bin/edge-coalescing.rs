//! `edge-coalescing`: see `benches/README.md`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use marquee_benches::coalescing::{Options, run};
use marquee_benches::edge::EdgeRunArgs;
use marquee_benches::procs::run_until_interrupted;

/// Request coalescing: many viewers at once ask for one cold object from a slow origin. Counts
/// origin fetches and how long after the first waiter the others finish, for the Marquee edge
/// and nginx's cache lock, same run.
///
/// Needs nginx (installed when running as root) and a built edge:
/// `cargo build --release -p marquee-edge -p marquee-benches`.
#[derive(Debug, Parser)]
#[command(name = "edge-coalescing", version, about, long_about)]
struct Args {
    /// Bursts per target (the order alternates; a new object each burst).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Concurrent requests per burst, each on its own connection.
    #[arg(long, default_value_t = 200)]
    waiters: usize,
    /// How long the origin takes to answer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    origin_delay_ms: u64,
    /// Size of the object, in KiB.
    #[arg(long, default_value_t = 2048)]
    object_kib: usize,
    /// Edge worker threads, and nginx worker_processes to match.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    #[command(flatten)]
    run: EdgeRunArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let a = Args::parse();
    let opts = Options {
        rounds: a.rounds,
        waiters: a.waiters,
        origin_delay: Duration::from_millis(a.origin_delay_ms),
        object_bytes: a.object_kib * 1024,
        workers: a.workers,
        edge_bin: a.run.edge_bin,
        keep_dir: a.run.keep_dir,
    };
    run_until_interrupted("edge-coalescing", run(&opts)).await
}
