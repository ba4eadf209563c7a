//! `edge-vs-nginx`: see `benches/README.md`.

use std::process::ExitCode;

use clap::Parser;
use marquee_benches::edge::EdgeRunArgs;
use marquee_benches::procs::run_until_interrupted;
use marquee_benches::run::{Options, run};

/// Cache hits of a 2-second video segment: Marquee edge vs nginx proxy_cache, same run.
///
/// Needs nginx, wrk and ffmpeg (installed with apt-get when running as root) and a built edge:
/// run `cargo build --release -p marquee-edge` first. The edge binary is looked up next to this
/// executable (target/release/) unless --edge-bin is given. Everything runs on 127.0.0.1 in a
/// temp dir and stops by itself after about rounds × 2 × seconds.
#[derive(Debug, Parser)]
#[command(name = "edge-vs-nginx", version, about, long_about)]
struct Args {
    /// A/B rounds (each measures edge and nginx once; the order alternates).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds of load per target per round.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Open connections (wrk -c).
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// wrk threads (wrk -t).
    #[arg(long, default_value_t = 2)]
    wrk_threads: u32,
    /// Edge worker threads, and nginx worker_processes to match.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    #[command(flatten)]
    run: EdgeRunArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let opts = Options {
        rounds: args.rounds,
        seconds: args.seconds,
        connections: args.connections,
        wrk_threads: args.wrk_threads,
        workers: args.workers,
        edge_bin: args.run.edge_bin,
        keep_dir: args.run.keep_dir,
    };
    // Dropping the run on a signal drops its process guards, which stop every child.
    run_until_interrupted("edge-vs-nginx", run(&opts)).await
}
