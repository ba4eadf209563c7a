//! Child processes the benchmark starts, and the tools it needs. Every child is stopped when
//! its guard drops, including when the run is interrupted.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running child: on drop it gets SIGTERM (so nginx's master stops its workers), then
/// SIGKILL if it has not exited within 3 s.
pub struct ChildGuard {
    name: String,
    child: Child,
}

impl ChildGuard {
    pub fn spawn(name: &str, cmd: &mut Command) -> anyhow::Result<Self> {
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", cmd.get_program()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
        })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the child has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago (for programs that must be told their port).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until `port` accepts connections; fails early if `child` exits. Async so an
/// interrupt can cancel it.
pub async fn wait_for_port(
    child: &mut ChildGuard,
    port: u16,
    timeout: Duration,
) -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.exited() {
            bail!(
                "{} exited ({status}) before listening on {addr}",
                child.name
            );
        }
        let attempt = tokio::net::TcpStream::connect(addr);
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), attempt).await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("{} did not listen on {addr} within {timeout:?}", child.name)
}

/// A Marquee binary built next to this one (`cargo run` puts binaries in target/<profile>/,
/// test harnesses in target/<profile>/deps/).
pub fn sibling(program: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("locating this executable")?;
    let dir = me.parent().context("executable has no directory")?;
    for candidate in [dir.join(program), dir.join("..").join(program)] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "{program} not found next to {}: build it first (`cargo build --release -p {}`) or pass \
         its path",
        me.display(),
        program
    )
}

/// Finds `program` on PATH or in the sbin directories non-root PATHs often lack.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// True when running with effective uid 0 (read from /proc, no libc needed).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Paths of the tools, installing the Debian packages that provide missing ones when root.
pub struct Tools {
    pub nginx: PathBuf,
    pub wrk: PathBuf,
    pub ffmpeg: PathBuf,
    /// nghttp2's load generator: HTTPS HTTP/1.1 and HTTP/2.
    pub h2load: PathBuf,
}

/// (program, Debian package) pairs the benchmark runs.
const NEEDED: [(&str, &str); 4] = [
    ("nginx", "nginx"),
    ("wrk", "wrk"),
    ("ffmpeg", "ffmpeg"),
    ("h2load", "nghttp2-client"),
];

pub fn ensure_tools() -> anyhow::Result<Tools> {
    let missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(prog, _)| find_program(prog).is_none())
        .map(|(_, pkg)| *pkg)
        .collect();
    if !missing.is_empty() {
        if !is_root() {
            bail!(
                "missing {}: install them with `sudo apt-get install -y {}` (or run this as root)",
                missing.join(", "),
                missing.join(" ")
            );
        }
        apt_install(&missing)?;
    }
    let find =
        |p: &str| find_program(p).with_context(|| format!("{p} still missing after install"));
    Ok(Tools {
        nginx: find("nginx")?,
        wrk: find("wrk")?,
        ffmpeg: find("ffmpeg")?,
        h2load: find("h2load")?,
    })
}

/// `apt-get install -y`, retried once (apt here sometimes fails once on a fetched archive).
fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    eprintln!("installing {} with apt-get", packages.join(" "));
    let _ = Command::new("apt-get").arg("update").status();
    for attempt in 1..=2 {
        let status = Command::new("apt-get")
            .args(["install", "-y"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get")?;
        if status.success() {
            return Ok(());
        }
        eprintln!("apt-get install failed (attempt {attempt})");
    }
    bail!("apt-get install -y {} failed twice", packages.join(" "))
}

/// Last `lines` lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Resolves on Ctrl-C or SIGTERM: a benchmark selects on it so dropping the run's guards stops
/// every process it started.
async fn interrupted() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Runs a benchmark to its end or to Ctrl-C/SIGTERM (dropping the run stops every process it
/// started) and turns the outcome into the exit code, naming the benchmark in errors.
pub async fn run_until_interrupted(
    name: &str,
    run: impl std::future::Future<Output = anyhow::Result<()>>,
) -> std::process::ExitCode {
    tokio::select! {
        result = run => match result {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{name}: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        _ = interrupted() => {
            eprintln!("{name}: interrupted; every process it started was stopped");
            std::process::ExitCode::from(130)
        }
    }
}

/// The run's temp dir, kept (and its path printed) when asked.
pub fn work_dir(prefix: &str, keep: bool) -> anyhow::Result<tempfile::TempDir> {
    let mut dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
    if keep {
        dir.disable_cleanup(true);
        eprintln!("keeping {}", dir.path().display());
    }
    Ok(dir)
}

/// CPUs the servers under test are confined to, when the run pins (see [`pin_servers`]).
static SERVER_CPUS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Puts the servers under test (edge, nginx) on CPU 0 and this process with its load
/// generators on the others, so a client's own work (QUIC above all) does not take the
/// server's core. Needs at least 2 CPUs; returns whether it pinned.
pub fn pin_servers() -> anyhow::Result<bool> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 || find_program("taskset").is_none() {
        return Ok(false);
    }
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &format!("1-{}", cpus - 1)])
        .arg(std::process::id().to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .context("running taskset")?;
    if !status.success() {
        bail!("taskset could not pin this process ({status})");
    }
    let _ = SERVER_CPUS.set("0".to_owned());
    Ok(true)
}

/// A command for a server under test: wrapped in `taskset` when the run pins.
pub fn server_command(program: &Path) -> Command {
    match SERVER_CPUS.get() {
        Some(cpus) => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", cpus]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// Runs a load tool to its end (killed after `limit`) and returns its stdout; a failure says
/// what it printed.
pub async fn tool_output(
    name: &str,
    mut cmd: tokio::process::Command,
    limit: Duration,
) -> anyhow::Result<String> {
    let run = cmd
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(limit, run)
        .await
        .with_context(|| format!("{name} did not finish in time"))?
        .with_context(|| format!("running {name}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{name} failed ({}): {text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(text)
}
