//! Admins' subtitle files: `GET /api/v1/admin/videos/{id}/subtitles`, and `PUT`/`DELETE
//! /api/v1/admin/videos/{id}/subtitles/{language}`, where a video id is a film's title id or
//! an episode id. A change to a video that is already packaged re-packages it from its upload.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use marquee_packager::{language, webvtt};
use serde::Serialize;
use utoipa::ToSchema;

use super::state::{self, Command, Rejection, Subtitle};
use crate::accounts::Admin;
use crate::api::Ctx;
use crate::blob::peers::Pull;
use crate::catalogue::api::checked_id;
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::ids::{self, now_unix};
use crate::jobs;
use crate::jobs::state::{Job, JobState};
use crate::jobs::wire::Job as JobWire;

/// Largest subtitle file accepted (a feature film's is ~100 kB).
pub const MAX_BYTES: usize = 2 << 20;

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        let code = match r {
            Rejection::OwnerNotFound => Code::NotFound,
            Rejection::TooManyLanguages { .. } => Code::InvalidSubtitles,
        };
        ApiError::new(code, r.to_string())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubtitleList {
    pub subtitles: Vec<Subtitle>,
}

/// The language tag a path names: ISO 639-1 or 639-2 letters, as the packager publishes it.
fn checked_language(raw: &str) -> ApiResult<String> {
    let tag = language::normalise(raw);
    if tag == language::UNDETERMINED || raw.len() > 3 {
        return Err(ApiError::new(
            Code::InvalidSubtitles,
            "the language must be an ISO 639 code such as en, fr or deu",
        ));
    }
    Ok(tag)
}

/// The video's latest job, after checking it exists; 409 while a job is packaging it.
async fn video_now(ctx: &Ctx, id: &str) -> ApiResult<Option<Job>> {
    let (owner, job) = ctx
        .read_checked(|tx| Ok((jobs::owner::find(tx, id)?, jobs::state::title_job(tx, id)?)))
        .await?;
    if owner.is_none() {
        return Err(ApiError::not_found("film or episode"));
    }
    if job
        .as_ref()
        .is_some_and(|j| matches!(j.state, JobState::Queued | JobState::Running))
    {
        return Err(ApiError::new(
            Code::JobInProgress,
            "this video is being packaged; change its subtitles once that is done",
        ));
    }
    Ok(job)
}

/// After a change of subtitles: a packaged video is packaged again from its upload (202 with
/// the job); one without a video yet takes them with its first package (204).
async fn repackage(ctx: &Ctx, id: &str, latest: Option<Job>) -> ApiResult<Response> {
    let Some(job) = latest else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let cmd = jobs::state::Command::VideoUploaded {
        title_id: id.to_owned(),
        job_id: ids::new_id(),
        blob: job.source_blob,
        sha256: job.source_sha256,
        size: job.source_size,
        now: now_unix(),
    };
    let jobs::state::Applied::Job(job) = ctx.apply(cmd).await? else {
        return Err(ApiError::internal("queue job", "unexpected outcome"));
    };
    ctx.jobs_wake.notify_one();
    Ok((StatusCode::ACCEPTED, axum::Json(JobWire::from(&*job))).into_response())
}

/// A film's or an episode's subtitle files (admin).
#[utoipa::path(get, path = "/api/v1/admin/videos/{id}/subtitles", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "A film's title id or an episode id")),
    responses(
        (status = 200, description = "Its subtitle files, by language", body = SubtitleList),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn list(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SubtitleList>> {
    let id = checked_id(&id)?;
    let (owner, subtitles) = ctx
        .read_checked(|tx| Ok((jobs::owner::find(tx, id)?, state::of_owner(tx, id)?)))
        .await?;
    if owner.is_none() {
        return Err(ApiError::not_found("film or episode"));
    }
    Ok(axum::Json(SubtitleList { subtitles }))
}

/// Upload a language's WebVTT subtitles for a film or an episode (admin), replacing any.
#[utoipa::path(put, path = "/api/v1/admin/videos/{id}/subtitles/{language}", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "A film's title id or an episode id"),
           ("language" = String, Path, description = "ISO 639 language code, e.g. en, fr, deu")),
    request_body(content = String, content_type = "text/vtt", description = "A WebVTT file, at most 2 MiB"),
    responses(
        (status = 202, description = "Stored; the packaged video is being packaged again with it", body = JobWire),
        (status = 204, description = "Stored; the video's first package will have it"),
        (status = 400, description = "empty_body", body = ErrorBody),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "job_in_progress: the video is being packaged", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: not text/vtt", body = ErrorBody),
        (status = 422, description = "invalid_subtitles: not WebVTT (the reason says where), or not a language code", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn put(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path((id, lang)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let id = checked_id(&id)?.to_owned();
    let language = checked_language(&lang)?;
    let ctype = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.trim().to_ascii_lowercase().starts_with("text/vtt") {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "upload a WebVTT file (Content-Type: text/vtt)",
        ));
    }
    let body = body.map_err(|_| {
        ApiError::new(
            Code::BodyTooLarge,
            format!("a subtitle file is at most {MAX_BYTES} bytes"),
        )
    })?;
    if body.is_empty() {
        return Err(ApiError::new(Code::EmptyBody, "the request body is empty"));
    }
    webvtt::check(&body).map_err(|why| {
        ApiError::new(
            Code::InvalidSubtitles,
            format!("this is not a WebVTT file: {why}"),
        )
    })?;
    let latest = video_now(&ctx, &id).await?;
    ctx.disk.check(body.len() as u64)?;
    let sha256 = ids::sha256_hex(&body);
    let path = Subtitle::blob(&id, &sha256);
    let size = body.len() as u64;
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(body)]);
    ctx.blobs
        .put_stream(&path, stream, u64::MAX)
        .await
        .map_err(|e| ApiError::internal("subtitle write", e))?;
    ctx.peer_blobs
        .replicate(Pull::Blob {
            path,
            sha256: sha256.clone(),
        })
        .await;
    let subtitle = Subtitle {
        language,
        sha256,
        size,
        uploaded_at: now_unix(),
    };
    ctx.apply(Command::SetSubtitle {
        owner_id: id.clone(),
        subtitle,
    })
    .await?;
    repackage(&ctx, &id, latest).await
}

/// Remove a language's subtitles from a film or an episode (admin).
#[utoipa::path(delete, path = "/api/v1/admin/videos/{id}/subtitles/{language}", security(("session" = [])), tag = "admin",
    params(("id" = String, Path, description = "A film's title id or an episode id"),
           ("language" = String, Path, description = "ISO 639 language code")),
    responses(
        (status = 202, description = "Removed; the packaged video is being packaged again without it", body = JobWire),
        (status = 204, description = "Removed (or was not there)"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "forbidden: not an admin", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "job_in_progress: the video is being packaged", body = ErrorBody),
        (status = 422, description = "invalid_subtitles: not a language code", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn remove(
    State(ctx): State<Ctx>,
    _admin: Admin,
    Path((id, lang)): Path<(String, String)>,
) -> ApiResult<Response> {
    let id = checked_id(&id)?.to_owned();
    let language = checked_language(&lang)?;
    let latest = video_now(&ctx, &id).await?;
    let had = ctx
        .read(|tx| state::of_owner(tx, &id))?
        .iter()
        .any(|s| s.language == language);
    if !had {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    ctx.apply(Command::RemoveSubtitle {
        owner_id: id.clone(),
        language,
    })
    .await?;
    repackage(&ctx, &id, latest).await
}
