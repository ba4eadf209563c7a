//! The notification centre (`/api/v1/notifications`, its live stream and preferences),
//! "Remind me" (`/api/v1/reminders/{title_id}`) and one-click unsubscribe
//! (`/api/v1/unsubscribe/{token}`, RFC 8058: no session, a POST does it).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use super::state::{self, Channels, Command, Kind, Rejection};
use super::wire::{
    KindPreference, MarkRead, Notification, NotificationList, Preferences, UnreadEvent, Unsubscribe,
};
use crate::api::Ctx;
use crate::catalogue::api::{checked_id, watchable_title};
use crate::catalogue::state as catalogue;
use crate::catalogue::wire::Title;
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::ids::now_unix;
use crate::profiles::Watching;

/// Ids one mark-read call may name.
const MAX_MARK: usize = 100;
/// A live stream ends after this long; the browser reconnects, and the session is checked again.
const STREAM_FOR: Duration = Duration::from_secs(30 * 60);

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::UnknownLink => ApiError::not_found("unsubscribe link"),
            Rejection::AlreadyReleased => ApiError::new(Code::AlreadyReleased, r.to_string()),
        }
    }
}

/// The chosen profile's notifications, newest first, and how many are unread.
#[utoipa::path(get, path = "/api/v1/notifications", security(("session" = [])), tag = "notifications",
    responses(
        (status = 200, description = "The notification centre", body = NotificationList),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn list(State(ctx): State<Ctx>, w: Watching) -> ApiResult<axum::Json<NotificationList>> {
    let list = ctx.read(|tx| {
        let (notes, unread) = state::centre(tx, &w.profile.id, state::KEEP_PER_PROFILE)?;
        let mut out = Vec::with_capacity(notes.len());
        for n in notes {
            let poster_url = match &n.title_id {
                Some(id) => catalogue::title(tx, id)?.and_then(|t| Title::from(&t).poster_url),
                None => None,
            };
            out.push(Notification {
                id: n.id,
                kind: n.kind,
                title_id: n.title_id,
                poster_url,
                headline: n.headline,
                body: n.body,
                link: n.link,
                created_at: n.created_at,
                read: n.read,
            });
        }
        Ok(NotificationList {
            notifications: out,
            unread,
        })
    })?;
    Ok(axum::Json(list))
}

/// Mark notifications read: those named, or all.
#[utoipa::path(post, path = "/api/v1/notifications/read", security(("session" = [])), tag = "notifications",
    request_body = MarkRead,
    responses(
        (status = 204, description = "Read"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 422, description = "invalid_body: neither ids nor all, or more than 100 ids", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn mark_read(
    State(ctx): State<Ctx>,
    w: Watching,
    Json(body): Json<MarkRead>,
) -> ApiResult<StatusCode> {
    if body.ids.len() > MAX_MARK || (body.ids.is_empty() && !body.all) {
        return Err(ApiError::new(
            Code::InvalidBody,
            format!("give up to {MAX_MARK} ids, or \"all\": true"),
        ));
    }
    let cmd = Command::MarkRead {
        profile_id: w.profile.id,
        ids: body.ids,
        all: body.all,
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Live count for the bell: server-sent events named `unread` (`UnreadEvent`), one at once and
/// one whenever the count or the newest notification changes.
#[utoipa::path(get, path = "/api/v1/notifications/events", security(("session" = [])), tag = "notifications",
    responses(
        (status = 200, description = "text/event-stream of `unread` events, each's data an `UnreadEvent`", body = super::wire::UnreadMessage, content_type = "text/event-stream"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn events(
    State(ctx): State<Ctx>,
    w: Watching,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let applied = ctx.raft.metrics_watch();
    let until = tokio::time::Instant::now() + STREAM_FOR;
    let start = (ctx, w.profile.id, applied, None::<(u64, Option<String>)>);
    let stream = futures::stream::unfold(start, move |(ctx, profile, mut applied, mut last)| {
        async move {
            loop {
                if last.is_some() {
                    // Wake for applied entries only (not heartbeats or replication progress).
                    let seen = applied.borrow_and_update().last_applied;
                    tokio::select! {
                        changed = applied.wait_for(|m| m.last_applied != seen) => {
                            changed.ok()?;
                        }
                        () = tokio::time::sleep_until(until) => return None,
                    }
                    // Several entries often apply in a burst: look once they have.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let now = ctx
                    .read(|tx| {
                        Ok((
                            state::unread(tx, &profile)?,
                            state::newest_id(tx, &profile)?,
                        ))
                    })
                    .ok()?;
                if last.as_ref() != Some(&now) {
                    let event = UnreadEvent {
                        unread: now.0,
                        newest_id: now.1.clone(),
                    };
                    let event = Event::default().event("unread").json_data(event).ok()?;
                    return Some((Ok(event), (ctx, profile, applied, Some(now))));
                }
                last = Some(now);
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn preferences_wire(p: &state::Preferences) -> Preferences {
    Preferences {
        kinds: Kind::ALL
            .iter()
            .map(|&kind| {
                let Channels { in_app, email } = p.of(kind);
                KindPreference {
                    kind,
                    in_app,
                    email,
                }
            })
            .collect(),
    }
}

/// The chosen profile's notification preferences, every kind.
#[utoipa::path(get, path = "/api/v1/notifications/preferences", security(("session" = [])), tag = "notifications",
    responses(
        (status = 200, description = "Each kind's channels", body = Preferences),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn get_preferences(
    State(ctx): State<Ctx>,
    w: Watching,
) -> ApiResult<axum::Json<Preferences>> {
    let prefs = ctx.read(|tx| state::preferences(tx, &w.profile.id))?;
    Ok(axum::Json(preferences_wire(&prefs)))
}

/// Change the channels of the kinds listed; the others stay as they are.
#[utoipa::path(put, path = "/api/v1/notifications/preferences", security(("session" = [])), tag = "notifications",
    request_body = Preferences,
    responses(
        (status = 200, description = "Each kind's channels, as they are now", body = Preferences),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 422, description = "invalid_body: an unknown kind, or one listed twice", body = ErrorBody),
        (status = 400, description = "invalid_json: the body is not valid JSON (or empty_body)", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn put_preferences(
    State(ctx): State<Ctx>,
    w: Watching,
    Json(body): Json<Preferences>,
) -> ApiResult<axum::Json<Preferences>> {
    let mut kinds: Vec<Kind> = body.kinds.iter().map(|k| k.kind).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.len() != body.kinds.len() {
        return Err(ApiError::new(Code::InvalidBody, "each kind at most once"));
    }
    // Read, change, write: two devices changing different kinds at once may lose one change,
    // which the next save repairs; preferences are not worth a compare-and-set.
    let mut prefs = ctx
        .read_checked(|tx| state::preferences(tx, &w.profile.id))
        .await?;
    for k in &body.kinds {
        prefs.set(
            k.kind,
            Channels {
                in_app: k.in_app,
                email: k.email,
            },
        );
    }
    let cmd = Command::SetPreferences {
        profile_id: w.profile.id,
        preferences: prefs.clone(),
    };
    ctx.apply(cmd).await?;
    Ok(axum::Json(preferences_wire(&prefs)))
}

/// "Remind me": the chosen profile hears (in the app and by email) when this coming-soon title
/// comes out.
#[utoipa::path(put, path = "/api/v1/reminders/{title_id}", security(("session" = [])), tag = "notifications",
    params(("title_id" = String, Path, description = "Title id")),
    responses(
        (status = 204, description = "Reminder set"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 403, description = "maturity_restricted: above this profile's maturity limit", body = ErrorBody),
        (status = 404, description = "not_found: no such title", body = ErrorBody),
        (status = 409, description = "profile_required (choose who's watching first) or already_released (it can be watched now)", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn remind(
    State(ctx): State<Ctx>,
    w: Watching,
    Path(title_id): Path<String>,
) -> ApiResult<StatusCode> {
    let title = watchable_title(&ctx, &title_id, &w.profile)?;
    if !title.coming_soon(now_unix()) {
        return Err(ApiError::new(
            Code::AlreadyReleased,
            "this title is out already: watch it now",
        ));
    }
    let cmd = Command::Remind {
        profile_id: w.profile.id,
        title_id: title.id,
        on: true,
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take back "Remind me"; taking back one not set is fine.
#[utoipa::path(delete, path = "/api/v1/reminders/{title_id}", security(("session" = [])), tag = "notifications",
    params(("title_id" = String, Path, description = "Title id")),
    responses(
        (status = 204, description = "No reminder (any more)"),
        (status = 401, description = "unauthenticated: no session, or it ended", body = ErrorBody),
        (status = 404, description = "not_found: not a title id", body = ErrorBody),
        (status = 409, description = "profile_required: choose who's watching first", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn forget_reminder(
    State(ctx): State<Ctx>,
    w: Watching,
    Path(title_id): Path<String>,
) -> ApiResult<StatusCode> {
    let cmd = Command::Remind {
        profile_id: w.profile.id,
        title_id: checked_id(&title_id)?.to_owned(),
        on: false,
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn checked_token(token: &str) -> ApiResult<&str> {
    if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(token)
    } else {
        Err(ApiError::not_found("unsubscribe link"))
    }
}

fn unsubscribe_wire(
    ctx: &Ctx,
    link: &state::UnsubscribeLink,
    unsubscribed: bool,
) -> ApiResult<Unsubscribe> {
    let name = ctx.read(|tx| crate::profiles::state::profile(tx, &link.profile_id))?;
    Ok(Unsubscribe {
        kind: link.kind,
        profile_name: name.map(|p| p.name).unwrap_or_default(),
        unsubscribed,
    })
}

/// What an email's unsubscribe link turns off, and whether it is off already (for the page
/// the link opens; a GET never changes anything).
#[utoipa::path(get, path = "/api/v1/unsubscribe/{token}", tag = "notifications",
    params(("token" = String, Path, description = "The token from the email")),
    responses(
        (status = 200, description = "What the link turns off", body = Unsubscribe),
        (status = 404, description = "not_found: not a link Marquee sent", body = ErrorBody),
    ))]
pub async fn unsubscribe_info(
    State(ctx): State<Ctx>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<Unsubscribe>> {
    let token = checked_token(&token)?;
    let link = ctx
        .read(|tx| state::unsubscribe_link(tx, token))?
        .ok_or_else(|| ApiError::not_found("unsubscribe link"))?;
    let off = !ctx
        .read(|tx| state::preferences(tx, &link.profile_id))?
        .of(link.kind)
        .email;
    Ok(axum::Json(unsubscribe_wire(&ctx, &link, off)?))
}

/// One-click unsubscribe (RFC 8058): mail clients POST `List-Unsubscribe=One-Click` here with
/// no session; the email kind the link came with is turned off for its profile.
#[utoipa::path(post, path = "/api/v1/unsubscribe/{token}", tag = "notifications",
    params(("token" = String, Path, description = "The token from the email")),
    responses(
        (status = 200, description = "Those emails are off", body = Unsubscribe),
        (status = 404, description = "not_found: not a link Marquee sent", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn unsubscribe(
    State(ctx): State<Ctx>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<Unsubscribe>> {
    let token = checked_token(&token)?.to_owned();
    let state::Applied::Unsubscribed(link) = ctx.apply(Command::Unsubscribe { token }).await?
    else {
        return Err(ApiError::internal("unsubscribe", "unexpected outcome"));
    };
    tracing::info!(profile = %link.profile_id, kind = link.kind.as_str(), "unsubscribed from emails");
    Ok(axum::Json(unsubscribe_wire(&ctx, &link, true)?))
}
