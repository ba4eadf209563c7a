//! The extractor for what belongs to a profile (My List, ratings, progress, history): a
//! signed-in session that has chosen who is watching.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::state::Profile;
use crate::accounts::Viewer;
use crate::api::Ctx;
use crate::error::{ApiError, Code};

/// A session with its chosen profile; 401 without a session, 409 `profile_required` without
/// a profile.
pub struct Watching {
    pub viewer: Viewer,
    pub profile: Profile,
}

impl FromRequestParts<Ctx> for Watching {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, ApiError> {
        let mut viewer = Viewer::from_request_parts(parts, ctx).await?;
        let profile = viewer.profile.take().ok_or_else(|| {
            ApiError::new(
                Code::ProfileRequired,
                "choose who's watching (PUT /api/v1/sessions/current/profile) first",
            )
        })?;
        Ok(Self { viewer, profile })
    }
}
