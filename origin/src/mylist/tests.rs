//! My List's commands on a real state file: order, idempotence, the cap, and a deleted
//! profile's list going with it.

use super::state::{self, Command, MAX_TITLES, Rejection};
use crate::state::testing::TestState;

fn add(profile: &str, title: &str, now: u64) -> Command {
    Command::AddToList {
        profile_id: profile.into(),
        title_id: title.into(),
        now,
    }
}

#[test]
fn newest_first_and_adding_again_keeps_the_place() {
    let s = TestState::new();
    for (title, now) in [("a", 1), ("b", 2), ("c", 3), ("a", 9)] {
        s.apply(add("p1", title, now)).unwrap();
    }
    s.apply(add("p2", "z", 5)).unwrap();
    assert_eq!(s.read(|tx| state::titles(tx, "p1")), ["c", "b", "a"]);
    let remove = |title: &str| Command::RemoveFromList {
        profile_id: "p1".into(),
        title_id: title.into(),
    };
    s.apply(remove("b")).unwrap();
    s.apply(remove("b")).unwrap();
    assert_eq!(s.read(|tx| state::titles(tx, "p1")), ["c", "a"]);
    assert!(!s.read(|tx| state::contains(tx, "p1", "b")));
    assert_eq!(
        s.read(|tx| state::titles(tx, "p2")),
        ["z"],
        "another profile's list"
    );
}

#[test]
fn a_full_list_refuses_the_next_title_and_a_deleted_profile_leaves_nothing() {
    let s = TestState::new();
    for n in 0..MAX_TITLES {
        s.apply(add("p1", &format!("t{n:04}"), n as u64)).unwrap();
    }
    assert_eq!(
        s.apply(add("p1", "one-more", 1_000)),
        Err(Rejection::ListFull { max: MAX_TITLES })
    );
    s.apply(add("p1", "t0007", 2_000)).unwrap();
    s.write(|tx| state::forget_profile(tx, "p1").unwrap());
    assert!(s.read(|tx| state::titles(tx, "p1")).is_empty());
    s.apply(add("p1", "fresh", 3_000)).unwrap();
    assert_eq!(
        s.read(|tx| state::titles(tx, "p1")),
        ["fresh"],
        "the count restarted"
    );
}
