//! Item-based k-nearest neighbours (Sarwar et al. 2001): cosine similarity of items' user
//! sets, shrunk towards zero for items seen together only a few times, the `k` closest kept.

use crate::{Interactions, Recommender};

pub struct ItemKnn {
    items: usize,
    /// Per item, its neighbours and their similarity.
    neighbours: Vec<Vec<(u32, f32)>>,
}

impl ItemKnn {
    pub fn fit(data: &Interactions, k: usize, shrink: f32) -> Self {
        let n = data.items();
        let mut co = vec![0f32; n * n];
        for row in data.rows() {
            for &(i, _) in row {
                for &(j, _) in row {
                    if i != j {
                        co[i as usize * n + j as usize] += 1.0;
                    }
                }
            }
        }
        let counts = data.item_counts();
        let neighbours = (0..n)
            .map(|i| {
                let mut sims: Vec<(u32, f32)> = (0..n)
                    .filter(|&j| j != i && co[i * n + j] > 0.0)
                    .map(|j| {
                        let norm = (counts[i] as f32 * counts[j] as f32).sqrt() + shrink;
                        (j as u32, co[i * n + j] / norm)
                    })
                    .collect();
                sims.sort_by(|a, b| b.1.total_cmp(&a.1));
                sims.truncate(k);
                sims
            })
            .collect();
        Self {
            items: n,
            neighbours,
        }
    }
}

impl Recommender for ItemKnn {
    fn items(&self) -> usize {
        self.items
    }

    fn scores(&self, history: &[(u32, f32)]) -> Vec<f32> {
        let mut out = vec![0f32; self.items];
        for &(i, w) in history {
            if let Some(ns) = self.neighbours.get(i as usize) {
                for &(j, s) in ns {
                    out[j as usize] += w * s;
                }
            }
        }
        out
    }
}
