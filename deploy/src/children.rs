//! Supervision of the child services: spawn, forward their output with a name prefix, read the
//! "listening on" handshake, notice unexpected exits and stop them all cleanly.
//!
//! Children run in their own process group so a Ctrl-C in the terminal reaches only `marquee`,
//! which then stops them in order instead of racing them. If `marquee` itself is killed
//! (SIGKILL, OOM killer) the kernel sends each child SIGTERM, so no service outlives it.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot};

use crate::ports::parse_listening_line;

/// How long a service may take between spawn and printing its handshake line.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error("could not start {name} ({program}): {source}")]
    Spawn {
        name: String,
        program: String,
        source: std::io::Error,
    },
    #[error("{name} stopped before printing its \"listening on\" line (see its output above)")]
    NoHandshake { name: String },
    #[error("{name} did not print its \"listening on\" line within {secs} s")]
    HandshakeTimeout { name: String, secs: u64 },
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Short name used as the output prefix and in reports, e.g. `origin`.
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Binary name whose `<binary> listening on http://…` stdout line to wait for, if any.
    pub handshake: Option<String>,
}

/// A started service.
#[derive(Debug, Clone)]
pub struct Started {
    pub name: String,
    pub pid: u32,
    /// The URL from the handshake line, when one was awaited.
    pub url: Option<String>,
}

/// One child's exit, as observed by its waiter task.
#[derive(Debug)]
pub struct Exit {
    pub name: String,
    pub status: std::io::Result<ExitStatus>,
}

/// How much of the children's output to forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Warnings, errors and panics only.
    Quiet,
    /// Everything.
    Verbose,
}

/// Receives child exits. Kept apart from [`Supervisor`] so one task can spawn while another
/// watches for deaths.
pub struct ExitEvents {
    rx: mpsc::UnboundedReceiver<Exit>,
    seen: HashSet<String>,
}

impl ExitEvents {
    /// The next child exit. Cancel-safe: an exit not yet received stays queued.
    pub async fn recv(&mut self) -> Option<Exit> {
        let exit = self.rx.recv().await?;
        self.seen.insert(exit.name.clone());
        Some(exit)
    }
}

pub struct Supervisor {
    children: Vec<(String, u32)>,
    tx: mpsc::UnboundedSender<Exit>,
    verbosity: Verbosity,
}

impl Supervisor {
    pub fn new(verbosity: Verbosity) -> (Self, ExitEvents) {
        let (tx, rx) = mpsc::unbounded_channel();
        let sup = Supervisor {
            children: Vec::new(),
            tx,
            verbosity,
        };
        (
            sup,
            ExitEvents {
                rx,
                seen: HashSet::new(),
            },
        )
    }

    /// Spawns a service and, if it has a handshake, waits for its URL.
    pub async fn spawn(&mut self, spec: ServiceSpec) -> Result<Started, ChildError> {
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        die_with_parent(&mut cmd);
        if std::env::var_os("RUST_LOG").is_none() {
            let level = match self.verbosity {
                // openraft warns about routine membership changes; its errors still show.
                Verbosity::Quiet => "warn,openraft=error",
                Verbosity::Verbose => "info",
            };
            cmd.env("RUST_LOG", level);
        }
        let mut child = cmd.spawn().map_err(|source| ChildError::Spawn {
            name: spec.name.clone(),
            program: spec.program.display().to_string(),
            source,
        })?;
        let pid = child.id().unwrap_or_default();
        self.children.push((spec.name.clone(), pid));

        let (url_tx, url_rx) = oneshot::channel();
        if let Some(stdout) = child.stdout.take() {
            let forward = Forwarder::new(&spec.name, self.verbosity);
            tokio::spawn(forward.stdout(stdout, spec.handshake.clone(), url_tx));
        }
        if let Some(stderr) = child.stderr.take() {
            let forward = Forwarder::new(&spec.name, self.verbosity);
            tokio::spawn(forward.stderr(stderr));
        }
        let tx = self.tx.clone();
        let name = spec.name.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let _ = tx.send(Exit { name, status });
        });

        let url = match spec.handshake {
            None => None,
            Some(_) => Some(
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, url_rx).await {
                    Ok(Ok(url)) => url,
                    Ok(Err(_)) => return Err(ChildError::NoHandshake { name: spec.name }),
                    Err(_) => {
                        return Err(ChildError::HandshakeTimeout {
                            name: spec.name,
                            secs: HANDSHAKE_TIMEOUT.as_secs(),
                        });
                    }
                },
            ),
        };
        Ok(Started {
            name: spec.name,
            pid,
            url,
        })
    }

    /// Stops every child still running, one at a time in reverse start order (edges, then
    /// origin, then control-plane, so nothing loses a peer while it is still running): SIGINT,
    /// wait up to `grace`, then SIGKILL. Returns the names of the children that had to be killed.
    pub async fn shutdown(&self, events: &mut ExitEvents, grace: Duration) -> Vec<String> {
        let mut killed = Vec::new();
        for (name, pid) in self.children.iter().rev() {
            if events.seen.contains(name) {
                continue;
            }
            signal(*pid, Signal::SIGINT);
            if !wait_for(events, name, grace).await {
                signal(*pid, Signal::SIGKILL);
                killed.push(name.clone());
                wait_for(events, name, Duration::from_secs(5)).await;
            }
        }
        killed
    }
}

/// Receives exits until `name`'s arrives or `limit` passes; other children's exits are
/// recorded on the way.
async fn wait_for(events: &mut ExitEvents, name: &str, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !events.seen.contains(name) {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return false,
        }
    }
    true
}

/// Asks the kernel to send the child SIGTERM when we die (`PR_SET_PDEATHSIG`): `kill_on_drop` and
/// the orderly shutdown need us alive. The signal follows the *thread* that forked, which is a
/// runtime worker here; those live as long as the runtime, i.e. as long as `marquee` runs.
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: the hook runs in the forked child before exec and makes only async-signal-safe
    // system calls (prctl, getppid); it allocates nothing (errors are raw OS error codes) and
    // takes no lock.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
            // We may have died between fork and prctl: then nobody would ever signal the child.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(nix::libc::ESRCH));
            }
            Ok(())
        });
    }
}

fn signal(pid: u32, sig: Signal) {
    let Ok(raw) = i32::try_from(pid) else { return };
    if raw > 0 {
        // Each child leads its own process group (pgid = pid), so this also reaches helpers it
        // started (origin's ffmpeg). ESRCH (already gone) is fine: the waiter reports the exit.
        let _ = killpg(Pid::from_raw(raw), sig);
    }
}

/// Copies a child's output lines to our stderr as `[name] line`.
struct Forwarder {
    name: String,
    verbosity: Verbosity,
}

impl Forwarder {
    fn new(name: &str, verbosity: Verbosity) -> Self {
        Forwarder {
            name: name.to_string(),
            verbosity,
        }
    }

    fn emit(&self, line: &str) {
        if self.verbosity == Verbosity::Verbose || is_notable(line) {
            eprintln!("[{}] {}", self.name, line);
        }
    }

    async fn stdout(
        self,
        out: impl AsyncRead + Unpin,
        handshake: Option<String>,
        url_tx: oneshot::Sender<String>,
    ) {
        let mut url_tx = Some(url_tx);
        let mut lines = BufReader::new(out).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let (Some(binary), Some(_)) = (&handshake, &url_tx)
                && let Some(url) = parse_listening_line(binary, &line)
            {
                if let Some(tx) = url_tx.take() {
                    let _ = tx.send(url);
                }
                if self.verbosity == Verbosity::Verbose {
                    eprintln!("[{}] {}", self.name, line);
                }
                continue;
            }
            self.emit(&line);
        }
    }

    async fn stderr(self, err: impl AsyncRead + Unpin) {
        let mut lines = BufReader::new(err).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            self.emit(&line);
        }
    }
}

/// Whether a line is worth showing in quiet mode: tracing warnings and errors, panics, and
/// command-line errors (a child rejecting a flag must never be silent).
pub fn is_notable(line: &str) -> bool {
    line.contains("WARN")
        || line.contains("ERROR")
        || line.contains("panicked")
        || line.trim_start().starts_with("error")
        || line.trim_start().starts_with("Error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_mode_keeps_warnings_errors_and_panics() {
        assert!(is_notable(
            "2026-11-24T10:00:00Z  WARN marquee_edge: origin slow"
        ));
        assert!(is_notable("\u{1b}[31mERROR\u{1b}[0m marquee_origin: boom"));
        assert!(is_notable(
            "thread 'main' panicked at src/main.rs:3:5: oops"
        ));
        assert!(is_notable("error: unexpected argument '--nope' found"));
        assert!(!is_notable(
            "2026-11-24T10:00:00Z  INFO marquee_origin: request done"
        ));
        assert!(!is_notable("token public key: k1=abc"));
    }

    #[tokio::test]
    async fn reads_handshake_and_reports_exit_of_a_real_process() {
        let (mut sup, mut events) = Supervisor::new(Verbosity::Quiet);
        let started = sup
            .spawn(ServiceSpec {
                name: "echo".into(),
                program: "/bin/sh".into(),
                args: vec![
                    "-c".into(),
                    "echo 'marquee-x listening on http://127.0.0.1:4567'; exit 3".into(),
                ],
                handshake: Some("marquee-x".into()),
            })
            .await
            .expect("spawn");
        assert_eq!(started.url.as_deref(), Some("http://127.0.0.1:4567"));
        let exit = events.recv().await.expect("exit");
        assert_eq!(exit.name, "echo");
        assert_eq!(exit.status.expect("status").code(), Some(3));
    }

    #[tokio::test]
    async fn missing_handshake_is_an_error_not_a_hang() {
        let (mut sup, _events) = Supervisor::new(Verbosity::Quiet);
        let err = sup
            .spawn(ServiceSpec {
                name: "mute".into(),
                program: "/bin/sh".into(),
                args: vec!["-c".into(), "echo something else".into()],
                handshake: Some("marquee-x".into()),
            })
            .await
            .expect_err("no handshake");
        assert!(matches!(err, ChildError::NoHandshake { .. }), "{err}");
    }

    #[tokio::test]
    async fn shutdown_interrupts_then_kills_a_stubborn_child() {
        let (mut sup, mut events) = Supervisor::new(Verbosity::Quiet);
        // This child ignores SIGINT, so only SIGKILL stops it. It announces itself only once the
        // trap is set, so the shutdown below cannot race the trap.
        sup.spawn(ServiceSpec {
            name: "stubborn".into(),
            program: "/bin/sh".into(),
            args: vec![
                "-c".into(),
                "trap '' INT; echo 'stubborn listening on http://127.0.0.1:1'; exec sleep 30"
                    .into(),
            ],
            handshake: Some("stubborn".into()),
        })
        .await
        .expect("spawn");
        // This one exits on SIGINT.
        sup.spawn(ServiceSpec {
            name: "polite".into(),
            program: "/bin/sleep".into(),
            args: vec!["30".into()],
            handshake: None,
        })
        .await
        .expect("spawn");
        let started = std::time::Instant::now();
        let killed = sup.shutdown(&mut events, Duration::from_millis(500)).await;
        assert_eq!(killed, vec!["stubborn".to_string()]);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(events.seen.contains("polite") && events.seen.contains("stubborn"));
    }

    #[tokio::test]
    async fn spawn_of_a_missing_program_names_it() {
        let (mut sup, _events) = Supervisor::new(Verbosity::Quiet);
        let err = sup
            .spawn(ServiceSpec {
                name: "ghost".into(),
                program: "/nonexistent/marquee-ghost".into(),
                args: vec![],
                handshake: None,
            })
            .await
            .expect_err("missing program");
        assert!(
            err.to_string().contains("/nonexistent/marquee-ghost"),
            "{err}"
        );
    }
}
