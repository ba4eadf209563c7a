//! The search benchmark's catalogue: the real films of `../shared/data/catalog` (name, year,
//! genres, cast, Wikipedia summary) plus generated titles up to the size asked, and the
//! queries and typos run against it. Deterministic: the same seed gives the same catalogue.

use std::path::Path;

use serde::Deserialize;

/// Where the real films are, from the repository root.
pub const CATALOG_DIR: &str = "../shared/data/catalog/wikipedia-movie-data";

#[derive(Debug, Clone, PartialEq)]
pub struct Film {
    pub id: String,
    pub name: String,
    pub year: u16,
    pub genres: Vec<String>,
    pub cast: Vec<String>,
    pub synopsis: String,
    pub language: &'static str,
    pub rating: &'static str,
    /// One of the real films (not generated).
    pub real: bool,
}

#[derive(Deserialize)]
struct Raw {
    title: String,
    year: u16,
    #[serde(default)]
    cast: Vec<String>,
    #[serde(default)]
    genres: Vec<String>,
    #[serde(default)]
    extract: String,
}

/// splitmix64: the benchmark's only randomness.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const RATINGS: [&str; 6] = ["G", "PG", "PG-13", "R", "TV-14", "TV-MA"];
const LANGUAGES: [&str; 8] = ["en", "fr", "es", "de", "ja", "ko", "it", "hi"];
const GENRES: [&str; 14] = [
    "Drama",
    "Comedy",
    "Thriller",
    "Documentary",
    "Animation",
    "Science Fiction",
    "Romance",
    "Crime",
    "Family",
    "Horror",
    "Fantasy",
    "Musical",
    "War",
    "Western",
];
const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ran", "tes", "vor", "en", "dal", "shi", "pe", "qua", "ri", "nor", "sel",
    "bra", "to", "li", "gan", "ver", "mo", "stra", "ce", "dun", "wy",
];

/// The real films, in file order, with ids `r<n>`; maturity and language made up (the source
/// has neither), deterministically.
pub fn real_films(dir: &Path) -> anyhow::Result<Vec<Film>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    let mut rng = Rng::new(7);
    for file in files {
        let raw: Vec<Raw> = serde_json::from_slice(&std::fs::read(&file)?)?;
        for r in raw {
            let n = out.len();
            let language = if rng.below(10) < 8 {
                "en"
            } else {
                *rng.pick(&LANGUAGES)
            };
            out.push(Film {
                id: format!("r{n}"),
                name: r.title,
                year: r.year,
                genres: r.genres.into_iter().take(10).collect(),
                cast: r.cast.into_iter().take(20).collect(),
                synopsis: r.extract,
                language,
                rating: RATINGS[rng.below(RATINGS.len())],
                real: true,
            });
        }
    }
    Ok(out)
}

/// A made-up word of 2–4 syllables.
fn word(rng: &mut Rng) -> String {
    let n = 2 + rng.below(3);
    (0..n).map(|_| *rng.pick(&SYLLABLES)).collect()
}

fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `n` generated titles with ids `g<n>`: names of made-up words, synopses mixing made-up words
/// with the real films' vocabulary (so common words match many titles), made-up people.
pub fn generated(n: usize, real: &[Film], seed: u64) -> Vec<Film> {
    let mut rng = Rng::new(seed);
    let vocabulary: Vec<&str> = real
        .iter()
        .take(2_000)
        .flat_map(|f| f.synopsis.split_whitespace())
        .filter(|w| w.len() > 3 && w.chars().all(char::is_alphabetic))
        .collect();
    (0..n)
        .map(|i| {
            let words = 1 + rng.below(4);
            let name = (0..words)
                .map(|_| capitalised(&word(&mut rng)))
                .collect::<Vec<_>>()
                .join(" ");
            let synopsis = (0..40)
                .map(|k| {
                    if k % 3 == 0 || vocabulary.is_empty() {
                        word(&mut rng)
                    } else {
                        (*rng.pick(&vocabulary)).to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            let cast = (0..4)
                .map(|_| {
                    format!(
                        "{} {}",
                        capitalised(&word(&mut rng)),
                        capitalised(&word(&mut rng))
                    )
                })
                .collect();
            let genres = vec![
                (*rng.pick(&GENRES)).to_owned(),
                (*rng.pick(&GENRES)).to_owned(),
            ];
            Film {
                id: format!("g{i}"),
                name,
                year: 1950 + rng.below(76) as u16,
                genres,
                cast,
                synopsis,
                language: LANGUAGES[rng.below(LANGUAGES.len())],
                rating: RATINGS[rng.below(RATINGS.len())],
                real: false,
            }
        })
        .collect()
}

/// `text` with `typos` typos in its words of 5 letters or more (a letter changed, dropped,
/// doubled or two swapped), each in a different word when it can; `None` when no word is long
/// enough. Two typos go in one word of 9 letters or more when there is one, as a searcher
/// allowing two per long word expects.
pub fn with_typos(text: &str, typos: usize, rng: &mut Rng) -> Option<String> {
    let mut words: Vec<Vec<char>> = text.split(' ').map(|w| w.chars().collect()).collect();
    let long = |w: &Vec<char>, min: usize| w.iter().filter(|c| c.is_alphabetic()).count() >= min;
    let mut targets: Vec<usize> = (0..words.len()).filter(|&i| long(&words[i], 5)).collect();
    if targets.is_empty() {
        return None;
    }
    if typos == 2 {
        if let Some(i) = (0..words.len()).find(|&i| long(&words[i], 9)) {
            targets = vec![i, i];
        } else if targets.len() < 2 {
            return None;
        }
    }
    for t in 0..typos {
        let i = targets[t % targets.len()];
        typo(&mut words[i], rng);
    }
    Some(
        words
            .into_iter()
            .map(|w| w.into_iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn typo(w: &mut Vec<char>, rng: &mut Rng) {
    // Not the first letter: people rarely get it wrong, and neither engine forgives it less.
    let at = 1 + rng.below(w.len().saturating_sub(2).max(1));
    let at = at.min(w.len() - 1);
    match rng.below(4) {
        0 => w[at] = if w[at] == 'e' { 'a' } else { 'e' },
        1 => {
            w.remove(at);
        }
        2 => w.insert(at, w[at]),
        _ if at + 1 < w.len() => w.swap(at, at + 1),
        _ => w.swap(at - 1, at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_change_long_words_only_and_are_repeatable() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        let one = with_typos("The Shawshank Redemption", 1, &mut a).unwrap();
        assert_eq!(
            one,
            with_typos("The Shawshank Redemption", 1, &mut b).unwrap()
        );
        assert_ne!(one, "The Shawshank Redemption");
        assert!(
            one.starts_with("The "),
            "three letters are never changed: {one}"
        );
        assert_eq!(with_typos("Up", 1, &mut a), None);
        let two = with_typos("Extraordinary", 2, &mut a).unwrap();
        assert_ne!(two, "Extraordinary");
    }

    #[test]
    fn generated_titles_are_deterministic_and_varied() {
        let a = generated(50, &[], 3);
        assert_eq!(a, generated(50, &[], 3));
        let names: std::collections::HashSet<_> = a.iter().map(|f| &f.name).collect();
        assert!(names.len() > 45);
    }
}
