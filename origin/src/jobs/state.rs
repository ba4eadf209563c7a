//! Packaging jobs in the replicated state: the queue, claims, progress and results.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::owner;
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
    /// The film's title or the episode whose video this is (see [`owner`]).
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
    /// The node running (or that last ran) the job.
    #[serde(default)]
    pub worker: Option<u64>,
    /// While running: the claim holds until then (Unix seconds); a worker renews it, and once
    /// it passes any node may take the job over. 0 in jobs from before leases.
    #[serde(default)]
    pub lease_until: u64,
    /// SHA-256 of the package's file list (`files.sha256.json`), which holds every file's hash:
    /// how a node that lacks a file checks the copy it fetches from a peer.
    #[serde(default)]
    pub package_files_sha256: Option<String>,
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
    /// A worker claims a queued job, or a running one whose lease has run out.
    StartJob {
        job_id: String,
        now: u64,
        /// The claiming node; absent in entries from before leases.
        #[serde(default)]
        worker: Option<u64>,
        #[serde(default)]
        lease_secs: u64,
    },
    /// The running worker extends its claim.
    RenewLease {
        job_id: String,
        worker: u64,
        now: u64,
        lease_secs: u64,
    },
    JobProgress {
        job_id: String,
        stage: String,
        progress: f64,
        now: u64,
        #[serde(default)]
        worker: Option<u64>,
    },
    JobSucceeded {
        job_id: String,
        duration_secs: f64,
        /// Folder of the new package under `media/<title id>/`; absent in entries written before
        /// packages had folders (their package sits at the root).
        #[serde(default)]
        package_dir: Option<String>,
        #[serde(default)]
        package_files_sha256: Option<String>,
        now: u64,
        #[serde(default)]
        worker: Option<u64>,
    },
    JobFailed {
        job_id: String,
        error: String,
        now: u64,
        #[serde(default)]
        worker: Option<u64>,
    },
    /// At start-up: jobs a crash left `running` on `worker` (every such job when absent) go
    /// back to `queued`.
    RequeueRunning {
        now: u64,
        #[serde(default)]
        worker: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Applied {
    Job(Box<Job>),
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
    #[error("another worker holds this job now")]
    LeaseLost,
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
        Command::StartJob {
            job_id,
            now,
            worker,
            lease_secs,
        } => {
            let Some(mut job) = JOBS.get(tx, job_id.as_bytes())? else {
                return Ok(Err(Rejection::JobNotFound));
            };
            if !claimable(&job, *now) {
                return Ok(Err(Rejection::JobWrongState));
            }
            let before = job.clone();
            job.state = JobState::Running;
            job.stage = "starting".to_owned();
            job.progress = 0.0;
            job.updated_at = *now;
            job.worker = *worker;
            job.lease_until = if *lease_secs > 0 { now + lease_secs } else { 0 };
            replace(tx, Some(&before), &job)?;
            Ok(Ok(Applied::Job(Box::new(job))))
        }
        Command::RenewLease {
            job_id,
            worker,
            now,
            lease_secs,
        } => {
            let mut job = match running(tx, job_id, Some(*worker))? {
                Ok(job) => job,
                Err(r) => return Ok(Err(r)),
            };
            job.lease_until = now + lease_secs;
            JOBS.put(tx, job.id.as_bytes(), &job)?;
            Ok(Ok(Applied::Job(Box::new(job))))
        }
        Command::JobProgress {
            job_id,
            stage,
            progress,
            now,
            worker,
        } => {
            let mut job = match running(tx, job_id, *worker)? {
                Ok(job) => job,
                Err(r) => return Ok(Err(r)),
            };
            job.stage.clone_from(stage);
            job.progress = progress.clamp(0.0, 1.0);
            job.updated_at = *now;
            JOBS.put(tx, job.id.as_bytes(), &job)?;
            Ok(Ok(Applied::Job(Box::new(job))))
        }
        Command::JobSucceeded {
            job_id,
            duration_secs,
            package_dir,
            package_files_sha256,
            now,
            worker,
        } => {
            let package = Package {
                duration_secs: *duration_secs,
                dir: package_dir.clone(),
                files_sha256: package_files_sha256.clone(),
            };
            finish(tx, (job_id, *worker), Ok(package), *now)
        }
        Command::JobFailed {
            job_id,
            error,
            now,
            worker,
        } => finish(tx, (job_id, *worker), Err(error.clone()), *now),
        Command::RequeueRunning { now, worker } => {
            Ok(Ok(Applied::Requeued(requeue_running(tx, *now, *worker)?)))
        }
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
    let Some(owner) = owner::find(tx, title_id)? else {
        return Ok(Err(Rejection::TitleNotFound));
    };
    if let Some(current) = &owner.job_id
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
        worker: None,
        lease_until: 0,
        package_files_sha256: None,
    };
    replace(tx, None, &job)?;
    owner::video_queued(tx, title_id, job_id)?;
    Ok(Ok(Applied::Job(Box::new(job))))
}

/// Queued, or running on a lease that ran out by `now`.
pub fn claimable(job: &Job, now: u64) -> bool {
    match job.state {
        JobState::Queued => true,
        JobState::Running => job.lease_until != 0 && job.lease_until <= now,
        _ => false,
    }
}

/// The running job, if `worker` (when given) still holds it.
fn running(
    tx: &WriteTransaction,
    job_id: &str,
    worker: Option<u64>,
) -> Result<Result<Job, Rejection>, StoreError> {
    Ok(match JOBS.get(tx, job_id.as_bytes())? {
        None => Err(Rejection::JobNotFound),
        Some(j) if j.state != JobState::Running => Err(Rejection::JobWrongState),
        Some(j) if worker.is_some() && j.worker != worker => Err(Rejection::LeaseLost),
        Some(j) => Ok(j),
    })
}

/// What a successful job produced.
struct Package {
    duration_secs: f64,
    dir: Option<String>,
    files_sha256: Option<String>,
}

/// `result` is the new package or the error.
fn finish(
    tx: &WriteTransaction,
    (job_id, worker): (&str, Option<u64>),
    result: Result<Package, String>,
    now: u64,
) -> Result<Outcome, StoreError> {
    let mut job = match running(tx, job_id, worker)? {
        Ok(job) => job,
        Err(r) => return Ok(Err(r)),
    };
    let before = job.clone();
    job.updated_at = now;
    job.lease_until = 0;
    match &result {
        Ok(package) => {
            job.state = JobState::Succeeded;
            job.stage = "done".to_owned();
            job.progress = 1.0;
            job.package_files_sha256.clone_from(&package.files_sha256);
        }
        Err(e) => {
            job.state = JobState::Failed;
            job.stage = "failed".to_owned();
            job.error = Some(e.clone());
        }
    }
    replace(tx, Some(&before), &job)?;
    let result = result.map(|p| (p.duration_secs, p.dir)).map_err(drop);
    owner::job_finished(tx, &job.title_id, job_id, result)?;
    Ok(Ok(Applied::Job(Box::new(job))))
}

fn requeue_running(
    tx: &WriteTransaction,
    now: u64,
    worker: Option<u64>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    for mut job in running_jobs(tx)? {
        if worker.is_some() && job.worker.is_some() && job.worker != worker {
            continue;
        }
        let before = job.clone();
        job.state = JobState::Queued;
        job.stage = "queued".to_owned();
        job.progress = 0.0;
        job.updated_at = now;
        job.worker = None;
        job.lease_until = 0;
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

/// The latest job for a title or an episode.
pub fn title_job(tx: &impl Reads, title_id: &str) -> Result<Option<Job>, StoreError> {
    match owner::find(tx, title_id)?.and_then(|o| o.job_id) {
        Some(id) => job(tx, &id),
        None => Ok(None),
    }
}

/// Every running job (few: one per worker at most).
fn running_jobs(tx: &impl Reads) -> Result<Vec<Job>, StoreError> {
    let prefix = key::join(&[JobState::Running.as_str().as_bytes(), b""]);
    let mut out = Vec::new();
    for (k, ()) in JOBS_BY_STATE.prefix(tx, &prefix, false, usize::MAX)? {
        if let Some(j) = job(tx, &key::last_part(&k))? {
            out.push(j);
        }
    }
    Ok(out)
}

/// The oldest queued job, for the worker.
pub fn next_queued(tx: &impl Reads) -> Result<Option<Job>, StoreError> {
    let prefix = key::join(&[JobState::Queued.as_str().as_bytes(), b""]);
    match JOBS_BY_STATE.prefix(tx, &prefix, false, 1)?.first() {
        Some((k, ())) => job(tx, &key::last_part(k)),
        None => Ok(None),
    }
}

/// The job a worker should take at `now`: a running one whose worker stopped renewing its
/// lease (it died), else the oldest queued one.
pub fn next_claimable(tx: &impl Reads, now: u64) -> Result<Option<Job>, StoreError> {
    let abandoned = running_jobs(tx)?
        .into_iter()
        .filter(|j| claimable(j, now))
        .min_by_key(|j| (j.created_at, j.id.clone()));
    match abandoned {
        Some(j) => Ok(Some(j)),
        None => next_queued(tx),
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
