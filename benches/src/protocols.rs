//! The `edge-protocols` run: cache hits at three object sizes over HTTPS HTTP/1.1 and HTTP/2,
//! edge beside nginx `proxy_cache` on the same certificate, TLS 1.3 and worker count; and the
//! edge's HTTP/3 beside its own HTTPS HTTP/1.1. Rounds alternate A/B; medians are reported.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, ensure};

use crate::edge::{EdgeSetup, bench_token, find_edge_binary, start_edge};
use crate::h2load::{self, Load, LoadResult, Protocol};
use crate::h3load;
use crate::nginx::{tls_proxy_cache_conf, upstream_conf};
use crate::procs::{ensure_tools, is_root, pin_servers, tail, work_dir};
use crate::report::ab_order;
use crate::run::{start_nginx, warm_and_check};
use crate::tls::bench_certificate;

/// The object sizes measured: a manifest-sized, a small-segment and a large-segment object.
pub const SIZES: [(&str, usize); 3] = [
    ("1 KiB", 1024),
    ("64 KiB", 64 * 1024),
    ("2 MiB", 2 * 1024 * 1024),
];

/// The targets the issue sets: requests/s against nginx, and HTTP/3 against HTTPS HTTP/1.1.
pub const MIN_RPS_RATIO: f64 = 1.25;
pub const MIN_H3_RATIO: f64 = 0.8;

#[derive(Debug, Clone)]
pub struct Options {
    pub rounds: usize,
    pub seconds: u32,
    pub connections: u32,
    /// Concurrent streams per HTTP/2 and HTTP/3 connection.
    pub streams: u32,
    pub load_threads: u32,
    pub workers: usize,
    pub edge_bin: Option<PathBuf>,
    pub keep_dir: bool,
    /// Which comparisons to run: any of "h1", "h2", "h3".
    pub protocols: Vec<String>,
    /// Servers on CPU 0, load generators on the other CPUs.
    pub pin: bool,
}

/// One measured cell: medians of each side, and every sample for the spread.
#[derive(Debug, Clone)]
pub struct Cell {
    pub size: &'static str,
    pub protocol: &'static str,
    pub a_name: &'static str,
    pub b_name: &'static str,
    pub a: Vec<LoadResult>,
    pub b: Vec<LoadResult>,
    /// The least a/b requests/s ratio that passes.
    pub min_ratio: f64,
    /// Whether a's p99 must also be at most b's.
    pub p99_checked: bool,
}

impl Cell {
    fn medians(results: &[LoadResult]) -> (f64, f64) {
        h2load::medians(results).unwrap_or((0.0, f64::INFINITY))
    }

    pub fn ratio(&self) -> f64 {
        Self::medians(&self.a).0 / Self::medians(&self.b).0
    }

    /// The spread of the per-round ratios (min, max).
    pub fn ratio_spread(&self) -> (f64, f64) {
        let ratios: Vec<f64> = self
            .a
            .iter()
            .zip(&self.b)
            .map(|(a, b)| a.requests_per_sec / b.requests_per_sec)
            .collect();
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        (lo, hi)
    }

    pub fn passes(&self) -> bool {
        let (_, a_p99) = Self::medians(&self.a);
        let (_, b_p99) = Self::medians(&self.b);
        self.ratio() >= self.min_ratio && (!self.p99_checked || a_p99 <= b_p99)
    }
}

/// The results table (pure formatting).
pub fn table(cells: &[Cell]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<7} {:<9} {:>17} {:>17} {:>7} {:>13} {:>9} {:>9}  target",
        "size", "protocol", "A req/s", "B req/s", "ratio", "ratio spread", "A p99 ms", "B p99 ms"
    );
    for c in cells {
        let (a_rps, a_p99) = Cell::medians(&c.a);
        let (b_rps, b_p99) = Cell::medians(&c.b);
        let (lo, hi) = c.ratio_spread();
        let target = if c.p99_checked {
            format!(">= {:.2}x, p99 <=", c.min_ratio)
        } else {
            format!(">= {:.2}x", c.min_ratio)
        };
        let _ = writeln!(
            out,
            "{:<7} {:<9} {:>17} {:>17} {:>6.2}x {:>13} {:>9.2} {:>9.2}  {} {}",
            c.size,
            c.protocol,
            format!("{} {a_rps:.0}", c.a_name),
            format!("{} {b_rps:.0}", c.b_name),
            c.ratio(),
            format!("{lo:.2}-{hi:.2}x"),
            a_p99,
            b_p99,
            target,
            if c.passes() { "met" } else { "NOT met" }
        );
    }
    out
}

/// Deterministic incompressible-looking bytes (xorshift), so neither side gains from content.
fn object_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub async fn run(opts: &Options) -> anyhow::Result<()> {
    ensure!(
        opts.rounds >= 1 && opts.seconds >= 1 && opts.connections >= 1 && opts.streams >= 1,
        "--rounds, --seconds, --connections and --streams must be at least 1"
    );
    if let Some(unknown) = opts
        .protocols
        .iter()
        .find(|p| !["h1", "h2", "h3"].contains(&p.as_str()))
    {
        anyhow::bail!("--protocols takes h1, h2 and h3 (got {unknown:?})");
    }
    let tools = ensure_tools()?;
    let pinned = opts.pin && pin_servers()?;
    let tmp = work_dir("marquee-bench-protocols-", opts.keep_dir)?;
    let dir = tmp.path();
    let media = dir.join("media");
    std::fs::create_dir_all(&media)?;
    let mut objects = Vec::new();
    for (i, (name, len)) in SIZES.iter().enumerate() {
        let bytes = object_bytes(*len, i as u64 + 7);
        let file = format!("obj-{i}.bin");
        std::fs::write(media.join(&file), &bytes)?;
        objects.push((*name, file, bytes));
    }
    let (files, tls) = bench_certificate(dir)?;
    let (_upstream, upstream_port) = start_nginx(&tools, dir, "upstream", |port| {
        upstream_conf(dir, &media, port, is_root())
    })
    .await?;
    let (_peer, peer_port) = start_nginx(&tools, dir, "peer", |port| {
        tls_proxy_cache_conf(
            dir,
            port,
            upstream_port,
            opts.workers,
            is_root(),
            &files.cert,
            &files.key,
        )
    })
    .await?;
    let binary = find_edge_binary(opts.edge_bin.as_deref())?;
    let token = bench_token()?;
    let mut setup = EdgeSetup::new(
        &binary,
        dir,
        upstream_port,
        opts.workers,
        &token.public_key_spec,
    );
    setup.tls = Some(&files);
    let edge = start_edge(&setup)?;
    let edge_tls = edge.tls_port.context("the edge has no HTTPS port")?;

    let ca = reqwest::Certificate::from_pem(&std::fs::read(&files.ca)?)?;
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(10))
        .build()?;
    let edge_url = |file: &str| {
        format!(
            "https://127.0.0.1:{edge_tls}/t/{}/media/bench/{file}",
            token.token
        )
    };
    let nginx_url = |file: &str| format!("https://127.0.0.1:{peer_port}/media/bench/{file}");
    for (_, file, bytes) in &objects {
        warm_and_check(&client, &edge_url(file), bytes, "cache-status", "hit")
            .await
            .with_context(|| format!("edge log:\n{}", tail(&dir.join("edge.log"), 20)))?;
        warm_and_check(&client, &nginx_url(file), bytes, "cache-status", "HIT")
            .await
            .context("nginx proxy_cache over HTTPS")?;
    }
    println!(
        "cache hits over HTTPS (TLS 1.3, one certificate); h2load --clients={} --threads={} \
         (HTTP/2: {} streams per connection), HTTP/3: the bench's quinn+h3 client with the same \
         connections and streams; edge threads = nginx workers = {}; {} round(s) of {} s, order \
         alternates; {}",
        opts.connections,
        opts.load_threads,
        opts.streams,
        opts.workers,
        opts.rounds,
        opts.seconds,
        if pinned {
            "servers pinned to CPU 0, load generators to the others"
        } else {
            "not pinned: servers and load generators share every CPU"
        }
    );

    let load = Load {
        seconds: opts.seconds,
        connections: opts.connections,
        threads: opts.load_threads,
        streams: opts.streams,
    };
    let log_file = dir.join("h2load-requests.log");
    let h2 = |protocol, url: String| {
        let h2load = tools.h2load.clone();
        let log_file = log_file.clone();
        async move { h2load::run(&h2load, protocol, load, &url, &log_file).await }
    };
    let mut cells = Vec::new();
    for (size, file, _) in &objects {
        for (protocol, label, key) in [
            (Protocol::H1, "HTTP/1.1", "h1"),
            (Protocol::H2, "HTTP/2", "h2"),
        ] {
            if !opts.protocols.iter().any(|p| p == key) {
                continue;
            }
            let mut edge_results = Vec::new();
            let mut nginx_results = Vec::new();
            for round in 0..opts.rounds {
                // Alternate which side goes first, so neither always runs on a warmer machine.
                let order = ab_order(round);
                for edge_side in order {
                    let (url, into) = if edge_side {
                        (edge_url(file), &mut edge_results)
                    } else {
                        (nginx_url(file), &mut nginx_results)
                    };
                    let r = h2(protocol, url).await.with_context(|| {
                        format!(
                            "{size} {label} {}",
                            if edge_side { "edge" } else { "nginx" }
                        )
                    })?;
                    eprintln!(
                        "{size} {label} round {}: {} {:.0} req/s, p99 {:.2} ms",
                        round + 1,
                        if edge_side { "edge" } else { "nginx" },
                        r.requests_per_sec,
                        r.p99_ms
                    );
                    into.push(r);
                }
            }
            cells.push(Cell {
                size,
                protocol: label,
                a_name: "edge",
                b_name: "nginx",
                a: edge_results,
                b: nginx_results,
                min_ratio: MIN_RPS_RATIO,
                p99_checked: true,
            });
        }
        if !opts.protocols.iter().any(|p| p == "h3") {
            continue;
        }
        let target = h3load::Target {
            addr: SocketAddr::from(([127, 0, 0, 1], edge_tls)),
            server_name: "127.0.0.1".into(),
            path: format!("/t/{}/media/bench/{file}", token.token),
            roots: (*tls.roots()).clone(),
        };
        let mut h3_results = Vec::new();
        let mut h1_results = Vec::new();
        for round in 0..opts.rounds {
            let order = ab_order(round);
            for h3_side in order {
                let r = if h3_side {
                    h3load::run(&target, opts.connections, opts.streams, opts.seconds)
                        .await
                        .with_context(|| format!("{size} HTTP/3 edge"))?
                } else {
                    h2(Protocol::H1, edge_url(file))
                        .await
                        .with_context(|| format!("{size} HTTP/1.1 edge"))?
                };
                eprintln!(
                    "{size} edge round {}: {} {:.0} req/s, p99 {:.2} ms",
                    round + 1,
                    if h3_side { "HTTP/3" } else { "HTTP/1.1" },
                    r.requests_per_sec,
                    r.p99_ms
                );
                if h3_side {
                    h3_results.push(r);
                } else {
                    h1_results.push(r);
                }
            }
        }
        cells.push(Cell {
            size,
            protocol: "HTTP/3",
            a_name: "h3",
            b_name: "h1",
            a: h3_results,
            b: h1_results,
            min_ratio: MIN_H3_RATIO,
            p99_checked: false,
        });
    }
    println!(
        "\nA/B: medians of {} rounds each\n{}",
        opts.rounds,
        table(&cells)
    );
    let failed: u64 = cells
        .iter()
        .flat_map(|c| c.a.iter().chain(&c.b))
        .map(|r| r.failed)
        .sum();
    if failed > 0 {
        eprintln!("warning: {failed} requests failed or were not 2xx during the runs");
    }
    drop(edge);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rps: f64, p99: f64) -> LoadResult {
        LoadResult {
            requests_per_sec: rps,
            p99_ms: p99,
            requests: 1,
            failed: 0,
        }
    }

    fn cell(a: &[(f64, f64)], b: &[(f64, f64)]) -> Cell {
        Cell {
            size: "1 KiB",
            protocol: "HTTP/2",
            a_name: "edge",
            b_name: "nginx",
            a: a.iter().map(|(r, p)| result(*r, *p)).collect(),
            b: b.iter().map(|(r, p)| result(*r, *p)).collect(),
            min_ratio: MIN_RPS_RATIO,
            p99_checked: true,
        }
    }

    #[test]
    fn a_cell_passes_only_on_rate_and_tail_latency() {
        let fast = cell(&[(130.0, 1.0), (140.0, 1.0)], &[(100.0, 2.0), (100.0, 2.0)]);
        assert!((fast.ratio() - 1.35).abs() < 1e-9);
        assert_eq!(fast.ratio_spread(), (1.3, 1.4));
        assert!(fast.passes());
        let slow_tail = cell(&[(130.0, 3.0)], &[(100.0, 2.0)]);
        assert!(!slow_tail.passes(), "p99 above nginx's fails");
        let too_slow = cell(&[(120.0, 1.0)], &[(100.0, 2.0)]);
        assert!(!too_slow.passes(), "1.2x is under 1.25x");
        let text = table(&[fast, too_slow]);
        assert!(text.contains("edge 135"), "{text}");
        assert!(text.contains("1.35x"), "{text}");
        assert!(text.contains("NOT met"), "{text}");
    }

    #[test]
    fn objects_are_deterministic_and_not_uniform() {
        let a = object_bytes(4096, 7);
        assert_eq!(a, object_bytes(4096, 7));
        assert_ne!(a, object_bytes(4096, 8));
        let distinct: std::collections::HashSet<u8> = a.iter().copied().collect();
        assert!(distinct.len() > 200);
    }
}
