//! Purges: operators and origin order cached objects dropped — one path, or everything of a
//! title (takedowns). The control-plane numbers them in a bounded log; every edge long-polls
//! `GET /v1/purges?after=SEQ` and so receives each one moments after it is given, and its next
//! poll tells the control-plane how far it has applied.
//!
//! [`PurgeLog`] is pure and tested without I/O; the handlers live in [`crate::server`].

use std::collections::VecDeque;

use marquee_proto::v1::{Purge, PurgeBatch, purge};
use serde::{Deserialize, Serialize};

/// Purges kept for edges that were away; one older than that makes a returning edge drop its
/// whole cache (`reset`).
pub const MAX_KEPT: usize = 10_000;
/// Most targets one request may name.
pub const MAX_TARGETS: usize = 1_000;
const MAX_PATH_LEN: usize = 1_024;

/// What one purge drops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Path(String),
    Title(String),
}

/// Why a purge request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurgeError {
    #[error("name at least one path or title to purge")]
    Empty,
    #[error("at most {MAX_TARGETS} paths and titles per request")]
    TooMany,
    #[error(
        "{0:?} is not a media path: give the token-free path, e.g. /media/<title>/<job>/manifest.mpd"
    )]
    BadPath(String),
    #[error("{0:?} is not a title id")]
    BadTitle(String),
}

/// Checks and collects a request's targets, paths first.
pub fn targets(paths: &[String], titles: &[String]) -> Result<Vec<Target>, PurgeError> {
    if paths.is_empty() && titles.is_empty() {
        return Err(PurgeError::Empty);
    }
    if paths.len() + titles.len() > MAX_TARGETS {
        return Err(PurgeError::TooMany);
    }
    let mut out = Vec::with_capacity(paths.len() + titles.len());
    for path in paths {
        let ok = path.len() <= MAX_PATH_LEN
            && path.starts_with("/media/")
            && !path.split('/').any(|seg| seg == ".." || seg == ".")
            && !path.contains(['?', '#'])
            && path.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(PurgeError::BadPath(path.clone()));
        }
        out.push(Target::Path(path.clone()));
    }
    for title in titles {
        let ok = (1..=128).contains(&title.len())
            && title
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(PurgeError::BadTitle(title.clone()));
        }
        out.push(Target::Title(title.clone()));
    }
    Ok(out)
}

/// The numbered purges still kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurgeLog {
    /// The newest seq issued (0: none yet).
    latest: u64,
    entries: VecDeque<(u64, Target)>,
}

impl PurgeLog {
    pub fn latest(&self) -> u64 {
        self.latest
    }

    /// Appends `targets`; returns the seq of the last one.
    pub fn add(&mut self, targets: Vec<Target>) -> u64 {
        for target in targets {
            self.latest += 1;
            self.entries.push_back((self.latest, target));
        }
        while self.entries.len() > MAX_KEPT {
            self.entries.pop_front();
        }
        self.latest
    }

    /// What an edge that has applied everything up to `after` must do next.
    pub fn since(&self, after: u64) -> PurgeBatch {
        // A log newer than the edge's count (a control-plane that lost its log) has nothing
        // the edge can catch up on: it starts from here.
        let oldest = self
            .entries
            .front()
            .map_or(self.latest + 1, |(seq, _)| *seq);
        let reset = after < self.latest && after + 1 < oldest;
        let purges = if reset {
            Vec::new()
        } else {
            self.entries
                .iter()
                .filter(|(seq, _)| *seq > after)
                .map(|(seq, target)| Purge {
                    seq: *seq,
                    target: Some(match target {
                        Target::Path(p) => purge::Target::Path(p.clone()),
                        Target::Title(t) => purge::Target::TitleId(t.clone()),
                    }),
                })
                .collect()
        };
        PurgeBatch {
            purges,
            latest_seq: self.latest,
            reset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Target {
        Target::Path(p.into())
    }

    #[test]
    fn edges_receive_what_they_have_not_applied_in_order() {
        let mut log = PurgeLog::default();
        assert_eq!(log.since(0).purges, vec![]);
        assert_eq!(
            log.add(vec![path("/media/t1/a"), Target::Title("t2".into())]),
            2
        );
        assert_eq!(log.add(vec![path("/media/t1/b")]), 3);
        let batch = log.since(1);
        let seqs: Vec<u64> = batch.purges.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, [2, 3]);
        assert_eq!(
            batch.purges[0].target,
            Some(purge::Target::TitleId("t2".into()))
        );
        assert_eq!(batch.latest_seq, 3);
        assert!(!batch.reset);
        assert!(log.since(3).purges.is_empty());
    }

    #[test]
    fn an_edge_away_longer_than_the_log_drops_everything() {
        let mut log = PurgeLog::default();
        for i in 0..(MAX_KEPT + 5) {
            log.add(vec![path(&format!("/media/t/{i}"))]);
        }
        assert!(log.since(2).reset);
        assert!(!log.since(5).reset, "seq 6 is still kept");
        assert_eq!(log.since(5).purges.len(), MAX_KEPT);
        // A control-plane that forgot: the edge starts from its count.
        let fresh = PurgeLog::default();
        assert!(!fresh.since(40).reset);
    }

    #[test]
    fn requests_name_real_paths_and_titles() {
        let ok = targets(&["/media/t1/j1/manifest.mpd".into()], &["t_1-a".into()]).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(targets(&[], &[]), Err(PurgeError::Empty));
        for bad in [
            "/t/TOKEN/media/x",
            "/media/../etc",
            "/media/a b",
            "/media/a?x=1",
            "media/x",
        ] {
            assert!(
                matches!(targets(&[bad.into()], &[]), Err(PurgeError::BadPath(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            targets(&[], &["t/1".into()]),
            Err(PurgeError::BadTitle(_))
        ));
        let many: Vec<String> = (0..=MAX_TARGETS).map(|i| format!("/media/t/{i}")).collect();
        assert_eq!(targets(&many, &[]), Err(PurgeError::TooMany));
    }
}
