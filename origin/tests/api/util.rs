//! Spawning real processes and talking to them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const PASSWORD: &str = "correct horse battery";

/// A running child process that prints `… listening on http://ADDR` once ready.
pub struct Proc {
    child: Child,
    pub base: String,
    pub log: PathBuf,
    /// Everything the process printed on stdout so far.
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Proc {
    pub fn spawn(bin: &Path, args: &[String], log: PathBuf) -> Proc {
        let stderr = std::fs::File::create(&log).expect("create log file");
        let mut child = Command::new(bin)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some((_, url)) = line.split_once(" listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                seen.lock().unwrap().push(line);
            }
        });
        match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(base) => Proc {
                child,
                base,
                log,
                stdout: lines,
            },
            Err(_) => {
                let _ = child.kill();
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!(
                    "{} did not print its listening line in time; stderr:\n{log_text}",
                    bin.display()
                );
            }
        }
    }

    /// SIGINT, then wait for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                assert!(
                    status.success(),
                    "process exited with {status} on SIGINT; stderr:\n{log}"
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "process did not stop within 30 s of SIGINT"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: a crash, no chance to clean up.
    pub fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What follows `marker` on the first stdout line that has it.
    pub fn printed_after(&self, marker: &str) -> Option<String> {
        let lines = self.stdout.lock().unwrap();
        lines
            .iter()
            .find_map(|l| l.split_once(marker).map(|(_, rest)| rest.trim().to_owned()))
    }

    /// Runs `bin` expecting it to fail: waits for its exit and returns its status and stderr.
    pub fn run_to_failure(bin: &Path, args: &[String], log: PathBuf) -> (i32, String) {
        let stderr = std::fs::File::create(&log).expect("create log file");
        let mut child = Command::new(bin)
            .args(args)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{} kept running; it was expected to fail", bin.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (status.code().unwrap_or(-1), text)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `marquee-origin` on port 0 with `data` as its data dir and `admin@example.com` as admin.
pub fn start_origin(data: &Path, extra: &[&str]) -> Proc {
    let (args, log) = origin_args(data, extra);
    Proc::spawn(Path::new(env!("CARGO_BIN_EXE_marquee-origin")), &args, log)
}

/// Runs `marquee-origin` expecting it to refuse to start; its exit code and stderr.
pub fn origin_fails(data: &Path, extra: &[&str]) -> (i32, String) {
    let (args, log) = origin_args(data, extra);
    Proc::run_to_failure(Path::new(env!("CARGO_BIN_EXE_marquee-origin")), &args, log)
}

fn origin_args(data: &Path, extra: &[&str]) -> (Vec<String>, PathBuf) {
    let mut args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--admin-email",
        ADMIN_EMAIL,
        "--data-dir",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(data.display().to_string());
    if !extra.contains(&"--web-dir") {
        args.extend([
            "--web-dir".into(),
            data.join("no-web-app").display().to_string(),
        ]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let log = data.with_extension(format!("stderr-{}.log", std::process::id()));
    (args, log)
}

/// An HTTP client that keeps the session cookie, like a browser.
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    pub cookie: Option<String>,
    /// Sent as `X-Forwarded-For`, as a proxy in front would: where the viewer seems to be.
    pub forwarded_for: Option<String>,
    /// Sent as `User-Agent`: the device the viewer seems to use.
    pub user_agent: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_owned(),
            http: reqwest::Client::new(),
            cookie: None,
            forwarded_for: None,
            user_agent: None,
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, format!("marquee_session={c}"));
        }
        if let Some(ip) = &self.forwarded_for {
            req = req.header("x-forwarded-for", ip);
        }
        if let Some(agent) = &self.user_agent {
            req = req.header(reqwest::header::USER_AGENT, agent);
        }
        if let Some((ctype, bytes)) = body {
            if !ctype.is_empty() {
                req = req.header(CONTENT_TYPE, ctype);
            }
            req = req.body(bytes);
        }
        let resp = req.send().await.expect("request failed");
        for v in resp.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap_or("");
            if let Some(rest) = v.strip_prefix("marquee_session=") {
                let token = rest.split(';').next().unwrap_or("");
                self.cookie = (!token.is_empty()).then(|| token.to_owned());
            }
        }
        resp
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Response {
        self.json(Method::POST, path, body).await
    }

    pub async fn patch(&mut self, path: &str, body: Value) -> Response {
        self.json(Method::PATCH, path, body).await
    }

    async fn json(&mut self, method: Method, path: &str, body: Value) -> Response {
        let bytes = body.to_string().into_bytes();
        self.send(method, path, Some(("application/json", bytes)))
            .await
    }

    pub async fn delete(&mut self, path: &str) -> Response {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn put(&mut self, path: &str, ctype: &str, bytes: Vec<u8>) -> Response {
        self.send(Method::PUT, path, Some((ctype, bytes))).await
    }
}

/// Asserts the status and returns the JSON body.
pub async fn expect(resp: Response, status: StatusCode) -> Value {
    let got = resp.status();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(got, status, "body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// Asserts an error answer: status and `{"error":{"code":…,"message":…}}`.
pub async fn expect_error(resp: Response, status: StatusCode, code: &str) {
    let body = expect(resp, status).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// Origin's Prometheus text, after checking it has every line in `needles`.
pub async fn metrics_with(base: &str, needles: &[&str]) -> String {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in needles {
        assert!(
            metrics.contains(needle),
            "metrics lack {needle}:\n{metrics}"
        );
    }
    metrics
}

pub async fn sign_up(client: &mut Client, email: &str) -> Value {
    let body = json!({"email": email, "password": PASSWORD, "display_name": "Tester"});
    expect(
        client.post("/api/v1/accounts", body).await,
        StatusCode::CREATED,
    )
    .await
}

pub fn new_title(name: &str) -> Value {
    json!({"name": name, "synopsis": "A test pattern and a tone.", "year": 2024,
           "genres": ["test"], "maturity_rating": "G", "kind": "film"})
}

/// A ~6 s H.264/AAC clip made by ffmpeg (test pattern and a sine tone).
pub fn make_video(dir: &Path) -> Vec<u8> {
    make_clip(dir, 6)
}

/// A `secs`-long H.264/AAC clip made by ffmpeg.
pub fn make_clip(dir: &Path, secs: u32) -> Vec<u8> {
    let out = dir.join(format!("clip-{secs}.mp4"));
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size=640x360:rate=30:duration={secs}"),
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:duration={secs}"),
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg must be installed (apt-get install -y ffmpeg)");
    assert!(status.success(), "ffmpeg failed to make the test clip");
    std::fs::read(&out).expect("read clip")
}

/// Signs up the admin, creates a title, uploads a clip and waits until it is ready.
/// Returns the admin client and the title id.
pub async fn ready_title(base: &str, dir: &Path) -> (Client, String) {
    let mut admin = Client::new(base);
    let account = sign_up(&mut admin, ADMIN_EMAIL).await;
    assert_eq!(account["is_admin"], true, "{account}");
    let title = expect(
        admin
            .post("/api/v1/admin/titles", new_title("Test Pattern"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = title["id"].as_str().expect("title id").to_owned();
    let video = make_video(dir);
    let job = expect(
        admin
            .put(
                &format!("/api/v1/admin/titles/{id}/video"),
                "video/mp4",
                video,
            )
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(job["state"], "queued", "{job}");
    wait_for_job(&mut admin, &id).await;
    (admin, id)
}

/// Polls the title's job until it succeeded; fails on `failed` or after 4 minutes.
pub async fn wait_for_job(admin: &mut Client, id: &str) -> Value {
    wait_for_job_at(admin, &format!("/api/v1/admin/titles/{id}/job")).await
}

/// Polls the job at `path` until it succeeded; fails on `failed` or after 4 minutes.
pub async fn wait_for_job_at(admin: &mut Client, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut seen = Vec::new();
    loop {
        let job = expect(admin.get(path).await, StatusCode::OK).await;
        let state = job["state"].as_str().unwrap_or("").to_owned();
        seen.push(format!("{}:{}", job["stage"], job["progress"]));
        match state.as_str() {
            "succeeded" => return job,
            "failed" => panic!("packaging failed: {job}"),
            _ => assert!(
                Instant::now() < deadline,
                "job not done in time; progress seen: {seen:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Chooses `profile` (a profile's JSON) for `c`'s session.
pub async fn choose(c: &mut Client, profile: &Value) {
    let body = json!({"profile_id": profile["id"]})
        .to_string()
        .into_bytes();
    let resp = c
        .put("/api/v1/sessions/current/profile", "application/json", body)
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{}",
        resp.text().await.unwrap()
    );
}

/// A tool the tests drive, from `env_var` (set by deploy/test.sh, which installs it) or PATH;
/// panics saying how to install it (`hint`) when it is neither.
pub fn installed_tool(env_var: &str, name: &str, hint: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        return p.into();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("{name} is not installed: run deploy/test.sh (it installs it), or {hint}")
        })
}

/// A port free on loopback right now, for a helper server the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Saves a sandbox test card for the signed-in account; its payment method id.
pub async fn save_card(client: &mut Client, number: &str) -> String {
    let card = json!({"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"});
    let saved = expect(
        client
            .post("/api/v1/billing/sandbox/payment-methods", card)
            .await,
        StatusCode::CREATED,
    )
    .await;
    saved["id"].as_str().expect("payment method id").to_owned()
}

/// Subscribes the signed-in account to `plan` with the sandbox's always-paying test card.
pub async fn subscribe(client: &mut Client, plan: &str) -> Value {
    let pm = save_card(client, "4242 4242 4242 4242").await;
    let body = json!({"plan": plan, "payment_method": pm, "country": "US"});
    expect(
        client.post("/api/v1/subscription", body).await,
        StatusCode::CREATED,
    )
    .await
}
