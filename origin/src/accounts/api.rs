//! Sign up, sign in, sign out, me.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;

use super::auth::{self, CredentialError};
use super::session::Viewer;
use super::state::{self, Applied, Command, NewAccount, Rejection};
use super::wire::{Account, SignIn, SignUp};
use crate::api::Ctx;
use crate::error::{ApiError, ApiResult, Code, ErrorBody, Json};
use crate::ids::{self, now_unix};

const MAX_DISPLAY_NAME: usize = 100;

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        let code = match e {
            CredentialError::InvalidEmail => Code::InvalidEmail,
            CredentialError::PasswordTooShort => Code::PasswordTooShort,
            CredentialError::PasswordTooLong => Code::PasswordTooLong,
            CredentialError::Hash(_) => return ApiError::internal("password hash", e),
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::EmailTaken => ApiError::new(Code::EmailTaken, r.to_string()),
            Rejection::AccountNotFound | Rejection::SessionEnded => {
                ApiError::new(Code::Unauthenticated, r.to_string())
            }
            Rejection::ProfileNotFound => ApiError::new(Code::NotFound, r.to_string()),
            Rejection::AccountExists => ApiError::internal("id collision", r),
        }
    }
}

impl From<super::state::GuardRefusal> for ApiError {
    fn from(r: super::state::GuardRefusal) -> Self {
        use super::state::GuardRefusal;
        let code = match r {
            GuardRefusal::SessionEnded => Code::Unauthenticated,
            GuardRefusal::NotAdmin => Code::Forbidden,
        };
        ApiError::new(code, r.to_string())
    }
}

/// Whether cookies for this request get `Secure`.
fn secure_cookies(ctx: &Ctx, headers: &HeaderMap) -> bool {
    auth::request_over_https(ctx.config.public_url.as_deref(), headers)
}

/// Starts a session for `account_id` and answers `status` with the account and the cookie.
async fn start_session(
    ctx: &Ctx,
    account_id: &str,
    status: StatusCode,
    request_headers: &HeaderMap,
) -> ApiResult<impl IntoResponse + use<>> {
    let secure = secure_cookies(ctx, request_headers);
    let user_agent = request_headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let (token, token_hash) = auth::new_session_token();
    let now = now_unix();
    let cmd = Command::CreateSession {
        token_hash,
        account_id: account_id.to_owned(),
        expires_at: now + auth::SESSION_TTL_SECS,
        now,
        device: crate::streams::device::name(user_agent),
    };
    let Applied::Account(account) = ctx.apply(cmd).await? else {
        return Err(ApiError::internal("create session", "unexpected outcome"));
    };
    let cookie = auth::session_cookie(&token, auth::SESSION_TTL_SECS, secure);
    let cookie = HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal("cookie", e))?;
    let mut headers = HeaderMap::new();
    headers.insert(SET_COOKIE, cookie);
    Ok((status, headers, axum::Json(Account::from(&account))))
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = SignUp,
    responses(
        (status = 201, description = "Account created; the session cookie is set", body = Account),
        (status = 400, description = "invalid_email, password_too_short, invalid_json", body = ErrorBody),
        (status = 409, description = "email_taken", body = ErrorBody),
        (status = 415, description = "not JSON", body = ErrorBody),
        (status = 422, description = "missing or mistyped fields", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn sign_up(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Json(req): Json<SignUp>,
) -> ApiResult<impl IntoResponse> {
    let email = auth::normalise_email(&req.email)?;
    auth::check_password_rules(&req.password)?;
    let display_name = match req.display_name.as_deref().map(str::trim) {
        Some(n) if n.chars().count() > MAX_DISPLAY_NAME => {
            return Err(ApiError::new(
                Code::InvalidBody,
                "display_name is longer than 100 characters",
            ));
        }
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => email.split('@').next().unwrap_or_default().to_owned(),
    };
    let password = req.password;
    let password_hash = ctx.passwords.hash(password).await?;
    let is_admin = ctx.config.admin_emails.contains(&email);
    let new = NewAccount {
        id: ids::new_id(),
        email,
        display_name,
        password_hash,
        is_admin,
        now: now_unix(),
    };
    let account_id = new.id.clone();
    ctx.apply(Command::CreateAccount(new)).await?;
    tracing::info!(account_id, is_admin, "account created");
    start_session(&ctx, &account_id, StatusCode::CREATED, &headers).await
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "accounts", request_body = SignIn,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = Account),
        (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 429, description = "too_many_attempts: 10 failed sign-ins for this email in 15 minutes; see Retry-After", body = ErrorBody),
        (status = 400, description = "invalid_json", body = ErrorBody),
        (status = 422, description = "missing fields", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: wrong Content-Type", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn sign_in(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Json(req): Json<SignIn>,
) -> ApiResult<impl IntoResponse> {
    let invalid = || ApiError::new(Code::InvalidCredentials, "the email or password is wrong");
    // No account can have a malformed email: answer without spending a hash on it.
    let email = auth::normalise_email(&req.email).map_err(|_| invalid())?;
    ctx.passwords.check(&email)?;
    // Counted before the hash (forgiven on success): sign-ins sent at once must not all pass
    // the check while the first ones are still hashing.
    ctx.passwords.failed(&email);
    let found: Option<state::Account> = ctx
        .read_checked(|tx| state::account_by_email(tx, &email))
        .await?;
    // Verify against a decoy when the account is unknown, so timing does not reveal accounts.
    let hash = found.as_ref().map(|a| a.password_hash.clone());
    let phc = hash.unwrap_or_else(|| auth::decoy_hash().to_owned());
    let ok = ctx.passwords.verify(req.password, phc).await? && found.is_some();
    // Unknown emails count too (above), so probing for accounts is throttled the same way.
    if !ok {
        return Err(invalid());
    }
    ctx.passwords.succeeded(&email);
    let account = found.ok_or_else(invalid)?;
    start_session(&ctx, &account.id, StatusCode::OK, &headers).await
}

/// Sign out: end this session and clear the cookie.
#[utoipa::path(delete, path = "/api/v1/sessions/current", security(("session" = [])), tag = "accounts",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
        (status = 507, description = "insufficient_storage: the node's disk is nearly full; nothing was changed", body = ErrorBody),
    ))]
pub async fn sign_out(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    request_headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    ctx.apply(Command::DeleteSession {
        token_hash: viewer.token_hash,
    })
    .await?;
    signed_out(&ctx, &request_headers)
}

/// 204 with the session cookie cleared: the answer to signing this device out.
pub(super) fn signed_out(
    ctx: &Ctx,
    request_headers: &HeaderMap,
) -> ApiResult<(StatusCode, HeaderMap)> {
    let cookie = auth::clear_session_cookie(secure_cookies(ctx, request_headers));
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal("cookie", e))?,
    );
    Ok((StatusCode::NO_CONTENT, headers))
}

/// The signed-in account, with the profile chosen for this session (`null` until one is).
#[utoipa::path(get, path = "/api/v1/me", security(("session" = [])), tag = "accounts",
    responses(
        (status = 200, description = "The signed-in account and its chosen profile", body = Account),
        (status = 401, description = "unauthenticated", body = ErrorBody),
        (status = 503, description = "unavailable: no Raft leader could confirm this right now; retry shortly", body = ErrorBody),
    ))]
pub async fn me(viewer: Viewer) -> axum::Json<Account> {
    let mut me = Account::from(&viewer.account);
    me.profile = viewer
        .profile
        .as_ref()
        .map(crate::profiles::wire::Profile::from);
    axum::Json(me)
}
