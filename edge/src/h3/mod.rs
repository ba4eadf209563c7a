//! HTTP/3 for viewers: quinn + h3 on the HTTPS port number over UDP.
//!
//! Each HTTP/3 request becomes a Pingora session of its own (`session`) and is served by the
//! same proxy as HTTP/1.1 and HTTP/2: one cache, one token gate, the same metrics and logs.

mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use marquee_tls::{ClientAuth, Tls};
use pingora_core::apps::HttpServerApp;
use pingora_core::protocols::http::ServerSession;
use tokio::sync::watch;

pub use session::H3_REQUESTS;
use session::H3Session;

/// The proxy HTTP/3 requests are handed to: the edge's own, built a second time around the
/// same shared state (cache storage, token gate, origin set) for this accept loop.
pub type Proxy = pingora_proxy::HttpProxy<crate::EdgeProxy>;

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

/// Accepts HTTP/3 connections until `shutdown` turns true.
pub async fn serve(endpoint: quinn::Endpoint, proxy: Arc<Proxy>, shutdown: watch::Receiver<bool>) {
    let local = match endpoint.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            tracing::error!(error = %e, "HTTP/3 endpoint has no local address; not serving");
            return;
        }
    };
    let mut stop = shutdown.clone();
    loop {
        let incoming = tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(i) => i,
                None => break,
            },
            _ = stop.changed() => break,
        };
        let proxy = proxy.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let remote = incoming.remote_address();
            match incoming.await {
                Ok(conn) => serve_connection(conn, remote, local, proxy, shutdown).await,
                Err(e) => tracing::debug!(%remote, error = %e, "QUIC handshake failed"),
            }
        });
    }
    // As Pingora does for its own listeners: requests still running stop keeping anything alive.
    proxy.http_cleanup().await;
    endpoint.close(quinn::VarInt::from_u32(0), b"edge shutting down");
}

/// 400 with the edge's JSON error shape, for a request the proxy could not take.
async fn bad_request(
    stream: &mut session::RequestStream,
    reason: &str,
) -> Result<(), h3::error::StreamError> {
    let body = serde_json::json!({"error": {"code": "bad_request", "message": reason}}).to_string();
    let resp = http::Response::builder()
        .status(http::StatusCode::BAD_REQUEST)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CONTENT_LENGTH, body.len())
        .body(())
        .unwrap_or_default();
    stream.send_response(resp).await?;
    stream.send_data(Bytes::from(body)).await?;
    stream.finish().await
}

async fn serve_connection(
    conn: quinn::Connection,
    remote: SocketAddr,
    local: SocketAddr,
    proxy: Arc<Proxy>,
    shutdown: watch::Receiver<bool>,
) {
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
                let proxy = proxy.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    match resolver.resolve_request().await {
                        Ok((req, mut stream)) => {
                            if let Some(reason) = session::unacceptable(&req) {
                                tracing::debug!(%remote, reason, "HTTP/3 request refused");
                                let _ = bad_request(&mut stream, reason).await;
                                return;
                            }
                            let session = H3Session::new(req, stream, remote, local);
                            let session = ServerSession::new_custom(Box::new(session));
                            proxy.process_new_http(session, &shutdown).await;
                        }
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
