//! The trained state every node keeps in memory: the item-item model over the most-played
//! titles, and what is popular now (today's top 10, what is trending). Trained from the
//! replicated state alone, so every node trains the same model from the same state.

use std::collections::HashMap;

use marquee_recommend::Interactions;
use marquee_recommend::ease::{Ease, FitError, Params};

use super::signals::{self, Taste};
use crate::catalogue::state::{self as catalogue, TitleState};
use crate::raft::StoreError;
use crate::raft::tables::Reads;

/// The settings MovieLens 100K chose on validation (`--bin recommend-movielens`).
pub const PARAMS: Params = Params {
    lambda: 50.0,
    dropout: 0.7,
    user_alpha: 0.25,
};
/// Titles the model covers at most: B is this squared in floats (3,000: 36 MB).
pub const MAX_TITLES: usize = 3_000;
const DAY_MS: u64 = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("fitting: {0}")]
    Fit(#[from] FitError),
}

pub struct Trained {
    /// Model index → title id.
    pub titles: Vec<String>,
    pub index: HashMap<String, u32>,
    /// `None` until some title was played or rated by two profiles.
    pub model: Option<Ease>,
    /// Titles most profiles played in the last day, most first.
    pub top_today: Vec<String>,
    /// The same per country (ISO 3166-1 alpha-2) the plays came from.
    pub top_today_in: HashMap<String, Vec<String>>,
    /// Plays over the last week, each counted less the older it is, most first.
    pub trending: Vec<String>,
    /// Profiles and interactions it learnt from.
    pub profiles: usize,
    pub interactions: usize,
}

impl Trained {
    /// What `taste` says about every model title (indexes as in `titles`).
    pub fn scores(&self, taste: &Taste) -> Option<Vec<f32>> {
        let model = self.model.as_ref()?;
        let history: Vec<(u32, f32)> = taste
            .weights
            .iter()
            .filter_map(|(id, w)| Some((*self.index.get(id)?, *w)))
            .collect();
        (!history.is_empty()).then(|| marquee_recommend::Recommender::scores(model, &history))
    }

    /// The titles most like `title_id`, best first.
    pub fn similar(&self, title_id: &str, k: usize) -> Vec<String> {
        let (Some(model), Some(&i)) = (self.model.as_ref(), self.index.get(title_id)) else {
            return Vec::new();
        };
        model
            .similar(i, k)
            .into_iter()
            .map(|(j, _)| self.titles[j as usize].clone())
            .collect()
    }
}

/// Trains on the state `tx` reads, as of `now_ms` (for "today" and "trending"). Blocking:
/// seconds at a million interactions.
pub fn train(tx: &impl Reads, now_ms: u64) -> Result<Trained, TrainError> {
    let tastes = signals::all(tx)?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut today: HashMap<&str, usize> = HashMap::new();
    let mut trending: HashMap<&str, f64> = HashMap::new();
    // Today's plays by the country they came from: country → title → profiles.
    let mut today_in: HashMap<&str, HashMap<&str, f64>> = HashMap::new();
    for taste in tastes.values() {
        for (id, (at, country)) in &taste.played_in {
            if now_ms.saturating_sub(*at) < DAY_MS {
                *today_in.entry(country).or_default().entry(id).or_default() += 1.0;
            }
        }
        for id in taste.weights.keys() {
            *counts.entry(id).or_default() += 1;
        }
        for (id, at) in &taste.played {
            let age = now_ms.saturating_sub(*at);
            if age < DAY_MS {
                *today.entry(id).or_default() += 1;
            }
            if age < 7 * DAY_MS {
                // Half the weight every two days.
                *trending.entry(id).or_default() += 0.5f64.powf(age as f64 / (2 * DAY_MS) as f64);
            }
        }
    }
    let ready = |id: &str| -> Result<bool, StoreError> {
        Ok(catalogue::title(tx, id)?.is_some_and(|t| t.state == TitleState::Ready))
    };
    // The model's titles: the most interacted-with that are still playable.
    let mut by_count: Vec<(&str, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut titles = Vec::new();
    for (id, _) in by_count {
        if titles.len() == MAX_TITLES {
            break;
        }
        if ready(id)? {
            titles.push(id.to_owned());
        }
    }
    let index: HashMap<String, u32> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let mut profiles: Vec<&String> = tastes.keys().collect();
    profiles.sort();
    let mut data = Interactions::new(profiles.len(), titles.len());
    for (u, p) in profiles.iter().enumerate() {
        for (id, w) in &tastes[*p].weights {
            if let Some(&i) = index.get(id) {
                data.add(u as u32, i, *w);
            }
        }
    }
    let model = if titles.len() >= 2 && !data.is_empty() {
        Some(Ease::fit(&data, PARAMS)?)
    } else {
        None
    };
    let ranked = |m: HashMap<&str, f64>| -> Result<Vec<String>, StoreError> {
        let mut v: Vec<(&str, f64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut out = Vec::new();
        for (id, _) in v {
            if ready(id)? {
                out.push(id.to_owned());
            }
        }
        Ok(out)
    };
    let mut top_today_in = HashMap::new();
    for (country, titles) in today_in {
        top_today_in.insert(country.to_owned(), ranked(titles)?);
    }
    Ok(Trained {
        top_today_in,
        interactions: data.len(),
        profiles: profiles.len(),
        titles,
        index,
        model,
        top_today: ranked(today.into_iter().map(|(k, v)| (k, v as f64)).collect())?,
        trending: ranked(trending)?,
    })
}
