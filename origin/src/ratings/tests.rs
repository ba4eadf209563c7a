//! Ratings' commands on a real state file.

use super::state::{self, Command, Thumb};
use crate::state::testing::TestState;

#[test]
fn a_rating_replaces_the_last_and_can_be_taken_back() {
    let s = TestState::new();
    let rate = |title: &str, thumb, now| Command::Rate {
        profile_id: "p1".into(),
        title_id: title.into(),
        thumb,
        now,
    };
    s.apply(rate("a", Thumb::Up, 1)).unwrap();
    s.apply(rate("a", Thumb::Love, 2)).unwrap();
    s.apply(rate("b", Thumb::Down, 3)).unwrap();
    let a = s.read(|tx| state::rating(tx, "p1", "a")).unwrap();
    assert_eq!((a.thumb, a.rated_at), (Thumb::Love, 2));
    assert!(s.read(|tx| state::rating(tx, "p2", "a")).is_none());
    s.apply(Command::Unrate {
        profile_id: "p1".into(),
        title_id: "a".into(),
    })
    .unwrap();
    let left: Vec<String> = s
        .read(|tx| state::of_profile(tx, "p1"))
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(left, ["b"]);
    s.write(|tx| state::forget_profile(tx, "p1").unwrap());
    assert!(s.read(|tx| state::of_profile(tx, "p1")).is_empty());
}

#[test]
fn thumbs_go_over_the_wire_by_name() {
    assert_eq!(serde_json::to_string(&Thumb::Love).unwrap(), r#""love""#);
    assert!(serde_json::from_str::<Thumb>(r#""meh""#).is_err());
}

#[test]
fn a_titles_counts_follow_every_change_of_thumb() {
    let s = TestState::new();
    let rate = |profile: &str, thumb| Command::Rate {
        profile_id: profile.into(),
        title_id: "a".into(),
        thumb,
        now: 1,
    };
    let counts = || s.read(|tx| state::counts(tx, "a"));
    assert_eq!(counts().liked_percent(), None, "nobody rated it yet");
    s.apply(rate("p1", Thumb::Up)).unwrap();
    s.apply(rate("p2", Thumb::Down)).unwrap();
    s.apply(rate("p3", Thumb::Love)).unwrap();
    s.apply(rate("p3", Thumb::Love)).unwrap();
    let c = counts();
    assert_eq!(
        (c.down, c.up, c.love),
        (1, 1, 1),
        "the same thumb twice counts once"
    );
    assert_eq!(c.liked_percent(), Some(67));
    s.apply(rate("p2", Thumb::Up)).unwrap();
    assert_eq!(counts().liked_percent(), Some(100), "a changed thumb moves");
    s.apply(Command::Unrate {
        profile_id: "p1".into(),
        title_id: "a".into(),
    })
    .unwrap();
    s.write(|tx| state::forget_profile(tx, "p3").unwrap());
    let c = counts();
    assert_eq!((c.down, c.up, c.love, c.total()), (0, 1, 0, 1));
    // A state from before counts: the upgrade counts what is there, once.
    s.write(|tx| {
        let table = tx.open_table(redb::TableDefinition::<&[u8], &[u8]>::new("rating_counts"));
        table.unwrap().retain(|_, _| false).unwrap();
    });
    assert_eq!(counts().total(), 0);
    s.write(|tx| state::upgrade(tx).unwrap());
    assert_eq!(counts(), c);
    // Run again over counts already kept (a snapshot from before the upgrade, then a restart):
    // rebuilt, not added to.
    s.write(|tx| state::upgrade(tx).unwrap());
    assert_eq!(counts(), c);
}
