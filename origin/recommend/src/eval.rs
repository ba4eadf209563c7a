//! Ranking quality: for each user, rank every item they have not seen, and see where the items
//! they went on to watch land.

use crate::Recommender;

/// The `k` best-scored items not in `seen`, best first (ties: lower index first).
pub fn top_k(scores: &[f32], seen: &[u32], k: usize) -> Vec<u32> {
    let mut mask = vec![false; scores.len()];
    for &i in seen {
        if let Some(m) = mask.get_mut(i as usize) {
            *m = true;
        }
    }
    let mut ranked: Vec<u32> = (0..scores.len() as u32)
        .filter(|&i| !mask[i as usize])
        .collect();
    let by_score = |a: &u32, b: &u32| {
        scores[*b as usize]
            .total_cmp(&scores[*a as usize])
            .then(a.cmp(b))
    };
    if ranked.len() > k {
        ranked.select_nth_unstable_by(k, by_score);
        ranked.truncate(k);
    }
    ranked.sort_by(by_score);
    ranked
}

/// hits / min(k, |relevant|).
pub fn recall(top: &[u32], relevant: &[u32]) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    let hits = top.iter().filter(|i| relevant.contains(i)).count();
    hits as f64 / top.len().min(relevant.len()).max(1) as f64
}

/// DCG of `top` over the ideal DCG of min(k, |relevant|) hits, binary gains.
pub fn ndcg(top: &[u32], relevant: &[u32]) -> f64 {
    let gain = |rank: usize| 1.0 / ((rank + 2) as f64).log2();
    let dcg: f64 = top
        .iter()
        .enumerate()
        .filter(|(_, i)| relevant.contains(i))
        .map(|(r, _)| gain(r))
        .sum();
    let ideal: f64 = (0..top.len().min(relevant.len())).map(gain).sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quality {
    pub recall: f64,
    pub ndcg: f64,
    /// Share of all items that appear in at least one user's top k.
    pub coverage: f64,
    /// Users judged (those with something to find).
    pub users: usize,
}

/// Mean Recall@k and NDCG@k over users with something relevant. `history[u]`: what the model
/// sees of user u (and what is not ranked); `relevant[u]`: what u went on to touch.
pub fn evaluate(
    model: &dyn Recommender,
    history: &[Vec<(u32, f32)>],
    relevant: &[Vec<u32>],
    k: usize,
) -> Quality {
    let mut q = Quality::default();
    let mut shown = vec![false; model.items()];
    for (h, rel) in history.iter().zip(relevant) {
        if rel.is_empty() {
            continue;
        }
        let seen: Vec<u32> = h.iter().map(|(i, _)| *i).collect();
        let top = top_k(&model.scores(h), &seen, k);
        for &i in &top {
            shown[i as usize] = true;
        }
        q.recall += recall(&top, rel);
        q.ndcg += ndcg(&top, rel);
        q.users += 1;
    }
    if q.users > 0 {
        q.recall /= q.users as f64;
        q.ndcg /= q.users as f64;
    }
    q.coverage = shown.iter().filter(|s| **s).count() as f64 / model.items().max(1) as f64;
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_their_definitions() {
        assert_eq!(top_k(&[0.1, 0.9, 0.5, 0.9], &[3], 2), [1, 2]);
        assert_eq!(recall(&[1, 2, 3], &[2, 9]), 0.5);
        assert_eq!(
            recall(&[1, 2, 3], &[2]),
            1.0,
            "hits over min(k, |relevant|)"
        );
        assert!((ndcg(&[5, 2], &[2]) - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(ndcg(&[2, 5], &[2]), 1.0);
        assert_eq!(ndcg(&[1], &[]), 0.0);
    }
}
