//! A small HTTP/3 load generator (quinn + h3): no packaged tool here speaks HTTP/3 (Debian's
//! h2load is built without it). `connections` QUIC connections each keep `streams` requests in
//! flight for the duration; every response body is read in full.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use bytes::Buf;

use crate::h2load::LoadResult;

/// Where and what to fetch.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The certificate's name for the server.
    pub server_name: String,
    pub path: String,
    /// DER certificates to trust (the bench CA).
    pub roots: rustls::RootCertStore,
}

/// Runs the load for `seconds` (after one second of warm-up that is not counted).
pub async fn run(
    target: &Target,
    connections: u32,
    streams: u32,
    seconds: u32,
) -> anyhow::Result<LoadResult> {
    let mut crypto = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])?
    .with_root_certificates(target.roots.clone())
    .with_no_client_auth();
    crypto.alpn_protocols = vec![b"h3".to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(crypto)?;
    let mut endpoint = quinn::Endpoint::client(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(quic)));

    let start = Instant::now() + Duration::from_secs(1);
    let end = start + Duration::from_secs(u64::from(seconds));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let conn = endpoint
            .connect(target.addr, &target.server_name)?
            .await
            .context("QUIC handshake")?;
        let (mut driver, send) = h3::client::new(h3_quinn::Connection::new(conn))
            .await
            .context("HTTP/3 setup")?;
        tasks.spawn(async move {
            let _ = driver.wait_idle().await;
            Ok::<_, anyhow::Error>(Vec::new())
        });
        for _ in 0..streams {
            let mut send = send.clone();
            let uri = format!("https://{}{}", target.addr, target.path);
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let began = Instant::now();
                    if began >= end {
                        return Ok(latencies);
                    }
                    let fetched = async {
                        let req = http::Request::get(&uri).body(())?;
                        let mut stream = send.send_request(req).await?;
                        stream.finish().await?;
                        let resp = stream.recv_response().await?;
                        ensure!(resp.status().is_success(), "answered {}", resp.status());
                        while let Some(mut chunk) = stream.recv_data().await? {
                            chunk.advance(chunk.remaining());
                        }
                        Ok::<_, anyhow::Error>(())
                    };
                    if let Err(e) = fetched.await {
                        // Once the run is over the first streams to stop close their connection
                        // under the others' last requests, which were not to be counted anyway.
                        if Instant::now() >= end {
                            return Ok(latencies);
                        }
                        let at = Instant::now()
                            .saturating_duration_since(start)
                            .as_secs_f64();
                        return Err(e.context(format!("{at:.2} s into the {seconds} s run")));
                    }
                    if began >= start {
                        latencies.push(began.elapsed());
                    }
                }
            });
        }
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    // Request tasks end at `end`; the drivers end when the connections close below.
    let deadline = end + Duration::from_secs(30);
    while let Ok(Some(done)) = tokio::time::timeout_at(deadline.into(), tasks.join_next()).await {
        match done {
            Ok(Ok(mut got)) => latencies.append(&mut got),
            Ok(Err(e)) => {
                failed += 1;
                eprintln!("h3 load: a request stream failed: {e:#}");
            }
            Err(e) => return Err(e.into()),
        }
        if tasks.len() == connections as usize {
            endpoint.close(0u32.into(), b"done");
        }
    }
    tasks.abort_all();
    let p99_ms = crate::report::p99(latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect())
        .context("no HTTP/3 request completed")?;
    Ok(LoadResult {
        requests_per_sec: latencies.len() as f64 / f64::from(seconds),
        p99_ms,
        requests: latencies.len() as u64,
        failed,
    })
}
