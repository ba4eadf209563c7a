//! Subtitle files in the replicated state: one row per (film or episode, language).

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::jobs::owner;
use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// One language's WebVTT file, kept in the blob store at [`Subtitle::blob`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subtitle {
    /// BCP 47 language tag (`en`, `fr`, …).
    pub language: String,
    pub sha256: String,
    pub size: u64,
    pub uploaded_at: u64,
}

impl Subtitle {
    /// Blob path of the file: named by its hash, so a replaced file is a new blob.
    pub fn blob(owner_id: &str, sha256: &str) -> String {
        format!("subtitles/{owner_id}/{sha256}.vtt")
    }
}

/// Owner id (film title or episode) ‖ language → subtitle.
const SUBTITLES: Table<Subtitle> = Table::new("subtitles");

/// Most languages one video may have.
pub const MAX_LANGUAGES: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Adds or replaces a language's file.
    SetSubtitle {
        owner_id: String,
        subtitle: Subtitle,
    },
    RemoveSubtitle {
        owner_id: String,
        language: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("no such film or episode")]
    OwnerNotFound,
    #[error("a video has subtitles in at most {max} languages")]
    TooManyLanguages { max: usize },
}

pub type Outcome = Result<Applied, Rejection>;

fn row(owner_id: &str, language: &str) -> Vec<u8> {
    key::join(&[owner_id.as_bytes(), language.as_bytes()])
}

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::SetSubtitle { owner_id, subtitle } => {
            let Some(owner) = owner::find(tx, owner_id)? else {
                return Ok(Err(Rejection::OwnerNotFound));
            };
            let k = row(owner_id, &subtitle.language);
            if !SUBTITLES.contains(tx, &k)? && of_owner(tx, owner_id)?.len() >= MAX_LANGUAGES {
                return Ok(Err(Rejection::TooManyLanguages { max: MAX_LANGUAGES }));
            }
            SUBTITLES.put(tx, &k, subtitle)?;
            crate::search::feed::touched(tx, &owner.title_id)?;
        }
        Command::RemoveSubtitle { owner_id, language } => {
            if SUBTITLES.remove(tx, &row(owner_id, language))?
                && let Some(owner) = owner::find(tx, owner_id)?
            {
                crate::search::feed::touched(tx, &owner.title_id)?;
            }
        }
    }
    Ok(Ok(Applied::Done))
}

/// A film's or an episode's subtitles, by language.
pub fn of_owner(tx: &impl Reads, owner_id: &str) -> Result<Vec<Subtitle>, StoreError> {
    let prefix = key::join(&[owner_id.as_bytes(), b""]);
    let rows = SUBTITLES.prefix(tx, &prefix, false, usize::MAX)?;
    Ok(rows.into_iter().map(|(_, s)| s).collect())
}

/// The languages a catalogue title has subtitles in: a film's own, or those of any of a
/// series' ready episodes; sorted, each once.
pub fn languages_of_title(
    tx: &impl Reads,
    title: &crate::catalogue::state::Title,
) -> Result<Vec<String>, StoreError> {
    use crate::catalogue::state::TitleKind;
    let owners = match title.meta.kind {
        TitleKind::Film => vec![title.id.clone()],
        TitleKind::Series => crate::series::state::episodes(tx, &title.id, false)?
            .into_iter()
            .map(|e| e.id)
            .collect(),
    };
    let mut out = Vec::new();
    for owner in owners {
        out.extend(of_owner(tx, &owner)?.into_iter().map(|s| s.language));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
