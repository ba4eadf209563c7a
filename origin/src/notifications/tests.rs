//! Notifications on a real state file: who hears of a release and how, that a delivery or a
//! claim made twice counts once, premieres moving their announcement, and the email itself.

use super::drafts::{self, Audience};
use super::state::{
    self, Applied, Channels, Command, Delivery, Kind, MailState, Notification, Preferences,
};
use crate::accounts::state::{Command as Accounts, NewAccount};
use crate::catalogue::state::{self as catalogue, Command as Catalogue};
use crate::catalogue::tests::{create_ready, meta};
use crate::policy::Maturity;
use crate::profiles::state::{Command as Profiles, Profile};
use crate::recommendations::tests::{title as film, watch};
use crate::state::testing::TestState;

const NOW: u64 = 1_800_000_000;

fn profile(s: &TestState, id: &str, maturity: Maturity) {
    s.apply(Profiles::CreateProfile(Profile {
        id: id.into(),
        account_id: "acct".into(),
        name: format!("Name of {id}"),
        avatar: "fox".into(),
        language: "en".into(),
        maturity,
        kids: maturity <= Maturity::KIDS_MAX,
        pin_hash: None,
        created_at: 1,
    }))
    .unwrap();
}

fn world() -> TestState {
    let s = TestState::new();
    s.apply(Accounts::CreateAccount(NewAccount {
        id: "acct".into(),
        email: "viewer@example.com".into(),
        display_name: "Viewer".into(),
        password_hash: "$argon2id$test".into(),
        is_admin: false,
        now: 1,
    }))
    .unwrap();
    profile(&s, "adult", Maturity::Age18);
    profile(&s, "kid", Maturity::Age7);
    s
}

// `watch` ends a title at NOW_MS = NOW × 1000.

/// Drafts what is due at `now` and delivers it as the leader would.
fn run_round(s: &TestState, now: u64, mail: bool) -> Vec<Notification> {
    let due = s.read(|tx| state::due_releases(tx, now, 100));
    let notes = s.read(|tx| drafts::releases(tx, &Audience::read(tx)?, &due, now));
    let delivery = Delivery {
        notifications: notes.clone(),
        mail,
        salt: "salt".into(),
        announced: due.iter().map(|(k, _)| k.clone()).collect(),
        digest_round: None,
    };
    s.apply(Command::Deliver(Box::new(delivery))).unwrap();
    notes
}

fn kinds(notes: &[Notification], profile: &str) -> Vec<Kind> {
    notes
        .iter()
        .filter(|n| n.profile_id == profile)
        .map(|n| n.kind)
        .collect()
}

#[test]
fn a_premiere_reminds_who_asked_once_and_a_moved_premiere_moves_the_reminder() {
    let s = world();
    film(&s, "old", "Drama", "PG");
    run_round(&s, NOW, true); // the existing catalogue's own announcements
    s.apply(Catalogue::CreateTitle {
        id: "soon".into(),
        meta: meta(),
        now: 2,
    })
    .unwrap();
    s.apply(Catalogue::SetPremiere {
        id: "soon".into(),
        at: Some(NOW + 100),
    })
    .unwrap();
    s.write(|tx| {
        catalogue::video_queued(tx, "soon", "job").unwrap();
        catalogue::job_finished(tx, "soon", "job", Ok((60.0, None))).unwrap();
    });
    let t = s.read(|tx| catalogue::title(tx, "soon")).unwrap();
    assert!(t.coming_soon(NOW) && !t.coming_soon(NOW + 100));
    for p in ["adult", "kid"] {
        s.apply(Command::Remind {
            profile_id: p.into(),
            title_id: "soon".into(),
            on: true,
        })
        .unwrap();
    }
    assert!(run_round(&s, NOW + 99, true).is_empty(), "not out yet");

    // The premiere moves a minute later: nothing at the old time either.
    s.apply(Catalogue::SetPremiere {
        id: "soon".into(),
        at: Some(NOW + 160),
    })
    .unwrap();
    assert!(run_round(&s, NOW + 150, true).is_empty());
    let notes = run_round(&s, NOW + 160, true);
    assert_eq!(kinds(&notes, "adult"), [Kind::Reminder]);
    assert_eq!(kinds(&notes, "kid"), [Kind::Reminder], "G is for everyone");
    assert_eq!(notes[0].headline, "Bear is out now");
    let (centre, unread) = s.read(|tx| state::centre(tx, "adult", 10));
    assert_eq!((centre.len(), unread), (1, 1));
    assert!(
        !s.read(|tx| state::is_reminded(tx, "adult", "soon")),
        "fired"
    );

    // The same delivery again (a new leader redoing the round) adds nothing.
    let again = Delivery {
        notifications: notes,
        mail: true,
        salt: "other".into(),
        ..Delivery::default()
    };
    assert_eq!(
        s.apply(Command::Deliver(Box::new(again))),
        Ok(Applied::Delivered(0))
    );
    assert_eq!(s.read(|tx| state::unread(tx, "adult")), 1);
    assert_eq!(s.read(|tx| state::sendable(tx, NOW + 200, 10)).len(), 2);
}

#[test]
fn new_episodes_reach_viewers_of_the_series_and_genre_news_respects_the_limit() {
    let s = world();
    let mut show = meta();
    show.kind = catalogue::TitleKind::Series;
    show.name = "The Show".into();
    show.genres = vec!["Crime".into()];
    create_ready(&s, "show", show, 1);
    film(&s, "crime1", "Crime", "R");
    watch(&s, "adult", "show", 0);
    watch(&s, "adult", "crime1", 0);
    run_round(&s, NOW, false);

    // Two episodes of season 2 land together: one notification, for the one who watched.
    let series_state = crate::series::state::Command::CreateSeason {
        series_id: "show".into(),
        number: 2,
        name: "Season 2".into(),
        now: 3,
    };
    s.apply(series_state).unwrap();
    for (id, n) in [("e21", 1), ("e22", 2)] {
        s.apply(crate::series::state::Command::CreateEpisode {
            id: id.into(),
            series_id: "show".into(),
            season: 2,
            number: n,
            meta: crate::series::state::EpisodeMeta {
                name: format!("Episode {n}"),
                synopsis: String::new(),
                facts: Default::default(),
            },
            now: 4,
        })
        .unwrap();
        s.write(|tx| {
            crate::series::state::video_queued(tx, id, "job").unwrap();
            crate::series::state::job_finished(tx, id, "job", Ok((60.0, None))).unwrap();
        });
    }
    let notes = run_round(&s, NOW, false);
    assert_eq!(kinds(&notes, "adult"), [Kind::NewEpisodes]);
    assert_eq!(
        notes[0].body,
        "2 new episodes of season 2 are ready to watch."
    );
    assert!(kinds(&notes, "kid").is_empty(), "never watched it");

    // A new crime film: the adult, who likes crime, hears of it; an R film is not for the kid.
    film(&s, "crime2", "Crime", "R");
    film(&s, "crime3", "Crime", "PG");
    watch(&s, "kid", "crime3", 0);
    let notes = run_round(&s, NOW, false);
    let crime2: Vec<_> = notes
        .iter()
        .filter(|n| n.title_id.as_deref() == Some("crime2"))
        .collect();
    assert_eq!(crime2.len(), 1);
    assert_eq!(
        (crime2[0].profile_id.as_str(), crime2[0].kind),
        ("adult", Kind::GenreRelease)
    );
    assert_eq!(crime2[0].headline, "New in Crime: Title crime2");
    // Genre news is not emailed by default, and this cluster sends no email anyway.
    assert!(s.read(|tx| state::sendable(tx, NOW, 10)).is_empty());
}

#[test]
fn preferences_decide_the_channels_and_unsubscribing_turns_email_off() {
    let s = world();
    let mut prefs = Preferences::default();
    prefs.set(
        Kind::Reminder,
        Channels {
            in_app: false,
            email: true,
        },
    );
    s.apply(Command::SetPreferences {
        profile_id: "adult".into(),
        preferences: prefs,
    })
    .unwrap();
    let note = |id: &str, kind: Kind| Notification {
        id: id.into(),
        profile_id: "adult".into(),
        kind,
        title_id: None,
        headline: "h".into(),
        body: "b".into(),
        link: "/".into(),
        created_at: NOW,
        read: false,
    };
    let d = Delivery {
        notifications: vec![note("n1", Kind::Reminder), note("n2", Kind::Digest)],
        mail: true,
        salt: "s".into(),
        ..Delivery::default()
    };
    s.apply(Command::Deliver(Box::new(d))).unwrap();
    let (centre, _) = s.read(|tx| state::centre(tx, "adult", 10));
    assert_eq!(
        centre.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["n2"]
    );
    let mail = s.read(|tx| state::outbox_mail(tx, "n1")).unwrap();
    assert_eq!(mail.to, "viewer@example.com");

    // A claim is taken once: a second claimer (another leader) gets nothing.
    let claim = |node| Command::ClaimMail {
        ids: vec!["n1".into()],
        node,
        now: NOW,
    };
    assert_eq!(s.apply(claim(1)), Ok(Applied::Claimed(vec!["n1".into()])));
    assert_eq!(s.apply(claim(2)), Ok(Applied::Claimed(vec![])));
    assert!(matches!(
        s.read(|tx| state::outbox_mail(tx, "n1")).unwrap().state,
        MailState::Claimed { node: 1, .. }
    ));
    s.apply(Command::MailDone { id: "n1".into() }).unwrap();
    assert!(s.read(|tx| state::outbox_mail(tx, "n1")).is_none());

    let Ok(Applied::Unsubscribed(link)) = s.apply(Command::Unsubscribe {
        token: mail.unsubscribe_token.clone(),
    }) else {
        panic!("the token is known")
    };
    assert_eq!(link.kind, Kind::Reminder);
    let now = s
        .read(|tx| state::preferences(tx, "adult"))
        .of(Kind::Reminder);
    assert_eq!(
        now,
        Channels {
            in_app: false,
            email: false
        }
    );
    assert_eq!(
        s.apply(Command::Unsubscribe {
            token: "0".repeat(32)
        }),
        Err(state::Rejection::UnknownLink)
    );
}

#[test]
fn reading_counts_down_and_the_centre_keeps_the_newest_hundred() {
    let s = world();
    let notes: Vec<Notification> = (0..105u64)
        .map(|i| Notification {
            id: format!("n{i:03}"),
            profile_id: "kid".into(),
            kind: Kind::Digest,
            title_id: None,
            headline: format!("digest {i}"),
            body: String::new(),
            link: "/".into(),
            created_at: NOW + i,
            read: false,
        })
        .collect();
    s.apply(Command::Deliver(Box::new(Delivery {
        notifications: notes,
        ..Delivery::default()
    })))
    .unwrap();
    let (centre, unread) = s.read(|tx| state::centre(tx, "kid", 200));
    assert_eq!((centre.len(), unread), (state::KEEP_PER_PROFILE, 100));
    assert_eq!(centre[0].id, "n104", "newest first");
    s.apply(Command::MarkRead {
        profile_id: "kid".into(),
        ids: vec!["n104".into(), "n000".into(), "n104".into()],
        all: false,
    })
    .unwrap();
    assert_eq!(s.read(|tx| state::unread(tx, "kid")), 99);
    s.apply(Command::MarkRead {
        profile_id: "adult".into(),
        ids: vec![],
        all: true,
    })
    .unwrap();
    assert_eq!(
        s.read(|tx| state::unread(tx, "kid")),
        99,
        "another profile's"
    );
    s.apply(Command::MarkRead {
        profile_id: "kid".into(),
        ids: vec![],
        all: true,
    })
    .unwrap();
    assert_eq!(s.read(|tx| state::unread(tx, "kid")), 0);
}

// The transport's connection pool lives on the runtime.
#[tokio::test]
async fn an_email_has_a_stable_message_id_and_one_click_unsubscribe() {
    let config = crate::config::MailConfig {
        smtp_url: "smtp://127.0.0.1:2525".into(),
        password: None,
        from: "Marquee <no-reply@marquee.example>".into(),
    };
    let mailer = super::mailer::Mailer::new(&config, "https://watch.example/").unwrap();
    let mail = state::OutboxMail {
        notification: Notification {
            id: "abc123".into(),
            profile_id: "p".into(),
            kind: Kind::Reminder,
            title_id: Some("t".into()),
            headline: "Bear is out now".into(),
            body: "You asked us to remind you <3".into(),
            link: "/title/t".into(),
            created_at: NOW,
            read: false,
        },
        to: "viewer@example.com".into(),
        profile_name: "Sam".into(),
        unsubscribe_token: "f".repeat(32),
        state: MailState::Pending { not_before: 0 },
        attempts: 0,
    };
    let raw = String::from_utf8(mailer.message(&mail).unwrap().formatted()).unwrap();
    let token = "f".repeat(32);
    for header in [
        "Message-ID: <abc123@marquee.example>".to_owned(),
        format!("List-Unsubscribe: <https://watch.example/api/v1/unsubscribe/{token}>"),
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click".to_owned(),
        "Subject: Bear is out now".to_owned(),
        "To: viewer@example.com".to_owned(),
    ] {
        assert!(raw.contains(&header), "{header} missing from\n{raw}");
    }
    assert!(raw.contains("https://watch.example/title/t"), "the link");
    assert!(raw.contains("&lt;3"), "HTML escaped in the HTML part");
}

#[test]
fn a_digest_round_starts_counting_then_drafts_once_per_round() {
    use super::notifier::{DigestStep, digest_step};
    assert_eq!(digest_step(None, 7), DigestStep::Start);
    assert_eq!(digest_step(Some(7), 7), DigestStep::Wait);
    assert_eq!(
        digest_step(Some(5), 7),
        DigestStep::Draft,
        "missed rounds make one digest"
    );
}

#[test]
fn the_digest_names_each_profiles_picks_unless_it_wants_none() {
    let s = world();
    for id in ["d1", "d2", "d3"] {
        film(&s, id, "Drama", "PG");
    }
    film(&s, "r1", "Drama", "R");
    watch(&s, "adult", "d1", 0);
    watch(&s, "kid", "d1", 0);
    let mut off = Preferences::default();
    off.set(
        Kind::Digest,
        Channels {
            in_app: false,
            email: false,
        },
    );
    s.apply(Command::SetPreferences {
        profile_id: "kid".into(),
        preferences: off,
    })
    .unwrap();
    let notes = s.read(|tx| drafts::digest(tx, &Audience::read(tx)?, None, 9, NOW));
    assert_eq!(notes.len(), 1, "the kid turned it off: {notes:?}");
    let n = &notes[0];
    assert_eq!((n.profile_id.as_str(), n.kind), ("adult", Kind::Digest));
    assert_eq!(n.headline, "This week's picks for Name of adult");
    assert!(n.body.starts_with("Chosen for you: Title "), "{}", n.body);
    assert!(
        !n.body.contains("Title d1"),
        "not what it watched: {}",
        n.body
    );
    assert_eq!(
        n.id,
        state::notification_id(Kind::Digest, "digest@9", "adult")
    );
}

#[test]
fn only_reminders_that_fired_go_and_a_released_title_takes_none() {
    let s = world();
    film(&s, "out", "Drama", "PG");
    let remind = |profile: &str, title: &str| Command::Remind {
        profile_id: profile.into(),
        title_id: title.into(),
        on: true,
    };
    // Queued at once (no premiere) until the notifier announces it.
    s.apply(remind("adult", "out")).unwrap();
    let due = s.read(|tx| state::due_releases(tx, NOW, 10));
    let notes = s.read(|tx| drafts::releases(tx, &Audience::read(tx)?, &due, NOW));
    // The kid asks between the draft and its delivery: the kid's reminder stays.
    s.apply(remind("kid", "out")).unwrap();
    let d = Delivery {
        notifications: notes,
        announced: due.iter().map(|(k, _)| k.clone()).collect(),
        ..Delivery::default()
    };
    s.apply(Command::Deliver(Box::new(d))).unwrap();
    assert!(
        !s.read(|tx| state::is_reminded(tx, "adult", "out")),
        "fired"
    );
    assert!(
        s.read(|tx| state::is_reminded(tx, "kid", "out")),
        "never fired"
    );
    assert_eq!(
        s.apply(remind("adult", "out")),
        Err(state::Rejection::AlreadyReleased),
        "announced: nothing left to remind of"
    );
}
