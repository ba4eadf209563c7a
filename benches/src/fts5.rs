//! The peer for search: SQLite FTS5 over the same documents, as a team would use it — name,
//! people and synopsis columns ranked by bm25 with the same column weights as Marquee, the last
//! word as a prefix, filters and facet counts (genre, decade, language) through ordinary tables
//! joined on rowid. FTS5 has no typo tolerance; that is part of what is measured.

use rusqlite::{Connection, params_from_iter};

use crate::catalog::Film;

/// One search as both engines get it.
#[derive(Debug, Clone)]
pub struct Query {
    pub text: String,
    pub genre: Option<String>,
    pub decade: Option<u16>,
    /// exact, prefix, typo or faceted.
    pub kind: &'static str,
}

pub struct Fts5 {
    conn: Connection,
}

/// What one FTS5 search found.
#[derive(Debug, Default)]
pub struct Found {
    pub ids: Vec<String>,
    pub total: u64,
    pub facets: usize,
}

impl Fts5 {
    /// An in-memory database of `films`.
    pub fn build(films: &[Film]) -> rusqlite::Result<Self> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE VIRTUAL TABLE fts USING fts5(name, people, synopsis,
                 tokenize = 'unicode61 remove_diacritics 2');
             CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT, decade INTEGER, language TEXT);
             CREATE TABLE doc_genres(rowid INTEGER, genre TEXT);",
        )?;
        {
            let tx = conn.unchecked_transaction()?;
            let mut fts =
                tx.prepare("INSERT INTO fts(rowid, name, people, synopsis) VALUES (?, ?, ?, ?)")?;
            let mut docs = tx.prepare("INSERT INTO docs VALUES (?, ?, ?, ?)")?;
            let mut genres = tx.prepare("INSERT INTO doc_genres VALUES (?, ?)")?;
            for (n, f) in films.iter().enumerate() {
                let rowid = n as i64 + 1;
                fts.execute(rusqlite::params![
                    rowid,
                    f.name,
                    f.cast.join(", "),
                    f.synopsis
                ])?;
                docs.execute(rusqlite::params![
                    rowid,
                    f.id,
                    (f.year / 10 * 10) as i64,
                    f.language
                ])?;
                for g in &f.genres {
                    genres.execute(rusqlite::params![rowid, g])?;
                }
            }
            drop((fts, docs, genres));
            tx.commit()?;
        }
        conn.execute_batch(
            "CREATE INDEX doc_genres_by_rowid ON doc_genres(rowid, genre);
             INSERT INTO fts(fts) VALUES ('optimize');",
        )?;
        Ok(Self { conn })
    }

    /// The top 20 by bm25, how many match, and the genre, decade and language counts.
    pub fn search(&self, q: &Query) -> rusqlite::Result<Found> {
        let words: Vec<String> = q
            .text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return Ok(Found::default());
        }
        let last = words.len() - 1;
        let expr = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == last {
                    format!("\"{w}\"*")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let mut args: Vec<rusqlite::types::Value> = vec![expr.into()];
        let mut from = String::from("fts JOIN docs d ON d.rowid = fts.rowid");
        if let Some(g) = &q.genre {
            from.push_str(" JOIN doc_genres fg ON fg.rowid = fts.rowid AND fg.genre = ?2");
            args.push(g.clone().into());
        }
        let mut filter = String::from("fts MATCH ?1");
        if let Some(d) = q.decade {
            filter.push_str(&format!(" AND d.decade = ?{}", args.len() + 1));
            args.push(i64::from(d).into());
        }
        let hits = format!(
            "SELECT d.id FROM {from} WHERE {filter} ORDER BY bm25(fts, 8.0, 3.0, 1.0) LIMIT 20"
        );
        let mut found = Found::default();
        let mut stmt = self.conn.prepare_cached(&hits)?;
        let ids = stmt.query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0))?;
        found.ids = ids.collect::<rusqlite::Result<_>>()?;
        let count = format!("SELECT count(*) FROM {from} WHERE {filter}");
        found.total = self
            .conn
            .prepare_cached(&count)?
            .query_row(params_from_iter(args.iter()), |r| r.get::<_, i64>(0))?
            as u64;
        for facet in [
            format!(
                "SELECT g.genre, count(*) FROM {from} JOIN doc_genres g ON g.rowid = fts.rowid WHERE {filter} GROUP BY g.genre"
            ),
            format!("SELECT d.decade, count(*) FROM {from} WHERE {filter} GROUP BY d.decade"),
            format!("SELECT d.language, count(*) FROM {from} WHERE {filter} GROUP BY d.language"),
        ] {
            let mut stmt = self.conn.prepare_cached(&facet)?;
            let rows = stmt.query_map(params_from_iter(args.iter()), |_| Ok(()))?;
            found.facets += rows.count();
        }
        Ok(found)
    }
}
