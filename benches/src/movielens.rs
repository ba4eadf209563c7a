//! MovieLens 100K under the protocol the recommender is judged by: every rating is one implicit
//! interaction; each user's interactions are ordered by `splitmix64((42 << 40) | (user << 20) |
//! item)` (raw 1-based ids, wrapping arithmetic, ties by item id); the first
//! `max(1, (2n+5) div 10)` are test, of the rest `max(1, (rest+5) div 10)` (when rest ≥ 2) are
//! validation, the others training.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// Where the ratings are, from the repository root (never copied into the repository).
pub const U_DATA: &str = "../shared/data/movielens/ml-100k/u.data";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Train,
    Validation,
    Test,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Validation => "validation",
            Part::Test => "test",
        }
    }
}

/// Raw (user, item) pairs, 1-based, each once.
pub fn read(path: &Path) -> std::io::Result<Vec<(u32, u32)>> {
    let text = std::fs::read_to_string(path)?;
    let mut pairs: Vec<(u32, u32)> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    Ok(pairs)
}

pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Each (user, item) with its part.
pub fn split(pairs: &[(u32, u32)]) -> Vec<(u32, u32, Part)> {
    let mut by_user: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &(u, i) in pairs {
        by_user.entry(u).or_default().push(i);
    }
    let mut out = Vec::with_capacity(pairs.len());
    for (u, mut items) in by_user {
        let key = |i: u32| splitmix64((42u64 << 40) | (u64::from(u) << 20) | u64::from(i));
        items.sort_by_key(|&i| (key(i), i));
        let n = items.len();
        let test = ((2 * n + 5) / 10).max(1);
        let rest = n - test.min(n);
        let validation = if rest >= 2 {
            ((rest + 5) / 10).max(1)
        } else {
            0
        };
        for (k, i) in items.into_iter().enumerate() {
            let part = if k < test {
                Part::Test
            } else if k < test + validation {
                Part::Validation
            } else {
                Part::Train
            };
            out.push((u, i, part));
        }
    }
    out.sort_unstable();
    out
}

/// SHA-256 of the lines `user\titem\tpart\n`, by user then item: two runs, or two
/// implementations, split the same way exactly when their digests agree.
pub fn digest(split: &[(u32, u32, Part)]) -> String {
    let mut text = String::with_capacity(split.len() * 16);
    for (u, i, p) in split {
        let _ = writeln!(text, "{u}\t{i}\t{}", p.name());
    }
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs of Vigna's splitmix64 seeded with 0 (state advanced before mixing).
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(0x9e37_79b9_7f4a_7c15), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn each_user_keeps_a_fifth_for_test_and_a_tenth_of_the_rest_for_validation() {
        let pairs: Vec<(u32, u32)> = (1..=20)
            .map(|i| (7, i))
            .chain([(8, 1), (9, 1), (9, 2)])
            .collect();
        let parts = split(&pairs);
        let count = |u: u32, p: Part| parts.iter().filter(|x| x.0 == u && x.2 == p).count();
        assert_eq!(
            (
                count(7, Part::Test),
                count(7, Part::Validation),
                count(7, Part::Train)
            ),
            (4, 2, 14)
        );
        assert_eq!(
            (
                count(8, Part::Test),
                count(8, Part::Validation),
                count(8, Part::Train)
            ),
            (1, 0, 0)
        );
        assert_eq!(
            (
                count(9, Part::Test),
                count(9, Part::Validation),
                count(9, Part::Train)
            ),
            (1, 0, 1)
        );
        assert_eq!(digest(&parts), digest(&split(&pairs)));
    }
}
