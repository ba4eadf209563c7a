//! Durable writes/s and latency: Marquee origin clusters of 1, 3 and 5 nodes (creating
//! ~200-byte titles through the public API, spread over every node) beside a 3-node etcd doing
//! puts of the same size through its HTTP gateway, in alternating rounds of the same run.
//! See benches/README.md.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use marquee_benches::load::{self, LoadResult};
use marquee_benches::origins::{Origins, create_title, title_body};
use marquee_benches::{etcd, procs};

#[derive(Debug, Parser)]
#[command(about = "Marquee origin cluster writes beside a 3-node etcd, same run")]
struct Args {
    /// A/B rounds; the order of the targets flips every round.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds of load per target, concurrency and round.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrent clients to measure at (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    clients: Vec<u64>,
    /// Origin cluster sizes to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,3,5")]
    nodes: Vec<usize>,
    /// Threads per server process: `--worker-threads` of each Marquee node and `GOMAXPROCS` of
    /// each etcd member. Every server of both clusters shares this machine's cores, so more
    /// threads than cores per process only adds wake-ups [default: 1 when 3 servers share 2 cores or fewer,
    /// otherwise the runtimes' own: one per core].
    #[arg(long)]
    threads: Option<usize>,
    /// Bytes per write.
    #[arg(long, default_value_t = 200)]
    size: usize,
    /// `marquee-origin` to run [default: next to this binary].
    #[arg(long, env = "MARQUEE_BENCH_ORIGIN_BIN")]
    origin_bin: Option<std::path::PathBuf>,
}

enum Target {
    Etcd(etcd::Etcd),
    Origin(Origins),
}

impl Target {
    fn name(&self) -> String {
        match self {
            Target::Etcd(e) => format!("etcd {}", e.client_urls.len()),
            Target::Origin(o) => format!("marquee {}", o.api_urls().len()),
        }
    }

    async fn load(&self, clients: u64, span: Duration, size: usize, round: usize) -> LoadResult {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .build()
            .unwrap_or_default();
        match self {
            Target::Etcd(e) => {
                let urls = Arc::new(e.client_urls.clone());
                let value = Arc::new("v".repeat(size));
                load::run(clients, span, move |c, seq| {
                    let (http, urls, value) = (http.clone(), urls.clone(), value.clone());
                    async move {
                        let base = &urls[entry_node(c, seq, urls.len())];
                        let key = format!("r{round}-c{clients}-{c}-{seq}");
                        etcd::put(&http, base, &key, &value).await
                    }
                })
                .await
            }
            Target::Origin(o) => {
                let urls = Arc::new(o.api_urls());
                let cookie = Arc::new(o.cookie.clone());
                load::run(clients, span, move |c, seq| {
                    let (http, urls, cookie) = (http.clone(), urls.clone(), cookie.clone());
                    async move {
                        let base = &urls[entry_node(c, seq, urls.len())];
                        let body = title_body(&format!("r{round} c{clients} {c}/{seq}"), size);
                        create_title(&http, base, &cookie, &body).await
                    }
                })
                .await
            }
        }
    }
}

/// The node a client's request goes to: each client starts on its own node and moves to the
/// next one with every request, so whichever node leads, every load (one client included)
/// enters both clusters through the leader and the followers alike, as behind a load balancer.
fn entry_node(client: u64, seq: u64, nodes: usize) -> usize {
    ((client + seq) % nodes as u64) as usize
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("origin-vs-etcd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = match args.origin_bin.clone() {
        Some(b) => b,
        None => procs::sibling("marquee-origin")?,
    };
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("etcd"))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.or((cores <= 2).then_some(1));
    if let Some(n) = threads {
        eprintln!("{n} thread(s) per server process ({cores} cores here)");
    }
    let etcd = etcd::start(3, &dir.path().join("etcd"), threads).await?;
    let mut targets = vec![Target::Etcd(etcd)];
    let thread_args: Vec<String> = threads
        .map(|n| vec!["--worker-threads".to_owned(), n.to_string()])
        .unwrap_or_default();
    let thread_args: Vec<&str> = thread_args.iter().map(String::as_str).collect();
    for &n in &args.nodes {
        let d = dir.path().join(format!("marquee-{n}"));
        std::fs::create_dir_all(&d)?;
        let origins = Origins::start_with(&bin, n, &d, n > 1, &thread_args).await?;
        targets.push(Target::Origin(origins));
    }
    let span = Duration::from_secs(args.seconds);
    // (target, clients) → results of each round.
    let mut results: Vec<(String, u64, Vec<LoadResult>)> = Vec::new();
    for round in 0..args.rounds {
        let mut order: Vec<usize> = (0..targets.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for &clients in &args.clients {
            for &t in &order {
                let r = targets[t].load(clients, span, args.size, round).await;
                let name = targets[t].name();
                eprintln!(
                    "round {} {name:>10} c={clients:<3} {:>8.0} w/s  p50 {:>7.2} ms  p99 {:>7.2} ms  failed {}",
                    round + 1,
                    r.per_sec(),
                    r.p50_ms,
                    r.p99_ms,
                    r.failed
                );
                match results
                    .iter_mut()
                    .find(|(n, c, _)| *n == name && *c == clients)
                {
                    Some((_, _, v)) => v.push(r),
                    None => results.push((name, clients, vec![r])),
                }
            }
        }
    }
    println!(
        "{}",
        marquee_benches::load::writes_table(&results, "etcd 3", "marquee 3")
    );
    Ok(())
}
