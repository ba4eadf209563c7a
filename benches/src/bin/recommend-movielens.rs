//! Offline quality of the recommender on MovieLens 100K (read from `../shared/data`, never
//! copied into the repository), under the protocol of `marquee_benches::movielens`: tune on
//! validation, refit on training + validation, rank every unseen item, Recall@10 and NDCG@10
//! on test, beside MostPopular, item-kNN and plain EASE computed in the same run. Targets:
//! NDCG@10 ≥ 0.4389 and Recall@10 ≥ 0.4151 (the EASE reference on this protocol), fit < 1 s;
//! stretch: 3 % more NDCG than the reference.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use marquee_benches::movielens::{self, Part};
use marquee_recommend::ease::{Ease, Params};
use marquee_recommend::eval::{Quality, evaluate};
use marquee_recommend::knn::ItemKnn;
use marquee_recommend::popular::MostPopular;
use marquee_recommend::{Interactions, Recommender};

#[derive(Debug, Parser)]
#[command(about = "Recommendation quality on MovieLens 100K beside MostPopular, item-kNN and EASE")]
struct Args {
    #[arg(long, default_value = movielens::U_DATA)]
    ratings: PathBuf,
}

const REFERENCE_NDCG: f64 = 0.4389;
const REFERENCE_RECALL: f64 = 0.4151;
const K: usize = 10;

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.ratings.exists() {
        println!(
            "skipped: MovieLens 100K is not at {} (it is never committed; see ../shared/data/SOURCES.md)",
            args.ratings.display()
        );
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("recommend-movielens: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Dense indexes for the raw ids, and the parts as per-user rows.
struct Data {
    users: usize,
    items: usize,
    train: Vec<Vec<(u32, f32)>>,
    validation: Vec<Vec<u32>>,
    test: Vec<Vec<u32>>,
}

impl Data {
    fn new(split: &[(u32, u32, Part)]) -> Self {
        let users = split.iter().map(|s| s.0).max().unwrap_or(0) as usize;
        let items = split.iter().map(|s| s.1).max().unwrap_or(0) as usize;
        let mut d = Data {
            users,
            items,
            train: vec![Vec::new(); users],
            validation: vec![Vec::new(); users],
            test: vec![Vec::new(); users],
        };
        for &(u, i, p) in split {
            let (u, i) = ((u - 1) as usize, i - 1);
            match p {
                Part::Train => d.train[u].push((i, 1.0)),
                Part::Validation => d.validation[u].push(i),
                Part::Test => d.test[u].push(i),
            }
        }
        d
    }

    fn interactions(&self, with_validation: bool) -> Interactions {
        let mut x = Interactions::new(self.users, self.items);
        for (u, row) in self.history(with_validation).iter().enumerate() {
            for &(i, w) in row {
                x.add(u as u32, i, w);
            }
        }
        x
    }

    fn history(&self, with_validation: bool) -> Vec<Vec<(u32, f32)>> {
        self.train
            .iter()
            .zip(&self.validation)
            .map(|(t, v)| {
                let mut h = t.clone();
                if with_validation {
                    h.extend(v.iter().map(|&i| (i, 1.0)));
                }
                h
            })
            .collect()
    }
}

struct Row {
    model: String,
    params: String,
    quality: Quality,
    fit_secs: f64,
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64())
}

fn run(args: &Args) -> anyhow::Result<bool> {
    let pairs = movielens::read(&args.ratings)?;
    let split = movielens::split(&pairs);
    let count = |p: Part| split.iter().filter(|s| s.2 == p).count();
    let (train, validation, test) = (
        count(Part::Train),
        count(Part::Validation),
        count(Part::Test),
    );
    println!(
        "MovieLens 100K: {} interactions; split train / validation / test = {train} / {validation} / {test}",
        pairs.len()
    );
    println!(
        "split digest (sha256 of user\\titem\\tpart lines): {}",
        movielens::digest(&split)
    );
    anyhow::ensure!(
        (train, validation, test) == (71_943, 8_057, 20_000),
        "the split does not match the protocol's sizes"
    );
    let data = Data::new(&split);
    let (fit_data, refit_data) = (data.interactions(false), data.interactions(true));
    let (val_history, test_history) = (data.history(false), data.history(true));
    let on_validation = |m: &dyn Recommender| evaluate(m, &val_history, &data.validation, K);
    let on_test = |m: &dyn Recommender| evaluate(m, &test_history, &data.test, K);

    let mut rows = Vec::new();
    let (popular, fit_secs) = timed(|| MostPopular::fit(&refit_data));
    rows.push(Row {
        model: "MostPopular".into(),
        params: "—".into(),
        quality: on_test(&popular),
        fit_secs,
    });

    // item-kNN: neighbourhood size and shrinkage chosen on validation.
    let mut best = (f64::MIN, 0, 0.0);
    for k in [20, 50, 100, 200, 400] {
        for shrink in [0.0, 10.0, 50.0] {
            let q = on_validation(&ItemKnn::fit(&fit_data, k, shrink));
            if q.ndcg > best.0 {
                best = (q.ndcg, k, shrink);
            }
        }
    }
    let (knn, fit_secs) = timed(|| ItemKnn::fit(&refit_data, best.1, best.2));
    rows.push(Row {
        model: "item-kNN".into(),
        params: format!("k={} shrink={}", best.1, best.2),
        quality: on_test(&knn),
        fit_secs,
    });

    // Plain EASE (λ chosen on validation): the reference's own method, reproduced here.
    let tune = |grid: &[Params]| -> anyhow::Result<Params> {
        let mut best = (f64::MIN, grid[0]);
        for &p in grid {
            let q = on_validation(&Ease::fit(&fit_data, p)?);
            if q.ndcg > best.0 {
                best = (q.ndcg, p);
            }
        }
        Ok(best.1)
    };
    let lambdas = [50.0, 100.0, 150.0, 200.0, 300.0, 500.0, 800.0];
    let plain: Vec<Params> = lambdas
        .iter()
        .map(|&lambda| Params {
            lambda,
            ..Params::default()
        })
        .collect();
    let ease_params = tune(&plain)?;
    let (ease, fit_secs) = timed(|| Ease::fit(&refit_data, ease_params));
    rows.push(Row {
        model: "EASE".into(),
        params: format!("λ={}", ease_params.lambda),
        quality: on_test(&ease?),
        fit_secs,
    });

    // Marquee's model: EASE with dropout's per-item penalty and heavy users weighted down.
    let mut grid = Vec::new();
    for &lambda in &[1.0, 10.0, 50.0, 100.0, 200.0, 400.0] {
        for &dropout in &[0.0, 0.2, 0.33, 0.5, 0.6, 0.7, 0.8] {
            for &user_alpha in &[0.0, 0.25, 0.5] {
                grid.push(Params {
                    lambda,
                    dropout,
                    user_alpha,
                });
            }
        }
    }
    let (chosen, tune_secs) = timed(|| tune(&grid));
    let chosen = chosen?;
    let (marquee, fit_secs) = timed(|| Ease::fit(&refit_data, chosen));
    let marquee_q = on_test(&marquee?);
    rows.push(Row {
        model: "Marquee (EASE + dropout penalty + user weights)".into(),
        params: format!(
            "λ={} p={} α={}",
            chosen.lambda, chosen.dropout, chosen.user_alpha
        ),
        quality: marquee_q,
        fit_secs,
    });

    println!();
    println!(
        "{:<50} {:<24} {:>10} {:>9} {:>9} {:>8}",
        "model", "chosen on validation", "Recall@10", "NDCG@10", "coverage", "fit s"
    );
    for r in &rows {
        println!(
            "{:<50} {:<24} {:>10.4} {:>9.4} {:>9.3} {:>8.3}",
            r.model, r.params, r.quality.recall, r.quality.ndcg, r.quality.coverage, r.fit_secs
        );
    }
    println!(
        "{:<50} {:<24} {:>10.4} {:>9.4}",
        "reference (EASE on this protocol)", "", REFERENCE_RECALL, REFERENCE_NDCG
    );
    println!(
        "users judged: {}; grid of {} settings tuned in {:.1} s",
        marquee_q.users,
        grid.len(),
        tune_secs
    );
    let gain = marquee_q.ndcg / REFERENCE_NDCG - 1.0;
    println!(
        "Marquee vs the reference: NDCG@10 {:+.1} %, Recall@10 {:+.1} %",
        gain * 100.0,
        (marquee_q.recall / REFERENCE_RECALL - 1.0) * 100.0
    );
    let fit = rows.last().map_or(f64::MAX, |r| r.fit_secs);
    let met = marquee_q.ndcg >= REFERENCE_NDCG && marquee_q.recall >= REFERENCE_RECALL && fit < 1.0;
    println!(
        "targets: NDCG ≥ {REFERENCE_NDCG} and Recall ≥ {REFERENCE_RECALL} and fit < 1 s: {}; stretch (+3 % NDCG): {}",
        if met { "met" } else { "MISSED" },
        if gain >= 0.03 { "met" } else { "not met" }
    );
    Ok(met)
}
