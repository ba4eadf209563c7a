//! A small client for origin's HTTP API (docs/interfaces.md), used to seed the demo catalogue
//! exactly as an admin would: a real session cookie, real uploads.

use std::path::Path;
use std::time::Duration;

use bytes::BytesMut;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{what}: request to origin failed: {source}")]
    Transport {
        what: &'static str,
        source: reqwest::Error,
    },
    #[error("{what}: origin answered {status}: {code}: {message}")]
    Status {
        what: &'static str,
        status: StatusCode,
        code: String,
        message: String,
    },
    #[error("could not read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

impl ApiError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub email: String,
    #[serde(default)]
    pub is_admin: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewTitle<'a> {
    pub name: &'a str,
    pub synopsis: &'a str,
    pub year: u16,
    pub genres: &'a [&'a str],
    pub maturity_rating: &'a str,
    pub kind: &'a str,
    /// Languages, release date, cast and crew (origin's `Facts`).
    pub facts: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Title {
    pub id: String,
    pub name: String,
    pub state: String,
    #[serde(default)]
    pub poster_url: Option<String>,
    #[serde(default)]
    pub facts: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: String,
    pub state: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub progress: f64,
    #[serde(default)]
    pub error: Option<String>,
}

/// One origin cluster member, as `GET /api/v1/admin/cluster` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    pub node_id: u64,
    pub role: String,
    pub api_addr: String,
    pub raft_addr: String,
    pub last_applied_index: Option<u64>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterView {
    pub node_id: u64,
    pub leader_id: Option<u64>,
    pub term: u64,
    pub members: Vec<Member>,
}

/// Where the intro and the credits are, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Markers {
    pub intro_start_secs: f64,
    pub intro_end_secs: f64,
    pub credits_start_secs: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Episode {
    pub id: String,
    pub number: u16,
    pub state: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Season {
    pub number: u16,
    pub episodes: Vec<Episode>,
}

#[derive(Debug, Deserialize)]
struct SeasonList {
    seasons: Vec<Season>,
}

#[derive(Debug, Deserialize)]
struct TitleList {
    titles: Vec<Title>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|source| ApiError::Transport {
                what: "building the HTTP client",
                source,
            })?;
        Ok(Api {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs in; the session cookie is kept for the following calls.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Account, ApiError> {
        let body = serde_json::json!({ "email": email, "password": password });
        let resp = self
            .http
            .post(self.url("/api/v1/sessions"))
            .json(&body)
            .send()
            .await;
        json(resp, "signing in").await
    }

    /// Creates an account (and its session).
    pub async fn register(&self, email: &str, password: &str) -> Result<Account, ApiError> {
        let body = serde_json::json!({
            "email": email, "password": password, "display_name": "Marquee admin"
        });
        let resp = self
            .http
            .post(self.url("/api/v1/accounts"))
            .json(&body)
            .send()
            .await;
        json(resp, "creating the admin account").await
    }

    /// Every title (an admin sees all states).
    pub async fn titles(&self) -> Result<Vec<Title>, ApiError> {
        let resp = self.http.get(self.url("/api/v1/titles")).send().await;
        let list: TitleList = json(resp, "listing titles").await?;
        Ok(list.titles)
    }

    pub async fn create_title(&self, title: &NewTitle<'_>) -> Result<Title, ApiError> {
        let resp = self
            .http
            .post(self.url("/api/v1/admin/titles"))
            .json(title)
            .send()
            .await;
        json(resp, "creating a title").await
    }

    /// Replaces a title's facts.
    pub async fn put_facts(&self, id: &str, facts: &serde_json::Value) -> Result<Title, ApiError> {
        let resp = self
            .http
            .patch(self.url(&format!("/api/v1/admin/titles/{id}")))
            .json(&serde_json::json!({ "facts": facts }))
            .send()
            .await;
        json(resp, "setting a title's facts").await
    }

    pub async fn put_poster(&self, id: &str, svg: String) -> Result<(), ApiError> {
        let resp = self
            .http
            .put(self.url(&format!("/api/v1/admin/titles/{id}/poster")))
            .header(reqwest::header::CONTENT_TYPE, "image/svg+xml")
            .body(svg)
            .send()
            .await;
        empty(resp, "uploading a poster").await
    }

    /// Streams the file at `path` as the video of `target` (`titles/<id>` for a film,
    /// `episodes/<id>` for an episode); `on_bytes` hears each chunk's size.
    pub async fn put_video(
        &self,
        target: &str,
        path: &Path,
        on_bytes: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<Job, ApiError> {
        let file_err = |source| ApiError::File {
            path: path.display().to_string(),
            source,
        };
        let file = tokio::fs::File::open(path).await.map_err(file_err)?;
        let len = file.metadata().await.map_err(file_err)?.len();
        let chunks = futures::stream::unfold((file, on_bytes), |(mut file, on_bytes)| async move {
            let mut buf = BytesMut::with_capacity(256 * 1024);
            match file.read_buf(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    on_bytes(n as u64);
                    Some((Ok::<_, std::io::Error>(buf.freeze()), (file, on_bytes)))
                }
                Err(e) => Some((Err(e), (file, on_bytes))),
            }
        });
        let resp = self
            .http
            .put(self.url(&format!("/api/v1/admin/{target}/video")))
            .header(reqwest::header::CONTENT_TYPE, "video/mp4")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await;
        json(resp, "uploading a video").await
    }

    /// The latest packaging job of `target` (`titles/<id>` or `episodes/<id>`).
    pub async fn job(&self, target: &str) -> Result<Job, ApiError> {
        let resp = self
            .http
            .get(self.url(&format!("/api/v1/admin/{target}/job")))
            .send()
            .await;
        json(resp, "reading a packaging job").await
    }

    /// A series' seasons with every episode (admin view).
    pub async fn seasons(&self, series_id: &str) -> Result<Vec<Season>, ApiError> {
        let resp = self
            .http
            .get(self.url(&format!("/api/v1/admin/titles/{series_id}/seasons")))
            .send()
            .await;
        let list: SeasonList = json(resp, "listing seasons").await?;
        Ok(list.seasons)
    }

    pub async fn create_season(&self, series_id: &str, number: u16) -> Result<(), ApiError> {
        let resp = self
            .http
            .post(self.url(&format!("/api/v1/admin/titles/{series_id}/seasons")))
            .json(&serde_json::json!({ "number": number }))
            .send()
            .await;
        json::<serde_json::Value>(resp, "creating a season")
            .await
            .map(drop)
    }

    pub async fn create_episode(
        &self,
        series_id: &str,
        season: u16,
        number: u16,
        (name, synopsis): (&str, &str),
    ) -> Result<Episode, ApiError> {
        let path = format!("/api/v1/admin/titles/{series_id}/seasons/{season}/episodes");
        let body = serde_json::json!({ "number": number, "name": name, "synopsis": synopsis });
        let resp = self.http.post(self.url(&path)).json(&body).send().await;
        json(resp, "creating an episode").await
    }

    /// Sets where the intro and the credits are on `target` (`titles/<id>` or `episodes/<id>`).
    pub async fn put_markers(&self, target: &str, markers: &Markers) -> Result<(), ApiError> {
        let resp = self
            .http
            .put(self.url(&format!("/api/v1/admin/{target}/markers")))
            .json(markers)
            .send()
            .await;
        json::<serde_json::Value>(resp, "setting markers")
            .await
            .map(drop)
    }

    /// Uploads WebVTT subtitles in `language` for a film or an episode (before its video, so
    /// its first package has them).
    pub async fn put_subtitles(
        &self,
        video_id: &str,
        language: &str,
        vtt: String,
    ) -> Result<(), ApiError> {
        let path = format!("/api/v1/admin/videos/{video_id}/subtitles/{language}");
        let resp = self
            .http
            .put(self.url(&path))
            .header(reqwest::header::CONTENT_TYPE, "text/vtt")
            .body(vtt)
            .send()
            .await;
        empty(resp, "uploading subtitles").await
    }
}

impl Api {
    pub async fn cluster(&self) -> Result<ClusterView, ApiError> {
        let resp = self
            .http
            .get(self.url("/api/v1/admin/cluster"))
            .send()
            .await;
        json(resp, "reading the cluster").await
    }

    pub async fn add_member(
        &self,
        node_id: u64,
        raft_addr: &str,
        api_addr: &str,
    ) -> Result<(), ApiError> {
        let body = serde_json::json!({
            "node_id": node_id, "raft_addr": raft_addr, "api_addr": api_addr
        });
        let resp = self
            .http
            .post(self.url("/api/v1/admin/cluster/members"))
            .json(&body)
            .send()
            .await;
        empty(resp, "adding a node").await
    }

    pub async fn remove_member(&self, node_id: u64) -> Result<(), ApiError> {
        let resp = self
            .http
            .delete(self.url(&format!("/api/v1/admin/cluster/members/{node_id}")))
            .send()
            .await;
        empty(resp, "removing a node").await
    }
}

async fn checked(
    resp: Result<reqwest::Response, reqwest::Error>,
    what: &'static str,
) -> Result<reqwest::Response, ApiError> {
    let resp = resp.map_err(|source| ApiError::Transport { what, source })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => (body.error.code, body.error.message),
        Err(_) => (
            "unexpected_answer".to_string(),
            text.chars().take(300).collect(),
        ),
    };
    Err(ApiError::Status {
        what,
        status,
        code,
        message,
    })
}

async fn json<T: serde::de::DeserializeOwned>(
    resp: Result<reqwest::Response, reqwest::Error>,
    what: &'static str,
) -> Result<T, ApiError> {
    checked(resp, what)
        .await?
        .json()
        .await
        .map_err(|source| ApiError::Transport { what, source })
}

async fn empty(
    resp: Result<reqwest::Response, reqwest::Error>,
    what: &'static str,
) -> Result<(), ApiError> {
    checked(resp, what).await.map(|_| ())
}
