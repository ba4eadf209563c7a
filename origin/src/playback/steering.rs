//! Client for the control-plane's steering endpoint (`GET /v1/steer`, protobuf answer).

use std::net::IpAddr;
use std::time::Duration;

use marquee_proto::v1::{RankedEdge, SteeringAnswer};

use crate::accounts::auth;
use crate::api::Ctx;
use crate::control_plane::{self, CpError};

/// Whether the viewer's page came over HTTPS (origin's own URL is HTTPS, or the edge in front
/// says so in `X-Forwarded-Proto`), decided as for `Secure` cookies. Such a page may only fetch
/// media over HTTPS; a forged header only gets the sender HTTPS addresses.
pub struct OverHttps(pub bool);

impl axum::extract::FromRequestParts<Ctx> for OverHttps {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        ctx: &Ctx,
    ) -> Result<Self, Self::Rejection> {
        let public_url = ctx.config.public_url.as_deref();
        Ok(Self(auth::request_over_https(public_url, &parts.headers)))
    }
}

/// Who asks to be steered.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub client_ip: IpAddr,
    /// A region hint that overrides the address's.
    pub region: Option<&'a str>,
    /// The edge a playing session streams from now (it stays first while about as good).
    pub current: Option<&'a str>,
}

/// The base URL to hand a viewer for `edge`: its HTTPS one when the viewer's page is HTTPS
/// and the edge has one beside a plain public URL.
pub fn edge_base(edge: &RankedEdge, over_https: bool) -> &str {
    let url = if over_https && !edge.https_url.is_empty() {
        &edge.https_url
    } else {
        &edge.public_url
    };
    url.trim_end_matches('/')
}

/// Asks `base` which edges `viewer` should stream from, best first.
pub async fn steer(
    http: &reqwest::Client,
    base: Option<&str>,
    viewer: Viewer<'_>,
) -> Result<SteeringAnswer, CpError> {
    let base = base.ok_or(CpError::NotConfigured)?;
    let mut query = vec![("client_ip", viewer.client_ip.to_string())];
    if let Some(r) = viewer.region.filter(|r| !r.is_empty()) {
        query.push(("region", r.to_owned()));
    }
    if let Some(c) = viewer.current.filter(|c| !c.is_empty()) {
        query.push(("current", c.to_owned()));
    }
    let resp = http
        .get(format!("{base}/v1/steer"))
        .query(&query)
        .timeout(Duration::from_secs(3))
        .send()
        .await?;
    control_plane::protobuf(resp).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_pages_get_the_edges_https_address_when_it_has_one() {
        let edge = |public: &str, https: &str| RankedEdge {
            public_url: public.into(),
            https_url: https.into(),
            ..Default::default()
        };
        let lab = edge("http://127.0.0.1:8081/", "https://localhost:8443");
        assert_eq!(edge_base(&lab, false), "http://127.0.0.1:8081");
        assert_eq!(edge_base(&lab, true), "https://localhost:8443");
        let production = edge("https://edge-1.example.net", "");
        assert_eq!(edge_base(&production, true), "https://edge-1.example.net");
        assert_eq!(edge_base(&production, false), "https://edge-1.example.net");
    }
}
