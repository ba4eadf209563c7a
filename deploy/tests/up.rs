//! Drives the real `marquee up` binary with the real service binaries beside it: the world
//! comes up on free ports, every service answers /healthz, edges register with the
//! control-plane, SIGINT stops everything with exit 0, a second run reuses the state, and a
//! service that dies makes `up` fail loudly, and killing `up` outright stops every service.
//!
//! Needs `marquee-origin`, `marquee-control-plane` and `marquee-edge` built next to `marquee`
//! (`cargo build --workspace --bins`); fails with that instruction if they are missing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const UP_TIMEOUT: Duration = Duration::from_secs(240);

fn marquee() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_marquee"))
}

fn require_siblings() {
    let dir = marquee()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let missing: Vec<_> = ["marquee-origin", "marquee-control-plane", "marquee-edge"]
        .into_iter()
        .filter(|b| !dir.join(b).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "missing {} in {}: build them first with `cargo build --workspace --bins`",
        missing.join(", "),
        dir.display()
    );
}

/// A running `marquee up` with its stdout lines and captured stderr.
struct Up {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
    /// Ends when `up`'s stderr reaches EOF: [`Up::wait`] awaits it so the last lines are in.
    stderr_read: Option<tokio::task::JoinHandle<()>>,
}

impl Up {
    fn start(state: &Path, extra: &[&str]) -> Up {
        let mut child = Command::new(marquee())
            .arg("up")
            .arg("--state-dir")
            .arg(state)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn marquee");
        let (tx, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout");
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = r.next_line().await {
                println!("marquee> {line}");
                let _ = tx.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let buf = stderr.clone();
        let err = child.stderr.take().expect("stderr");
        let stderr_read = tokio::spawn(async move {
            let mut r = BufReader::new(err).lines();
            while let Ok(Some(line)) = r.next_line().await {
                eprintln!("marquee! {line}");
                if let Ok(mut b) = buf.lock() {
                    b.push_str(&line);
                    b.push('\n');
                }
            }
        });
        Up {
            child,
            lines,
            stderr,
            stderr_read: Some(stderr_read),
        }
    }

    /// Reads the summary: origin URL, control-plane URL and edge URLs.
    async fn summary(&mut self) -> Summary {
        let mut origin = None;
        let mut cp = None;
        let mut edges = Vec::new();
        let read = async {
            while let Some(line) = self.lines.recv().await {
                if let Some(url) = line.strip_prefix("Marquee is up: ") {
                    origin = Some(url.trim().to_string());
                } else if let Some(url) = line.trim().strip_prefix("control-plane: ") {
                    cp = Some(url.trim().to_string());
                } else if line.trim().starts_with("edge ") {
                    // `edge <id> (<region>): <http url> (HTTPS and HTTP/3: <https url>; …)`
                    let url = line
                        .split_whitespace()
                        .find(|w| w.starts_with("http://"))
                        .unwrap_or_default();
                    edges.push(url.to_string());
                } else if line.starts_with("Press Ctrl-C") {
                    return;
                }
            }
        };
        if tokio::time::timeout(UP_TIMEOUT, read).await.is_err() {
            panic!(
                "`marquee up` printed no summary within {UP_TIMEOUT:?}: {}",
                self.stderr()
            );
        }
        Summary {
            origin: origin.unwrap_or_else(|| panic!("no origin URL; stderr: {}", self.stderr())),
            control_plane: cp.expect("control-plane URL"),
            edges,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id().expect("pid")).expect("pid fits"))
    }

    /// Waits for `up` to exit and for its last stderr lines to be read.
    async fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait"),
            Err(_) => panic!("`marquee up` did not exit within {limit:?}"),
        };
        if let Some(reader) = self.stderr_read.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), reader).await;
        }
        status
    }
}

struct Summary {
    origin: String,
    control_plane: String,
    edges: Vec<String>,
}

/// The operator's client `marquee up` issued a certificate for: the control-plane answers
/// mutual TLS only.
fn operator(state: &std::path::Path) -> reqwest::Client {
    let files = marquee_tls::TlsFiles::in_dir(
        state.join("certs"),
        state.join("ca").join("ca.pem"),
        marquee_tls::Service::Operator,
        marquee_deploy::pki::OPERATOR_ID,
    );
    marquee_deploy::pki::control_plane_client(&files).expect("operator client")
}

async fn healthz(http: &reqwest::Client, url: &str) -> bool {
    match http.get(format!("{url}/healthz")).send().await {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

/// Child processes of `pid` whose command line contains `program`. A process's children are
/// listed per thread, and tokio spawns from any worker thread, so read every task's list.
fn children_named(pid: Pid, program: &str) -> Vec<Pid> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc task dir");
    let mut pids: Vec<i32> = Vec::new();
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        pids.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
    }
    pids.into_iter()
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(program))
                .unwrap_or(false)
        })
        .map(Pid::from_raw)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_runs_the_world_and_stops_cleanly() {
    require_siblings();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");

    let mut up = Up::start(&state, &["--no-seed", "--port", "0"]);
    let world = up.summary().await;
    assert_eq!(world.edges.len(), 2, "two edges in the summary");
    for url in [&world.origin, &world.edges[0], &world.edges[1]] {
        assert!(healthz(&http, url).await, "{url}/healthz should answer 200");
    }
    // One host for the viewer: each edge serves origin's API and app too (filled over the
    // services listener's mutual TLS).
    for edge in &world.edges {
        let titles = http
            .get(format!("{edge}/api/v1/titles"))
            .send()
            .await
            .expect("API through the edge");
        assert_eq!(titles.status(), 200, "{edge}/api/v1/titles");
        let titles: serde_json::Value = titles.json().await.expect("titles JSON");
        assert!(titles["titles"].is_array(), "{titles}");
        let page = http.get(format!("{edge}/")).send().await.expect("app page");
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap_or_default();
        assert!(html.contains("Marquee"), "{html:.200}");
    }
    let operator = operator(&state);
    assert!(world.control_plane.starts_with("https://"));
    assert!(healthz(&operator, &world.control_plane).await);
    assert!(
        !healthz(&http, &world.control_plane).await,
        "the control-plane serves only clients with a certificate of the deployment"
    );

    // Both edges register with the control-plane through their heartbeats.
    let mut registered = String::new();
    for _ in 0..40 {
        registered = operator
            .get(format!("{}/v1/edges", world.control_plane))
            .send()
            .await
            .expect("GET /v1/edges")
            .text()
            .await
            .unwrap_or_default();
        if registered.contains("edge-eu-west-1") && registered.contains("edge-us-east-1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        registered.contains("edge-eu-west-1") && registered.contains("edge-us-east-1"),
        "control-plane should know both edges: {registered}"
    );

    // The operator's commands find the local world's control-plane by themselves.
    let edge_cmd = |args: &[&str]| {
        let out = std::process::Command::new(marquee())
            .arg("edge")
            .args(args)
            .arg("--state-dir")
            .arg(&state)
            .output()
            .expect("marquee edge");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "marquee edge {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let listed = edge_cmd(&["list"]);
    assert!(listed.starts_with("EDGE"), "{listed}");
    assert_eq!(listed.matches("serving").count(), 2, "{listed}");
    assert!(edge_cmd(&["drain", "edge-eu-west-1"]).contains("drained"));
    let listed = edge_cmd(&["list"]);
    let eu = listed
        .lines()
        .find(|l| l.starts_with("edge-eu-west-1"))
        .expect("eu edge listed");
    assert!(eu.contains("drained"), "{listed}");
    assert!(edge_cmd(&["restore", "edge-eu-west-1"]).contains("restored"));

    let password_file = state.join("admin-password");
    let password = std::fs::read_to_string(&password_file).expect("admin-password written");
    assert!(password.trim().len() >= 16);

    kill(up.pid(), Signal::SIGINT).expect("SIGINT");
    let status = up.wait(Duration::from_secs(40)).await;
    assert!(
        status.success(),
        "exit after SIGINT: {status}; stderr: {}",
        up.stderr()
    );
    for url in [&world.origin, &world.edges[0], &world.edges[1]] {
        assert!(!healthz(&http, url).await, "{url} still answers after stop");
    }
    assert!(!healthz(&operator, &world.control_plane).await);

    // Second run on the same state: same admin password (sign-in works, else `up` fails).
    // A dead edge keeps the world up (its viewers are steered to the other edge); a dead
    // control-plane fails `up` and names it.
    let mut up = Up::start(&state, &["--no-seed", "--port", "0"]);
    let world = up.summary().await;
    assert_eq!(
        std::fs::read_to_string(&password_file).expect("password"),
        password,
        "state reuse keeps the admin password"
    );
    let edges = children_named(up.pid(), "marquee-edge");
    assert_eq!(edges.len(), 2, "two edge processes under marquee up");
    kill(edges[0], Signal::SIGKILL).expect("kill edge");
    let mut reported = false;
    for _ in 0..80 {
        if up
            .stderr()
            .contains("exited; viewers are steered to the other edges")
        {
            reported = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(reported, "up should report the dead edge: {}", up.stderr());
    assert!(
        healthz(&http, &world.origin).await,
        "origin goes on without an edge"
    );
    let mut survivors = 0;
    for edge in &world.edges {
        if healthz(&http, edge).await {
            survivors += 1;
        }
    }
    assert_eq!(survivors, 1, "exactly the killed edge is gone");

    let control_plane = children_named(up.pid(), "marquee-control-plane");
    assert_eq!(control_plane.len(), 1, "one control-plane under marquee up");
    kill(control_plane[0], Signal::SIGKILL).expect("kill control-plane");
    let status = up.wait(Duration::from_secs(40)).await;
    assert!(!status.success(), "a dead control-plane must fail `up`");
    let stderr = up.stderr();
    assert!(
        stderr.contains("exited unexpectedly") && stderr.contains("control-plane"),
        "stderr should name the dead control-plane: {stderr}"
    );
    assert!(!healthz(&http, &world.origin).await, "origin stopped too");
}

#[tokio::test]
async fn up_without_service_binaries_says_how_to_build_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("bin");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let out = Command::new(marquee())
        .args(["up", "--no-seed", "--port", "0", "--bin-dir"])
        .arg(&empty)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .output()
        .await
        .expect("run marquee");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("marquee-origin"), "{stderr}");
    assert!(stderr.contains("cargo build --release --bins"), "{stderr}");
}

/// Seeding through the real origin API: two demo titles become `ready` with posters and
/// packaged media, and a second pass finds them in place and uploads nothing (state reuse).
async fn signed_in_client(origin: &str, email: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let resp = client
        .post(format!("{origin}/api/v1/sessions"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("sign in");
    assert!(resp.status().is_success(), "sign in: {}", resp.status());
    client
}

/// The DASH URL origin's playback answer gives; retried while no edge has registered yet (503).
async fn playback_dash_url(client: &reqwest::Client, origin: &str, title_id: &str) -> String {
    let url = format!("{origin}/api/v1/titles/{title_id}/playback");
    for _ in 0..40 {
        let resp = client
            .post(&url)
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("playback");
        if resp.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        assert!(resp.status().is_success(), "playback: {}", resp.status());
        let answer: serde_json::Value = resp.json().await.expect("playback json");
        return answer["dash_url"].as_str().expect("dash_url").to_owned();
    }
    panic!("no edge registered for playback within 10 s");
}

/// The key id a playback URL's token was signed with.
fn token_kid(media_url: &str) -> String {
    use base64::Engine;
    use prost::Message;
    let token = media_url
        .split("/t/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a /t/<token>/ URL");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .expect("base64url token");
    let signed = marquee_proto::v1::SignedToken::decode(raw.as_slice()).expect("signed token");
    marquee_proto::v1::PlaybackClaims::decode(signed.claims.as_slice())
        .expect("claims")
        .kid
}

/// An admin rotates the playback-token key: both edges hold the new key before origin signs
/// with it, a token handed out before still plays, and new tokens carry the new key.
async fn rotate_the_token_key(admin: &reqwest::Client, origin: &str, title_id: &str) {
    let before = playback_dash_url(admin, origin, title_id).await;
    let resp = admin
        .post(format!("{origin}/api/v1/admin/token-keys/rotate"))
        .send()
        .await
        .expect("rotate");
    assert_eq!(
        resp.status(),
        200,
        "rotate: {}",
        resp.text().await.unwrap_or_default()
    );
    let rotation: serde_json::Value = resp.json().await.expect("rotation json");
    assert_eq!(
        rotation["edges"].as_array().map(Vec::len),
        Some(2),
        "{rotation}"
    );
    assert_eq!(
        token_kid(&before),
        rotation["previous_kid"].as_str().unwrap_or_default()
    );
    let after = playback_dash_url(admin, origin, title_id).await;
    assert_eq!(
        token_kid(&after),
        rotation["kid"].as_str().unwrap_or_default()
    );
    let http = reqwest::Client::new();
    for url in [&before, &after] {
        let resp = http.get(url).send().await.expect("manifest");
        assert_eq!(resp.status(), 200, "{url}");
    }
    let keys: serde_json::Value = admin
        .get(format!("{origin}/api/v1/admin/token-keys"))
        .send()
        .await
        .expect("keys")
        .json()
        .await
        .expect("keys json");
    assert_eq!(keys["keys"][0]["kid"], rotation["kid"], "{keys}");
    assert_eq!(keys["keys"][0]["active"], true, "{keys}");
    assert_eq!(keys["keys"][1]["kid"], rotation["previous_kid"], "{keys}");
    assert_eq!(
        keys["keys"][1]["retire_at"], rotation["previous_valid_until"],
        "{keys}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_makes_titles_playable_and_is_idempotent() {
    use marquee_deploy::api::Api;
    use marquee_deploy::catalogue::{DEMO_SERIES, DEMO_TITLES, LONG_FILMS};
    use marquee_deploy::seed::{SeedReport, seed};
    use marquee_deploy::state::{ADMIN_EMAIL, StateDir};

    require_siblings();
    let dir = tempfile::tempdir().expect("tempdir");
    let state_path = dir.path().join("state");
    let mut up = Up::start(&state_path, &["--no-seed", "--port", "0"]);
    let world = up.summary().await;

    let state = StateDir::open(&state_path).expect("state");
    let (password, new) = state.admin_password().expect("password");
    assert!(!new, "marquee up must have created the admin password");
    let api = Api::new(&world.origin).expect("client");
    let account = api
        .sign_in(ADMIN_EMAIL, &password)
        .await
        .expect("admin signs in");
    assert!(account.is_admin);

    let viewer = signed_in_client(&world.origin, ADMIN_EMAIL, &password).await;

    // A short film and a series with one pilot: the long clips and planned seasons are the
    // browser test's to package.
    let short_film = DEMO_TITLES
        .iter()
        .find(|t| t.kind == "film" && !LONG_FILMS.iter().any(|f| f.title == t.name));
    let pilot_series = DEMO_TITLES
        .iter()
        .find(|t| t.kind == "series" && !DEMO_SERIES.iter().any(|s| s.title == t.name));
    let titles: Vec<_> = [short_film, pilot_series]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    assert_eq!(titles.len(), 2);
    let titles = titles.as_slice();
    let first = seed(&api, &state, titles, 2).await.expect("seed");
    assert_eq!(
        first,
        SeedReport {
            created: 2,
            uploaded: 2,
            already_ready: 0
        }
    );
    let listed = api.titles().await.expect("titles");
    let http = reqwest::Client::new();
    for demo in titles {
        let title = listed
            .iter()
            .find(|t| t.name == demo.name)
            .unwrap_or_else(|| panic!("{} not listed", demo.name));
        // A series is ready once its episode is.
        assert_eq!(title.state, "ready", "{}", demo.name);
        let poster = title.poster_url.as_deref().expect("poster_url");
        let svg = http
            .get(format!("{}{poster}", world.origin))
            .send()
            .await
            .expect("poster")
            .text()
            .await
            .expect("poster body");
        assert!(svg.starts_with("<svg"), "{svg:.80}");
        // Playable the way a viewer plays: a playback answer, then the manifest via an edge.
        let dash_url = playback_dash_url(&viewer, &world.origin, &title.id).await;
        let manifest = http.get(&dash_url).send().await.expect("manifest");
        assert!(manifest.status().is_success(), "{} manifest", demo.name);
        let mpd = manifest.text().await.expect("manifest body");
        assert!(mpd.contains("<MPD"), "{} manifest: {mpd:.80}", demo.name);
    }

    rotate_the_token_key(&viewer, &world.origin, &listed[0].id).await;

    let again = seed(&api, &state, titles, 2).await.expect("reseed");
    assert_eq!(
        again,
        SeedReport {
            created: 0,
            uploaded: 0,
            already_ready: 2
        }
    );
    assert_eq!(
        api.titles().await.expect("titles").len(),
        2,
        "no duplicates"
    );

    kill(up.pid(), Signal::SIGINT).expect("SIGINT");
    assert!(up.wait(Duration::from_secs(40)).await.success());
}

/// Whether `pid` is still a live process (not gone, not a zombie waiting to be reaped).
fn is_alive(pid: Pid) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state letter follows the parenthesised command name.
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_stop_when_up_is_killed() {
    require_siblings();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut up = Up::start(&dir.path().join("state"), &["--no-seed", "--port", "0"]);
    let world = up.summary().await;
    let services: Vec<Pid> = ["marquee-origin", "marquee-control-plane", "marquee-edge"]
        .into_iter()
        .flat_map(|program| children_named(up.pid(), program))
        .collect();
    assert_eq!(services.len(), 4, "origin, control-plane and two edges");

    // SIGKILL leaves `marquee up` no chance to stop anything itself.
    kill(up.pid(), Signal::SIGKILL).expect("SIGKILL");
    up.wait(Duration::from_secs(10)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while services.iter().any(|p| is_alive(*p)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let survivors: Vec<Pid> = services.into_iter().filter(|p| is_alive(*p)).collect();
    for pid in &survivors {
        let _ = kill(*pid, Signal::SIGKILL);
    }
    assert!(
        survivors.is_empty(),
        "services outlived a killed `marquee up`: {survivors:?}"
    );
    let http = reqwest::Client::new();
    for url in [&world.origin, &world.edges[0]] {
        assert!(!healthz(&http, url).await, "{url} still answers");
    }
    let operator = operator(&dir.path().join("state"));
    assert!(!healthz(&operator, &world.control_plane).await);
}

/// `marquee up --origin-nodes 3`: a 3-node origin cluster behind one URL. `marquee cluster
/// status` lists the nodes; a title seeded through the front door plays through an edge; after
/// one origin node is killed outright, `up` keeps running, the front door still answers (web
/// app and API, writes included) and edges fill the next playback from the other nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_origin_nodes_keep_the_world_up_when_one_is_killed() {
    use marquee_deploy::api::Api;
    use marquee_deploy::catalogue::{DEMO_TITLES, LONG_FILMS};
    use marquee_deploy::seed::seed;
    use marquee_deploy::state::{ADMIN_EMAIL, StateDir};

    require_siblings();
    let dir = tempfile::tempdir().expect("tempdir");
    let state_path = dir.path().join("state");
    let mut up = Up::start(
        &state_path,
        &["--no-seed", "--port", "0", "--origin-nodes", "3"],
    );
    let world = up.summary().await;
    let state = StateDir::open(&state_path).expect("state");
    let (password, _) = state.admin_password().expect("password");

    let status = std::process::Command::new(marquee())
        .args([
            "cluster",
            "--origin",
            &world.origin,
            "--admin-password-file",
        ])
        .arg(state.admin_password_file())
        .arg("status")
        .output()
        .expect("marquee cluster status");
    let table = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        status.status.success(),
        "{table}{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let roles: Vec<&str> = table
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(
        roles.iter().filter(|r| **r == "leader").count(),
        1,
        "{table}"
    );
    assert_eq!(
        roles.iter().filter(|r| **r == "follower").count(),
        2,
        "{table}"
    );

    let api = Api::new(&world.origin).expect("client");
    api.sign_in(ADMIN_EMAIL, &password).await.expect("admin");
    // A short film (the long ones are the browser test's to package).
    let short: Vec<_> = DEMO_TITLES
        .iter()
        .filter(|t| t.kind == "film" && !LONG_FILMS.iter().any(|f| f.title == t.name))
        .take(1)
        .copied()
        .collect();
    seed(&api, &state, &short, 2).await.expect("seed");
    let title = api.titles().await.expect("titles").remove(0);
    assert_eq!(title.state, "ready");
    let viewer = signed_in_client(&world.origin, ADMIN_EMAIL, &password).await;
    let http = reqwest::Client::new();
    let dash_url = playback_dash_url(&viewer, &world.origin, &title.id).await;
    assert!(
        http.get(&dash_url)
            .send()
            .await
            .expect("mpd")
            .status()
            .is_success()
    );

    // Kill node 1 (the one that formed the cluster) outright.
    let node1 = format!("{}\0", state.origin_dir().display());
    let origins = children_named(up.pid(), "marquee-origin");
    assert_eq!(origins.len(), 3, "three origin nodes run");
    let victim = origins
        .into_iter()
        .find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&node1))
                .unwrap_or(false)
        })
        .expect("node 1's process");
    kill(victim, Signal::SIGKILL).expect("SIGKILL node 1");

    // The front door, the API (a write: signing in again) and the web app still answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let viewer = loop {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let signed = client
            .post(format!("{}/api/v1/sessions", world.origin))
            .json(&serde_json::json!({ "email": ADMIN_EMAIL, "password": password }))
            .send()
            .await;
        if signed.is_ok_and(|r| r.status().is_success()) {
            break client;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sign-in after the kill"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let page = http.get(&world.origin).send().await.expect("web app");
    assert!(page.status().is_success(), "web app: {}", page.status());
    // A fresh playback (new token, new URL) fills through an edge from the surviving nodes.
    let dash_url = playback_dash_url(&viewer, &world.origin, &title.id).await;
    let hls_url = dash_url.replace("manifest.mpd", "master.m3u8");
    let hls = http.get(&hls_url).send().await.expect("hls master");
    assert!(
        hls.status().is_success(),
        "HLS master after the kill: {}",
        hls.status()
    );
    assert!(hls.text().await.expect("body").contains("#EXTM3U"));
    assert!(
        up.stderr().contains("origin-1 exited"),
        "up reports the dead node: {}",
        up.stderr()
    );

    kill(up.pid(), Signal::SIGINT).expect("SIGINT");
    assert!(up.wait(Duration::from_secs(40)).await.success());
}
