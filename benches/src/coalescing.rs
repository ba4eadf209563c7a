//! The `edge-coalescing` run: many viewers ask at once for one object nobody has cached, from
//! an origin that takes seconds to answer. The edge should fetch it once and hand it to every
//! waiter as it arrives; nginx's cache lock also fetches once but its waiters poll for the
//! entry (every 500 ms), so they finish later. The slow origin is a small HTTP/1.1 server here
//! that counts the fetches per path.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::edge::{EdgeSetup, bench_token, find_edge_binary, start_edge};
use crate::nginx::{SEGMENT_CACHE_CONTROL, proxy_cache_conf};
use crate::procs::{ensure_tools, is_root, tail, work_dir};
use crate::report::{ab_order, median};
use crate::run::start_nginx;

/// The target: every waiter done within this long after the first.
pub const MAX_WAITER_SPREAD_MS: f64 = 50.0;

#[derive(Debug, Clone)]
pub struct Options {
    pub rounds: usize,
    pub waiters: usize,
    pub origin_delay: Duration,
    pub object_bytes: usize,
    pub workers: usize,
    pub edge_bin: Option<PathBuf>,
    pub keep_dir: bool,
}

/// An origin that answers every GET after `delay` with `body`, counting fetches per path.
pub struct SlowOrigin {
    pub port: u16,
    fetches: Arc<Mutex<HashMap<String, u32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SlowOrigin {
    pub async fn start(delay: Duration, body: Arc<Vec<u8>>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let fetches: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let counted = fetches.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let counted = counted.clone();
                let body = body.clone();
                tokio::spawn(async move {
                    let _ = serve_connection(socket, delay, body, counted).await;
                });
            }
        });
        Ok(Self {
            port,
            fetches,
            task,
        })
    }

    pub fn fetches(&self, path: &str) -> u32 {
        self.fetches
            .lock()
            .map(|m| m.get(path).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for SlowOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Keep-alive HTTP/1.1: one request head at a time (GETs, no bodies), each answered slowly.
async fn serve_connection(
    socket: tokio::net::TcpStream,
    delay: Duration,
    body: Arc<Vec<u8>>,
    fetches: Arc<Mutex<HashMap<String, u32>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if lines.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        loop {
            let mut header = String::new();
            if lines.read_line(&mut header).await? == 0 {
                return Ok(());
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        if let Ok(mut map) = fetches.lock() {
            *map.entry(path).or_default() += 1;
        }
        tokio::time::sleep(delay).await;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: video/iso.segment\r\nContent-Length: {}\r\n\
             Cache-Control: {SEGMENT_CACHE_CONTROL}\r\n\r\n",
            body.len()
        );
        write.write_all(head.as_bytes()).await?;
        write.write_all(&body).await?;
    }
}

/// One burst of waiters: the origin fetches it caused and when each waiter finished.
#[derive(Debug, Clone)]
pub struct Burst {
    pub origin_fetches: u32,
    /// From the burst's start to each waiter's last byte, sorted.
    pub finished: Vec<Duration>,
}

impl Burst {
    pub fn first_ms(&self) -> f64 {
        self.finished
            .first()
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    /// How long after the first waiter the last one finished.
    pub fn spread_ms(&self) -> f64 {
        match (self.finished.first(), self.finished.last()) {
            (Some(a), Some(b)) => (*b - *a).as_secs_f64() * 1000.0,
            _ => 0.0,
        }
    }

    /// How long after the first waiter the median one finished.
    pub fn median_gap_ms(&self) -> f64 {
        let gaps: Vec<f64> = self
            .finished
            .iter()
            .map(|d| (*d - self.finished[0]).as_secs_f64() * 1000.0)
            .collect();
        median(&gaps).unwrap_or(0.0)
    }

    pub fn passes(&self) -> bool {
        self.origin_fetches == 1 && self.spread_ms() <= MAX_WAITER_SPREAD_MS
    }
}

/// `waiters` clients (own connections) released at once on `url`; each must get `len` bytes.
async fn burst(url: &str, waiters: usize, len: usize) -> anyhow::Result<Vec<Duration>> {
    let client = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(waiters)
        .timeout(Duration::from_secs(30))
        .build()?;
    let gate = Arc::new(tokio::sync::Barrier::new(waiters + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..waiters {
        let (client, gate, url) = (client.clone(), gate.clone(), url.to_owned());
        tasks.spawn(async move {
            gate.wait().await;
            let resp = client.get(&url).send().await?;
            let status = resp.status();
            let body = resp.bytes().await?;
            let done = Instant::now();
            ensure!(status.is_success(), "answered {status}");
            ensure!(body.len() == len, "got {} bytes of {len}", body.len());
            Ok(done)
        });
    }
    let began = Instant::now();
    gate.wait().await;
    let mut finished = Vec::with_capacity(waiters);
    while let Some(done) = tasks.join_next().await {
        finished.push(done??.saturating_duration_since(began));
    }
    finished.sort();
    Ok(finished)
}

/// The results table (pure formatting).
pub fn table(results: &[(&str, Vec<Burst>)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<7} {:>6} {:>15} {:>15} {:>22} {:>22}",
        "target",
        "round",
        "origin fetches",
        "first done ms",
        "median after first ms",
        "last after first ms"
    );
    for (name, bursts) in results {
        for (i, b) in bursts.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name:<7} {:>6} {:>15} {:>15.0} {:>22.1} {:>22.1}",
                i + 1,
                b.origin_fetches,
                b.first_ms(),
                b.median_gap_ms(),
                b.spread_ms()
            );
        }
        let spreads: Vec<f64> = bursts.iter().map(Burst::spread_ms).collect();
        let _ = writeln!(
            out,
            "{name:<7} median last-after-first {:.1} ms (spread {:.1}-{:.1} ms); origin fetches per round: {}",
            median(&spreads).unwrap_or(0.0),
            spreads.iter().copied().fold(f64::INFINITY, f64::min),
            spreads.iter().copied().fold(0.0, f64::max),
            bursts
                .iter()
                .map(|b| b.origin_fetches.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

pub async fn run(opts: &Options) -> anyhow::Result<()> {
    ensure!(
        opts.rounds >= 1 && opts.waiters >= 2,
        "--rounds must be at least 1 and --waiters at least 2"
    );
    let tools = ensure_tools()?;
    let tmp = work_dir("marquee-bench-coalescing-", opts.keep_dir)?;
    let dir = tmp.path();
    let body = Arc::new(vec![0x5a; opts.object_bytes]);
    let origin = SlowOrigin::start(opts.origin_delay, body).await?;
    let (_peer, peer_port) = start_nginx(&tools, dir, "peer", |port| {
        proxy_cache_conf(dir, port, origin.port, opts.workers, is_root())
    })
    .await?;
    let binary = find_edge_binary(opts.edge_bin.as_deref())?;
    let token = bench_token()?;
    let edge = start_edge(&EdgeSetup::new(
        &binary,
        dir,
        origin.port,
        opts.workers,
        &token.public_key_spec,
    ))?;
    println!(
        "{} waiters at once for one cold {} KiB object; origin answers after {} ms; edge threads \
         = nginx workers = {}; {} round(s) each, order alternates, a new object every burst",
        opts.waiters,
        opts.object_bytes / 1024,
        opts.origin_delay.as_millis(),
        opts.workers,
        opts.rounds
    );
    let mut edge_bursts = Vec::new();
    let mut nginx_bursts = Vec::new();
    let mut warm_bursts = Vec::new();
    for round in 0..opts.rounds {
        let order = ab_order(round);
        for edge_side in order {
            let path = format!(
                "/media/bench/cold-{round}-{}.m4s",
                if edge_side { "edge" } else { "nginx" }
            );
            let url = if edge_side {
                format!("http://127.0.0.1:{}/t/{}{path}", edge.port, token.token)
            } else {
                format!("http://127.0.0.1:{peer_port}{path}")
            };
            let finished = burst(&url, opts.waiters, opts.object_bytes)
                .await
                .with_context(|| {
                    format!(
                        "round {}, {}; edge log:\n{}",
                        round + 1,
                        if edge_side { "edge" } else { "nginx" },
                        tail(&dir.join("edge.log"), 10)
                    )
                })?;
            let b = Burst {
                origin_fetches: origin.fetches(&path),
                finished,
            };
            eprintln!(
                "round {}: {} fetched {}x, last waiter {:.1} ms after the first",
                round + 1,
                if edge_side { "edge" } else { "nginx" },
                b.origin_fetches,
                b.spread_ms()
            );
            if edge_side {
                let cold_fetches = b.origin_fetches;
                edge_bursts.push(b);
                // The same burst again, now a hit for everyone: how far apart the waiters
                // finish when nothing waits on origin (connections open during this burst,
                // where a cold burst opens them while origin is still answering).
                let finished = burst(&url, opts.waiters, opts.object_bytes).await?;
                warm_bursts.push(Burst {
                    origin_fetches: origin.fetches(&path) - cold_fetches,
                    finished,
                });
            } else {
                nginx_bursts.push(b);
            }
        }
    }
    println!(
        "\n{}",
        table(&[
            ("edge", edge_bursts.clone()),
            ("nginx", nginx_bursts),
            ("warm", warm_bursts),
        ])
    );
    println!(
        "(warm: the edge's burst repeated on the cached object; its spread includes opening the connections)"
    );
    drop(edge);
    let spreads: Vec<f64> = edge_bursts.iter().map(Burst::spread_ms).collect();
    let verdict = edge_bursts.iter().all(|b| b.origin_fetches == 1)
        && median(&spreads).unwrap_or(f64::INFINITY) <= MAX_WAITER_SPREAD_MS;
    println!(
        "target (one origin fetch, every waiter within {MAX_WAITER_SPREAD_MS} ms of the first, \
         median of rounds): {}",
        if verdict { "met" } else { "NOT met" }
    );
    if edge_bursts.iter().any(|b| b.origin_fetches == 0) {
        bail!("the edge never reached the origin: the burst was not a cold miss");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst_of(ms: &[u64], fetches: u32) -> Burst {
        Burst {
            origin_fetches: fetches,
            finished: ms.iter().map(|m| Duration::from_millis(*m)).collect(),
        }
    }

    #[test]
    fn a_burst_passes_on_one_fetch_and_a_tight_finish() {
        let tight = burst_of(&[2000, 2010, 2030], 1);
        assert_eq!(tight.spread_ms(), 30.0);
        assert_eq!(tight.median_gap_ms(), 10.0);
        assert!(tight.passes());
        assert!(
            !burst_of(&[2000, 2010, 2030], 2).passes(),
            "two fetches fail"
        );
        assert!(
            !burst_of(&[2000, 2600], 1).passes(),
            "a polling waiter fails"
        );
        let text = table(&[("edge", vec![tight])]);
        assert!(text.contains("origin fetches per round: 1"), "{text}");
    }

    #[tokio::test]
    async fn the_slow_origin_counts_fetches_and_waits() {
        let origin = SlowOrigin::start(Duration::from_millis(200), Arc::new(vec![1; 10]))
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let began = Instant::now();
        let url = format!("http://127.0.0.1:{}/a", origin.port);
        for _ in 0..2 {
            let resp = client.get(&url).send().await.unwrap();
            assert!(
                resp.headers()["cache-control"]
                    .to_str()
                    .unwrap()
                    .contains("max-age")
            );
            assert_eq!(resp.bytes().await.unwrap().len(), 10);
        }
        assert!(began.elapsed() >= Duration::from_millis(400));
        assert_eq!(origin.fetches("/a"), 2);
        assert_eq!(origin.fetches("/b"), 0);
    }
}
