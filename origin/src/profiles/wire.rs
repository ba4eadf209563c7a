//! JSON shapes of the profiles API, apart from the stored record (the PIN's hash stays home).

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::state;
use crate::policy::Maturity;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewProfile {
    /// 1 to 40 characters.
    pub name: String,
    /// One of the built-in avatars [default: the first one not in use on the account].
    pub avatar: Option<String>,
    /// [default: `en`]
    pub language: Option<String>,
    /// [default: `7+` for a kids profile, else `18+`]
    pub maturity: Option<Maturity>,
    /// A kids profile: the simpler look, and a maturity of at most `7+` [default: false].
    pub kids: Option<bool>,
    /// Four digits asked before the profile can be chosen.
    pub pin: Option<String>,
}

/// A `PATCH`: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileEdit {
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub language: Option<String>,
    pub maturity: Option<Maturity>,
    pub kids: Option<bool>,
    /// Four digits; `null` removes the PIN.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub pin: Option<Option<String>>,
}

/// A field that is present (even as `null`) becomes `Some`, so `null` differs from absent.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub avatar: String,
    pub language: String,
    /// `all`, `7+`, `13+`, `16+` or `18+`.
    pub maturity: Maturity,
    pub kids: bool,
    /// Whether choosing this profile asks for its PIN.
    pub has_pin: bool,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
}

/// `PUT /api/v1/sessions/current/profile`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChooseProfile {
    pub profile_id: String,
    /// The profile's 4 digits, when it has a PIN.
    pub pin: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProfileList {
    pub profiles: Vec<Profile>,
    /// The built-in avatars a profile can take.
    pub avatars: Vec<String>,
    /// The languages a profile can prefer.
    pub languages: Vec<String>,
}

impl From<&state::Profile> for Profile {
    fn from(p: &state::Profile) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            avatar: p.avatar.clone(),
            language: p.language.clone(),
            maturity: p.maturity,
            kids: p.kids,
            has_pin: p.pin_hash.is_some(),
            created_at: p.created_at,
        }
    }
}
