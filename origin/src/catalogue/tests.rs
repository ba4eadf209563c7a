//! Exact outcomes of the catalogue commands, applied to a real state file.

use super::state::{self, Applied, Command, Rejection, TitleKind, TitleMeta, TitleState};
use crate::state::testing::TestState;

pub(crate) fn meta() -> TitleMeta {
    TitleMeta {
        name: "Bear".into(),
        synopsis: "A bear.".into(),
        year: 2020,
        genres: vec!["nature".into()],
        maturity_rating: "G".into(),
        kind: TitleKind::Film,
        attribution: None,
    }
}

pub(crate) fn create(id: &str, now: u64) -> Command {
    Command::CreateTitle {
        id: id.into(),
        meta: meta(),
        now,
    }
}

#[test]
fn titles_start_awaiting_video_and_only_ready_ones_are_listed_for_viewers() {
    let s = TestState::new();
    let Ok(Applied::Title(t)) = s.apply(create("t1", 5)) else {
        panic!("not created")
    };
    assert_eq!(t.state, TitleState::AwaitingVideo);
    assert_eq!(s.apply(create("t1", 6)), Err(Rejection::TitleExists));
    let t1 = s.read(|tx| state::title(tx, "t1")).unwrap();
    assert_eq!((t1.state, t1.created_at), (TitleState::AwaitingVideo, 5));
    assert!(s.read(|tx| state::titles(tx, false)).is_empty());
    assert_eq!(s.read(|tx| state::titles(tx, true)).len(), 1);
}

#[test]
fn titles_are_listed_newest_first_then_by_id() {
    let s = TestState::new();
    for (id, now) in [("b", 5), ("c", 9), ("a", 5), ("d", 1)] {
        s.apply(create(id, now)).unwrap();
    }
    let ids: Vec<String> = s
        .read(|tx| state::titles(tx, true))
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["c", "a", "b", "d"]);
}

#[test]
fn a_poster_needs_a_title() {
    let s = TestState::new();
    let poster = |id: &str| Command::SetPoster {
        title_id: id.into(),
        content_type: "image/png".into(),
        sha256: "abc".into(),
    };
    assert_eq!(s.apply(poster("nope")), Err(Rejection::TitleNotFound));
    s.apply(create("t1", 5)).unwrap();
    let Ok(Applied::Title(t)) = s.apply(poster("t1")) else {
        panic!("poster not set")
    };
    assert_eq!(t.poster.map(|p| p.sha256), Some("abc".to_owned()));
}

#[test]
fn an_edit_changes_only_the_fields_it_names_and_needs_a_title() {
    let s = TestState::new();
    let edit = |id: &str, changes: state::TitleChanges| Command::EditTitle {
        id: id.into(),
        changes,
    };
    let rename = state::TitleChanges {
        name: Some("Bear, Again".into()),
        ..Default::default()
    };
    assert_eq!(
        s.apply(edit("nope", rename.clone())),
        Err(Rejection::TitleNotFound)
    );
    s.apply(create("t1", 5)).unwrap();
    s.apply(edit("t1", rename)).unwrap();
    // A second admin's edit of other fields, made from the old title, keeps the rename.
    let later = state::TitleChanges {
        year: Some(1999),
        attribution: Some("CC BY 4.0".into()),
        ..Default::default()
    };
    s.apply(edit("t1", later)).unwrap();
    let t = s.read(|tx| state::title(tx, "t1")).unwrap();
    let want = TitleMeta {
        name: "Bear, Again".into(),
        year: 1999,
        attribution: Some("CC BY 4.0".into()),
        ..meta()
    };
    assert_eq!(t.meta, want);
    assert_eq!(t.created_at, 5, "the listing order stays");
    // Removal survives the log's JSON.
    let unattributed = state::TitleChanges {
        attribution: Some(String::new()),
        ..Default::default()
    };
    let logged = serde_json::to_string(&unattributed).unwrap();
    let unattributed = serde_json::from_str(&logged).unwrap();
    s.apply(edit("t1", unattributed)).unwrap();
    let t = s.read(|tx| state::title(tx, "t1")).unwrap();
    assert_eq!(t.meta.attribution, None);
    // Only the named fields go into the log.
    let json = serde_json::to_string(&state::TitleChanges {
        year: Some(2001),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(json, r#"{"year":2001}"#);
}
