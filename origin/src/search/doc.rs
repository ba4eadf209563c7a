//! What search knows of one catalogue title, read from the replicated state: the words to match
//! and the values to filter, count and sort by.

use crate::catalogue::state::{self as catalogue, TitleKind, TitleState};
use crate::policy::Maturity;
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use crate::ratings::state as ratings;
use crate::{series, subtitles};

/// The "liked" shares viewers can filter on ("75 % liked or more"); a title counts under every
/// one it reaches, so each facet count reads "at least".
pub const LIKED_BUCKETS: [u8; 3] = [50, 75, 90];

#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    pub id: String,
    pub name: String,
    /// Cast and crew names.
    pub people: Vec<String>,
    pub synopsis: String,
    /// A series' episode names and synopses.
    pub episodes: Vec<String>,
    pub kind: TitleKind,
    pub genres: Vec<String>,
    pub year: u16,
    /// `YYYYMMDD` of the release date, or of 1 January of the year when there is none.
    pub released: u64,
    /// The original language first, then the dubs.
    pub languages: Vec<String>,
    pub subtitles: Vec<String>,
    pub maturity_rating: String,
    pub maturity: Maturity,
    pub liked_percent: Option<u8>,
    /// How many profiles rated it.
    pub ratings: u64,
}

impl SearchDoc {
    /// The liked-share buckets this title reaches.
    pub fn liked_buckets(&self) -> impl Iterator<Item = u8> + '_ {
        LIKED_BUCKETS
            .into_iter()
            .filter(|b| self.liked_percent.is_some_and(|p| p >= *b))
    }

    /// What "sort by rating" ranks on, in thousandths: the liked share pulled towards one half
    /// by two imaginary votes (one each way), so one love does not outrank a thousand.
    pub fn rating_rank(&self) -> u64 {
        let liked = u64::from(self.liked_percent.unwrap_or(0)) * self.ratings / 100;
        (liked + 1) * 1000 / (self.ratings + 2)
    }
}

/// The search document of title `id`, or `None` when viewers cannot find it (gone, or not
/// ready to play).
pub fn of_title(tx: &impl Reads, id: &str) -> Result<Option<SearchDoc>, StoreError> {
    let Some(t) = catalogue::title(tx, id)? else {
        return Ok(None);
    };
    if t.state != TitleState::Ready {
        return Ok(None);
    }
    let m = &t.meta;
    let facts = &m.facts;
    let mut people: Vec<String> = facts.cast.clone();
    people.extend(facts.crew.iter().map(|c| c.name.clone()));
    let mut languages = facts.spoken_languages();
    let mut episodes = Vec::new();
    if m.kind == TitleKind::Series {
        for e in series::state::episodes(tx, id, false)? {
            episodes.push(e.meta.name.clone());
            episodes.push(e.meta.synopsis.clone());
            people.extend(e.meta.facts.cast.iter().cloned());
            for l in e.meta.facts.spoken_languages() {
                if !languages.contains(&l) {
                    languages.push(l);
                }
            }
        }
    }
    people.sort_unstable();
    people.dedup();
    let released = match &facts.release_date {
        Some(date) => date.replace('-', "").parse().unwrap_or(0),
        None => u64::from(m.year) * 10_000 + 101,
    };
    let counts = ratings::counts(tx, id)?;
    Ok(Some(SearchDoc {
        id: t.id.clone(),
        name: m.name.clone(),
        people,
        synopsis: m.synopsis.clone(),
        episodes,
        kind: m.kind,
        genres: m.genres.clone(),
        year: m.year,
        released,
        languages,
        subtitles: subtitles::state::languages_of_title(tx, &t)?,
        maturity_rating: m.maturity_rating.clone(),
        maturity: Maturity::of_rating(&m.maturity_rating),
        liked_percent: counts.liked_percent(),
        ratings: counts.total(),
    }))
}
