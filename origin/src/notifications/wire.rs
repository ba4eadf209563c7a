//! JSON shapes of the notifications API (docs/interfaces.md).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state::Kind;

/// One notification in the centre.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_id: Option<String>,
    /// The title's poster, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    pub headline: String,
    pub body: String,
    /// Where it leads in the web app, e.g. `/title/<id>`.
    pub link: String,
    /// Unix seconds.
    pub created_at: u64,
    pub read: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    /// Newest first; the centre keeps the latest 100.
    pub notifications: Vec<Notification>,
    pub unread: u64,
}

/// Which notifications to mark read: the ids given, or all of them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// At most 100 ids.
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default)]
    pub all: bool,
}

/// One kind's channels.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindPreference {
    pub kind: Kind,
    /// In the notification centre (the bell).
    pub in_app: bool,
    /// By email to the account's address.
    pub email: bool,
}

/// The profile's notification preferences; a `PUT` changes the kinds it lists.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    pub kinds: Vec<KindPreference>,
}

/// What a live notification event says: the count for the bell and the newest id.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnreadEvent {
    pub unread: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_id: Option<String>,
}

/// One message of the live stream as it travels: `event: unread` and a `data` line holding an
/// [`UnreadEvent`] as JSON.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnreadMessage {
    /// Always `unread`.
    pub event: String,
    /// An `UnreadEvent`, as JSON.
    pub data: String,
}

/// What an unsubscribe link turns off.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Unsubscribe {
    pub kind: Kind,
    pub profile_name: String,
    /// Whether these emails are off now.
    pub unsubscribed: bool,
}

/// When a title premieres (admin).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Premiere {
    /// Unix seconds; `null` makes the title watchable now.
    pub premieres_at: Option<u64>,
}
