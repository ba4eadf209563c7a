//! Progress, "Continue watching" and history on a real state file.

use super::state::{self, Command, Report};
use crate::state::testing::TestState;

fn report(title: &str, item: &str, position: f64, now_ms: u64) -> Command {
    Command::RecordProgress(Report {
        profile_id: "p1".into(),
        title_id: title.into(),
        item_id: item.into(),
        position_secs: position,
        duration_secs: 100.0,
        credits_start_secs: None,
        now_ms,
        country: None,
    })
}

fn row(s: &TestState) -> Vec<(String, String)> {
    s.read(|tx| state::continue_watching(tx, "p1", 10))
        .into_iter()
        .map(|p| (p.title_id, p.item_id))
        .collect()
}

fn history(s: &TestState) -> Vec<String> {
    s.read(|tx| state::history(tx, "p1", None, 10))
        .into_iter()
        .map(|p| p.item_id)
        .collect()
}

#[test]
fn the_latest_report_wins_and_a_series_shows_once_at_its_latest_episode() {
    let s = TestState::new();
    s.apply(report("film", "film", 10.0, 1_000)).unwrap();
    s.apply(report("show", "ep1", 50.0, 2_000)).unwrap();
    s.apply(report("show", "ep2", 5.0, 3_000)).unwrap();
    s.apply(report("film", "film", 20.0, 4_000)).unwrap();
    // A report older than the one kept (another node's batch landing late) changes nothing.
    s.apply(report("film", "film", 15.0, 3_500)).unwrap();
    let film = s.read(|tx| state::progress(tx, "p1", "film")).unwrap();
    assert_eq!((film.position_secs, film.updated_at_ms), (20.0, 4_000));
    assert_eq!(
        row(&s),
        [
            ("film".into(), "film".into()),
            ("show".into(), "ep2".into())
        ]
    );
    assert_eq!(history(&s), ["film", "ep2", "ep1"]);
    assert!(
        s.read(|tx| state::continue_watching(tx, "p2", 10))
            .is_empty()
    );
}

#[test]
fn finished_means_into_the_credits_or_else_95_percent() {
    let mut r = Report {
        profile_id: "p1".into(),
        title_id: "t".into(),
        item_id: "t".into(),
        position_secs: 94.0,
        duration_secs: 100.0,
        credits_start_secs: None,
        now_ms: 1,
        country: None,
    };
    assert!(!r.finished());
    r.position_secs = 95.0;
    assert!(r.finished());
    r.credits_start_secs = Some(97.0);
    assert!(!r.finished(), "the marker decides when there is one");
    r.position_secs = 97.0;
    assert!(r.finished());
    r.credits_start_secs = Some(80.0);
    r.position_secs = 81.0;
    assert!(r.finished(), "long credits: finished well before 95 %");
}

#[test]
fn dismissing_leaves_the_row_until_watched_again_and_hiding_forgets_the_item() {
    let s = TestState::new();
    s.apply(report("film", "film", 10.0, 1_000)).unwrap();
    s.apply(report("show", "ep1", 50.0, 2_000)).unwrap();
    let dismiss = Command::DismissContinue {
        profile_id: "p1".into(),
        title_id: "film".into(),
    };
    s.apply(dismiss).unwrap();
    assert_eq!(row(&s), [("show".into(), "ep1".into())]);
    assert_eq!(history(&s), ["ep1", "film"], "dismissing is not hiding");
    s.apply(report("film", "film", 12.0, 3_000)).unwrap();
    assert_eq!(row(&s)[0], ("film".into(), "film".into()));

    let hide = Command::HideFromHistory {
        profile_id: "p1".into(),
        item_id: "ep1".into(),
    };
    s.apply(hide).unwrap();
    assert_eq!(history(&s), ["film"]);
    assert_eq!(row(&s), [("film".into(), "film".into())]);
    assert!(s.read(|tx| state::progress(tx, "p1", "ep1")).is_none());
    assert!(s.read(|tx| state::latest(tx, "p1", "show")).is_none());
}

#[test]
fn history_pages_by_time_and_a_deleted_profile_leaves_nothing() {
    let s = TestState::new();
    for n in 0..5u64 {
        let id = format!("t{n}");
        s.apply(report(&id, &id, 1.0, 1_000 * (n + 1))).unwrap();
    }
    let page = |before| -> Vec<String> {
        s.read(|tx| state::history(tx, "p1", before, 2))
            .into_iter()
            .map(|p| p.item_id)
            .collect()
    };
    assert_eq!(page(None), ["t4", "t3"]);
    assert_eq!(
        page(Some(4_000)),
        ["t2", "t1"],
        "strictly before the cursor"
    );
    assert_eq!(page(Some(2_000)), ["t0"]);
    s.write(|tx| state::forget_profile(tx, "p1").unwrap());
    assert!(history(&s).is_empty() && row(&s).is_empty());
    assert!(s.read(|tx| state::progress(tx, "p1", "t1")).is_none());
}
