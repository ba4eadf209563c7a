//! JSON shapes of the public API (docs/interfaces.md), separate from the stored records so
//! secrets such as password hashes can never be serialised by accident.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::state::{self, JobState, TitleKind, TitleState};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignUp {
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
}

impl From<&state::Account> for Account {
    fn from(a: &state::Account) -> Self {
        Self {
            id: a.id.clone(),
            email: a.email.clone(),
            display_name: a.display_name.clone(),
            is_admin: a.is_admin,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTitle {
    pub name: String,
    pub synopsis: String,
    pub year: u16,
    pub genres: Vec<String>,
    /// G, PG, PG-13, R, NC-17, NR, TV-Y, TV-Y7, TV-G, TV-PG, TV-14 or TV-MA.
    pub maturity_rating: String,
    pub kind: TitleKind,
    pub attribution: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Title {
    pub id: String,
    pub name: String,
    pub synopsis: String,
    pub year: u16,
    pub genres: Vec<String>,
    pub maturity_rating: String,
    pub kind: TitleKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    pub state: TitleState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    pub created_at: u64,
}

impl From<&state::Title> for Title {
    fn from(t: &state::Title) -> Self {
        let m = &t.meta;
        Self {
            id: t.id.clone(),
            name: m.name.clone(),
            synopsis: m.synopsis.clone(),
            year: m.year,
            genres: m.genres.clone(),
            maturity_rating: m.maturity_rating.clone(),
            kind: m.kind,
            attribution: m.attribution.clone(),
            state: t.state,
            duration_secs: t.duration_secs,
            // The hash in the URL makes a changed poster a new URL, so it can be cached forever.
            poster_url: t.poster.as_ref().map(|p| {
                format!(
                    "/api/v1/titles/{}/poster?v={}",
                    t.id,
                    p.sha256.get(..12).unwrap_or("")
                )
            }),
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TitleList {
    pub titles: Vec<Title>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: String,
    pub title_id: String,
    pub state: JobState,
    pub stage: String,
    /// 0.0 to 1.0.
    pub progress: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
}

impl From<&state::Job> for Job {
    fn from(j: &state::Job) -> Self {
        Self {
            id: j.id.clone(),
            title_id: j.title_id.clone(),
            state: j.state,
            stage: j.stage.clone(),
            progress: j.progress,
            error: j.error.clone(),
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PlaybackRequest {
    /// Region hint for steering (e.g. `eu-west`); by default the client's address decides.
    pub region: Option<String>,
    /// True when a player that is already playing renews its pass before the token expires; it is
    /// counted apart from new playbacks.
    #[serde(default)]
    pub renewal: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlaybackEdge {
    pub edge_id: String,
    pub region: String,
    pub base_url: String,
    pub dash_url: String,
    pub hls_url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Playback {
    pub title_id: String,
    /// Signed playback token; it is already part of every URL below.
    pub token: String,
    pub expires_at: u64,
    /// Steered edges, best first.
    pub edges: Vec<PlaybackEdge>,
    /// DASH manifest on the best edge.
    pub dash_url: String,
    /// HLS master playlist on the best edge.
    pub hls_url: String,
}
