//! One HTTP/3 request as a Pingora downstream session.
//!
//! Pingora 0.9 has no HTTP/3 of its own but takes "custom" sessions: anything that can read a
//! request and write a response. Handing it the h3 request stream directly means HTTP/3 answers
//! run through the same proxy phases (token gate, cache, fills, metrics, logs) as HTTP/1.1 and
//! HTTP/2, with no second protocol in between.

use std::net::SocketAddr as InetAddr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Buf, Bytes};
use futures::Stream;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Version, header};
use pingora_core::protocols::Digest;
use pingora_core::protocols::http::HttpTask;
use pingora_core::protocols::http::body_buffer::FixedBuffer;
use pingora_core::protocols::http::custom::CustomMessageWrite;
use pingora_core::protocols::http::custom::server::Session as CustomSession;
use pingora_core::protocols::http::date::get_cached_date;
use pingora_core::protocols::http::v1::client::http_req_header_to_wire;
use pingora_core::protocols::l4::socket::SocketAddr;
use pingora_core::{Error, ErrorType, OrErr, Result};
use pingora_http::{RequestHeader, ResponseHeader};
use sync_wrapper::SyncWrapper;

/// Counter of HTTP/3 requests, by outcome: `ok` (response completed) or `reset` (the stream
/// was abandoned: a write failed, the client left, or the proxy gave up).
pub const H3_REQUESTS: &str = "marquee_edge_h3_requests_total";

pub type RequestStream = h3::server::RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>;

/// Request bodies kept for a retried fill (the same bound Pingora uses for HTTP/1.1).
const RETRY_BUFFER_BYTES: usize = 64 * 1024;
/// How long one read or write may wait on a client. Pingora sets none on downstream sessions;
/// without one a client that stops reading would hold its request (and a fill) forever.
const CLIENT_IO_TIMEOUT: Duration = Duration::from_secs(60);

/// Connection-level headers HTTP/3 forbids (RFC 9114 §4.2); origin may still send them.
const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
];

type MessageReader = Box<dyn Stream<Item = Result<Bytes>> + Unpin + Send + Sync + 'static>;

pub struct H3Session {
    request: RequestHeader,
    /// h3's streams are `Send` but not `Sync`; Pingora sessions must be both. Only `&mut self`
    /// methods touch the stream, which is what `SyncWrapper` allows.
    stream: SyncWrapper<RequestStream>,
    client: SocketAddr,
    server: SocketAddr,
    response: Option<Box<ResponseHeader>>,
    /// The body length the response header promised (none for HEAD, 204, 304 or unknown).
    promised_len: Option<usize>,
    /// The response was finished cleanly (or the stream reset on purpose): nothing more to send.
    ended: bool,
    finished_ok: bool,
    request_body_done: bool,
    /// The request body length the client declared, checked as the body arrives.
    declared_len: Option<usize>,
    body_read: usize,
    body_sent: usize,
    retry_buffer: Option<FixedBuffer>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    drain_timeout: Option<Duration>,
}

impl H3Session {
    /// Makes the request look as an HTTP/1.1 one would to the proxy: origin-form path and a
    /// `Host` header from `:authority`. GET and HEAD are taken as bodiless (anything a client
    /// sends after them is ignored), so the proxy never waits on their streams.
    pub fn new(
        req: Request<()>,
        stream: RequestStream,
        client: InetAddr,
        server: InetAddr,
    ) -> Self {
        let (mut parts, ()) = req.into_parts();
        if !parts.headers.contains_key(header::HOST)
            && let Some(authority) = parts.uri.authority()
            && let Ok(host) = HeaderValue::from_str(authority.as_str())
        {
            parts.headers.insert(header::HOST, host);
        }
        if let Some(path) = parts.uri.path_and_query().cloned() {
            parts.uri = http::Uri::from(path);
        }
        parts.version = Version::HTTP_3;
        let bodiless = matches!(parts.method, http::Method::GET | http::Method::HEAD);
        if bodiless {
            // Nothing will be read, so nothing may be promised to origin either.
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.remove(header::TRANSFER_ENCODING);
        }
        let declared_len = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        Self {
            request: RequestHeader::from(parts),
            stream: SyncWrapper::new(stream),
            client: SocketAddr::Inet(client),
            server: SocketAddr::Inet(server),
            response: None,
            promised_len: None,
            ended: false,
            finished_ok: false,
            request_body_done: bodiless,
            declared_len,
            body_read: 0,
            body_sent: 0,
            retry_buffer: None,
            read_timeout: Some(CLIENT_IO_TIMEOUT),
            write_timeout: Some(CLIENT_IO_TIMEOUT),
            drain_timeout: None,
        }
    }

    fn stream(&mut self) -> &mut RequestStream {
        self.stream.get_mut()
    }

    async fn finish_stream(&mut self) -> Result<()> {
        // A body shorter than promised ends in a reset, never in a clean finish: HTTP/3
        // clients need not check Content-Length, so a short answer would pass for a whole one.
        if self.promised_len.is_some_and(|len| len != self.body_sent) {
            self.reset();
            return Error::e_explain(
                ErrorType::WriteError,
                "HTTP/3 response ended before its Content-Length",
            );
        }
        let write_timeout = self.write_timeout;
        let finish = self.stream().finish();
        within(write_timeout, ErrorType::WriteTimedout, finish)
            .await?
            .or_err(ErrorType::WriteError, "finishing an HTTP/3 response")?;
        self.ended = true;
        self.finished_ok = true;
        Ok(())
    }

    fn reset(&mut self) {
        if !self.ended {
            self.stream()
                .stop_stream(h3::error::Code::H3_INTERNAL_ERROR);
            self.ended = true;
        }
    }

    async fn read_chunk(&mut self) -> Result<Option<Bytes>> {
        if self.request_body_done {
            return Ok(None);
        }
        let read_timeout = self.read_timeout;
        let stream = self.stream();
        let chunk = within(read_timeout, ErrorType::ReadTimedout, async {
            stream
                .recv_data()
                .await
                .map(|c| c.map(|mut c| c.copy_to_bytes(c.remaining())))
        })
        .await?
        .or_err(ErrorType::ReadError, "reading an HTTP/3 request body")?;
        match &chunk {
            Some(data) => {
                self.body_read += data.len();
                if self.declared_len.is_some_and(|len| self.body_read > len) {
                    return Error::e_explain(
                        ErrorType::InvalidHTTPHeader,
                        "HTTP/3 request body longer than its Content-Length",
                    );
                }
                if let Some(buffer) = self.retry_buffer.as_mut() {
                    buffer.write_to_buffer(data);
                }
            }
            None => {
                self.request_body_done = true;
                if self.declared_len.is_some_and(|len| self.body_read != len) {
                    return Error::e_explain(
                        ErrorType::InvalidHTTPHeader,
                        "HTTP/3 request body shorter than its Content-Length",
                    );
                }
            }
        }
        Ok(chunk)
    }
}

/// Why Pingora could not take this request as HTTP/1.1 would have it (its background
/// revalidation replays requests as HTTP/1.1), if it could not.
pub fn unacceptable(req: &Request<()>) -> Option<&'static str> {
    if req
        .uri()
        .authority()
        .is_some_and(|a| a.as_str().contains('@'))
    {
        return Some("the :authority carries user information");
    }
    if req.headers().get_all(header::HOST).iter().count() > 1 {
        return Some("more than one Host header");
    }
    if req.uri().path_and_query().is_none() {
        return Some("no :path");
    }
    None
}

/// Runs `work` under `limit` when there is one.
async fn within<T>(
    limit: Option<Duration>,
    kind: ErrorType,
    work: impl Future<Output = T>,
) -> Result<T> {
    match limit {
        None => Ok(work.await),
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .or_err(kind, "HTTP/3 stream timed out"),
    }
}

impl Drop for H3Session {
    fn drop(&mut self) {
        // Dropping a quinn stream finishes it, which would pass a cut-short answer for a whole
        // one: reset it instead.
        self.reset();
        let outcome = if self.finished_ok { "ok" } else { "reset" };
        metrics::counter!(H3_REQUESTS, "outcome" => outcome).increment(1);
    }
}

#[async_trait]
impl CustomSession for H3Session {
    fn req_header(&self) -> &RequestHeader {
        &self.request
    }

    fn req_header_mut(&mut self) -> &mut RequestHeader {
        &mut self.request
    }

    async fn read_body_bytes(&mut self) -> Result<Option<Bytes>> {
        self.read_chunk().await
    }

    async fn drain_request_body(&mut self) -> Result<()> {
        let limit = self.drain_timeout;
        within(limit, ErrorType::ReadTimedout, async {
            while self.read_chunk().await?.is_some() {}
            Ok(())
        })
        .await?
    }

    async fn write_response_header(
        &mut self,
        mut resp: Box<ResponseHeader>,
        end: bool,
    ) -> Result<()> {
        // 1xx answers are not relayed.
        if self.ended || resp.status.is_informational() {
            return Ok(());
        }
        if self.response.is_some() {
            // A second final answer would be read as part of the first one's body.
            self.reset();
            return Error::e_explain(
                ErrorType::InternalError,
                "a second response header for one HTTP/3 request",
            );
        }
        resp.insert_header(header::DATE, get_cached_date())?;
        for name in &HOP_BY_HOP {
            resp.remove_header(name);
        }
        let head = http::Response::from_parts(resp.as_owned_parts(), ());
        let write_timeout = self.write_timeout;
        let send = self.stream().send_response(head);
        within(write_timeout, ErrorType::WriteTimedout, send)
            .await?
            .or_err(ErrorType::WriteError, "writing an HTTP/3 response header")?;
        let bodiless = self.request.method == http::Method::HEAD
            || resp.status == http::StatusCode::NO_CONTENT
            || resp.status == http::StatusCode::NOT_MODIFIED;
        self.promised_len = resp
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .filter(|_| !bodiless);
        self.response = Some(resp);
        if end {
            self.finish_stream().await?;
        }
        Ok(())
    }

    async fn write_response_header_ref(&mut self, resp: &ResponseHeader, end: bool) -> Result<()> {
        self.write_response_header(Box::new(resp.clone()), end)
            .await
    }

    async fn write_body(&mut self, data: Bytes, end: bool) -> Result<()> {
        if self.ended {
            return Ok(());
        }
        if self.response.is_none() {
            return Error::e_explain(
                ErrorType::WriteError,
                "HTTP/3 body written before its header",
            );
        }
        if !data.is_empty() {
            let len = data.len();
            let write_timeout = self.write_timeout;
            let send = self.stream().send_data(data);
            within(write_timeout, ErrorType::WriteTimedout, send)
                .await?
                .or_err(ErrorType::WriteError, "writing an HTTP/3 response body")?;
            self.body_sent += len;
        }
        if end {
            self.finish_stream().await?;
        }
        Ok(())
    }

    async fn write_trailers(&mut self, trailers: HeaderMap) -> Result<()> {
        if self.ended {
            return Ok(());
        }
        let write_timeout = self.write_timeout;
        let send = self.stream().send_trailers(trailers);
        within(write_timeout, ErrorType::WriteTimedout, send)
            .await?
            .or_err(ErrorType::WriteError, "writing HTTP/3 trailers")?;
        self.finish_stream().await
    }

    async fn response_duplex_vec(&mut self, tasks: Vec<HttpTask>) -> Result<bool> {
        let mut end_stream = false;
        for task in tasks {
            let ends = match task {
                HttpTask::Header(header, end) => {
                    self.write_response_header(header, end).await?;
                    end
                }
                HttpTask::Body(data, end) => {
                    if let Some(data) = data {
                        self.write_body(data, false).await?;
                    }
                    end
                }
                HttpTask::Trailer(Some(trailers)) => {
                    self.write_trailers(*trailers).await?;
                    true
                }
                HttpTask::Trailer(None) | HttpTask::Done => true,
                HttpTask::UpgradedBody(..) => {
                    return Error::e_explain(
                        ErrorType::InternalError,
                        "an upgraded body cannot be sent over HTTP/3",
                    );
                }
                HttpTask::Failed(e) => return Err(e),
            };
            end_stream |= ends;
        }
        if end_stream {
            self.finish().await?;
        }
        Ok(end_stream)
    }

    fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    fn get_read_timeout(&self) -> Option<Duration> {
        self.read_timeout
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    fn get_write_timeout(&self) -> Option<Duration> {
        self.write_timeout
    }

    fn set_total_drain_timeout(&mut self, timeout: Option<Duration>) {
        self.drain_timeout = timeout;
    }

    fn get_total_drain_timeout(&self) -> Option<Duration> {
        self.drain_timeout
    }

    fn request_summary(&self) -> String {
        let path = self
            .request
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str());
        format!("{} {path} over HTTP/3", self.request.method)
    }

    fn response_written(&self) -> Option<&ResponseHeader> {
        self.response.as_deref()
    }

    async fn shutdown(&mut self, _code: u32, _ctx: &str) {
        self.reset();
    }

    fn is_body_done(&mut self) -> bool {
        self.request_body_done
    }

    async fn finish(&mut self) -> Result<()> {
        // Without a response header there is nothing to finish; dropping resets the stream.
        if self.ended || self.response.is_none() {
            return Ok(());
        }
        self.finish_stream().await
    }

    fn is_body_empty(&mut self) -> bool {
        self.body_read == 0
            && (self.request_body_done
                || self
                    .request
                    .headers
                    .get(header::CONTENT_LENGTH)
                    .is_some_and(|l| l.as_bytes() == b"0"))
    }

    async fn read_body_or_idle(&mut self, no_body_expected: bool) -> Result<Option<Bytes>> {
        if no_body_expected || self.request_body_done {
            // h3 does not tell a server when a client abandons a request, so there is nothing
            // to wait for: a client that left is noticed when a write fails.
            std::future::pending::<()>().await;
        }
        self.read_chunk().await
    }

    fn body_bytes_sent(&self) -> usize {
        self.body_sent
    }

    fn body_bytes_read(&self) -> usize {
        self.body_read
    }

    fn digest(&self) -> Option<&Digest> {
        None
    }

    fn digest_mut(&mut self) -> Option<&mut Digest> {
        None
    }

    fn client_addr(&self) -> Option<&SocketAddr> {
        Some(&self.client)
    }

    fn server_addr(&self) -> Option<&SocketAddr> {
        Some(&self.server)
    }

    /// What background revalidation (stale-while-revalidate) replays: the request as HTTP/1.1.
    fn pseudo_raw_h1_request_header(&self) -> Bytes {
        let mut h1 = self.request.clone();
        h1.set_version(Version::HTTP_11);
        http_req_header_to_wire(&h1)
            .map(|b| b.freeze())
            .unwrap_or_default()
    }

    fn enable_retry_buffering(&mut self) {
        if self.retry_buffer.is_none() {
            self.retry_buffer = Some(FixedBuffer::new(RETRY_BUFFER_BYTES));
        }
    }

    fn retry_buffer_truncated(&self) -> bool {
        self.retry_buffer
            .as_ref()
            .is_some_and(FixedBuffer::is_truncated)
    }

    fn get_retry_buffer(&self) -> Option<Bytes> {
        self.retry_buffer
            .as_ref()
            .filter(|b| !b.is_truncated())
            .and_then(FixedBuffer::get_buffer)
    }

    // HTTP/3 carries no custom messages (Pingora's extension for other framings).
    async fn finish_custom(&mut self) -> Result<()> {
        Ok(())
    }

    fn take_custom_message_reader(&mut self) -> Option<MessageReader> {
        None
    }

    fn restore_custom_message_reader(&mut self, _reader: MessageReader) -> Result<()> {
        Ok(())
    }

    fn take_custom_message_writer(&mut self) -> Option<Box<dyn CustomMessageWrite>> {
        None
    }

    fn restore_custom_message_writer(
        &mut self,
        _writer: Box<dyn CustomMessageWrite>,
    ) -> Result<()> {
        Ok(())
    }
}
