//! Accounts and sessions in the replicated state: records, tables, commands and queries.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    /// Normalised: trimmed, lowercase.
    pub email: String,
    pub display_name: String,
    /// Argon2id PHC string; never leaves the origin.
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: u64,
}

/// A sign-up, fully decided by the handler (id, hash, admin flag, clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub now: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub account_id: String,
    pub created_at: u64,
    pub expires_at: u64,
    /// The profile chosen for this session ("who's watching"); sessions from before profiles
    /// have none.
    #[serde(default)]
    pub profile_id: Option<String>,
    /// The device it signed in from ("Chrome on Linux"); empty for sessions from before.
    #[serde(default)]
    pub device: String,
}

/// Account id → account.
const ACCOUNTS: Table<Account> = Table::new("accounts");
/// Normalised email → account id.
const EMAILS: Table<String> = Table::new("accounts_by_email");
/// SHA-256 (hex) of a session token → session. The raw token is never stored.
const SESSIONS: Table<Session> = Table::new("sessions");
/// `expires_at` (big-endian) ‖ 0 ‖ token hash → (): finds expired sessions without a scan.
const SESSION_EXPIRY: Table<()> = Table::new("sessions_by_expiry");
/// Account id ‖ 0 ‖ token hash → (): an account's sessions, for its devices page.
const SESSIONS_BY_ACCOUNT: Table<()> = Table::new("sessions_by_account");

/// The most sessions the devices page lists (and "sign out everywhere" ends per command).
pub const MAX_SESSIONS_LISTED: usize = 500;

/// Expired sessions dropped per command, so one command never does unbounded work.
const PRUNE_BATCH: usize = 64;

/// A change to accounts or sessions, with every id and timestamp decided by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    CreateAccount(NewAccount),
    /// Creates a session and drops some sessions that expired before `now`.
    CreateSession {
        token_hash: String,
        account_id: String,
        expires_at: u64,
        now: u64,
        /// Absent in log entries from before devices were named.
        #[serde(default)]
        device: String,
    },
    DeleteSession {
        token_hash: String,
    },
    /// Ends every session of the account ("sign out everywhere").
    EndAllSessions {
        account_id: String,
    },
    /// Chooses the session's profile, which must belong to the session's account (the
    /// handler has checked its PIN).
    SelectProfile {
        token_hash: String,
        profile_id: String,
        now: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Applied {
    Done,
    Account(Account),
}

/// Why a command was refused; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("an account with this id already exists")]
    AccountExists,
    #[error("no such account")]
    AccountNotFound,
    #[error("your session has ended; sign in again")]
    SessionEnded,
    #[error("no such profile")]
    ProfileNotFound,
}

pub type Outcome = Result<Applied, Rejection>;

/// The session a guarded command was asked under ([`crate::state::Guarded`]), checked when the
/// command applies: the access check rides in the log instead of costing a read-index round
/// before the write, and is exactly as linearizable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guard {
    /// SHA-256 of the session token.
    pub token_hash: String,
    /// The handler's clock, so every node decides expiry alike.
    pub now: u64,
    /// Whether the session must belong to an admin.
    pub admin: bool,
}

/// Why a guarded command was not applied; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum GuardRefusal {
    #[error("your session has ended; sign in again")]
    SessionEnded,
    #[error("only admins can do this")]
    NotAdmin,
}

/// Whether `guard`'s session may still make its change.
pub fn check_guard(tx: &impl Reads, guard: &Guard) -> Result<Result<(), GuardRefusal>, StoreError> {
    Ok(match session_account(tx, &guard.token_hash, guard.now)? {
        None => Err(GuardRefusal::SessionEnded),
        Some(account) if guard.admin && !account.is_admin => Err(GuardRefusal::NotAdmin),
        Some(_) => Ok(()),
    })
}

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::CreateAccount(new) => create_account(tx, new),
        Command::CreateSession {
            token_hash,
            account_id,
            expires_at,
            now,
            device,
        } => create_session(tx, token_hash, account_id, *expires_at, *now, device),
        Command::DeleteSession { token_hash } => {
            delete_session(tx, token_hash)?;
            Ok(Ok(Applied::Done))
        }
        Command::EndAllSessions { account_id } => {
            for (hash, _) in sessions_of(tx, account_id)? {
                delete_session(tx, &hash)?;
            }
            Ok(Ok(Applied::Done))
        }
        Command::SelectProfile {
            token_hash,
            profile_id,
            now,
        } => select_profile(tx, token_hash, profile_id, *now),
    }
}

fn create_account(tx: &WriteTransaction, new: &NewAccount) -> Result<Outcome, StoreError> {
    if EMAILS.contains(tx, new.email.as_bytes())? {
        return Ok(Err(Rejection::EmailTaken));
    }
    if ACCOUNTS.contains(tx, new.id.as_bytes())? {
        return Ok(Err(Rejection::AccountExists));
    }
    let account = Account {
        id: new.id.clone(),
        email: new.email.clone(),
        display_name: new.display_name.clone(),
        password_hash: new.password_hash.clone(),
        is_admin: new.is_admin,
        created_at: new.now,
    };
    put_account(tx, &account)?;
    Ok(Ok(Applied::Account(account)))
}

fn put_account(tx: &WriteTransaction, account: &Account) -> Result<(), StoreError> {
    EMAILS.put(tx, account.email.as_bytes(), &account.id)?;
    ACCOUNTS.put(tx, account.id.as_bytes(), account)
}

fn create_session(
    tx: &WriteTransaction,
    hash: &str,
    account_id: &str,
    expires_at: u64,
    now: u64,
    device: &str,
) -> Result<Outcome, StoreError> {
    let Some(account) = ACCOUNTS.get(tx, account_id.as_bytes())? else {
        return Ok(Err(Rejection::AccountNotFound));
    };
    prune_expired(tx, now)?;
    let session = Session {
        account_id: account_id.to_owned(),
        created_at: now,
        expires_at,
        profile_id: None,
        device: device.to_owned(),
    };
    put_session(tx, hash, &session)?;
    Ok(Ok(Applied::Account(account)))
}

fn select_profile(
    tx: &WriteTransaction,
    hash: &str,
    profile_id: &str,
    now: u64,
) -> Result<Outcome, StoreError> {
    let Some(mut session) = SESSIONS
        .get(tx, hash.as_bytes())?
        .filter(|s| now < s.expires_at)
    else {
        return Ok(Err(Rejection::SessionEnded));
    };
    if crate::profiles::state::owned(tx, &session.account_id, profile_id)?.is_none() {
        return Ok(Err(Rejection::ProfileNotFound));
    }
    session.profile_id = Some(profile_id.to_owned());
    SESSIONS.put(tx, hash.as_bytes(), &session)?;
    Ok(Ok(Applied::Done))
}

fn put_session(tx: &WriteTransaction, hash: &str, session: &Session) -> Result<(), StoreError> {
    SESSIONS.put(tx, hash.as_bytes(), session)?;
    let by_account = key::join(&[session.account_id.as_bytes(), hash.as_bytes()]);
    SESSIONS_BY_ACCOUNT.put(tx, &by_account, &())?;
    let expiry = key::join(&[&key::u64(session.expires_at), hash.as_bytes()]);
    SESSION_EXPIRY.put(tx, &expiry, &())
}

fn delete_session(tx: &WriteTransaction, hash: &str) -> Result<(), StoreError> {
    if let Some(s) = SESSIONS.get(tx, hash.as_bytes())? {
        SESSIONS.remove(tx, hash.as_bytes())?;
        let by_account = key::join(&[s.account_id.as_bytes(), hash.as_bytes()]);
        SESSIONS_BY_ACCOUNT.remove(tx, &by_account)?;
        let expiry = key::join(&[&key::u64(s.expires_at), hash.as_bytes()]);
        SESSION_EXPIRY.remove(tx, &expiry)?;
    }
    Ok(())
}

/// The account's sessions (expired ones not yet pruned included): (token hash, session).
pub fn sessions_of(
    tx: &impl Reads,
    account_id: &str,
) -> Result<Vec<(String, Session)>, StoreError> {
    let prefix = key::join(&[account_id.as_bytes(), b""]);
    let mut out = Vec::new();
    for (k, ()) in SESSIONS_BY_ACCOUNT.prefix(tx, &prefix, false, MAX_SESSIONS_LISTED)? {
        let hash = key::last_part(&k);
        if let Some(s) = SESSIONS.get(tx, hash.as_bytes())? {
            out.push((hash, s));
        }
    }
    Ok(out)
}

/// Upgrade: files the sessions a state from before devices kept under their accounts.
pub(crate) fn upgrade(tx: &WriteTransaction) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    SESSIONS.for_each(tx, |k, s| {
        rows.push(key::join(&[s.account_id.as_bytes(), k]));
        Ok(())
    })?;
    for row in rows {
        SESSIONS_BY_ACCOUNT.put(tx, &row, &())?;
    }
    Ok(())
}

/// Drops up to [`PRUNE_BATCH`] sessions that expired at or before `now`; sign-ins keep the
/// table from growing without bound.
fn prune_expired(tx: &WriteTransaction, now: u64) -> Result<(), StoreError> {
    let end = key::u64(now.saturating_add(1));
    for (k, ()) in SESSION_EXPIRY.range(tx, &[], Some(&end), false, PRUNE_BATCH)? {
        delete_session(tx, &key::last_part(&k))?;
    }
    Ok(())
}

/// Imports records kept by an origin from before state files.
pub(crate) fn import(
    tx: &WriteTransaction,
    accounts: impl IntoIterator<Item = Account>,
    sessions: impl IntoIterator<Item = (String, Session)>,
) -> Result<(), StoreError> {
    for a in accounts {
        put_account(tx, &a)?;
    }
    for (hash, s) in sessions {
        put_session(tx, &hash, &s)?;
    }
    Ok(())
}

pub fn account(tx: &impl Reads, id: &str) -> Result<Option<Account>, StoreError> {
    ACCOUNTS.get(tx, id.as_bytes())
}

pub fn account_by_email(
    tx: &impl Reads,
    normalised_email: &str,
) -> Result<Option<Account>, StoreError> {
    match EMAILS.get(tx, normalised_email.as_bytes())? {
        Some(id) => account(tx, &id),
        None => Ok(None),
    }
}

/// The account behind a session, if the session exists and has not expired at `now`.
pub fn session_account(
    tx: &impl Reads,
    token_hash: &str,
    now: u64,
) -> Result<Option<Account>, StoreError> {
    Ok(session_viewer(tx, token_hash, now)?.map(|(account, _)| account))
}

/// The account behind a live session and the profile chosen for it (if it still exists), from
/// one read of the session.
pub fn session_viewer(
    tx: &impl Reads,
    token_hash: &str,
    now: u64,
) -> Result<Option<(Account, Option<crate::profiles::state::Profile>)>, StoreError> {
    let Some(s) = SESSIONS
        .get(tx, token_hash.as_bytes())?
        .filter(|s| now < s.expires_at)
    else {
        return Ok(None);
    };
    let Some(account) = account(tx, &s.account_id)? else {
        return Ok(None);
    };
    let profile = match &s.profile_id {
        Some(id) => crate::profiles::state::owned(tx, &s.account_id, id)?,
        None => None,
    };
    Ok(Some((account, profile)))
}

/// Number of sessions stored (tests: pruning keeps it bounded).
pub fn session_count(tx: &impl Reads) -> Result<usize, StoreError> {
    Ok(SESSIONS.prefix(tx, b"", false, usize::MAX)?.len())
}
