//! HTTP/3 for viewers: quinn + h3 on the HTTPS port number over UDP.
//!
//! Each HTTP/3 request is handed to this edge's own Pingora proxy over a private Unix socket
//! (HTTP/2 with prior knowledge, one multiplexed connection), so HTTP/3 answers come from the
//! same cache, with the same token checks, metrics and logs as HTTP/1.1 and HTTP/2. Pingora
//! 0.9 has no HTTP/3 of its own; the hop is a local socket, not the network.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use marquee_tls::{ClientAuth, Tls};
use tokio::sync::{Mutex, watch};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BridgeBody = BoxBody<Bytes, BoxError>;

/// Request bodies (API calls through the edge) are streamed in chunks of at most this many
/// buffered frames.
const BODY_BUFFER_FRAMES: usize = 8;
/// The authority Pingora sees on bridged requests (it routes by path, never by host).
const BRIDGE_AUTHORITY: &str = "http://edge.h3";
/// Header naming the viewer's address on bridged requests; the proxy believes it only from
/// the bridge's socket.
pub const CLIENT_ADDR_HEADER: &str = "x-marquee-h3-client";
/// Counter of HTTP/3 requests, by outcome.
pub const H3_REQUESTS: &str = "marquee_edge_h3_requests_total";

/// Where the bridge reaches Pingora: a Unix socket only this user may open.
pub fn bridge_socket_path() -> PathBuf {
    std::env::temp_dir().join(format!("marquee-edge-{}-h3.sock", std::process::id()))
}

/// Opens the UDP endpoint. Must run inside a tokio runtime (quinn spawns its driver there).
pub fn bind(addr: SocketAddr, tls: &Tls) -> anyhow::Result<quinn::Endpoint> {
    let mut crypto = tls.server_config(ClientAuth::None, &[b"h3"])?;
    crypto.max_early_data_size = 0;
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(crypto)?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport.max_idle_timeout(Some(Duration::from_secs(30).try_into()?));
    // Segments are megabytes: let a stream and a connection have a few in flight.
    transport.stream_receive_window(quinn::VarInt::from_u32(4 * 1024 * 1024));
    transport.send_window(32 * 1024 * 1024);
    config.transport_config(Arc::new(transport));
    Ok(quinn::Endpoint::server(config, addr)?)
}

/// One HTTP/2 connection to Pingora, reopened when it closes. Requests read it without a lock;
/// only reopening takes one.
pub struct Bridge {
    socket: PathBuf,
    current: arc_swap::ArcSwapOption<SendRequest<BridgeBody>>,
    reconnect: Mutex<()>,
}

impl Bridge {
    pub fn new(socket: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            socket,
            current: arc_swap::ArcSwapOption::empty(),
            reconnect: Mutex::new(()),
        })
    }

    fn open(&self) -> Option<SendRequest<BridgeBody>> {
        let current = self.current.load();
        current.as_deref().filter(|s| !s.is_closed()).cloned()
    }

    async fn sender(&self) -> anyhow::Result<SendRequest<BridgeBody>> {
        if let Some(sender) = self.open() {
            return Ok(sender);
        }
        let _reconnecting = self.reconnect.lock().await;
        // Another request may have reopened it while this one waited.
        if let Some(sender) = self.open() {
            return Ok(sender);
        }
        let stream = tokio::net::UnixStream::connect(&self.socket).await?;
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .initial_stream_window_size(4 * 1024 * 1024)
            .initial_connection_window_size(32 * 1024 * 1024)
            .max_concurrent_reset_streams(1024)
            .handshake(TokioIo::new(stream))
            .await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "HTTP/3 bridge connection ended");
            }
        });
        self.current.store(Some(Arc::new(sender.clone())));
        Ok(sender)
    }

    async fn send(&self, req: Request<BridgeBody>) -> anyhow::Result<Response<Incoming>> {
        let mut sender = self.sender().await?;
        sender.ready().await?;
        Ok(sender.send_request(req).await?)
    }
}

/// Accepts HTTP/3 connections until `shutdown` turns true.
pub async fn serve(
    endpoint: quinn::Endpoint,
    bridge: Arc<Bridge>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let incoming = tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(i) => i,
                None => break,
            },
            _ = shutdown.changed() => break,
        };
        let bridge = bridge.clone();
        tokio::spawn(async move {
            let remote = incoming.remote_address();
            match incoming.await {
                Ok(conn) => serve_connection(conn, remote, bridge).await,
                Err(e) => tracing::debug!(%remote, error = %e, "QUIC handshake failed"),
            }
        });
    }
    endpoint.close(quinn::VarInt::from_u32(0), b"edge shutting down");
}

async fn serve_connection(conn: quinn::Connection, remote: SocketAddr, bridge: Arc<Bridge>) {
    let mut h3 =
        match h3::server::Connection::<_, Bytes>::new(h3_quinn::Connection::new(conn)).await {
            Ok(h3) => h3,
            Err(e) => {
                tracing::debug!(%remote, error = %e, "HTTP/3 connection setup failed");
                return;
            }
        };
    loop {
        match h3.accept().await {
            Ok(Some(resolver)) => {
                let bridge = bridge.clone();
                tokio::spawn(async move {
                    match resolver.resolve_request().await {
                        Ok((req, stream)) => serve_request(req, stream, remote, &bridge).await,
                        Err(e) => tracing::debug!(%remote, error = %e, "bad HTTP/3 request"),
                    }
                });
            }
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(%remote, error = %e, "HTTP/3 connection ended");
                break;
            }
        }
    }
}

type Stream = h3::server::RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>;

async fn serve_request(req: Request<()>, stream: Stream, remote: SocketAddr, bridge: &Bridge) {
    let (mut send, recv) = stream.split();
    let outcome = match forward(req, recv, remote, bridge).await {
        Ok(resp) => relay(resp, &mut send).await.map(|()| "ok"),
        Err(e) => {
            tracing::warn!(%remote, error = %e, "HTTP/3 request could not reach the proxy");
            bad_gateway(&mut send).await.map(|()| "bridge_error")
        }
    };
    let outcome = outcome.unwrap_or_else(|e| {
        tracing::debug!(%remote, error = %e, "HTTP/3 response not delivered");
        "client_gone"
    });
    metrics::counter!(H3_REQUESTS, "outcome" => outcome).increment(1);
}

/// Rebuilds the request for the bridge: same method, path and headers, the viewer's address,
/// and the body streamed as it arrives.
async fn forward(
    req: Request<()>,
    mut recv: h3::server::RequestStream<h3_quinn::RecvStream, Bytes>,
    remote: SocketAddr,
    bridge: &Bridge,
) -> anyhow::Result<Response<Incoming>> {
    let (mut parts, ()) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("{BRIDGE_AUTHORITY}{path}").parse()?;
    parts.headers.remove(CLIENT_ADDR_HEADER);
    parts
        .headers
        .insert(CLIENT_ADDR_HEADER, remote.to_string().parse()?);
    let bodiless = matches!(parts.method, http::Method::GET | http::Method::HEAD);
    let body: BridgeBody = if bodiless {
        Empty::new().map_err(|e| match e {}).boxed()
    } else {
        let (mut tx, body) =
            http_body_util::channel::Channel::<Bytes, BoxError>::new(BODY_BUFFER_FRAMES);
        tokio::spawn(async move {
            loop {
                match recv.recv_data().await {
                    Ok(Some(mut chunk)) => {
                        let bytes = chunk.copy_to_bytes(chunk.remaining());
                        if tx.send_data(bytes).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        tx.abort(Box::new(e));
                        return;
                    }
                }
            }
        });
        body.boxed()
    };
    bridge.send(Request::from_parts(parts, body)).await
}

async fn relay(
    resp: Response<Incoming>,
    send: &mut h3::server::RequestStream<h3_quinn::SendStream<Bytes>, Bytes>,
) -> anyhow::Result<()> {
    let (parts, mut body) = resp.into_parts();
    send.send_response(Response::from_parts(parts, ())).await?;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            send.send_data(data).await?;
        }
    }
    send.finish().await?;
    Ok(())
}

async fn bad_gateway(
    send: &mut h3::server::RequestStream<h3_quinn::SendStream<Bytes>, Bytes>,
) -> anyhow::Result<()> {
    let body = Bytes::from_static(
        br#"{"error":{"code":"edge_unavailable","message":"the edge could not serve this request over HTTP/3; try again"}}"#,
    );
    let resp = Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CONTENT_LENGTH, body.len())
        .body(())?;
    send.send_response(resp).await?;
    send.send_data(body).await?;
    send.finish().await?;
    Ok(())
}
