//! Search: 100 k titles (the real films of `../shared/data/catalog` with their summaries, plus
//! generated ones) and 1,000 queries mixing exact names, prefixes, typos and filters, run
//! through Marquee's search engine and through SQLite FTS5 on the same documents, alternating
//! per query, for a few rounds. Both in this process: the engines, not HTTP. Then typo
//! tolerance: 500 real titles with one or two typos, and whether each engine puts the intended
//! title in its top 5. Targets: p99 under 5 ms, and the intended title found ≥ 95 %.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use marquee_benches::catalog::{self, Film, Rng};
use marquee_benches::fts5::{Fts5, Query};
use marquee_benches::load::quantile;
use marquee_benches::report::median;
use marquee_origin::catalogue::facts::Facts;
use marquee_origin::catalogue::state::{Markers, Title, TitleKind, TitleMeta, TitleState};
use marquee_origin::policy::Maturity;
use marquee_origin::search::index::SearchIndex;
use marquee_origin::search::query::{self, Request, Sort};
use marquee_origin::search::schema::{self, facet};
use marquee_origin::search_fill;

#[derive(Debug, Parser)]
#[command(about = "Search latency and typo tolerance: Marquee's engine beside SQLite FTS5")]
struct Args {
    /// Titles in all (the real films, then generated ones).
    #[arg(long, default_value_t = 100_000)]
    titles: usize,
    #[arg(long, default_value_t = 1_000)]
    queries: usize,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Real titles searched with typos.
    #[arg(long, default_value_t = 500)]
    typo_titles: usize,
    /// The real films (JSON files of the wikipedia-movie-data set).
    #[arg(long, default_value = catalog::CATALOG_DIR)]
    catalog: PathBuf,
}

const TARGET_P99_MS: f64 = 5.0;
const TARGET_TOP5: f64 = 0.95;

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("search-vs-fts5: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn title(f: &Film) -> Title {
    Title {
        id: f.id.clone(),
        meta: TitleMeta {
            name: f.name.clone(),
            synopsis: f.synopsis.clone(),
            year: f.year,
            genres: f.genres.clone(),
            maturity_rating: f.rating.to_owned(),
            kind: TitleKind::Film,
            attribution: None,
            facts: Facts {
                original_language: Some(f.language.to_owned()),
                cast: f.cast.clone(),
                ..Facts::default()
            },
        },
        state: TitleState::Ready,
        duration_secs: Some(5_400.0),
        poster: None,
        job_id: None,
        package_dir: None,
        markers: Markers::default(),
        created_at: 1_700_000_000,
        premieres_at: None,
    }
}

fn request(q: &Query, page: usize) -> Request {
    let mut filters = BTreeMap::new();
    if let Some(g) = &q.genre {
        filters.insert(facet::GENRE, vec![g.clone()]);
    }
    if let Some(d) = q.decade {
        filters.insert(facet::DECADE, vec![d.to_string()]);
    }
    Request {
        words: schema::words(&q.text),
        filters,
        years: (None, None),
        sort: Sort::Relevance,
        limit: Maturity::Age18,
        offset: 0,
        page,
        deadline: Instant::now() + Duration::from_secs(5),
    }
}

/// The mix: a quarter each of exact names, prefixes (the last word cut short), names with a
/// typo, and a word with a genre and a decade filter.
fn queries(real: &[Film], n: usize, rng: &mut Rng) -> Vec<Query> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let f = rng.pick(real);
        let kind = ["exact", "prefix", "typo", "faceted"][out.len() % 4];
        let text = match kind {
            "exact" => f.name.clone(),
            "prefix" => {
                let mut words: Vec<String> = f.name.split(' ').map(str::to_owned).collect();
                let last = words.pop().unwrap_or_default();
                let keep = last.chars().count().div_ceil(2).max(1);
                words.push(last.chars().take(keep).collect());
                words.join(" ")
            }
            "typo" => match catalog::with_typos(&f.name, 1, rng) {
                Some(t) => t,
                None => continue,
            },
            _ => match f
                .name
                .split(' ')
                .filter(|w| w.len() > 3)
                .max_by_key(|w| w.len())
            {
                Some(w) => w.to_owned(),
                None => continue,
            },
        };
        let faceted = kind == "faceted";
        out.push(Query {
            text,
            genre: faceted.then(|| f.genres.first().cloned()).flatten(),
            decade: faceted.then_some(f.year / 10 * 10),
            kind,
        });
    }
    out
}

struct Round {
    marquee: Vec<f64>,
    fts5: Vec<f64>,
    /// (kind, Marquee ms, FTS5 ms) of each query.
    by_kind: Vec<(&'static str, f64, f64)>,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let real = catalog::real_films(&args.catalog).map_err(|e| {
        anyhow::anyhow!("cannot read the real films in {} ({e}); run from the repository root or pass --catalog", args.catalog.display())
    })?;
    let generated = catalog::generated(args.titles.saturating_sub(real.len()), &real, 42);
    let films: Vec<Film> = real.iter().chain(&generated).cloned().collect();
    println!(
        "catalogue: {} titles ({} real films, {} generated)",
        films.len(),
        real.len(),
        generated.len()
    );

    let work = tempfile::tempdir()?;
    let t = Instant::now();
    let titles: Vec<Title> = films.iter().map(title).collect();
    let index: SearchIndex = search_fill::index_of(
        &work.path().join("raft"),
        titles,
        Some(&work.path().join("search")),
        |_| {},
    )?;
    println!(
        "Marquee index built from the state in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let fts = Fts5::build(&films)?;
    println!("FTS5 table built in {:.1} s", t.elapsed().as_secs_f64());

    let mut rng = Rng::new(2026);
    let mix = queries(&real, args.queries, &mut rng);
    let mut rounds = Vec::new();
    let mut empty = BTreeMap::<&str, (usize, usize)>::new();
    for r in 0..args.rounds {
        let mut round = Round {
            marquee: Vec::new(),
            fts5: Vec::new(),
            by_kind: Vec::new(),
        };
        for (i, q) in mix.iter().enumerate() {
            let req = request(q, 20);
            // Alternate which engine goes first, so neither always meets a warm cache.
            let (mut m_ms, mut f_ms) = (0.0, 0.0);
            for engine in if (i + r) % 2 == 0 { [0, 1] } else { [1, 0] } {
                let t = Instant::now();
                if engine == 0 {
                    let found = query::run(&index, &req)?;
                    m_ms = ms(t);
                    round.marquee.push(m_ms);
                    if r == 0 && found.total == 0 {
                        empty.entry(q.kind).or_default().0 += 1;
                    }
                } else {
                    let found = fts.search(q)?;
                    f_ms = ms(t);
                    round.fts5.push(f_ms);
                    if r == 0 && found.total == 0 {
                        empty.entry(q.kind).or_default().1 += 1;
                    }
                }
            }
            round.by_kind.push((q.kind, m_ms, f_ms));
        }
        round.marquee.sort_by(f64::total_cmp);
        round.fts5.sort_by(f64::total_cmp);
        rounds.push(round);
    }

    println!();
    println!(
        "{} queries a round (exact, prefix, typo, faceted: a quarter each), {} rounds, ms:",
        mix.len(),
        rounds.len()
    );
    println!(
        "{:<8} {:>12} {:>12} {:>12} {:>12}",
        "round", "Marquee p50", "Marquee p99", "FTS5 p50", "FTS5 p99"
    );
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "{:<8} {:>12.3} {:>12.3} {:>12.3} {:>12.3}",
            i + 1,
            quantile(&r.marquee, 0.5),
            quantile(&r.marquee, 0.99),
            quantile(&r.fts5, 0.5),
            quantile(&r.fts5, 0.99)
        );
    }
    let med = |f: &dyn Fn(&Round) -> f64| {
        median(&rounds.iter().map(f).collect::<Vec<_>>()).unwrap_or(f64::NAN)
    };
    let spread = |f: &dyn Fn(&Round) -> f64| {
        let v: Vec<f64> = rounds.iter().map(f).collect();
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(0.0, f64::max),
        )
    };
    let (m50, m99) = (
        med(&|r| quantile(&r.marquee, 0.5)),
        med(&|r| quantile(&r.marquee, 0.99)),
    );
    let (f50, f99) = (
        med(&|r| quantile(&r.fts5, 0.5)),
        med(&|r| quantile(&r.fts5, 0.99)),
    );
    let (lo, hi) = spread(&|r| quantile(&r.marquee, 0.99));
    println!(
        "{:<8} {m50:>12.3} {m99:>12.3} {f50:>12.3} {f99:>12.3}",
        "median"
    );
    println!("Marquee p99 spread over rounds: {lo:.3}–{hi:.3} ms");
    println!(
        "ratio FTS5/Marquee: p50 {:.2}×, p99 {:.2}×",
        f50 / m50,
        f99 / m99
    );
    println!("queries with no match (Marquee / FTS5), by kind: {empty:?}");
    println!("by kind, all rounds (ms): kind, Marquee p50 / p99, FTS5 p50 / p99");
    for kind in ["exact", "prefix", "typo", "faceted"] {
        let mut m: Vec<f64> = rounds
            .iter()
            .flat_map(|r| &r.by_kind)
            .filter(|k| k.0 == kind)
            .map(|k| k.1)
            .collect();
        let mut f: Vec<f64> = rounds
            .iter()
            .flat_map(|r| &r.by_kind)
            .filter(|k| k.0 == kind)
            .map(|k| k.2)
            .collect();
        m.sort_by(f64::total_cmp);
        f.sort_by(f64::total_cmp);
        println!(
            "  {kind:<8} {:>8.3} / {:>8.3}   {:>8.3} / {:>8.3}",
            quantile(&m, 0.5),
            quantile(&m, 0.99),
            quantile(&f, 0.5),
            quantile(&f, 0.99)
        );
    }
    let mut slowest: Vec<(f64, &str)> = rounds[0]
        .by_kind
        .iter()
        .zip(&mix)
        .map(|(k, q)| (k.1, q.text.as_str()))
        .collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "slowest for Marquee (round 1): {:?}",
        &slowest[..5.min(slowest.len())]
    );

    // Typo tolerance on real names.
    let names: std::collections::HashMap<&str, &String> =
        real.iter().map(|f| (f.id.as_str(), &f.name)).collect();
    let mut rng = Rng::new(99);
    let mut tried = 0;
    let (mut marquee_top5, mut fts_top5) = (0, 0);
    let mut misses = Vec::new();
    while tried < args.typo_titles {
        let f = rng.pick(&real);
        let typos = 1 + tried % 2;
        let Some(text) = catalog::with_typos(&f.name, typos, &mut rng) else {
            continue;
        };
        tried += 1;
        let q = Query {
            text,
            genre: None,
            decade: None,
            kind: "typo",
        };
        // A film sharing the intended one's exact name cannot be told apart by any query.
        let same_name = |id: &String| names.get(id.as_str()).is_some_and(|n| **n == f.name);
        let found = query::run(&index, &request(&q, 5))?;
        if found.ids.iter().any(same_name) {
            marquee_top5 += 1;
        } else if misses.len() < 10 {
            misses.push(format!("{:?} for {:?}", q.text, f.name));
        }
        if fts.search(&q)?.ids.iter().take(5).any(same_name) {
            fts_top5 += 1;
        }
    }
    let share = |n: usize| n as f64 / tried.max(1) as f64;
    println!();
    println!(
        "typos ({tried} real titles, half with one typo, half with two): intended title in the top 5 — Marquee {:.1} %, FTS5 {:.1} %",
        share(marquee_top5) * 100.0,
        share(fts_top5) * 100.0
    );
    if !misses.is_empty() {
        println!("some Marquee misses: {}", misses.join("; "));
    }
    println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
    let ok = m99 < TARGET_P99_MS && share(marquee_top5) >= TARGET_TOP5;
    println!(
        "targets: p99 < {TARGET_P99_MS} ms ({}), top 5 ≥ {:.0} % ({})",
        if m99 < TARGET_P99_MS { "met" } else { "MISSED" },
        TARGET_TOP5 * 100.0,
        if share(marquee_top5) >= TARGET_TOP5 {
            "met"
        } else {
            "MISSED"
        }
    );
    anyhow::ensure!(ok, "a target was missed");
    Ok(())
}
