//! Recommendations on a real state file: two groups of viewers with different tastes, a new
//! profile that loves one title, and the rows it gets.

use super::model::{self, Trained};
use super::rows::for_profile;
use crate::catalogue::tests::{create_ready, meta};
use crate::history::state::{Command as History, Report};
use crate::policy::Maturity;
use crate::profiles::state::Profile;
use crate::ratings::state::{Command as Rate, Thumb};
use crate::rows::wire::Row;
use crate::state::testing::TestState;

const NOW_MS: u64 = 1_800_000_000_000;

/// A ready film `Title <id>` of one genre and rating (for other domains' tests too).
pub(crate) fn title(s: &TestState, id: &str, genre: &str, rating: &str) {
    let mut m = meta();
    m.name = format!("Title {id}");
    m.genres = vec![genre.into()];
    m.maturity_rating = rating.into();
    create_ready(s, id, m, 1);
}

/// `profile` watched `title` to its end `ago_ms` before `NOW_MS` (1.8e12).
pub(crate) fn watch(s: &TestState, profile: &str, title: &str, ago_ms: u64) {
    s.apply(History::RecordProgress(Report {
        profile_id: profile.into(),
        title_id: title.into(),
        item_id: title.into(),
        position_secs: 59.0,
        duration_secs: 60.0,
        credits_start_secs: None,
        now_ms: NOW_MS - ago_ms,
        country: None,
    }))
    .unwrap();
}

fn profile(id: &str, maturity: Maturity) -> Profile {
    Profile {
        id: id.into(),
        account_id: "acct".into(),
        name: "Pat".into(),
        avatar: "fox".into(),
        language: "en".into(),
        maturity,
        kids: false,
        pin_hash: None,
        created_at: 1,
    }
}

/// Dramas d1–d3 watched together by 20 profiles, comedies c1–c3 by 20 others; c3 is rated R.
fn world() -> (TestState, Trained) {
    let s = TestState::new();
    for id in ["d1", "d2", "d3"] {
        title(&s, id, "Drama", "PG");
    }
    for (id, rating) in [("c1", "PG"), ("c2", "PG"), ("c3", "R")] {
        title(&s, id, "Comedy", rating);
    }
    for v in 0..40 {
        let group = if v < 20 {
            ["d1", "d2", "d3"]
        } else {
            ["c1", "c2", "c3"]
        };
        for (k, t) in group.iter().enumerate() {
            // Each viewer skips one of the three, so the model sees them go together.
            if (v + k) % 3 != 0 {
                // The comedies were watched today, the dramas a week and more ago.
                let ago = if v < 20 { 9 * 86_400_000 } else { 3_600_000 };
                watch(&s, &format!("v{v}"), t, ago);
            }
        }
    }
    let trained = s.read(|tx| {
        model::train(tx, NOW_MS).map_err(|e| crate::raft::StoreError::Other(e.to_string()))
    });
    (s, trained)
}

fn ids(rows: &[Row], id: &str) -> Vec<String> {
    rows.iter()
        .find(|r| r.id == id)
        .map(|r| r.items.iter().map(|c| c.title.id.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn a_loved_title_brings_its_kind_first_and_a_watched_one_its_neighbours() {
    let (s, trained) = world();
    assert_eq!(trained.titles.len(), 6);
    s.apply(Rate::Rate {
        profile_id: "pat".into(),
        title_id: "d1".into(),
        thumb: Thumb::Love,
        now: 1,
    })
    .unwrap();
    let p = profile("pat", Maturity::Age18);
    let rows = s.read(|tx| for_profile(tx, Some(&trained), &p, None)).rows;
    let picks = ids(&rows, "top-picks");
    assert_eq!(
        &picks[..2],
        ["d2", "d3"],
        "the loved title's companions first: {picks:?}"
    );
    assert!(!picks.contains(&"d1".to_owned()), "not what it already has");
    assert_eq!(rows[0].name, "Top picks for Pat");

    watch(&s, "pat", "c1", 1_000);
    let rows = s.read(|tx| for_profile(tx, Some(&trained), &p, None)).rows;
    let mut because = ids(&rows, "because:c1");
    because.truncate(2);
    because.sort();
    assert_eq!(because, ["c2", "c3"], "the watched title's companions");
    assert!(
        rows.iter()
            .any(|r| r.name == "Because you watched Title c1")
    );
}

#[test]
fn charts_count_today_and_the_week_and_follow_the_limit() {
    let (s, trained) = world();
    let mut today = trained.top_today.clone();
    today.sort();
    assert_eq!(today, ["c1", "c2", "c3"], "only what was watched today");
    let comedies_first = trained.trending[..3].iter().all(|t| t.starts_with('c'));
    assert!(
        comedies_first,
        "this week's beat last week's: {:?}",
        trained.trending
    );
    assert_eq!(
        trained.trending.len(),
        3,
        "the dramas were watched over a week ago"
    );
    let kid = profile("kid", Maturity::Age7);
    let rows = s
        .read(|tx| for_profile(tx, Some(&trained), &kid, None))
        .rows;
    let top = rows.iter().find(|r| r.id == "top-10").unwrap();
    assert!(top.ranked);
    let mut top: Vec<&str> = top.items.iter().map(|c| c.title.id.as_str()).collect();
    top.sort_unstable();
    assert_eq!(
        top,
        ["c1", "c2"],
        "the R comedy is not on a 7+ profile's chart"
    );
    assert!(ids(&rows, "top-picks").is_empty(), "no taste yet: no picks");
}

#[test]
fn a_thumb_down_keeps_a_title_out_of_the_profiles_own_rows() {
    let (s, trained) = world();
    for (t, thumb) in [("c1", Thumb::Love), ("c2", Thumb::Down)] {
        s.apply(Rate::Rate {
            profile_id: "pat".into(),
            title_id: t.into(),
            thumb,
            now: 1,
        })
        .unwrap();
    }
    let p = profile("pat", Maturity::Age18);
    let rows = s.read(|tx| for_profile(tx, Some(&trained), &p, None)).rows;
    assert!(!ids(&rows, "top-picks").contains(&"c2".to_owned()));
    assert_eq!(ids(&rows, "top-picks")[0], "c3");
    // Without a model yet (a fresh node), the genres the profile likes fill the row.
    let rows = s.read(|tx| for_profile(tx, None, &p, None)).rows;
    assert_eq!(ids(&rows, "top-picks"), ["c3"]);
}

#[test]
fn each_country_has_its_own_top_10_and_others_get_everyones() {
    let s = TestState::new();
    for id in ["kiwi", "baguette", "both"] {
        title(&s, id, "Drama", "PG");
    }
    let play = |profile: &str, title: &str, country: &str| {
        s.apply(History::RecordProgress(Report {
            profile_id: profile.into(),
            title_id: title.into(),
            item_id: title.into(),
            position_secs: 10.0,
            duration_secs: 60.0,
            credits_start_secs: None,
            now_ms: NOW_MS - 60_000,
            country: Some(country.into()),
        }))
        .unwrap();
    };
    for v in 0..3 {
        play(&format!("nz{v}"), "kiwi", "NZ");
        play(&format!("fr{v}"), "baguette", "FR");
        play(&format!("fr{v}"), "both", "FR");
    }
    play("nz0", "both", "NZ");
    let trained = s.read(|tx| {
        model::train(tx, NOW_MS).map_err(|e| crate::raft::StoreError::Other(e.to_string()))
    });
    assert_eq!(trained.top_today_in["NZ"], ["kiwi", "both"]);
    assert_eq!(trained.top_today_in["FR"], ["baguette", "both"]);
    let p = profile("pat", Maturity::Age18);
    let top = |country| {
        let rows = s
            .read(|tx| for_profile(tx, Some(&trained), &p, country))
            .rows;
        let row = rows.into_iter().find(|r| r.id == "top-10").unwrap();
        let ids: Vec<String> = row.items.iter().map(|c| c.title.id.clone()).collect();
        (row.name, ids)
    };
    assert_eq!(
        top(Some("NZ")),
        (
            "Top 10 in New Zealand today".into(),
            vec!["kiwi".into(), "both".into()]
        )
    );
    assert_eq!(top(Some("FR")).0, "Top 10 in France today");
    let (name, ids) = top(Some("JP"));
    assert_eq!(name, "Top 10 on Marquee today", "no plays from Japan yet");
    assert_eq!(ids[0], "both", "everyone's chart: four profiles played it");
    assert_eq!(top(None).0, "Top 10 on Marquee today");
}
