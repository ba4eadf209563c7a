//! Exact outcomes of the profile commands, applied to a real state file.

use super::state::{
    self, Applied, Command, MAX_PER_ACCOUNT, PinChange, Profile, ProfileChange, Rejection,
};
use crate::accounts::state::{Command as AccountCommand, NewAccount};
use crate::policy::Maturity;
use crate::state::testing::TestState;

fn with_accounts(ids: &[&str]) -> TestState {
    let s = TestState::new();
    for id in ids {
        s.apply(AccountCommand::CreateAccount(NewAccount {
            id: (*id).into(),
            email: format!("{id}@example.com"),
            display_name: (*id).into(),
            password_hash: "$argon2id$test".into(),
            is_admin: false,
            now: 1,
        }))
        .unwrap();
    }
    s
}

fn profile(account: &str, id: &str) -> Profile {
    Profile {
        id: id.into(),
        account_id: account.into(),
        name: format!("Profile {id}"),
        avatar: "fox".into(),
        language: "en".into(),
        maturity: Maturity::Age18,
        kids: false,
        pin_hash: None,
        created_at: 7,
    }
}

#[test]
fn an_account_has_at_most_five_profiles_listed_oldest_first() {
    let s = with_accounts(&["a1", "a2"]);
    for n in 0..MAX_PER_ACCOUNT {
        let created = s.apply(Command::CreateProfile(profile("a1", &format!("p{n}"))));
        assert!(matches!(created, Ok(Applied::Profile(_))), "{created:?}");
    }
    assert_eq!(
        s.apply(Command::CreateProfile(profile("a1", "p9"))),
        Err(Rejection::TooManyProfiles { max: 5 })
    );
    assert_eq!(
        s.apply(Command::CreateProfile(profile("a1", "p0"))),
        Err(Rejection::ProfileExists)
    );
    assert_eq!(
        s.apply(Command::CreateProfile(profile("nobody", "px"))),
        Err(Rejection::AccountNotFound)
    );
    s.apply(Command::CreateProfile(profile("a2", "q0")))
        .unwrap();
    let ids = |account: &str| -> Vec<String> {
        s.read(|tx| state::of_account(tx, account))
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(ids("a1"), ["p0", "p1", "p2", "p3", "p4"]);
    assert_eq!(ids("a2"), ["q0"], "another account's profiles are its own");
}

#[test]
fn an_edit_changes_the_fields_it_names_and_keeps_kids_profiles_within_their_limit() {
    let s = with_accounts(&["a1", "a2"]);
    let mut kid = profile("a1", "k");
    kid.kids = true;
    assert_eq!(
        s.apply(Command::CreateProfile(kid.clone())),
        Err(Rejection::KidsAboveLimit)
    );
    kid.maturity = Maturity::Age7;
    s.apply(Command::CreateProfile(kid)).unwrap();
    let change = |maturity, kids| ProfileChange {
        maturity,
        kids,
        ..ProfileChange::default()
    };
    let edit = |account: &str, change| Command::UpdateProfile {
        account_id: account.into(),
        id: "k".into(),
        change,
    };
    assert_eq!(
        s.apply(edit("a1", change(Some(Maturity::Age13), None))),
        Err(Rejection::KidsAboveLimit)
    );
    let Ok(Applied::Profile(grown)) =
        s.apply(edit("a1", change(Some(Maturity::Age13), Some(false))))
    else {
        panic!("a kids profile that stops being one may go above 7+")
    };
    assert_eq!((grown.maturity, grown.kids), (Maturity::Age13, false));
    assert_eq!(grown.name, "Profile k", "unnamed fields stay");
    let renamed = ProfileChange {
        name: Some("Sam".into()),
        pin: Some(PinChange::Set("$argon2id$pin".into())),
        ..ProfileChange::default()
    };
    assert_eq!(
        s.apply(edit("a2", renamed.clone())),
        Err(Rejection::ProfileNotFound),
        "another account cannot edit it"
    );
    let Ok(Applied::Profile(sam)) = s.apply(edit("a1", renamed)) else {
        panic!("not renamed")
    };
    assert_eq!(
        (sam.name.as_str(), sam.pin_hash.as_deref()),
        ("Sam", Some("$argon2id$pin"))
    );
}

#[test]
fn a_deleted_profile_is_gone_and_frees_its_place() {
    let s = with_accounts(&["a1", "a2"]);
    for n in 0..MAX_PER_ACCOUNT {
        s.apply(Command::CreateProfile(profile("a1", &format!("p{n}"))))
            .unwrap();
    }
    let delete = |account: &str, id: &str| Command::DeleteProfile {
        account_id: account.into(),
        id: id.into(),
    };
    assert_eq!(s.apply(delete("a2", "p1")), Err(Rejection::ProfileNotFound));
    assert_eq!(s.apply(delete("a1", "p1")), Ok(Applied::Done));
    assert_eq!(s.apply(delete("a1", "p1")), Err(Rejection::ProfileNotFound));
    assert!(s.read(|tx| state::owned(tx, "a1", "p1")).is_none());
    s.apply(Command::CreateProfile(profile("a1", "p5")))
        .unwrap();
    assert_eq!(
        s.read(|tx| state::of_account(tx, "a1")).len(),
        MAX_PER_ACCOUNT
    );
}

#[test]
fn removing_a_pin_survives_the_trip_through_the_log() {
    let s = with_accounts(&["a1"]);
    let mut locked = profile("a1", "p");
    locked.pin_hash = Some("$argon2id$pin".into());
    s.apply(Command::CreateProfile(locked)).unwrap();
    let remove = Command::UpdateProfile {
        account_id: "a1".into(),
        id: "p".into(),
        change: ProfileChange {
            pin: Some(PinChange::Remove),
            ..ProfileChange::default()
        },
    };
    // What a follower replays is the command as JSON.
    let replayed: Command = serde_json::from_str(&serde_json::to_string(&remove).unwrap()).unwrap();
    let Ok(Applied::Profile(p)) = s.apply(replayed) else {
        panic!("not applied")
    };
    assert_eq!(p.pin_hash, None);
}

#[test]
fn deleting_a_profile_deletes_its_list_ratings_progress_and_history_and_no_one_elses() {
    use crate::{history, mylist, ratings};
    let s = with_accounts(&["a1"]);
    for id in ["p1", "p2"] {
        s.apply(Command::CreateProfile(profile("a1", id))).unwrap();
        s.apply(mylist::state::Command::AddToList {
            profile_id: id.into(),
            title_id: "t1".into(),
            now: 1,
        })
        .unwrap();
        s.apply(ratings::state::Command::Rate {
            profile_id: id.into(),
            title_id: "t1".into(),
            thumb: ratings::state::Thumb::Up,
            now: 1,
        })
        .unwrap();
        s.apply(history::state::Command::RecordProgress(
            history::state::Report {
                profile_id: id.into(),
                title_id: "t1".into(),
                item_id: "t1".into(),
                position_secs: 3.0,
                duration_secs: 60.0,
                credits_start_secs: None,
                now_ms: 1,
                country: None,
            },
        ))
        .unwrap();
    }
    s.apply(Command::DeleteProfile {
        account_id: "a1".into(),
        id: "p1".into(),
    })
    .unwrap();
    let kept = |id: &str| {
        s.read(|tx| {
            Ok((
                mylist::state::titles(tx, id)?.len(),
                ratings::state::of_profile(tx, id)?.len(),
                history::state::history(tx, id, None, 10)?.len(),
                history::state::continue_watching(tx, id, 10)?.len(),
            ))
        })
    };
    assert_eq!(kept("p1"), (0, 0, 0, 0));
    assert_eq!(kept("p2"), (1, 1, 1, 1));
}
