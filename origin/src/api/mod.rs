//! The HTTP surface: JSON API under `/api/v1`, media, health, metrics, OpenAPI and the web app.

mod openapi;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use tokio::sync::Notify;

use crate::accounts::throttle::PasswordThrottle;
use crate::blob::BlobStore;
use crate::blob::peers::PeerBlobs;
use crate::config::Config;
use crate::disk::DiskGuard;
use crate::error::{ApiError, ApiResult, Code};
use crate::raft::{GroupCommit, ReadError, Replicated, StoreError, WriteError};
use crate::state::{Command, DomainCommand, Guarded, Origin, Outcome};
use crate::{
    accounts, billing, catalogue, cluster, history, jobs, mylist, notifications, playback,
    profiles, ratings, recommendations, rows, search, series, subtitles,
};
use recommendations::Recommendations;
use search::index::SearchIndex;

pub use openapi::ApiDoc;

/// Where the versioned API lives on every host that serves it (origin, and edges fronting it).
pub const API_PREFIX: &str = "/api/v1";

/// Largest poster accepted.
const MAX_POSTER_BYTES: usize = 10 << 20;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct Ctx {
    pub raft: Replicated<Origin>,
    pub blobs: BlobStore,
    pub config: Arc<Config>,
    /// The playback-token signing key and the keys tokens may carry (rotations included).
    pub keys: Arc<crate::token_keys::keyring::Keyring>,
    pub http: reqwest::Client,
    /// Mutual TLS to the control-plane with this node's certificate (plain `http` when none is
    /// configured, which the config allows only without a control-plane).
    pub control_plane: reqwest::Client,
    /// Failed sign-ins per email and concurrent password hashing.
    pub passwords: Arc<PasswordThrottle>,
    /// Woken when a job is queued, so the worker starts without polling delay.
    pub jobs_wake: Arc<Notify>,
    /// Coalesces high-rate small writes (progress) into few Raft entries.
    pub group: GroupCommit<Origin>,
    /// Fetches blobs this node lacks from the other members.
    pub peer_blobs: PeerBlobs,
    /// Refuses writes while the data dir's disk is nearly full.
    pub disk: Arc<DiskGuard>,
    /// This node's search index, following the replicated catalogue.
    pub search: Arc<SearchIndex>,
    /// This node's recommendation model, trained in the background.
    pub recommendations: Arc<Recommendations>,
    /// Client address prefixes → countries.
    pub countries: Arc<crate::geo::Countries>,
    /// Where payments go: the sandbox or Stripe.
    pub gateway: Arc<billing::gateway::Configured>,
}

impl Ctx {
    /// Replicates a domain's command; a refusal becomes the matching 4xx.
    pub async fn apply<C>(&self, cmd: C) -> ApiResult<C::Applied>
    where
        C: DomainCommand,
        ApiError: From<C::Rejection>,
    {
        self.disk.check(0)?;
        match self.raft.write(cmd.into()).await {
            Ok(outcome) => match C::outcome(outcome) {
                Some(result) => result.map_err(ApiError::from),
                None => Err(ApiError::internal("apply", "outcome of another domain")),
            },
            Err(e) => Err(write_error(e)),
        }
    }

    /// Replicates `cmd` to apply only while `guard`'s session still may make it (see
    /// [`accounts::AdminWrite`]); a session that ended meanwhile gets 401 or 403.
    pub async fn apply_guarded<C>(
        &self,
        guard: accounts::state::Guard,
        cmd: C,
    ) -> ApiResult<C::Applied>
    where
        C: DomainCommand,
        ApiError: From<C::Rejection>,
    {
        self.disk.check(0)?;
        let guarded = Command::Guarded(Guarded {
            guard,
            command: Box::new(cmd.into()),
        });
        match self.raft.write(guarded).await {
            Ok(Outcome::Refused(refusal)) => Err(refusal.into()),
            Ok(outcome) => match C::outcome(outcome) {
                Some(result) => result.map_err(ApiError::from),
                None => Err(ApiError::internal("apply", "outcome of another domain")),
            },
            Err(e) => Err(write_error(e)),
        }
    }

    /// Replicates a high-rate small write through group commit: coalesced with others (the
    /// latest per `key` wins) into one Raft entry per short window; answered once stored.
    /// With a zero window (the benchmarks' baseline) each is a command of its own.
    pub async fn apply_batched<C: DomainCommand>(&self, key: &str, cmd: C) -> ApiResult<()> {
        self.disk.check(0)?;
        if self.config.progress_window_ms == 0 {
            return match self.raft.write(cmd.into()).await {
                Ok(_) => Ok(()),
                Err(e) => Err(write_error(e)),
            };
        }
        self.group.write(key, cmd.into()).await.map_err(write_error)
    }

    /// A local read (catalogue): may lag the leader a little on a follower.
    pub fn read<R>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<R, StoreError>,
    ) -> ApiResult<R> {
        self.raft
            .read(f)
            .map_err(|e| ApiError::internal("state read", e))
    }

    /// A linearizable read, for checks that guard access.
    pub async fn read_checked<R>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<R, StoreError>,
    ) -> ApiResult<R> {
        self.raft.read_linearizable(f).await.map_err(read_error)
    }
}

fn not_leader() -> ApiError {
    ApiError::new(
        Code::Unavailable,
        "this origin node cannot serve that right now; try again shortly",
    )
}

pub(crate) fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::NotLeader { .. } | WriteError::Stopped => {
            tracing::warn!(error = %e, "write refused by raft");
            not_leader()
        }
        WriteError::Unknown(_) => {
            tracing::warn!(error = %e, "forwarded write without an answer");
            ApiError::new(
                Code::Unavailable,
                "the cluster did not confirm this change in time; check before trying again",
            )
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

/// The `/api/v1` routes and `/api/openapi.json`.
pub fn router() -> Router<Ctx> {
    let v1 = Router::new()
        .route("/accounts", post(accounts::api::sign_up))
        .route(
            "/sessions",
            post(accounts::api::sign_in)
                .get(accounts::devices::list)
                .delete(accounts::devices::sign_out_everywhere),
        )
        .route("/sessions/{id}", delete(accounts::devices::sign_out_device))
        .route("/sessions/current", delete(accounts::api::sign_out))
        .route("/sessions/current/profile", put(profiles::api::choose))
        .route("/me", get(accounts::api::me))
        .route(
            "/profiles",
            get(profiles::api::list).post(profiles::api::create),
        )
        .route(
            "/profiles/{id}",
            axum::routing::patch(profiles::api::edit).delete(profiles::api::delete),
        )
        .route("/my-list", get(mylist::api::list))
        .route(
            "/my-list/{title_id}",
            put(mylist::api::add).delete(mylist::api::remove),
        )
        .route("/progress/{id}", put(history::api::report))
        .route("/continue-watching", get(history::api::continue_watching))
        .route(
            "/continue-watching/{title_id}",
            delete(history::api::dismiss),
        )
        .route("/history", get(history::api::history))
        .route("/history.csv", get(history::api::export))
        .route("/history/{id}", delete(history::api::hide))
        .route(
            "/ratings/{title_id}",
            put(ratings::api::rate).delete(ratings::api::unrate),
        )
        .route("/rows", get(rows::api::rows))
        .route("/plans", get(crate::plans::api::list))
        .route(
            "/subscription",
            get(billing::api::get).post(billing::api::subscribe),
        )
        .route("/subscription/plan", put(billing::api::change_plan))
        .route("/subscription/cancel", post(billing::api::cancel))
        .route("/subscription/resume", post(billing::api::resume))
        .route(
            "/billing/payment-method",
            put(billing::api::update_payment_method),
        )
        .route("/billing/invoices", get(billing::api::invoices))
        .route(
            "/billing/invoices/{number}/receipt",
            get(billing::api::receipt),
        )
        .route(
            "/billing/webhooks/stripe",
            post(billing::stripe::webhook::receive),
        )
        .route(
            "/billing/sandbox/payment-methods",
            post(billing::sandbox::api::save_card),
        )
        .route(
            "/billing/sandbox/challenges/{payment_id}",
            get(billing::sandbox::api::challenge_page)
                .post(billing::sandbox::api::challenge_answer),
        )
        .route("/notifications", get(notifications::api::list))
        .route("/notifications/read", post(notifications::api::mark_read))
        .route("/notifications/events", get(notifications::api::events))
        .route(
            "/notifications/preferences",
            get(notifications::api::get_preferences).put(notifications::api::put_preferences),
        )
        .route(
            "/reminders/{title_id}",
            put(notifications::api::remind).delete(notifications::api::forget_reminder),
        )
        .route(
            "/unsubscribe/{token}",
            get(notifications::api::unsubscribe_info).post(notifications::api::unsubscribe),
        )
        .route("/search", get(search::api::search))
        .route("/titles", get(catalogue::api::list))
        .route("/titles/{id}", get(catalogue::api::one))
        .route("/titles/{id}/poster", get(catalogue::api::poster))
        .route("/titles/{id}/seasons", get(series::api::seasons))
        .route("/titles/{id}/playback", post(playback::api::playback))
        .route(
            "/streams/current",
            put(crate::streams::api::renew).delete(crate::streams::api::release),
        )
        .route(
            "/playback/t/{token}/media/{*path}",
            get(playback::manifests::manifest),
        )
        .route(
            "/playback/t/{token}/steering",
            get(playback::manifests::steering),
        )
        .route("/admin/titles", post(catalogue::api::create))
        .route(
            "/admin/titles/{id}",
            get(catalogue::api::admin_one).patch(catalogue::api::edit),
        )
        .route(
            "/admin/titles/{id}/poster",
            put(catalogue::api::put_poster).layer(DefaultBodyLimit::max(MAX_POSTER_BYTES)),
        )
        .route("/admin/titles/{id}/video", put(catalogue::api::put_video))
        .route("/admin/titles/{id}/job", get(jobs::api::job))
        .route(
            "/admin/titles/{id}/markers",
            put(catalogue::api::put_markers),
        )
        .route(
            "/admin/titles/{id}/premiere",
            put(catalogue::api::put_premiere),
        )
        .route(
            "/admin/titles/{id}/seasons",
            get(series::api::admin_seasons).post(series::api::create_season),
        )
        .route(
            "/admin/titles/{id}/seasons/{season}/episodes",
            post(series::api::create_episode),
        )
        .route(
            "/admin/episodes/{id}",
            axum::routing::patch(series::api::edit_episode),
        )
        .route(
            "/admin/episodes/{id}/markers",
            put(series::api::put_markers),
        )
        .route("/admin/episodes/{id}/video", put(series::api::put_video))
        .route("/admin/episodes/{id}/job", get(series::api::job))
        .route("/admin/videos/{id}/subtitles", get(subtitles::api::list))
        .route(
            "/admin/videos/{id}/subtitles/{language}",
            put(subtitles::api::put)
                .delete(subtitles::api::remove)
                .layer(DefaultBodyLimit::max(subtitles::api::MAX_BYTES)),
        )
        .route("/admin/fleet", get(crate::fleet::api::fleet))
        .route("/admin/purge", post(crate::fleet::api::purge))
        .route("/admin/token-keys", get(crate::token_keys::api::list))
        .route(
            "/admin/token-keys/rotate",
            post(crate::token_keys::api::rotate),
        )
        .route("/admin/billing/clock", post(billing::api::advance_clock))
        .route("/admin/cluster", get(cluster::api::view))
        .route("/admin/cluster/members", post(cluster::api::add))
        .route("/admin/cluster/members/{id}", delete(cluster::api::remove));
    Router::new()
        .nest(API_PREFIX, v1)
        .route("/api/openapi.json", get(openapi::serve))
}
