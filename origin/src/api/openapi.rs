//! The OpenAPI document, generated from the handlers' annotations.

use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{accounts, model, playback, titles};
use crate::error::{ErrorBody, ErrorDetail};
use crate::state::{JobState, TitleKind, TitleState};

#[derive(OpenApi)]
#[openapi(
    info(title = "Marquee origin API", description = "Accounts, catalogue, admin uploads and playback. Errors are `{\"error\": {\"code\", \"message\"}}` with a 4xx/5xx status; the session is the `marquee_session` cookie."),
    paths(
        accounts::sign_up, accounts::sign_in, accounts::sign_out, accounts::me,
        titles::list, titles::one, titles::poster, titles::create, titles::put_poster,
        titles::put_video, titles::job, playback::playback,
    ),
    components(schemas(
        model::SignUp, model::SignIn, model::Account, model::NewTitle, model::Title, model::TitleList,
        model::Job, model::PlaybackRequest, model::Playback, model::PlaybackEdge,
        ErrorBody, ErrorDetail, TitleKind, TitleState, JobState,
    )),
    modifiers(&SessionCookie),
    tags(
        (name = "accounts", description = "Sign up, sign in, sessions"),
        (name = "titles", description = "The catalogue and playback"),
        (name = "admin", description = "Catalogue management (admins only)"),
    )
)]
pub struct ApiDoc;

pub async fn serve() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

/// Declares the `marquee_session` cookie that protected operations name in `security`.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let cookie = ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE));
        components.add_security_scheme("session", SecurityScheme::ApiKey(cookie));
    }
}
