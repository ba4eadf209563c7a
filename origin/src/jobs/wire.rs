//! JSON shapes of the jobs API (docs/interfaces.md), separate from the stored records so
//! nothing stored is serialised by accident.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state::{self, JobState};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: String,
    pub title_id: String,
    pub state: JobState,
    pub stage: String,
    /// 0.0 to 1.0.
    pub progress: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
    /// The origin node running (or that last ran) the job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<u64>,
}

impl From<&state::Job> for Job {
    fn from(j: &state::Job) -> Self {
        Self {
            id: j.id.clone(),
            title_id: j.title_id.clone(),
            state: j.state,
            stage: j.stage.clone(),
            progress: j.progress,
            error: j.error.clone(),
            created_at: j.created_at,
            updated_at: j.updated_at,
            worker: j.worker,
        }
    }
}
