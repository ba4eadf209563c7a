//! JSON shapes of the playback API (docs/interfaces.md).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::state::Markers;
use crate::series::wire::Episode;

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PlaybackRequest {
    /// Region hint for steering (e.g. `eu-west`); by default the client's address decides.
    pub region: Option<String>,
    /// True when a player that is already playing renews its pass before the token expires; it is
    /// counted apart from new playbacks.
    #[serde(default)]
    pub renewal: bool,
    /// For a series: the episode to play. Without it, the episode the profile is on.
    pub episode_id: Option<String>,
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
    /// For a series: the episode these URLs play.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode: Option<Episode>,
    /// For a series: the ready episode after this one, for the next-episode countdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_episode: Option<Episode>,
    /// Where this profile left off in what plays; absent to start at the beginning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_from_secs: Option<f64>,
    /// Intro and credits of what plays (the film's, or the episode's).
    pub markers: Markers,
    /// Signed playback token; it is already part of every URL below.
    pub token: String,
    pub expires_at: u64,
    /// Steered edges, best first.
    pub edges: Vec<PlaybackEdge>,
    /// DASH manifest on the best edge.
    pub dash_url: String,
    /// HLS master playlist on the best edge.
    pub hls_url: String,
    /// The DASH manifest with content steering: every steered edge is a pathway, so a player
    /// carries on from the next edge when one fails. A path on this API's host.
    pub steered_dash_url: String,
    /// The HLS master playlist with content steering (`EXT-X-CONTENT-STEERING`), likewise.
    pub steered_hls_url: String,
    /// The trick-play thumbnails' WebVTT index on the best edge (packages made before
    /// thumbnails have none: a player shows no previews when it is missing).
    pub thumbnails_url: String,
    /// The tallest video the viewer's plan includes, in pixels (absent: no cap). Taller rungs
    /// are left out of the steered manifests and refused by the edges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_height: Option<u32>,
}
