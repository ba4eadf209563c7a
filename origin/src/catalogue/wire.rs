//! JSON shapes of the catalogue API (docs/interfaces.md), separate from the stored records so
//! nothing stored is serialised by accident.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::facts::Facts;
use super::state::{self, Markers, TitleKind, TitleState};
use crate::history::wire::ItemProgress;
use crate::ratings::state::{Thumb, ThumbCounts};

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
    /// Languages, release date, cast and crew; a release date sets `year`.
    #[serde(default)]
    pub facts: Option<Facts>,
}

/// Fields to change on a title; those left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TitleEdit {
    pub name: Option<String>,
    pub synopsis: Option<String>,
    pub year: Option<u16>,
    pub genres: Option<Vec<String>>,
    /// G, PG, PG-13, R, NC-17, NR, TV-Y, TV-Y7, TV-G, TV-PG, TV-14 or TV-MA.
    pub maturity_rating: Option<String>,
    /// An empty string removes the attribution.
    pub attribution: Option<String>,
    /// Replaces the facts as a whole; a release date sets `year`.
    pub facts: Option<Facts>,
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
    /// Where the intro and the credits are; a series' are on its episodes.
    pub markers: Markers,
    pub facts: Facts,
    /// The languages it has subtitles in (a series': any of its episodes'); on a title page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtitle_languages: Vec<String>,
    /// What viewers think of it, from their thumbs; on a title page, once someone rated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_rating: Option<ViewerRating>,
    pub created_at: u64,
    /// When it premieres (Unix seconds): until then it is coming soon and cannot be played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premieres_at: Option<u64>,
    /// The chosen profile's marks on this title (on a title page, with a profile chosen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mine: Option<Mine>,
}

/// What viewers think of a title: the share of their thumbs that are up or love.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ViewerRating {
    /// 0 to 100.
    pub liked_percent: u8,
    /// How many profiles rated it.
    pub ratings: u64,
}

impl ViewerRating {
    pub fn of(counts: &ThumbCounts) -> Option<Self> {
        Some(Self {
            liked_percent: counts.liked_percent()?,
            ratings: counts.total(),
        })
    }
}

/// What the chosen profile has done with a title.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Mine {
    pub in_my_list: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<Thumb>,
    /// For a film: where the profile is in it (a series' is per episode, in its seasons).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ItemProgress>,
    /// Whether the profile asked to be reminded when this coming-soon title is out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reminded: bool,
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
            markers: t.markers,
            facts: m.facts.clone(),
            subtitle_languages: Vec::new(),
            viewer_rating: None,
            created_at: t.created_at,
            premieres_at: t.premieres_at,
            mine: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TitleList {
    pub titles: Vec<Title>,
}
