//! The Marquee edge under test: finding its binary, a token it accepts, and starting it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use marquee_proto::token::TokenSigner;
use marquee_proto::v1::PlaybackClaims;
use marquee_tls::TlsFiles;

use crate::procs::{ChildGuard, free_port};

/// `--edge-bin` if given, else `marquee-edge` next to this executable (both land in
/// `target/release/` after `cargo build --release -p marquee-edge`).
pub fn find_edge_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p.to_owned());
        }
        bail!("--edge-bin {} does not exist", p.display());
    }
    crate::procs::sibling("marquee-edge")
}

/// The flags every edge benchmark takes (flattened into each one's clap arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct EdgeRunArgs {
    /// Path to the marquee-edge binary (default: next to this executable).
    #[arg(long, env = "MARQUEE_BENCH_EDGE_BIN")]
    pub edge_bin: Option<PathBuf>,
    /// Keep the temp dir (configs, logs) for inspection.
    #[arg(long)]
    pub keep_dir: bool,
}

/// A signing key and a token for `/media/bench/`, valid for a day.
pub struct BenchToken {
    pub public_key_spec: String,
    pub token: String,
}

pub fn bench_token() -> anyhow::Result<BenchToken> {
    let pkcs8 = TokenSigner::generate_pkcs8()?;
    let signer = TokenSigner::from_pkcs8("bench", &pkcs8)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let token = signer.sign(PlaybackClaims {
        path_prefix: "/media/bench/".into(),
        issued_at_unix: now,
        expires_at_unix: now + 86_400,
        title_id: "bench".into(),
        account_id: "bench".into(),
        playback_id: "bench".into(),
        ..Default::default()
    });
    Ok(BenchToken {
        public_key_spec: signer.public_key_spec(),
        token,
    })
}

/// A started edge and the ports it serves on.
pub struct RunningEdge {
    pub guard: ChildGuard,
    /// Plain HTTP (HTTP/1.1 and h2c).
    pub port: u16,
    /// HTTPS over TCP and HTTP/3 over UDP, when started with a certificate.
    pub tls_port: Option<u16>,
}

/// How to start the edge under test.
pub struct EdgeSetup<'a> {
    pub binary: &'a Path,
    /// Its log goes to `<dir>/edge.log`, its disk tier to `<dir>/edge-cache`.
    pub dir: &'a Path,
    pub origin_port: u16,
    pub threads: usize,
    pub public_key_spec: &'a str,
    pub cache_memory_mb: usize,
    pub cache_disk_mb: usize,
    /// Serve HTTPS and HTTP/3 with this certificate too.
    pub tls: Option<&'a TlsFiles>,
}

impl<'a> EdgeSetup<'a> {
    /// The usual setup: 256 MiB in memory and on disk, plain HTTP only.
    pub fn new(
        binary: &'a Path,
        dir: &'a Path,
        origin_port: u16,
        threads: usize,
        public_key_spec: &'a str,
    ) -> Self {
        Self {
            binary,
            dir,
            origin_port,
            threads,
            public_key_spec,
            cache_memory_mb: 256,
            cache_disk_mb: 256,
            tls: None,
        }
    }
}

/// Starts the edge (no control-plane: it serves but is never steered to) and waits for its
/// "listening" line.
pub fn start_edge(setup: &EdgeSetup<'_>) -> anyhow::Result<RunningEdge> {
    let dir = setup.dir;
    let port = free_port()?;
    let log = std::fs::File::create(dir.join("edge.log"))?;
    let mut cmd = crate::procs::server_command(setup.binary);
    cmd.args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--origin", &format!("127.0.0.1:{}", setup.origin_port)])
        .args(["--edge-id", "bench-edge", "--region", "bench"])
        .args(["--public-url", &format!("http://127.0.0.1:{port}")])
        .args(["--token-public-key", setup.public_key_spec])
        .arg("--cache-dir")
        .arg(dir.join("edge-cache"))
        .args(["--cache-memory-mb", &setup.cache_memory_mb.to_string()])
        .args(["--cache-disk-mb", &setup.cache_disk_mb.to_string()])
        .args(["--threads", &setup.threads.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    let tls_port = match setup.tls {
        Some(files) => {
            // TCP and UDP on one port number: take one free in both.
            let tls_port = free_port_tcp_and_udp()?;
            cmd.args(["--tls-listen", &format!("127.0.0.1:{tls_port}")])
                .arg("--tls-cert")
                .arg(&files.cert)
                .arg("--tls-key")
                .arg(&files.key)
                .arg("--tls-ca")
                .arg(&files.ca);
            Some(tls_port)
        }
        None => None,
    };
    let mut guard = ChildGuard::spawn("marquee-edge", &mut cmd)?;
    let stdout = guard.take_stdout().context("edge stdout")?;
    // The line arrives within ~1 s or the edge has failed; read it off the async runtime.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining so a later print cannot fail on a closed pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    if !line.starts_with("marquee-edge listening on ") {
        let exit = match guard.exited() {
            Some(status) => format!("exited with {status}"),
            None => "still running".to_owned(),
        };
        bail!(
            "marquee-edge did not start ({exit}, first stdout line {line:?}); its log:\n{}",
            crate::procs::tail(&dir.join("edge.log"), 20)
        );
    }
    Ok(RunningEdge {
        guard,
        port,
        tls_port,
    })
}

/// A loopback port free for both TCP and UDP a moment ago.
fn free_port_tcp_and_udp() -> anyhow::Result<u16> {
    for _ in 0..50 {
        let port = free_port()?;
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no port free for both TCP and UDP")
}
