//! What to tell whom: the notifications a release or a digest round makes, drafted from the
//! replicated state by the leader. Pure reads; ids come from the event and the profile, so
//! drafting the same event twice gives the same notifications.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::state::{self, Kind, Notification, Release, notification_id};
use crate::catalogue::state::{self as catalogue, Title, TitleState};
use crate::policy;
use crate::profiles::state::{self as profiles, Profile};
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use crate::recommendations::model::Trained;
use crate::recommendations::rows::{self as recs, affinity};
use crate::recommendations::signals::{self, Taste};
use crate::series::state as series;

/// Genres a profile counts as favourites: its strongest this many…
const FAVOURITE_GENRES: usize = 2;
/// …each liked at least this much (about one finished film, or a thumb up).
const FAVOURITE_MIN: f32 = 1.0;
/// Titles a digest names.
const DIGEST_TITLES: usize = 3;

/// Every profile with its taste, read once per round that needs them.
pub struct Audience {
    profiles: Vec<Profile>,
    tastes: HashMap<String, Taste>,
    /// Profile id → its favourite genres.
    favourites: HashMap<String, Vec<String>>,
}

impl Audience {
    pub fn read(tx: &impl Reads) -> Result<Self, StoreError> {
        let mut all = Vec::new();
        profiles::each(tx, |p| all.push(p))?;
        let tastes = signals::all(tx)?;
        let mut favourites = HashMap::new();
        for (id, taste) in &tastes {
            favourites.insert(id.clone(), favourite_genres(tx, taste)?);
        }
        Ok(Self {
            profiles: all,
            tastes,
            favourites,
        })
    }

    fn may_watch(p: &Profile, t: &Title) -> bool {
        policy::may_watch(p.maturity, &t.meta.maturity_rating).is_ok()
    }
}

/// The notifications the releases `due` make at `now`.
pub fn releases(
    tx: &impl Reads,
    audience: &Audience,
    due: &[(Vec<u8>, Release)],
    now: u64,
) -> Result<Vec<Notification>, StoreError> {
    let mut out = Vec::new();
    // Episodes of one series and season out in the same round make one notification.
    let mut episodes: BTreeMap<(String, u16), Vec<series::Episode>> = BTreeMap::new();
    for (row_key, release) in due {
        match release {
            Release::Title { title_id } => {
                let Some(title) = catalogue::title(tx, title_id)? else {
                    continue;
                };
                if title.state != TitleState::Ready || title.coming_soon(now) {
                    continue;
                }
                // The due time is part of the event: a premiere moved later is a new one.
                let due_at = row_key
                    .get(..8)
                    .map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or_default()));
                let event = format!("{title_id}@{due_at}");
                title_out(tx, audience, &title, &event, now, &mut out)?;
            }
            Release::Episode { episode_id } => {
                if let Some(e) = series::episode(tx, episode_id)?
                    && e.state == TitleState::Ready
                {
                    episodes
                        .entry((e.series_id.clone(), e.season))
                        .or_default()
                        .push(e);
                }
            }
        }
    }
    for ((series_id, season), eps) in episodes {
        let Some(show) = catalogue::title(tx, &series_id)? else {
            continue;
        };
        if show.state != TitleState::Ready || show.coming_soon(now) {
            continue;
        }
        // Named by its first episode: a round redone (by a new leader) is the same event.
        let first = eps.iter().map(|e| e.id.as_str()).min().unwrap_or_default();
        let event = format!("{series_id}/s{season}/{first}");
        let body = match eps.as_slice() {
            [one] => format!(
                "Season {season}, episode {}: \u{201c}{}\u{201d} is ready to watch.",
                one.number, one.meta.name
            ),
            many => format!(
                "{} new episodes of season {season} are ready to watch.",
                many.len()
            ),
        };
        for p in &audience.profiles {
            let watched = audience
                .tastes
                .get(&p.id)
                .is_some_and(|t| t.weights.contains_key(&series_id));
            if watched && Audience::may_watch(p, &show) {
                out.push(Notification {
                    id: notification_id(Kind::NewEpisodes, &event, &p.id),
                    profile_id: p.id.clone(),
                    kind: Kind::NewEpisodes,
                    title_id: Some(series_id.clone()),
                    headline: format!("New episodes of {}", show.meta.name),
                    body: body.clone(),
                    link: format!("/title/{series_id}"),
                    created_at: now,
                    read: false,
                });
            }
        }
    }
    Ok(out)
}

/// A film or series out now: reminders for those who asked, and news for those whose
/// favourite genres it is in.
fn title_out(
    tx: &impl Reads,
    audience: &Audience,
    title: &Title,
    event: &str,
    now: u64,
    out: &mut Vec<Notification>,
) -> Result<(), StoreError> {
    let reminded: HashSet<String> = state::reminded_profiles(tx, &title.id)?
        .into_iter()
        .collect();
    let note = |p: &Profile, kind: Kind, headline: String, body: String| Notification {
        id: notification_id(kind, event, &p.id),
        profile_id: p.id.clone(),
        kind,
        title_id: Some(title.id.clone()),
        headline,
        body,
        link: format!("/title/{}", title.id),
        created_at: now,
        read: false,
    };
    for p in &audience.profiles {
        if !Audience::may_watch(p, title) {
            continue;
        }
        if reminded.contains(&p.id) {
            out.push(note(
                p,
                Kind::Reminder,
                format!("{} is out now", title.meta.name),
                "You asked us to remind you: it is ready to watch.".into(),
            ));
            continue;
        }
        let Some(taste) = audience.tastes.get(&p.id) else {
            continue;
        };
        if taste.weights.contains_key(&title.id) || taste.disliked.contains(&title.id) {
            continue;
        }
        let liked = audience.favourites.get(&p.id);
        if let Some(genre) =
            (title.meta.genres.iter()).find(|g| liked.is_some_and(|l| l.contains(g)))
        {
            out.push(note(
                p,
                Kind::GenreRelease,
                format!("New in {genre}: {}", title.meta.name),
                short(&title.meta.synopsis, 160),
            ));
        }
    }
    Ok(())
}

fn favourite_genres(tx: &impl Reads, taste: &Taste) -> Result<Vec<String>, StoreError> {
    let mut genres: Vec<(String, f32)> = affinity(tx, taste)?
        .into_iter()
        .filter(|(_, w)| *w >= FAVOURITE_MIN)
        .collect();
    genres.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(genres
        .into_iter()
        .take(FAVOURITE_GENRES)
        .map(|(g, _)| g)
        .collect())
}

/// The digest of round `round`: each profile that wants it gets its top picks.
pub fn digest(
    tx: &impl Reads,
    audience: &Audience,
    trained: Option<&Trained>,
    round: u64,
    now: u64,
) -> Result<Vec<Notification>, StoreError> {
    let mut out = Vec::new();
    let event = format!("digest@{round}");
    for p in &audience.profiles {
        let wants = state::preferences(tx, &p.id)?.of(Kind::Digest);
        if !wants.in_app && !wants.email {
            continue;
        }
        let rows = recs::for_profile(tx, trained, p, None)?.rows;
        let Some(row) = rows
            .iter()
            .find(|r| r.id == "top-picks")
            .or_else(|| rows.iter().find(|r| r.id == "top-10"))
        else {
            continue;
        };
        let names: Vec<&str> = row
            .items
            .iter()
            .take(DIGEST_TITLES)
            .map(|i| i.title.name.as_str())
            .collect();
        let Some(first) = row.items.first() else {
            continue;
        };
        out.push(Notification {
            id: notification_id(Kind::Digest, &event, &p.id),
            profile_id: p.id.clone(),
            kind: Kind::Digest,
            title_id: Some(first.title.id.clone()),
            headline: format!("This week's picks for {}", p.name),
            body: format!("Chosen for you: {}.", names.join(", ")),
            link: "/".into(),
            created_at: now,
            read: false,
        });
    }
    Ok(out)
}

/// `text` cut to at most `max` characters at a word, with an ellipsis when cut.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let at = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}\u{2026}", cut[..at].trim_end())
}
