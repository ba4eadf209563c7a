//! Exact outcomes of the jobs commands (and what they do to titles), on a real state file.

use super::state::{self, Applied, Command, JobState, Rejection};
use crate::catalogue::state::{self as catalogue, TitleState};
use crate::catalogue::tests::create;
use crate::state::testing::TestState;

fn upload(title: &str, job: &str, now: u64) -> Command {
    Command::VideoUploaded {
        title_id: title.into(),
        job_id: job.into(),
        blob: format!("uploads/{title}/{job}"),
        sha256: "ab".into(),
        size: 3,
        now,
    }
}

fn start(job: &str, now: u64) -> Command {
    Command::StartJob {
        job_id: job.into(),
        now,
        worker: Some(1),
        lease_secs: 30,
    }
}

fn with_title() -> TestState {
    let s = TestState::new();
    s.apply(create("t1", 5)).unwrap();
    s
}

fn title_state(s: &TestState) -> (TitleState, String) {
    let t = s.read(|tx| catalogue::title(tx, "t1")).unwrap();
    (t.state, t.package_path())
}

/// Uploads `job` for t1 at `now` and lets a worker claim it.
fn upload_and_start(s: &TestState, job: &str, now: u64) {
    s.apply(upload("t1", job, now)).unwrap();
    s.apply(start(job, now + 1)).unwrap();
}

/// Uploads `job`, starts it and ends it with `result` (a package folder or an error).
fn run_job(s: &TestState, job: &str, result: Result<&str, &str>) {
    upload_and_start(s, job, 30);
    let end = match result {
        Ok(dir) => Command::JobSucceeded {
            job_id: job.into(),
            duration_secs: 6.0,
            package_dir: Some(dir.into()),
            package_files_sha256: Some("cafe".into()),
            now: 32,
            worker: Some(1),
        },
        Err(e) => Command::JobFailed {
            job_id: job.into(),
            error: e.into(),
            now: 32,
            worker: Some(1),
        },
    };
    s.apply(end).unwrap();
}

#[test]
fn upload_queues_a_job_and_success_makes_the_title_ready() {
    let s = with_title();
    let Ok(Applied::Job(job)) = s.apply(upload("t1", "j1", 7)) else {
        panic!("not queued")
    };
    assert_eq!(
        (job.state, job.progress, job.created_at),
        (JobState::Queued, 0.0, 7)
    );
    assert_eq!(title_state(&s).0, TitleState::Processing);
    assert_eq!(
        s.apply(upload("t1", "j2", 8)),
        Err(Rejection::JobInProgress)
    );
    assert_eq!(s.read(state::next_queued).map(|j| j.id), Some("j1".into()));

    s.apply(start("j1", 9)).unwrap();
    assert_eq!(s.apply(start("j1", 9)), Err(Rejection::JobWrongState));
    assert_eq!(s.read(state::next_queued), None);
    let progress = Command::JobProgress {
        job_id: "j1".into(),
        stage: "encoding".into(),
        progress: 1.7,
        now: 10,
        worker: Some(1),
    };
    let Ok(Applied::Job(job)) = s.apply(progress) else {
        panic!("no progress")
    };
    assert_eq!((job.stage.as_str(), job.progress), ("encoding", 1.0));

    let done = Command::JobSucceeded {
        job_id: "j1".into(),
        duration_secs: 6.0,
        package_dir: Some("j1".into()),
        package_files_sha256: Some("cafe".into()),
        now: 11,
        worker: Some(1),
    };
    let Ok(Applied::Job(job)) = s.apply(done) else {
        panic!("not finished")
    };
    assert_eq!((job.state, job.updated_at), (JobState::Succeeded, 11));
    assert_eq!(job.package_files_sha256.as_deref(), Some("cafe"));
    let title = s.read(|tx| catalogue::title(tx, "t1")).unwrap();
    assert_eq!(
        (title.state, title.duration_secs),
        (TitleState::Ready, Some(6.0))
    );
    assert_eq!(s.read(|tx| catalogue::titles(tx, false)).len(), 1);
    assert_eq!(
        s.read(|tx| state::title_job(tx, "t1")).map(|j| j.id),
        Some("j1".into())
    );
}

#[test]
fn the_queue_is_oldest_first() {
    let s = TestState::new();
    for (title, job, now) in [("t1", "j1", 20), ("t2", "j2", 10), ("t3", "j3", 30)] {
        s.apply(create(title, 1)).unwrap();
        s.apply(upload(title, job, now)).unwrap();
    }
    assert_eq!(s.read(state::next_queued).map(|j| j.id), Some("j2".into()));
    s.apply(start("j2", 40)).unwrap();
    assert_eq!(s.read(state::next_queued).map(|j| j.id), Some("j1".into()));
}

#[test]
fn failure_records_the_error_and_fails_the_title() {
    let s = with_title();
    s.apply(upload("t1", "j1", 7)).unwrap();
    let fail = Command::JobFailed {
        job_id: "j1".into(),
        error: "bad input".into(),
        now: 8,
        worker: None,
    };
    assert_eq!(s.apply(fail.clone()), Err(Rejection::JobWrongState));
    s.apply(start("j1", 8)).unwrap();
    s.apply(fail).unwrap();
    let job = s.read(|tx| state::job(tx, "j1")).unwrap();
    assert_eq!(
        (job.state, job.error.as_deref()),
        (JobState::Failed, Some("bad input"))
    );
    assert_eq!(title_state(&s).0, TitleState::Failed);
    // A failed title accepts a new upload.
    assert!(s.apply(upload("t1", "j2", 9)).is_ok());
}

#[test]
fn running_jobs_are_requeued_after_a_crash_and_counted() {
    let s = with_title();
    upload_and_start(&s, "j1", 7);
    let counts = s.read(state::counts);
    assert_eq!(counts[0], (JobState::Queued, 0));
    assert_eq!(counts[1], (JobState::Running, 1));
    // Another node's restart leaves this node's job alone.
    assert_eq!(
        s.apply(Command::RequeueRunning {
            now: 20,
            worker: Some(2)
        }),
        Ok(Applied::Requeued(0))
    );
    assert_eq!(
        s.apply(Command::RequeueRunning {
            now: 20,
            worker: Some(1)
        }),
        Ok(Applied::Requeued(1))
    );
    let job = s.read(|tx| state::job(tx, "j1")).unwrap();
    assert_eq!((job.state, job.updated_at), (JobState::Queued, 20));
    assert_eq!(s.read(state::counts)[0], (JobState::Queued, 1));
    assert_eq!(s.read(state::counts)[1], (JobState::Running, 0));
    assert_eq!(
        s.apply(Command::RequeueRunning {
            now: 21,
            worker: None
        }),
        Ok(Applied::Requeued(0))
    );
}

#[test]
fn unknown_titles_and_jobs_are_rejected() {
    let s = TestState::new();
    assert_eq!(
        s.apply(upload("nope", "j1", 1)),
        Err(Rejection::TitleNotFound)
    );
    assert_eq!(s.apply(start("j9", 1)), Err(Rejection::JobNotFound));
}

#[test]
fn a_ready_title_keeps_playing_its_package_while_and_after_a_new_one_is_made() {
    let s = with_title();
    run_job(&s, "j1", Ok("j1"));
    assert_eq!(title_state(&s), (TitleState::Ready, "/media/t1/j1".into()));

    // Re-upload: still ready (the old package plays) until the new package replaces it.
    s.apply(upload("t1", "j2", 40)).unwrap();
    assert_eq!(title_state(&s), (TitleState::Ready, "/media/t1/j1".into()));
    s.apply(start("j2", 41)).unwrap();
    s.apply(Command::JobFailed {
        job_id: "j2".into(),
        error: "bad input".into(),
        now: 42,
        worker: Some(1),
    })
    .unwrap();
    assert_eq!(title_state(&s), (TitleState::Ready, "/media/t1/j1".into()));

    run_job(&s, "j3", Ok("j3"));
    assert_eq!(title_state(&s), (TitleState::Ready, "/media/t1/j3".into()));
    // A title that never played still fails with its job.
    let fresh = with_title();
    run_job(&fresh, "j1", Err("bad input"));
    assert_eq!(title_state(&fresh).0, TitleState::Failed);
}

#[test]
fn a_lapsed_lease_lets_another_worker_take_the_job_and_locks_out_the_first() {
    let s = with_title();
    s.apply(upload("t1", "j1", 7)).unwrap();
    s.apply(start("j1", 100)).unwrap(); // node 1, lease until 130
    let by = |worker, now| Command::StartJob {
        job_id: "j1".into(),
        now,
        worker: Some(worker),
        lease_secs: 30,
    };
    assert_eq!(s.apply(by(2, 129)), Err(Rejection::JobWrongState));
    assert_eq!(s.read(|tx| state::next_claimable(tx, 129)), None);
    let renew = |worker, now| Command::RenewLease {
        job_id: "j1".into(),
        worker,
        now,
        lease_secs: 30,
    };
    s.apply(renew(1, 120)).unwrap(); // until 150
    assert_eq!(s.apply(by(2, 140)), Err(Rejection::JobWrongState));
    // Node 1 goes silent: at 150 the job is up for grabs, and node 2 takes it.
    let up = s.read(|tx| state::next_claimable(tx, 150)).map(|j| j.id);
    assert_eq!(up, Some("j1".into()));
    let Ok(Applied::Job(job)) = s.apply(by(2, 150)) else {
        panic!("not taken over")
    };
    assert_eq!((job.worker, job.lease_until), (Some(2), 180));
    // The first worker, back from the dead, can neither renew nor report nor finish.
    assert_eq!(s.apply(renew(1, 151)), Err(Rejection::LeaseLost));
    let late = Command::JobSucceeded {
        job_id: "j1".into(),
        duration_secs: 6.0,
        package_dir: Some("j1".into()),
        package_files_sha256: None,
        now: 152,
        worker: Some(1),
    };
    assert_eq!(s.apply(late), Err(Rejection::LeaseLost));
    assert_eq!(s.read(state::counts)[1], (JobState::Running, 1));
}
