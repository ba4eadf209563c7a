//! Home page data: one profile's whole home page (`GET /api/v1/rows`: Continue watching, My
//! List, Top picks, Because you watched, Top 10, Trending now, New, twelve genre rows) from an
//! origin node holding 100 k titles and 1 M history rows (the plays of the past week, which the
//! node's model trains on before the measurement starts),
//! beside the skeleton's way of building the same page (`GET /api/v1/titles`, the whole
//! catalogue, rows made in the browser), alternating rounds. Target: p99 under 20 ms.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use marquee_benches::load::quantile;
use marquee_benches::origins::Origins;
use marquee_benches::procs;
use marquee_benches::report::median;
use marquee_benches::viewers::Viewer;
use marquee_origin::home_fill;
use reqwest::Method;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "p99 of a profile's home page data at 100 k titles and 1 M history rows")]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    titles: u64,
    #[arg(long, default_value_t = 1_000_000)]
    history: u64,
    /// Home pages fetched per round.
    #[arg(long, default_value_t = 1_000)]
    requests: usize,
    /// Whole catalogues fetched per round (each is large).
    #[arg(long, default_value_t = 5)]
    catalogue_requests: usize,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    #[arg(long, env = "MARQUEE_BENCH_ORIGIN_BIN")]
    origin_bin: Option<std::path::PathBuf>,
}

/// The page's target: p99 under this, in ms.
const TARGET_P99_MS: f64 = 20.0;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("home-rows: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Latencies (ms) of `n` sequential GETs of `path`, and the size of the last answer.
async fn sample(
    http: &reqwest::Client,
    viewer: &Viewer,
    path: &str,
    n: usize,
) -> anyhow::Result<(Vec<f64>, usize)> {
    let mut lat = Vec::with_capacity(n);
    let mut bytes = 0;
    for _ in 0..n {
        let t = Instant::now();
        let resp = http
            .get(format!("{}{path}", viewer.base))
            .header(reqwest::header::COOKIE, &viewer.cookie)
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "{path}: {}", resp.status());
        bytes = resp.bytes().await?.len();
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    Ok((lat, bytes))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = match args.origin_bin.clone() {
        Some(b) => b,
        None => procs::sibling("marquee-origin")?,
    };
    let dir = tempfile::tempdir()?;
    let mut origins = Origins::start_with(&bin, 1, dir.path(), false, &[]).await?;
    origins.stop(1);
    let raft_dir = origins.data_dir(1).join("raft");
    let (titles, history) = (args.titles, args.history);
    eprintln!("filling {titles} titles and {history} history rows…");
    let started = Instant::now();
    tokio::task::spawn_blocking(move || home_fill::fill(&raft_dir, titles, history, |_, _| {}))
        .await??;
    eprintln!("  filled in {:.0} s", started.elapsed().as_secs_f64());
    origins.restart(1)?;
    origins.leader().await?;

    // The measured profile: a list and a history of its own, so every row is full.
    let http = reqwest::Client::new();
    let base = origins.api_urls()[0].clone();
    let viewer = Viewer::sign_up(&http, &base, "home@bench.test").await?;
    for n in 0..30 {
        let id = home_fill::title_id(titles - 1 - n * 97);
        viewer
            .send(&http, Method::PUT, &format!("/api/v1/my-list/{id}"), None)
            .await?;
    }
    for n in 0..40 {
        let id = home_fill::title_id(n * 1_013 % titles);
        let body = json!({"position_secs": 600.0 + n as f64});
        viewer
            .send(
                &http,
                Method::PUT,
                &format!("/api/v1/progress/{id}"),
                Some(body),
            )
            .await?;
    }
    // The recommendation rows need the model trained on the million plays: wait for them.
    let trained_by = Instant::now() + std::time::Duration::from_secs(900);
    let page = loop {
        let page = viewer
            .send(&http, Method::GET, "/api/v1/rows", None)
            .await?;
        let ids: Vec<&str> = page["rows"]
            .as_array()
            .map(|r| r.iter().filter_map(|x| x["id"].as_str()).collect())
            .unwrap_or_default();
        if ["top-picks", "top-10", "trending"]
            .iter()
            .all(|id| ids.contains(id))
        {
            eprintln!("  rows: {}", ids.join(", "));
            break page;
        }
        anyhow::ensure!(
            Instant::now() < trained_by,
            "no recommendation rows within 15 minutes: {ids:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let stat = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
    };
    if let (Some(sum), Some(count)) = (
        stat("marquee_origin_recommend_train_seconds_sum"),
        stat("marquee_origin_recommend_train_seconds_count"),
    ) {
        eprintln!(
            "  training on {history} plays: {:.2} s a run ({count} runs)",
            sum / count.max(1.0)
        );
    }
    let rows = page["rows"].as_array().map_or(0, Vec::len);
    let cards: usize = page["rows"].as_array().map_or(0, |r| {
        r.iter()
            .map(|x| x["items"].as_array().map_or(0, Vec::len))
            .sum()
    });
    eprintln!("  the page: {rows} rows, {cards} cards");
    sample(&http, &viewer, "/api/v1/rows", 50).await?;

    let (mut ours, mut skeleton) = (Vec::new(), Vec::new());
    let (mut ours_bytes, mut skeleton_bytes) = (0, 0);
    for round in 0..args.rounds {
        // Alternate which goes first, so neither always runs on a warmer machine.
        for first in [round % 2 == 0, round % 2 == 1] {
            if first {
                let (lat, b) = sample(&http, &viewer, "/api/v1/rows", args.requests).await?;
                eprintln!(
                    "  round {}: rows p50 {:.2} ms p99 {:.2} ms",
                    round + 1,
                    quantile(&lat, 0.5),
                    quantile(&lat, 0.99)
                );
                ours.push((quantile(&lat, 0.5), quantile(&lat, 0.99)));
                ours_bytes = b;
            } else {
                let (lat, b) =
                    sample(&http, &viewer, "/api/v1/titles", args.catalogue_requests).await?;
                eprintln!(
                    "  round {}: catalogue p50 {:.0} ms",
                    round + 1,
                    quantile(&lat, 0.5)
                );
                skeleton.push((quantile(&lat, 0.5), quantile(&lat, 0.99)));
                skeleton_bytes = b;
            }
        }
    }
    let med = |v: &[(f64, f64)], p99: bool| {
        median(
            &v.iter()
                .map(|x| if p99 { x.1 } else { x.0 })
                .collect::<Vec<_>>(),
        )
        .unwrap_or(f64::NAN)
    };
    let spread = |v: &[(f64, f64)]| {
        let xs: Vec<f64> = v.iter().map(|x| x.1).collect();
        format!(
            "{:.2}–{:.2}",
            xs.iter().copied().fold(f64::INFINITY, f64::min),
            xs.iter().copied().fold(0.0, f64::max)
        )
    };
    println!(
        "\nHome page data, {titles} titles, {history} history rows, {rows} rows / {cards} cards, {} rounds (medians)\n",
        args.rounds
    );
    println!("| page data | p50 ms | p99 ms | p99 spread | answer |\n|---|---:|---:|---:|---:|");
    println!(
        "| Marquee `GET /api/v1/rows` | {:.2} | {:.2} | {} | {} kB |",
        med(&ours, false),
        med(&ours, true),
        spread(&ours),
        ours_bytes / 1024
    );
    println!(
        "| skeleton `GET /api/v1/titles` | {:.0} | {:.0} | {} | {} kB |",
        med(&skeleton, false),
        med(&skeleton, true),
        spread(&skeleton),
        skeleton_bytes / 1024
    );
    let p99 = med(&ours, true);
    println!(
        "\nrows p99 / skeleton p50: {:.4}×; target p99 < {TARGET_P99_MS} ms: {} ({p99:.2} ms)",
        p99 / med(&skeleton, false),
        if p99 < TARGET_P99_MS {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
