//! Scale: an origin node holding 1 M accounts and 10 M small history-like rows. Measures its
//! restart time, its resident memory, and the time to build a snapshot of it and to install
//! that snapshot on a fresh node — at a tenth of the size too, to show what grows with the
//! data and what does not. See benches/README.md.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use marquee_benches::origins::{Origins, create_title, title_body};
use marquee_benches::procs;
use marquee_origin::scale_fill;

#[derive(Debug, Parser)]
#[command(
    about = "Restart time, memory and snapshot times of an origin node holding millions of rows"
)]
struct Args {
    /// Accounts at full size.
    #[arg(long, default_value_t = 1_000_000)]
    accounts: u64,
    /// History-like rows at full size.
    #[arg(long, default_value_t = 10_000_000)]
    rows: u64,
    /// Sizes to measure, as fractions of the full size.
    #[arg(long, value_delimiter = ',', default_value = "0.1,1")]
    scales: Vec<f64>,
    /// Restarts measured per size (after SIGTERM, then one after SIGKILL).
    #[arg(long, default_value_t = 3)]
    restarts: usize,
    #[arg(long, env = "MARQUEE_BENCH_ORIGIN_BIN")]
    origin_bin: Option<std::path::PathBuf>,
    /// Keep the nodes' directories and logs (printed) instead of deleting them.
    #[arg(long)]
    keep_dir: bool,
}

const PASSWORD: &str = "a generated viewer's password";
/// Snapshot threshold of the measured node, so a few writes after the fill build one.
const SNAPSHOT_EVERY: u64 = 100;

/// What one size measured.
struct Figures {
    accounts: u64,
    rows: u64,
    fill_secs: f64,
    state_mb: f64,
    restarts_ms: Vec<f64>,
    restart_after_kill_ms: f64,
    rss_after_restart_mb: f64,
    snapshot_build_secs: f64,
    snapshot_mb: f64,
    peak_rss_mb: f64,
    install_secs: f64,
    joiner_peak_rss_mb: f64,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("origin-scale: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = match args.origin_bin.clone() {
        Some(b) => b,
        None => procs::sibling("marquee-origin")?,
    };
    let hash = marquee_origin::accounts::auth::hash_password(PASSWORD)?;
    let mut all = Vec::new();
    for scale in &args.scales {
        let accounts = (args.accounts as f64 * scale).round() as u64;
        let rows = (args.rows as f64 * scale).round() as u64;
        eprintln!("== {accounts} accounts, {rows} history rows");
        let dir = tempfile::tempdir()?;
        let measured = measure(&bin, dir.path(), accounts, rows, &hash, args.restarts).await;
        if args.keep_dir {
            eprintln!("  kept {}", dir.keep().display());
        }
        all.push(measured?);
    }
    print_table(&all);
    Ok(())
}

async fn measure(
    bin: &std::path::Path,
    dir: &std::path::Path,
    accounts: u64,
    rows: u64,
    hash: &str,
    restarts: usize,
) -> anyhow::Result<Figures> {
    let every = SNAPSHOT_EVERY.to_string();
    let extra = ["--snapshot-every", every.as_str()];
    let mut origins = Origins::start_with(bin, 1, dir, true, &extra).await?;
    origins.stop(1);

    let raft_dir = origins.data_dir(1).join("raft");
    let started = Instant::now();
    let mut shown = 0;
    let filled = raft_dir.clone();
    let hash = hash.to_owned();
    tokio::task::spawn_blocking(move || {
        scale_fill::fill(&filled, accounts, rows, &hash, |done, total| {
            let tenth = done * 10 / total.max(1);
            if tenth > shown {
                shown = tenth;
                eprintln!("  filled {done} of {total} rows");
            }
        })
    })
    .await??;
    let fill_secs = started.elapsed().as_secs_f64();
    let state_mb = mb(std::fs::metadata(raft_dir.join("state.redb"))?.len());

    let mut restarts_ms = Vec::new();
    for _ in 0..restarts {
        origins.stop(1);
        restarts_ms.push(timed_restart(&mut origins, 1)?);
    }
    let rss_after_restart_mb = status_kb(&origins, 1, "VmRSS")? / 1024.0;
    origins.kill(1);
    let restart_after_kill_ms = timed_restart(&mut origins, 1)?;
    eprintln!("  restarts {restarts_ms:.0?} ms, after SIGKILL {restart_after_kill_ms:.0} ms");
    check_generated_viewer_signs_in(&origins, 1, accounts).await?;

    let (snapshot_build_secs, snapshot_mb) = build_snapshot(&origins).await?;
    let peak_rss_mb = status_kb(&origins, 1, "VmHWM")? / 1024.0;
    eprintln!("  snapshot of {snapshot_mb:.0} MB built in {snapshot_build_secs:.1} s");

    let target = applied_index(&origins, 1).await?;
    let started = Instant::now();
    let joiner = origins.add_node()?;
    wait_applied(&origins, joiner, target).await?;
    let install_secs = started.elapsed().as_secs_f64();
    check_generated_viewer_signs_in(&origins, joiner, accounts).await?;
    let joiner_peak_rss_mb = status_kb(&origins, joiner, "VmHWM")? / 1024.0;
    let text = reqwest::get(format!("{}/metrics", origins.api_urls()[joiner - 1]))
        .await?
        .text()
        .await?;
    let load_secs = metric(&text, "marquee_origin_raft_snapshot_install_seconds_sum");
    eprintln!(
        "  a fresh node joined and caught up in {install_secs:.1} s (loading the snapshot: {:.1} s)",
        load_secs.unwrap_or(f64::NAN)
    );
    Ok(Figures {
        accounts,
        rows,
        fill_secs,
        state_mb,
        restarts_ms,
        restart_after_kill_ms,
        rss_after_restart_mb,
        snapshot_build_secs,
        snapshot_mb,
        peak_rss_mb,
        install_secs,
        joiner_peak_rss_mb,
    })
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Restarts node `k`; milliseconds from spawning it to its "listening" line, which it prints
/// once its store is open, Raft has a leader and the log is replayed.
fn timed_restart(origins: &mut Origins, k: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    origins.restart(k)?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

/// A `/proc/<pid>/status` field in kB (`VmRSS`: resident now; `VmHWM`: the peak).
fn status_kb(origins: &Origins, k: usize, field: &str) -> anyhow::Result<f64> {
    let pid = origins.pid(k).context("node is not running")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// The generated data is really served by node `k`: the last generated viewer signs in there.
async fn check_generated_viewer_signs_in(
    origins: &Origins,
    k: usize,
    accounts: u64,
) -> anyhow::Result<()> {
    if accounts == 0 {
        return Ok(());
    }
    let email = scale_fill::email(accounts - 1);
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/sessions", origins.api_urls()[k - 1]))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!(
            "generated viewer {email} could not sign in at node {k}: {}",
            resp.status()
        );
    }
    Ok(())
}

/// Writes titles until the node has built a snapshot and purged the log behind it (so a new
/// node can only catch up from the snapshot); the mean build time and size, from metrics.
async fn build_snapshot(origins: &Origins) -> anyhow::Result<(f64, f64)> {
    let http = reqwest::Client::new();
    let base = &origins.api_urls()[0];
    let deadline = Instant::now() + Duration::from_secs(600);
    for n in 0u64.. {
        let body = title_body(&format!("snapshot trigger {n}"), 200);
        if !create_title(&http, base, &origins.cookie, &body).await {
            bail!("a title write failed before the snapshot");
        }
        if n % 10 != 0 {
            continue;
        }
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        if metric(&text, "marquee_origin_raft_purged_index").unwrap_or(0.0) > 0.0 {
            let sum = metric(&text, "marquee_origin_raft_snapshot_build_seconds_sum");
            let count = metric(&text, "marquee_origin_raft_snapshot_build_seconds_count");
            let secs = sum.zip(count).map(|(s, c)| s / c.max(1.0));
            let bytes = metric(&text, "marquee_origin_raft_snapshot_bytes");
            return Ok((
                secs.unwrap_or(f64::NAN),
                bytes.map_or(f64::NAN, |b| mb(b as u64)),
            ));
        }
        if Instant::now() > deadline {
            bail!("the log was not compacted behind a snapshot within 10 minutes");
        }
    }
    bail!("ran out of title numbers before a snapshot")
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

async fn healthz(origins: &Origins, k: usize) -> Option<String> {
    let url = format!("{}/healthz", origins.api_urls()[k - 1]);
    reqwest::get(url).await.ok()?.text().await.ok()
}

async fn applied_index(origins: &Origins, k: usize) -> anyhow::Result<u64> {
    let text = healthz(origins, k).await.context("healthz")?;
    parse_applied(&text).context("no last_applied in /healthz")
}

fn parse_applied(healthz: &str) -> Option<u64> {
    healthz
        .split_whitespace()
        .find_map(|w| w.strip_prefix("last_applied="))
        .and_then(|v| v.parse().ok())
}

async fn wait_applied(origins: &Origins, k: usize, index: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    while Instant::now() < deadline {
        if let Some(text) = healthz(origins, k).await
            && parse_applied(&text).is_some_and(|a| a >= index)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("node {k} did not catch up to index {index} within 30 minutes")
}

fn print_table(all: &[Figures]) {
    println!(
        "| accounts | history rows | fill s | state.redb MB | restart ms (median, min–max) | \
         restart after SIGKILL ms | RSS after restart MB | snapshot MB | snapshot build s | \
         peak RSS MB | fresh node catch-up s | fresh node peak RSS MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for f in all {
        let med = marquee_benches::report::median(&f.restarts_ms).unwrap_or(f64::NAN);
        let lo = f.restarts_ms.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = f.restarts_ms.iter().copied().fold(0.0, f64::max);
        println!(
            "| {} | {} | {:.0} | {:.0} | {med:.0} ({lo:.0}–{hi:.0}) | {:.0} | {:.0} | {:.0} | {:.1} | {:.0} | {:.1} | {:.0} |",
            f.accounts,
            f.rows,
            f.fill_secs,
            f.state_mb,
            f.restart_after_kill_ms,
            f.rss_after_restart_mb,
            f.snapshot_mb,
            f.snapshot_build_secs,
            f.peak_rss_mb,
            f.install_secs,
            f.joiner_peak_rss_mb,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_and_healthz_are_parsed() {
        let text = "# TYPE x counter\nmarquee_origin_raft_snapshots_total 2\n\
                    marquee_origin_raft_snapshots_total_other 9\n";
        assert_eq!(
            metric(text, "marquee_origin_raft_snapshots_total"),
            Some(2.0)
        );
        assert_eq!(metric(text, "missing"), None);
        let h = "ok\nraft: node=1 role=Leader term=2 leader=1 last_applied=57 last_log=57\n";
        assert_eq!(parse_applied(h), Some(57));
    }
}
