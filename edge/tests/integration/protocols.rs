//! HTTPS with HTTP/1.1 and HTTP/2 (ALPN), HTTP/3 over UDP on the same port, h2c on the plain
//! listener: one cache and one token gate behind all of them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes};
use marquee_tls::{Service, Tls};

use crate::util::*;

/// A minimal HTTP/3 client: one GET, returning status, headers and body.
pub async fn h3_get(addr: SocketAddr, path: &str) -> (u16, http::HeaderMap, Bytes) {
    h3_request(addr, http::Method::GET, path, None).await
}

/// One HTTP/3 request with an optional body.
pub async fn h3_request(
    addr: SocketAddr,
    method: http::Method,
    path: &str,
    body: Option<Bytes>,
) -> (u16, http::HeaderMap, Bytes) {
    h3_try_request(addr, method, path, body)
        .await
        .expect("HTTP/3 request")
}

/// One HTTP/3 request; a stream the server resets is an error, as a browser would take it.
pub async fn h3_try_request(
    addr: SocketAddr,
    method: http::Method,
    path: &str,
    body: Option<Bytes>,
) -> anyhow::Result<(u16, http::HeaderMap, Bytes)> {
    let tls = Tls::load(&pki().issue(Service::Operator, "h3-viewer", &pki().dir.join("h3")))?;
    let mut crypto = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])?
    .with_root_certificates(tls.roots())
    .with_no_client_auth();
    crypto.alpn_protocols = vec![b"h3".to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(crypto)?;
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));
    let conn = endpoint.connect(addr, "127.0.0.1")?.await?;
    let (mut driver, mut send) = h3::client::new(h3_quinn::Connection::new(conn)).await?;
    let drive = tokio::spawn(async move { driver.wait_idle().await });
    let exchange = async {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("https://{addr}{path}"))
            .body(())?;
        let mut stream = send.send_request(req).await?;
        if let Some(body) = body {
            stream.send_data(body).await?;
        }
        stream.finish().await?;
        let resp = stream.recv_response().await?;
        let mut body = Vec::new();
        while let Some(mut chunk) = stream.recv_data().await? {
            body.extend_from_slice(&chunk.copy_to_bytes(chunk.remaining()));
        }
        anyhow::Ok((
            resp.status().as_u16(),
            resp.headers().clone(),
            Bytes::from(body),
        ))
    };
    let outcome = exchange.await;
    drop(send);
    drive.abort();
    endpoint.close(0u32.into(), b"done");
    outcome
}

pub fn tls_addr(edge: &Edge) -> SocketAddr {
    edge.tls_base
        .trim_start_matches("https://")
        .parse()
        .expect("addr")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http1_http2_and_http3_share_one_cache_and_one_token_gate() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/720p/seg-1.m4s";
    let body = origin.put(path, 300_000, Some(SEGMENT_CC), Duration::ZERO);
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let token = token_for(&s, "t1", "p1");
    let url = format!("{}/t/{token}{path}", edge.tls_base);

    // HTTPS, HTTP/1.1: the miss that fills the cache.
    let resp = pki().viewer(false).get(&url).send().await.expect("h1");
    assert_eq!(resp.version(), http::Version::HTTP_11);
    assert_eq!(resp.status(), 200);
    let port = tls_addr(&edge).port();
    assert_eq!(
        resp.headers()["alt-svc"].to_str().expect("test step"),
        format!("h3=\":{port}\"; ma=86400"),
        "HTTPS answers advertise HTTP/3 on the same port"
    );
    assert!(
        cache_status(&resp).contains("fwd=miss"),
        "{}",
        cache_status(&resp)
    );
    assert_eq!(resp.bytes().await.expect("test step"), body);

    // HTTPS, HTTP/2 (ALPN): a hit.
    let resp = pki().viewer(true).get(&url).send().await.expect("h2");
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert!(
        cache_status(&resp).contains("hit"),
        "{}",
        cache_status(&resp)
    );
    assert_eq!(resp.bytes().await.expect("test step"), body);

    // HTTP/3 over UDP on the same port: a hit too, the same bytes.
    let (status, headers, got) = h3_get(tls_addr(&edge), &format!("/t/{token}{path}")).await;
    assert_eq!(status, 200);
    let cs = headers["cache-status"].to_str().expect("test step");
    assert!(cs.contains("hit"), "{cs}");
    assert!(
        headers.get("alt-svc").is_none(),
        "a client already on HTTP/3 is not told about it"
    );
    assert_eq!(got, body);
    assert_eq!(
        origin.fetches(path),
        1,
        "one origin fetch for all three protocols"
    );

    // The token gate is the same over HTTP/3: a forged token is refused before the cache.
    let (status, _, refusal) = h3_get(tls_addr(&edge), &format!("/t/forged{path}")).await;
    assert_eq!(status, 403);
    let refusal: serde_json::Value = serde_json::from_slice(&refusal).expect("test step");
    assert!(refusal["error"]["code"].is_string(), "{refusal}");

    // Plain HTTP carries no Alt-Svc (browsers ignore it there) and speaks h2c when asked.
    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("test step");
    let resp = h2c.get(edge.url(&token, path)).send().await.expect("h2c");
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert!(resp.headers().get("alt-svc").is_none());
    assert_eq!(resp.bytes().await.expect("test step"), body);

    let metrics = client()
        .get(format!("{}/metrics", edge.base))
        .send()
        .await
        .expect("test step")
        .text()
        .await
        .expect("test step");
    assert!(
        metrics
            .lines()
            .any(|l| l == "marquee_edge_h3_requests_total{outcome=\"ok\"} 2"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let origin = Origin::start().await;
    let s = signer("k1");
    let edge = Edge::start(
        origin.addr,
        &s,
        EdgeOptions {
            extra: vec!["--tls-reload-secs".into(), "1".into()],
            ..Default::default()
        },
    )
    .await;
    let served = || async {
        let resp = pki()
            .viewer(false)
            .get(format!("{}/healthz", edge.tls_base))
            .send()
            .await
            .expect("https");
        assert_eq!(resp.status(), 200);
        served_certificate(tls_addr(&edge)).await
    };
    let before = served().await;
    assert_eq!(before, edge.certificate_der());
    edge.renew_certificate();
    let renewed = edge.certificate_der();
    assert_ne!(renewed, before);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if served().await == renewed {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "renewal not picked up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The leaf certificate a TLS server presents.
async fn served_certificate(addr: SocketAddr) -> Vec<u8> {
    let tls =
        Tls::load(&pki().issue(Service::Operator, "probe", &pki().dir.join("probe"))).expect("tls");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("test step")
    .with_root_certificates(tls.roots())
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("test step");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("test step");
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("handshake");
    stream.get_ref().1.peer_certificates().expect("test step")[0].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fills_reach_origin_over_mutual_tls_with_the_renewed_certificate() {
    let origin = Origin::start_mtls().await;
    let s = signer("k1");
    let edge = Edge::start(
        &origin.origin_arg,
        &s,
        EdgeOptions {
            extra: vec!["--tls-reload-secs".into(), "1".into()],
            ..Default::default()
        },
    )
    .await;
    let token = token_for(&s, "t1", "p1");
    let body = origin.put(
        "/media/t1/seg-0.m4s",
        64 << 10,
        Some(SEGMENT_CC),
        Duration::ZERO,
    );
    let (status, cache, got) = fetch(&edge.url(&token, "/media/t1/seg-0.m4s")).await;
    assert_eq!(
        (status, got),
        (200, body),
        "filled over mutual TLS ({cache})"
    );
    assert_eq!(
        origin.client_certificates().last(),
        Some(&edge.certificate_der()),
        "the edge presents its own certificate to origin"
    );

    // Origin's services listener takes no client without a certificate from the CA.
    let anonymous = pki()
        .viewer(false)
        .get(format!("{}/media/t1/seg-0.m4s", origin.origin_arg))
        .send()
        .await;
    assert!(anonymous.is_err(), "a client without a certificate got in");

    // A renewed edge certificate reaches the next fills without a restart.
    edge.renew_certificate();
    let renewed = edge.certificate_der();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    for n in 1.. {
        let path = format!("/media/t1/seg-{n}.m4s");
        let body = origin.put(&path, 1024, Some(SEGMENT_CC), Duration::ZERO);
        let (status, _, got) = fetch(&edge.url(&token, &path)).await;
        assert_eq!((status, got), (200, body));
        if origin.client_certificates().last() == Some(&renewed) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "fills still use the old certificate"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_http3_answer_cut_short_by_origin_is_reset_not_passed_off_as_whole() {
    let origin = Origin::start().await;
    let path = "/media/t1/video/720p/seg-cut.m4s";
    let body = origin.put_stalling(path, 400_000, Duration::from_secs(30));
    let s = signer("k1");
    let edge = Edge::start(origin.addr, &s, EdgeOptions::default()).await;
    let token = token_for(&s, "t1", "p1");
    let addr = tls_addr(&edge);
    let target = format!("/t/{token}{path}");
    let viewer =
        tokio::spawn(async move { h3_try_request(addr, http::Method::GET, &target, None).await });
    // Origin has sent half and stalls; then it dies.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while origin.fetches(path) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the fill never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    origin.kill();
    let outcome = tokio::time::timeout(Duration::from_secs(20), viewer)
        .await
        .expect("the viewer hears the end of the stream")
        .expect("test step");
    match outcome {
        Err(e) => assert!(
            format!("{e:#}").contains("Remote reset"),
            "the edge resets the stream: {e:#}"
        ),
        Ok((status, _, got)) => panic!(
            "a cut-short answer passed for a whole one: {status}, {} of {} bytes",
            got.len(),
            body.len()
        ),
    }
}
