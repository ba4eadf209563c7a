//! Client for the control-plane's steering endpoint (`GET /v1/steer`, protobuf answer).

use std::net::IpAddr;
use std::time::Duration;

use marquee_proto::v1::SteeringAnswer;
use prost::Message;

#[derive(Debug, thiserror::Error)]
pub enum SteerError {
    #[error("no control-plane is configured (--control-plane)")]
    NotConfigured,
    #[error("control-plane request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("control-plane answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("control-plane answer is not a SteeringAnswer: {0}")]
    Decode(#[from] prost::DecodeError),
}

/// Asks `base` which edges `client_ip` should stream from, best first.
pub async fn steer(
    http: &reqwest::Client,
    base: Option<&str>,
    client_ip: IpAddr,
    region: Option<&str>,
) -> Result<SteeringAnswer, SteerError> {
    let base = base.ok_or(SteerError::NotConfigured)?;
    let mut query = vec![("client_ip", client_ip.to_string())];
    if let Some(r) = region.filter(|r| !r.is_empty()) {
        query.push(("region", r.to_owned()));
    }
    let resp = http
        .get(format!("{base}/v1/steer"))
        .query(&query)
        .timeout(Duration::from_secs(3))
        .send()
        .await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        let body = String::from_utf8_lossy(&body).chars().take(200).collect();
        return Err(SteerError::Status {
            status: status.as_u16(),
            body,
        });
    }
    Ok(SteeringAnswer::decode(body)?)
}
