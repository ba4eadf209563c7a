//! The simplest baseline: everyone gets the items most users touched.

use crate::{Interactions, Recommender};

pub struct MostPopular {
    counts: Vec<f32>,
}

impl MostPopular {
    pub fn fit(data: &Interactions) -> Self {
        Self {
            counts: data.item_counts().into_iter().map(|c| c as f32).collect(),
        }
    }
}

impl Recommender for MostPopular {
    fn items(&self) -> usize {
        self.counts.len()
    }

    fn scores(&self, _history: &[(u32, f32)]) -> Vec<f32> {
        self.counts.clone()
    }
}
