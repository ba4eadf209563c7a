//! The transition function. Pure: no clock, no randomness, no I/O.

use super::{
    Account, Applied, Command, Job, JobState, NewAccount, OriginState, Outcome, Rejection, Session,
    Title, TitleMeta, TitleState, model::Poster,
};

impl OriginState {
    pub(super) fn apply_command(&mut self, cmd: &Command) -> Outcome {
        match cmd {
            Command::CreateAccount(new) => self.create_account(new),
            Command::CreateSession {
                token_hash,
                account_id,
                expires_at,
                now,
            } => self.create_session(token_hash, account_id, *expires_at, *now),
            Command::DeleteSession { token_hash } => {
                self.sessions.remove(token_hash);
                Ok(Applied::Done)
            }
            Command::CreateTitle { id, meta, now } => self.create_title(id, meta, *now),
            Command::SetPoster {
                title_id,
                content_type,
                sha256,
            } => {
                let title = self
                    .titles
                    .get_mut(title_id)
                    .ok_or(Rejection::TitleNotFound)?;
                title.poster = Some(Poster {
                    content_type: content_type.clone(),
                    sha256: sha256.clone(),
                });
                Ok(Applied::Title(title.clone()))
            }
            Command::VideoUploaded {
                title_id,
                job_id,
                blob,
                sha256,
                size,
                now,
            } => self.video_uploaded(title_id, job_id, blob, sha256, *size, *now),
            Command::StartJob { job_id, now } => self.start_job(job_id, *now),
            Command::JobProgress {
                job_id,
                stage,
                progress,
                now,
            } => {
                let job = self.running_job(job_id)?;
                job.stage.clone_from(stage);
                job.progress = progress.clamp(0.0, 1.0);
                job.updated_at = *now;
                Ok(Applied::Job(job.clone()))
            }
            Command::JobSucceeded {
                job_id,
                duration_secs,
                package_dir,
                now,
            } => {
                let package = (*duration_secs, package_dir.clone());
                self.finish_job(job_id, Ok(package), *now)
            }
            Command::JobFailed { job_id, error, now } => {
                self.finish_job(job_id, Err(error.clone()), *now)
            }
            Command::RequeueRunning { now } => Ok(Applied::Requeued(self.requeue_running(*now))),
        }
    }

    fn create_account(&mut self, new: &NewAccount) -> Outcome {
        if self.emails.contains_key(&new.email) {
            return Err(Rejection::EmailTaken);
        }
        if self.accounts.contains_key(&new.id) {
            return Err(Rejection::AccountExists);
        }
        let account = Account {
            id: new.id.clone(),
            email: new.email.clone(),
            display_name: new.display_name.clone(),
            password_hash: new.password_hash.clone(),
            is_admin: new.is_admin,
            created_at: new.now,
        };
        self.emails
            .insert(account.email.clone(), account.id.clone());
        self.accounts.insert(account.id.clone(), account.clone());
        Ok(Applied::Account(account))
    }

    fn create_session(
        &mut self,
        hash: &str,
        account_id: &str,
        expires_at: u64,
        now: u64,
    ) -> Outcome {
        let account = self
            .accounts
            .get(account_id)
            .ok_or(Rejection::AccountNotFound)?
            .clone();
        // Expired sessions are dropped here so the map cannot grow without bound.
        self.sessions.retain(|_, s| s.expires_at > now);
        let session = Session {
            account_id: account_id.to_owned(),
            created_at: now,
            expires_at,
        };
        self.sessions.insert(hash.to_owned(), session);
        Ok(Applied::Account(account))
    }

    fn create_title(&mut self, id: &str, meta: &TitleMeta, now: u64) -> Outcome {
        if self.titles.contains_key(id) {
            return Err(Rejection::TitleExists);
        }
        let title = Title {
            id: id.to_owned(),
            meta: meta.clone(),
            state: TitleState::AwaitingVideo,
            duration_secs: None,
            package_dir: None,
            poster: None,
            job_id: None,
            created_at: now,
        };
        self.titles.insert(id.to_owned(), title.clone());
        Ok(Applied::Title(title))
    }

    fn video_uploaded(
        &mut self,
        title_id: &str,
        job_id: &str,
        blob: &str,
        sha256: &str,
        size: u64,
        now: u64,
    ) -> Outcome {
        let title = self.titles.get(title_id).ok_or(Rejection::TitleNotFound)?;
        let busy = title
            .job_id
            .as_ref()
            .and_then(|j| self.jobs.get(j))
            .is_some_and(|j| matches!(j.state, JobState::Queued | JobState::Running));
        if busy {
            return Err(Rejection::JobInProgress);
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
        self.jobs.insert(job.id.clone(), job.clone());
        if let Some(title) = self.titles.get_mut(title_id) {
            // A ready title keeps playing its current package while the new one is made.
            if title.state != TitleState::Ready {
                title.state = TitleState::Processing;
            }
            title.job_id = Some(job.id.clone());
        }
        Ok(Applied::Job(job))
    }

    fn start_job(&mut self, job_id: &str, now: u64) -> Outcome {
        let job = self.jobs.get_mut(job_id).ok_or(Rejection::JobNotFound)?;
        if job.state != JobState::Queued {
            return Err(Rejection::JobWrongState);
        }
        job.state = JobState::Running;
        job.stage = "starting".to_owned();
        job.progress = 0.0;
        job.updated_at = now;
        Ok(Applied::Job(job.clone()))
    }

    fn running_job(&mut self, job_id: &str) -> Result<&mut Job, Rejection> {
        let job = self.jobs.get_mut(job_id).ok_or(Rejection::JobNotFound)?;
        if job.state != JobState::Running {
            return Err(Rejection::JobWrongState);
        }
        Ok(job)
    }

    /// `result` is the new package (duration, folder) or the error. A ready title whose new
    /// package failed stays ready: its previous package still plays.
    fn finish_job(
        &mut self,
        job_id: &str,
        result: Result<(f64, Option<String>), String>,
        now: u64,
    ) -> Outcome {
        let job = self.running_job(job_id)?;
        job.updated_at = now;
        let title_state = match &result {
            Ok(_) => {
                job.state = JobState::Succeeded;
                job.stage = "done".to_owned();
                job.progress = 1.0;
                TitleState::Ready
            }
            Err(e) => {
                job.state = JobState::Failed;
                job.stage = "failed".to_owned();
                job.error = Some(e.clone());
                TitleState::Failed
            }
        };
        let job = job.clone();
        // Only the title's latest job may change the title.
        if let Some(title) = self.titles.get_mut(&job.title_id)
            && title.job_id.as_deref() == Some(job_id)
        {
            match result {
                Ok((duration, package_dir)) => {
                    title.state = title_state;
                    title.duration_secs = Some(duration);
                    title.package_dir = package_dir;
                }
                Err(_) if title.state != TitleState::Ready => title.state = title_state,
                Err(_) => {}
            }
        }
        Ok(Applied::Job(job))
    }

    fn requeue_running(&mut self, now: u64) -> u64 {
        let mut n = 0;
        for job in self
            .jobs
            .values_mut()
            .filter(|j| j.state == JobState::Running)
        {
            job.state = JobState::Queued;
            job.stage = "queued".to_owned();
            job.progress = 0.0;
            job.updated_at = now;
            n += 1;
        }
        n
    }
}
