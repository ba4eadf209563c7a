//! Seasons and episodes: admins create them and upload each episode's video; viewers get a
//! series' seasons with the episodes ready to play.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use super::state::{self, Applied, Command, EpisodeMeta, Rejection};
use super::wire::{Episode, EpisodeEdit, NewEpisode, NewSeason, Season, Seasons};
use crate::accounts::{Admin, AdminWrite, MaybeViewer};
use crate::api::Ctx;
use crate::catalogue::api::{checked_id, checked_markers, upload_video, visible_title};
use crate::catalogue::facts::{self, Facts};
use crate::catalogue::state::{Markers, TitleKind};
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::history::wire::ItemProgress;
use crate::ids::{self, now_unix};
use crate::jobs::wire::Job;
use crate::policy;
use crate::{history, jobs};

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        let code = match r {
            Rejection::SeriesNotFound | Rejection::EpisodeNotFound => Code::NotFound,
            Rejection::SeasonNotFound(_) => Code::NotFound,
            Rejection::NotASeries => Code::InvalidEpisode,
            Rejection::SeasonExists(_) | Rejection::EpisodeNumberTaken { .. } => {
                Code::AlreadyExists
            }
            Rejection::EpisodeExists => return ApiError::internal("id collision", r),
        };
        ApiError::new(code, r.to_string())
    }
}

/// Numbers of seasons and episodes: 1 to 999.
fn checked_number(n: u16, what: &str) -> ApiResult<u16> {
    if (1..=999).contains(&n) {
        Ok(n)
    } else {
        Err(ApiError::new(
            Code::InvalidEpisode,
            format!("{what} number must be 1 to 999"),
        ))
    }
}

fn checked_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::new(
            Code::InvalidEpisode,
            "name must be 1 to 200 characters",
        ));
    }
    Ok(name.to_owned())
}

fn checked_synopsis(synopsis: &str) -> ApiResult<String> {
    if synopsis.chars().count() > 5000 {
        return Err(ApiError::new(
            Code::InvalidEpisode,
            "synopsis must be at most 5000 characters",
        ));
    }
    Ok(synopsis.trim().to_owned())
}

/// An episode id that can exist, else 404.
fn checked_facts(facts: Facts) -> ApiResult<Facts> {
    facts::checked(facts).map_err(|reason| ApiError::new(Code::InvalidEpisode, reason))
}

fn checked_episode_id(id: &str) -> ApiResult<&str> {
    ids::is_valid_id(id)
        .then_some(id)
        .ok_or_else(|| ApiError::not_found("episode"))
}

async fn episode_now(ctx: &Ctx, id: &str) -> ApiResult<state::Episode> {
    let id = checked_episode_id(id)?;
    ctx.read_checked(|tx| state::episode(tx, id))
        .await?
        .ok_or_else(|| ApiError::not_found("episode"))
}

/// Add a season to a series (admin).
#[utoipa::path(post, path = "/api/v1/admin/titles/{id}/seasons", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "The series' title id")), request_body = NewSeason,
    responses(
        (status = 201, description = "Created (with no episodes yet)", body = Season),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found: no such title", body = ErrorBody),
        (status = 409, description = "already_exists: the series has a season with this number", body = ErrorBody),
        (status = 422, description = "invalid_episode (the title is a film, or a number or name out of bounds) or invalid_body", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn create_season(
    State(ctx): State<Ctx>,
    admin: AdminWrite,
    Path(id): Path<String>,
    Json(req): Json<NewSeason>,
) -> ApiResult<(StatusCode, axum::Json<Season>)> {
    let series_id = checked_id(&id)?.to_owned();
    let number = checked_number(req.number, "season")?;
    let name = match req.name {
        Some(name) => checked_name(&name)?,
        None => format!("Season {number}"),
    };
    let cmd = Command::CreateSeason {
        series_id,
        number,
        name,
        now: now_unix(),
    };
    let Applied::Season(season) = ctx.apply_guarded(admin.guard, cmd).await? else {
        return Err(ApiError::internal("create season", "unexpected outcome"));
    };
    let season = Season {
        number: season.number,
        name: season.name,
        episodes: Vec::new(),
    };
    Ok((StatusCode::CREATED, axum::Json(season)))
}

/// Add an episode to a season (admin). It starts `awaiting_video`.
#[utoipa::path(post, path = "/api/v1/admin/titles/{id}/seasons/{season}/episodes", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "The series' title id"), ("season" = u16, Path, description = "Season number")),
    request_body = NewEpisode,
    responses(
        (status = 201, description = "Created", body = Episode),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found: no such title or season", body = ErrorBody),
        (status = 409, description = "already_exists: the season has an episode with this number", body = ErrorBody),
        (status = 422, description = "invalid_episode (the title is a film, or a field out of bounds) or invalid_body", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn create_episode(
    State(ctx): State<Ctx>,
    admin: AdminWrite,
    Path((id, season)): Path<(String, String)>,
    Json(req): Json<NewEpisode>,
) -> ApiResult<(StatusCode, axum::Json<Episode>)> {
    let series_id = checked_id(&id)?.to_owned();
    // Parsed here, not by the extractor, so a bad number gets this API's JSON error.
    let season = season
        .parse::<u16>()
        .map_err(|_| ApiError::new(Code::NotFound, format!("season {season} does not exist")))?;
    let cmd = Command::CreateEpisode {
        id: ids::new_id(),
        series_id,
        season,
        number: checked_number(req.number, "episode")?,
        meta: EpisodeMeta {
            name: checked_name(&req.name)?,
            synopsis: checked_synopsis(&req.synopsis)?,
            facts: checked_facts(req.facts.unwrap_or_default())?,
        },
        now: now_unix(),
    };
    let Applied::Episode(episode) = ctx.apply_guarded(admin.guard, cmd).await? else {
        return Err(ApiError::internal("create episode", "unexpected outcome"));
    };
    tracing::info!(episode_id = %episode.id, series_id = %episode.series_id, admin = %admin.account.id, "episode created");
    Ok((StatusCode::CREATED, axum::Json(Episode::from(&*episode))))
}

/// Change an episode's name or synopsis (admin).
#[utoipa::path(patch, path = "/api/v1/admin/episodes/{id}", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "Episode id")), request_body = EpisodeEdit,
    responses(
        (status = 200, description = "Changed; the episode as it is now", body = Episode),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "invalid_episode (a field out of bounds, or nothing to change) or invalid_body (an unknown field)", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn edit_episode(
    State(ctx): State<Ctx>,
    admin: AdminWrite,
    Path(id): Path<String>,
    Json(edit): Json<EpisodeEdit>,
) -> ApiResult<axum::Json<Episode>> {
    let id = checked_episode_id(&id)?.to_owned();
    if edit.name.is_none() && edit.synopsis.is_none() && edit.facts.is_none() {
        return Err(ApiError::new(
            Code::InvalidEpisode,
            "give at least one field to change",
        ));
    }
    let cmd = Command::EditEpisode {
        id,
        name: edit.name.as_deref().map(checked_name).transpose()?,
        synopsis: edit.synopsis.as_deref().map(checked_synopsis).transpose()?,
        facts: edit.facts.map(checked_facts).transpose()?,
    };
    let Applied::Episode(episode) = ctx.apply_guarded(admin.guard, cmd).await? else {
        return Err(ApiError::internal("edit episode", "unexpected outcome"));
    };
    Ok(axum::Json(Episode::from(&*episode)))
}

/// Set where an episode's intro and end credits are (admin); markers left out are cleared.
#[utoipa::path(put, path = "/api/v1/admin/episodes/{id}/markers", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "Episode id")), request_body = Markers,
    responses(
        (status = 200, description = "Set; the episode as it is now", body = Episode),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "invalid_episode: a marker is negative, past the video's end, or out of order", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn put_markers(
    State(ctx): State<Ctx>,
    admin: AdminWrite,
    Path(id): Path<String>,
    Json(markers): Json<Markers>,
) -> ApiResult<axum::Json<Episode>> {
    let episode = episode_now(&ctx, &id).await?;
    let markers = checked_markers(markers, episode.duration_secs, Code::InvalidEpisode)?;
    let cmd = Command::SetEpisodeMarkers {
        id: episode.id,
        markers,
    };
    let Applied::Episode(episode) = ctx.apply_guarded(admin.guard, cmd).await? else {
        return Err(ApiError::internal("episode markers", "unexpected outcome"));
    };
    Ok(axum::Json(Episode::from(&*episode)))
}

/// Upload an episode's video (admin), streamed; queues a packaging job.
#[utoipa::path(put, path = "/api/v1/admin/episodes/{id}/video", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "Episode id")),
    request_body(content = Vec<u8>, content_type = "video/mp4", description = "Raw video bytes (any video/* type), streamed"),
    responses(
        (status = 202, description = "Stored; packaging job queued", body = Job),
        (status = 400, description = "empty_body", body = ErrorBody),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "job_in_progress", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn put_video(
    State(ctx): State<Ctx>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<Job>)> {
    let id = checked_episode_id(&id)?;
    upload_video(&ctx, &admin, id, &headers, body).await
}

/// The latest packaging job of an episode (admin).
#[utoipa::path(get, path = "/api/v1/admin/episodes/{id}/job", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "Episode id")),
    responses((status = 200, description = "The job", body = Job), (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn job(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Job>> {
    jobs::api::latest(&ctx, checked_episode_id(&id)?)
}

/// A series' seasons and every episode, whatever its state (admin).
#[utoipa::path(get, path = "/api/v1/admin/titles/{id}/seasons", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "The series' title id")),
    responses(
        (status = 200, description = "Seasons in order, each with its episodes", body = Seasons),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn admin_seasons(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Seasons>> {
    let title = visible_title(&ctx, &id, true).await?;
    let (seasons, episodes) = ctx.read(|tx| {
        Ok((
            state::seasons(tx, &title.id)?,
            state::episodes(tx, &title.id, true)?,
        ))
    })?;
    Ok(axum::Json(Seasons::group(
        &title.id, seasons, &episodes, true,
    )))
}

/// A series' seasons with the episodes ready to play, in viewing order (a film has none).
#[utoipa::path(get, path = "/api/v1/titles/{id}/seasons", tag = "titles",
    params(("id" = String, Path, description = "The series' title id")),
    responses(
        (status = 200, description = "Seasons in order, each with its playable episodes", body = Seasons),
        (status = 403, description = "maturity_restricted: above the chosen profile's maturity limit (the reason says both)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn seasons(
    State(ctx): State<Ctx>,
    viewer: MaybeViewer,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Seasons>> {
    let viewer = viewer.0.as_ref();
    let admin = viewer.is_some_and(|v| v.account.is_admin);
    let title = visible_title(&ctx, &id, admin).await?;
    let limit = policy::limit_of(viewer.and_then(|v| v.profile.as_ref()));
    policy::may_watch(limit, &title.meta.maturity_rating)?;
    if title.meta.kind != TitleKind::Series {
        return Ok(axum::Json(Seasons::group(
            &title.id,
            Vec::new(),
            &[],
            false,
        )));
    }
    let profile_id = viewer
        .and_then(|v| v.profile.as_ref())
        .map(|p| p.id.as_str());
    let (seasons, episodes, progress) = ctx.read(|tx| {
        let episodes = state::episodes(tx, &title.id, false)?;
        let mut progress = HashMap::new();
        if let Some(profile_id) = profile_id {
            for e in &episodes {
                if let Some(p) = history::state::progress(tx, profile_id, &e.id)? {
                    progress.insert(e.id.clone(), ItemProgress::from(&p));
                }
            }
        }
        Ok((state::seasons(tx, &title.id)?, episodes, progress))
    })?;
    let mut tree = Seasons::group(&title.id, seasons, &episodes, false);
    for e in tree.seasons.iter_mut().flat_map(|s| s.episodes.iter_mut()) {
        e.progress = progress.get(&e.id).cloned();
    }
    Ok(axum::Json(tree))
}
