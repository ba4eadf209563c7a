//! Test peers: a counting origin, a heartbeat receiver, and the edge child process.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use marquee_proto::token::TokenSigner;
use marquee_proto::v1::{EdgeHeartbeat, HeartbeatAck, PlaybackClaims};
use prost::Message;

pub const SEGMENT_CC: &str = "public, max-age=31536000, immutable";
pub const MANIFEST_CC: &str = "public, max-age=60";

/// Deterministic, non-repeating-looking bytes so a wrong slice or mixed objects are caught.
pub fn object_bytes(seed: &str, len: usize) -> Bytes {
    let mut x: u64 = seed.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    Bytes::from(out)
}

#[derive(Clone)]
pub struct OriginObject {
    pub body: Bytes,
    pub cache_control: Option<&'static str>,
    /// Wait before the response header.
    pub delay: Duration,
    /// Wait between the first and the second half of the body (streamed, chunked).
    pub stall: Duration,
}

#[derive(Clone, Default)]
struct OriginState {
    objects: Arc<Mutex<HashMap<String, OriginObject>>>,
    fetches: Arc<Mutex<HashMap<String, usize>>>,
    hosts: Arc<Mutex<Vec<String>>>,
    authorizations: Arc<Mutex<Vec<Option<String>>>>,
}

/// A loopback origin serving `/media/...` objects and counting fetches per path.
pub struct Origin {
    pub addr: SocketAddr,
    state: OriginState,
}

/// Serves `app` on a free loopback port for the rest of the test.
async fn serve_on_loopback(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

impl Origin {
    pub async fn start() -> Origin {
        let state = OriginState::default();
        let app = Router::new()
            .route("/media/{*rest}", get(serve_media))
            .with_state(state.clone());
        let addr = serve_on_loopback(app).await;
        Origin { addr, state }
    }

    /// Adds an object at `path` (starting with `/media/`) and returns its bytes.
    pub fn put(
        &self,
        path: &str,
        len: usize,
        cache_control: Option<&'static str>,
        delay: Duration,
    ) -> Bytes {
        let body = object_bytes(path, len);
        let obj = OriginObject {
            body: body.clone(),
            cache_control,
            delay,
            stall: Duration::ZERO,
        };
        self.state
            .objects
            .lock()
            .expect("lock")
            .insert(path.to_owned(), obj);
        body
    }

    /// Like [`Origin::put`], but origin sends half the body, stalls for `stall`, then the rest.
    pub fn put_stalling(&self, path: &str, len: usize, stall: Duration) -> Bytes {
        let body = object_bytes(path, len);
        let obj = OriginObject {
            body: body.clone(),
            cache_control: Some(SEGMENT_CC),
            delay: Duration::ZERO,
            stall,
        };
        self.state
            .objects
            .lock()
            .expect("lock")
            .insert(path.to_owned(), obj);
        body
    }

    /// How many times origin was asked for `path`.
    pub fn fetches(&self, path: &str) -> usize {
        self.state
            .fetches
            .lock()
            .expect("lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_fetches(&self) -> usize {
        self.state.fetches.lock().expect("lock").values().sum()
    }

    /// Every raw request target origin saw (path + query), to check the token never leaks.
    pub fn seen_targets(&self) -> Vec<String> {
        self.state.hosts.lock().expect("lock").clone()
    }

    /// The `Authorization` header of every request origin saw, in order.
    pub fn seen_authorizations(&self) -> Vec<Option<String>> {
        self.state.authorizations.lock().expect("lock").clone()
    }
}

async fn serve_media(
    State(state): State<OriginState>,
    Path(rest): Path<String>,
    uri: axum::http::Uri,
    request_headers: HeaderMap,
) -> Response {
    let path = format!("/media/{rest}");
    state.hosts.lock().expect("lock").push(uri.to_string());
    let authorization = request_headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().expect("ascii").to_owned());
    state
        .authorizations
        .lock()
        .expect("lock")
        .push(authorization);
    *state
        .fetches
        .lock()
        .expect("lock")
        .entry(path.clone())
        .or_default() += 1;
    let obj = state.objects.lock().expect("lock").get(&path).cloned();
    let Some(obj) = obj else {
        return (StatusCode::NOT_FOUND, "no such object").into_response();
    };
    tokio::time::sleep(obj.delay).await;
    let mut headers = HeaderMap::new();
    if let Some(cc) = obj.cache_control {
        headers.insert(header::CACHE_CONTROL, cc.parse().expect("cc"));
    }
    headers.insert(header::CONTENT_TYPE, "video/mp4".parse().expect("ct"));
    if obj.stall.is_zero() {
        return (headers, obj.body).into_response();
    }
    let half = obj.body.len() / 2;
    let (first, second) = (obj.body.slice(..half), obj.body.slice(half..));
    let stall = obj.stall;
    let stream = futures::stream::iter([0u8, 1]).then(move |i| {
        let (first, second) = (first.clone(), second.clone());
        async move {
            if i == 0 {
                Ok::<_, std::io::Error>(first)
            } else {
                tokio::time::sleep(stall).await;
                Ok(second)
            }
        }
    });
    (headers, axum::body::Body::from_stream(stream)).into_response()
}

/// A loopback control-plane stand-in that decodes and keeps every heartbeat.
pub struct HeartbeatSink {
    pub url: String,
    received: Arc<Mutex<Vec<EdgeHeartbeat>>>,
}

impl HeartbeatSink {
    pub async fn start() -> HeartbeatSink {
        let received: Arc<Mutex<Vec<EdgeHeartbeat>>> = Arc::default();
        let app = Router::new()
            .route("/v1/heartbeat", post(receive))
            .with_state(received.clone());
        let addr = serve_on_loopback(app).await;
        HeartbeatSink {
            url: format!("http://{addr}"),
            received,
        }
    }

    pub fn received(&self) -> Vec<EdgeHeartbeat> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until a heartbeat satisfies `pred`, or panics after `timeout`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&EdgeHeartbeat) -> bool,
    ) -> EdgeHeartbeat {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(hb) = self.received().into_iter().rev().find(|hb| pred(hb)) {
                return hb;
            }
            assert!(
                Instant::now() < deadline,
                "no matching heartbeat within {timeout:?}: {:?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(
    State(received): State<Arc<Mutex<Vec<EdgeHeartbeat>>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/x-protobuf")
    {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "want application/x-protobuf",
        )
            .into_response();
    }
    let Ok(hb) = EdgeHeartbeat::decode(body) else {
        return (StatusCode::BAD_REQUEST, "not an EdgeHeartbeat").into_response();
    };
    received.lock().expect("lock").push(hb);
    let ack = HeartbeatAck {
        next_heartbeat_ms: 200,
        edge_timeout_ms: 6000,
    };
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ack.encode_to_vec(),
    )
        .into_response()
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub fn signer(kid: &str) -> TokenSigner {
    TokenSigner::from_pkcs8(kid, &TokenSigner::generate_pkcs8().expect("keygen")).expect("signer")
}

/// A token for `/media/<title>/`, valid for an hour, distinct per `playback_id`.
pub fn token_for(signer: &TokenSigner, title: &str, playback_id: &str) -> String {
    signer.sign(PlaybackClaims {
        path_prefix: format!("/media/{title}/"),
        expires_at_unix: now_unix() + 3600,
        issued_at_unix: now_unix(),
        title_id: title.to_owned(),
        account_id: "acct-1".into(),
        playback_id: playback_id.to_owned(),
        ..Default::default()
    })
}

/// Options for one edge child.
pub struct EdgeOptions {
    pub memory_mb: usize,
    pub control_plane: Option<String>,
    pub extra: Vec<String>,
    /// Write the edge's stderr to a file readable with [`Edge::stderr`] instead of the test's.
    pub capture_stderr: bool,
    /// The cache folder; a fresh one per edge when `None`.
    pub cache_dir: Option<PathBuf>,
}

impl Default for EdgeOptions {
    fn default() -> Self {
        Self {
            memory_mb: 64,
            control_plane: None,
            extra: Vec::new(),
            capture_stderr: false,
            cache_dir: None,
        }
    }
}

/// The running edge; killed when dropped.
pub struct Edge {
    pub base: String,
    pub child: Child,
    work: tempfile::TempDir,
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn edge_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_marquee-edge"))
}

impl Edge {
    pub async fn start(origin: SocketAddr, signer: &TokenSigner, opts: EdgeOptions) -> Edge {
        let work = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut cmd = Command::new(edge_binary());
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--origin")
            .arg(origin.to_string())
            .arg("--edge-id")
            .arg("edge-test-1")
            .arg("--region")
            .arg("test-region")
            .arg("--public-url")
            .arg(format!("http://127.0.0.1:{port}"))
            .arg("--token-public-key")
            .arg(signer.public_key_spec())
            .arg("--cache-dir")
            .arg(
                opts.cache_dir
                    .clone()
                    .unwrap_or_else(|| work.path().join("cache")),
            )
            .arg("--cache-memory-mb")
            .arg(opts.memory_mb.to_string())
            .arg("--cache-disk-mb")
            .arg("64")
            .args(&opts.extra)
            .env(
                "RUST_LOG",
                std::env::var("EDGE_TEST_LOG")
                    .unwrap_or_else(|_| "warn,pingora_cache::meta=error".into()),
            )
            .stdout(Stdio::null());
        if opts.capture_stderr {
            let log = std::fs::File::create(work.path().join("edge.log")).expect("log file");
            cmd.stderr(log);
        } else {
            cmd.stderr(Stdio::inherit());
        }
        if let Some(cp) = &opts.control_plane {
            cmd.arg("--control-plane").arg(cp);
        }
        let child = cmd.spawn().expect("spawn marquee-edge");
        let edge = Edge {
            base: format!("http://127.0.0.1:{port}"),
            child,
            work,
        };
        edge.wait_ready(Duration::from_secs(30)).await;
        edge
    }

    async fn wait_ready(&self, timeout: Duration) {
        let client = client();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "edge at {} not ready within {timeout:?}",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the edge logged so far (with `capture_stderr`).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.work.path().join("edge.log")).unwrap_or_default()
    }

    pub fn url(&self, token: &str, path: &str) -> String {
        format!("{}/t/{token}{path}", self.base)
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub fn cache_status(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("cache-status")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// GETs `url` and returns (status, Cache-Status, body).
pub async fn fetch(url: &str) -> (u16, String, Bytes) {
    let resp = client().get(url).send().await.expect("request");
    let status = resp.status().as_u16();
    let cs = cache_status(&resp);
    (status, cs, resp.bytes().await.expect("body"))
}
