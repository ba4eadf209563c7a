//! Serving an axum app over TLS with each request told who the peer is: axum's own `serve`
//! speaks plain TCP only, and this is the one place that sees the handshake, so it puts the
//! verified [`PeerIdentity`] and the peer's address into every request's extensions.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::{CertificateError, ServerConfig};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::identity::Identity;
use crate::peer_identity;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections may finish their requests after shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Counter of refused handshakes, by reason.
pub const HANDSHAKES_REFUSED: &str = "marquee_tls_handshakes_refused_total";

/// Who the client's verified certificate names (`None`: it presented none, which only a
/// listener with optional client authentication allows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity(pub Option<Identity>);

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish for a
/// few seconds.
pub async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(config);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    let reason = refusal_reason(&e);
                    metrics::counter!(HANDSHAKES_REFUSED, "reason" => reason).increment(1);
                    tracing::info!(%remote, reason, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    metrics::counter!(HANDSHAKES_REFUSED, "reason" => "timeout").increment(1);
                    return;
                }
            };
            let peer = PeerIdentity(peer_identity(tls.get_ref().1.peer_certificates()));
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(peer.clone());
                req.extensions_mut().insert(ConnectInfo(remote));
                app.clone().oneshot(req)
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open after the shutdown grace; closing them");
        }
    }
}

/// A short, stable name for why a client's handshake failed, for logs and the metric.
pub fn refusal_reason(e: &std::io::Error) -> &'static str {
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return "connection";
    };
    match tls {
        rustls::Error::NoCertificatesPresented => "no_certificate",
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => "unknown_ca",
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not_yet_valid"
            }
            _ => "bad_certificate",
        },
        rustls::Error::InvalidMessage(_) => "not_tls",
        rustls::Error::NoApplicationProtocol => "no_common_protocol",
        _ => "handshake_failed",
    }
}

/// Lets through only requests whose verified client certificate names one of `services`;
/// the rest get 403 `peer_not_allowed` (a listener that requires client certificates still
/// accepts every service of the deployment, so each says which it serves).
pub fn allow_only(router: Router, services: &'static [crate::Service]) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| async move {
            let peer = req.extensions().get::<PeerIdentity>().cloned();
            match peer.as_ref().and_then(|p| p.0.as_ref()) {
                Some(id) if services.contains(&id.service) => next.run(req).await,
                named => {
                    let who = named.map_or("no certificate".to_owned(), |id| id.to_string());
                    tracing::warn!(peer = %who, path = %req.uri().path(), "peer not allowed here");
                    refuse_peer(&who, services)
                }
            }
        },
    ))
}

fn refuse_peer(who: &str, services: &[crate::Service]) -> axum::response::Response {
    let allowed: Vec<&str> = services.iter().map(|s| s.as_str()).collect();
    let message = format!(
        "{who} may not call this listener (it serves: {})",
        allowed.join(", ")
    );
    let body = format!(
        r#"{{"error":{{"code":"peer_not_allowed","message":"{}"}}}}"#,
        message.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let mut resp = axum::response::Response::new(axum::body::Body::from(body));
    *resp.status_mut() = axum::http::StatusCode::FORBIDDEN;
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    resp
}
