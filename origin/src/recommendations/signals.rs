//! What a profile's actions say about its taste, as one weight per title: a play counts by how
//! much of it was watched, a thumb up or a love more, a title put on My List a little; a thumb
//! down rules the title out whatever else happened.

use std::collections::{HashMap, HashSet};

use crate::history::state::{self as history, Progress};
use crate::mylist;
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use crate::ratings::state::{self as ratings, Thumb};

/// A play: this much, plus as much again for watching it all.
const PLAYED: f32 = 0.5;
const UP: f32 = 1.0;
const LOVE: f32 = 1.5;
const LISTED: f32 = 0.7;

/// One profile's taste.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Taste {
    /// Title id → how much the profile likes it (positive).
    pub weights: HashMap<String, f32>,
    /// Titles given a thumb down: never recommended, and not counted as liked.
    pub disliked: HashSet<String>,
    /// Titles played, most recent first, with when (ms).
    pub played: Vec<(String, u64)>,
    /// Titles played from a known country: title id → when and where its latest such play was.
    pub played_in: HashMap<String, (u64, String)>,
}

impl Taste {
    fn play(&mut self, p: &Progress) {
        let done = if p.finished {
            1.0
        } else if p.duration_secs > 0.0 {
            (p.position_secs / p.duration_secs).clamp(0.0, 1.0) as f32
        } else {
            0.0
        };
        let w = PLAYED * (1.0 + done);
        let e = self.weights.entry(p.title_id.clone()).or_insert(0.0);
        // A series' episodes: the best-watched one speaks for it.
        *e = e.max(w);
        if let Some(country) = &p.country {
            let last = self.played_in.entry(p.title_id.clone()).or_default();
            if p.updated_at_ms >= last.0 {
                *last = (p.updated_at_ms, country.clone());
            }
        }
        match self.played.iter_mut().find(|(t, _)| *t == p.title_id) {
            Some((_, at)) => *at = (*at).max(p.updated_at_ms),
            None => self.played.push((p.title_id.clone(), p.updated_at_ms)),
        }
    }

    fn thumb(&mut self, title_id: &str, thumb: Thumb) {
        let add = match thumb {
            Thumb::Down => {
                self.disliked.insert(title_id.to_owned());
                return;
            }
            Thumb::Up => UP,
            Thumb::Love => LOVE,
        };
        *self.weights.entry(title_id.to_owned()).or_insert(0.0) += add;
    }

    fn listed(&mut self, title_id: &str) {
        *self.weights.entry(title_id.to_owned()).or_insert(0.0) += LISTED;
    }

    /// Disliked titles leave the weights; plays are ordered most recent first.
    fn settle(mut self) -> Self {
        for d in &self.disliked {
            self.weights.remove(d);
        }
        self.played
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self
    }

    /// Everything the profile has touched (not to be recommended back to it).
    pub fn seen(&self) -> impl Iterator<Item = &String> {
        self.weights.keys().chain(&self.disliked)
    }
}

/// One profile's taste, read now (a new profile's onboarding picks count at once).
pub fn of_profile(tx: &impl Reads, profile_id: &str) -> Result<Taste, StoreError> {
    let mut taste = Taste::default();
    for p in history::progress_of_profile(tx, profile_id)? {
        taste.play(&p);
    }
    for (title_id, r) in ratings::of_profile(tx, profile_id)? {
        taste.thumb(&title_id, r.thumb);
    }
    for title_id in mylist::state::titles(tx, profile_id)? {
        taste.listed(&title_id);
    }
    Ok(taste.settle())
}

/// Every profile's taste, for training.
pub fn all(tx: &impl Reads) -> Result<HashMap<String, Taste>, StoreError> {
    let mut all: HashMap<String, Taste> = HashMap::new();
    history::each_progress(tx, |profile, p| {
        all.entry(profile.to_owned()).or_default().play(p)
    })?;
    ratings::each_rating(tx, |profile, title, thumb| {
        all.entry(profile.to_owned())
            .or_default()
            .thumb(title, thumb);
    })?;
    mylist::state::each_listed(tx, |profile, title| {
        all.entry(profile.to_owned()).or_default().listed(title);
    })?;
    Ok(all.into_iter().map(|(p, t)| (p, t.settle())).collect())
}
