//! Progress writes: viewers' players reporting their position, 2,000 reports a second in all,
//! on one origin node and on a 3-node cluster (each viewer on its own node), through group
//! commit (a 5 ms window from idle, the latest report per viewer and video wins) beside the same load
//! written as one command per report (`--progress-window-ms 0`), alternating rounds. Target:
//! 2,000/s sustained with p99 under 50 ms.

use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use marquee_benches::load::{LoadResult, paced, writes_table};
use marquee_benches::origins::Origins;
use marquee_benches::procs;
use marquee_benches::report::median;
use marquee_benches::viewers::Viewer;
use reqwest::Method;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Progress reports per second through group commit vs one command each")]
struct Args {
    /// Reports per second, all viewers together.
    #[arg(long, default_value_t = 2_000.0)]
    rate: f64,
    /// Viewers reporting (each reports rate/viewers times a second).
    #[arg(long, default_value_t = 200)]
    viewers: u64,
    /// Seconds of load per measurement.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Cluster sizes to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    nodes: Vec<usize>,
    /// Threads per origin node (they share this machine's cores).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Group commit's window, ms (origin's default unless given).
    #[arg(long)]
    window_ms: Option<u64>,
    #[arg(long, env = "MARQUEE_BENCH_ORIGIN_BIN")]
    origin_bin: Option<std::path::PathBuf>,
}

const GROUPED: &str = "group commit";
/// Origin's default window (`marquee_origin::raft::group_commit::DEFAULT_WINDOW`).
const DEFAULT_WINDOW_MS: u64 = 5;
const PER_REPORT: &str = "one command each";

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("progress-writes: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A 20-second clip to package, made once.
fn clip(dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let out = dir.join("clip.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc2=size=320x180:rate=30:duration=20")
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&out)
        .status()
        .context("ffmpeg must be installed")?;
    if !status.success() {
        bail!("ffmpeg could not make the clip");
    }
    Ok(std::fs::read(out)?)
}

/// One measurement: a fresh cluster of `nodes` with `window_ms`, a packaged film, `viewers`
/// signed in across the nodes, then the paced load.
/// The Raft log's applied index on the node `admin` talks to (every write adds to it).
async fn applied(http: &reqwest::Client, admin: &Viewer) -> anyhow::Result<u64> {
    let view = admin
        .send(http, Method::GET, "/api/v1/admin/cluster", None)
        .await?;
    view["members"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .filter_map(|x| x["last_applied_index"].as_u64())
                .max()
        })
        .context("no applied index in the cluster view")
}

/// What one measurement found: the load's result and the Raft entries it took.
struct Measured {
    load: LoadResult,
    entries: u64,
}

async fn measure(
    args: &Args,
    bin: &std::path::Path,
    nodes: usize,
    window_ms: u64,
    video: &[u8],
) -> anyhow::Result<Measured> {
    let dir = tempfile::tempdir()?;
    let (window, threads) = (window_ms.to_string(), args.threads.to_string());
    let extra = [
        "--progress-window-ms",
        window.as_str(),
        "--worker-threads",
        threads.as_str(),
    ];
    let origins = Origins::start_with(bin, nodes, dir.path(), nodes > 1, &extra).await?;
    let http = reqwest::Client::new();
    let urls = origins.api_urls();
    let admin = Viewer {
        base: urls[0].clone(),
        cookie: origins.cookie.clone(),
    };
    let title = admin
        .send(&http, Method::POST, "/api/v1/admin/titles", Some(json!({"name": "Bench film", "synopsis": "", "year": 2024, "genres": ["bench"], "maturity_rating": "G", "kind": "film"})))
        .await?;
    let id = title["id"].as_str().context("title id")?.to_owned();
    let resp = http
        .put(format!("{}/api/v1/admin/titles/{id}/video", urls[0]))
        .header(reqwest::header::COOKIE, &origins.cookie)
        .header(reqwest::header::CONTENT_TYPE, "video/mp4")
        .body(video.to_vec())
        .send()
        .await?;
    anyhow::ensure!(resp.status().is_success(), "upload: {}", resp.status());
    loop {
        let job = admin
            .send(
                &http,
                Method::GET,
                &format!("/api/v1/admin/titles/{id}/job"),
                None,
            )
            .await?;
        match job["state"].as_str() {
            Some("succeeded") => break,
            Some("failed") => bail!("packaging failed: {job}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let mut viewers = Vec::new();
    for v in 0..args.viewers {
        let base = &urls[v as usize % urls.len()];
        viewers.push(Viewer::sign_up(&http, base, &format!("viewer{v}@bench.test")).await?);
    }
    let viewers = Arc::new(viewers);
    let path = Arc::new(format!("/api/v1/progress/{id}"));
    let before = applied(&http, &admin).await?;
    let load_http = http.clone();
    let result = paced(
        args.viewers,
        args.rate,
        Duration::from_secs(args.secs),
        move |c, seq| {
            let (http, viewers, path) = (load_http.clone(), viewers.clone(), path.clone());
            async move {
                let v = &viewers[c as usize];
                let body = json!({"position_secs": (seq % 20) as f64});
                v.send(&http, Method::PUT, &path, Some(body)).await.is_ok()
            }
        },
    )
    .await;
    // Applied everywhere once answered; a moment for the last heartbeat to report it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let entries = applied(&http, &admin).await?.saturating_sub(before);
    eprintln!(
        "  {nodes} node(s), window {window_ms} ms: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, {} failed, {entries} Raft entries",
        result.per_sec(),
        result.p50_ms,
        result.p99_ms,
        result.failed
    );
    drop(origins);
    Ok(Measured {
        load: result,
        entries,
    })
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = match args.origin_bin.clone() {
        Some(b) => b,
        None => procs::sibling("marquee-origin")?,
    };
    let tmp = tempfile::tempdir()?;
    let video = clip(tmp.path())?;
    for &nodes in &args.nodes {
        let mut results: Vec<(String, u64, Vec<LoadResult>)> = vec![
            (GROUPED.into(), args.viewers, Vec::new()),
            (PER_REPORT.into(), args.viewers, Vec::new()),
        ];
        let mut reports_per_entry: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for round in 0..args.rounds {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for k in order {
                let grouped = args.window_ms.unwrap_or(DEFAULT_WINDOW_MS);
                let window = if k == 0 { grouped } else { 0 };
                let m = measure(&args, &bin, nodes, window, &video).await?;
                reports_per_entry[k].push(m.load.ok as f64 / m.entries.max(1) as f64);
                results[k].2.push(m.load);
            }
        }
        println!(
            "\nProgress reports, {nodes} origin node(s), {} viewers, {:.0} reports/s offered, {} s each, {} rounds (medians)\n",
            args.viewers, args.rate, args.secs, args.rounds
        );
        print!(
            "{}",
            writes_table(&results, PER_REPORT, GROUPED).replace("writes/s", "reports/s")
        );
        let med = |v: &[f64]| median(v).unwrap_or(f64::NAN);
        let (grouped, single) = (med(&reports_per_entry[0]), med(&reports_per_entry[1]));
        println!(
            "\n| reports per Raft entry (median) | {GROUPED} | {PER_REPORT} | ratio |\n\
             |---|---:|---:|---:|\n| {nodes} node(s) | {grouped:.1} | {single:.1} | {:.1}× |",
            grouped / single
        );
    }
    Ok(())
}
