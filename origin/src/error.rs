//! The API's error type: stable codes, mapped to HTTP status in one table.
//!
//! Handlers build an [`ApiError`] with a safe message for the client; internal failures log
//! their detail through `tracing` and answer a generic sentence.

use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the API can answer; published in OpenAPI as the enum of `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    InvalidEmail,
    PasswordTooShort,
    PasswordTooLong,
    InvalidJson,
    InvalidBody,
    InvalidTitle,
    InvalidProfile,
    InvalidEpisode,
    InvalidProgress,
    InvalidQuery,
    InvalidSubtitles,
    EmptyBody,
    UnsupportedMediaType,
    BodyTooLarge,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    WrongPin,
    MaturityRestricted,
    NotFound,
    EmailTaken,
    AlreadyExists,
    ProfileLimitReached,
    ProfileRequired,
    ListFull,
    TitleNotReady,
    ComingSoon,
    AlreadyReleased,
    JobInProgress,
    ClusterChangeRefused,
    TokenKeyRotationRefused,
    NoControlPlane,
    TooManyAttempts,
    NoEdgeAvailable,
    Unavailable,
    InsufficientStorage,
    InvalidCard,
    InvalidPlan,
    InvalidSignature,
    SubscriptionRequired,
    PaymentDeclined,
    AlreadySubscribed,
    NotSubscribed,
    SubscriptionState,
    GatewayUnavailable,
    TooManyStreams,
    Internal,
}

/// The one table: code → (HTTP status, wire code).
impl Code {
    pub const ALL: [Code; 47] = [
        Self::InvalidEmail,
        Self::PasswordTooShort,
        Self::PasswordTooLong,
        Self::InvalidJson,
        Self::InvalidBody,
        Self::InvalidTitle,
        Self::InvalidProfile,
        Self::InvalidEpisode,
        Self::InvalidProgress,
        Self::InvalidQuery,
        Self::InvalidSubtitles,
        Self::EmptyBody,
        Self::UnsupportedMediaType,
        Self::BodyTooLarge,
        Self::Unauthenticated,
        Self::InvalidCredentials,
        Self::Forbidden,
        Self::WrongPin,
        Self::MaturityRestricted,
        Self::NotFound,
        Self::EmailTaken,
        Self::AlreadyExists,
        Self::ProfileLimitReached,
        Self::ProfileRequired,
        Self::ListFull,
        Self::TitleNotReady,
        Self::ComingSoon,
        Self::AlreadyReleased,
        Self::JobInProgress,
        Self::ClusterChangeRefused,
        Self::TokenKeyRotationRefused,
        Self::NoControlPlane,
        Self::TooManyAttempts,
        Self::NoEdgeAvailable,
        Self::Unavailable,
        Self::InsufficientStorage,
        Self::InvalidCard,
        Self::InvalidPlan,
        Self::InvalidSignature,
        Self::SubscriptionRequired,
        Self::PaymentDeclined,
        Self::AlreadySubscribed,
        Self::NotSubscribed,
        Self::SubscriptionState,
        Self::GatewayUnavailable,
        Self::TooManyStreams,
        Self::Internal,
    ];

    pub fn status(self) -> StatusCode {
        use StatusCode as S;
        match self {
            Self::InvalidEmail | Self::PasswordTooShort | Self::PasswordTooLong => S::BAD_REQUEST,
            Self::InvalidJson | Self::EmptyBody | Self::InvalidQuery => S::BAD_REQUEST,
            Self::InvalidProgress | Self::InvalidSubtitles => S::UNPROCESSABLE_ENTITY,
            Self::InvalidBody
            | Self::InvalidTitle
            | Self::InvalidProfile
            | Self::InvalidEpisode => S::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => S::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTooLarge => S::PAYLOAD_TOO_LARGE,
            Self::Unauthenticated | Self::InvalidCredentials => S::UNAUTHORIZED,
            Self::Forbidden | Self::WrongPin | Self::MaturityRestricted => S::FORBIDDEN,
            Self::NotFound => S::NOT_FOUND,
            Self::EmailTaken | Self::TitleNotReady | Self::JobInProgress => S::CONFLICT,
            Self::AlreadyExists | Self::ListFull => S::CONFLICT,
            Self::ComingSoon | Self::AlreadyReleased => S::CONFLICT,
            Self::ClusterChangeRefused
            | Self::TokenKeyRotationRefused
            | Self::NoControlPlane
            | Self::ProfileLimitReached
            | Self::ProfileRequired => S::CONFLICT,
            Self::TooManyAttempts => S::TOO_MANY_REQUESTS,
            Self::NoEdgeAvailable | Self::Unavailable => S::SERVICE_UNAVAILABLE,
            Self::InsufficientStorage => S::INSUFFICIENT_STORAGE,
            Self::InvalidCard => S::UNPROCESSABLE_ENTITY,
            Self::InvalidPlan => S::UNPROCESSABLE_ENTITY,
            Self::InvalidSignature => S::BAD_REQUEST,
            Self::SubscriptionRequired => S::PAYMENT_REQUIRED,
            Self::PaymentDeclined => S::PAYMENT_REQUIRED,
            Self::AlreadySubscribed => S::CONFLICT,
            Self::NotSubscribed => S::CONFLICT,
            Self::SubscriptionState => S::CONFLICT,
            Self::GatewayUnavailable => S::SERVICE_UNAVAILABLE,
            Self::TooManyStreams => S::FORBIDDEN,
            Self::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidEmail => "invalid_email",
            Self::PasswordTooShort => "password_too_short",
            Self::PasswordTooLong => "password_too_long",
            Self::InvalidJson => "invalid_json",
            Self::InvalidBody => "invalid_body",
            Self::InvalidTitle => "invalid_title",
            Self::InvalidProfile => "invalid_profile",
            Self::InvalidEpisode => "invalid_episode",
            Self::InvalidProgress => "invalid_progress",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidSubtitles => "invalid_subtitles",
            Self::EmptyBody => "empty_body",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyTooLarge => "body_too_large",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::WrongPin => "wrong_pin",
            Self::MaturityRestricted => "maturity_restricted",
            Self::NotFound => "not_found",
            Self::EmailTaken => "email_taken",
            Self::AlreadyExists => "already_exists",
            Self::ProfileLimitReached => "profile_limit_reached",
            Self::ProfileRequired => "profile_required",
            Self::ListFull => "list_full",
            Self::TitleNotReady => "title_not_ready",
            Self::ComingSoon => "coming_soon",
            Self::AlreadyReleased => "already_released",
            Self::JobInProgress => "job_in_progress",
            Self::ClusterChangeRefused => "cluster_change_refused",
            Self::TokenKeyRotationRefused => "token_key_rotation_refused",
            Self::NoControlPlane => "no_control_plane",
            Self::TooManyAttempts => "too_many_attempts",
            Self::NoEdgeAvailable => "no_edge_available",
            Self::Unavailable => "unavailable",
            Self::InsufficientStorage => "insufficient_storage",
            Self::InvalidCard => "invalid_card",
            Self::InvalidPlan => "invalid_plan",
            Self::InvalidSignature => "invalid_signature",
            Self::SubscriptionRequired => "subscription_required",
            Self::PaymentDeclined => "payment_declined",
            Self::AlreadySubscribed => "already_subscribed",
            Self::NotSubscribed => "not_subscribed",
            Self::SubscriptionState => "subscription_state",
            Self::GatewayUnavailable => "gateway_unavailable",
            Self::TooManyStreams => "too_many_streams",
            Self::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Seconds to wait before trying again, sent as `Retry-After` (429 and 503).
    pub retry_after_secs: Option<u64>,
}

/// Wire shape: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `email_taken`.
    pub code: Code,
    /// A human sentence, safe to show.
    pub message: String,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// A failure that is ours, not the caller's: the detail goes to the log only.
    pub fn internal(context: &str, detail: impl std::fmt::Display) -> Self {
        tracing::error!(context, error = %detail, "internal error");
        Self::new(
            Code::Internal,
            "something went wrong on our side; please try again",
        )
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(Code::Unauthenticated, "sign in first")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.code.status(), axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// axum's JSON rejections (bad syntax, missing fields, wrong content type) in our shape.
impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let code = match &r {
            JsonRejection::JsonDataError(_) => Code::InvalidBody,
            JsonRejection::JsonSyntaxError(_) => Code::InvalidJson,
            JsonRejection::MissingJsonContentType(_) => Code::UnsupportedMediaType,
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Code::BodyTooLarge,
            _ => Code::InvalidJson,
        };
        Self::new(code, r.body_text())
    }
}

/// `axum::Json` whose rejection is an [`ApiError`].
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_status() {
        assert_eq!(Code::EmailTaken.status(), StatusCode::CONFLICT);
        assert_eq!(Code::InvalidCredentials.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            Code::NoEdgeAvailable.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(Code::InvalidBody.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(Code::TitleNotReady.as_str(), "title_not_ready");
    }

    #[test]
    fn the_wire_code_is_the_serde_name_of_every_code() {
        for code in Code::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }

    #[test]
    fn error_body_has_the_documented_shape() {
        let e = ApiError::new(Code::EmailTaken, "taken");
        let v = serde_json::to_value(e.body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": {"code": "email_taken", "message": "taken"}})
        );
    }
}
