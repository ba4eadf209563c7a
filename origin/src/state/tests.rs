//! Exact outcomes of the state machine's transitions.

use super::*;

fn new_account(id: &str, email: &str) -> Command {
    Command::CreateAccount(NewAccount {
        id: id.into(),
        email: email.into(),
        display_name: "Ada".into(),
        password_hash: "$argon2id$x".into(),
        is_admin: false,
        now: 10,
    })
}

fn meta() -> TitleMeta {
    TitleMeta {
        name: "Bear".into(),
        synopsis: "A bear.".into(),
        year: 2020,
        genres: vec!["nature".into()],
        maturity_rating: "G".into(),
        kind: TitleKind::Film,
        attribution: None,
    }
}

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

fn state_with_title() -> OriginState {
    let mut s = OriginState::default();
    s.apply_command(&Command::CreateTitle {
        id: "t1".into(),
        meta: meta(),
        now: 5,
    })
    .unwrap();
    s
}

#[test]
fn account_is_created_then_the_email_is_taken() {
    let mut s = OriginState::default();
    let out = s
        .apply_command(&new_account("a1", "ada@example.com"))
        .unwrap();
    let Applied::Account(a) = out else {
        panic!("{out:?}")
    };
    assert_eq!((a.id.as_str(), a.created_at, a.is_admin), ("a1", 10, false));
    assert_eq!(
        s.apply_command(&new_account("a2", "ada@example.com")),
        Err(Rejection::EmailTaken)
    );
    assert_eq!(
        s.apply_command(&new_account("a1", "bob@example.com")),
        Err(Rejection::AccountExists)
    );
    assert_eq!(
        s.account_by_email("ada@example.com").map(|a| a.id.as_str()),
        Some("a1")
    );
    assert_eq!(s.accounts.len(), 1);
}

#[test]
fn sessions_expire_and_expired_ones_are_pruned() {
    let mut s = OriginState::default();
    s.apply_command(&new_account("a1", "ada@example.com"))
        .unwrap();
    let session = |h: &str, exp, now| Command::CreateSession {
        token_hash: h.into(),
        account_id: "a1".into(),
        expires_at: exp,
        now,
    };
    s.apply_command(&session("h1", 100, 0)).unwrap();
    assert_eq!(
        s.session_account("h1", 99).map(|a| a.id.as_str()),
        Some("a1")
    );
    assert!(s.session_account("h1", 100).is_none());
    s.apply_command(&session("h2", 300, 200)).unwrap();
    assert_eq!(s.sessions.keys().collect::<Vec<_>>(), ["h2"]);
    s.apply_command(&Command::DeleteSession {
        token_hash: "h2".into(),
    })
    .unwrap();
    assert!(s.session_account("h2", 201).is_none());
    let unknown = Command::CreateSession {
        token_hash: "h3".into(),
        account_id: "nobody".into(),
        expires_at: 1,
        now: 0,
    };
    assert_eq!(s.apply_command(&unknown), Err(Rejection::AccountNotFound));
}

#[test]
fn titles_start_awaiting_video_and_only_ready_ones_are_listed_for_viewers() {
    let mut s = state_with_title();
    let again = Command::CreateTitle {
        id: "t1".into(),
        meta: meta(),
        now: 6,
    };
    assert_eq!(s.apply_command(&again), Err(Rejection::TitleExists));
    assert_eq!(
        s.title("t1").map(|t| t.state),
        Some(TitleState::AwaitingVideo)
    );
    assert!(s.titles(false).is_empty());
    assert_eq!(s.titles(true).len(), 1);
}

#[test]
fn upload_queues_a_job_and_success_makes_the_title_ready() {
    let mut s = state_with_title();
    let Ok(Applied::Job(job)) = s.apply_command(&upload("t1", "j1", 7)) else {
        panic!()
    };
    assert_eq!(
        (job.state, job.progress, job.created_at),
        (JobState::Queued, 0.0, 7)
    );
    assert_eq!(s.title("t1").map(|t| t.state), Some(TitleState::Processing));
    assert_eq!(
        s.apply_command(&upload("t1", "j2", 8)),
        Err(Rejection::JobInProgress)
    );
    assert_eq!(s.next_queued_job().map(|j| j.id.as_str()), Some("j1"));

    s.apply_command(&Command::StartJob {
        job_id: "j1".into(),
        now: 9,
    })
    .unwrap();
    assert_eq!(
        s.apply_command(&Command::StartJob {
            job_id: "j1".into(),
            now: 9
        }),
        Err(Rejection::JobWrongState)
    );
    let progress = Command::JobProgress {
        job_id: "j1".into(),
        stage: "encoding".into(),
        progress: 1.7,
        now: 10,
    };
    let Ok(Applied::Job(job)) = s.apply_command(&progress) else {
        panic!()
    };
    assert_eq!((job.stage.as_str(), job.progress), ("encoding", 1.0));

    let done = Command::JobSucceeded {
        job_id: "j1".into(),
        duration_secs: 6.0,
        package_dir: Some("j1".into()),
        now: 11,
    };
    let Ok(Applied::Job(job)) = s.apply_command(&done) else {
        panic!()
    };
    assert_eq!((job.state, job.updated_at), (JobState::Succeeded, 11));
    let title = s.title("t1").unwrap();
    assert_eq!(
        (title.state, title.duration_secs),
        (TitleState::Ready, Some(6.0))
    );
    assert_eq!(s.titles(false).len(), 1);
    assert_eq!(s.title_job("t1").map(|j| j.id.as_str()), Some("j1"));
}

#[test]
fn failure_records_the_error_and_fails_the_title() {
    let mut s = state_with_title();
    s.apply_command(&upload("t1", "j1", 7)).unwrap();
    let fail = Command::JobFailed {
        job_id: "j1".into(),
        error: "bad input".into(),
        now: 8,
    };
    assert_eq!(s.apply_command(&fail), Err(Rejection::JobWrongState));
    s.apply_command(&Command::StartJob {
        job_id: "j1".into(),
        now: 8,
    })
    .unwrap();
    s.apply_command(&fail).unwrap();
    let job = s.job("j1").unwrap();
    assert_eq!(
        (job.state, job.error.as_deref()),
        (JobState::Failed, Some("bad input"))
    );
    assert_eq!(s.title("t1").map(|t| t.state), Some(TitleState::Failed));
    // A failed title accepts a new upload.
    assert!(s.apply_command(&upload("t1", "j2", 9)).is_ok());
}

#[test]
fn running_jobs_are_requeued_after_a_crash() {
    let mut s = state_with_title();
    upload_and_start(&mut s, "j1", 7);
    assert_eq!(s.job_counts()[1], (JobState::Running, 1));
    let out = s.apply_command(&Command::RequeueRunning { now: 20 });
    assert_eq!(out, Ok(Applied::Requeued(1)));
    let job = s.job("j1").unwrap();
    assert_eq!((job.state, job.updated_at), (JobState::Queued, 20));
    assert_eq!(
        s.apply_command(&Command::RequeueRunning { now: 21 }),
        Ok(Applied::Requeued(0))
    );
}

#[test]
fn unknown_titles_and_jobs_are_rejected() {
    let mut s = OriginState::default();
    assert_eq!(
        s.apply_command(&upload("nope", "j1", 1)),
        Err(Rejection::TitleNotFound)
    );
    let poster = Command::SetPoster {
        title_id: "nope".into(),
        content_type: "image/png".into(),
        sha256: "x".into(),
    };
    assert_eq!(s.apply_command(&poster), Err(Rejection::TitleNotFound));
    let start = Command::StartJob {
        job_id: "j9".into(),
        now: 1,
    };
    assert_eq!(s.apply_command(&start), Err(Rejection::JobNotFound));
}

/// Uploads `job` for title t1 at `now` and lets a worker claim it.
fn upload_and_start(s: &mut OriginState, job: &str, now: u64) {
    s.apply_command(&upload("t1", job, now)).unwrap();
    s.apply_command(&Command::StartJob {
        job_id: job.into(),
        now: now + 1,
    })
    .unwrap();
}

/// Uploads `job`, starts it and ends it with `result` (a package folder or an error).
fn run_job(s: &mut OriginState, job: &str, result: Result<&str, &str>) {
    upload_and_start(s, job, 30);
    let end = match result {
        Ok(dir) => Command::JobSucceeded {
            job_id: job.into(),
            duration_secs: 6.0,
            package_dir: Some(dir.into()),
            now: 32,
        },
        Err(e) => Command::JobFailed {
            job_id: job.into(),
            error: e.into(),
            now: 32,
        },
    };
    s.apply_command(&end).unwrap();
}

#[test]
fn a_ready_title_keeps_playing_its_package_while_and_after_a_new_one_is_made() {
    let mut s = state_with_title();
    run_job(&mut s, "j1", Ok("j1"));
    assert_eq!(s.title("t1").unwrap().package_path(), "/media/t1/j1");

    // Re-upload: still ready (the old package plays) until the new package replaces it.
    s.apply_command(&upload("t1", "j2", 40)).unwrap();
    let title = s.title("t1").unwrap();
    assert_eq!(
        (title.state, title.package_path().as_str()),
        (TitleState::Ready, "/media/t1/j1")
    );
    s.apply_command(&Command::StartJob {
        job_id: "j2".into(),
        now: 41,
    })
    .unwrap();
    s.apply_command(&Command::JobFailed {
        job_id: "j2".into(),
        error: "bad input".into(),
        now: 42,
    })
    .unwrap();
    let title = s.title("t1").unwrap();
    assert_eq!(
        (title.state, title.package_path().as_str()),
        (TitleState::Ready, "/media/t1/j1")
    );

    run_job(&mut s, "j3", Ok("j3"));
    let title = s.title("t1").unwrap();
    assert_eq!(
        (title.state, title.package_path().as_str()),
        (TitleState::Ready, "/media/t1/j3")
    );
    // A title that never played still fails with its job.
    let mut fresh = state_with_title();
    run_job(&mut fresh, "j1", Err("bad input"));
    assert_eq!(fresh.title("t1").unwrap().state, TitleState::Failed);
}

#[test]
fn log_entries_from_before_package_folders_replay_as_a_package_at_the_root() {
    let mut s = state_with_title();
    upload_and_start(&mut s, "j1", 7);
    let old_entry = r#"{"JobSucceeded":{"job_id":"j1","duration_secs":6.0,"now":9}}"#;
    let cmd: Command = serde_json::from_str(old_entry).expect("an old entry still parses");
    s.apply_command(&cmd).unwrap();
    let title = s.title("t1").unwrap();
    assert_eq!(
        (title.state, title.package_path().as_str()),
        (TitleState::Ready, "/media/t1")
    );
}
