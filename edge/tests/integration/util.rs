//! Test peers: a counting origin, a heartbeat receiver, and the edge child process.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use marquee_proto::token::TokenSigner;
use marquee_proto::v1::{EdgeHeartbeat, HeartbeatAck, PlaybackClaims};
use marquee_tls::ca::CaDir;
use marquee_tls::server::PeerIdentity;
use marquee_tls::{ClientAuth, Identity, Service, Tls, TlsFiles};
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
    /// Lets `/api/events` send its second event.
    events_release: Arc<tokio::sync::Notify>,
}

/// A loopback origin serving `/media/...` objects and counting fetches per path.
pub struct Origin {
    pub addr: SocketAddr,
    /// What an edge's `--origin` says: `HOST:PORT`, or `https://HOST:PORT` over mutual TLS.
    pub origin_arg: String,
    /// Over mutual TLS: each connection's client certificate (DER), in order.
    client_certs: SeenCertificates,
    state: OriginState,
    /// The accept loop and every connection's task, so [`Origin::kill`] can end them all.
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

/// Serves `app` on a free loopback port, each connection on a task listed in `tasks` (axum's
/// `serve` cannot drop open keep-alive connections, which a killed origin must).
/// Client certificates (DER) a mutual-TLS listener was shown, in order.
type SeenCertificates = Arc<Mutex<Vec<Vec<u8>>>>;

/// With `tls`, connections are mutual TLS and each client's leaf certificate is recorded.
async fn serve_on_loopback(
    app: Router,
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    tls: Option<(tokio_rustls::TlsAcceptor, SeenCertificates)>,
) -> SocketAddr {
    use tower::ServiceExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let conns = tasks.clone();
    let accept = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let app = app.clone();
            let tls = tls.clone();
            let conn = tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| app.clone().oneshot(req));
                let http = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                let Some((acceptor, seen)) = tls else {
                    let io = hyper_util::rt::TokioIo::new(tcp);
                    let _ = http.serve_connection(io, service).await;
                    return;
                };
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Some(leaf) = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                {
                    seen.lock().expect("lock").push(leaf.to_vec());
                }
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = http.serve_connection(io, service).await;
            });
            conns.lock().expect("lock").push(conn.abort_handle());
        }
    });
    tasks.lock().expect("lock").push(accept.abort_handle());
    addr
}

impl Origin {
    pub async fn start() -> Origin {
        Self::start_with(false).await
    }

    /// The origin's services listener: mutual TLS with a certificate from the test CA naming
    /// origin "origin-test" for 127.0.0.1; clients without one are refused in the handshake.
    pub async fn start_mtls() -> Origin {
        Self::start_with(true).await
    }

    async fn start_with(mtls: bool) -> Origin {
        let state = OriginState::default();
        let app = Router::new()
            .route("/media/{*rest}", get(serve_media))
            .route("/api/events", get(serve_events))
            .route("/api/{*rest}", axum::routing::any(serve_api))
            .fallback(get(serve_web))
            .with_state(state.clone());
        let tasks = Arc::default();
        let client_certs = SeenCertificates::default();
        let tls = mtls.then(|| {
            let dir = pki().dir.join("origin-test");
            let tls = Tls::load(&pki().issue(Service::Origin, "origin-test", &dir)).expect("tls");
            let config = tls
                .server_config(ClientAuth::Required, &[b"http/1.1"])
                .expect("server config");
            (
                tokio_rustls::TlsAcceptor::from(Arc::new(config)),
                client_certs.clone(),
            )
        });
        let addr = serve_on_loopback(app, Arc::clone(&tasks), tls).await;
        let origin_arg = if mtls {
            format!("https://127.0.0.1:{}", addr.port())
        } else {
            addr.to_string()
        };
        Origin {
            addr,
            origin_arg,
            client_certs,
            state,
            tasks,
        }
    }

    /// Lets a stream of `/api/events` send its second event.
    pub fn release_event(&self) {
        self.state.events_release.notify_one();
    }

    /// The client certificates (DER) the connections so far presented (mutual TLS only).
    pub fn client_certificates(&self) -> Vec<Vec<u8>> {
        self.client_certs.lock().expect("lock").clone()
    }

    /// Origin dies: the listener closes and every open connection is dropped.
    pub fn kill(&self) {
        for task in self.tasks.lock().expect("lock").drain(..) {
            task.abort();
        }
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

fn count(state: &OriginState, path: &str) {
    *state
        .fetches
        .lock()
        .expect("lock")
        .entry(path.to_owned())
        .or_default() += 1;
}

/// `/api/...`: echoes what it was asked as JSON and sets a cookie, as origin's API would.
async fn serve_api(
    State(state): State<OriginState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    count(&state, uri.path());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let echo = serde_json::json!({
        "method": method.as_str(),
        "path_and_query": uri.path_and_query().map(|p| p.as_str()).unwrap_or(""),
        "body_len": body.len(),
        "cookie": header("cookie"),
        "x_forwarded_for": header("x-forwarded-for"),
        "x_forwarded_proto": header("x-forwarded-proto"),
    });
    (
        [(header::SET_COOKIE, "marquee_session=abc; Path=/; HttpOnly")],
        axum::Json(echo),
    )
        .into_response()
}

/// `/api/events`: server-sent events, the second only once the test releases it, so a client
/// that reads the first before then proves nothing buffered it.
async fn serve_events(State(state): State<OriginState>) -> Response {
    count(&state, "/api/events");
    let release = state.events_release.clone();
    let stream = futures::stream::iter([0u8, 1]).then(move |i| {
        let release = release.clone();
        async move {
            if i == 1 {
                release.notified().await;
            }
            let event = if i == 0 {
                "data: one\n\n"
            } else {
                "data: two\n\n"
            };
            Ok::<_, std::io::Error>(Bytes::from_static(event.as_bytes()))
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// The web app: hashed assets kept a year, pages revalidated, as origin serves them.
async fn serve_web(State(state): State<OriginState>, uri: axum::http::Uri) -> Response {
    let path = uri.path().to_owned();
    count(&state, &path);
    let (cache_control, body) = if path.starts_with("/assets/") {
        (
            "public, max-age=31536000, immutable",
            format!("// asset {path}"),
        )
    } else {
        (
            "no-cache",
            "<!doctype html><title>Marquee</title>".to_owned(),
        )
    };
    ([(header::CACHE_CONTROL, cache_control)], body).into_response()
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
    // The length is known up front, as origin's blob store knows it: ranges can be cut from
    // the fill while it streams.
    headers.insert(header::CONTENT_LENGTH, obj.body.len().into());
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

/// The test process's deployment CA: every edge and control-plane stand-in of these tests
/// gets its certificate here.
pub struct Pki {
    pub dir: PathBuf,
    pub ca: CaDir,
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("marquee-edge-tests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ca = CaDir::new(dir.join("ca"));
        ca.init("Edge tests CA").expect("CA");
        Pki { dir, ca }
    })
}

impl Pki {
    /// Issues `service` `id` for 127.0.0.1 into `out`.
    pub fn issue(&self, service: Service, id: &str, out: &std::path::Path) -> TlsFiles {
        self.ca
            .issue(service, id, &["127.0.0.1".into()], out)
            .expect("issue");
        TlsFiles::in_dir(out, self.ca.cert_path(), service, id)
    }

    /// A client trusting this CA (a viewer: no certificate of its own).
    pub fn viewer(&self, http2_only: bool) -> reqwest::Client {
        let tls = Tls::load(&self.issue(Service::Operator, "viewer", &self.dir.join("viewer")))
            .expect("tls");
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(tls.roots())
        .with_no_client_auth();
        config.alpn_protocols = if http2_only {
            vec![b"h2".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .timeout(Duration::from_secs(30));
        if http2_only {
            builder = builder.http2_prior_knowledge();
        }
        builder.build().expect("client")
    }
}

/// Heartbeats received, each with the identity its sender's certificate named.
type Received = Arc<Mutex<Vec<(Option<Identity>, EdgeHeartbeat)>>>;

/// A loopback control-plane stand-in over mutual TLS that decodes and keeps every heartbeat
/// with the identity its sender's certificate names.
pub struct HeartbeatSink {
    pub url: String,
    received: Received,
    _dir: tempfile::TempDir,
}

impl HeartbeatSink {
    pub async fn start() -> HeartbeatSink {
        let dir = tempfile::tempdir().expect("tmp");
        let files = pki().issue(Service::ControlPlane, "cp", dir.path());
        let tls = Tls::load(&files).expect("tls");
        let config = tls
            .server_config(ClientAuth::Required, &[b"h2", b"http/1.1"])
            .expect("server config");
        let received: Received = Arc::default();
        let app = Router::new()
            .route("/v1/heartbeat", post(receive))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(marquee_tls::server::serve(
            listener,
            Arc::new(config),
            app,
            std::future::pending(),
        ));
        HeartbeatSink {
            url: format!("https://{addr}"),
            received,
            _dir: dir,
        }
    }

    pub fn received(&self) -> Vec<EdgeHeartbeat> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, hb)| hb.clone())
            .collect()
    }

    /// Who sent the heartbeats, by their certificates.
    pub fn senders(&self) -> Vec<Option<Identity>> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .map(|(who, _)| who.clone())
            .collect()
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
    State(received): State<Received>,
    Extension(peer): Extension<PeerIdentity>,
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
    received.lock().expect("lock").push((peer.0, hb));
    let ack = HeartbeatAck {
        next_heartbeat_ms: 200,
        edge_timeout_ms: 6000,
        // The version an edge starts at: no key set to fetch.
        token_keys_version: 0,
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
    /// The edge's id (and its certificate's) [default: edge-test-1].
    pub edge_id: Option<String>,
}

impl Default for EdgeOptions {
    fn default() -> Self {
        Self {
            memory_mb: 64,
            control_plane: None,
            extra: Vec::new(),
            capture_stderr: false,
            cache_dir: None,
            edge_id: None,
        }
    }
}

/// The running edge; killed when dropped.
pub struct Edge {
    pub id: String,
    /// Plain HTTP.
    pub base: String,
    /// HTTPS (TCP) and HTTP/3 (UDP) on the same port.
    pub tls_base: String,
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
    /// `origin` as `--origin` takes it: an address, or [`Origin::origin_arg`].
    pub async fn start(
        origin: impl std::fmt::Display,
        signer: &TokenSigner,
        opts: EdgeOptions,
    ) -> Edge {
        let work = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let tls_port = free_port();
        let edge_id = opts.edge_id.clone().unwrap_or_else(|| "edge-test-1".into());
        let tls = pki().issue(Service::Edge, &edge_id, &work.path().join("certs"));
        let mut cmd = Command::new(edge_binary());
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--tls-listen")
            .arg(format!("127.0.0.1:{tls_port}"))
            .arg("--tls-cert")
            .arg(&tls.cert)
            .arg("--tls-key")
            .arg(&tls.key)
            .arg("--tls-ca")
            .arg(&tls.ca)
            .arg("--origin")
            .arg(origin.to_string())
            .arg("--edge-id")
            .arg(&edge_id)
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
            id: edge_id,
            base: format!("http://127.0.0.1:{port}"),
            tls_base: format!("https://127.0.0.1:{tls_port}"),
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

    /// The edge's certificate as it is on disk now (DER).
    pub fn certificate_der(&self) -> Vec<u8> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let files = TlsFiles::in_dir(
            self.work.path().join("certs"),
            pki().ca.cert_path(),
            Service::Edge,
            &self.id,
        );
        CertificateDer::from_pem_file(&files.cert)
            .expect("cert")
            .to_vec()
    }

    /// `marquee edge add` again: a new certificate and key into the same files.
    pub fn renew_certificate(&self) {
        pki().issue(Service::Edge, &self.id, &self.work.path().join("certs"));
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

/// The real `marquee-control-plane`, built beside this test binary, with a certificate from
/// [`pki`]; killed when dropped.
pub struct RealControlPlane {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for RealControlPlane {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RealControlPlane {
    pub fn start() -> RealControlPlane {
        use std::io::BufRead;
        let exe = std::env::current_exe().expect("test exe");
        let bin = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target dir")
            .join("marquee-control-plane");
        assert!(
            bin.is_file(),
            "{} is missing: build it with `cargo build -p marquee-control-plane` first",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("tmp");
        let files = pki().issue(Service::ControlPlane, "cp", dir.path());
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--default-region", "test-region"])
            .arg("--tls-cert")
            .arg(&files.cert)
            .arg("--tls-key")
            .arg(&files.key)
            .arg("--tls-ca")
            .arg(&files.ca)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn control-plane");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let url = line
            .trim()
            .strip_prefix("marquee-control-plane listening on ")
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .to_owned();
        RealControlPlane {
            url,
            child,
            _dir: dir,
        }
    }

    /// A client of the control-plane as `service` `id`.
    pub fn client(&self, service: Service, id: &str) -> reqwest::Client {
        let out = pki().dir.join(format!("clients-{id}"));
        let tls = Tls::load(&pki().issue(service, id, &out)).expect("tls");
        let config = tls
            .client_config(Some(Service::ControlPlane), &[])
            .expect("config");
        reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .timeout(Duration::from_secs(15))
            .build()
            .expect("client")
    }
}

/// Waits until the control-plane lists every edge of `ids` (their first heartbeats arrived).
pub async fn wait_registered(cp: &RealControlPlane, ids: &[&str]) {
    let operator = cp.client(Service::Operator, "ops");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = operator
            .get(format!("{}/v1/edges", cp.url))
            .send()
            .await
            .expect("edges")
            .text()
            .await
            .unwrap_or_default();
        if ids.iter().all(|id| text.contains(id)) {
            return;
        }
        assert!(Instant::now() < deadline, "edges never registered: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
