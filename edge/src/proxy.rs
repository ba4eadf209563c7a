//! The Pingora proxy: token gate before the cache, foyer-backed cache, origin on a miss; and
//! origin's API and web app on the same host, so a browser needs only the edge.
//!
//! Request path: [`route::classify`] → (own endpoints | refusal | token check | API rate
//! limit) → cache lookup keyed on the token-stripped path (media, web app; never the API) →
//! origin fetch (one per object, via the cache lock).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, header};
use marquee_proto::token::split_token_path;
use metrics_exporter_prometheus::PrometheusHandle;
use pingora_cache::lock::CacheKeyLockImpl;
use pingora_cache::{
    CacheKey, CacheMeta, CachePhase, ForcedFreshness, HitHandler, NoCacheReason, RespCacheable,
};
use pingora_core::upstreams::peer::HttpPeer;
use pingora_core::{Error, ErrorSource, ErrorType, Result};
use pingora_http::{RequestHeader, ResponseHeader};
use pingora_proxy::{ProxyHttp, RangeType, Session};

use crate::config::MAX_OBJECT_BYTES;
use crate::metrics::{
    API_RATE_LIMITED, MISSES, ORIGIN_ERRORS, ORIGIN_FAILOVERS, ORIGIN_FETCH_SECONDS, STALE_SERVED,
    Stats, TOKEN_REJECTIONS,
};
use crate::origin_tls::OriginTls;
use crate::origins::OriginSet;
use crate::policy::{Served, StorePolicy, cache_status, result_label, store_policy};
use crate::ratelimit::ApiLimiter;
use crate::route::{Refusal, Route, classify, redact_token};
use crate::storage::{BodyHit, HybridStorage};
use crate::tokens::TokenGate;

/// Most ranges one request may ask for (multipart answers beyond this are refused by pingora).
const MAX_RANGES: usize = 16;
const CORS_EXPOSE: &str = "Cache-Status, Content-Length, Content-Range, Age";

/// The edge's [`ProxyHttp`] implementation; one per process.
#[derive(Clone)]
pub struct EdgeProxy {
    /// Origin nodes; a fill goes to the first that accepts a connection.
    pub origins: Arc<OriginSet>,
    /// The edge's certificate for https:// origin nodes (`None`: every node is plain HTTP).
    pub origin_tls: Option<Arc<OriginTls>>,
    pub gate: Arc<TokenGate>,
    pub storage: &'static HybridStorage,
    pub lock: &'static CacheKeyLockImpl,
    pub stats: Arc<Stats>,
    pub prometheus: PrometheusHandle,
    /// Purge generations, part of every cache key.
    pub purges: Arc<crate::purge::Purges>,
    /// `Alt-Svc` for HTTPS answers when HTTP/3 is served (browsers ignore it on plain HTTP).
    pub alt_svc: Option<http::HeaderValue>,
    /// Per-client limits on `/api/` requests.
    pub api_limiter: Arc<ApiLimiter>,
}

/// A [`Route`] with the token checked, owning what the rest of the request needs.
enum Decided {
    Health,
    Metrics,
    Preflight,
    Refuse(Refusal),
    /// Token-gated media; the token-stripped path.
    Media(String),
    Web(String),
    Api,
}

/// What a request proxied to origin is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Answered by the edge itself.
    #[default]
    Local,
    /// Token-gated media: cached, token stripped, CORS for players on other hosts.
    Media,
    /// The web app: cached as origin says.
    Web,
    /// Origin's API: passed through, never cached.
    Api,
}

/// HTTP/3 requests are Pingora's "custom" sessions (see `h3`); nothing else is.
fn over_h3(session: &Session) -> bool {
    session.as_downstream().is_custom()
}

/// Whether the viewer's connection is encrypted (Alt-Svc is only meaningful there).
fn over_tls(session: &Session) -> bool {
    over_h3(session) || session.digest().is_some_and(|d| d.ssl_digest.is_some())
}

/// The viewer's address: the TCP or UDP peer.
fn client_ip(session: &Session) -> Option<IpAddr> {
    session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip())
}

/// Per-request state.
#[derive(Debug, Default)]
pub struct Ctx {
    counted: bool,
    kind: Kind,
    /// The token-stripped path asked of origin and used as cache key (set once authorized).
    upstream_path: Option<String>,
    result: Option<&'static str>,
    stored: bool,
    from_disk: bool,
    origin_sent: Option<Instant>,
    body_bytes: u64,
    /// Origin nodes this request already failed to connect to (each is tried once).
    tried: Vec<SocketAddr>,
    /// The node the current fill goes to.
    origin: Option<SocketAddr>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn cors(resp: &mut ResponseHeader) -> Result<()> {
    resp.insert_header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")?;
    resp.insert_header(header::ACCESS_CONTROL_EXPOSE_HEADERS, CORS_EXPOSE)?;
    Ok(())
}

impl EdgeProxy {
    /// Answers a request from the edge itself (health, metrics, preflight, refusals).
    async fn respond(
        &self,
        session: &mut Session,
        ctx: &mut Ctx,
        status: u16,
        content_type: &str,
        body: Bytes,
    ) -> Result<bool> {
        let mut resp = ResponseHeader::build(status, Some(6))?;
        cors(&mut resp)?;
        if status == 204 {
            resp.insert_header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS")?;
            resp.insert_header(header::ACCESS_CONTROL_ALLOW_HEADERS, "Range, Content-Type")?;
            resp.insert_header(header::ACCESS_CONTROL_MAX_AGE, "86400")?;
        } else {
            resp.insert_header(header::CONTENT_TYPE, content_type)?;
            resp.insert_header(header::CONTENT_LENGTH, body.len().to_string())?;
        }
        resp.insert_header(header::CACHE_CONTROL, "no-store")?;
        let head = session.req_header().method == Method::HEAD;
        let send_body = !head && status != 204;
        session.write_response_header(Box::new(resp), false).await?;
        // Always ended through the body: Pingora ignores the header's end-of-stream flag for
        // downstream sessions, and an HTTP/2 or HTTP/3 stream left open would be reset.
        let body = send_body.then(|| {
            ctx.body_bytes = body.len() as u64;
            body
        });
        session.write_response_body(body, true).await?;
        Ok(true)
    }

    /// 429 for a client over its API limit, with when to come back.
    async fn too_many(&self, session: &mut Session, ctx: &mut Ctx, wait: Duration) -> Result<bool> {
        metrics::counter!(API_RATE_LIMITED).increment(1);
        ctx.result = Some("denied");
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let body = format!(
            "{{\"error\":{{\"code\":\"rate_limited\",\"message\":\"too many API requests from this address; retry in {secs} s\"}}}}"
        );
        let mut resp = ResponseHeader::build(429, Some(4))?;
        resp.insert_header(header::CONTENT_TYPE, "application/json")?;
        resp.insert_header(header::CONTENT_LENGTH, body.len().to_string())?;
        resp.insert_header(header::RETRY_AFTER, secs.to_string())?;
        resp.insert_header(header::CACHE_CONTROL, "no-store")?;
        session.write_response_header(Box::new(resp), false).await?;
        ctx.body_bytes = body.len() as u64;
        session
            .write_response_body(Some(Bytes::from(body)), true)
            .await?;
        Ok(true)
    }

    async fn refuse(&self, session: &mut Session, ctx: &mut Ctx, refusal: Refusal) -> Result<bool> {
        if let Refusal::Token(rejection) = &refusal {
            metrics::counter!(TOKEN_REJECTIONS, "code" => rejection.code()).increment(1);
            tracing::debug!(code = rejection.code(), "playback token refused");
        }
        ctx.result = Some("denied");
        let body = Bytes::from(refusal.json_body());
        self.respond(session, ctx, refusal.status(), "application/json", body)
            .await
    }
}

#[async_trait]
impl ProxyHttp for EdgeProxy {
    type CTX = Ctx;

    fn new_ctx(&self) -> Ctx {
        Ctx::default()
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<bool> {
        self.stats.request_started();
        ctx.counted = true;
        // Decided while the request is borrowed; only what goes on (the path a fill or the
        // cache key needs) is copied out of it.
        let route = {
            let req = session.req_header();
            let path = req.uri.path();
            match classify(&req.method, path) {
                Route::Gated {
                    token,
                    path: media_path,
                } => match self.gate.authorize(token, media_path, now_unix()) {
                    Ok(_) => Decided::Media(media_path.to_owned()),
                    Err(rejection) => Decided::Refuse(Refusal::Token(rejection)),
                },
                Route::Web => Decided::Web(path.to_owned()),
                Route::Api => Decided::Api,
                Route::Health => Decided::Health,
                Route::Metrics => Decided::Metrics,
                Route::Preflight => Decided::Preflight,
                Route::Refuse(refusal) => Decided::Refuse(refusal),
            }
        };
        match route {
            Decided::Health => {
                ctx.result = Some("local");
                self.respond(session, ctx, 200, "text/plain", Bytes::from_static(b"ok\n"))
                    .await
            }
            Decided::Metrics => {
                ctx.result = Some("local");
                let text = Bytes::from(self.prometheus.render());
                self.respond(session, ctx, 200, "text/plain; version=0.0.4", text)
                    .await
            }
            Decided::Preflight => {
                ctx.result = Some("local");
                self.respond(session, ctx, 204, "", Bytes::new()).await
            }
            Decided::Refuse(refusal) => self.refuse(session, ctx, refusal).await,
            Decided::Media(path) => {
                ctx.kind = Kind::Media;
                ctx.upstream_path = Some(path);
                Ok(false)
            }
            Decided::Web(path) => {
                ctx.kind = Kind::Web;
                ctx.upstream_path = Some(path);
                Ok(false)
            }
            Decided::Api => {
                let client = client_ip(session);
                match client.map(|ip| self.api_limiter.check(ip)) {
                    Some(Err(wait)) => self.too_many(session, ctx, wait).await,
                    _ => {
                        ctx.kind = Kind::Api;
                        Ok(false)
                    }
                }
            }
        }
    }

    fn request_cache_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<()> {
        if ctx.upstream_path.is_some() {
            session
                .cache
                .enable(self.storage, None, None, Some(self.lock), None);
            session.cache.set_max_file_size_bytes(MAX_OBJECT_BYTES);
        }
        Ok(())
    }

    /// The stripped path only: no token, no host, no query, so every viewer shares one copy.
    fn cache_key_callback(&self, _session: &Session, ctx: &mut Ctx) -> Result<CacheKey> {
        match &ctx.upstream_path {
            Some(path) => Ok(self.purges.key(path)),
            None => Error::e_explain(
                ErrorType::InternalError,
                "cache key asked for an ungated request",
            ),
        }
    }

    async fn cache_hit_filter(
        &self,
        _session: &mut Session,
        _meta: &CacheMeta,
        hit_handler: &mut HitHandler,
        _is_fresh: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<ForcedFreshness>> {
        if let Some(hit) = hit_handler.as_any().downcast_ref::<BodyHit>() {
            ctx.from_disk = hit.from_disk;
        }
        Ok(None)
    }

    /// Ranges are cut from hits (the hit handler seeks) and from misses: a miss is read from the
    /// fill as it arrives ([`crate::fill`]), so the range ends the viewer's answer while the fill
    /// runs on to the end for the cache. Without that reader (storage that cannot stream a
    /// fill) the whole object goes out with 200, which HTTP allows: cutting the fill's own
    /// stream would stop it short. Unsatisfiable ranges get 416; malformed ones are ignored.
    fn range_header_filter(
        &self,
        session: &mut Session,
        resp: &mut ResponseHeader,
        _ctx: &mut Ctx,
    ) -> RangeType {
        let rangeable = match session.cache.phase() {
            CachePhase::Hit
            | CachePhase::Stale
            | CachePhase::StaleUpdating
            | CachePhase::Revalidated => true,
            CachePhase::Miss | CachePhase::Expired => session.cache.miss_body_reader().is_some(),
            _ => false,
        };
        if !rangeable {
            return RangeType::None;
        }
        pingora_proxy::range_header_filter(session.req_header(), resp, Some(MAX_RANGES))
    }

    async fn upstream_peer(&self, _session: &mut Session, ctx: &mut Ctx) -> Result<Box<HttpPeer>> {
        let origin = self.origins.pick(&ctx.tried, now_ms()).ok_or_else(|| {
            Error::explain(ErrorType::ConnectRefused, "every origin node refused")
        })?;
        ctx.origin = Some(origin);
        ctx.origin_sent = Some(Instant::now());
        let peer = match (self.origins.tls_name(origin), &self.origin_tls) {
            (Some(name), Some(tls)) => tls.peer(origin, name),
            (Some(_), None) => {
                return Error::e_explain(ErrorType::InternalError, "no certificate for TLS fills");
            }
            (None, _) => HttpPeer::new(origin, false, String::new()),
        };
        Ok(Box::new(peer))
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        peer: &HttpPeer,
        ctx: &mut Ctx,
        mut e: Box<Error>,
    ) -> Box<Error> {
        // Set that node aside and let pingora ask the next one, once each.
        if let Some(origin) = ctx.origin.take() {
            self.origins.mark_down(origin, now_ms());
            ctx.tried.push(origin);
            tracing::warn!(%origin, peer = %peer, "origin node refused a connection; trying the next");
            metrics::counter!(ORIGIN_FAILOVERS).increment(1);
            metrics::counter!(ORIGIN_ERRORS, "kind" => "connect").increment(1);
        }
        if ctx.tried.len() < self.origins.addrs().len() {
            e.set_retry(true);
        }
        e
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        if ctx.kind == Kind::Api {
            // Passed as asked (path, query, cookies), with who asked: origin trusts these
            // only from an edge's certificate. Set, never appended: a viewer's own
            // X-Forwarded-For must not pass for the truth.
            let client = client_ip(session)
                .map(|ip| ip.to_string())
                .unwrap_or_default();
            let tls = over_tls(session);
            upstream.insert_header("x-forwarded-for", client)?;
            upstream.insert_header("x-forwarded-proto", if tls { "https" } else { "http" })?;
            return Ok(());
        }
        let Some(path) = &ctx.upstream_path else {
            return Error::e_explain(ErrorType::InternalError, "no upstream path");
        };
        let uri = path
            .parse::<http::Uri>()
            .map_err(|e| Error::explain(ErrorType::InvalidHTTPHeader, format!("bad path: {e}")))?;
        let host = ctx.origin.map(|o| o.to_string()).unwrap_or_default();
        if ctx.kind == Kind::Web {
            // One copy for everyone: no cookies, no credentials.
            upstream.set_uri(uri);
            upstream.insert_header(header::HOST, host)?;
            upstream.remove_header(&header::COOKIE);
            upstream.remove_header(&header::AUTHORIZATION);
            return Ok(());
        }
        // The viewer's token (verified in request_filter) goes to origin in a header, so origin
        // serves only token holders. Taken from the request path here, on a miss, rather than
        // copied into the context on every request.
        let (token, _) = split_token_path(session.req_header().uri.path())
            .map_err(|e| Error::explain(ErrorType::InternalError, e.to_string()))?;
        let bearer = format!("Bearer {token}");
        upstream.set_uri(uri);
        upstream.insert_header(header::HOST, host)?;
        upstream.insert_header(header::AUTHORIZATION, bearer)?;
        Ok(())
    }

    async fn upstream_response_filter(
        &self,
        _session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        if let Some(sent) = ctx.origin_sent.take() {
            metrics::histogram!(ORIGIN_FETCH_SECONDS).record(sent.elapsed().as_secs_f64());
        }
        if let Some(origin) = ctx.origin {
            self.origins.mark_up(origin);
        }
        if upstream_response.status.is_server_error() {
            metrics::counter!(ORIGIN_ERRORS, "kind" => "status_5xx").increment(1);
        }
        Ok(())
    }

    fn response_cache_filter(
        &self,
        _session: &Session,
        resp: &ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<RespCacheable> {
        let cache_control: Vec<&str> = resp
            .headers
            .get_all(header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let cache_control = (!cache_control.is_empty()).then(|| cache_control.join(","));
        let vary_star = resp.headers.get_all(header::VARY).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|p| p.trim() == "*"))
        });
        let set_cookie = resp.headers.contains_key(header::SET_COOKIE);
        match store_policy(
            resp.status.as_u16(),
            cache_control.as_deref(),
            set_cookie,
            vary_star,
        ) {
            StorePolicy::Store(freshness) => {
                let now = SystemTime::now();
                let fresh_until = now
                    .checked_add(freshness.ttl)
                    .unwrap_or(now + Duration::from_secs(1));
                let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
                ctx.stored = true;
                Ok(RespCacheable::Cacheable(CacheMeta::new(
                    fresh_until,
                    now,
                    secs(freshness.stale_while_revalidate),
                    secs(freshness.stale_if_error),
                    resp.clone(),
                )))
            }
            StorePolicy::DontStore(reason) => {
                tracing::debug!(reason, "origin response not stored");
                Ok(RespCacheable::Uncacheable(NoCacheReason::OriginNotCache))
            }
        }
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        resp: &mut ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        // Told over HTTPS on TCP; a client already on HTTP/3 needs no telling.
        if let Some(alt_svc) = &self.alt_svc
            && over_tls(session)
            && !over_h3(session)
        {
            resp.insert_header(header::ALT_SVC, alt_svc.clone())?;
        }
        if ctx.kind == Kind::Api {
            ctx.result = Some("pass");
            return Ok(());
        }
        let phase = session.cache.phase();
        let served = match phase {
            CachePhase::Hit | CachePhase::Revalidated => Served::Hit {
                disk: ctx.from_disk,
            },
            CachePhase::Stale | CachePhase::StaleUpdating => Served::StaleHit,
            CachePhase::Miss | CachePhase::Expired => Served::Miss { stored: ctx.stored },
            _ => Served::Miss { stored: false },
        };
        match phase {
            CachePhase::Miss => metrics::counter!(MISSES, "reason" => "cold").increment(1),
            CachePhase::Expired => metrics::counter!(MISSES, "reason" => "expired").increment(1),
            CachePhase::StaleUpdating => {
                metrics::counter!(STALE_SERVED, "reason" => "revalidating").increment(1);
            }
            CachePhase::Stale => {
                metrics::counter!(STALE_SERVED, "reason" => "origin_error").increment(1);
            }
            _ => {}
        }
        ctx.result = Some(result_label(served));
        resp.insert_header("cache-status", cache_status(served))?;
        if ctx.kind == Kind::Media {
            cors(resp)?;
        }
        Ok(())
    }

    fn response_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        _end_of_stream: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<Duration>> {
        if let Some(b) = body {
            ctx.body_bytes += b.len() as u64;
        }
        Ok(None)
    }

    /// Stale copies are served while one request revalidates (`error` is `None`: within the
    /// object's stale-while-revalidate) and whenever origin cannot answer (within its
    /// stale-if-error): a viewer's own disconnect is the only error that gets no stale copy.
    fn should_serve_stale(
        &self,
        _session: &mut Session,
        _ctx: &mut Ctx,
        error: Option<&Error>,
    ) -> bool {
        error.is_none_or(|e| e.esource() != &ErrorSource::Downstream)
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut Ctx,
    ) -> pingora_proxy::FailToProxy {
        ctx.result = Some("error");
        let (code, error_code) = match (e.etype(), e.esource()) {
            (ErrorType::HTTPStatus(code), _) => (*code, "origin_error"),
            (
                ErrorType::WriteError | ErrorType::ReadError | ErrorType::ConnectionClosed,
                ErrorSource::Downstream,
            ) => (0, ""),
            (_, ErrorSource::Downstream) => (400, "bad_request"),
            (_, ErrorSource::Upstream) => {
                metrics::counter!(ORIGIN_ERRORS, "kind" => "broken").increment(1);
                (502, "origin_unavailable")
            }
            _ => (500, "internal"),
        };
        if code > 0 && session.response_written().is_some() {
            // Too late for an error answer: appending one to a partial body would corrupt it.
            // Ending here makes the session reset the stream or drop the connection.
            tracing::warn!(error = %e, code, "request failed mid-answer");
        } else if code > 0 {
            tracing::warn!(error = %e, code, "request failed");
            let body = format!(
                "{{\"error\":{{\"code\":\"{error_code}\",\"message\":\"the edge could not serve this request (status {code})\"}}}}"
            );
            if let Err(e) = self
                .respond(session, ctx, code, "application/json", Bytes::from(body))
                .await
            {
                tracing::debug!(error = %e, "could not send the error response");
            }
        }
        pingora_proxy::FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    /// What pingora prints when a request fails: never the token.
    fn request_summary(&self, session: &Session, _ctx: &Ctx) -> String {
        let req = session.req_header();
        format!("{} {}", req.method, redact_token(req.uri.path()))
    }

    async fn logging(&self, _session: &mut Session, _e: Option<&Error>, ctx: &mut Ctx) {
        if ctx.counted {
            self.stats
                .request_finished(ctx.result.unwrap_or("error"), ctx.body_bytes);
        }
    }
}
