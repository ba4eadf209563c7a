//! Recommenders for implicit feedback: who watched, liked or listed what, as weights per
//! (user, item). Items and users are dense indexes (`u32`); callers map their ids.
//!
//! - [`ease::Ease`]: the item-item model Marquee serves. A linear autoencoder in closed form
//!   (Steck's EASE), with the regularisation that dropout implies (EDLAE: heavier on popular
//!   items) and optional down-weighting of heavy users; fitted by one Cholesky inverse.
//! - [`knn::ItemKnn`] and [`popular::MostPopular`]: the baselines it is measured beside.
//! - [`eval`]: Recall@k, NDCG@k and coverage, ranking every item a user has not seen.

pub mod ease;
pub mod eval;
pub mod interactions;
pub mod knn;
pub mod popular;

pub use interactions::Interactions;

/// A fitted model: a score for every item, given what one user has done (item, weight).
pub trait Recommender: Sync {
    fn items(&self) -> usize;
    /// Higher is better; items the user has are scored too (callers exclude them).
    fn scores(&self, history: &[(u32, f32)]) -> Vec<f32>;
}
