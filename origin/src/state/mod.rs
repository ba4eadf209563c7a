//! Origin's domain state: the deterministic state machine replicated through [`crate::raft`].
//!
//! Handlers compute everything non-deterministic (ids, timestamps, password hashes, content
//! hashes) before building a [`Command`]; [`OriginState::apply`] only decides, so every node
//! reaches the same state. Refusals come back as [`Rejection`]s, which handlers map to 4xx.

mod apply;
mod model;
#[cfg(test)]
mod tests;

pub use model::{
    Account, Job, JobState, NewAccount, Session, Title, TitleKind, TitleMeta, TitleState,
};

use serde::{Deserialize, Serialize};

/// Everything the origin replicates. Media bytes live in the blob store, never here.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct OriginState {
    pub(crate) accounts: std::collections::BTreeMap<String, Account>,
    /// Normalised email → account id.
    pub(crate) emails: std::collections::BTreeMap<String, String>,
    /// SHA-256 (hex) of a session token → session. The raw token is never stored.
    pub(crate) sessions: std::collections::BTreeMap<String, Session>,
    pub(crate) titles: std::collections::BTreeMap<String, Title>,
    pub(crate) jobs: std::collections::BTreeMap<String, Job>,
}

/// A state change, with every id and timestamp already decided by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    CreateAccount(NewAccount),
    /// Creates a session and drops sessions that expired before `now`.
    CreateSession {
        token_hash: String,
        account_id: String,
        expires_at: u64,
        now: u64,
    },
    DeleteSession {
        token_hash: String,
    },
    CreateTitle {
        id: String,
        meta: TitleMeta,
        now: u64,
    },
    SetPoster {
        title_id: String,
        content_type: String,
        sha256: String,
    },
    /// A video was stored at `blob`; queue a packaging job for it.
    VideoUploaded {
        title_id: String,
        job_id: String,
        blob: String,
        sha256: String,
        size: u64,
        now: u64,
    },
    /// A worker claims a queued job.
    StartJob {
        job_id: String,
        now: u64,
    },
    JobProgress {
        job_id: String,
        stage: String,
        progress: f64,
        now: u64,
    },
    JobSucceeded {
        job_id: String,
        duration_secs: f64,
        /// Folder of the new package under `media/<title id>/`; absent in entries written before
        /// packages had folders (their package sits at the root).
        #[serde(default)]
        package_dir: Option<String>,
        now: u64,
    },
    JobFailed {
        job_id: String,
        error: String,
        now: u64,
    },
    /// At start-up: jobs left `running` by a crash go back to `queued`.
    RequeueRunning {
        now: u64,
    },
}

/// What a successful command produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Applied {
    Done,
    Account(Account),
    Title(Title),
    Job(Job),
    /// How many jobs were re-queued.
    Requeued(u64),
}

/// Why a command was refused; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("an account with this id already exists")]
    AccountExists,
    #[error("no such account")]
    AccountNotFound,
    #[error("a title with this id already exists")]
    TitleExists,
    #[error("no such title")]
    TitleNotFound,
    #[error("no such job")]
    JobNotFound,
    #[error("a packaging job for this title is still in progress")]
    JobInProgress,
    #[error("the job is not in the state this change needs")]
    JobWrongState,
}

pub type Outcome = Result<Applied, Rejection>;

impl crate::raft::App for OriginState {
    type Command = Command;
    type Outcome = Outcome;

    fn apply(&mut self, cmd: &Command) -> Outcome {
        self.apply_command(cmd)
    }
}

/// Read-side queries (pure, used inside `Replicated::read*` closures).
impl OriginState {
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    pub fn account_by_email(&self, normalised_email: &str) -> Option<&Account> {
        self.emails
            .get(normalised_email)
            .and_then(|id| self.accounts.get(id))
    }

    /// The account behind a session, if the session exists and has not expired at `now`.
    pub fn session_account(&self, token_hash: &str, now: u64) -> Option<&Account> {
        let s = self.sessions.get(token_hash)?;
        if now >= s.expires_at {
            return None;
        }
        self.accounts.get(&s.account_id)
    }

    pub fn title(&self, id: &str) -> Option<&Title> {
        self.titles.get(id)
    }

    /// Titles newest first; `all` includes titles that are not ready (for admins).
    pub fn titles(&self, all: bool) -> Vec<Title> {
        let mut v: Vec<Title> = self
            .titles
            .values()
            .filter(|t| all || t.state == TitleState::Ready)
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }

    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.get(id)
    }

    /// The latest job for a title.
    pub fn title_job(&self, title_id: &str) -> Option<&Job> {
        let job_id = self.titles.get(title_id)?.job_id.as_ref()?;
        self.jobs.get(job_id)
    }

    /// The oldest queued job, for the worker.
    pub fn next_queued_job(&self) -> Option<&Job> {
        self.jobs
            .values()
            .filter(|j| j.state == JobState::Queued)
            .min_by(|a, b| {
                a.created_at
                    .cmp(&b.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            })
    }

    /// Number of jobs in each state, for metrics.
    pub fn job_counts(&self) -> [(JobState, u64); 4] {
        let mut counts = [
            (JobState::Queued, 0),
            (JobState::Running, 0),
            (JobState::Succeeded, 0),
            (JobState::Failed, 0),
        ];
        for j in self.jobs.values() {
            if let Some(c) = counts.iter_mut().find(|(s, _)| *s == j.state) {
                c.1 += 1;
            }
        }
        counts
    }
}
