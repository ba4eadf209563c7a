//! The HTTP surface: JSON API under `/api/v1`, media, health, metrics, OpenAPI and the web app.

mod accounts;
pub mod model;
mod openapi;
mod playback;
mod session;
pub mod throttle;
mod titles;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use marquee_proto::token::{TokenSigner, TokenVerifier};
use tokio::sync::Notify;

use crate::blob::BlobStore;
use crate::config::Config;
use crate::error::{ApiError, ApiResult, Code};
use crate::raft::{ReadError, Replicated, WriteError};
use crate::state::{Applied, Command, OriginState, Rejection};

pub use openapi::ApiDoc;
pub use session::{Admin, MaybeViewer, Viewer};

/// Largest poster accepted.
const MAX_POSTER_BYTES: usize = 10 << 20;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct Ctx {
    pub raft: Replicated<OriginState>,
    pub blobs: BlobStore,
    pub config: Arc<Config>,
    pub signer: Arc<TokenSigner>,
    /// Checks the playback tokens edges forward on `/media` fetches (this origin's own key).
    pub media_tokens: Arc<TokenVerifier>,
    pub http: reqwest::Client,
    /// Failed sign-ins per email and concurrent password hashing.
    pub passwords: Arc<throttle::PasswordThrottle>,
    /// Woken when a job is queued, so the worker starts without polling delay.
    pub jobs_wake: Arc<Notify>,
}

impl Ctx {
    /// Replicates `cmd`; a refusal becomes the matching 4xx.
    pub async fn apply(&self, cmd: Command) -> ApiResult<Applied> {
        match self.raft.write(cmd).await {
            Ok(outcome) => outcome.map_err(ApiError::from),
            Err(e) => Err(write_error(e)),
        }
    }

    /// A linearizable read, for checks that guard access.
    pub async fn read_checked<R>(&self, f: impl FnOnce(&OriginState) -> R) -> ApiResult<R> {
        self.raft.read_linearizable(f).await.map_err(read_error)
    }
}

fn not_leader() -> ApiError {
    ApiError::new(
        Code::Unavailable,
        "this origin node cannot serve that right now; try again shortly",
    )
}

fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::NotLeader { .. } | WriteError::Stopped => {
            tracing::warn!(error = %e, "write refused by raft");
            not_leader()
        }
        WriteError::Encode(_) | WriteError::Fatal(_) => ApiError::internal("raft write", e),
    }
}

fn read_error(e: ReadError) -> ApiError {
    match e {
        ReadError::NotLeader { .. } | ReadError::Unavailable(_) | ReadError::Stopped => {
            tracing::warn!(error = %e, "linearizable read refused by raft");
            not_leader()
        }
        ReadError::Fatal(_) => ApiError::internal("raft read", e),
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        let code = match r {
            Rejection::EmailTaken => Code::EmailTaken,
            Rejection::AccountNotFound => Code::Unauthenticated,
            Rejection::TitleNotFound | Rejection::JobNotFound => Code::NotFound,
            Rejection::JobInProgress | Rejection::JobWrongState => Code::JobInProgress,
            Rejection::AccountExists | Rejection::TitleExists => {
                return ApiError::internal("id collision", r);
            }
        };
        ApiError::new(code, r.to_string())
    }
}

/// The `/api/v1` routes and `/api/openapi.json`.
pub fn router() -> Router<Ctx> {
    let v1 = Router::new()
        .route("/accounts", post(accounts::sign_up))
        .route("/sessions", post(accounts::sign_in))
        .route("/sessions/current", delete(accounts::sign_out))
        .route("/me", get(accounts::me))
        .route("/titles", get(titles::list))
        .route("/titles/{id}", get(titles::one))
        .route("/titles/{id}/poster", get(titles::poster))
        .route("/titles/{id}/playback", post(playback::playback))
        .route("/admin/titles", post(titles::create))
        .route(
            "/admin/titles/{id}/poster",
            put(titles::put_poster).layer(DefaultBodyLimit::max(MAX_POSTER_BYTES)),
        )
        .route("/admin/titles/{id}/video", put(titles::put_video))
        .route("/admin/titles/{id}/job", get(titles::job));
    Router::new()
        .nest("/api/v1", v1)
        .route("/api/openapi.json", get(openapi::serve))
}
