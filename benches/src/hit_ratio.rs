//! The `edge-hit-ratio` run: a Zipf-popular catalogue of segment-sized objects replayed
//! through the edge with its cache at 1 % and 10 % of the catalogue's bytes, beside a byte-
//! capacity LRU computed on the very same trace. Bytes filled are counted where they leave the
//! upstream (nginx's access log), so the edge's own counters are not trusted for its score.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, ensure};

use crate::edge::{EdgeSetup, bench_token, find_edge_binary, start_edge};
use crate::nginx::upstream_conf_logged;
use crate::procs::{ensure_tools, is_root, tail, work_dir};
use crate::run::start_nginx;

#[derive(Debug, Clone)]
pub struct Options {
    pub objects: usize,
    pub requests: usize,
    pub alphas: Vec<f64>,
    /// Cache sizes as fractions of the catalogue's bytes.
    pub fractions: Vec<f64>,
    /// Share of the trace replayed before counting (the cache warms up).
    pub warm_up: f64,
    pub concurrency: usize,
    pub workers: usize,
    pub seed: u64,
    pub edge_bin: Option<PathBuf>,
    pub keep_dir: bool,
}

/// xorshift64*: a fixed seed gives the same catalogue and trace on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Object sizes, log-uniform between 64 KiB and 2 MiB (2-second segments from a low rung to a
/// high one).
pub fn object_sizes(count: usize, rng: &mut Rng) -> Vec<u64> {
    let (lo, hi) = ((64.0 * 1024.0f64).ln(), (2.0 * 1024.0 * 1024.0f64).ln());
    (0..count)
        .map(|_| (lo + (hi - lo) * rng.unit()).exp() as u64)
        .collect()
}

/// `len` object ids drawn Zipf(`alpha`) over `count` objects. Popularity rank is shuffled
/// against id so that size and popularity are unrelated.
pub fn zipf_trace(count: usize, alpha: f64, len: usize, rng: &mut Rng) -> Vec<u32> {
    let mut cdf = Vec::with_capacity(count);
    let mut sum = 0.0;
    for rank in 1..=count {
        sum += 1.0 / (rank as f64).powf(alpha);
        cdf.push(sum);
    }
    let mut ids: Vec<u32> = (0..count as u32).collect();
    for i in (1..ids.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        ids.swap(i, j);
    }
    (0..len)
        .map(|_| {
            let u = rng.unit() * sum;
            let rank = cdf.partition_point(|c| *c < u).min(count - 1);
            ids[rank]
        })
        .collect()
}

/// Hits and bytes of one replay window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    pub requests: u64,
    pub hits: u64,
    pub bytes: u64,
    pub hit_bytes: u64,
}

impl Score {
    pub fn byte_hit_ratio(&self) -> f64 {
        if self.bytes == 0 {
            return 0.0;
        }
        self.hit_bytes as f64 / self.bytes as f64
    }

    pub fn request_hit_ratio(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.hits as f64 / self.requests as f64
    }
}

/// A cache of `capacity` bytes evicting the least recently used object: the reference the
/// edge is compared with. Only requests from `counted_from` on are scored.
pub fn lru(trace: &[u32], sizes: &[u64], capacity: u64, counted_from: usize) -> Score {
    let mut last_use: HashMap<u32, u64> = HashMap::new();
    let mut by_age: BTreeMap<u64, u32> = BTreeMap::new();
    let mut used = 0u64;
    let mut score = Score::default();
    for (tick, &id) in trace.iter().enumerate() {
        let tick = tick as u64;
        let size = sizes[id as usize];
        let hit = match last_use.insert(id, tick) {
            Some(previous) => {
                by_age.remove(&previous);
                true
            }
            None => {
                used += size;
                false
            }
        };
        by_age.insert(tick, id);
        while used > capacity {
            let Some((_, oldest)) = by_age.pop_first() else {
                break;
            };
            last_use.remove(&oldest);
            used -= sizes[oldest as usize];
        }
        if tick as usize >= counted_from {
            score.requests += 1;
            score.bytes += size;
            if hit {
                score.hits += 1;
                score.hit_bytes += size;
            }
        }
    }
    score
}

/// The edge's tiers for a cache budget: the disk tier takes three quarters in 16 MiB blocks
/// (at least 64 MiB, the edge's minimum), memory the rest (at least 1 MiB).
pub fn tiers(budget_mib: u64) -> (u64, u64) {
    let disk = ((budget_mib * 3 / 4) / 16 * 16).max(64);
    let memory = budget_mib.saturating_sub(disk).max(1);
    (memory, disk)
}

/// One cell of the table.
#[derive(Debug, Clone)]
pub struct Cell {
    pub alpha: f64,
    pub fraction: f64,
    pub cache_mib: u64,
    pub edge: Score,
    pub lru: Score,
}

pub fn table(cells: &[Cell]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5} {:>6} {:>9} {:>15} {:>14} {:>8} {:>14} {:>13}",
        "alpha",
        "cache",
        "cache MiB",
        "edge byte hits",
        "LRU byte hits",
        "edge/LRU",
        "edge req hits",
        "LRU req hits"
    );
    for c in cells {
        let ratio = if c.lru.byte_hit_ratio() > 0.0 {
            format!("{:.2}x", c.edge.byte_hit_ratio() / c.lru.byte_hit_ratio())
        } else {
            "-".to_owned()
        };
        let _ = writeln!(
            out,
            "{:>5.1} {:>5.0}% {:>9} {:>14.1}% {:>13.1}% {:>8} {:>13.1}% {:>12.1}%",
            c.alpha,
            c.fraction * 100.0,
            c.cache_mib,
            c.edge.byte_hit_ratio() * 100.0,
            c.lru.byte_hit_ratio() * 100.0,
            ratio,
            c.edge.request_hit_ratio() * 100.0,
            c.lru.request_hit_ratio() * 100.0
        );
    }
    out
}

/// Sum of the byte counts nginx has logged so far.
fn logged_bytes(log: &Path) -> u64 {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .sum()
}

/// Replays `trace[range]` with `concurrency` clients; returns the requests the edge said hit.
async fn replay(
    client: &reqwest::Client,
    base: &str,
    trace: Arc<Vec<u32>>,
    sizes: Arc<Vec<u64>>,
    range: std::ops::Range<usize>,
    concurrency: usize,
) -> anyhow::Result<u64> {
    let next = Arc::new(AtomicUsize::new(range.start));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, base, trace, sizes, next) = (
            client.clone(),
            base.to_owned(),
            trace.clone(),
            sizes.clone(),
            next.clone(),
        );
        let end = range.end;
        tasks.spawn(async move {
            let mut hits = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    return Ok::<_, anyhow::Error>(hits);
                }
                let id = trace[i];
                let resp = client
                    .get(format!("{base}/obj-{id}.bin"))
                    .send()
                    .await
                    .context("GET through the edge")?;
                let status = resp.status();
                let hit = resp
                    .headers()
                    .get("cache-status")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("; hit"));
                let body = resp.bytes().await?;
                ensure!(status.is_success(), "object {id}: {status}");
                ensure!(
                    body.len() as u64 == sizes[id as usize],
                    "object {id}: {} bytes of {}",
                    body.len(),
                    sizes[id as usize]
                );
                hits += u64::from(hit);
            }
        });
    }
    let mut hits = 0;
    while let Some(done) = tasks.join_next().await {
        hits += done??;
    }
    Ok(hits)
}

pub async fn run(opts: &Options) -> anyhow::Result<()> {
    ensure!(
        opts.objects >= 100 && opts.requests >= 100 && opts.concurrency >= 1,
        "--objects and --requests must be at least 100, --concurrency at least 1"
    );
    ensure!(
        (0.0..1.0).contains(&opts.warm_up),
        "--warm-up is a share of the trace in [0, 1)"
    );
    let tools = ensure_tools()?;
    let tmp = work_dir("marquee-bench-hit-ratio-", opts.keep_dir)?;
    let dir = tmp.path();
    let mut rng = Rng::new(opts.seed);
    let sizes = Arc::new(object_sizes(opts.objects, &mut rng));
    let total: u64 = sizes.iter().sum();
    let media = dir.join("media");
    std::fs::create_dir_all(&media)?;
    // Sparse files: the upstream reads zeros without disk I/O; the edge stores real bytes.
    for (id, size) in sizes.iter().enumerate() {
        std::fs::File::create(media.join(format!("obj-{id}.bin")))?.set_len(*size)?;
    }
    let bytes_log = dir.join("upstream-bytes.log");
    let (_upstream, upstream_port) = start_nginx(&tools, dir, "upstream", |port| {
        upstream_conf_logged(dir, &media, port, is_root(), Some(&bytes_log))
    })
    .await?;
    let binary = find_edge_binary(opts.edge_bin.as_deref())?;
    let token = bench_token()?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let counted_from = (opts.requests as f64 * opts.warm_up) as usize;
    println!(
        "{} objects, {:.2} GiB (64 KiB-2 MiB, log-uniform); {} requests per trace, the first {} \
         warm the cache and are not counted; {} clients; edge byte hits = 1 - bytes the upstream \
         sent / bytes requested",
        opts.objects,
        total as f64 / (1u64 << 30) as f64,
        opts.requests,
        counted_from,
        opts.concurrency
    );
    let mut cells = Vec::new();
    for &alpha in &opts.alphas {
        let trace = Arc::new(zipf_trace(
            opts.objects,
            alpha,
            opts.requests,
            &mut Rng::new(opts.seed ^ alpha.to_bits()),
        ));
        for &fraction in &opts.fractions {
            let budget_mib = ((total as f64 * fraction) / (1u64 << 20) as f64) as u64;
            let (memory, disk) = tiers(budget_mib);
            let cache_mib = memory + disk;
            let cell_dir = dir.join(format!("edge-{alpha}-{fraction}"));
            std::fs::create_dir_all(&cell_dir)?;
            let mut setup = EdgeSetup::new(
                &binary,
                &cell_dir,
                upstream_port,
                opts.workers,
                &token.public_key_spec,
            );
            setup.cache_memory_mb = memory as usize;
            setup.cache_disk_mb = disk as usize;
            let edge = start_edge(&setup)?;
            let base = format!(
                "http://127.0.0.1:{}/t/{}/media/bench",
                edge.port, token.token
            );
            eprintln!(
                "alpha {alpha}, cache {cache_mib} MiB ({memory} memory + {disk} disk): replaying"
            );
            let with_log = |e: anyhow::Error| {
                e.context(format!(
                    "edge log:\n{}",
                    tail(&cell_dir.join("edge.log"), 10)
                ))
            };
            replay(
                &client,
                &base,
                trace.clone(),
                sizes.clone(),
                0..counted_from,
                opts.concurrency,
            )
            .await
            .map_err(with_log)?;
            let filled_before = logged_bytes(&bytes_log);
            let hits = replay(
                &client,
                &base,
                trace.clone(),
                sizes.clone(),
                counted_from..opts.requests,
                opts.concurrency,
            )
            .await
            .map_err(with_log)?;
            let filled = logged_bytes(&bytes_log) - filled_before;
            drop(edge);
            let requested: u64 = trace[counted_from..]
                .iter()
                .map(|id| sizes[*id as usize])
                .sum();
            let counted = (opts.requests - counted_from) as u64;
            let edge_score = Score {
                requests: counted,
                hits,
                bytes: requested,
                hit_bytes: requested.saturating_sub(filled),
            };
            let lru_score = lru(&trace, &sizes, cache_mib << 20, counted_from);
            eprintln!(
                "alpha {alpha}, cache {cache_mib} MiB: edge {:.1} % of bytes from cache, LRU {:.1} %",
                edge_score.byte_hit_ratio() * 100.0,
                lru_score.byte_hit_ratio() * 100.0
            );
            cells.push(Cell {
                alpha,
                fraction,
                cache_mib,
                edge: edge_score,
                lru: lru_score,
            });
        }
    }
    println!("\n{}", table(&cells));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_counts_hits_and_evicts_the_least_recently_used() {
        let sizes = [10, 10, 10];
        // Capacity 20: after 0,1 then 0 (hit), 2 evicts 1 (least recent), so 1 misses again.
        let s = lru(&[0, 1, 0, 2, 1, 0], &sizes, 20, 0);
        assert_eq!(s.requests, 6);
        assert_eq!(
            s.hits, 1,
            "only the second 0 hits; 0 was evicted by 1's return"
        );
        let s = lru(&[0, 1, 0, 2, 0], &sizes, 20, 0);
        assert_eq!(s.hits, 2);
        assert_eq!(s.hit_bytes, 20);
        // Only the counted window is scored.
        let s = lru(&[0, 0, 0], &sizes, 20, 2);
        assert_eq!((s.requests, s.hits, s.bytes), (1, 1, 10));
        // An object larger than the cache never stays.
        let s = lru(&[0, 0], &[30], 20, 0);
        assert_eq!(s.hits, 0);
    }

    #[test]
    fn zipf_concentrates_more_as_alpha_grows() {
        let share_of_top = |alpha: f64| {
            let trace = zipf_trace(1000, alpha, 20_000, &mut Rng::new(3));
            let mut counts: HashMap<u32, usize> = HashMap::new();
            for id in trace {
                *counts.entry(id).or_default() += 1;
            }
            let mut c: Vec<usize> = counts.into_values().collect();
            c.sort_unstable_by(|a, b| b.cmp(a));
            c.iter().take(10).sum::<usize>() as f64 / 20_000.0
        };
        // The top 10 ranks' share of Zipf(alpha) over 1000 objects, computed exactly.
        let expected = |alpha: f64| {
            let weight = |k: usize| 1.0 / (k as f64).powf(alpha);
            (1..=10).map(weight).sum::<f64>() / (1..=1000).map(weight).sum::<f64>()
        };
        for alpha in [0.6, 1.0, 1.2] {
            let (got, want) = (share_of_top(alpha), expected(alpha));
            assert!(
                (got - want).abs() < 0.02,
                "alpha {alpha}: top 10 got {got}, Zipf says {want}"
            );
        }
        assert!(share_of_top(0.6) < share_of_top(1.2));
    }

    #[test]
    fn sizes_and_tiers_stay_in_bounds() {
        let sizes = object_sizes(1000, &mut Rng::new(1));
        assert!(sizes.iter().all(|s| (65536..=2 * 1024 * 1024).contains(s)));
        assert_eq!(tiers(67), (3, 64));
        assert_eq!(tiers(670), (174, 496));
        assert_eq!(tiers(10), (1, 64), "the edge's minimum disk tier");
    }

    #[test]
    fn the_table_shows_edge_beside_lru() {
        let score = |hit_bytes| Score {
            requests: 10,
            hits: 5,
            bytes: 100,
            hit_bytes,
        };
        let text = table(&[Cell {
            alpha: 0.8,
            fraction: 0.01,
            cache_mib: 67,
            edge: score(30),
            lru: score(40),
        }]);
        assert!(text.contains("30.0%"), "{text}");
        assert!(text.contains("40.0%"), "{text}");
        assert!(text.contains("0.75x"), "{text}");
    }
}
