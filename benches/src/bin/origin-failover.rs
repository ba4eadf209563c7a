//! Failover: a 3-node origin cluster takes writes from 16 clients while its leader is killed
//! (SIGKILL) 20 times; each time, the gap from the kill to the next acknowledged write is
//! measured, the node is restarted, and at the end every acknowledged write must still be
//! there. See benches/README.md.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use marquee_benches::load::quantile;
use marquee_benches::origins::{Origins, create_title, title_body};
use marquee_benches::procs;

#[derive(Debug, Parser)]
#[command(about = "Time from killing the origin leader to the next committed write")]
struct Args {
    /// How many times to kill the leader.
    #[arg(long, default_value_t = 20)]
    kills: usize,
    /// Concurrent writers.
    #[arg(long, default_value_t = 16)]
    clients: u64,
    /// Passed to every node as --election-timeout-ms (origin's default when absent).
    #[arg(long)]
    election_timeout_ms: Option<u64>,
    #[arg(long, env = "MARQUEE_BENCH_ORIGIN_BIN")]
    origin_bin: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("origin-failover: {e:#}");
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
    let timeout = args.election_timeout_ms.map(|ms| ms.to_string());
    let extra: Vec<&str> = match &timeout {
        Some(ms) => vec!["--election-timeout-ms", ms.as_str()],
        None => Vec::new(),
    };
    let mut origins = Origins::start_with(&bin, 3, dir.path(), true, &extra).await?;
    let urls = Arc::new(origins.api_urls());
    let cookie = Arc::new(origins.cookie.clone());
    // Every acknowledged write: (name, when it was sent, when it was acknowledged).
    let acked: Arc<Mutex<Vec<(String, Instant, Instant)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..args.clients)
        .map(|c| {
            let (urls, cookie, acked, stop) =
                (urls.clone(), cookie.clone(), acked.clone(), stop.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap_or_default();
                let mut seq = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let name = format!("w{c}-{seq}");
                    let base = &urls[(c + seq) as usize % urls.len()];
                    let sent = Instant::now();
                    if create_title(&http, base, &cookie, &title_body(&name, 200)).await {
                        acked.lock().unwrap_or_else(|p| p.into_inner()).push((
                            name,
                            sent,
                            Instant::now(),
                        ));
                    }
                    seq += 1;
                }
            })
        })
        .collect();
    let mut gaps = Vec::new();
    for i in 0..args.kills {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let leader = origins.leader().await?;
        let killed_at = Instant::now();
        origins.kill(leader);
        // The first write sent after the kill to be acknowledged (answers to writes sent
        // before it, still on their way, say nothing about the new leader).
        let deadline = killed_at + Duration::from_secs(30);
        let gap = loop {
            let first = acked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .rev()
                .take_while(|(_, _, at)| *at > killed_at)
                .filter(|(_, sent, _)| *sent > killed_at)
                .map(|(_, _, at)| *at - killed_at)
                .min();
            if let Some(gap) = first {
                break gap;
            }
            if Instant::now() > deadline {
                anyhow::bail!("no write committed within 30 s of killing node {leader}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        eprintln!(
            "kill {:>2}: node {leader}, next write after {:>6.0} ms",
            i + 1,
            gap.as_secs_f64() * 1000.0
        );
        gaps.push(gap.as_secs_f64() * 1000.0);
        origins.restart(leader)?;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }
    let acked: Vec<(String, Instant, Instant)> =
        acked.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let lost = lost_writes(&origins, &acked).await?;
    gaps.sort_by(f64::total_cmp);
    let n = acked.len();
    println!("| kills | min ms | p50 ms | p99 ms | max ms | acknowledged writes | lost |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {n} | {lost} |",
        gaps.len(),
        gaps.first().copied().unwrap_or(f64::NAN),
        quantile(&gaps, 0.5),
        quantile(&gaps, 0.99),
        gaps.last().copied().unwrap_or(f64::NAN),
    );
    Ok(())
}

/// Acknowledged titles missing from the cluster's catalogue now.
async fn lost_writes(
    origins: &Origins,
    acked: &[(String, Instant, Instant)],
) -> anyhow::Result<usize> {
    origins.leader().await?;
    let http = reqwest::Client::new();
    let list: serde_json::Value = http
        .get(format!("{}/api/v1/titles", origins.api_urls()[0]))
        .header(reqwest::header::COOKIE, &origins.cookie)
        .send()
        .await?
        .json()
        .await?;
    let names: std::collections::HashSet<&str> = list["titles"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    Ok(acked
        .iter()
        .filter(|(n, _, _)| !names.contains(n.as_str()))
        .count())
}
