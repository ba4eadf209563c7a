//! The catalogue: titles for viewers, and admin creation, poster and video upload.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::facts;
use super::state::{
    self, Applied, Command, Markers, Rejection, TitleChanges, TitleKind, TitleMeta, TitleState,
};
use super::wire::{Mine, NewTitle, Title, TitleEdit, TitleList, ViewerRating};
use crate::accounts::state::Account;
use crate::accounts::{Admin, AdminWrite, MaybeViewer};
use crate::api::Ctx;
use crate::blob::PutStreamError;
use crate::blob::peers::Pull;
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::history::wire::ItemProgress;
use crate::ids::{self, now_unix};
use crate::jobs;
use crate::jobs::state::JobState;
use crate::jobs::wire::Job;
use crate::profiles::state::Profile;
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use crate::{history, mylist, policy, ratings, subtitles};

pub(crate) const RATINGS: &[&str] = &[
    "G", "PG", "PG-13", "R", "NC-17", "NR", "TV-Y", "TV-Y7", "TV-G", "TV-PG", "TV-14", "TV-MA",
];
const POSTER_TYPES: &[&str] = &["image/svg+xml", "image/png", "image/jpeg", "image/webp"];

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::TitleNotFound => ApiError::not_found("title"),
            Rejection::TitleExists => ApiError::internal("id collision", r),
        }
    }
}

fn content_type(headers: &HeaderMap) -> String {
    let raw = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    raw.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub(crate) fn checked_id(id: &str) -> ApiResult<&str> {
    if ids::is_valid_id(id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("title"))
    }
}

/// A title as this caller may see it: viewers see only ready titles.
pub(crate) async fn visible_title(ctx: &Ctx, id: &str, admin: bool) -> ApiResult<state::Title> {
    let id = checked_id(id)?;
    ctx.read(|tx| state::title(tx, id))?
        .filter(|t| admin || t.state == TitleState::Ready)
        .ok_or_else(|| ApiError::not_found("title"))
}

/// A ready title `profile` may watch, for what a profile does to a title (list it, rate it,
/// watch it): 404 if there is none, 403 `maturity_restricted` above its limit. A local read.
pub(crate) fn watchable_title(ctx: &Ctx, id: &str, profile: &Profile) -> ApiResult<state::Title> {
    let id = checked_id(id)?;
    let title = ctx
        .read(|tx| state::title(tx, id))?
        .filter(|t| t.state == TitleState::Ready)
        .ok_or_else(|| ApiError::not_found("title"))?;
    policy::may_watch(profile.maturity, &title.meta.maturity_rating)?;
    Ok(title)
}

pub(super) fn validate(t: NewTitle) -> ApiResult<TitleMeta> {
    let bad = |m: &str| Err(ApiError::new(Code::InvalidTitle, m));
    let name = t.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return bad("name must be 1 to 200 characters");
    }
    if t.synopsis.chars().count() > 5000 {
        return bad("synopsis must be at most 5000 characters");
    }
    if !(1870..=2100).contains(&t.year) {
        return bad("year must be between 1870 and 2100");
    }
    let genres: Vec<String> = t.genres.iter().map(|g| g.trim().to_owned()).collect();
    if genres.len() > 10
        || genres
            .iter()
            .any(|g| g.is_empty() || g.chars().count() > 40 || g.chars().any(char::is_control))
    {
        return bad("genres: at most 10, each 1 to 40 characters and no control characters");
    }
    if !RATINGS.contains(&t.maturity_rating.as_str()) {
        return Err(ApiError::new(
            Code::InvalidTitle,
            format!("maturity_rating must be one of {}", RATINGS.join(", ")),
        ));
    }
    let attribution = t
        .attribution
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    if attribution
        .as_ref()
        .is_some_and(|a| a.chars().count() > 1000)
    {
        return bad("attribution must be at most 1000 characters");
    }
    let facts = facts::checked(t.facts.unwrap_or_default())
        .map_err(|reason| ApiError::new(Code::InvalidTitle, reason))?;
    Ok(TitleMeta {
        name,
        synopsis: t.synopsis.trim().to_owned(),
        year: facts.release_year().unwrap_or(t.year),
        facts,
        genres,
        maturity_rating: t.maturity_rating,
        kind: t.kind,
        attribution,
    })
}

/// The catalogue: ready titles for viewers, every title for admins; only those within the
/// chosen profile's maturity limit.
#[utoipa::path(get, path = "/api/v1/titles", tag = "titles",
    responses((status = 200, description = "Titles, newest first", body = TitleList),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn list(State(ctx): State<Ctx>, viewer: MaybeViewer) -> ApiResult<axum::Json<TitleList>> {
    let viewer = viewer.0.as_ref();
    let admin = viewer.is_some_and(|v| v.account.is_admin);
    let limit = policy::limit_of(viewer.and_then(|v| v.profile.as_ref()));
    let titles = ctx.read(|tx| state::titles(tx, admin))?;
    Ok(axum::Json(TitleList {
        titles: titles
            .iter()
            .filter(|t| policy::may_watch(limit, &t.meta.maturity_rating).is_ok())
            .map(Title::from)
            .collect(),
    }))
}

/// One title.
#[utoipa::path(get, path = "/api/v1/titles/{id}", tag = "titles", params(("id" = String, Path, description = "Title id")),
    responses((status = 200, description = "The title", body = Title), (status = 404, description = "not_found", body = ErrorBody),
        (status = 403, description = "maturity_restricted: above the chosen profile's maturity limit (the reason says both)", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn one(
    State(ctx): State<Ctx>,
    viewer: MaybeViewer,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Title>> {
    let viewer = viewer.0.as_ref();
    let admin = viewer.is_some_and(|v| v.account.is_admin);
    let title = visible_title(&ctx, &id, admin).await?;
    let profile = viewer.and_then(|v| v.profile.as_ref());
    policy::may_watch(policy::limit_of(profile), &title.meta.maturity_rating)?;
    let mut wire = Title::from(&title);
    ctx.read(|tx| {
        wire.subtitle_languages = subtitles::state::languages_of_title(tx, &title)?;
        wire.viewer_rating = ViewerRating::of(&ratings::state::counts(tx, &title.id)?);
        if let Some(p) = profile {
            wire.mine = Some(mine(tx, &p.id, &title.id)?);
        }
        Ok(())
    })?;
    Ok(axum::Json(wire))
}

/// A title's poster image.
#[utoipa::path(get, path = "/api/v1/titles/{id}/poster", tag = "titles", params(("id" = String, Path, description = "Title id")),
    responses((status = 200, description = "The poster (svg, png, jpeg or webp)", content_type = "image/*", body = Vec<u8>),
              (status = 404, description = "not_found", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn poster(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    let title = visible_title(&ctx, &id, true).await?;
    let poster = title.poster.ok_or_else(|| ApiError::not_found("poster"))?;
    let path = format!("posters/{}", title.id);
    // Uploaded through another node: fetch it from there, checked against the recorded hash.
    if let Err(e) = ctx
        .peer_blobs
        .ensure_local(&ctx.blobs, &path, &poster.sha256)
        .await
    {
        tracing::warn!(error = %e, "poster on no reachable node");
    }
    let blob = ctx
        .blobs
        .get(&path)
        .await
        .map_err(|e| ApiError::internal("poster read", e))?;
    let blob = blob.ok_or_else(|| ApiError::not_found("poster"))?;
    Ok((
        [
            (CONTENT_TYPE, poster.content_type),
            (CACHE_CONTROL, "public, max-age=86400".into()),
            (CONTENT_LENGTH, blob.size.to_string()),
        ],
        Body::from_stream(blob.stream),
    )
        .into_response())
}

/// The profile's marks on a title: on its list, its rating, its progress in a film.
fn mine(tx: &impl Reads, profile_id: &str, title_id: &str) -> Result<Mine, StoreError> {
    Ok(Mine {
        in_my_list: mylist::state::contains(tx, profile_id, title_id)?,
        rating: ratings::state::rating(tx, profile_id, title_id)?.map(|r| r.thumb),
        progress: history::state::progress(tx, profile_id, title_id)?
            .as_ref()
            .map(ItemProgress::from),
        reminded: crate::notifications::state::is_reminded(tx, profile_id, title_id)?,
    })
}

/// Create a title (admin). It starts `awaiting_video`.
#[utoipa::path(post, path = "/api/v1/admin/titles", security(("session" = [])), tag = "admin", request_body = NewTitle,
    responses(
        (status = 201, description = "Created", body = Title),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 422, description = "invalid_title or invalid_body", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn create(
    State(ctx): State<Ctx>,
    admin: AdminWrite,
    Json(req): Json<NewTitle>,
) -> ApiResult<impl IntoResponse> {
    let meta = validate(req)?;
    let id = ids::new_id();
    let create = Command::CreateTitle {
        id: id.clone(),
        meta,
        now: now_unix(),
    };
    let Applied::Title(title) = ctx.apply_guarded(admin.guard, create).await?;
    tracing::info!(title_id = %id, admin = %admin.account.id, "title created");
    Ok((StatusCode::CREATED, axum::Json(Title::from(&*title))))
}

/// One title as the cluster has it now (admin): read through read-index, so an admin sees
/// every change that completed before, whichever node they ask.
#[utoipa::path(get, path = "/api/v1/admin/titles/{id}", security(("session" = [])), tag = "admin", params(("id" = String, Path, description = "Title id")),
    responses(
        (status = 200, description = "The title, whatever its state", body = Title),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn admin_one(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Title>> {
    let id = checked_id(&id)?;
    let title = ctx.read_checked(|tx| state::title(tx, id)).await?;
    let title = title.ok_or_else(|| ApiError::not_found("title"))?;
    Ok(axum::Json(Title::from(&title)))
}

/// Change some of a title's fields (admin); those left out stay as they are.
#[utoipa::path(patch, path = "/api/v1/admin/titles/{id}", security(("session" = [])), tag = "admin", params(("id" = String, Path, description = "Title id")),
    request_body = TitleEdit,
    responses(
        (status = 200, description = "Changed; the title as it is now", body = Title),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "invalid_title (a field out of bounds, or nothing to change) or invalid_body (an unknown field)", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn edit(
    State(ctx): State<Ctx>,
    admin: AdminWrite,
    Path(id): Path<String>,
    Json(edit): Json<TitleEdit>,
) -> ApiResult<axum::Json<Title>> {
    let current = visible_title(&ctx, &id, true).await?;
    let changes = checked_changes(&current.meta, edit)?;
    let cmd = Command::EditTitle {
        id: current.id,
        changes,
    };
    let Applied::Title(title) = ctx.apply_guarded(admin.guard, cmd).await?;
    tracing::info!(title_id = %title.id, admin = %admin.account.id, "title edited");
    Ok(axum::Json(Title::from(&*title)))
}

/// The changes `edit` asks for, each checked as `validate` checks a new title's field (the edit
/// is laid over `current` and the whole validated), and trimmed the same way.
fn checked_changes(current: &TitleMeta, edit: TitleEdit) -> ApiResult<TitleChanges> {
    let TitleEdit {
        name,
        synopsis,
        year,
        genres,
        maturity_rating,
        attribution,
        facts,
    } = edit;
    let given = [
        name.is_some(),
        synopsis.is_some(),
        year.is_some() || facts.as_ref().is_some_and(|f| f.release_date.is_some()),
        genres.is_some(),
        maturity_rating.is_some(),
        attribution.is_some(),
        facts.is_some(),
    ];
    if !given.contains(&true) {
        return Err(ApiError::new(
            Code::InvalidTitle,
            "give at least one field to change",
        ));
    }
    let dated = facts
        .as_ref()
        .map_or(current.facts.release_date.is_some(), |f| {
            f.release_date.is_some()
        });
    if year.is_some_and(|y| y != current.year) && dated {
        return Err(ApiError::new(
            Code::InvalidTitle,
            "year follows the release date: change facts.release_date instead",
        ));
    }
    let merged = validate(NewTitle {
        name: name.unwrap_or_else(|| current.name.clone()),
        synopsis: synopsis.unwrap_or_else(|| current.synopsis.clone()),
        year: year.unwrap_or(current.year),
        genres: genres.unwrap_or_else(|| current.genres.clone()),
        maturity_rating: maturity_rating.unwrap_or_else(|| current.maturity_rating.clone()),
        kind: current.kind,
        attribution: attribution.or_else(|| current.attribution.clone()),
        facts: Some(facts.unwrap_or_else(|| current.facts.clone())),
    })?;
    let [name, synopsis, year, genres, rating, attribution, facts] = given;
    Ok(TitleChanges {
        name: name.then(|| merged.name.clone()),
        synopsis: synopsis.then(|| merged.synopsis.clone()),
        year: year.then_some(merged.year),
        genres: genres.then(|| merged.genres.clone()),
        maturity_rating: rating.then(|| merged.maturity_rating.clone()),
        attribution: attribution.then(|| merged.attribution.clone().unwrap_or_default()),
        facts: facts.then(|| merged.facts.clone()),
    })
}

/// Set where a film's intro and end credits are (admin); markers left out are cleared.
#[utoipa::path(put, path = "/api/v1/admin/titles/{id}/markers", security(("session" = [])), tag = "admin", params(("id" = String, Path, description = "Title id")),
    request_body = Markers,
    responses(
        (status = 200, description = "Set; the title as it is now", body = Title),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "invalid_title: a marker is negative, past the video's end, or out of order", body = ErrorBody),
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
) -> ApiResult<axum::Json<Title>> {
    let title = visible_title(&ctx, &id, true).await?;
    let markers = checked_markers(markers, title.duration_secs, Code::InvalidTitle)?;
    let cmd = Command::SetTitleMarkers {
        id: title.id,
        markers,
    };
    let Applied::Title(title) = ctx.apply_guarded(admin.guard, cmd).await?;
    Ok(axum::Json(Title::from(&*title)))
}

/// Set when a title premieres (admin): until then it is "coming soon", shown with a "Remind me"
/// and not playable; at that time, those who asked are reminded. `null` releases it now.
#[utoipa::path(put, path = "/api/v1/admin/titles/{id}/premiere", security(("session" = [])), tag = "admin", params(("id" = String, Path, description = "Title id")),
    request_body = crate::notifications::wire::Premiere,
    responses(
        (status = 200, description = "Set; the title as it is now", body = Title),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 422, description = "invalid_title: the time is before 2000 or after 2100", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn put_premiere(
    State(ctx): State<Ctx>,
    admin: AdminWrite,
    Path(id): Path<String>,
    Json(body): Json<crate::notifications::wire::Premiere>,
) -> ApiResult<axum::Json<Title>> {
    // 2000-01-01 to 2100-01-01: a typo of milliseconds for seconds is refused, not stored.
    if body
        .premieres_at
        .is_some_and(|at| !(946_684_800..4_102_444_800).contains(&at))
    {
        return Err(ApiError::new(
            Code::InvalidTitle,
            "premieres_at is Unix seconds between 2000 and 2100",
        ));
    }
    let title = visible_title(&ctx, &id, true).await?;
    let cmd = Command::SetPremiere {
        id: title.id,
        at: body.premieres_at,
    };
    let Applied::Title(title) = ctx.apply_guarded(admin.guard, cmd).await?;
    tracing::info!(title_id = %title.id, premieres_at = ?title.premieres_at, "premiere set");
    Ok(axum::Json(Title::from(&*title)))
}

/// Markers an admin sets, checked: each finite and not negative, within the video when its
/// length is known, an intro's start and end given together and in order, the credits after
/// the intro. `code` names the thing being edited in the error.
pub(crate) fn checked_markers(m: Markers, duration: Option<f64>, code: Code) -> ApiResult<Markers> {
    let bad = |why: &str| Err(ApiError::new(code, why));
    let given = [m.intro_start_secs, m.intro_end_secs, m.credits_start_secs];
    for secs in given.into_iter().flatten() {
        if !secs.is_finite() || secs < 0.0 {
            return bad("markers are seconds from the start: finite and not negative");
        }
        if duration.is_some_and(|d| secs > d) {
            return bad("a marker is past the end of the video");
        }
    }
    match (m.intro_start_secs, m.intro_end_secs) {
        (Some(start), Some(end)) if start >= end => {
            bad("intro_start_secs must be before intro_end_secs")
        }
        (Some(_), None) | (None, Some(_)) => {
            bad("give intro_start_secs and intro_end_secs together")
        }
        (_, end) if end.zip(m.credits_start_secs).is_some_and(|(e, c)| c < e) => {
            bad("credits_start_secs must be after the intro")
        }
        _ => Ok(m),
    }
}

/// Set a title's poster (admin).
#[utoipa::path(put, path = "/api/v1/admin/titles/{id}/poster", security(("session" = [])), tag = "admin", params(("id" = String, Path, description = "Title id")),
    request_body(content = Vec<u8>, content_type = "image/png", description = "image/svg+xml, image/png, image/jpeg or image/webp; at most 10 MiB"),
    responses(
        (status = 204, description = "Stored"),
        (status = 400, description = "empty_body", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn put_poster(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let title = visible_title(&ctx, &id, true).await?;
    let ctype = content_type(&headers);
    if !POSTER_TYPES.contains(&ctype.as_str()) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            format!("a poster must be one of {}", POSTER_TYPES.join(", ")),
        ));
    }
    ctx.disk.check(body.len() as u64)?;
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(body)]);
    let stored = ctx
        .blobs
        .put_stream(&format!("posters/{}", title.id), stream, u64::MAX)
        .await
        .map_err(upload_error)?;
    ctx.peer_blobs
        .replicate(Pull::Blob {
            path: format!("posters/{}", title.id),
            sha256: stored.sha256.clone(),
        })
        .await;
    ctx.apply(Command::SetPoster {
        title_id: title.id,
        content_type: ctype,
        sha256: stored.sha256,
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refusing an upload before reading it closes the connection while the client is still
/// sending, and a plain HTTP/1.1 client then sees a reset instead of the answer. A small body
/// (up to 8 MiB) is read and dropped first so the answer gets through; a bigger one is cut off
/// (clients sending big files should use `Expect: 100-continue`, which waits for the answer).
async fn refuse_after_reading_small(body: Body, refusal: ApiError) -> ApiError {
    let _ = axum::body::to_bytes(body, 8 << 20).await;
    refusal
}

fn upload_error(e: PutStreamError) -> ApiError {
    match e {
        PutStreamError::Empty => ApiError::new(Code::EmptyBody, "the request body is empty"),
        PutStreamError::TooLarge { limit } => ApiError::new(
            Code::BodyTooLarge,
            format!("the upload is larger than the limit of {limit} bytes"),
        ),
        PutStreamError::Body(detail) => {
            tracing::warn!(error = %detail, "upload body failed");
            ApiError::new(Code::InvalidBody, "the upload was interrupted")
        }
        PutStreamError::Blob(e) if crate::disk::is_disk_full(&e) => crate::disk::upload_disk_full(),
        PutStreamError::Blob(e) => ApiError::internal("blob write", e),
    }
}

/// Upload a title's video (admin), streamed; queues a packaging job.
#[utoipa::path(put, path = "/api/v1/admin/titles/{id}/video", security(("session" = [])), tag = "admin", params(("id" = String, Path, description = "Title id")),
    request_body(content = Vec<u8>, content_type = "video/mp4", description = "Raw video bytes (any video/* type), streamed"),
    responses(
        (status = 202, description = "Stored; packaging job queued", body = Job),
        (status = 400, description = "empty_body", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "job_in_progress", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 422, description = "invalid_title: the title is a series (upload each episode's video)", body = ErrorBody),
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
    let id = checked_id(&id)?;
    if ctx
        .read(|tx| state::title(tx, id))?
        .is_some_and(|t| t.meta.kind == TitleKind::Series)
    {
        let refusal = ApiError::new(
            Code::InvalidTitle,
            "a series has no video of its own; upload each episode's video",
        );
        return Err(refuse_after_reading_small(body, refusal).await);
    }
    upload_video(&ctx, &admin, id, &headers, body).await
}

/// Stores the video uploaded for `owner_id` (a film's title or an episode), streamed, and
/// queues the job that packages it.
pub(crate) async fn upload_video(
    ctx: &Ctx,
    admin: &Account,
    owner_id: &str,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<Job>)> {
    let title_id = owner_id.to_owned();
    if !content_type(headers).starts_with("video/") {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "upload a video (Content-Type: video/…)",
        ));
    }
    // Refuse a declared oversize body before reading a byte of it.
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = ctx.config.max_upload_bytes;
    if declared.is_some_and(|n| n > limit) {
        return Err(upload_error(PutStreamError::TooLarge { limit }));
    }
    if let Err(full) = ctx.disk.check(declared.unwrap_or(0)) {
        return Err(refuse_after_reading_small(body, full).await);
    }
    let (owner, job) = ctx
        .read_checked(|tx| {
            Ok((
                jobs::owner::find(tx, &title_id)?,
                jobs::state::title_job(tx, &title_id)?,
            ))
        })
        .await?;
    if owner.is_none() {
        return Err(ApiError::not_found("title"));
    }
    if job.is_some_and(|j| matches!(j.state, JobState::Queued | JobState::Running)) {
        return Err(ApiError::new(
            Code::JobInProgress,
            "a packaging job for this video is still in progress",
        ));
    }
    let job_id = ids::new_id();
    let blob = format!("uploads/{title_id}/{job_id}");
    let stored = ctx
        .blobs
        .put_stream(&blob, body.into_data_stream(), limit)
        .await
        .map_err(upload_error)?;
    tracing::info!(%title_id, %job_id, admin = %admin.id, size = stored.size, sha256 = %stored.sha256, "video uploaded");
    // A copy on another member before the upload is acknowledged: losing this node loses
    // nothing (the job's worker, anywhere, fetches it by hash).
    let copies = ctx
        .peer_blobs
        .replicate(Pull::Blob {
            path: blob.clone(),
            sha256: stored.sha256.clone(),
        })
        .await;
    tracing::debug!(copies, "upload replicated");
    metrics::counter!("marquee_origin_upload_bytes_total").increment(stored.size);
    let cmd = jobs::state::Command::VideoUploaded {
        title_id,
        job_id,
        blob: blob.clone(),
        sha256: stored.sha256,
        size: stored.size,
        now: now_unix(),
    };
    let job = match ctx.apply(cmd).await {
        Ok(jobs::state::Applied::Job(job)) => job,
        Ok(_) => return Err(ApiError::internal("queue job", "unexpected outcome")),
        Err(e) => {
            let _ = ctx.blobs.delete(&blob).await;
            return Err(e);
        }
    };
    ctx.jobs_wake.notify_one();
    Ok((StatusCode::ACCEPTED, axum::Json(Job::from(&*job))))
}
