//! JSON shapes of the series API (docs/interfaces.md).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state;
use crate::catalogue::facts::Facts;
use crate::catalogue::state::{Markers, TitleState};
use crate::history::wire::ItemProgress;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeason {
    /// 1 to 999.
    pub number: u16,
    /// Defaults to "Season <number>".
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEpisode {
    /// 1 to 999, unique in its season.
    pub number: u16,
    pub name: String,
    #[serde(default)]
    pub synopsis: String,
    /// Air date, languages, cast and crew.
    #[serde(default)]
    pub facts: Option<Facts>,
}

/// Fields to change on an episode; those left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EpisodeEdit {
    pub name: Option<String>,
    pub synopsis: Option<String>,
    /// Replaces the facts as a whole.
    pub facts: Option<Facts>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Episode {
    pub id: String,
    pub series_id: String,
    pub season: u16,
    pub number: u16,
    pub name: String,
    pub synopsis: String,
    pub state: TitleState,
    /// The video's length, once packaged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_secs: Option<f64>,
    pub markers: Markers,
    pub facts: Facts,
    /// Where the chosen profile is in it (in a series' seasons, for a viewer with a profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ItemProgress>,
}

impl From<&state::Episode> for Episode {
    fn from(e: &state::Episode) -> Self {
        Self {
            id: e.id.clone(),
            series_id: e.series_id.clone(),
            season: e.season,
            number: e.number,
            name: e.meta.name.clone(),
            synopsis: e.meta.synopsis.clone(),
            state: e.state,
            runtime_secs: e.duration_secs,
            markers: e.markers,
            facts: e.meta.facts.clone(),
            progress: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Season {
    pub number: u16,
    pub name: String,
    /// In order; for viewers only those ready to play.
    pub episodes: Vec<Episode>,
}

/// A series' seasons with their episodes, in viewing order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Seasons {
    pub series_id: String,
    pub seasons: Vec<Season>,
}

impl Seasons {
    /// Groups `episodes` (in viewing order) under `seasons`; `keep_empty` keeps seasons with no
    /// episode (for admins; viewers see only seasons with something to play).
    pub fn group(
        series_id: &str,
        seasons: Vec<state::Season>,
        episodes: &[state::Episode],
        keep_empty: bool,
    ) -> Self {
        let seasons = seasons
            .into_iter()
            .map(|s| Season {
                episodes: episodes
                    .iter()
                    .filter(|e| e.season == s.number)
                    .map(Episode::from)
                    .collect(),
                number: s.number,
                name: s.name,
            })
            .filter(|s| keep_empty || !s.episodes.is_empty())
            .collect();
        Self {
            series_id: series_id.to_owned(),
            seasons,
        }
    }
}
