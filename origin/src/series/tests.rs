//! Exact outcomes of the series commands, and how episodes' jobs reach them, on a real state
//! file.

use super::state::{self, Applied, Command, EpisodeMeta, Rejection};
use crate::catalogue::state::{self as catalogue, Markers, TitleKind, TitleState};
use crate::catalogue::tests::meta;
use crate::jobs;
use crate::state::testing::TestState;

fn with_titles() -> TestState {
    let s = TestState::new();
    for (id, kind) in [("show", TitleKind::Series), ("film", TitleKind::Film)] {
        let mut m = meta();
        m.kind = kind;
        s.apply(catalogue::Command::CreateTitle {
            id: id.into(),
            meta: m,
            now: 1,
        })
        .unwrap();
    }
    s
}

fn season(series: &str, number: u16) -> Command {
    Command::CreateSeason {
        series_id: series.into(),
        number,
        name: format!("Season {number}"),
        now: 2,
    }
}

fn episode(id: &str, season: u16, number: u16) -> Command {
    Command::CreateEpisode {
        id: id.into(),
        series_id: "show".into(),
        season,
        number,
        meta: EpisodeMeta {
            name: format!("Episode {number}"),
            synopsis: String::new(),
            facts: Default::default(),
        },
        now: 3,
    }
}

/// Uploads a video for `id` and lets the job succeed (or fail).
fn package(s: &TestState, id: &str, job: &str, ok: bool) {
    s.apply(jobs::state::Command::VideoUploaded {
        title_id: id.into(),
        job_id: job.into(),
        blob: format!("uploads/{id}/{job}"),
        sha256: "00".into(),
        size: 1,
        now: 4,
    })
    .unwrap();
    let start = jobs::state::Command::StartJob {
        job_id: job.into(),
        now: 5,
        worker: Some(1),
        lease_secs: 60,
    };
    s.apply(start).unwrap();
    let end = if ok {
        jobs::state::Command::JobSucceeded {
            job_id: job.into(),
            duration_secs: 65.0,
            package_dir: Some(job.into()),
            package_files_sha256: None,
            now: 6,
            worker: Some(1),
        }
    } else {
        jobs::state::Command::JobFailed {
            job_id: job.into(),
            error: "bad video".into(),
            now: 6,
            worker: Some(1),
        }
    };
    s.apply(end).unwrap();
}

#[test]
fn seasons_and_episodes_belong_to_a_series_and_numbers_are_unique() {
    let s = with_titles();
    assert_eq!(s.apply(season("film", 1)), Err(Rejection::NotASeries));
    assert_eq!(s.apply(season("nope", 1)), Err(Rejection::SeriesNotFound));
    assert_eq!(
        s.apply(episode("e1", 1, 1)),
        Err(Rejection::SeasonNotFound(1))
    );
    s.apply(season("show", 1)).unwrap();
    assert_eq!(s.apply(season("show", 1)), Err(Rejection::SeasonExists(1)));
    s.apply(episode("e1", 1, 1)).unwrap();
    assert_eq!(
        s.apply(episode("e2", 1, 1)),
        Err(Rejection::EpisodeNumberTaken {
            season: 1,
            number: 1
        })
    );
    assert_eq!(s.apply(episode("e1", 1, 2)), Err(Rejection::EpisodeExists));
}

#[test]
fn episodes_come_in_viewing_order_and_next_crosses_seasons_skipping_unready_ones() {
    let s = with_titles();
    for n in [2, 1] {
        s.apply(season("show", n)).unwrap();
    }
    // Created out of order, and an episode number past 255 (two-byte keys).
    for (id, season, number) in [
        ("s2e1", 2, 1),
        ("s1e3", 1, 300),
        ("s1e1", 1, 1),
        ("s1e2", 1, 2),
    ] {
        s.apply(episode(id, season, number)).unwrap();
    }
    let order = |all| -> Vec<String> {
        s.read(|tx| state::episodes(tx, "show", all))
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(order(true), ["s1e1", "s1e2", "s1e3", "s2e1"]);
    assert!(order(false).is_empty(), "nothing is ready yet");
    let seasons: Vec<u16> = s
        .read(|tx| state::seasons(tx, "show"))
        .iter()
        .map(|x| x.number)
        .collect();
    assert_eq!(seasons, [1, 2]);

    package(&s, "s1e1", "j1", true);
    package(&s, "s1e2", "j2", false);
    package(&s, "s2e1", "j3", true);
    assert_eq!(order(false), ["s1e1", "s2e1"]);
    let first = s.read(|tx| state::episode(tx, "s1e1")).unwrap();
    assert_eq!(
        (first.state, first.duration_secs, first.package_path()),
        (TitleState::Ready, Some(65.0), "/media/s1e1/j1".to_owned())
    );
    let next = s.read(|tx| state::next_episode(tx, &first)).unwrap();
    assert_eq!(
        next.id, "s2e1",
        "the failed s1e2 and the unpackaged s1e3 are skipped"
    );
    assert!(s.read(|tx| state::next_episode(tx, &next)).is_none());
    let failed = s.read(|tx| state::episode(tx, "s1e2")).unwrap();
    assert_eq!(failed.state, TitleState::Failed);
}

#[test]
fn a_series_shows_once_an_episode_is_ready_and_jobs_find_episodes() {
    let s = with_titles();
    s.apply(season("show", 1)).unwrap();
    s.apply(episode("e1", 1, 1)).unwrap();
    assert!(s.read(|tx| catalogue::titles(tx, false)).is_empty());
    s.apply(jobs::state::Command::VideoUploaded {
        title_id: "e1".into(),
        job_id: "j1".into(),
        blob: "uploads/e1/j1".into(),
        sha256: "00".into(),
        size: 1,
        now: 4,
    })
    .unwrap();
    let e1 = s.read(|tx| state::episode(tx, "e1")).unwrap();
    assert_eq!(
        (e1.state, e1.job_id.as_deref()),
        (TitleState::Processing, Some("j1"))
    );
    let job = s.read(|tx| jobs::state::title_job(tx, "e1")).unwrap();
    assert_eq!(job.id, "j1");
    let again = jobs::state::Command::VideoUploaded {
        title_id: "e1".into(),
        job_id: "j2".into(),
        blob: "uploads/e1/j2".into(),
        sha256: "00".into(),
        size: 1,
        now: 4,
    };
    assert_eq!(s.apply(again), Err(jobs::state::Rejection::JobInProgress));
    s.write(|tx| {
        jobs::state::apply(
            tx,
            &jobs::state::Command::StartJob {
                job_id: "j1".into(),
                now: 5,
                worker: Some(1),
                lease_secs: 60,
            },
        )
        .unwrap()
        .unwrap();
    });
    let done = jobs::state::Command::JobSucceeded {
        job_id: "j1".into(),
        duration_secs: 61.5,
        package_dir: Some("j1".into()),
        package_files_sha256: None,
        now: 6,
        worker: Some(1),
    };
    s.apply(done).unwrap();
    let shown: Vec<String> = s
        .read(|tx| catalogue::titles(tx, false))
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(shown, ["show"], "the film without video stays hidden");
}

#[test]
fn edits_and_markers_change_only_what_they_name() {
    let s = with_titles();
    s.apply(season("show", 1)).unwrap();
    s.apply(episode("e1", 1, 1)).unwrap();
    let edit = Command::EditEpisode {
        id: "e1".into(),
        name: None,
        synopsis: Some("They meet.".into()),
        facts: None,
    };
    let Ok(Applied::Episode(e)) = s.apply(edit) else {
        panic!("not edited")
    };
    assert_eq!(
        (e.meta.name.as_str(), e.meta.synopsis.as_str()),
        ("Episode 1", "They meet.")
    );
    let markers = Markers {
        intro_start_secs: Some(3.0),
        intro_end_secs: Some(20.0),
        credits_start_secs: Some(55.0),
    };
    let set = |id: &str| Command::SetEpisodeMarkers {
        id: id.into(),
        markers,
    };
    s.apply(set("e1")).unwrap();
    assert_eq!(
        s.read(|tx| state::episode(tx, "e1")).unwrap().markers,
        markers
    );
    assert_eq!(s.apply(set("e9")), Err(Rejection::EpisodeNotFound));
}
