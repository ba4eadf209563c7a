//! Profiles in the replicated state: records, tables, commands and queries.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::accounts;
use crate::policy::Maturity;
use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// Profiles one account may have; the next one is refused with this number in the reason.
pub const MAX_PER_ACCOUNT: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// One of the built-in avatars, by name.
    pub avatar: String,
    /// The language the profile prefers (subtitles, audio, the app), e.g. `en`.
    pub language: String,
    /// The oldest titles it may see ([`crate::policy::may_watch`]).
    pub maturity: Maturity,
    /// A kids profile: the simpler look, and a limit of at most [`Maturity::KIDS_MAX`].
    pub kids: bool,
    /// Argon2id PHC string of the 4-digit PIN; never leaves the origin.
    pub pin_hash: Option<String>,
    pub created_at: u64,
}

/// What a `PATCH` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub language: Option<String>,
    pub maturity: Option<Maturity>,
    pub kids: Option<bool>,
    pub pin: Option<PinChange>,
}

/// A change of PIN. Not an `Option<Option<_>>`: in the log's JSON, "remove" (`null`) would read
/// back as "not given".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PinChange {
    /// The new PIN's Argon2id hash.
    Set(String),
    Remove,
}

/// Id → profile.
const PROFILES: Table<Profile> = Table::new("profiles");
/// Account id ‖ profile id → (): an account's profiles, oldest first (ids sort by time).
const BY_ACCOUNT: Table<()> = Table::new("profiles_by_account");

/// A change to profiles, with every id, hash and timestamp decided by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    CreateProfile(Profile),
    UpdateProfile {
        account_id: String,
        id: String,
        change: ProfileChange,
    },
    DeleteProfile {
        account_id: String,
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Applied {
    Done,
    Profile(Profile),
}

/// Why a command was refused; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("an account has at most {max} profiles; delete one first")]
    TooManyProfiles { max: usize },
    #[error("a profile with this id already exists")]
    ProfileExists,
    /// Also for another account's profile: whether it exists is not this account's business.
    #[error("no such profile")]
    ProfileNotFound,
    #[error("no such account")]
    AccountNotFound,
    #[error("a kids profile's maturity limit is at most {}", Maturity::KIDS_MAX.as_str())]
    KidsAboveLimit,
}

pub type Outcome = Result<Applied, Rejection>;

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::CreateProfile(profile) => create(tx, profile),
        Command::UpdateProfile {
            account_id,
            id,
            change,
        } => update(tx, account_id, id, change),
        Command::DeleteProfile { account_id, id } => delete(tx, account_id, id),
    }
}

fn create(tx: &WriteTransaction, profile: &Profile) -> Result<Outcome, StoreError> {
    if accounts::state::account(tx, &profile.account_id)?.is_none() {
        return Ok(Err(Rejection::AccountNotFound));
    }
    if PROFILES.contains(tx, profile.id.as_bytes())? {
        return Ok(Err(Rejection::ProfileExists));
    }
    if count(tx, &profile.account_id)? >= MAX_PER_ACCOUNT {
        return Ok(Err(Rejection::TooManyProfiles {
            max: MAX_PER_ACCOUNT,
        }));
    }
    if too_mature_for_kids(profile) {
        return Ok(Err(Rejection::KidsAboveLimit));
    }
    put(tx, profile)?;
    Ok(Ok(Applied::Profile(profile.clone())))
}

fn update(
    tx: &WriteTransaction,
    account_id: &str,
    id: &str,
    change: &ProfileChange,
) -> Result<Outcome, StoreError> {
    let Some(mut profile) = owned(tx, account_id, id)? else {
        return Ok(Err(Rejection::ProfileNotFound));
    };
    let ProfileChange {
        name,
        avatar,
        language,
        maturity,
        kids,
        pin,
    } = change.clone();
    profile.name = name.unwrap_or(profile.name);
    profile.avatar = avatar.unwrap_or(profile.avatar);
    profile.language = language.unwrap_or(profile.language);
    profile.maturity = maturity.unwrap_or(profile.maturity);
    profile.kids = kids.unwrap_or(profile.kids);
    profile.pin_hash = match pin {
        Some(PinChange::Set(hash)) => Some(hash),
        Some(PinChange::Remove) => None,
        None => profile.pin_hash,
    };
    // Checked on the result: a PATCH of `kids` alone must not leave an 18+ kids profile.
    if too_mature_for_kids(&profile) {
        return Ok(Err(Rejection::KidsAboveLimit));
    }
    PROFILES.put(tx, profile.id.as_bytes(), &profile)?;
    Ok(Ok(Applied::Profile(profile)))
}

fn delete(tx: &WriteTransaction, account_id: &str, id: &str) -> Result<Outcome, StoreError> {
    if owned(tx, account_id, id)?.is_none() {
        return Ok(Err(Rejection::ProfileNotFound));
    }
    PROFILES.remove(tx, id.as_bytes())?;
    BY_ACCOUNT.remove(tx, &key::join(&[account_id.as_bytes(), id.as_bytes()]))?;
    // What the profile kept goes with it, in the same entry.
    crate::mylist::state::forget_profile(tx, id)?;
    crate::ratings::state::forget_profile(tx, id)?;
    crate::history::state::forget_profile(tx, id)?;
    crate::notifications::state::forget_profile(tx, id)?;
    Ok(Ok(Applied::Done))
}

fn too_mature_for_kids(profile: &Profile) -> bool {
    profile.kids && profile.maturity > Maturity::KIDS_MAX
}

fn put(tx: &WriteTransaction, profile: &Profile) -> Result<(), StoreError> {
    let by_account = key::join(&[profile.account_id.as_bytes(), profile.id.as_bytes()]);
    BY_ACCOUNT.put(tx, &by_account, &())?;
    PROFILES.put(tx, profile.id.as_bytes(), profile)
}

fn count(tx: &impl Reads, account_id: &str) -> Result<usize, StoreError> {
    let prefix = key::join(&[account_id.as_bytes(), b""]);
    Ok(BY_ACCOUNT.prefix(tx, &prefix, false, usize::MAX)?.len())
}

/// Profile `id` if it belongs to `account_id`.
pub fn owned(tx: &impl Reads, account_id: &str, id: &str) -> Result<Option<Profile>, StoreError> {
    Ok(PROFILES
        .get(tx, id.as_bytes())?
        .filter(|p| p.account_id == account_id))
}

/// An account's profiles, oldest first.
pub fn of_account(tx: &impl Reads, account_id: &str) -> Result<Vec<Profile>, StoreError> {
    let prefix = key::join(&[account_id.as_bytes(), b""]);
    let mut out = Vec::new();
    for (k, ()) in BY_ACCOUNT.prefix(tx, &prefix, false, MAX_PER_ACCOUNT)? {
        if let Some(p) = PROFILES.get(tx, key::last_part(&k).as_bytes())? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Profile `id`, whoever owns it (for work done on a profile's behalf: notifications).
pub fn profile(tx: &impl Reads, id: &str) -> Result<Option<Profile>, StoreError> {
    PROFILES.get(tx, id.as_bytes())
}

/// Every profile, in id order.
pub fn each(tx: &impl Reads, mut f: impl FnMut(Profile)) -> Result<(), StoreError> {
    PROFILES.for_each(tx, |_, p| {
        f(p);
        Ok(())
    })
}
