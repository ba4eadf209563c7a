//! JSON shapes of progress, "Continue watching" and history (docs/interfaces.md).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state;
use crate::catalogue::wire::Title;
use crate::series::wire::Episode;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressReport {
    /// Seconds from the start; not negative, at most the item's length.
    pub position_secs: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ItemProgress {
    pub position_secs: f64,
    pub duration_secs: f64,
    /// Into the credits (or, without a credits marker, 95 % through).
    pub finished: bool,
    pub updated_at_ms: u64,
}

impl From<&state::Progress> for ItemProgress {
    fn from(p: &state::Progress) -> Self {
        Self {
            position_secs: p.position_secs,
            duration_secs: p.duration_secs,
            finished: p.finished,
            updated_at_ms: p.updated_at_ms,
        }
    }
}

/// One card of "Continue watching".
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContinueItem {
    pub title: Title,
    /// For a series: the episode to play (the one under way, or the next one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode: Option<Episode>,
    /// Where the viewer is in it; absent when it is the next episode, not yet started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ItemProgress>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContinueWatching {
    pub items: Vec<ContinueItem>,
}

/// One line of the viewing history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryItem {
    /// The film's title id or the episode's id (what `DELETE /api/v1/history/{id}` hides).
    pub item_id: String,
    pub title_id: String,
    pub title_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub season: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode_number: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode_name: Option<String>,
    /// When it was last watched (Unix milliseconds).
    pub watched_at_ms: u64,
    pub progress: ItemProgress,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct History {
    pub items: Vec<HistoryItem>,
    /// Pass as `before_ms` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before_ms: Option<u64>,
}
