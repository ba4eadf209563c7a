//! Progress reports, "Continue watching", and the viewing history with hide and CSV export,
//! for the chosen profile.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;

use super::state::{self, Command, Progress, Rejection, Report};
use super::wire::{
    ContinueItem, ContinueWatching, History, HistoryItem, ItemProgress, ProgressReport,
};
use crate::api::Ctx;
use crate::catalogue::api::checked_id;
use crate::catalogue::state::{self as catalogue, Title, TitleKind, TitleState};
use crate::catalogue::wire::Title as TitleWire;
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::geo::ClientIp;
use crate::ids::now_unix_ms;
use crate::policy::{self, Maturity};
use crate::profiles::Watching;
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use crate::series::state::{self as series, Episode};
use crate::series::wire::Episode as EpisodeWire;

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {}
    }
}

/// Cards in "Continue watching".
const CONTINUE_ROW: usize = 20;
/// How far past an item's end a reported position may be (players round, and a last report
/// can land a moment after the end); it is recorded as the end.
const PAST_END_SLACK_SECS: f64 = 5.0;

/// Something with a video: a film's title, or an episode with its series.
pub(crate) struct Item {
    pub title: Title,
    pub episode: Option<Episode>,
}

impl Item {
    fn id(&self) -> &str {
        self.episode.as_ref().map_or(&self.title.id, |e| &e.id)
    }
    fn ready(&self) -> bool {
        match &self.episode {
            Some(e) => e.state == TitleState::Ready,
            None => self.title.state == TitleState::Ready,
        }
    }
    fn duration_secs(&self) -> Option<f64> {
        self.episode
            .as_ref()
            .map_or(self.title.duration_secs, |e| e.duration_secs)
    }
    fn credits_start_secs(&self) -> Option<f64> {
        let markers = self
            .episode
            .as_ref()
            .map_or(&self.title.markers, |e| &e.markers);
        markers.credits_start_secs
    }
}

/// The film or episode `id`, with its title.
pub(crate) fn find_item(tx: &impl Reads, id: &str) -> Result<Option<Item>, StoreError> {
    if let Some(title) = catalogue::title(tx, id)? {
        return Ok(Some(Item {
            title,
            episode: None,
        }));
    }
    let Some(episode) = series::episode(tx, id)? else {
        return Ok(None);
    };
    Ok(catalogue::title(tx, &episode.series_id)?.map(|title| Item {
        title,
        episode: Some(episode),
    }))
}

/// Record where the chosen profile is in a film or an episode. Reports are batched with other
/// viewers' into few Raft entries (group commit); answered once stored.
#[utoipa::path(put, path = "/api/v1/progress/{id}", security(("session" = [])), tag = "lists",
    params(("id" = String, Path, description = "A film's title id or an episode id")), request_body = ProgressReport,
    responses(
        (status = 204, description = "Recorded"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "maturity_restricted: above this profile's maturity limit", body = ErrorBody),
        (status = 404, description = "not_found: no such film or episode", body = ErrorBody),
        (status = 409, description = "profile_required (choose who's watching first) or title_not_ready", body = ErrorBody),
        (status = 422, description = "invalid_progress: negative, past the end, or a series' id instead of an episode's; invalid_body: a field missing or unknown", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body, or a number JSON cannot hold)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn report(
    State(ctx): State<Ctx>,
    w: Watching,
    ClientIp(client): ClientIp,
    Path(id): Path<String>,
    Json(body): Json<ProgressReport>,
) -> ApiResult<StatusCode> {
    let id = checked_id(&id)?;
    let item = ctx
        .read(|tx| find_item(tx, id))?
        .ok_or_else(|| ApiError::not_found("film or episode"))?;
    if item.episode.is_none() && item.title.meta.kind == TitleKind::Series {
        return Err(ApiError::new(
            Code::InvalidProgress,
            "this is a series: report progress on one of its episodes",
        ));
    }
    policy::may_watch(w.profile.maturity, &item.title.meta.maturity_rating)?;
    let duration = match item.duration_secs() {
        Some(d) if item.ready() => d,
        _ => {
            return Err(ApiError::new(
                Code::TitleNotReady,
                "this is not ready to play yet",
            ));
        }
    };
    let position = body.position_secs;
    if !position.is_finite() || position < 0.0 || position > duration + PAST_END_SLACK_SECS {
        return Err(ApiError::new(
            Code::InvalidProgress,
            format!("position_secs must be between 0 and the length, {duration:.1} s"),
        ));
    }
    let report = Report {
        profile_id: w.profile.id.clone(),
        title_id: item.title.id.clone(),
        item_id: item.id().to_owned(),
        position_secs: position.min(duration),
        duration_secs: duration,
        credits_start_secs: item.credits_start_secs(),
        now_ms: now_unix_ms(),
        country: ctx.countries.of(client).map(str::to_owned),
    };
    let key = format!("progress/{}/{}", report.profile_id, report.item_id);
    ctx.apply_batched(&key, Command::RecordProgress(report))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A film or episode on "Continue watching" as the profile may see it now: the item under
/// way, or for a series whose latest episode is finished, the next one; `None` when there is
/// nothing left to continue (a finished film, a series' last episode) or it is not allowed.
fn continue_item(
    tx: &impl Reads,
    profile_id: &str,
    limit: Maturity,
    p: &Progress,
) -> Result<Option<ContinueItem>, StoreError> {
    let Some(item) = find_item(tx, &p.item_id)? else {
        return Ok(None);
    };
    if item.title.state != TitleState::Ready
        || policy::may_watch(limit, &item.title.meta.maturity_rating).is_err()
    {
        return Ok(None);
    }
    let title = TitleWire::from(&item.title);
    match (item.episode, p.finished) {
        (None, true) => Ok(None),
        (None, false) => Ok(Some(ContinueItem {
            title,
            episode: None,
            progress: Some(ItemProgress::from(p)),
        })),
        (Some(episode), false) => Ok(Some(ContinueItem {
            title,
            episode: Some(EpisodeWire::from(&episode)),
            progress: Some(ItemProgress::from(p)),
        })),
        (Some(episode), true) => {
            let Some(next) = series::next_episode(tx, &episode)? else {
                return Ok(None);
            };
            let started = state::progress(tx, profile_id, &next.id)?.filter(|n| !n.finished);
            Ok(Some(ContinueItem {
                title,
                episode: Some(EpisodeWire::from(&next)),
                progress: started.as_ref().map(ItemProgress::from),
            }))
        }
    }
}

/// "Continue watching" for the chosen profile: most recently watched first, each title once
/// (a series at the episode under way, or the next one once the last is finished).
#[utoipa::path(get, path = "/api/v1/continue-watching", security(("session" = [])), tag = "lists",
    responses(
        (status = 200, description = "The row's cards, most recent first", body = ContinueWatching),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn continue_watching(
    State(ctx): State<Ctx>,
    w: Watching,
) -> ApiResult<axum::Json<ContinueWatching>> {
    let items = ctx.read(|tx| continue_row(tx, &w.profile.id, w.profile.maturity))?;
    Ok(axum::Json(ContinueWatching { items }))
}

/// The "Continue watching" row (shared with the home page's rows).
pub(crate) fn continue_row(
    tx: &impl Reads,
    profile_id: &str,
    limit: Maturity,
) -> Result<Vec<ContinueItem>, StoreError> {
    let mut items = Vec::new();
    // Some entries drop out (finished films); read a few more than the row shows.
    for p in state::continue_watching(tx, profile_id, CONTINUE_ROW * 2)? {
        if let Some(item) = continue_item(tx, profile_id, limit, &p)? {
            items.push(item);
            if items.len() == CONTINUE_ROW {
                break;
            }
        }
    }
    Ok(items)
}

/// Take a title off the chosen profile's "Continue watching" row (until it is watched again).
#[utoipa::path(delete, path = "/api/v1/continue-watching/{title_id}", security(("session" = [])), tag = "lists",
    params(("title_id" = String, Path, description = "Title id")),
    responses(
        (status = 204, description = "Off the row"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 404, description = "not_found: not a title id", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn dismiss(
    State(ctx): State<Ctx>,
    w: Watching,
    Path(title_id): Path<String>,
) -> ApiResult<StatusCode> {
    let cmd = Command::DismissContinue {
        profile_id: w.profile.id,
        title_id: checked_id(&title_id)?.to_owned(),
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only items watched before this time (Unix ms): the last page's `next_before_ms`.
    pub before_ms: Option<u64>,
    /// 1 to 500; 100 by default.
    pub limit: Option<usize>,
}

fn history_items(
    tx: &impl Reads,
    profile_id: &str,
    before_ms: Option<u64>,
    limit: usize,
) -> Result<Vec<HistoryItem>, StoreError> {
    let mut out = Vec::new();
    for p in state::history(tx, profile_id, before_ms, limit)? {
        let Some(item) = find_item(tx, &p.item_id)? else {
            continue;
        };
        let episode = item.episode.as_ref();
        out.push(HistoryItem {
            item_id: p.item_id.clone(),
            title_id: p.title_id.clone(),
            title_name: item.title.meta.name.clone(),
            season: episode.map(|e| e.season),
            episode_number: episode.map(|e| e.number),
            episode_name: episode.map(|e| e.meta.name.clone()),
            watched_at_ms: p.updated_at_ms,
            progress: ItemProgress::from(&p),
        });
    }
    Ok(out)
}

/// The chosen profile's viewing history, most recent first, a page at a time.
#[utoipa::path(get, path = "/api/v1/history", security(("session" = [])), tag = "lists", params(HistoryQuery),
    responses(
        (status = 200, description = "A page of the history", body = History),
        (status = 400, description = "invalid_query: an unknown parameter or a value of the wrong type", body = ErrorBody),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn history(
    State(ctx): State<Ctx>,
    w: Watching,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> ApiResult<axum::Json<History>> {
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(Code::InvalidQuery, "limit must be 1 to 500"));
    }
    let items = ctx.read(|tx| history_items(tx, &w.profile.id, q.before_ms, limit))?;
    let next_before_ms = (items.len() == limit)
        .then(|| items.last().map(|i| i.watched_at_ms))
        .flatten();
    Ok(axum::Json(History {
        items,
        next_before_ms,
    }))
}

/// Hide a film or an episode from the chosen profile's history (and from "Continue watching").
#[utoipa::path(delete, path = "/api/v1/history/{id}", security(("session" = [])), tag = "lists",
    params(("id" = String, Path, description = "A film's title id or an episode id")),
    responses(
        (status = 204, description = "Hidden (or was not there)"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 404, description = "not_found: not an id", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn hide(
    State(ctx): State<Ctx>,
    w: Watching,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let cmd = Command::HideFromHistory {
        profile_id: w.profile.id,
        item_id: checked_id(&id)?.to_owned(),
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Most lines in an export (the newest).
const EXPORT_LIMIT: usize = 100_000;

/// The chosen profile's whole viewing history as CSV, most recent first.
#[utoipa::path(get, path = "/api/v1/history.csv", security(("session" = [])), tag = "lists",
    responses(
        (status = 200, description = "date (UTC, RFC 3339), title, season, episode, episode_name, position_secs, duration_secs, finished", content_type = "text/csv", body = String),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn export(State(ctx): State<Ctx>, w: Watching) -> ApiResult<impl IntoResponse> {
    let items = ctx.read(|tx| history_items(tx, &w.profile.id, None, EXPORT_LIMIT))?;
    let csv = to_csv(&items).map_err(|e| ApiError::internal("history csv", e))?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"viewing-history.csv\"",
            ),
            (CACHE_CONTROL, "no-store"),
        ],
        csv,
    ))
}

fn to_csv(items: &[HistoryItem]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "date",
        "title",
        "season",
        "episode",
        "episode_name",
        "position_secs",
        "duration_secs",
        "finished",
    ])?;
    let opt = |n: Option<u16>| n.map(|n| n.to_string()).unwrap_or_default();
    for i in items {
        w.write_record([
            rfc3339(i.watched_at_ms),
            i.title_name.clone(),
            opt(i.season),
            opt(i.episode_number),
            i.episode_name.clone().unwrap_or_default(),
            format!("{:.0}", i.progress.position_secs),
            format!("{:.0}", i.progress.duration_secs),
            i.progress.finished.to_string(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn rfc3339(ms: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
