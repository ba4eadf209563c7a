//! Subtitle rows on a real state file.

use super::state::{self, Command, MAX_LANGUAGES, Rejection, Subtitle};
use crate::catalogue::tests::create;
use crate::state::testing::TestState;

fn set(owner: &str, language: &str, sha: &str) -> Command {
    Command::SetSubtitle {
        owner_id: owner.into(),
        subtitle: Subtitle {
            language: language.into(),
            sha256: sha.into(),
            size: 10,
            uploaded_at: 1,
        },
    }
}

#[test]
fn one_file_per_language_replaced_by_the_next_and_only_for_a_video_that_exists() {
    let s = TestState::new();
    assert_eq!(s.apply(set("t1", "en", "a")), Err(Rejection::OwnerNotFound));
    s.apply(create("t1", 1)).unwrap();
    s.apply(set("t1", "fr", "b")).unwrap();
    s.apply(set("t1", "en", "a")).unwrap();
    s.apply(set("t1", "en", "c")).unwrap();
    let files = s.read(|tx| state::of_owner(tx, "t1"));
    let got: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.language.as_str(), f.sha256.as_str()))
        .collect();
    assert_eq!(got, [("en", "c"), ("fr", "b")]);
    s.apply(Command::RemoveSubtitle {
        owner_id: "t1".into(),
        language: "en".into(),
    })
    .unwrap();
    assert_eq!(s.read(|tx| state::of_owner(tx, "t1")).len(), 1);
}

#[test]
fn a_video_has_subtitles_in_a_bounded_number_of_languages() {
    let s = TestState::new();
    s.apply(create("t1", 1)).unwrap();
    for n in 0..MAX_LANGUAGES {
        s.apply(set("t1", &format!("l{n:02}"), "x")).unwrap();
    }
    assert_eq!(
        s.apply(set("t1", "zz", "x")),
        Err(Rejection::TooManyLanguages { max: MAX_LANGUAGES })
    );
    s.apply(set("t1", "l00", "y")).unwrap();
}
