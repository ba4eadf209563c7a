//! One search, from a checked request to the ids of a page of titles and the facet counts.
//!
//! Matching follows Meilisearch's rules for people typing in a box: every word must match (if
//! none match that way, any may), the last word also matches as a prefix, and a word of 5
//! letters or more may have one typo, of 9 or more two. Each word scores by where and how well
//! it matched (a name beats cast and crew, which beat episodes and the synopsis; an exact word
//! beats a prefix, which beats a typo), so ranking does not depend on word frequencies.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tantivy::collector::{Collector, Count, FacetCollector, FacetCounts, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery,
    Occur, PhraseQuery, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Order, Score, SegmentReader, TantivyDocument, Term};

use super::deadline::Deadline;
use super::index::{SearchError, SearchIndex};
use super::schema::{self, Fields, facet};
use crate::policy::Maturity;

/// How the results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (for a browse without words: most rated first).
    Relevance,
    /// Latest release first.
    Newest,
    /// Best liked first.
    Rating,
    /// By name.
    Az,
}

/// A checked search.
#[derive(Debug, Clone)]
pub struct Request {
    /// The words typed, as the index keeps them; empty to browse by filters alone.
    pub words: Vec<String>,
    /// Facet root → the values any of which a title must have.
    pub filters: BTreeMap<&'static str, Vec<String>>,
    /// Release years, inclusive.
    pub years: (Option<u16>, Option<u16>),
    pub sort: Sort,
    /// The browsing profile's maturity limit: nothing above it is matched or counted.
    pub limit: Maturity,
    pub offset: usize,
    pub page: usize,
    /// When to stop collecting and answer with what was found.
    pub deadline: Instant,
}

/// What a search found.
#[derive(Debug, Default)]
pub struct Found {
    pub ids: Vec<String>,
    pub total: usize,
    /// Facet root → (value, count) of every value among the matches (for a filtered facet,
    /// among the matches of the other filters, so its other values stay choosable).
    pub facets: BTreeMap<&'static str, Vec<(String, u64)>>,
    pub partial: bool,
}

/// Field weights: where a word matched.
const NAME: Score = 8.0;
const PEOPLE: Score = 3.0;
const EPISODES: Score = 1.5;
const SYNOPSIS: Score = 1.0;
/// How well it matched.
const EXACT: Score = 1.0;
const PREFIX: Score = 0.7;
const ONE_TYPO: Score = 0.4;
const TWO_TYPOS: Score = 0.25;
/// Extra for the words in the name in the order typed.
const NAME_PHRASE: Score = 4.0;

/// Typos allowed in a word of `len` letters (Meilisearch's defaults).
pub fn typos_allowed(len: usize) -> u8 {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

pub fn run(index: &SearchIndex, req: &Request) -> Result<Found, SearchError> {
    let f = index.fields;
    let searcher = index.searcher();
    let passed = Arc::new(AtomicBool::new(false));
    let mut found = Found::default();
    for all_words in [true, false] {
        let query = build(&f, req, all_words, None);
        let mut counts = FacetCollector::for_field("facets");
        for root in facet::ALL {
            counts.add_facet(Facet::from_path([root]));
        }
        let top = TopDocs::with_limit(req.page.max(1)).and_offset(req.offset);
        let searched = Searched {
            searcher: &searcher,
            query: &*query,
            req,
            passed: &passed,
        };
        let (addrs, total, facet_counts) = match req.sort {
            Sort::Relevance => searched.run(top.tweak_score(relevance), counts)?,
            Sort::Newest => searched.run(
                top.order_by_u64_field(schema::RELEASED, Order::Desc),
                counts,
            )?,
            Sort::Rating => searched.run(
                top.order_by_u64_field(schema::RATING_RANK, Order::Desc),
                counts,
            )?,
            Sort::Az => searched.run(
                top.order_by_string_fast_field(schema::NAME_SORT, Order::Asc),
                counts,
            )?,
        };
        found.total = total;
        for root in facet::ALL {
            found.facets.insert(root, values(&facet_counts, root));
        }
        found.ids = Vec::with_capacity(addrs.len());
        for addr in addrs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = doc.get_first(f.id).and_then(|v| v.as_str()) {
                found.ids.push(id.to_owned());
            }
        }
        // Every word had to match; when nothing did, let any word match.
        if total > 0 || req.words.len() < 2 {
            break;
        }
    }
    // A filtered facet counts its values as if it were not filtered, so a viewer can switch.
    for root in req.filters.keys().copied() {
        let query = build(&f, req, found.total > 0 || req.words.len() < 2, Some(root));
        let mut counts = FacetCollector::for_field("facets");
        counts.add_facet(Facet::from_path([root]));
        let fc = searcher.search(&*query, &Deadline::new(counts, req.deadline, &passed))?;
        found.facets.insert(root, values(&fc, root));
    }
    found.partial = passed.load(Ordering::Relaxed);
    Ok(found)
}

/// One query run within the request's deadline.
struct Searched<'a> {
    searcher: &'a tantivy::Searcher,
    query: &'a dyn Query,
    req: &'a Request,
    passed: &'a Arc<AtomicBool>,
}

impl Searched<'_> {
    /// The page `top` orders (whatever its sort key), the total and the facet counts, in one pass.
    fn run<K: 'static + Send + Sync>(
        &self,
        top: impl Collector<Fruit = Vec<(K, DocAddress)>>,
        counts: FacetCollector,
    ) -> tantivy::Result<(Vec<DocAddress>, usize, FacetCounts)> {
        let c = Deadline::new((top, Count, counts), self.req.deadline, self.passed);
        let (hits, total, facets) = self.searcher.search(self.query, &c)?;
        Ok((hits.into_iter().map(|(_, a)| a).collect(), total, facets))
    }
}

/// Best match first; among equals, the most rated, then the latest released.
fn relevance(seg: &SegmentReader) -> impl Fn(DocId, Score) -> (Score, u64, u64) + use<> {
    let column = |name| {
        seg.fast_fields()
            .u64(name)
            .map(|c| c.first_or_default_col(0))
            .ok()
    };
    let (popularity, released) = (column(schema::POPULARITY), column(schema::RELEASED));
    move |doc, score| {
        let get = |c: &Option<Arc<dyn tantivy::columnar::ColumnValues<u64>>>| {
            c.as_ref().map_or(0, |c| c.get_val(doc))
        };
        (score, get(&popularity), get(&released))
    }
}

/// The values counted under `root`, most first (ties by value).
fn values(counts: &FacetCounts, root: &str) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = counts
        .get(Facet::from_path([root]))
        .filter_map(|(f, n)| Some((f.to_path().last()?.to_string(), n)))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// The whole query: the words (all of them, or any), the filters but `except`'s, the limit.
fn build(f: &Fields, req: &Request, all_words: bool, except: Option<&str>) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if req.words.is_empty() {
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0)),
        ));
    } else {
        let last = req.words.len() - 1;
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, w) in req.words.iter().enumerate() {
            let occur = if all_words {
                Occur::Must
            } else {
                Occur::Should
            };
            words.push((occur, word(f, w, i == last, last == 0)));
        }
        if req.words.len() >= 2 {
            let terms = req
                .words
                .iter()
                .map(|w| Term::from_field_text(f.name, w))
                .collect();
            let phrase = ConstScoreQuery::new(Box::new(PhraseQuery::new(terms)), NAME_PHRASE);
            words.push((Occur::Should, Box::new(phrase)));
        }
        let words = if all_words {
            BooleanQuery::new(words)
        } else {
            BooleanQuery::with_minimum_required_clauses(words, 1)
        };
        clauses.push((Occur::Must, Box::new(words)));
    }
    for (root, wanted) in &req.filters {
        if Some(*root) == except {
            continue;
        }
        let terms = wanted
            .iter()
            .map(|v| Term::from_facet(f.facets, &schema::facet(root, v)));
        clauses.push((Occur::Must, zero(TermSetQuery::new(terms))));
    }
    if req.years != (None, None) {
        let bound = |y: Option<u16>| {
            y.map_or(Bound::Unbounded, |y| {
                Bound::Included(Term::from_field_u64(f.year, y.into()))
            })
        };
        let (from, to) = req.years;
        let (from, to) = match (from, to) {
            (None, to) => (Bound::Included(Term::from_field_u64(f.year, 0)), bound(to)),
            (from, to) => (bound(from), bound(to)),
        };
        clauses.push((Occur::Must, zero(RangeQuery::new(from, to))));
    }
    if req.limit < Maturity::Age18 {
        let most = schema::maturity_rank(req.limit);
        let range = RangeQuery::new(
            Bound::Included(Term::from_field_u64(f.maturity, 0)),
            Bound::Included(Term::from_field_u64(f.maturity, most)),
        );
        clauses.push((Occur::Must, zero(range)));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// A filter: matches or not, adds nothing to the score.
fn zero(q: impl Query) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(Box::new(q), 0.0))
}

/// How a field may match a typed word beyond exactly.
struct FieldRule {
    weight: Score,
    /// The last word as a prefix.
    prefix: bool,
    /// With typos.
    typos: bool,
    /// The last word as a prefix with typos: the widest match of all, kept to names.
    typo_prefix: bool,
}

const NAME_RULE: FieldRule = FieldRule {
    weight: NAME,
    prefix: true,
    typos: true,
    typo_prefix: true,
};
const PEOPLE_RULE: FieldRule = FieldRule {
    weight: PEOPLE,
    prefix: true,
    typos: true,
    typo_prefix: false,
};
/// Long text matches exact words only: typos and prefixes over every synopsis word would cost
/// far more than they find (the name and the people are what viewers misspell).
const TEXT_RULE: FieldRule = FieldRule {
    weight: SYNOPSIS,
    prefix: false,
    typos: false,
    typo_prefix: false,
};
const EPISODES_RULE: FieldRule = FieldRule {
    weight: EPISODES,
    ..TEXT_RULE
};

/// One typed word: its best match over the fields and the ways each may match. `last`: the
/// word being typed (a prefix); `alone`: the only word.
fn word(f: &Fields, w: &str, last: bool, alone: bool) -> Box<dyn Query> {
    let len = w.chars().count();
    let typos = typos_allowed(len);
    // One letter after others ("Jones's" is "jones s") would match half the index as a prefix.
    let as_prefix = last && (len >= 2 || alone);
    // Two letters are a prefix of too many people's names to be worth it there.
    let people_prefix = last && len >= 3;
    let mut ways: Vec<Box<dyn Query>> = Vec::new();
    let rules = [
        (f.name, NAME_RULE),
        (f.people, PEOPLE_RULE),
        (f.episodes, EPISODES_RULE),
        (f.synopsis, TEXT_RULE),
    ];
    for (field, rule) in rules {
        let term = Term::from_field_text(field, w);
        let exact = TermQuery::new(term.clone(), IndexRecordOption::Basic);
        ways.push(Box::new(ConstScoreQuery::new(
            Box::new(exact),
            rule.weight * EXACT,
        )));
        let prefix_here = if field == f.people {
            people_prefix
        } else {
            as_prefix
        };
        if prefix_here && rule.prefix {
            let prefix = FuzzyTermQuery::new_prefix(term.clone(), 0, true);
            ways.push(Box::new(BoostQuery::new(
                Box::new(prefix),
                rule.weight * PREFIX,
            )));
        }
        if !rule.typos {
            continue;
        }
        for (distance, quality) in [(1, ONE_TYPO), (2, TWO_TYPOS)] {
            if distance > typos {
                break;
            }
            let fuzzy = if as_prefix && rule.typo_prefix {
                FuzzyTermQuery::new_prefix(term.clone(), distance, true)
            } else {
                FuzzyTermQuery::new(term.clone(), distance, true)
            };
            ways.push(Box::new(BoostQuery::new(
                Box::new(fuzzy),
                rule.weight * quality,
            )));
        }
    }
    Box::new(DisjunctionMaxQuery::new(ways))
}
