//! Bulk data for the home-page benchmark (`marquee-benches`, `home-rows`): a catalogue of ready
//! titles and viewing history of many profiles, written into a stopped node's state file
//! through the same domain code that applies the log (titles with their indexes, progress with
//! its history and "Continue watching" rows), as if the node had served them for years. The
//! server never calls this.

use std::path::Path;

use crate::catalogue::state::{Markers, Title, TitleKind, TitleMeta, TitleState, import};
use crate::history::state::{Command, Report, apply};
use crate::raft::StoreError;
use crate::raft::state_file;

/// Genres of generated titles: rows enough for a home page.
pub const GENRES: [&str; 16] = [
    "Drama",
    "Comedy",
    "Thriller",
    "Documentary",
    "Animation",
    "Sci-Fi",
    "Romance",
    "Crime",
    "Family",
    "Horror",
    "Fantasy",
    "Music",
    "History",
    "War",
    "Western",
    "Sport",
];
const RATINGS: [&str; 6] = ["G", "PG", "PG-13", "R", "TV-14", "TV-MA"];
/// Rows per transaction: large enough to amortise a commit, small enough to bound its memory.
const ROWS_PER_TXN: u64 = 100_000;
/// Profiles the generated history belongs to.
pub const PROFILES: u64 = 10_000;

/// The id of generated title `n`.
pub fn title_id(n: u64) -> String {
    format!("{:032x}", 0xb000_0000_0000u64 + n)
}

fn title(n: u64) -> Title {
    let g = |k: u64| GENRES[((n * 7 + k * 5) % GENRES.len() as u64) as usize].to_owned();
    let mut genres = vec![g(0), g(1)];
    genres.dedup();
    Title {
        id: title_id(n),
        meta: TitleMeta {
            name: format!("Generated title {n}"),
            synopsis: "A title made up for the benchmark, with a synopsis of a usual length for a \
                       streaming catalogue: two sentences about who it follows and what happens."
                .to_owned(),
            year: 1970 + (n % 56) as u16,
            genres,
            maturity_rating: RATINGS[(n % RATINGS.len() as u64) as usize].to_owned(),
            kind: TitleKind::Film,
            attribution: None,
            facts: Default::default(),
        },
        state: TitleState::Ready,
        duration_secs: Some(5_400.0),
        poster: None,
        job_id: Some(format!("{:032x}", 0xc000_0000_0000u64 + n)),
        package_dir: Some(format!("{:032x}", 0xc000_0000_0000u64 + n)),
        markers: Markers::default(),
        created_at: 1_700_000_000 + n,
        premieres_at: None,
    }
}

/// Adds `titles` ready titles and `history_rows` progress rows (spread over [`PROFILES`]
/// profiles, each watching titles across the catalogue) to the state file in the raft
/// directory `raft_dir` of a stopped node. `progress(done, total)` follows each transaction.
/// Blocking.
pub fn fill(
    raft_dir: &Path,
    titles: u64,
    history_rows: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<(), StoreError> {
    let db = state_file::open(raft_dir)?;
    let total = titles + history_rows;
    let mut done = 0;
    for start in (0..titles).step_by(ROWS_PER_TXN as usize) {
        let end = (start + ROWS_PER_TXN).min(titles);
        let txn = db.begin_write()?;
        import(&txn, (start..end).map(title))?;
        txn.commit()?;
        done += end - start;
        progress(done, total);
    }
    // The plays spread over the week before now, so charts (today, trending) have something.
    const WEEK_MS: u64 = 7 * 86_400_000;
    let first_ms = crate::ids::now_unix_ms().saturating_sub(WEEK_MS);
    let step_ms = WEEK_MS / history_rows.max(1);
    for start in (0..history_rows).step_by(ROWS_PER_TXN as usize) {
        let end = (start + ROWS_PER_TXN).min(history_rows);
        let txn = db.begin_write()?;
        for n in start..end {
            let profile = n % PROFILES;
            let watched = (n / PROFILES) * 7_919 % titles.max(1);
            let report = Report {
                profile_id: format!("{:032x}", 0xa000_0000_0000u64 + profile),
                title_id: title_id(watched),
                item_id: title_id(watched),
                position_secs: (n % 5_000) as f64,
                duration_secs: 5_400.0,
                credits_start_secs: None,
                now_ms: first_ms + n * step_ms.max(1),
                country: None,
            };
            apply(&txn, &Command::RecordProgress(report))?.ok();
        }
        txn.commit()?;
        done += end - start;
        progress(done, total);
    }
    state_file::persist(&db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_titles_are_ready_and_indexed_and_history_is_per_profile() {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), 50, 300, |_, _| {}).unwrap();
        let db = state_file::open(dir.path()).unwrap();
        let tx = redb::ReadableDatabase::begin_read(&db).unwrap();
        let newest = crate::catalogue::state::newest(&tx, 5, 100, &|_| true).unwrap();
        assert_eq!(newest[0].id, title_id(49));
        assert!(!crate::catalogue::genres::top(&tx, 3).unwrap().is_empty());
        let profile = format!("{:032x}", 0xa000_0000_0000u64);
        let rows = crate::history::state::history(&tx, &profile, None, 100).unwrap();
        assert_eq!(
            rows.len(),
            1,
            "300 rows over 10,000 profiles: one each for the first"
        );
    }
}
