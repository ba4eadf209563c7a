//! The OpenAPI document, generated from the handlers' annotations.

use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::catalogue::state::{TitleKind, TitleState};
use crate::error::{Code, ErrorBody, ErrorDetail};
use crate::jobs::state::JobState;
use crate::{
    accounts, billing, catalogue, cluster, fleet, history, jobs, mylist, notifications, plans,
    playback, profiles, ratings, rows, search, series, subtitles, token_keys,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Marquee origin API", description = "Accounts, catalogue, admin uploads and playback. Errors are `{\"error\": {\"code\", \"message\"}}` with a 4xx/5xx status; the session is the `marquee_session` cookie."),
    paths(
        accounts::api::sign_up, accounts::api::sign_in, accounts::api::sign_out, accounts::api::me,
        accounts::devices::list, accounts::devices::sign_out_device, accounts::devices::sign_out_everywhere,
        profiles::api::list, profiles::api::create, profiles::api::edit, profiles::api::delete,
        profiles::api::choose,
        catalogue::api::list, catalogue::api::one, catalogue::api::poster, catalogue::api::create,
        catalogue::api::admin_one, catalogue::api::edit,
        catalogue::api::put_poster, catalogue::api::put_video, catalogue::api::put_markers,
        catalogue::api::put_premiere,
        notifications::api::list, notifications::api::mark_read, notifications::api::events,
        notifications::api::get_preferences, notifications::api::put_preferences,
        notifications::api::remind, notifications::api::forget_reminder,
        notifications::api::unsubscribe_info, notifications::api::unsubscribe,
        jobs::api::job, playback::api::playback, playback::manifests::manifest, playback::manifests::steering,
        series::api::seasons, series::api::admin_seasons, series::api::create_season,
        series::api::create_episode, series::api::edit_episode, series::api::put_markers,
        series::api::put_video, series::api::job,
        subtitles::api::list, subtitles::api::put, subtitles::api::remove,
        mylist::api::list, mylist::api::add, mylist::api::remove,
        ratings::api::rate, ratings::api::unrate,
        history::api::report, history::api::continue_watching, history::api::dismiss,
        history::api::history, history::api::hide, history::api::export, rows::api::rows,
        search::api::search, plans::api::list,
        billing::api::get, billing::api::subscribe, billing::api::change_plan,
        billing::api::cancel, billing::api::resume, billing::api::update_payment_method,
        billing::api::invoices, billing::api::receipt, billing::api::advance_clock,
        billing::sandbox::api::save_card, billing::sandbox::api::challenge_page,
        billing::stripe::webhook::receive,
        crate::streams::api::renew, crate::streams::api::release,
        cluster::api::view, cluster::api::add, cluster::api::remove,
        token_keys::api::list, token_keys::api::rotate,
        fleet::api::fleet, fleet::api::purge,
    ),
    components(schemas(
        accounts::wire::SignUp, accounts::wire::SignIn, accounts::wire::Account,
        accounts::devices::Device, accounts::devices::Devices,
        profiles::wire::NewProfile, profiles::wire::ProfileEdit, profiles::wire::Profile,
        profiles::wire::ProfileList, profiles::wire::ChooseProfile, crate::policy::Maturity,
        catalogue::wire::NewTitle, catalogue::wire::TitleEdit, catalogue::wire::Title, catalogue::wire::TitleList, catalogue::wire::Mine,
        catalogue::wire::ViewerRating, catalogue::facts::Facts, catalogue::facts::Credit,
        search::wire::SearchResults, search::wire::Facets, search::wire::FacetValue,
        catalogue::state::Markers, series::wire::NewSeason, series::wire::NewEpisode,
        series::wire::EpisodeEdit, series::wire::Episode, series::wire::Season, series::wire::Seasons,
        ratings::state::Thumb, ratings::api::RatingBody,
        subtitles::state::Subtitle, subtitles::api::SubtitleList,
        history::wire::ProgressReport, history::wire::ItemProgress, history::wire::ContinueItem,
        history::wire::ContinueWatching, rows::wire::Row, rows::wire::Rows, history::wire::HistoryItem, history::wire::History,
        jobs::wire::Job, playback::wire::PlaybackRequest, playback::wire::Playback,
        playback::wire::PlaybackEdge, cluster::wire::ClusterView, cluster::wire::Member,
        cluster::wire::NewMember, cluster::wire::Role,
        token_keys::api::TokenKeys, token_keys::api::TokenKeyView, token_keys::api::Rotation,
        fleet::wire::Fleet, fleet::wire::FleetEdge, fleet::wire::PurgeRequest, fleet::wire::PurgeResult,
        notifications::wire::Notification, notifications::wire::NotificationList,
        notifications::wire::MarkRead, notifications::wire::KindPreference,
        notifications::wire::Preferences, notifications::wire::UnreadEvent,
        notifications::wire::UnreadMessage,
        notifications::wire::Unsubscribe, notifications::wire::Premiere,
        notifications::state::Kind,
        plans::wire::Plans, plans::wire::PlanOffer, plans::wire::Price,
        billing::wire::CardForm, billing::wire::CheckoutRequest, billing::wire::PlanChange,
        billing::wire::PaymentMethodChange, billing::wire::ClockAdvance, billing::wire::ClockNow,
        billing::wire::PaymentMethodView, billing::wire::PlanSummary,
        billing::wire::SubscriptionView, billing::wire::Bill, billing::wire::ChargeView,
        billing::wire::BillingOverview, billing::wire::InvoiceLine, billing::wire::InvoiceView,
        billing::wire::InvoiceList, billing::stripe::webhook::Received,
        crate::streams::api::StreamRenewal,
        ErrorBody, ErrorDetail, Code, TitleKind, TitleState, JobState,
    )),
    modifiers(&SessionCookie),
    tags(
        (name = "accounts", description = "Sign up, sign in, sessions"),
        (name = "profiles", description = "The account's profiles (who is watching)"),
        (name = "titles", description = "The catalogue and playback"),
        (name = "lists", description = "What the chosen profile keeps: My List, ratings, progress and history"),
        (name = "admin", description = "Catalogue management (admins only)"),
        (name = "plans", description = "The plans on offer, priced in the viewer's currency"),
        (name = "billing", description = "The account's subscription, payments, card and invoices"),
        (name = "notifications", description = "The chosen profile's notification centre, its preferences, reminders, and unsubscribing from emails"),
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
        let cookie = ApiKey::Cookie(ApiKeyValue::new(crate::accounts::auth::SESSION_COOKIE));
        components.add_security_scheme("session", SecurityScheme::ApiKey(cookie));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The web app's types are generated from `origin/web/openapi.json` (openapi-typescript,
    /// at build time), so that copy must be this document: a change to the API without
    /// regenerating it fails here, and a web app using a field the API lacks fails `tsc`.
    #[test]
    fn the_web_apps_copy_of_the_api_document_is_current() {
        let doc = serde_json::to_string_pretty(&ApiDoc::openapi()).unwrap() + "\n";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/openapi.json");
        if std::env::var_os("MARQUEE_UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &doc).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == doc,
            "origin/web/openapi.json is out of date; refresh it with \
             MARQUEE_UPDATE_OPENAPI=1 cargo test -p marquee-origin --lib openapi"
        );
    }
}
