//! A closed-loop load generator: `clients` tasks each send one request, wait for its answer,
//! send the next, for a fixed time. Latency of every successful request is kept for p50/p99.

use std::future::Future;
use std::time::{Duration, Instant};

/// What one run of load measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadResult {
    pub ok: u64,
    pub failed: u64,
    pub secs: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl LoadResult {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.secs
    }
}

/// The value at quantile `q` (0..=1) of sorted `values`, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Runs `op(client, seq)` from `clients` concurrent loops for `span`. `op` answers whether
/// the request succeeded.
pub async fn run<F, Fut>(clients: u64, span: Duration, op: F) -> LoadResult
where
    F: Fn(u64, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let until = started + span;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let op = op.clone();
            tokio::spawn(async move {
                let (mut lat, mut failed, mut seq) = (Vec::new(), 0u64, 0u64);
                while Instant::now() < until {
                    let t = Instant::now();
                    if op(c, seq).await {
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        failed += 1;
                    }
                    seq += 1;
                }
                (lat, failed)
            })
        })
        .collect();
    gather(tasks, started).await
}

/// Runs `op(client, seq)` at a steady `rate` per second in total, spread over `clients` loops,
/// for `span` (an open loop: a client sends on schedule whether or not its last answer is
/// late). Latency counts from when a request was due, so a server falling behind shows in it
/// instead of quietly lowering the rate.
pub async fn paced<F, Fut>(clients: u64, rate: f64, span: Duration, op: F) -> LoadResult
where
    F: Fn(u64, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let every = Duration::from_secs_f64(clients as f64 / rate);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let op = op.clone();
            // Clients start spread over one interval, not all at once.
            let first = started + every.mul_f64(c as f64 / clients as f64);
            tokio::spawn(async move {
                let (mut lat, mut failed) = (Vec::new(), 0u64);
                let mut seq = 0u64;
                loop {
                    let due = first + every.mul_f64(seq as f64);
                    if due >= started + span {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    if op(c, seq).await {
                        lat.push(due.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        failed += 1;
                    }
                    seq += 1;
                }
                (lat, failed)
            })
        })
        .collect();
    gather(tasks, started).await
}

/// Waits for every client's (latencies, failures) and sums them up since `started`.
async fn gather(
    tasks: Vec<tokio::task::JoinHandle<(Vec<f64>, u64)>>,
    started: Instant,
) -> LoadResult {
    let (mut all, mut failed) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((lat, f)) = t.await {
            all.extend(lat);
            failed += f;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    LoadResult {
        ok: all.len() as u64,
        failed,
        secs,
        p50_ms: quantile(&all, 0.50),
        p99_ms: quantile(&all, 0.99),
    }
}

/// Results per (target, clients) over rounds.
pub type Results = [(String, u64, Vec<LoadResult>)];

/// The medians per target and client count, then `ours` against `peer` as ratios
/// (writes/s: higher is better; p99: lower is better).
pub fn writes_table(results: &Results, peer: &str, ours: &str) -> String {
    use std::fmt::Write;
    let med = |v: &[LoadResult], f: fn(&LoadResult) -> f64| {
        crate::report::median(&v.iter().map(f).collect::<Vec<_>>()).unwrap_or(f64::NAN)
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| clients | target | writes/s | (min–max) | p50 ms | p99 ms | (min–max) | failed |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|"
    );
    for (name, clients, v) in results {
        let failed: u64 = v.iter().map(|r| r.failed).sum();
        let spread = |f: fn(&LoadResult) -> f64, digits: usize| {
            let xs: Vec<f64> = v.iter().map(f).collect();
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{lo:.digits$}–{hi:.digits$}")
        };
        let _ = writeln!(
            out,
            "| {clients} | {name} | {:.0} | {} | {:.2} | {:.2} | {} | {failed} |",
            med(v, LoadResult::per_sec),
            spread(LoadResult::per_sec, 0),
            med(v, |r| r.p50_ms),
            med(v, |r| r.p99_ms),
            spread(|r| r.p99_ms, 2),
        );
    }
    let _ = writeln!(
        out,
        "\n| clients | {ours} / {peer} writes/s | {ours} / {peer} p99 |\n|---:|---:|---:|"
    );
    let find = |n: &str, c: u64| results.iter().find(|(name, cl, _)| name == n && *cl == c);
    let mut clients: Vec<u64> = results.iter().map(|(_, c, _)| *c).collect();
    clients.dedup();
    clients.sort_unstable();
    clients.dedup();
    for c in clients {
        if let (Some((_, _, a)), Some((_, _, b))) = (find(ours, c), find(peer, c)) {
            let _ = writeln!(
                out,
                "| {c} | {:.2}× | {:.2}× |",
                med(a, LoadResult::per_sec) / med(b, LoadResult::per_sec),
                med(a, |r| r.p99_ms) / med(b, |r| r.p99_ms),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[tokio::test]
    async fn the_paced_loop_keeps_its_rate() {
        let r = paced(
            4,
            200.0,
            Duration::from_millis(500),
            |_, _| async move { true },
        )
        .await;
        assert!((90..=110).contains(&r.ok), "{r:?}");
    }

    #[tokio::test]
    async fn the_loop_counts_successes_and_failures() {
        let r = run(4, Duration::from_millis(100), |c, _| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            c != 0
        })
        .await;
        assert!(r.ok > 20 && r.failed > 5, "{r:?}");
        assert!(r.p50_ms >= 5.0, "{r:?}");
    }
}
