//! The item-item model: B minimises ‖X − XB‖² + regularisation with diag(B) = 0, in closed
//! form (Steck 2019, "Embarrassingly Shallow Autoencoders"): P = (XᵀX + Λ)⁻¹, B = I − P·D⁻¹
//! with D the diagonal of P. Λ = λI + p/(1−p)·diag(XᵀX) is what dropout of rate p on the input
//! amounts to (Steck 2020, "Autoencoders that don't overfit towards the identity"): popular
//! items are held back harder. Rows of X may be weighted by n_u^(−α/2), so a user who watched
//! everything does not dominate the co-occurrences.
//!
//! A user's scores are Σ w_i · B[i, :] over what they have: B is kept row-major, so that sum
//! reads whole contiguous rows. Memory: items² × 4 bytes (1,682 items: 11 MB; 4,000: 64 MB),
//! which is why Marquee fits it on the most-watched titles only.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

use crate::{Interactions, Recommender};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// L2 on every weight (λ).
    pub lambda: f64,
    /// Dropout rate whose implied penalty is added per item (0 = plain EASE).
    pub dropout: f64,
    /// Users' rows weighted by n_u^(−alpha/2) (0 = every interaction counts the same).
    pub user_alpha: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            lambda: 200.0,
            dropout: 0.0,
            user_alpha: 0.0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("the regularised Gram matrix is not positive definite (raise lambda)")]
    NotPositiveDefinite,
    #[error("dropout must be in [0, 1) and lambda positive")]
    BadParams,
}

pub struct Ease {
    items: usize,
    /// items × items, row-major: `b[i * items + j]` is how much having i says about j.
    b: Vec<f32>,
}

impl Ease {
    pub fn fit(data: &Interactions, params: Params) -> Result<Self, FitError> {
        if !(0.0..1.0).contains(&params.dropout) || params.lambda <= 0.0 {
            return Err(FitError::BadParams);
        }
        let n = data.items();
        let mut g = Mat::<f64>::zeros(n, n);
        for row in data.rows() {
            if row.is_empty() {
                continue;
            }
            let scale = (row.len() as f64).powf(-params.user_alpha / 2.0);
            for &(i, wi) in row {
                let wi = f64::from(wi) * scale;
                for &(j, wj) in row {
                    // Only the lower triangle is read by the factorisation.
                    if j >= i {
                        g[(j as usize, i as usize)] += wi * f64::from(wj) * scale;
                    }
                }
            }
        }
        let keep = params.dropout / (1.0 - params.dropout);
        for i in 0..n {
            let d = g[(i, i)];
            g[(i, i)] = d + params.lambda + keep * d;
        }
        let p = g
            .llt(Side::Lower)
            .map_err(|_| FitError::NotPositiveDefinite)?
            .inverse();
        let mut b = vec![0f32; n * n];
        for j in 0..n {
            let pjj = p[(j, j)];
            for i in 0..n {
                if i != j {
                    b[i * n + j] = (-p[(i, j)] / pjj) as f32;
                }
            }
        }
        Ok(Self { items: n, b })
    }

    /// The `k` items most like `item` (highest B[item, :]), best first, with their weight.
    pub fn similar(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let i = item as usize;
        if i >= self.items {
            return Vec::new();
        }
        let row = &self.b[i * self.items..(i + 1) * self.items];
        let mut all: Vec<(u32, f32)> = row
            .iter()
            .enumerate()
            .filter(|&(j, w)| j != i && *w > 0.0)
            .map(|(j, w)| (j as u32, *w))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.truncate(k);
        all
    }
}

impl Recommender for Ease {
    fn items(&self) -> usize {
        self.items
    }

    fn scores(&self, history: &[(u32, f32)]) -> Vec<f32> {
        let n = self.items;
        let mut out = vec![0f32; n];
        for &(i, w) in history {
            let i = i as usize;
            if i >= n {
                continue;
            }
            for (o, b) in out.iter_mut().zip(&self.b[i * n..(i + 1) * n]) {
                *o += w * b;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two groups of users: those who watch items 0–2 and those who watch 3–5.
    fn two_tastes() -> Interactions {
        let mut data = Interactions::new(40, 6);
        for u in 0..40u32 {
            let base = if u < 20 { 0 } else { 3 };
            for k in 0..3 {
                if (u + k) % 4 != 0 {
                    data.add(u, base + k, 1.0);
                }
            }
        }
        data
    }

    #[test]
    fn items_of_one_taste_recommend_each_other() {
        let model = Ease::fit(
            &two_tastes(),
            Params {
                lambda: 1.0,
                ..Params::default()
            },
        )
        .unwrap();
        let scores = model.scores(&[(0, 1.0)]);
        assert!(scores[1] > scores[4] && scores[2] > scores[5], "{scores:?}");
        assert_eq!(scores[0], 0.0, "an item says nothing about itself");
        let similar: Vec<u32> = model.similar(3, 2).into_iter().map(|(i, _)| i).collect();
        assert_eq!(similar.len(), 2);
        assert!(similar.iter().all(|i| (4..=5).contains(i)), "{similar:?}");
    }

    #[test]
    fn dropout_and_user_weights_keep_the_tastes_apart() {
        let params = Params {
            lambda: 1.0,
            dropout: 0.3,
            user_alpha: 1.0,
        };
        let model = Ease::fit(&two_tastes(), params).unwrap();
        let scores = model.scores(&[(4, 1.0)]);
        assert!(scores[3] > scores[0] && scores[5] > scores[2], "{scores:?}");
        assert!(matches!(
            Ease::fit(
                &two_tastes(),
                Params {
                    dropout: 1.0,
                    ..params
                }
            ),
            Err(FitError::BadParams)
        ));
    }
}
