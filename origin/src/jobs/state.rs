//! Packaging jobs in the replicated state: the queue, claims, progress and results.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue;
use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub title_id: String,
    pub state: JobState,
    pub stage: String,
    pub progress: f64,
    pub error: Option<String>,
    /// Blob-store path of the uploaded video, and its SHA-256 (hex) and size.
    pub source_blob: String,
    pub source_sha256: String,
    pub source_size: u64,
    pub created_at: u64,
    pub updated_at: u64,
}

/// Job id → job.
const JOBS: Table<Job> = Table::new("jobs");
/// State ‖ 0 ‖ `created_at` (big-endian) ‖ 0 ‖ job id → (): the queue in order, the running
/// jobs, and counts per state without a scan of every job.
const JOBS_BY_STATE: Table<()> = Table::new("jobs_by_state");
/// State → number of jobs in it (for metrics).
const JOB_COUNTS: Table<u64> = Table::new("job_counts");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
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
    StartJob { job_id: String, now: u64 },
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
    RequeueRunning { now: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Applied {
    Job(Job),
    /// How many jobs were re-queued.
    Requeued(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
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

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::VideoUploaded {
            title_id,
            job_id,
            blob,
            sha256,
            size,
            now,
        } => video_uploaded(tx, title_id, job_id, (blob, sha256, *size), *now),
        Command::StartJob { job_id, now } => {
            let Some(mut job) = JOBS.get(tx, job_id.as_bytes())? else {
                return Ok(Err(Rejection::JobNotFound));
            };
            if job.state != JobState::Queued {
                return Ok(Err(Rejection::JobWrongState));
            }
            let before = job.clone();
            job.state = JobState::Running;
            job.stage = "starting".to_owned();
            job.progress = 0.0;
            job.updated_at = *now;
            replace(tx, Some(&before), &job)?;
            Ok(Ok(Applied::Job(job)))
        }
        Command::JobProgress {
            job_id,
            stage,
            progress,
            now,
        } => {
            let mut job = match running(tx, job_id)? {
                Ok(job) => job,
                Err(r) => return Ok(Err(r)),
            };
            job.stage.clone_from(stage);
            job.progress = progress.clamp(0.0, 1.0);
            job.updated_at = *now;
            JOBS.put(tx, job.id.as_bytes(), &job)?;
            Ok(Ok(Applied::Job(job)))
        }
        Command::JobSucceeded {
            job_id,
            duration_secs,
            package_dir,
            now,
        } => finish(tx, job_id, Ok((*duration_secs, package_dir.clone())), *now),
        Command::JobFailed { job_id, error, now } => finish(tx, job_id, Err(error.clone()), *now),
        Command::RequeueRunning { now } => Ok(Ok(Applied::Requeued(requeue_running(tx, *now)?))),
    }
}

fn state_key(job: &Job) -> Vec<u8> {
    key::join(&[
        job.state.as_str().as_bytes(),
        &key::u64(job.created_at),
        job.id.as_bytes(),
    ])
}

/// Stores `job`, keeping the state index and counts in step with `before` (its previous record).
fn replace(tx: &WriteTransaction, before: Option<&Job>, job: &Job) -> Result<(), StoreError> {
    if let Some(b) = before {
        JOBS_BY_STATE.remove(tx, &state_key(b))?;
        bump(tx, b.state, -1)?;
    }
    JOBS_BY_STATE.put(tx, &state_key(job), &())?;
    bump(tx, job.state, 1)?;
    JOBS.put(tx, job.id.as_bytes(), job)
}

fn bump(tx: &WriteTransaction, state: JobState, by: i64) -> Result<(), StoreError> {
    let k = state.as_str().as_bytes();
    let n = JOB_COUNTS.get(tx, k)?.unwrap_or(0);
    JOB_COUNTS.put(tx, k, &n.saturating_add_signed(by))
}

fn video_uploaded(
    tx: &WriteTransaction,
    title_id: &str,
    job_id: &str,
    (blob, sha256, size): (&str, &str, u64),
    now: u64,
) -> Result<Outcome, StoreError> {
    let Some(title) = catalogue::state::title(tx, title_id)? else {
        return Ok(Err(Rejection::TitleNotFound));
    };
    if let Some(current) = &title.job_id
        && let Some(j) = JOBS.get(tx, current.as_bytes())?
        && matches!(j.state, JobState::Queued | JobState::Running)
    {
        return Ok(Err(Rejection::JobInProgress));
    }
    let job = Job {
        id: job_id.to_owned(),
        title_id: title_id.to_owned(),
        state: JobState::Queued,
        stage: "queued".to_owned(),
        progress: 0.0,
        error: None,
        source_blob: blob.to_owned(),
        source_sha256: sha256.to_owned(),
        source_size: size,
        created_at: now,
        updated_at: now,
    };
    replace(tx, None, &job)?;
    catalogue::state::video_queued(tx, title_id, job_id)?;
    Ok(Ok(Applied::Job(job)))
}

fn running(tx: &WriteTransaction, job_id: &str) -> Result<Result<Job, Rejection>, StoreError> {
    Ok(match JOBS.get(tx, job_id.as_bytes())? {
        None => Err(Rejection::JobNotFound),
        Some(j) if j.state != JobState::Running => Err(Rejection::JobWrongState),
        Some(j) => Ok(j),
    })
}

/// `result` is the new package (duration, folder) or the error.
fn finish(
    tx: &WriteTransaction,
    job_id: &str,
    result: Result<(f64, Option<String>), String>,
    now: u64,
) -> Result<Outcome, StoreError> {
    let mut job = match running(tx, job_id)? {
        Ok(job) => job,
        Err(r) => return Ok(Err(r)),
    };
    let before = job.clone();
    job.updated_at = now;
    match &result {
        Ok(_) => {
            job.state = JobState::Succeeded;
            job.stage = "done".to_owned();
            job.progress = 1.0;
        }
        Err(e) => {
            job.state = JobState::Failed;
            job.stage = "failed".to_owned();
            job.error = Some(e.clone());
        }
    }
    replace(tx, Some(&before), &job)?;
    catalogue::state::job_finished(tx, &job.title_id, job_id, result.map_err(drop))?;
    Ok(Ok(Applied::Job(job)))
}

fn requeue_running(tx: &WriteTransaction, now: u64) -> Result<u64, StoreError> {
    let prefix = key::join(&[JobState::Running.as_str().as_bytes(), b""]);
    let mut n = 0;
    for (k, ()) in JOBS_BY_STATE.prefix(tx, &prefix, false, usize::MAX)? {
        let Some(mut job) = JOBS.get(tx, key::last_part(&k).as_bytes())? else {
            continue;
        };
        let before = job.clone();
        job.state = JobState::Queued;
        job.stage = "queued".to_owned();
        job.progress = 0.0;
        job.updated_at = now;
        replace(tx, Some(&before), &job)?;
        n += 1;
    }
    Ok(n)
}

/// Imports jobs kept by an origin from before state files.
pub(crate) fn import(
    tx: &WriteTransaction,
    jobs: impl IntoIterator<Item = Job>,
) -> Result<(), StoreError> {
    for j in jobs {
        replace(tx, None, &j)?;
    }
    Ok(())
}

pub fn job(tx: &impl Reads, id: &str) -> Result<Option<Job>, StoreError> {
    JOBS.get(tx, id.as_bytes())
}

/// The latest job for a title.
pub fn title_job(tx: &impl Reads, title_id: &str) -> Result<Option<Job>, StoreError> {
    match catalogue::state::title(tx, title_id)?.and_then(|t| t.job_id) {
        Some(id) => job(tx, &id),
        None => Ok(None),
    }
}

/// The oldest queued job, for the worker.
pub fn next_queued(tx: &impl Reads) -> Result<Option<Job>, StoreError> {
    let prefix = key::join(&[JobState::Queued.as_str().as_bytes(), b""]);
    match JOBS_BY_STATE.prefix(tx, &prefix, false, 1)?.first() {
        Some((k, ())) => job(tx, &key::last_part(k)),
        None => Ok(None),
    }
}

/// Number of jobs in each state, for metrics.
pub fn counts(tx: &impl Reads) -> Result<[(JobState, u64); 4], StoreError> {
    let mut out = JobState::ALL.map(|s| (s, 0));
    for (state, n) in &mut out {
        *n = JOB_COUNTS.get(tx, state.as_str().as_bytes())?.unwrap_or(0);
    }
    Ok(out)
}
