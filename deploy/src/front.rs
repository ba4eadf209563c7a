//! The local world's front door when origin runs as a cluster: one address for the browser and
//! the admin tools that stays up when any origin node dies, as an operator's load balancer would.
//! TCP is relayed to the first node whose `/healthz` answers 200 (a node with a leader), or, if
//! none does, to the first that accepts a connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Starts the front door on `listen`, relaying to `nodes` (origin API URLs, in preference
/// order). Returns its URL. The tasks run until the process ends.
pub async fn start(listen: SocketAddr, nodes: Vec<String>) -> std::io::Result<String> {
    let listener = TcpListener::bind(listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let addrs: Vec<String> = nodes
        .iter()
        .map(|u| crate::ports::authority(u).to_owned())
        .collect();
    let healthy: Arc<Vec<AtomicBool>> =
        Arc::new(addrs.iter().map(|_| AtomicBool::new(true)).collect());
    tokio::spawn(check_health(nodes, healthy.clone()));
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            let (addrs, healthy) = (addrs.clone(), healthy.clone());
            tokio::spawn(async move {
                if let Some(mut upstream) = connect(&addrs, &healthy).await {
                    let mut client = client;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    Ok(url)
}

/// Healthy nodes first (in order), then the others: the first that accepts.
async fn connect(addrs: &[String], healthy: &[AtomicBool]) -> Option<TcpStream> {
    let (up, down): (Vec<_>, Vec<_>) = addrs
        .iter()
        .zip(healthy)
        .partition(|(_, h)| h.load(Ordering::Relaxed));
    for (addr, _) in up.into_iter().chain(down) {
        let attempt = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr));
        if let Ok(Ok(stream)) = attempt.await {
            return Some(stream);
        }
    }
    None
}

async fn check_health(nodes: Vec<String>, healthy: Arc<Vec<AtomicBool>>) {
    let http = reqwest::Client::new();
    loop {
        for (url, flag) in nodes.iter().zip(healthy.iter()) {
            let ok = http
                .get(format!("{url}/healthz"))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            flag.store(ok, Ordering::Relaxed);
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}
