//! The calls every write waits for, over long-lived connections between members.
//!
//! * **Appends**, leader to follower: one connection per peer ([`PROTOCOL`]); openraft sends a
//!   peer one append at a time.
//! * **Forwarded writes and read-index rounds**, follower to leader ([`CALL_PROTOCOL`]): a pool
//!   of idle connections per peer, one call per connection at a time; a body starts with its
//!   [`Call`] byte.
//!
//! A connection is an HTTP/1.1 upgrade on the peer's Raft RPC listener, so it passes the same
//! cluster-secret check as every other RPC; then each side sends length-prefixed JSON frames,
//! a request and then its answer, in turn. Over a plain HTTP POST each of these round trips
//! cost about 0.2 ms more than the peer's own work (request and response heads, and the
//! hand-offs to and from the HTTP client's connection task).
//!
//! A frame is `[body length u32 big-endian][body]`.
use std::future::Future;
use std::io;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use sync_wrapper::SyncWrapper;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// The `Upgrade` token of the append stream.
pub(crate) const PROTOCOL: &str = "marquee-raft-append/1";
/// The `Upgrade` token of a call stream.
pub(crate) const CALL_PROTOCOL: &str = "marquee-raft-call/1";

/// What a call-stream frame asks of the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// A follower's batch of writes (`CommandJson`), answered with its outcome.
    Write = 1,
    /// A read-index round (no body), answered with the index to apply before reading.
    ReadIndex = 2,
}

impl Call {
    /// The call that replaces the POST RPC named `rpc`, if any.
    pub(crate) fn for_rpc(rpc: &str) -> Option<Call> {
        match rpc {
            "write" => Some(Call::Write),
            "read-index" => Some(Call::ReadIndex),
            _ => None,
        }
    }

    /// Splits a call-stream body into its call and its JSON.
    pub(crate) fn parse(body: &[u8]) -> Option<(Call, &[u8])> {
        let (&tag, json) = body.split_first()?;
        let call = match tag {
            1 => Call::Write,
            2 => Call::ReadIndex,
            _ => return None,
        };
        Some((call, json))
    }
}
/// Largest frame body either side accepts: a full append batch of big commands.
pub(crate) const MAX_FRAME: usize = 64 << 20;
const PREFIX: usize = 4;
/// Room for a whole append batch in one read on most calls.
const READ_BUFFER: usize = 64 << 10;

/// `value` as one frame, ready to write.
pub(crate) fn frame<T: serde::Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    tagged_frame(None, value)
}

/// `value` as one call-stream frame.
pub(crate) fn call_frame<T: serde::Serialize>(
    call: Call,
    value: &T,
) -> serde_json::Result<Vec<u8>> {
    tagged_frame(Some(call as u8), value)
}

fn tagged_frame<T: serde::Serialize>(tag: Option<u8>, value: &T) -> serde_json::Result<Vec<u8>> {
    let mut frame = vec![0u8; PREFIX];
    frame.extend(tag);
    serde_json::to_writer(&mut frame, value)?;
    let len = (frame.len() - PREFIX) as u32;
    frame[..PREFIX].copy_from_slice(&len.to_be_bytes());
    Ok(frame)
}

/// Reads one frame's body into `body`; `Ok(false)` when the peer closed the connection between
/// frames.
async fn read_frame<R>(from: &mut R, body: &mut Vec<u8>) -> io::Result<bool>
where
    R: AsyncRead + Unpin,
{
    let mut prefix = [0u8; PREFIX];
    match from.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes is over the {MAX_FRAME}-byte limit"),
        ));
    }
    body.resize(len, 0);
    from.read_exact(body).await?;
    Ok(true)
}

/// The leader's end of an append stream to one peer.
pub(crate) struct Connection<S> {
    /// Only ever used through `&mut`, so it may sit in openraft's `Sync` network client though
    /// hyper's upgraded connection is not `Sync`.
    io: SyncWrapper<BufReader<S>>,
    answer: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub(crate) fn new(io: S) -> Self {
        Self {
            io: SyncWrapper::new(BufReader::with_capacity(READ_BUFFER, io)),
            answer: Vec::new(),
        }
    }

    /// Sends one frame and returns the body of the answer.
    ///
    /// Not cancel-safe: dropped midway, the connection is in an unknown state and must be
    /// dropped too (callers take it out of its slot for the call).
    pub(crate) async fn round_trip(&mut self, frame: &[u8]) -> io::Result<&[u8]> {
        let io = self.io.get_mut();
        io.write_all(frame).await?;
        io.flush().await?;
        if !read_frame(io, &mut self.answer).await? {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(&self.answer)
    }

    /// Whether this idle connection can no longer be used: the peer closed it, or sent bytes
    /// nobody asked for. Checked before reuse (as HTTP clients check pooled connections), so
    /// a call on a connection the peer had already closed does not count as "maybe delivered".
    pub(crate) fn is_broken(&mut self) -> bool {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut byte = [0u8; 1];
        let mut buf = tokio::io::ReadBuf::new(&mut byte);
        let io = std::pin::Pin::new(self.io.get_mut());
        !matches!(io.poll_read(&mut cx, &mut buf), std::task::Poll::Pending)
    }
}

/// Why a stream could not be opened; nothing was sent on it yet.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    #[error("cannot reach the peer: {0}")]
    Unreachable(reqwest::Error),
    #[error("the peer answered HTTP {0} instead of switching protocols")]
    Status(u16),
    #[error("the upgrade failed: {0}")]
    Upgrade(reqwest::Error),
}

/// Opens a stream of `protocol` on the peer's Raft RPC listener at `base` (its URL with a
/// scheme): an upgrade request on `route`, carrying the cluster secret.
pub(crate) async fn open(
    client: &reqwest::Client,
    base: &str,
    route: &str,
    secret: &str,
    protocol: &'static str,
) -> Result<Connection<reqwest::Upgraded>, OpenError> {
    let resp = client
        .get(format!("{base}{}/{route}", super::RAFT_RPC_PREFIX))
        .header(super::SECRET_HEADER, secret)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, protocol)
        .send()
        .await
        .map_err(OpenError::Unreachable)?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(OpenError::Status(resp.status().as_u16()));
    }
    let io = resp.upgrade().await.map_err(OpenError::Upgrade)?;
    Ok(Connection::new(io))
}

/// Idle call-stream connections, per peer base URL.
pub(crate) struct Pool<S> {
    idle: std::sync::Mutex<std::collections::HashMap<String, Vec<Connection<S>>>>,
}

/// Idle connections kept per peer: more than the calls a node has in flight to the leader at
/// once (two write batches and a read-index round).
const IDLE_PER_PEER: usize = 8;

impl<S: AsyncRead + AsyncWrite + Unpin> Pool<S> {
    pub(crate) fn new() -> Self {
        Self {
            idle: Default::default(),
        }
    }

    fn idle(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Vec<Connection<S>>>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection to `peer` that is still usable, if there is one.
    pub(crate) fn take(&self, peer: &str) -> Option<Connection<S>> {
        let mut idle = self.idle();
        let conns = idle.get_mut(peer)?;
        while let Some(mut conn) = conns.pop() {
            if !conn.is_broken() {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps `conn` (after a completed call) for the next call to `peer`.
    pub(crate) fn put(&self, peer: &str, conn: Connection<S>) {
        let mut idle = self.idle();
        let conns = idle.entry(peer.to_owned()).or_default();
        if conns.len() < IDLE_PER_PEER {
            conns.push(conn);
        }
    }
}

/// Whether `req` asks for an upgrade to `protocol`.
fn asks_for(req: &Request, protocol: &str) -> bool {
    let has = |name, token: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case(token))
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, protocol)
}

/// Takes over `req`'s connection as a stream of `protocol` (after the caller has authenticated
/// it): each request frame's body goes to `answer`, and what it returns goes back as the next
/// frame (built with [`frame`]); `None` closes the connection.
pub(crate) fn accept<A, F>(mut req: Request, protocol: &'static str, mut answer: A) -> Response
where
    A: FnMut(Vec<u8>) -> F + Send + 'static,
    F: Future<Output = Option<Vec<u8>>> + Send,
{
    if !asks_for(&req, protocol) {
        let reason = format!("this route only takes `Connection: upgrade`, `Upgrade: {protocol}`");
        return (StatusCode::BAD_REQUEST, reason).into_response();
    }
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let io = match upgrade.await {
            Ok(io) => TokioIo::new(io),
            Err(e) => {
                tracing::warn!(error = %e, protocol, "raft stream: upgrade failed");
                return;
            }
        };
        let mut io = BufReader::with_capacity(READ_BUFFER, io);
        let mut body = Vec::new();
        loop {
            match read_frame(&mut io, &mut body).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(error = %e, protocol, "raft stream: bad frame, closing");
                    return;
                }
            }
            let Some(reply) = answer(std::mem::take(&mut body)).await else {
                return;
            };
            if let Err(e) = io.write_all(&reply).await {
                tracing::debug!(error = %e, protocol, "raft stream: peer gone");
                return;
            }
        }
    });
    let mut switching = Response::new(Body::empty());
    *switching.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = switching.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static(protocol));
    switching
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_go_both_ways_and_an_oversized_one_is_refused() {
        let (client, server) = tokio::io::duplex(1 << 16);
        let echo = tokio::spawn(async move {
            let mut server = BufReader::new(server);
            let mut body = Vec::new();
            while read_frame(&mut server, &mut body).await.unwrap() {
                let text: String = serde_json::from_slice(&body).unwrap();
                let reply = frame(&text.to_uppercase()).unwrap();
                server.write_all(&reply).await.unwrap();
            }
        });
        let mut conn = Connection::new(client);
        for word in ["append", "vote"] {
            let answer = conn.round_trip(&frame(&word).unwrap()).await.unwrap();
            let answer: String = serde_json::from_slice(answer).unwrap();
            assert_eq!(answer, word.to_uppercase());
        }
        assert!(
            !conn.is_broken(),
            "an idle connection to a live peer is usable"
        );
        drop(conn);
        echo.await.unwrap();

        let (client, server) = tokio::io::duplex(64);
        let mut conn = Connection::new(client);
        drop(server);
        assert!(
            conn.is_broken(),
            "a connection the peer closed is not reused"
        );

        let frame = call_frame(Call::Write, &"cmd").unwrap();
        assert_eq!(
            Call::parse(&frame[PREFIX..]),
            Some((Call::Write, &b"\"cmd\""[..]))
        );
        assert_eq!(Call::parse(&[9, b'1']), None, "an unknown call");
        assert_eq!(Call::for_rpc("read-index"), Some(Call::ReadIndex));
        assert_eq!(Call::for_rpc("membership"), None, "rare calls stay POSTs");

        let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
        let err = read_frame(&mut &huge[..], &mut Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("limit"), "{err}");
        let torn = [0, 0, 0, 9, b'{'];
        let err = read_frame(&mut &torn[..], &mut Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
