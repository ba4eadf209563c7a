//! Client for the control-plane's steering endpoint (`GET /v1/steer`, protobuf answer).

use std::net::IpAddr;
use std::time::Duration;

use marquee_proto::v1::SteeringAnswer;

use crate::control_plane::{self, CpError};

/// Who asks to be steered.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub client_ip: IpAddr,
    /// A region hint that overrides the address's.
    pub region: Option<&'a str>,
    /// The edge a playing session streams from now (it stays first while about as good).
    pub current: Option<&'a str>,
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
