//! JSON shapes of `GET /api/v1/search` (docs/interfaces.md).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::wire::Title;

/// What a search may ask. Filters may repeat (`genre=Drama&genre=Comedy`: either); different
/// filters all apply.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the parameters; the handler parses them itself (repeats).
pub struct SearchParams {
    /// The words typed, at most 200 characters. The last word matches as a prefix; words of 5
    /// letters or more may have a typo, of 9 or more two. Left out: browse by filters alone.
    pub q: Option<String>,
    /// Genre names, exactly as titles carry them.
    pub genre: Option<Vec<String>>,
    /// Release years.
    pub year: Option<Vec<u16>>,
    /// Release decades: 1990 is 1990–1999.
    pub decade: Option<Vec<u16>>,
    /// Released in or after this year.
    pub year_from: Option<u16>,
    /// Released in or before this year.
    pub year_to: Option<u16>,
    /// Audio languages (the original or a dub), ISO 639 codes.
    pub language: Option<Vec<String>>,
    /// Subtitle languages, ISO 639 codes.
    pub subtitles: Option<Vec<String>>,
    /// Maturity ratings (`PG-13`, `TV-MA`, …).
    pub maturity: Option<Vec<String>>,
    /// Liked by at least this share of the viewers who rated it: 50, 75 or 90 (percent).
    pub liked: Option<u8>,
    /// `film` or `series`.
    pub kind: Option<Vec<String>>,
    /// `relevance` (the default), `newest`, `rating` or `az`.
    pub sort: Option<String>,
    /// Titles per page, 1 to 50 (default 20).
    pub limit: Option<usize>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// The page of matches, best first (or in the order asked).
    pub titles: Vec<Title>,
    /// How many titles match in all.
    pub total: u64,
    pub facets: Facets,
    /// Ask with this for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The search ran out of time and shows what it had found by then.
    pub partial: bool,
}

/// For each filter, the values among the matches and how many match each. A filter in use
/// counts its values as if it were not, so the viewer can switch to another.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Facets {
    pub genre: Vec<FacetValue>,
    /// Newest first.
    pub year: Vec<FacetValue>,
    /// Newest first.
    pub decade: Vec<FacetValue>,
    pub language: Vec<FacetValue>,
    pub subtitles: Vec<FacetValue>,
    pub maturity: Vec<FacetValue>,
    /// "Liked by at least": 90, 75, 50.
    pub liked: Vec<FacetValue>,
    pub kind: Vec<FacetValue>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
    /// The search filters on it.
    pub selected: bool,
}
