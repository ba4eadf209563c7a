//! The packaging worker: takes queued jobs from the replicated state, runs the packager on
//! the uploaded video, stores the package in the blob store and marks the title ready.
//!
//! Every state change goes through Raft. A job left `running` by a crash is re-queued at
//! start-up ([`requeue_interrupted`]); claiming with `StartJob` makes sure two workers never
//! run the same job.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use marquee_packager::SubtitleInput;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

use super::package;
use super::state::{self, Applied, Command, Job, JobState, Rejection};
use crate::api::Ctx;
use crate::blob::peers::{FILE_LIST, PackageFiles, Pull};
use crate::ids::{self, now_unix};
use crate::state::DomainCommand;
use crate::subtitles::{self, state::Subtitle};

/// Progress is replicated at most once per this step (fraction of the job).
const PROGRESS_STEP: f64 = 0.05;
/// How often the worker looks for jobs when nobody woke it.
const IDLE_POLL: Duration = Duration::from_secs(2);

/// Re-queues the jobs this node's previous process left `running`. Other nodes' jobs are
/// theirs until their lease runs out.
pub async fn requeue_interrupted(ctx: &Ctx) {
    let cmd = Command::RequeueRunning {
        now: now_unix(),
        worker: Some(ctx.config.node_id),
    };
    match write(ctx, cmd).await {
        Ok(Applied::Requeued(n)) if n > 0 => {
            tracing::warn!(jobs = n, "re-queued interrupted packaging jobs")
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "could not re-queue interrupted jobs"),
    }
}

/// Runs jobs until `shutdown` turns true. A job cut short by shutdown stays `running` and
/// is re-queued at the next start.
pub async fn run(ctx: Ctx, mut shutdown: watch::Receiver<bool>) {
    requeue_interrupted(&ctx).await;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let now = now_unix();
        let next = ctx
            .raft
            .read(|tx| state::next_claimable(tx, now))
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read the job queue");
                None
            });
        let Some(job) = next else {
            tokio::select! {
                _ = ctx.jobs_wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        };
        let span = tracing::info_span!("packaging", job_id = %job.id, title_id = %job.title_id);
        tokio::select! {
            _ = process(&ctx, job).instrument(span) => {}
            _ = shutdown.changed() => {
                tracing::info!("shutdown while packaging; the job will be re-queued at next start");
                break;
            }
        }
    }
}

/// Replicates a jobs command: its outcome (applied or refused), or why it did not get one.
async fn replicate(ctx: &Ctx, cmd: Command) -> Result<Result<Applied, Rejection>, String> {
    let outcome = ctx
        .raft
        .write(cmd.into())
        .await
        .map_err(|e| e.to_string())?;
    <Command as DomainCommand>::outcome(outcome).ok_or_else(|| "outcome of another domain".into())
}

/// Replicates a jobs command; a refusal or a failure becomes its message.
async fn write(ctx: &Ctx, cmd: Command) -> Result<Applied, String> {
    replicate(ctx, cmd).await?.map_err(|r| r.to_string())
}

async fn process(ctx: &Ctx, job: Job) {
    let claim = Command::StartJob {
        job_id: job.id.clone(),
        now: now_unix(),
        worker: Some(ctx.config.node_id),
        lease_secs: ctx.config.job_lease_secs,
    };
    match replicate(ctx, claim).await {
        Ok(Ok(_)) => {}
        Ok(Err(Rejection::JobWrongState)) => return, // claimed by someone else
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot start job");
            return tokio::time::sleep(IDLE_POLL).await;
        }
        // E.g. not the leader: back off instead of spinning on the same job.
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim the job");
            return tokio::time::sleep(IDLE_POLL).await;
        }
    }
    let started = Instant::now();
    let work = ctx.config.work_dir().join(&job.id);
    // Read before the switch: the package that was live until now stays for streams under way.
    let previous = ctx
        .raft
        .read(|tx| super::owner::find(tx, &job.title_id))
        .ok()
        .flatten()
        .and_then(|o| o.package_dir);
    let result = tokio::select! {
        r = package_and_store(ctx, &job, &work) => r,
        () = keep_lease(ctx, &job.id) => {
            tracing::warn!("another node took this job over; dropping the work");
            let _ = tokio::fs::remove_dir_all(&work).await;
            return;
        }
    };
    if let Err(e) = tokio::fs::remove_dir_all(&work).await {
        tracing::warn!(error = %e, dir = %work.display(), "could not remove the work dir");
    }
    let now = now_unix();
    let (cmd, outcome) = match result {
        Ok((duration_secs, files_sha256)) => {
            tracing::info!(
                duration_secs,
                took_ms = started.elapsed().as_millis() as u64,
                "packaging succeeded"
            );
            (
                Command::JobSucceeded {
                    job_id: job.id.clone(),
                    duration_secs,
                    package_dir: Some(job.id.clone()),
                    package_files_sha256: Some(files_sha256),
                    now,
                    worker: Some(ctx.config.node_id),
                },
                "succeeded",
            )
        }
        Err(error) => {
            tracing::warn!(%error, "packaging failed");
            (
                Command::JobFailed {
                    job_id: job.id.clone(),
                    error,
                    now,
                    worker: Some(ctx.config.node_id),
                },
                "failed",
            )
        }
    };
    metrics::counter!("marquee_origin_packaging_jobs_total", "outcome" => outcome).increment(1);
    metrics::histogram!("marquee_origin_packaging_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    match write(ctx, cmd).await {
        Ok(Applied::Job(done)) if done.state == JobState::Succeeded => {
            let keep = [Some(job.id.as_str()), previous.as_deref()];
            prune_packages(ctx, &job.title_id, &keep).await;
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "could not record the job's end"),
    }
}

/// Deletes the title's package folders other than `keep` (the new one and the one before it,
/// which viewers who started before the switch are still streaming), and a failed job's
/// partial upload. Folders not named like a job id are left alone.
async fn prune_packages(ctx: &Ctx, title_id: &str, keep: &[Option<&str>]) {
    let root = format!("media/{title_id}");
    let dirs = match ctx.blobs.list_dirs(&root).await {
        Ok(dirs) => dirs,
        Err(e) => return tracing::warn!(error = %e, "cannot list old packages"),
    };
    for dir in dirs {
        if !ids::is_valid_id(&dir) || keep.contains(&Some(dir.as_str())) {
            continue;
        }
        match ctx.blobs.delete_all_under(&format!("{root}/{dir}")).await {
            Ok(files) => tracing::info!(package = %dir, files, "old package removed"),
            Err(e) => tracing::warn!(package = %dir, error = %e, "cannot remove an old package"),
        }
    }
}

/// Renews this node's lease on the job every third of its length; returns only when the lease
/// is lost (another node took the job over), so the work can be dropped.
async fn keep_lease(ctx: &Ctx, job_id: &str) {
    let every = Duration::from_secs(ctx.config.job_lease_secs.max(3) / 3);
    loop {
        tokio::time::sleep(every).await;
        let renew = Command::RenewLease {
            job_id: job_id.to_owned(),
            worker: ctx.config.node_id,
            now: now_unix(),
            lease_secs: ctx.config.job_lease_secs,
        };
        match replicate(ctx, renew).await {
            Ok(Err(Rejection::LeaseLost | Rejection::JobWrongState)) => return,
            Ok(_) => {}
            // No leader for a moment: keep working and try again at the next tick.
            Err(e) => tracing::warn!(error = %e, "could not renew the job lease"),
        }
    }
}

/// Fetches the upload, packages it, stores the package and its file list. Returns the duration
/// in seconds and the SHA-256 of the file list.
async fn package_and_store(ctx: &Ctx, job: &Job, work: &Path) -> Result<(f64, String), String> {
    let _ = tokio::fs::remove_dir_all(work).await;
    tokio::fs::create_dir_all(work)
        .await
        .map_err(|e| format!("cannot create the work dir: {e}"))?;
    let input = work.join("input");
    let output = work.join("out");
    report(ctx, job, "fetching", 0.0).await;
    // The upload may have come in through another node: fetch it (checked) if missing here.
    ctx.peer_blobs
        .ensure_local(&ctx.blobs, &job.source_blob, &job.source_sha256)
        .await
        .map_err(|e| format!("cannot read the upload: {e}"))?;
    ctx.blobs
        .download_to(&job.source_blob, &input)
        .await
        .map_err(|e| format!("cannot read the upload: {e}"))?;

    let subtitles = fetch_subtitles(ctx, job, work).await?;

    let (tx, rx) = mpsc::unbounded_channel();
    let forward = tokio::spawn(forward_progress(ctx.clone(), job.clone(), rx));
    let (inp, out) = (input.clone(), output.clone());
    let packaged =
        tokio::task::spawn_blocking(move || package::run(&inp, &out, subtitles, tx)).await;
    let _ = forward.await;
    let duration = packaged.map_err(|e| format!("the packager crashed: {e}"))??;

    report(ctx, job, "storing", 0.95).await;
    let files = list_files(&output).map_err(|e| format!("cannot list the package: {e}"))?;
    if files.is_empty() {
        return Err("the packager produced no files".into());
    }
    let mut list = PackageFiles::default();
    for rel in files {
        let local = output.join(&rel);
        let blob = format!("media/{}/{}/{}", job.title_id, job.id, rel);
        let stored = ctx
            .blobs
            .put_file(&blob, &local)
            .await
            .map_err(|e| format!("cannot store {rel}: {e}"))?;
        list.files.insert(rel, stored.into());
    }
    let list_path = format!("media/{}/{}/{}", job.title_id, job.id, FILE_LIST);
    let bytes = serde_json::to_vec(&list).map_err(|e| format!("file list: {e}"))?;
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(bytes))]);
    let stored = ctx
        .blobs
        .put_stream(&list_path, stream, u64::MAX)
        .await
        .map_err(|e| format!("cannot store the file list: {e}"))?;
    // Copies on the other members before the title goes live: they serve it if this node dies.
    let copies = ctx
        .peer_blobs
        .replicate(Pull::Package {
            title_id: job.title_id.clone(),
            job_id: job.id.clone(),
            files_sha256: stored.sha256.clone(),
        })
        .await;
    tracing::info!(copies, "package replicated");
    Ok((duration, stored.sha256))
}

/// The video's subtitle files as they are now, fetched (checked) into the work dir.
async fn fetch_subtitles(ctx: &Ctx, job: &Job, work: &Path) -> Result<Vec<SubtitleInput>, String> {
    let files = ctx
        .raft
        .read(|tx| subtitles::state::of_owner(tx, &job.title_id))
        .map_err(|e| format!("cannot read the subtitles: {e}"))?;
    let mut out = Vec::new();
    for s in files {
        let blob = Subtitle::blob(&job.title_id, &s.sha256);
        let local = work.join(format!("subtitles-{}.vtt", s.language));
        ctx.peer_blobs
            .ensure_local(&ctx.blobs, &blob, &s.sha256)
            .await
            .map_err(|e| format!("cannot read the {} subtitles: {e}", s.language))?;
        ctx.blobs
            .download_to(&blob, &local)
            .await
            .map_err(|e| format!("cannot read the {} subtitles: {e}", s.language))?;
        out.push(SubtitleInput {
            language: s.language,
            path: local,
        });
    }
    Ok(out)
}

/// Progress goes through group commit: one key per job, so only its latest report is written.
async fn report(ctx: &Ctx, job: &Job, stage: &str, progress: f64) {
    let cmd = Command::JobProgress {
        job_id: job.id.clone(),
        stage: stage.to_owned(),
        progress,
        now: now_unix(),
        worker: Some(ctx.config.node_id),
    };
    let key = format!("job-progress/{}", job.id);
    if let Err(e) = ctx.group.write(&key, cmd.into()).await {
        tracing::warn!(error = %e, "could not record progress");
    }
}

/// Replicates packager progress, throttled to every [`PROGRESS_STEP`] or stage change.
/// The packager's own fraction is scaled into 0.05..0.95 of the job.
async fn forward_progress(ctx: Ctx, job: Job, mut rx: mpsc::UnboundedReceiver<(String, f64)>) {
    let mut last: Option<(String, f64)> = None;
    while let Some((stage, fraction)) = rx.recv().await {
        let progress = 0.05 + 0.9 * fraction.clamp(0.0, 1.0);
        if progress_due(last.as_ref(), &stage, progress) {
            report(&ctx, &job, &stage, progress).await;
            last = Some((stage, progress));
        }
    }
}

/// Whether a report is worth replicating: the first one, a new stage, or a step forward.
fn progress_due(last: Option<&(String, f64)>, stage: &str, progress: f64) -> bool {
    match last {
        Some((s, p)) => s != stage || progress - p >= PROGRESS_STEP - 1e-9,
        None => true,
    }
}

/// Every regular file under `root`, as `/`-separated relative paths, sorted.
fn list_files(root: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_replicated_per_step_or_stage_change() {
        let last = ("encoding".to_owned(), 0.30);
        assert!(progress_due(None, "probing", 0.05));
        assert!(!progress_due(Some(&last), "encoding", 0.34));
        assert!(progress_due(Some(&last), "encoding", 0.35));
        assert!(progress_due(Some(&last), "segmenting", 0.31));
    }

    #[test]
    fn package_files_are_listed_relative_and_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("video/720p")).unwrap();
        std::fs::write(dir.path().join("manifest.mpd"), "x").unwrap();
        std::fs::write(dir.path().join("video/720p/seg-1.m4s"), "x").unwrap();
        let files = list_files(dir.path()).unwrap();
        assert_eq!(files, ["manifest.mpd", "video/720p/seg-1.m4s"]);
    }
}
