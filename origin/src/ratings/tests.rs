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
