//! Notifications in the replicated state: each profile's notification centre, its preferences,
//! "Remind me" marks, the queue of releases still to announce and the outbox of emails.
//!
//! The leader's notifier ([`super::notifier`]) reads due releases and proposes [`Command::Deliver`]
//! with notifications whose ids are derived from the event and the profile, so a second
//! proposal of the same event (a new leader redoing a half-done round) adds nothing. Emails go
//! through the outbox: a node claims a row before it sends it, so a leader that fails over
//! cannot make another node send the same email again.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::state::Title;
use crate::ids::sha256_hex;
use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};
use crate::{accounts, profiles};

/// Notifications a profile's centre keeps; older ones go as new ones come.
pub const KEEP_PER_PROFILE: usize = 100;
/// Times a failing email is tried before it is given up.
pub const MAX_ATTEMPTS: u32 = 5;

/// What a notification is about; each has its own preferences.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A new season or episode of a series the profile watched or keeps on My List.
    NewEpisodes,
    /// A new title in one of the profile's favourite genres.
    GenreRelease,
    /// A coming-soon title the profile asked to be reminded of is out.
    Reminder,
    /// The week's picks for the profile.
    Digest,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::NewEpisodes,
        Kind::GenreRelease,
        Kind::Reminder,
        Kind::Digest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NewEpisodes => "new_episodes",
            Kind::GenreRelease => "genre_release",
            Kind::Reminder => "reminder",
            Kind::Digest => "digest",
        }
    }
}

/// Where a profile wants one kind of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Channels {
    pub in_app: bool,
    pub email: bool,
}

/// A profile's choices, per kind. Defaults: everything in the app; email for reminders, new
/// episodes and the digest, not for genre releases (the most frequent, the least asked for).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// Kinds whose channels differ from the defaults.
    #[serde(default)]
    pub chosen: Vec<(Kind, Channels)>,
}

impl Preferences {
    pub fn default_for(kind: Kind) -> Channels {
        Channels {
            in_app: true,
            email: kind != Kind::GenreRelease,
        }
    }

    pub fn of(&self, kind: Kind) -> Channels {
        self.chosen
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or_else(|| Self::default_for(kind), |(_, c)| *c)
    }

    pub fn set(&mut self, kind: Kind, channels: Channels) {
        self.chosen.retain(|(k, _)| *k != kind);
        if channels != Self::default_for(kind) {
            self.chosen.push((kind, channels));
            self.chosen.sort_by_key(|(k, _)| *k);
        }
    }
}

/// A notification as the leader drafts it and the centre keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Derived from the event and the profile ([`notification_id`]).
    pub id: String,
    pub profile_id: String,
    pub kind: Kind,
    /// The title it is about (its poster is shown), if one.
    pub title_id: Option<String>,
    pub headline: String,
    pub body: String,
    /// Where it leads in the web app, e.g. `/title/<id>`.
    pub link: String,
    pub created_at: u64,
    #[serde(default)]
    pub read: bool,
}

/// The id of the notification of `kind` about `event` for `profile_id`: the same on every
/// node and for every leader that drafts it.
pub fn notification_id(kind: Kind, event: &str, profile_id: &str) -> String {
    let hash = sha256_hex(format!("{}\0{event}\0{profile_id}", kind.as_str()).as_bytes());
    hash[..32].to_owned()
}

/// Something released that the notifier has still to announce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Release {
    /// A film or series became watchable (or premieres).
    Title { title_id: String },
    /// An episode became watchable.
    Episode { episode_id: String },
}

/// An email waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMail {
    pub notification: Notification,
    pub to: String,
    /// The profile's name, to greet it.
    pub profile_name: String,
    /// Its one-click unsubscribe link's token.
    pub unsubscribe_token: String,
    pub state: MailState,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailState {
    /// To be sent from this time on (Unix seconds).
    Pending { not_before: u64 },
    /// Node `node` took it at `at` to send it; nobody else sends it again.
    Claimed { node: u64, at: u64 },
}

/// What an unsubscribe token turns off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsubscribeLink {
    pub profile_id: String,
    pub kind: Kind,
}

/// Profile ‖ newest first (`desc_u64(created_at)`) ‖ id → notification.
const CENTRE: Table<Notification> = Table::new("notifications");
/// Notification id → its key in [`CENTRE`] (empty when it was not kept in the app).
const DELIVERED: Table<Vec<u8>> = Table::new("notifications_delivered");
/// Profile → how many of its notifications are unread.
const UNREAD: Table<u64> = Table::new("notifications_unread");
/// Profile → its preferences, when it changed any.
const PREFERENCES: Table<Preferences> = Table::new("notification_preferences");
/// Profile ‖ title → (): "Remind me".
const REMINDERS: Table<()> = Table::new("reminders");
/// Title ‖ profile → (): who to remind when a title comes out.
const REMINDERS_BY_TITLE: Table<()> = Table::new("reminders_by_title");
/// Due time (big-endian Unix seconds; 0 is now) ‖ 0 ‖ item id → the release to announce.
const RELEASES: Table<Release> = Table::new("releases_to_announce");
/// Title id → its due time in [`RELEASES`], so a moved premiere moves its row.
const RELEASE_DUE: Table<u64> = Table::new("releases_due");
/// Notification id → an email to send.
const OUTBOX: Table<OutboxMail> = Table::new("mail_outbox");
/// Unsubscribe token → what it turns off.
const UNSUBSCRIBE: Table<UnsubscribeLink> = Table::new("mail_unsubscribe");
/// "digest" → the last digest round drafted (`now / period`).
const DIGEST: Table<u64> = Table::new("digest_round");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Turns "Remind me" on or off for a coming-soon title.
    Remind {
        profile_id: String,
        title_id: String,
        on: bool,
    },
    SetPreferences {
        profile_id: String,
        preferences: Preferences,
    },
    /// Marks the given notifications read, or all of the profile's.
    MarkRead {
        profile_id: String,
        ids: Vec<String>,
        all: bool,
    },
    /// Notifications drafted by the leader, and what they settle: releases announced,
    /// reminders fired, the digest round done. A notification already delivered is skipped.
    Deliver(Box<Delivery>),
    /// Node `node` takes these emails to send now.
    ClaimMail {
        ids: Vec<String>,
        node: u64,
        now: u64,
    },
    /// An email was sent, or failed for good: it leaves the outbox.
    MailDone { id: String },
    /// An email failed for now: try again from `not_before`, unless it was tried often enough.
    MailRetry { id: String, not_before: u64 },
    /// One-click unsubscribe: turns off the email its token stands for.
    Unsubscribe { token: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub notifications: Vec<Notification>,
    /// Whether this cluster sends email (the leader has a mail server configured).
    pub mail: bool,
    /// Random per delivery (from the leader), so unsubscribe tokens cannot be guessed.
    pub salt: String,
    /// Keys of [`RELEASES`] rows now announced.
    pub announced: Vec<Vec<u8>>,
    pub digest_round: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Done,
    /// How many notifications were new.
    Delivered(usize),
    /// The emails this node may now send.
    Claimed(Vec<String>),
    Unsubscribed(UnsubscribeLink),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("this unsubscribe link is not one Marquee sent")]
    UnknownLink,
    #[error("this title is out already: watch it now")]
    AlreadyReleased,
}

pub type Outcome = Result<Applied, Rejection>;

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::Remind {
            profile_id,
            title_id,
            on,
        } => {
            let (mine, theirs) = reminder_keys(profile_id, title_id);
            if *on && !RELEASE_DUE.contains(tx, title_id.as_bytes())? {
                return Ok(Err(Rejection::AlreadyReleased));
            }
            if *on {
                REMINDERS.put(tx, &mine, &())?;
                REMINDERS_BY_TITLE.put(tx, &theirs, &())?;
            } else {
                REMINDERS.remove(tx, &mine)?;
                REMINDERS_BY_TITLE.remove(tx, &theirs)?;
            }
        }
        Command::SetPreferences {
            profile_id,
            preferences,
        } => PREFERENCES.put(tx, profile_id.as_bytes(), preferences)?,
        Command::MarkRead {
            profile_id,
            ids,
            all,
        } => mark_read(tx, profile_id, ids, *all)?,
        Command::Deliver(d) => return Ok(Ok(Applied::Delivered(deliver(tx, d)?))),
        Command::ClaimMail { ids, node, now } => {
            let mut claimed = Vec::new();
            for id in ids {
                let Some(mut mail) = OUTBOX.get(tx, id.as_bytes())? else {
                    continue;
                };
                // The profile was deleted since: its email goes with it.
                if profiles::state::profile(tx, &mail.notification.profile_id)?.is_none() {
                    OUTBOX.remove(tx, id.as_bytes())?;
                    continue;
                }
                if matches!(mail.state, MailState::Pending { not_before } if not_before <= *now) {
                    mail.state = MailState::Claimed {
                        node: *node,
                        at: *now,
                    };
                    mail.attempts += 1;
                    OUTBOX.put(tx, id.as_bytes(), &mail)?;
                    claimed.push(id.clone());
                }
            }
            return Ok(Ok(Applied::Claimed(claimed)));
        }
        Command::MailDone { id } => {
            OUTBOX.remove(tx, id.as_bytes())?;
        }
        Command::MailRetry { id, not_before } => {
            if let Some(mut mail) = OUTBOX.get(tx, id.as_bytes())? {
                if mail.attempts >= MAX_ATTEMPTS {
                    OUTBOX.remove(tx, id.as_bytes())?;
                } else {
                    mail.state = MailState::Pending {
                        not_before: *not_before,
                    };
                    OUTBOX.put(tx, id.as_bytes(), &mail)?;
                }
            }
        }
        Command::Unsubscribe { token } => {
            let Some(link) = UNSUBSCRIBE.get(tx, token.as_bytes())? else {
                return Ok(Err(Rejection::UnknownLink));
            };
            if profiles::state::profile(tx, &link.profile_id)?.is_none() {
                UNSUBSCRIBE.remove(tx, token.as_bytes())?;
                return Ok(Err(Rejection::UnknownLink));
            }
            let mut prefs = preferences(tx, &link.profile_id)?;
            let channels = prefs.of(link.kind);
            prefs.set(
                link.kind,
                Channels {
                    email: false,
                    ..channels
                },
            );
            PREFERENCES.put(tx, link.profile_id.as_bytes(), &prefs)?;
            return Ok(Ok(Applied::Unsubscribed(link)));
        }
    }
    Ok(Ok(Applied::Done))
}

fn reminder_keys(profile_id: &str, title_id: &str) -> (Vec<u8>, Vec<u8>) {
    (
        key::join(&[profile_id.as_bytes(), title_id.as_bytes()]),
        key::join(&[title_id.as_bytes(), profile_id.as_bytes()]),
    )
}

fn centre_key(n: &Notification) -> Vec<u8> {
    key::join(&[
        n.profile_id.as_bytes(),
        &key::desc_u64(n.created_at),
        n.id.as_bytes(),
    ])
}

fn deliver(tx: &WriteTransaction, d: &Delivery) -> Result<usize, StoreError> {
    let mut new = 0;
    for n in &d.notifications {
        if DELIVERED.contains(tx, n.id.as_bytes())? {
            continue;
        }
        let Some(profile) = profiles::state::profile(tx, &n.profile_id)? else {
            continue;
        };
        // A reminder that fires is done; one set after this was drafted stays for the next.
        if n.kind == Kind::Reminder
            && let Some(title_id) = &n.title_id
        {
            let (mine, theirs) = reminder_keys(&n.profile_id, title_id);
            REMINDERS.remove(tx, &mine)?;
            REMINDERS_BY_TITLE.remove(tx, &theirs)?;
        }
        new += 1;
        let channels = preferences(tx, &n.profile_id)?.of(n.kind);
        let mut kept = Vec::new();
        if channels.in_app {
            kept = centre_key(n);
            CENTRE.put(tx, &kept, n)?;
            add_unread(tx, &n.profile_id, 1)?;
            prune(tx, &n.profile_id)?;
        }
        DELIVERED.put(tx, n.id.as_bytes(), &kept)?;
        if d.mail
            && channels.email
            && let Some(account) = accounts::state::account(tx, &profile.account_id)?
        {
            let token = sha256_hex(format!("{}\0{}", d.salt, n.id).as_bytes())[..32].to_owned();
            let link = UnsubscribeLink {
                profile_id: n.profile_id.clone(),
                kind: n.kind,
            };
            UNSUBSCRIBE.put(tx, token.as_bytes(), &link)?;
            let mail = OutboxMail {
                notification: n.clone(),
                to: account.email,
                profile_name: profile.name,
                unsubscribe_token: token,
                state: MailState::Pending { not_before: 0 },
                attempts: 0,
            };
            OUTBOX.put(tx, n.id.as_bytes(), &mail)?;
        }
    }
    for k in &d.announced {
        if let Some(Release::Title { title_id }) = RELEASES.get(tx, k)? {
            RELEASE_DUE.remove(tx, title_id.as_bytes())?;
        }
        RELEASES.remove(tx, k)?;
    }
    if let Some(round) = d.digest_round {
        DIGEST.put(tx, b"digest", &round)?;
    }
    Ok(new)
}

fn add_unread(tx: &WriteTransaction, profile_id: &str, delta: i64) -> Result<(), StoreError> {
    let n = UNREAD.get(tx, profile_id.as_bytes())?.unwrap_or(0);
    UNREAD.put(tx, profile_id.as_bytes(), &n.saturating_add_signed(delta))
}

/// Keeps the newest [`KEEP_PER_PROFILE`] of a profile's notifications.
fn prune(tx: &WriteTransaction, profile_id: &str) -> Result<(), StoreError> {
    let prefix = key::join(&[profile_id.as_bytes(), b""]);
    let rows = CENTRE.prefix(tx, &prefix, false, KEEP_PER_PROFILE + 8)?;
    for (k, n) in rows.iter().skip(KEEP_PER_PROFILE) {
        CENTRE.remove(tx, k)?;
        DELIVERED.put(tx, n.id.as_bytes(), &Vec::new())?;
        if !n.read {
            add_unread(tx, profile_id, -1)?;
        }
    }
    Ok(())
}

fn mark_read(
    tx: &WriteTransaction,
    profile_id: &str,
    ids: &[String],
    all: bool,
) -> Result<(), StoreError> {
    let keys: Vec<Vec<u8>> = if all {
        let prefix = key::join(&[profile_id.as_bytes(), b""]);
        CENTRE
            .prefix(tx, &prefix, false, usize::MAX)?
            .into_iter()
            .filter(|(_, n)| !n.read)
            .map(|(k, _)| k)
            .collect()
    } else {
        let mut keys = Vec::new();
        for id in ids {
            if let Some(k) = DELIVERED.get(tx, id.as_bytes())?
                && !k.is_empty()
            {
                keys.push(k);
            }
        }
        keys
    };
    for k in keys {
        if let Some(mut n) = CENTRE.get(tx, &k)?
            && n.profile_id == profile_id
            && !n.read
        {
            n.read = true;
            CENTRE.put(tx, &k, &n)?;
            add_unread(tx, profile_id, -1)?;
        }
    }
    Ok(())
}

fn queue(
    tx: &WriteTransaction,
    due: u64,
    item_id: &str,
    release: &Release,
) -> Result<(), StoreError> {
    RELEASES.put(
        tx,
        &key::join(&[&key::u64(due), item_id.as_bytes()]),
        release,
    )
}

/// For the catalogue: `title` became watchable for the first time; it is announced at its
/// premiere, or at once.
pub(crate) fn title_released(tx: &WriteTransaction, title: &Title) -> Result<(), StoreError> {
    let due = title.premieres_at.unwrap_or(0);
    let release = Release::Title {
        title_id: title.id.clone(),
    };
    queue(tx, due, &title.id, &release)?;
    RELEASE_DUE.put(tx, title.id.as_bytes(), &due)
}

/// For the catalogue: a watchable title's premiere moved to `at` (or was cleared). A new date
/// announces it (again) then; a cleared date announces a title still waiting at once.
pub(crate) fn premiere_moved(
    tx: &WriteTransaction,
    title_id: &str,
    at: Option<u64>,
) -> Result<(), StoreError> {
    let waiting = RELEASE_DUE.get(tx, title_id.as_bytes())?;
    if let Some(due) = waiting {
        RELEASES.remove(tx, &key::join(&[&key::u64(due), title_id.as_bytes()]))?;
    }
    let due = match (at, waiting) {
        (Some(at), _) => at,
        (None, Some(_)) => 0,
        (None, None) => return Ok(()),
    };
    let release = Release::Title {
        title_id: title_id.to_owned(),
    };
    queue(tx, due, title_id, &release)?;
    RELEASE_DUE.put(tx, title_id.as_bytes(), &due)
}

/// For the series domain: episode `episode_id` became watchable for the first time.
pub(crate) fn episode_released(tx: &WriteTransaction, episode_id: &str) -> Result<(), StoreError> {
    let release = Release::Episode {
        episode_id: episode_id.to_owned(),
    };
    queue(tx, 0, episode_id, &release)
}

/// For the profiles domain: a deleted profile's notifications, preferences and reminders go.
pub(crate) fn forget_profile(tx: &WriteTransaction, profile_id: &str) -> Result<(), StoreError> {
    let prefix = key::join(&[profile_id.as_bytes(), b""]);
    for (k, _) in CENTRE.prefix(tx, &prefix, false, usize::MAX)? {
        CENTRE.remove(tx, &k)?;
    }
    for (k, ()) in REMINDERS.prefix(tx, &prefix, false, usize::MAX)? {
        let (mine, theirs) = reminder_keys(profile_id, &key::last_part(&k));
        REMINDERS.remove(tx, &mine)?;
        REMINDERS_BY_TITLE.remove(tx, &theirs)?;
    }
    UNREAD.remove(tx, profile_id.as_bytes())?;
    PREFERENCES.remove(tx, profile_id.as_bytes())?;
    Ok(())
}

/// Releases due at `now` (Unix seconds), oldest first, at most `limit`: (row key, release).
pub fn due_releases(
    tx: &impl Reads,
    now: u64,
    limit: usize,
) -> Result<Vec<(Vec<u8>, Release)>, StoreError> {
    let end = key::u64(now.saturating_add(1));
    RELEASES.range(tx, b"", Some(&end), false, limit)
}

/// Profiles that asked to be reminded of `title_id`.
pub fn reminded_profiles(tx: &impl Reads, title_id: &str) -> Result<Vec<String>, StoreError> {
    let prefix = key::join(&[title_id.as_bytes(), b""]);
    Ok(REMINDERS_BY_TITLE
        .prefix(tx, &prefix, false, usize::MAX)?
        .iter()
        .map(|(k, ())| key::last_part(k))
        .collect())
}

pub fn is_reminded(tx: &impl Reads, profile_id: &str, title_id: &str) -> Result<bool, StoreError> {
    REMINDERS.contains(tx, &reminder_keys(profile_id, title_id).0)
}

pub fn preferences(tx: &impl Reads, profile_id: &str) -> Result<Preferences, StoreError> {
    Ok(PREFERENCES
        .get(tx, profile_id.as_bytes())?
        .unwrap_or_default())
}

/// The profile's newest notifications (at most `limit`) and how many are unread.
pub fn centre(
    tx: &impl Reads,
    profile_id: &str,
    limit: usize,
) -> Result<(Vec<Notification>, u64), StoreError> {
    let prefix = key::join(&[profile_id.as_bytes(), b""]);
    let list = CENTRE.prefix(tx, &prefix, false, limit)?;
    Ok((
        list.into_iter().map(|(_, n)| n).collect(),
        unread(tx, profile_id)?,
    ))
}

pub fn unread(tx: &impl Reads, profile_id: &str) -> Result<u64, StoreError> {
    Ok(UNREAD.get(tx, profile_id.as_bytes())?.unwrap_or(0))
}

/// The newest notification's id, for the live stream to tell a new one from a read one.
pub fn newest_id(tx: &impl Reads, profile_id: &str) -> Result<Option<String>, StoreError> {
    let prefix = key::join(&[profile_id.as_bytes(), b""]);
    Ok(CENTRE
        .prefix(tx, &prefix, false, 1)?
        .into_iter()
        .next()
        .map(|(_, n)| n.id))
}

/// Emails waiting to be sent at `now`, at most `limit`.
pub fn sendable(tx: &impl Reads, now: u64, limit: usize) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    OUTBOX.for_each(tx, |k, mail| {
        if out.len() < limit
            && matches!(mail.state, MailState::Pending { not_before } if not_before <= now)
        {
            out.push(String::from_utf8_lossy(k).into_owned());
        }
        Ok(())
    })?;
    Ok(out)
}

pub fn outbox_mail(tx: &impl Reads, id: &str) -> Result<Option<OutboxMail>, StoreError> {
    OUTBOX.get(tx, id.as_bytes())
}

/// Emails claimed and never confirmed (their sender stopped mid-way): not sent again.
pub fn unconfirmed_mail(tx: &impl Reads) -> Result<usize, StoreError> {
    let mut n = 0;
    OUTBOX.for_each(tx, |_, mail| {
        n += usize::from(matches!(mail.state, MailState::Claimed { .. }));
        Ok(())
    })?;
    Ok(n)
}

pub fn unsubscribe_link(
    tx: &impl Reads,
    token: &str,
) -> Result<Option<UnsubscribeLink>, StoreError> {
    UNSUBSCRIBE.get(tx, token.as_bytes())
}

pub fn digest_round(tx: &impl Reads) -> Result<Option<u64>, StoreError> {
    DIGEST.get(tx, b"digest")
}

/// Titles waiting for their premiere after `now`, soonest first, at most `limit`.
pub fn upcoming_titles(tx: &impl Reads, now: u64, limit: usize) -> Result<Vec<String>, StoreError> {
    let start = key::u64(now.saturating_add(1));
    let mut out = Vec::new();
    for (_, release) in RELEASES.range(tx, &start, None, false, limit * 4)? {
        if let Release::Title { title_id } = release
            && out.len() < limit
        {
            out.push(title_id);
        }
    }
    Ok(out)
}
