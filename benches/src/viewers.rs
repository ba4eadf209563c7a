//! Viewers for the benchmarks: accounts signed up through the public API, each with a profile
//! chosen for its session, as the web app leaves them.

use anyhow::{Context, bail};
use reqwest::header::COOKIE;
use serde_json::{Value, json};

/// A signed-in viewer watching as its profile: the node it talks to and its session cookie.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub base: String,
    pub cookie: String,
}

impl Viewer {
    /// Signs up `email` at `base`, adds a profile and chooses it.
    pub async fn sign_up(
        http: &reqwest::Client,
        base: &str,
        email: &str,
    ) -> anyhow::Result<Viewer> {
        let body = json!({"email": email, "password": "a benchmark viewer's password"});
        let resp = http
            .post(format!("{base}/api/v1/accounts"))
            .json(&body)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("signing up {email} failed: {}", resp.status());
        }
        let cookie = crate::origins::session_cookie(&resp)?;
        let viewer = Viewer {
            base: base.to_owned(),
            cookie,
        };
        let profile = viewer
            .send(
                http,
                reqwest::Method::POST,
                "/api/v1/profiles",
                Some(json!({"name": "Bench"})),
            )
            .await?;
        let id = profile["id"].as_str().context("profile id")?.to_owned();
        viewer
            .send(
                http,
                reqwest::Method::PUT,
                "/api/v1/sessions/current/profile",
                Some(json!({"profile_id": id})),
            )
            .await?;
        Ok(viewer)
    }

    /// One request with this viewer's session; the JSON answer (null for 204), or an error
    /// naming the status.
    pub async fn send(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = http
            .request(method, format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        if !status.is_success() {
            bail!("{path}: {status} {}", resp.text().await.unwrap_or_default());
        }
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        Ok(resp.json().await?)
    }
}
