//! The search feed on a real state file: every change search shows names its title, in order.

use super::feed;
use crate::catalogue::tests::create;
use crate::ratings::state::{Command as Rate, Thumb};
use crate::state::testing::TestState;

fn changed_since(s: &TestState, after: u64) -> Vec<String> {
    s.read(|tx| feed::since(tx, after, 100))
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}

#[test]
fn the_feed_names_each_changed_title_once_latest_last() {
    let s = TestState::new();
    assert_eq!(s.read(feed::last), 0);
    s.apply(create("t1", 1)).unwrap();
    s.apply(create("t2", 2)).unwrap();
    let after_create = s.read(feed::last);
    assert_eq!(changed_since(&s, 0), ["t1", "t2"]);
    s.apply(Rate::Rate {
        profile_id: "p".into(),
        title_id: "t1".into(),
        thumb: Thumb::Up,
        now: 3,
    })
    .unwrap();
    assert_eq!(
        changed_since(&s, 0),
        ["t2", "t1"],
        "one row per title, its latest change"
    );
    assert_eq!(changed_since(&s, after_create), ["t1"]);
    assert_eq!(changed_since(&s, s.read(feed::last)), Vec::<String>::new());
}

mod engine {
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    use crate::catalogue::facts::{Credit, Facts};
    use crate::catalogue::state::{Command, TitleChanges};
    use crate::catalogue::tests::{create_ready, meta};
    use crate::policy::Maturity;
    use crate::ratings::state::{Command as Rate, Thumb};
    use crate::search::index::SearchIndex;
    use crate::search::query::{self, Found, Request, Sort};
    use crate::search::schema::{self, facet};
    use crate::state::testing::TestState;

    struct World {
        s: TestState,
        index: SearchIndex,
    }

    fn film(
        s: &TestState,
        id: &str,
        name: &str,
        date: &str,
        genres: &[&str],
        rating: &str,
        facts: Facts,
    ) {
        let mut m = meta();
        m.name = name.into();
        m.synopsis = format!("All about {name}.");
        m.genres = genres.iter().map(|g| (*g).to_owned()).collect();
        m.maturity_rating = rating.into();
        m.year = date[..4].parse().unwrap();
        m.facts = Facts {
            release_date: Some(date.into()),
            ..facts
        };
        create_ready(s, id, m, 1);
    }

    fn lang(original: &str, audio: &[&str]) -> Facts {
        Facts {
            original_language: Some(original.into()),
            audio_languages: audio.iter().map(|a| (*a).to_owned()).collect(),
            ..Facts::default()
        }
    }

    fn world() -> World {
        let s = TestState::new();
        let matrix = Facts {
            cast: vec!["Keanu Reeves".into()],
            crew: vec![Credit {
                name: "Lana Wachowski".into(),
                job: "Director".into(),
            }],
            ..lang("en", &[])
        };
        film(
            &s,
            "matrix",
            "The Matrix",
            "1999-03-31",
            &["Sci-Fi", "Action"],
            "R",
            matrix,
        );
        film(
            &s,
            "amelie",
            "Amélie",
            "2001-04-25",
            &["Comedy", "Romance"],
            "R",
            lang("fr", &["en"]),
        );
        let spirited = Facts {
            crew: vec![Credit {
                name: "Hayao Miyazaki".into(),
                job: "Director".into(),
            }],
            ..lang("ja", &["en"])
        };
        film(
            &s,
            "spirited",
            "Spirited Away",
            "2001-07-20",
            &["Animation", "Family"],
            "PG",
            spirited,
        );
        film(
            &s,
            "matilda",
            "Matilda",
            "1996-08-02",
            &["Comedy", "Family"],
            "PG",
            lang("en", &[]),
        );
        film(
            &s,
            "maths",
            "Numbers",
            "2010-01-01",
            &["Documentary"],
            "G",
            lang("en", &[]),
        );
        let about_matrices = TitleChanges {
            synopsis: Some("How the matrix of a film is made.".into()),
            ..Default::default()
        };
        s.apply(Command::EditTitle {
            id: "maths".into(),
            changes: about_matrices,
        })
        .unwrap();
        let index = SearchIndex::open(None).unwrap();
        let w = World { s, index };
        w.catch_up();
        w
    }

    impl World {
        fn catch_up(&self) {
            self.s.read(|tx| Ok(self.index.catch_up(tx).unwrap()));
        }

        fn search(&self, q: &str, filters: &[(&'static str, &str)], sort: Sort) -> Found {
            self.search_as(q, filters, sort, Maturity::Age18)
        }

        fn search_as(
            &self,
            q: &str,
            filters: &[(&'static str, &str)],
            sort: Sort,
            limit: Maturity,
        ) -> Found {
            let mut f: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
            for (root, v) in filters {
                f.entry(root).or_default().push((*v).to_owned());
            }
            let req = Request {
                words: schema::words(q),
                filters: f,
                years: (None, None),
                sort,
                limit,
                offset: 0,
                page: 20,
                deadline: Instant::now() + Duration::from_secs(5),
            };
            query::run(&self.index, &req).unwrap()
        }

        fn ids(&self, q: &str) -> Vec<String> {
            self.search(q, &[], Sort::Relevance).ids
        }
    }

    fn count(found: &Found, root: &str, value: &str) -> u64 {
        found.facets[root]
            .iter()
            .find(|(v, _)| v == value)
            .map_or(0, |(_, n)| *n)
    }

    #[test]
    fn typos_prefixes_and_accents_find_the_title() {
        let w = world();
        assert_eq!(
            w.ids("matirx")[0],
            "matrix",
            "one typo (a swap) in 6 letters"
        );
        assert_eq!(w.ids("the matrx")[0], "matrix", "a missing letter");
        assert_eq!(w.ids("amelie"), ["amelie"], "no accent needed");
        assert_eq!(w.ids("AMÉLIE"), ["amelie"]);
        assert_eq!(w.ids("spir"), ["spirited"], "the last word is a prefix");
        assert_eq!(w.ids("spirted awa")[0], "spirited");
        assert!(w.ids("mtrx").is_empty(), "4 letters get no typo");
        assert!(w.ids("zzzzzz").is_empty());
    }

    #[test]
    fn names_rank_above_synopsis_and_people_are_found() {
        let w = world();
        let hits = w.ids("matrix");
        assert_eq!(
            hits,
            ["matrix", "maths"],
            "the name first, the synopsis after"
        );
        assert_eq!(w.ids("reeves"), ["matrix"]);
        assert_eq!(w.ids("miyazaki"), ["spirited"]);
        assert_eq!(w.ids("wachowsky"), ["matrix"], "a typo in a crew name");
    }

    #[test]
    fn filters_narrow_and_facets_count_what_is_left() {
        let w = world();
        let comedy = w.search("", &[(facet::GENRE, "Comedy")], Sort::Az);
        assert_eq!(comedy.ids, ["amelie", "matilda"], "A–Z");
        assert_eq!(comedy.total, 2);
        assert_eq!(count(&comedy, facet::LANGUAGE, "fr"), 1);
        // The filtered facet counts as if unfiltered, so another genre can be picked.
        assert_eq!(count(&comedy, facet::GENRE, "Family"), 2);
        assert_eq!(count(&comedy, facet::GENRE, "Action"), 1);
        assert_eq!(
            count(&comedy, facet::DECADE, "1990"),
            1,
            "other facets count the comedies"
        );
        let french_comedy = w.search(
            "",
            &[(facet::GENRE, "Comedy"), (facet::LANGUAGE, "fr")],
            Sort::Az,
        );
        assert_eq!(french_comedy.ids, ["amelie"]);
        let english_audio = w.search("", &[(facet::LANGUAGE, "en")], Sort::Newest);
        assert_eq!(
            english_audio.ids,
            ["maths", "spirited", "amelie", "matrix", "matilda"]
        );
        let nineties = w.search("", &[(facet::DECADE, "1990")], Sort::Newest);
        assert_eq!(nineties.ids, ["matrix", "matilda"]);
        let two = w.search(
            "",
            &[(facet::GENRE, "Comedy"), (facet::GENRE, "Documentary")],
            Sort::Az,
        );
        assert_eq!(
            two.ids,
            ["amelie", "matilda", "maths"],
            "values of one facet: any of them"
        );
    }

    #[test]
    fn a_kids_limit_hides_titles_from_hits_and_counts() {
        let w = world();
        let kids = w.search_as("", &[], Sort::Az, Maturity::Age7);
        assert_eq!(kids.ids, ["matilda", "maths", "spirited"]);
        assert_eq!(count(&kids, facet::MATURITY, "R"), 0);
        assert_eq!(count(&kids, facet::GENRE, "Sci-Fi"), 0);
        assert_eq!(
            count(&kids, facet::GENRE, "Comedy"),
            1,
            "Amélie is not counted"
        );
        let asked = w.search_as(
            "matrix",
            &[(facet::MATURITY, "R")],
            Sort::Relevance,
            Maturity::Age7,
        );
        assert!(asked.ids.is_empty());
        assert_eq!(
            count(&asked, facet::MATURITY, "R"),
            0,
            "not even when filtered on"
        );
    }

    #[test]
    fn ratings_sort_and_bucket_and_edits_reach_the_index() {
        let w = world();
        for (profile, title, thumb) in [
            ("p1", "matilda", Thumb::Love),
            ("p2", "matilda", Thumb::Up),
            ("p1", "amelie", Thumb::Down),
        ] {
            w.s.apply(Rate::Rate {
                profile_id: profile.into(),
                title_id: title.into(),
                thumb,
                now: 2,
            })
            .unwrap();
        }
        w.catch_up();
        let best = w.search("", &[], Sort::Rating);
        assert_eq!(&best.ids[..1], ["matilda"]);
        assert_eq!(best.ids.last().map(String::as_str), Some("amelie"));
        let liked = w.search("", &[(facet::LIKED, "90")], Sort::Az);
        assert_eq!(liked.ids, ["matilda"]);
        assert_eq!(count(&liked, facet::LIKED, "50"), 1);
        // A renamed title is found by its new name once the index catches up.
        w.s.apply(Command::EditTitle {
            id: "maths".into(),
            changes: TitleChanges {
                name: Some("Counting Stars".into()),
                ..Default::default()
            },
        })
        .unwrap();
        w.catch_up();
        assert_eq!(w.ids("counting"), ["maths"]);
        assert!(w.ids("numbers").is_empty());
        assert_eq!(w.search("", &[(facet::KIND, "film")], Sort::Az).total, 5);
    }

    #[test]
    fn a_passed_deadline_answers_partially() {
        let w = world();
        let mut req = Request {
            words: Vec::new(),
            filters: BTreeMap::new(),
            years: (None, None),
            sort: Sort::Relevance,
            limit: Maturity::Age18,
            offset: 0,
            page: 10,
            deadline: Instant::now(),
        };
        let found = query::run(&w.index, &req).unwrap();
        assert!(found.partial);
        assert!(found.ids.is_empty());
        req.deadline = Instant::now() + Duration::from_secs(5);
        req.years = (Some(2000), Some(2005));
        let found = query::run(&w.index, &req).unwrap();
        assert_eq!(
            (found.total, found.partial),
            (2, false),
            "Amélie and Spirited Away"
        );
    }
}

mod parameters {
    use crate::policy::Maturity;
    use crate::search::api::parse;
    use crate::search::query::Sort;
    use crate::search::schema::facet;

    #[test]
    fn filters_repeat_sorts_and_cursors_round_trip() {
        let req = parse(
            "q=Star+Wars&genre=Drama&genre=Comedy&genre=Drama&language=eng&decade=1990&sort=az&limit=5",
            Maturity::Age7,
        )
        .unwrap()
        .unwrap();
        assert_eq!(req.words, ["star", "wars"]);
        assert_eq!(
            req.filters[facet::GENRE],
            ["Drama", "Comedy"],
            "a repeat counts once"
        );
        assert_eq!(req.filters[facet::LANGUAGE], ["en"], "codes are normalised");
        assert_eq!(
            (req.sort, req.page, req.limit),
            (Sort::Az, 5, Maturity::Age7)
        );
        let next = crate::search::api::cursor_for_tests(40);
        let req = parse(&format!("cursor={next}"), Maturity::Age18)
            .unwrap()
            .unwrap();
        assert_eq!(req.offset, 40);
    }

    #[test]
    fn punctuation_is_no_search_and_bad_values_say_what_is_wrong() {
        assert!(parse("q=%21%21%3F", Maturity::Age18).unwrap().is_none());
        assert!(
            parse("q=", Maturity::Age18).unwrap().is_some(),
            "an empty box browses"
        );
        let filtered = parse("q=-&genre=Drama", Maturity::Age18).unwrap();
        assert!(
            filtered.is_some_and(|r| r.words.is_empty()),
            "with filters: browse them"
        );
        for (query, needle) in [
            ("decade=1995", "is not a decade"),
            ("year=1700", "not a year between 1870 and 2100"),
            ("liked=10", "50, 75 or 90"),
            ("maturity=XXX", "maturity: one of"),
            ("kind=short", "film or series"),
            ("sort=best", "relevance, newest, rating or az"),
            ("limit=51", "limit: 1 to 50"),
            ("cursor=bzEwMDAx", "not one this API gave"),
            ("genre=", "1 to 40 characters"),
            ("nope=1", "unknown parameter"),
        ] {
            let err = parse(query, Maturity::Age18).unwrap_err();
            assert!(format!("{err:?}").contains(needle), "{query}: {err:?}");
        }
        let long = format!("q={}", "x".repeat(201));
        assert!(parse(&long, Maturity::Age18).is_err());
        let many = "genre=a&".repeat(21);
        assert!(
            parse(&many.replace("=a", "=b"), Maturity::Age18).is_ok(),
            "repeats are one value"
        );
    }
}
