//! Records kept in [`super::OriginState`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    /// Normalised: trimmed, lowercase.
    pub email: String,
    pub display_name: String,
    /// Argon2id PHC string; never leaves the origin.
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: u64,
}

/// A sign-up, fully decided by the handler (id, hash, admin flag, clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub now: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub account_id: String,
    pub created_at: u64,
    pub expires_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TitleKind {
    Film,
    Series,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TitleState {
    AwaitingVideo,
    Processing,
    Ready,
    Failed,
}

/// What an admin says about a title (validated by the handler).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleMeta {
    pub name: String,
    pub synopsis: String,
    pub year: u16,
    pub genres: Vec<String>,
    pub maturity_rating: String,
    pub kind: TitleKind,
    pub attribution: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poster {
    pub content_type: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Title {
    pub id: String,
    pub meta: TitleMeta,
    pub state: TitleState,
    pub duration_secs: Option<f64>,
    pub poster: Option<Poster>,
    /// The latest packaging job.
    pub job_id: Option<String>,
    /// The live package's folder under `media/<title id>/` (its job id). Every package gets a
    /// folder of its own because edges keep segments as immutable: a re-packaged title must not
    /// reuse a URL. `None` on a ready title means a package from before folders existed, at the
    /// root of `media/<title id>/`.
    #[serde(default)]
    pub package_dir: Option<String>,
    pub created_at: u64,
}

impl Title {
    /// Where the live package starts, e.g. `/media/<id>/<job id>`, without a trailing slash.
    pub fn package_path(&self) -> String {
        match &self.package_dir {
            Some(dir) => format!("/media/{}/{dir}", self.id),
            None => format!("/media/{}", self.id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub title_id: String,
    pub state: JobState,
    pub stage: String,
    pub progress: f64,
    pub error: Option<String>,
    /// Blob-store path of the uploaded video, and its SHA-256 (hex) and size.
    pub source_blob: String,
    pub source_sha256: String,
    pub source_size: u64,
    pub created_at: u64,
    pub updated_at: u64,
}
