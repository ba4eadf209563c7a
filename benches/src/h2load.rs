//! Load over HTTPS HTTP/1.1 and HTTP/2 with nghttp2's `h2load` (Debian `nghttp2-client`),
//! one tool for both protocols and both targets. Its summary gives requests/s; the p99 comes
//! from its per-request log (`--log-file`), which the summary lacks.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::procs::tool_output;
use crate::report::{median, p99};

/// What one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadResult {
    pub requests_per_sec: f64,
    pub p99_ms: f64,
    pub requests: u64,
    /// Answers that were not 2xx, and requests that failed outright.
    pub failed: u64,
}

/// The protocol h2load speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    H1,
    H2,
}

/// How hard to push.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub seconds: u32,
    pub connections: u32,
    pub threads: u32,
    /// Concurrent streams per HTTP/2 connection (HTTP/1.1 always has one).
    pub streams: u32,
}

/// Runs h2load against `url` and reads its results.
pub async fn run(
    h2load: &Path,
    protocol: Protocol,
    load: Load,
    url: &str,
    log_file: &Path,
) -> anyhow::Result<LoadResult> {
    let mut cmd = tokio::process::Command::new(h2load);
    cmd.arg(format!("--duration={}", load.seconds))
        .arg("--warm-up-time=1")
        .arg(format!("--clients={}", load.connections))
        .arg(format!("--threads={}", load.threads))
        .arg(format!("--log-file={}", log_file.display()));
    match protocol {
        Protocol::H1 => cmd.arg("--h1").arg("--max-concurrent-streams=1"),
        Protocol::H2 => cmd.arg(format!("--max-concurrent-streams={}", load.streams)),
    };
    cmd.arg(url);
    let limit = Duration::from_secs(u64::from(load.seconds) + 30);
    let text = tool_output("h2load", cmd, limit).await?;
    let summary = parse_summary(&text).with_context(|| format!("reading h2load:\n{text}"))?;
    let log = std::fs::read_to_string(log_file).context("reading h2load's request log")?;
    let p99_ms = p99_from_log(&log).context("h2load's request log has no requests")?;
    Ok(LoadResult {
        requests_per_sec: summary.0,
        p99_ms,
        requests: summary.1,
        failed: summary.2,
    })
}

/// (requests/s, requests done, failed + errored + timed out + non-2xx) from h2load's summary.
pub fn parse_summary(out: &str) -> anyhow::Result<(f64, u64, u64)> {
    let finished = out
        .lines()
        .find(|l| l.starts_with("finished in"))
        .context("no \"finished in\" line")?;
    let rps: f64 = finished
        .split(", ")
        .find_map(|part| part.strip_suffix(" req/s"))
        .context("no req/s")?
        .trim()
        .parse()
        .context("req/s is not a number")?;
    let counts = out
        .lines()
        .find_map(|l| l.strip_prefix("requests: "))
        .context("no \"requests:\" line")?;
    let count = |label: &str| -> u64 {
        counts
            .split(", ")
            .find_map(|part| part.strip_suffix(label))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    let codes = out
        .lines()
        .find_map(|l| l.strip_prefix("status codes: "))
        .unwrap_or_default();
    let not_2xx: u64 = codes
        .split(", ")
        .filter(|part| !part.ends_with(" 2xx"))
        .filter_map(|part| part.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    let failed = count(" failed") + count(" errored") + count(" timeout") + not_2xx;
    Ok((rps, count(" done"), failed))
}

/// The 99th percentile of the third column (µs until the end of the response), in ms.
pub fn p99_from_log(log: &str) -> Option<f64> {
    let micros: Vec<f64> = log
        .lines()
        .filter_map(|l| l.split('\t').nth(2)?.trim().parse::<f64>().ok())
        .collect();
    Some(p99(micros)? / 1000.0)
}

/// Median requests/s and p99 of several runs.
pub fn medians(results: &[LoadResult]) -> Option<(f64, f64)> {
    let rps: Vec<f64> = results.iter().map(|r| r.requests_per_sec).collect();
    let p99: Vec<f64> = results.iter().map(|r| r.p99_ms).collect();
    Some((median(&rps)?, median(&p99)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // h2load 1.52 output, trimmed to the lines read.
    const OUT: &str = "starting benchmark...
spawning thread #0: 16 total client(s). Timing-based test with 1s of warm-up time and 10s of main duration for measurements.
Warm-up started for thread #0.
Main benchmark duration is started for thread #0.
finished in 11.00s, 28412.30 req/s, 1.75GB/s
requests: 284123 total, 284123 started, 284123 done, 284120 succeeded, 3 failed, 0 errored, 0 timeout
status codes: 284120 2xx, 0 3xx, 2 4xx, 0 5xx
traffic: 17.52GB (18811826541) total, 2.15MB (2254986) headers (space savings 0.00%), 17.51GB (18805403648) data
";

    #[test]
    fn the_summary_gives_rate_count_and_failures() {
        let (rps, done, failed) = parse_summary(OUT).unwrap();
        assert_eq!(rps, 28412.30);
        assert_eq!(done, 284123);
        assert_eq!(failed, 3 + 2);
        assert!(parse_summary("nothing here").is_err());
    }

    #[test]
    fn p99_comes_from_the_request_log() {
        let log: String = (1..=200)
            .map(|i| format!("1700000000{i:06}\t200\t{}\n", i * 10))
            .collect();
        // 200 requests of 10..2000 µs: the 198th is the 99th percentile.
        assert_eq!(p99_from_log(&log), Some(1.98));
        assert_eq!(p99_from_log(""), None);
    }
}
