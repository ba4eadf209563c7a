//! The edge-vs-nginx run: set up upstream, peer and edge, check both caches hit with identical
//! bytes, then alternate wrk rounds and collect the samples.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail, ensure};

use crate::edge::{EdgeSetup, RunningEdge, bench_token, find_edge_binary, start_edge};
use crate::nginx::{proxy_cache_conf, upstream_conf};
use crate::procs::{
    ChildGuard, Tools, ensure_tools, free_port, is_root, tail, tool_output, wait_for_port, work_dir,
};
use crate::report::{Sample, table};
use crate::segment::make_segment;
use crate::wrk::{WrkResult, parse};

/// What to measure and for how long.
#[derive(Debug, Clone)]
pub struct Options {
    pub rounds: usize,
    pub seconds: u32,
    pub connections: u32,
    pub wrk_threads: u32,
    /// Edge `--threads` and nginx `worker_processes`.
    pub workers: usize,
    pub edge_bin: Option<PathBuf>,
    pub keep_dir: bool,
}

/// One target wrk hammers.
struct Target {
    name: &'static str,
    url: String,
}

/// Runs the whole benchmark and prints the table on stdout. Errors if the edge slot could not
/// be measured (after measuring nginx anyway).
pub async fn run(opts: &Options) -> anyhow::Result<()> {
    ensure!(
        opts.rounds >= 1 && opts.seconds >= 1,
        "--rounds and --seconds must be at least 1"
    );
    ensure!(
        opts.connections >= opts.wrk_threads && opts.wrk_threads >= 1,
        "--connections must be at least --wrk-threads (>= 1)"
    );
    let tools = ensure_tools()?;
    let tmp = work_dir("marquee-bench-", opts.keep_dir)?;
    let dir = tmp.path();
    let segment = make_segment(&tools.ffmpeg, &dir.join("media")).await?;
    let expected = std::fs::read(&segment)?;

    let (_upstream, upstream_port) = start_nginx(&tools, dir, "upstream", |port| {
        upstream_conf(dir, &dir.join("media"), port, is_root())
    })
    .await?;
    let (_peer, peer_port) = start_nginx(&tools, dir, "peer", |port| {
        proxy_cache_conf(dir, port, upstream_port, opts.workers, is_root())
    })
    .await?;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut targets = Vec::new();
    let (edge, edge_error) = match edge_target(opts, dir, upstream_port, &client, &expected).await {
        Ok((edge, target)) => {
            targets.push(target);
            (Some(edge), None)
        }
        Err(e) => {
            eprintln!("edge slot: {e:#}");
            (None, Some(e))
        }
    };
    let nginx = Target {
        name: "nginx",
        url: format!("http://127.0.0.1:{peer_port}/media/bench/seg-1.m4s"),
    };
    warm_and_check(&client, &nginx.url, &expected, "cache-status", "nginx; HIT")
        .await
        .context("nginx proxy_cache")?;
    targets.push(nginx);

    println!(
        "segment: {} bytes (2 s, 1280x720 H.264 3 Mbit/s fMP4); wrk -t{} -c{} -d{}s --latency; \
         edge threads = nginx workers = {}; {} round(s), order alternates",
        expected.len(),
        opts.wrk_threads,
        opts.connections,
        opts.seconds,
        opts.workers,
        opts.rounds
    );
    // Fixed before `measure` flips the order between rounds.
    let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
    let samples = measure(&tools, opts, &mut targets).await?;
    println!("\n{}", table(&samples, &names));
    drop(edge);
    match edge_error {
        Some(e) => Err(e.context("the edge slot could not be measured; nginx results above")),
        None => Ok(()),
    }
}

async fn edge_target(
    opts: &Options,
    dir: &Path,
    upstream_port: u16,
    client: &reqwest::Client,
    expected: &[u8],
) -> anyhow::Result<(RunningEdge, Target)> {
    let binary = find_edge_binary(opts.edge_bin.as_deref())?;
    let token = bench_token()?;
    let edge = start_edge(&EdgeSetup::new(
        &binary,
        dir,
        upstream_port,
        opts.workers,
        &token.public_key_spec,
    ))?;
    let url = format!(
        "http://127.0.0.1:{}/t/{}/media/bench/seg-1.m4s",
        edge.port, token.token
    );
    warm_and_check(client, &url, expected, "cache-status", "hit")
        .await
        .with_context(|| format!("edge log:\n{}", tail(&dir.join("edge.log"), 20)))?;
    Ok((edge, Target { name: "edge", url }))
}

/// Writes `<name>.conf`, starts nginx on a free port in the foreground and waits for it.
pub async fn start_nginx(
    tools: &Tools,
    dir: &Path,
    name: &str,
    conf: impl FnOnce(u16) -> String,
) -> anyhow::Result<(ChildGuard, u16)> {
    let port = free_port()?;
    std::fs::create_dir_all(dir.join(format!("{name}-tmp")))?;
    let conf_path = dir.join(format!("{name}.conf"));
    std::fs::write(&conf_path, conf(port))?;
    let error_log = dir.join(format!("{name}-error.log"));
    let mut cmd = crate::procs::server_command(&tools.nginx);
    cmd.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf_path)
        .arg("-e")
        .arg(&error_log)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let mut guard = ChildGuard::spawn(&format!("nginx ({name})"), &mut cmd)?;
    wait_for_port(&mut guard, port, Duration::from_secs(10))
        .await
        .with_context(|| format!("nginx {name} error log:\n{}", tail(&error_log, 20)))?;
    Ok((guard, port))
}

/// Fetches `url` twice: both answers must be 200 with exactly `expected`, and the second
/// must carry `header` containing `hit_marker` (so wrk measures cache hits only).
pub async fn warm_and_check(
    client: &reqwest::Client,
    url: &str,
    expected: &[u8],
    header: &str,
    hit_marker: &str,
) -> anyhow::Result<()> {
    let mut last_header = String::new();
    for _ in 0..2 {
        let resp = client.get(url).send().await.context("GET")?;
        let status = resp.status();
        last_header = resp
            .headers()
            .get(header)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = resp.bytes().await?;
        ensure!(
            status.is_success(),
            "answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        ensure!(
            body.as_ref() == expected,
            "body differs from the segment ({} bytes vs {})",
            body.len(),
            expected.len()
        );
    }
    if !last_header.contains(hit_marker) {
        bail!("second request was not a cache hit: {header}: {last_header:?}");
    }
    Ok(())
}

/// A/B rounds; the order flips every round so neither target always runs on a warmer machine.
async fn measure(
    tools: &Tools,
    opts: &Options,
    targets: &mut [Target],
) -> anyhow::Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for round in 1..=opts.rounds {
        for target in targets.iter() {
            eprintln!("round {round}: {} ...", target.name);
            let result = run_wrk(tools, opts, &target.url)
                .await
                .with_context(|| format!("round {round}, {}", target.name))?;
            eprintln!(
                "round {round}: {} {:.0} req/s, p99 {:.2} ms",
                target.name, result.requests_per_sec, result.p99_ms
            );
            samples.push(Sample {
                round,
                target: target.name,
                result,
            });
        }
        targets.reverse();
    }
    Ok(samples)
}

async fn run_wrk(tools: &Tools, opts: &Options, url: &str) -> anyhow::Result<WrkResult> {
    let mut cmd = tokio::process::Command::new(&tools.wrk);
    cmd.arg(format!("-t{}", opts.wrk_threads))
        .arg(format!("-c{}", opts.connections))
        .arg(format!("-d{}s", opts.seconds))
        .arg("--latency")
        .arg(url);
    let limit = Duration::from_secs(u64::from(opts.seconds) + 30);
    let text = tool_output("wrk", cmd, limit).await?;
    let result = parse(&text).with_context(|| format!("reading wrk output:\n{text}"))?;
    ensure!(
        result.non_success == 0,
        "{} non-2xx answers during the run",
        result.non_success
    );
    if result.socket_errors > 0 {
        eprintln!(
            "warning: {} socket errors during the run",
            result.socket_errors
        );
    }
    Ok(result)
}
