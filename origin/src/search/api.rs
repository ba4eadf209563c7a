//! `GET /api/v1/search`: the words and filters checked, the search run on a blocking thread
//! within its time limit, the page of titles read from the state.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::doc::LIKED_BUCKETS;
use super::feed;
use super::query::{self, Found, Request, Sort};
use super::schema::{self, facet};
use super::wire::{FacetValue, Facets, SearchResults};
use crate::accounts::MaybeViewer;
use crate::api::Ctx;
use crate::catalogue::api::RATINGS;
use crate::catalogue::facts;
use crate::catalogue::state::{self as catalogue, TitleState};
use crate::catalogue::wire::{Title, ViewerRating};
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::policy;
use crate::ratings::state as ratings;

/// Longest query, in characters.
pub const MAX_QUERY: usize = 200;
/// Words of a query that are searched; more are ignored.
const MAX_WORDS: usize = 10;
/// Values one filter may list.
const MAX_VALUES: usize = 20;
/// Deepest page: past it, refine the search.
const MAX_OFFSET: usize = 1_000;
/// How long one search may collect matches.
const TIME_LIMIT: Duration = Duration::from_millis(250);
/// How long a search waits for the index to show a change already applied here.
const FRESHNESS_WAIT: Duration = Duration::from_secs(1);
/// How long a search waits for a free search thread before answering 503.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// Values shown per facet.
const FACET_VALUES: usize = 30;

fn bad(reason: impl Into<String>) -> ApiError {
    ApiError::new(Code::InvalidQuery, reason)
}

/// Search the catalogue, within the chosen profile's maturity limit.
#[utoipa::path(get, path = "/api/v1/search", tag = "titles", params(super::wire::SearchParams),
    responses(
        (status = 200, description = "A page of matches, with counts per filter value", body = SearchResults),
        (status = 400, description = "invalid_query: an unknown parameter, a value out of range, a query over 200 characters or a malformed cursor (the reason says which)", body = ErrorBody),
        (status = 503, description = "unavailable: every search thread is busy; retry shortly", body = ErrorBody),
    ))]
pub async fn search(
    State(ctx): State<Ctx>,
    viewer: MaybeViewer,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<SearchResults>> {
    let started = Instant::now();
    let profile = viewer.0.as_ref().and_then(|v| v.profile.as_ref());
    let limit = policy::limit_of(profile);
    let Some(mut req) = parse(raw.as_deref().unwrap_or(""), limit)? else {
        // Only punctuation: nothing can match.
        return Ok(axum::Json(empty()));
    };
    // A change applied on this node (an admin's edit) is searchable before the answer.
    let last = ctx.read(feed::last)?;
    if !ctx.search.wait_for(last, FRESHNESS_WAIT).await {
        tracing::warn!(
            last,
            shown = ctx.search.shown_seq(),
            "search index lags; answering from it as it is"
        );
    }
    let permit = tokio::time::timeout(QUEUE_WAIT, ctx.search.permits.clone().acquire_owned())
        .await
        .map_err(|_| {
            ApiError::new(
                Code::Unavailable,
                "every search thread is busy; retry shortly",
            )
        })?;
    let permit = permit.map_err(|e| ApiError::internal("search permits", e))?;
    let index = ctx.search.clone();
    let found = tokio::task::spawn_blocking(move || {
        // Held by the search itself: a client that hangs up does not free its thread early.
        let _permit = permit;
        req.deadline = Instant::now() + TIME_LIMIT;
        query::run(&index, &req).map(|f| (f, req))
    })
    .await
    .map_err(|e| ApiError::internal("search task", e))?;
    let (found, req) = found.map_err(|e| ApiError::internal("search", e))?;
    if found.partial {
        metrics::counter!("marquee_origin_search_partial_total").increment(1);
    }
    let results = ctx.read(|tx| {
        let mut titles = Vec::with_capacity(found.ids.len());
        for id in &found.ids {
            // The index may be a moment behind: the state has the last word.
            if let Some(t) = catalogue::title(tx, id)?
                && t.state == TitleState::Ready
                && policy::may_watch(limit, &t.meta.maturity_rating).is_ok()
            {
                let mut wire = Title::from(&t);
                wire.viewer_rating = ViewerRating::of(&ratings::counts(tx, id)?);
                titles.push(wire);
            }
        }
        Ok(titles)
    })?;
    metrics::histogram!("marquee_origin_search_seconds").record(started.elapsed().as_secs_f64());
    Ok(axum::Json(answer(&req, found, results)))
}

fn empty() -> SearchResults {
    SearchResults {
        titles: Vec::new(),
        total: 0,
        facets: Facets::default(),
        next_cursor: None,
        partial: false,
    }
}

fn answer(req: &Request, found: Found, titles: Vec<Title>) -> SearchResults {
    let next = req.offset + req.page;
    let next_cursor = (found.total > next && next <= MAX_OFFSET).then(|| cursor(next));
    let mut facets = Facets::default();
    for (root, values) in found.facets {
        let selected = req.filters.get(root);
        let values: Vec<FacetValue> = values
            .into_iter()
            .map(|(value, count)| FacetValue {
                selected: selected.is_some_and(|s| s.contains(&value)),
                value,
                count,
            })
            .collect();
        // Chosen values stay listed even when rarer than the others shown.
        let (mut values, rest): (Vec<_>, Vec<_>) = values.into_iter().partition(|v| v.selected);
        let room = FACET_VALUES.saturating_sub(values.len());
        values.extend(rest.into_iter().take(room));
        match root {
            facet::YEAR | facet::DECADE | facet::LIKED => {
                values.sort_by_key(|v| std::cmp::Reverse(number(&v.value)));
            }
            facet::MATURITY => {
                values.sort_by_key(|v| RATINGS.iter().position(|r| *r == v.value));
            }
            _ => values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value))),
        }
        let slot = match root {
            facet::GENRE => &mut facets.genre,
            facet::YEAR => &mut facets.year,
            facet::DECADE => &mut facets.decade,
            facet::LANGUAGE => &mut facets.language,
            facet::SUBTITLES => &mut facets.subtitles,
            facet::MATURITY => &mut facets.maturity,
            facet::LIKED => &mut facets.liked,
            _ => &mut facets.kind,
        };
        *slot = values;
    }
    SearchResults {
        titles,
        total: found.total as u64,
        facets,
        next_cursor,
        partial: found.partial,
    }
}

fn number(s: &str) -> u64 {
    s.parse().unwrap_or(0)
}

#[cfg(test)]
pub(crate) fn cursor_for_tests(offset: usize) -> String {
    cursor(offset)
}

fn cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o{offset}"))
}

fn offset_of(cursor: &str) -> ApiResult<usize> {
    let bad_cursor = || bad("cursor: not one this API gave; start again without it");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
    let offset = std::str::from_utf8(&raw)
        .ok()
        .and_then(|s| s.strip_prefix('o'))
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(bad_cursor)?;
    if offset > MAX_OFFSET {
        return Err(bad_cursor());
    }
    Ok(offset)
}

/// The search a query string asks for; `None` when its words are all punctuation.
pub(crate) fn parse(raw: &str, limit: policy::Maturity) -> ApiResult<Option<Request>> {
    let mut req = Request {
        words: Vec::new(),
        filters: BTreeMap::new(),
        years: (None, None),
        sort: Sort::Relevance,
        limit,
        offset: 0,
        page: 20,
        deadline: Instant::now() + TIME_LIMIT,
    };
    let mut typed = None;
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        let value = value.trim();
        let year = |v: &str| -> ApiResult<u16> {
            v.parse::<u16>()
                .ok()
                .filter(|y| (1870..=2100).contains(y))
                .ok_or_else(|| bad(format!("{name}: {v:?} is not a year between 1870 and 2100")))
        };
        let (root, value) = match &*name {
            "q" => {
                if value.chars().count() > MAX_QUERY {
                    return Err(bad(format!("q: at most {MAX_QUERY} characters")));
                }
                typed = Some(value.to_owned());
                continue;
            }
            "year_from" => {
                req.years.0 = Some(year(value)?);
                continue;
            }
            "year_to" => {
                req.years.1 = Some(year(value)?);
                continue;
            }
            "sort" => {
                req.sort = match value {
                    "relevance" => Sort::Relevance,
                    "newest" => Sort::Newest,
                    "rating" => Sort::Rating,
                    "az" => Sort::Az,
                    _ => return Err(bad("sort: relevance, newest, rating or az")),
                };
                continue;
            }
            "limit" => {
                req.page = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=50).contains(n))
                    .ok_or_else(|| bad("limit: 1 to 50"))?;
                continue;
            }
            "cursor" => {
                req.offset = offset_of(value)?;
                continue;
            }
            "genre" => {
                if value.is_empty()
                    || value.chars().count() > 40
                    || value.chars().any(char::is_control)
                {
                    return Err(bad("genre: 1 to 40 characters"));
                }
                (facet::GENRE, value.to_owned())
            }
            "year" => (facet::YEAR, year(value)?.to_string()),
            "decade" => {
                let d = year(value)?;
                if d % 10 != 0 {
                    return Err(bad(format!("decade: {d} is not a decade (1990, 2000, …)")));
                }
                (facet::DECADE, d.to_string())
            }
            "language" | "subtitles" => {
                let code = facts::language_code(value).map_err(|r| bad(format!("{name}: {r}")))?;
                let root = if name == "language" {
                    facet::LANGUAGE
                } else {
                    facet::SUBTITLES
                };
                (root, code)
            }
            "maturity" => {
                if !RATINGS.contains(&value) {
                    return Err(bad(format!("maturity: one of {}", RATINGS.join(", "))));
                }
                (facet::MATURITY, value.to_owned())
            }
            "liked" => {
                let ok = LIKED_BUCKETS.iter().any(|b| b.to_string() == value);
                if !ok {
                    return Err(bad("liked: 50, 75 or 90 (percent)"));
                }
                (facet::LIKED, value.to_owned())
            }
            "kind" => {
                if value != "film" && value != "series" {
                    return Err(bad("kind: film or series"));
                }
                (facet::KIND, value.to_owned())
            }
            other => {
                return Err(bad(format!(
                    "unknown parameter {other:?}: q, genre, year, decade, year_from, year_to, \
                     language, subtitles, maturity, liked, kind, sort, limit or cursor"
                )));
            }
        };
        let values = req.filters.entry(root).or_default();
        if values.len() == MAX_VALUES {
            return Err(bad(format!("{name}: at most {MAX_VALUES} values")));
        }
        if !values.contains(&value) {
            values.push(value);
        }
    }
    if let (Some(from), Some(to)) = req.years
        && from > to
    {
        return Err(bad("year_from is after year_to"));
    }
    if let Some(q) = typed.filter(|q| !q.is_empty()) {
        req.words = schema::words(&q);
        req.words.truncate(MAX_WORDS);
        // Only punctuation: nothing matches it, unless filters say what to browse.
        if req.words.is_empty() && req.filters.is_empty() && req.years == (None, None) {
            return Ok(None);
        }
    }
    Ok(Some(req))
}
