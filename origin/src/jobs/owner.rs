//! Whose video a job packages: a film's title or a series' episode. Both keep their package
//! under `media/<their id>/`, so a job knows only the id (`Job::title_id`, named before
//! episodes existed) and asks here which of the two it is.

use redb::WriteTransaction;

use crate::catalogue::state as catalogue;
use crate::raft::StoreError;
use crate::raft::tables::Reads;
use crate::series::state as series;

/// The live state of a video's owner that jobs care about.
pub struct Owner {
    /// The catalogue title it belongs to: the film, or the episode's series.
    pub title_id: String,
    pub job_id: Option<String>,
    pub package_dir: Option<String>,
}

/// The title or episode `id`, if either exists.
pub fn find(tx: &impl Reads, id: &str) -> Result<Option<Owner>, StoreError> {
    if let Some(t) = catalogue::title(tx, id)? {
        return Ok(Some(Owner {
            title_id: t.id,
            job_id: t.job_id,
            package_dir: t.package_dir,
        }));
    }
    Ok(series::episode(tx, id)?.map(|e| Owner {
        title_id: e.series_id,
        job_id: e.job_id,
        package_dir: e.package_dir,
    }))
}

pub(super) fn video_queued(
    tx: &WriteTransaction,
    id: &str,
    job_id: &str,
) -> Result<(), StoreError> {
    if !catalogue::video_queued(tx, id, job_id)? {
        series::video_queued(tx, id, job_id)?;
    }
    Ok(())
}

pub(super) fn job_finished(
    tx: &WriteTransaction,
    id: &str,
    job_id: &str,
    result: Result<(f64, Option<String>), ()>,
) -> Result<(), StoreError> {
    catalogue::job_finished(tx, id, job_id, result.clone())?;
    series::job_finished(tx, id, job_id, result)
}
