//! Playback: steer the viewer to edges and hand out a signed, path-scoped token.

use axum::body::Bytes;
use axum::extract::{Path, State};
use marquee_proto::v1::PlaybackClaims;

use super::steering;
use super::wire::{Playback, PlaybackEdge, PlaybackRequest};
use crate::accounts::Viewer;
use crate::api::API_PREFIX;
use crate::api::Ctx;
use crate::catalogue::state::{self as catalogue, TitleKind, TitleState};
use crate::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::geo::ClientIp;
use crate::ids::{self, now_unix};
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use crate::series::state::{self as series, Episode as StoredEpisode};
use crate::series::wire::Episode;
use crate::{billing, history, policy, profiles};

/// Start playing a title: manifest URLs on the steered edges with a signed token.
#[utoipa::path(post, path = "/api/v1/titles/{id}/playback", security(("session" = [])), tag = "titles", params(("id" = String, Path, description = "Title id")),
    request_body(content = PlaybackRequest, description = "Optional; an empty body is fine"),
    responses(
        (status = 200, description = "Where and how to play", body = Playback),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 402, description = "subscription_required: no active plan; the message links to the plans", body = ErrorBody),
        (status = 403, description = "maturity_restricted: above the chosen profile's maturity limit (the reason says both); too_many_streams: the plan's streams are in use (the reason names the devices)", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "title_not_ready, or profile_required: the account has profiles and this session chose none", body = ErrorBody),
        (status = 503, description = "no_edge_available", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
    ))]
pub async fn playback(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    steering::OverHttps(over_https): steering::OverHttps,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Playback>> {
    let req: PlaybackRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PlaybackRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                Code::InvalidJson,
                format!("the body is not a valid playback request: {e}"),
            )
        })?
    };
    if !ids::is_valid_id(&id) {
        return Err(ApiError::not_found("title"));
    }
    let profile_id = viewer.profile.as_ref().map(|p| p.id.as_str());
    let (title, has_profiles, episodes, resume_from_secs, plan) = ctx
        .read_checked(|tx| {
            let plan =
                billing::state::entitled_plan(tx, &viewer.account.id, billing::clock::now_in(tx)?)?;
            let has_profiles = viewer.profile.is_some()
                || !profiles::state::of_account(tx, &viewer.account.id)?.is_empty();
            let title = catalogue::title(tx, &id)?;
            let episodes = match &title {
                Some(t) if t.meta.kind == TitleKind::Series => Some(episode_to_play(
                    tx,
                    &t.id,
                    req.episode_id.as_deref(),
                    profile_id,
                )?),
                _ => None,
            };
            let media_id = match (&title, &episodes) {
                (Some(t), None) => Some(t.id.as_str()),
                (_, Some(Ok((e, _)))) => Some(e.id.as_str()),
                _ => None,
            };
            let resume = match (profile_id, media_id) {
                (Some(p), Some(m)) => resume_point(tx, p, m)?,
                _ => None,
            };
            Ok((title, has_profiles, episodes, resume, plan))
        })
        .await?;
    let title = title.ok_or_else(|| ApiError::not_found("title"))?;
    if has_profiles && viewer.profile.is_none() {
        return Err(ApiError::new(
            Code::ProfileRequired,
            "choose who's watching (PUT /api/v1/sessions/current/profile) before playing",
        ));
    }
    policy::may_watch(
        policy::limit_of(viewer.profile.as_ref()),
        &title.meta.maturity_rating,
    )?;
    if title.state != TitleState::Ready {
        return Err(ApiError::new(
            Code::TitleNotReady,
            "this title is not ready to play yet",
        ));
    }
    if let Some(at) = title
        .premieres_at
        .filter(|_| title.coming_soon(ids::now_unix()))
    {
        return Err(ApiError::new(
            Code::ComingSoon,
            format!("this title premieres at {at} (Unix seconds); ask to be reminded instead"),
        ));
    }
    // Only now, so a non-subscriber still learns why a title could not play anyway.
    if plan.is_none() && ctx.config.billing.require_subscription && !viewer.account.is_admin {
        return Err(ApiError::new(
            Code::SubscriptionRequired,
            "choose a plan to start watching: see /plans (GET /api/v1/plans lists them)",
        ));
    }
    // What plays: the film's own package, or one episode's.
    let (media_id, package_path, markers, episode, next_episode) = match episodes {
        None => (
            title.id.clone(),
            title.package_path(),
            title.markers,
            None,
            None,
        ),
        Some(Err(refusal)) => return Err(refusal),
        Some(Ok((ep, next))) => (
            ep.id.clone(),
            ep.package_path(),
            ep.markers,
            Some(Episode::from(&ep)),
            next.as_ref().map(Episode::from),
        ),
    };
    let answer = steer(
        &ctx,
        steering::Viewer {
            client_ip: ip,
            region: req.region.as_deref(),
            current: None,
        },
    )
    .await?;
    // The stream is this session's from now on (or the plan has none free: 403 naming them).
    if let Some(plan) = &plan {
        crate::streams::api::hold(&ctx, &viewer, &headers, &title.id, plan.limits.streams).await?;
    }
    // The plan's top resolution travels in the token: the edge refuses taller rungs and the
    // steered manifests leave them out. No plan (an admin, a free deployment): no cap.
    let max_height = plan
        .as_ref()
        .map_or(0, |p| p.limits.top_resolution.max_height());
    let now = now_unix();
    let expires_at = now + ctx.config.token_ttl_secs;
    let signer = ctx.read(|tx| ctx.keys.signer(tx))?;
    let token = signer.sign(PlaybackClaims {
        path_prefix: format!("/media/{media_id}/"),
        expires_at_unix: expires_at,
        issued_at_unix: now,
        title_id: title.id.clone(),
        account_id: viewer.account.id.clone(),
        profile_id: viewer
            .profile
            .as_ref()
            .map(|p| p.id.clone())
            .unwrap_or_default(),
        playback_id: ids::random_hex::<12>(),
        max_height,
        ..Default::default()
    });
    let edges: Vec<PlaybackEdge> = answer
        .edges
        .into_iter()
        .map(|e| {
            let base_url = steering::edge_base(&e, over_https).to_owned();
            let media = format!("{base_url}/t/{token}{package_path}");
            PlaybackEdge {
                edge_id: e.edge_id,
                region: e.region,
                dash_url: format!("{media}/manifest.mpd"),
                hls_url: format!("{media}/master.m3u8"),
                base_url,
            }
        })
        .collect();
    let kind = if req.renewal { "renewal" } else { "start" };
    tracing::info!(title_id = %title.id, account_id = %viewer.account.id, edge = %edges[0].edge_id, kind, "playback pass issued");
    metrics::counter!("marquee_origin_playbacks_total", "kind" => kind).increment(1);
    let steered = format!("{API_PREFIX}/playback/t/{token}{package_path}");
    Ok(axum::Json(Playback {
        steered_dash_url: format!("{steered}/manifest.mpd"),
        steered_hls_url: format!("{steered}/master.m3u8"),
        title_id: title.id,
        resume_from_secs,
        episode,
        next_episode,
        markers,
        dash_url: edges[0].dash_url.clone(),
        hls_url: edges[0].hls_url.clone(),
        thumbnails_url: format!(
            "{}/t/{token}{package_path}/{}/{}",
            edges[0].base_url,
            marquee_packager::thumbnails::DIR,
            marquee_packager::thumbnails::INDEX
        ),
        token,
        expires_at,
        edges,
        max_height: (max_height > 0).then_some(max_height),
    }))
}

/// The edges `viewer` should use, best first; at least one.
pub(super) async fn steer(
    ctx: &Ctx,
    viewer: steering::Viewer<'_>,
) -> ApiResult<marquee_proto::v1::SteeringAnswer> {
    let none = || {
        ApiError::new(
            Code::NoEdgeAvailable,
            "no edge is available to stream from right now",
        )
    };
    let answer = steering::steer(
        &ctx.control_plane,
        ctx.config.control_plane.as_deref(),
        viewer,
    )
    .await
    .map_err(|e| {
        tracing::warn!(error = %e, "steering failed");
        none()
    })?;
    if answer.edges.is_empty() {
        return Err(none());
    }
    Ok(answer)
}

/// Where the profile left off in a film or an episode, unless it finished it (then it starts
/// again from the beginning).
fn resume_point(
    tx: &impl Reads,
    profile_id: &str,
    item_id: &str,
) -> Result<Option<f64>, StoreError> {
    let progress = history::state::progress(tx, profile_id, item_id)?;
    Ok(progress
        .filter(|p| !p.finished && p.position_secs > 0.0)
        .map(|p| p.position_secs))
}

/// The episode of series `series_id` to play and the one after it: `asked` if given (it must be
/// one of the series' ready episodes); else the profile's latest episode, or the one after it
/// once that one is finished; else the series' first ready episode.
fn episode_to_play(
    tx: &impl Reads,
    series_id: &str,
    asked: Option<&str>,
    profile_id: Option<&str>,
) -> Result<Result<(StoredEpisode, Option<StoredEpisode>), ApiError>, StoreError> {
    let episode = match asked {
        Some(id) => series::episode(tx, id)?.filter(|e| e.series_id == series_id),
        None => match where_the_profile_is(tx, series_id, profile_id)? {
            Some(e) => Some(e),
            None => series::episodes(tx, series_id, false)?.into_iter().next(),
        },
    };
    let Some(episode) = episode else {
        return Ok(Err(ApiError::not_found("episode")));
    };
    if episode.state != TitleState::Ready {
        return Ok(Err(ApiError::new(
            Code::TitleNotReady,
            "this episode is not ready to play yet",
        )));
    }
    let next = series::next_episode(tx, &episode)?;
    Ok(Ok((episode, next)))
}

/// The ready episode a profile watching `series_id` is on: its latest one, or the next once that
/// is finished (none after the last: the series starts over).
fn where_the_profile_is(
    tx: &impl Reads,
    series_id: &str,
    profile_id: Option<&str>,
) -> Result<Option<StoredEpisode>, StoreError> {
    let Some(profile_id) = profile_id else {
        return Ok(None);
    };
    let Some(latest) = history::state::latest(tx, profile_id, series_id)? else {
        return Ok(None);
    };
    let Some(episode) = series::episode(tx, &latest.item_id)? else {
        return Ok(None);
    };
    let finished =
        history::state::progress(tx, profile_id, &episode.id)?.is_some_and(|p| p.finished);
    if finished {
        return series::next_episode(tx, &episode);
    }
    Ok(Some(episode).filter(|e| e.state == TitleState::Ready))
}
