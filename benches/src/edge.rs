//! The Marquee edge under test: finding its binary, a token it accepts, and starting it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use marquee_proto::token::TokenSigner;
use marquee_proto::v1::PlaybackClaims;

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

/// A started edge and the port it serves on.
pub struct RunningEdge {
    pub guard: ChildGuard,
    pub port: u16,
}

/// Starts the edge in front of `origin_port` with `threads` worker threads, logs to
/// `<dir>/edge.log`, and waits for its "listening" line.
pub fn start_edge(
    binary: &Path,
    dir: &Path,
    origin_port: u16,
    threads: usize,
    public_key_spec: &str,
) -> anyhow::Result<RunningEdge> {
    let port = free_port()?;
    // A port nobody listens on: heartbeats fail and the edge only warns.
    let closed = free_port()?;
    let log = std::fs::File::create(dir.join("edge.log"))?;
    let mut cmd = Command::new(binary);
    cmd.args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--origin", &format!("127.0.0.1:{origin_port}")])
        .args(["--control-plane", &format!("http://127.0.0.1:{closed}")])
        .args(["--edge-id", "bench-edge", "--region", "bench"])
        .args(["--public-url", &format!("http://127.0.0.1:{port}")])
        .args(["--token-public-key", public_key_spec])
        .arg("--cache-dir")
        .arg(dir.join("edge-cache"))
        .args(["--cache-memory-mb", "256", "--cache-disk-mb", "256"])
        .args(["--threads", &threads.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
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
    Ok(RunningEdge { guard, port })
}
