//! The home page rows recommendations make for one profile, within its maturity limit: what
//! the model predicts it will like, titles like the ones it just watched, and what everyone is
//! watching. Each row falls back to the catalogue's own structure (same genres) while the model
//! knows too little, so a new profile's onboarding picks give it rows at once.

use std::collections::{HashMap, HashSet};

use super::model::Trained;
use super::signals::{self, Taste};
use crate::catalogue::state::{self as catalogue, Title, TitleState};
use crate::catalogue::wire::Title as TitleWire;
use crate::history::wire::ContinueItem;
use crate::policy::{self, Maturity};
use crate::profiles::state::Profile;
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use crate::rows::wire::Row;

const ROW_LENGTH: usize = 30;
const TOP: usize = 10;
/// "Because you watched" rows, for the most recently played titles.
const BECAUSE_ROWS: usize = 2;
/// Index rows a same-genre fill looks at, at most.
const MAX_SCAN: usize = 500;

/// A profile's recommendation rows and how much it likes each genre (for ordering genre rows).
pub struct ForProfile {
    pub rows: Vec<Row>,
    pub genre_affinity: HashMap<String, f32>,
}

/// Cards for the titles `ids` names that `keep` accepts, in order, at most `n`.
struct Picker<'a, R: Reads> {
    tx: &'a R,
    limit: Maturity,
    skip: HashSet<String>,
    /// Coming-soon titles are not recommended: they cannot be played yet.
    now: u64,
}

impl<R: Reads> Picker<'_, R> {
    fn title(&self, id: &str) -> Result<Option<Title>, StoreError> {
        Ok(catalogue::title(self.tx, id)?.filter(|t| {
            t.state == TitleState::Ready
                && !t.coming_soon(self.now)
                && !self.skip.contains(&t.id)
                && policy::may_watch(self.limit, &t.meta.maturity_rating).is_ok()
        }))
    }

    fn pick<'i>(
        &self,
        ids: impl IntoIterator<Item = &'i String>,
        n: usize,
    ) -> Result<Vec<Title>, StoreError> {
        let mut out: Vec<Title> = Vec::new();
        for id in ids {
            if out.len() == n {
                break;
            }
            if out.iter().any(|t| t.id == *id) {
                continue;
            }
            if let Some(t) = self.title(id)? {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Fills `titles` up to `n` with the newest titles of `genres`.
    fn fill_from_genres(
        &self,
        titles: &mut Vec<Title>,
        genres: &[String],
        n: usize,
    ) -> Result<(), StoreError> {
        for genre in genres {
            if titles.len() >= n {
                break;
            }
            let have: HashSet<String> = titles.iter().map(|t| t.id.clone()).collect();
            let keep = |t: &Title| {
                !have.contains(&t.id)
                    && !t.coming_soon(self.now)
                    && !self.skip.contains(&t.id)
                    && policy::may_watch(self.limit, &t.meta.maturity_rating).is_ok()
            };
            let more =
                catalogue::newest_in_genre(self.tx, genre, n - titles.len(), MAX_SCAN, &keep)?;
            titles.extend(more);
        }
        Ok(())
    }
}

fn row(id: String, name: String, titles: &[Title], ranked: bool) -> Option<Row> {
    (!titles.is_empty()).then(|| Row {
        id,
        name,
        items: titles
            .iter()
            .map(|t| ContinueItem {
                title: TitleWire::from(t),
                episode: None,
                progress: None,
            })
            .collect(),
        ranked,
    })
}

/// `country`: where the viewer is now (ISO 3166-1 alpha-2), for its own Top 10.
pub fn for_profile(
    tx: &impl Reads,
    trained: Option<&Trained>,
    profile: &Profile,
    country: Option<&str>,
) -> Result<ForProfile, StoreError> {
    let taste = signals::of_profile(tx, &profile.id)?;
    let picker = Picker {
        tx,
        limit: profile.maturity,
        skip: taste.seen().cloned().collect(),
        now: crate::ids::now_unix(),
    };
    let genre_affinity = affinity(tx, &taste)?;
    let mut liked_genres: Vec<(&String, &f32)> = genre_affinity.iter().collect();
    liked_genres.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let liked_genres: Vec<String> = liked_genres.into_iter().map(|(g, _)| g.clone()).collect();
    let mut rows = Vec::new();

    // Top picks: the model's best guesses; while it knows nothing of this profile's titles,
    // the newest titles of the genres it likes.
    if !taste.weights.is_empty() {
        let mut picks = Vec::new();
        if let (Some(t), Some(scores)) = (trained, trained.and_then(|t| t.scores(&taste))) {
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
            picks = picker.pick(order.iter().map(|&i| &t.titles[i]), ROW_LENGTH)?;
        }
        let want = ROW_LENGTH.min(picks.len().max(12));
        picker.fill_from_genres(&mut picks, &liked_genres, want)?;
        rows.extend(row(
            "top-picks".into(),
            format!("Top picks for {}", profile.name),
            &picks,
            false,
        ));
    }

    // Because you watched: the titles most like each of the last ones played.
    for (watched, _) in taste.played.iter().take(BECAUSE_ROWS) {
        // A title this profile may no longer see (its limit was lowered) names no row.
        let Some(source) = catalogue::title(tx, watched)?.filter(|t| {
            t.state == TitleState::Ready
                && policy::may_watch(profile.maturity, &t.meta.maturity_rating).is_ok()
        }) else {
            continue;
        };
        let similar = trained
            .map(|t| t.similar(watched, ROW_LENGTH * 2))
            .unwrap_or_default();
        let mut titles = picker.pick(&similar, ROW_LENGTH)?;
        picker.fill_from_genres(&mut titles, &source.meta.genres, 12)?;
        let name = format!("Because you watched {}", source.meta.name);
        rows.extend(row(format!("because:{}", source.id), name, &titles, false));
    }

    // What everyone watches: seen titles stay in (a top 10 is not about this profile).
    let everyone = Picker {
        skip: HashSet::new(),
        ..picker
    };
    if let Some(t) = trained {
        let (name, top) = top_ten(t, country, |chart| everyone.pick(chart, TOP))?;
        rows.extend(row("top-10".into(), name, &top, true));
        let shown: HashSet<&String> = top.iter().map(|t| &t.id).collect();
        let trending = everyone.pick(
            t.trending.iter().filter(|id| !shown.contains(id)),
            ROW_LENGTH,
        )?;
        rows.extend(row(
            "trending".into(),
            "Trending now".into(),
            &trending,
            false,
        ));
    }
    Ok(ForProfile {
        rows,
        genre_affinity,
    })
}

/// The Top 10 row's name and titles: the viewer's country's chart when it has one this profile
/// may see, else everyone's. `pick` turns a chart into the titles shown.
pub(crate) fn top_ten(
    trained: &Trained,
    country: Option<&str>,
    pick: impl Fn(&[String]) -> Result<Vec<Title>, StoreError>,
) -> Result<(String, Vec<Title>), StoreError> {
    if let Some(code) = country
        && let Some(chart) = trained.top_today_in.get(code)
        && let Some(place) = crate::geo::display_name(code)
    {
        let titles = pick(chart)?;
        if !titles.is_empty() {
            return Ok((format!("Top 10 in {place} today"), titles));
        }
    }
    Ok(("Top 10 on Marquee today".into(), pick(&trained.top_today)?))
}

/// How much the profile likes each genre: the weights of the titles it likes, per genre.
pub(crate) fn affinity(tx: &impl Reads, taste: &Taste) -> Result<HashMap<String, f32>, StoreError> {
    let mut out: HashMap<String, f32> = HashMap::new();
    for (id, w) in &taste.weights {
        if let Some(t) = catalogue::title(tx, id)? {
            for g in &t.meta.genres {
                *out.entry(g.clone()).or_default() += w;
            }
        }
    }
    for id in &taste.disliked {
        if let Some(t) = catalogue::title(tx, id)? {
            for g in &t.meta.genres {
                *out.entry(g.clone()).or_default() -= 0.5;
            }
        }
    }
    Ok(out)
}
