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
        facts: Default::default(),
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

/// Creates title `id` at `now` with `genres` and `rating`, ready to play.
fn ready(s: &TestState, id: &str, now: u64, genres: &[&str], rating: &str) {
    let mut m = meta();
    m.genres = genres.iter().map(|g| (*g).to_owned()).collect();
    m.maturity_rating = rating.into();
    create_ready(s, id, m, now);
}

/// Creates title `id` with `meta` at `now`, packaged and ready to play (for other domains'
/// tests too).
pub(crate) fn create_ready(s: &TestState, id: &str, meta: TitleMeta, now: u64) {
    s.apply(Command::CreateTitle {
        id: id.into(),
        meta,
        now,
    })
    .unwrap();
    s.write(|tx| {
        state::video_queued(tx, id, "job").unwrap();
        state::job_finished(tx, id, "job", Ok((60.0, Some("job".into())))).unwrap();
    });
}

fn ids(titles: Vec<state::Title>) -> Vec<String> {
    titles.into_iter().map(|t| t.id).collect()
}

#[test]
fn genre_rows_are_newest_first_ready_only_and_follow_edits() {
    let s = TestState::new();
    ready(&s, "a", 1, &["Drama", "Comedy"], "G");
    ready(&s, "b", 2, &["Drama", "Drama"], "R");
    ready(&s, "c", 3, &["Comedy"], "PG");
    s.apply(create("draft", 4)).unwrap(); // "nature", not ready
    let top = s.read(|tx| super::genres::top(tx, 10));
    assert_eq!(
        top,
        [
            ("Comedy".into(), 2),
            ("Drama".into(), 2),
            ("nature".into(), 1)
        ],
        "a genre listed twice counts once; ties by name"
    );
    let all = |_: &state::Title| true;
    let drama = s.read(|tx| state::newest_in_genre(tx, "Drama", 10, 100, &all));
    assert_eq!(ids(drama), ["b", "a"]);
    assert!(
        s.read(|tx| state::newest_in_genre(tx, "nature", 10, 100, &all))
            .is_empty()
    );
    let not_r = |t: &state::Title| t.meta.maturity_rating != "R";
    assert_eq!(
        ids(s.read(|tx| state::newest(tx, 10, 100, &not_r))),
        ["c", "a"]
    );
    assert_eq!(ids(s.read(|tx| state::newest(tx, 1, 100, &all))), ["c"]);

    let edit = Command::EditTitle {
        id: "b".into(),
        changes: state::TitleChanges {
            genres: Some(vec!["Thriller".into()]),
            ..Default::default()
        },
    };
    s.apply(edit).unwrap();
    let drama = s.read(|tx| state::newest_in_genre(tx, "Drama", 10, 100, &all));
    assert_eq!(ids(drama), ["a"]);
    let thriller = s.read(|tx| state::newest_in_genre(tx, "Thriller", 10, 100, &all));
    assert_eq!(ids(thriller), ["b"]);
    assert_eq!(
        s.read(|tx| super::genres::top(tx, 1)),
        [("Comedy".into(), 2)]
    );
}

#[test]
fn a_row_scans_a_bounded_number_of_index_rows() {
    let s = TestState::new();
    for n in 0..300 {
        ready(
            &s,
            &format!("t{n:03}"),
            n,
            &["Drama"],
            if n == 0 { "G" } else { "R" },
        );
    }
    let kids = |t: &state::Title| t.meta.maturity_rating == "G";
    // The one G title is the oldest: 300 rows down, found when the scan may go that far.
    assert_eq!(
        ids(s.read(|tx| state::newest(tx, 5, 1_000, &kids))),
        ["t000"]
    );
    assert!(s.read(|tx| state::newest(tx, 5, 200, &kids)).is_empty());
    let all = |_: &state::Title| true;
    let page = s.read(|tx| state::newest_in_genre(tx, "Drama", 140, 1_000, &all));
    assert_eq!(page.len(), 140, "rows span more than one index page");
    assert_eq!(
        (page[0].id.as_str(), page[139].id.as_str()),
        ("t299", "t160")
    );
}

#[test]
fn opening_a_state_from_before_the_genre_index_builds_it() {
    let s = TestState::new();
    ready(&s, "a", 1, &["Drama"], "G");
    s.write(|tx| {
        tx.delete_table(redb::TableDefinition::<&[u8], &[u8]>::new(
            "titles_by_genre",
        ))
        .unwrap();
        tx.delete_table(redb::TableDefinition::<&[u8], &[u8]>::new("genre_counts"))
            .unwrap();
    });
    assert!(s.read(|tx| super::genres::top(tx, 5)).is_empty());
    s.write(|tx| state::upgrade(tx).unwrap());
    s.write(|tx| state::upgrade(tx).unwrap());
    assert_eq!(
        s.read(|tx| super::genres::top(tx, 5)),
        [("Drama".into(), 1)],
        "built once"
    );
}
