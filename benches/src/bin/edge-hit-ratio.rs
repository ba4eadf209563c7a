//! `edge-hit-ratio`: see `benches/README.md`.

use std::process::ExitCode;

use clap::Parser;
use marquee_benches::edge::EdgeRunArgs;
use marquee_benches::hit_ratio::{Options, run};
use marquee_benches::procs::run_until_interrupted;

/// Byte hit ratio: a Zipf trace over a catalogue of segment-sized objects replayed through the
/// edge with its cache at 1 % and 10 % of the catalogue's bytes, beside LRU on the same trace.
///
/// Needs nginx (installed when running as root) and a built edge:
/// `cargo build --release -p marquee-edge -p marquee-benches`. The catalogue is sparse files in
/// a temp dir (about 7 GiB apparent, little real disk).
#[derive(Debug, Parser)]
#[command(name = "edge-hit-ratio", version, about, long_about)]
struct Args {
    /// Objects in the catalogue (64 KiB-2 MiB each).
    #[arg(long, default_value_t = 12_000)]
    objects: usize,
    /// Requests per trace.
    #[arg(long, default_value_t = 24_000)]
    requests: usize,
    /// Zipf exponents to replay (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "0.6,0.8,1.0,1.2")]
    alphas: Vec<f64>,
    /// Cache sizes as fractions of the catalogue's bytes (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.1")]
    fractions: Vec<f64>,
    /// Share of each trace replayed to warm the cache before counting.
    #[arg(long, default_value_t = 0.25)]
    warm_up: f64,
    /// Clients replaying the trace at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Edge worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Seed of the catalogue and traces.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    #[command(flatten)]
    run: EdgeRunArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let a = Args::parse();
    let opts = Options {
        objects: a.objects,
        requests: a.requests,
        alphas: a.alphas,
        fractions: a.fractions,
        warm_up: a.warm_up,
        concurrency: a.concurrency,
        workers: a.workers,
        seed: a.seed,
        edge_bin: a.run.edge_bin,
        keep_dir: a.run.keep_dir,
    };
    run_until_interrupted("edge-hit-ratio", run(&opts)).await
}
