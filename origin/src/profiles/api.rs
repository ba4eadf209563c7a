//! List, create, edit and delete the signed-in account's profiles.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::state::{self, Applied, Command, MAX_PER_ACCOUNT, PinChange, ProfileChange, Rejection};
use super::wire::{ChooseProfile, NewProfile, Profile, ProfileEdit, ProfileList};
use crate::accounts::Viewer;
use crate::api::Ctx;
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::ids::{self, now_unix};
use crate::policy::Maturity;

/// The built-in avatars (the web app draws them by name).
pub const AVATARS: &[&str] = &[
    "fox", "owl", "bear", "cat", "panda", "robot", "rocket", "wave", "star", "cactus",
];
/// Languages a profile can prefer (ISO 639-1).
pub const LANGUAGES: &[&str] = &[
    "en", "fr", "de", "es", "it", "pt", "nl", "sv", "pl", "ja", "ko", "zh", "ar", "hi",
];
const MAX_NAME_CHARS: usize = 40;

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        let code = match r {
            Rejection::TooManyProfiles { .. } => Code::ProfileLimitReached,
            Rejection::ProfileNotFound => Code::NotFound,
            Rejection::KidsAboveLimit => Code::InvalidProfile,
            Rejection::AccountNotFound => Code::Unauthenticated,
            Rejection::ProfileExists => return ApiError::internal("id collision", r),
        };
        ApiError::new(code, r.to_string())
    }
}

/// Who may manage profiles: not a session watching as a kids profile, and a profile with a
/// PIN only from a session that chose it (with that PIN), so nobody gets round a PIN by
/// removing or replacing it, or by raising a kids profile's limit.
fn may_manage(viewer: &Viewer, target: Option<&state::Profile>) -> ApiResult<()> {
    if viewer.profile.as_ref().is_some_and(|p| p.kids) {
        return Err(ApiError::new(
            Code::Forbidden,
            "a kids profile cannot change profiles; switch to another profile first",
        ));
    }
    if let Some(target) = target
        && target.pin_hash.is_some()
        && viewer.profile.as_ref().map(|p| &p.id) != Some(&target.id)
    {
        return Err(ApiError::new(
            Code::Forbidden,
            "this profile has a PIN: choose it (with its PIN) before changing or deleting it",
        ));
    }
    Ok(())
}

/// The account's profile `id`, or 404.
async fn own_profile(ctx: &Ctx, viewer: &Viewer, id: &str) -> ApiResult<state::Profile> {
    let (account_id, id) = (viewer.account.id.clone(), id.to_owned());
    ctx.read_checked(move |tx| state::owned(tx, &account_id, &id))
        .await?
        .ok_or_else(|| ApiError::from(Rejection::ProfileNotFound))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(Code::InvalidProfile, message)
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(name.to_owned())
}

fn check_choice(field: &str, value: &str, choices: &[&str]) -> ApiResult<String> {
    if choices.contains(&value) {
        return Ok(value.to_owned());
    }
    Err(invalid(format!(
        "{field} must be one of {}",
        choices.join(", ")
    )))
}

/// Hashes a PIN of exactly four digits, like a password.
async fn pin_hash(ctx: &Ctx, pin: &str) -> ApiResult<String> {
    if pin.len() != 4 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("pin must be exactly 4 digits"));
    }
    ctx.passwords.hash(pin.to_owned()).await
}

fn listed(profiles: &[state::Profile]) -> ProfileList {
    ProfileList {
        profiles: profiles.iter().map(Profile::from).collect(),
        avatars: AVATARS.iter().map(|a| (*a).to_owned()).collect(),
        languages: LANGUAGES.iter().map(|l| (*l).to_owned()).collect(),
    }
}

/// The signed-in account's profiles, oldest first, with the avatars and languages to choose from.
#[utoipa::path(get, path = "/api/v1/profiles", security(("session" = [])), tag = "profiles",
    responses(
        (status = 200, description = "The account's profiles", body = ProfileList),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now, or the server is busy hashing PINs and passwords; retry shortly", body = ErrorBody),
    ))]
pub async fn list(State(ctx): State<Ctx>, viewer: Viewer) -> ApiResult<axum::Json<ProfileList>> {
    let profiles = ctx.read(|tx| state::of_account(tx, &viewer.account.id))?;
    Ok(axum::Json(listed(&profiles)))
}

/// Add a profile to the signed-in account (at most 5).
#[utoipa::path(post, path = "/api/v1/profiles", security(("session" = [])), tag = "profiles",
    request_body = NewProfile,
    responses(
        (status = 201, description = "Profile created", body = Profile),
        (status = 400, description = "invalid_json", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden: the session watches as a kids profile", body = ErrorBody),
        (status = 409, description = "profile_limit_reached: the account has 5 profiles already", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 422, description = "invalid_profile (name, avatar, language, maturity, kids limit or pin), or missing or mistyped fields", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now, or the server is busy hashing PINs and passwords; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn create(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Json(req): Json<NewProfile>,
) -> ApiResult<(StatusCode, axum::Json<Profile>)> {
    may_manage(&viewer, None)?;
    let account_id = viewer.account.id;
    let name = check_name(&req.name)?;
    let existing = ctx.read(|tx| state::of_account(tx, &account_id))?;
    if existing.len() >= MAX_PER_ACCOUNT {
        return Err(Rejection::TooManyProfiles {
            max: MAX_PER_ACCOUNT,
        }
        .into());
    }
    let avatar = match req.avatar {
        Some(a) => check_choice("avatar", &a, AVATARS)?,
        None => AVATARS
            .iter()
            .find(|a| !existing.iter().any(|p| p.avatar == **a))
            .unwrap_or(&AVATARS[0])
            .to_string(),
    };
    let language = check_choice(
        "language",
        req.language.as_deref().unwrap_or("en"),
        LANGUAGES,
    )?;
    let kids = req.kids.unwrap_or(false);
    let maturity = req.maturity.unwrap_or(if kids {
        Maturity::KIDS_MAX
    } else {
        Maturity::Age18
    });
    let pin_hash = match req.pin {
        Some(pin) => Some(pin_hash(&ctx, &pin).await?),
        None => None,
    };
    let profile = state::Profile {
        id: ids::new_id(),
        account_id,
        name,
        avatar,
        language,
        maturity,
        kids,
        pin_hash,
        created_at: now_unix(),
    };
    let Applied::Profile(created) = ctx.apply(Command::CreateProfile(profile)).await? else {
        return Err(ApiError::internal("create profile", "unexpected outcome"));
    };
    Ok((StatusCode::CREATED, axum::Json(Profile::from(&created))))
}

/// Change the fields given of one of the account's profiles.
#[utoipa::path(patch, path = "/api/v1/profiles/{id}", security(("session" = [])), tag = "profiles",
    params(("id" = String, Path, description = "Profile id")), request_body = ProfileEdit,
    responses(
        (status = 200, description = "The profile as changed", body = Profile),
        (status = 400, description = "invalid_json", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden: the session watches as a kids profile, or the profile has a PIN and was not chosen with it", body = ErrorBody),
        (status = 404, description = "not_found: no such profile on this account", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 422, description = "invalid_profile (name, avatar, language, maturity, kids limit or pin), or mistyped fields", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now, or the server is busy hashing PINs and passwords; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn edit(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(id): Path<String>,
    Json(req): Json<ProfileEdit>,
) -> ApiResult<axum::Json<Profile>> {
    may_manage(&viewer, Some(&own_profile(&ctx, &viewer, &id).await?))?;
    let change = ProfileChange {
        name: req.name.as_deref().map(check_name).transpose()?,
        avatar: req
            .avatar
            .as_deref()
            .map(|a| check_choice("avatar", a, AVATARS))
            .transpose()?,
        language: req
            .language
            .as_deref()
            .map(|l| check_choice("language", l, LANGUAGES))
            .transpose()?,
        maturity: req.maturity,
        kids: req.kids,
        pin: match req.pin {
            Some(Some(pin)) => Some(PinChange::Set(pin_hash(&ctx, &pin).await?)),
            Some(None) => Some(PinChange::Remove),
            None => None,
        },
    };
    let cmd = Command::UpdateProfile {
        account_id: viewer.account.id,
        id,
        change,
    };
    let Applied::Profile(changed) = ctx.apply(cmd).await? else {
        return Err(ApiError::internal("edit profile", "unexpected outcome"));
    };
    Ok(axum::Json(Profile::from(&changed)))
}

/// Delete one of the account's profiles.
#[utoipa::path(delete, path = "/api/v1/profiles/{id}", security(("session" = [])), tag = "profiles",
    params(("id" = String, Path, description = "Profile id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "forbidden: the session watches as a kids profile, or the profile has a PIN and was not chosen with it", body = ErrorBody),
        (status = 404, description = "not_found: no such profile on this account", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now, or the server is busy hashing PINs and passwords; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn delete(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    may_manage(&viewer, Some(&own_profile(&ctx, &viewer, &id).await?))?;
    let cmd = Command::DeleteProfile {
        account_id: viewer.account.id,
        id,
    };
    ctx.apply(cmd).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Choose who is watching: the session carries this profile from now on. A profile with a PIN
/// needs it; wrong guesses are limited per profile.
#[utoipa::path(put, path = "/api/v1/sessions/current/profile", security(("session" = [])), tag = "profiles",
    request_body = ChooseProfile,
    responses(
        (status = 200, description = "The chosen profile", body = Profile),
        (status = 400, description = "invalid_json", body = ErrorBody),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 403, description = "wrong_pin: the PIN is missing or wrong", body = ErrorBody),
        (status = 404, description = "not_found: no such profile on this account", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 422, description = "missing or mistyped fields", body = ErrorBody),
        (status = 429, description = "too_many_attempts: 10 wrong PINs for this profile in 15 minutes; see Retry-After", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now, or the server is busy hashing PINs and passwords; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn choose(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    Json(req): Json<ChooseProfile>,
) -> ApiResult<axum::Json<Profile>> {
    // A PIN guards access: read it linearizably, so a PIN just set is the one asked for.
    let profile = own_profile(&ctx, &viewer, &req.profile_id).await?;
    if let Some(hash) = profile.pin_hash.clone() {
        let Some(given) = req.pin else {
            return Err(ApiError::new(Code::WrongPin, "this profile needs its PIN"));
        };
        let key = format!("pin:{}", profile.id);
        ctx.passwords
            .check_key(&key, "PIN guesses for this profile")?;
        // Counted before the hash (forgiven on success): guesses sent at once must not all
        // pass the check while the first ones are still hashing.
        ctx.passwords.failed(&key);
        if !ctx.passwords.verify(given, hash).await? {
            return Err(ApiError::new(
                Code::WrongPin,
                "that PIN is not this profile's",
            ));
        }
        ctx.passwords.succeeded(&key);
    }
    let cmd = crate::accounts::state::Command::SelectProfile {
        token_hash: viewer.token_hash,
        profile_id: profile.id.clone(),
        now: now_unix(),
    };
    ctx.apply(cmd).await?;
    Ok(axum::Json(Profile::from(&profile)))
}
