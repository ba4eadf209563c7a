//! JSON shapes of the accounts API (docs/interfaces.md), separate from the stored records so
//! nothing stored is serialised by accident (password hashes above all).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::state;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignUp {
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    /// The profile chosen for this session (`GET /api/v1/me` only; `null` until one is).
    pub profile: Option<crate::profiles::wire::Profile>,
}

impl From<&state::Account> for Account {
    fn from(a: &state::Account) -> Self {
        Self {
            id: a.id.clone(),
            email: a.email.clone(),
            display_name: a.display_name.clone(),
            is_admin: a.is_admin,
            created_at: a.created_at,
            profile: None,
        }
    }
}
