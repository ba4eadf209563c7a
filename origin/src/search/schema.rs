//! The index's fields, its one analyzer, and how a [`SearchDoc`] becomes a tantivy document.

use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RAW_TOKENIZER_NAME, RemoveLongFilter, SimpleTokenizer,
    TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

use super::doc::SearchDoc;

/// Bumped whenever fields or their analysis change: an index of another version is rebuilt.
pub const VERSION: u32 = 1;

/// Name of the analyzer every text field and every query goes through.
const ANALYZER: &str = "marquee_folded";

/// Words longer than this are dropped: no name has them, and they would only cost automata.
pub const MAX_WORD: usize = 40;

/// Words split on anything not a letter or digit, lower-cased, accents folded (`Amélie` is
/// `amelie`), so viewers need not type accents or capitals.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD + 1))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The words of `text` as the index keeps them.
pub fn words(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// Facet roots: what a result list can be narrowed by and counted on.
pub mod facet {
    pub const GENRE: &str = "genre";
    pub const YEAR: &str = "year";
    pub const DECADE: &str = "decade";
    pub const LANGUAGE: &str = "language";
    pub const SUBTITLES: &str = "subtitles";
    pub const MATURITY: &str = "maturity";
    pub const LIKED: &str = "liked";
    pub const KIND: &str = "kind";
    pub const ALL: [&str; 8] = [
        GENRE, YEAR, DECADE, LANGUAGE, SUBTITLES, MATURITY, LIKED, KIND,
    ];
}

#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub name: Field,
    pub people: Field,
    pub synopsis: Field,
    pub episodes: Field,
    pub facets: Field,
    pub maturity: Field,
    pub year: Field,
    pub released: Field,
    pub rating_rank: Field,
    pub popularity: Field,
    pub name_sort: Field,
}

/// Fast field names, for collectors that read them by name.
pub const RELEASED: &str = "released";
pub const RATING_RANK: &str = "rating_rank";
pub const POPULARITY: &str = "popularity";
pub const NAME_SORT: &str = "name_sort";

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |positions: bool| {
        let option = if positions {
            IndexRecordOption::WithFreqsAndPositions
        } else {
            IndexRecordOption::WithFreqs
        };
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(option),
        )
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        name: b.add_text_field("name", text(true)),
        people: b.add_text_field("people", text(true)),
        synopsis: b.add_text_field("synopsis", text(false)),
        episodes: b.add_text_field("episodes", text(false)),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        maturity: b.add_u64_field("maturity", INDEXED | FAST),
        year: b.add_u64_field("year", INDEXED | FAST),
        released: b.add_u64_field(RELEASED, FAST),
        rating_rank: b.add_u64_field(RATING_RANK, FAST),
        popularity: b.add_u64_field(POPULARITY, FAST),
        name_sort: b.add_text_field(
            NAME_SORT,
            TextOptions::default().set_fast(RAW_TOKENIZER_NAME),
        ),
    };
    (b.build(), fields)
}

/// Makes `index` know the analyzer (tantivy does not keep it with the index).
pub fn register(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

/// A facet value under `root`.
pub fn facet(root: &str, value: &str) -> Facet {
    Facet::from_path([root, value])
}

/// The maturity level's rank, youngest 0.
pub fn maturity_rank(m: crate::policy::Maturity) -> u64 {
    crate::policy::Maturity::LEVELS
        .iter()
        .position(|l| *l == m)
        .unwrap_or(4) as u64
}

pub fn document(f: &Fields, d: &SearchDoc) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &d.id);
    doc.add_text(f.name, &d.name);
    for p in &d.people {
        doc.add_text(f.people, p);
    }
    doc.add_text(f.synopsis, &d.synopsis);
    for e in &d.episodes {
        doc.add_text(f.episodes, e);
    }
    let mut facets = vec![
        facet(facet::YEAR, &d.year.to_string()),
        facet(facet::DECADE, &(d.year / 10 * 10).to_string()),
        facet(facet::MATURITY, &d.maturity_rating),
        facet(facet::KIND, kind_name(d.kind)),
    ];
    let mut genres = d.genres.clone();
    genres.sort_unstable();
    genres.dedup();
    facets.extend(genres.iter().map(|g| facet(facet::GENRE, g)));
    facets.extend(d.languages.iter().map(|l| facet(facet::LANGUAGE, l)));
    facets.extend(d.subtitles.iter().map(|l| facet(facet::SUBTITLES, l)));
    facets.extend(
        d.liked_buckets()
            .map(|b| facet(facet::LIKED, &b.to_string())),
    );
    for f_ in facets {
        doc.add_facet(f.facets, f_);
    }
    doc.add_u64(f.maturity, maturity_rank(d.maturity));
    doc.add_u64(f.year, u64::from(d.year));
    doc.add_u64(f.released, d.released);
    doc.add_u64(f.rating_rank, d.rating_rank());
    doc.add_u64(f.popularity, d.ratings);
    doc.add_text(f.name_sort, words(&d.name).join(" "));
    doc
}

pub fn kind_name(kind: crate::catalogue::state::TitleKind) -> &'static str {
    match kind {
        crate::catalogue::state::TitleKind::Film => "film",
        crate::catalogue::state::TitleKind::Series => "series",
    }
}
