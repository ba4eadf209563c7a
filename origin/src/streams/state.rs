//! Stream leases in the replicated state: account ‖ session → who plays what, until when.
//! Decided in `apply`, so two players starting at once on different nodes cannot both take
//! the last free stream.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table, key};

/// Account id ‖ session token hash → the lease.
const LEASES: Table<Lease> = Table::new("stream_leases");

/// A lease lasts this long unless its player renews it (players renew every 20 s).
pub const LEASE_SECS: u64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// "Chrome on Linux", as the viewer would recognise the device.
    pub device: String,
    /// The profile watching ("" without profiles).
    pub profile: String,
    pub title_id: String,
    pub expires_at: u64,
}

impl Lease {
    /// How the refusal names it: "Chrome on Linux (Alex)".
    pub fn label(&self) -> String {
        if self.profile.is_empty() {
            self.device.clone()
        } else {
            format!("{} ({})", self.device, self.profile)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Takes or renews this session's stream, if the plan has one free.
    Claim {
        account_id: String,
        session: String,
        lease: Lease,
        max_streams: u8,
        now: u64,
    },
    /// The player stopped: the stream is free at once.
    Release { account_id: String, session: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Held,
    Released,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error(
        "your plan allows {max} {screens} at once and Marquee is playing on {list}; stop one of them to watch here",
        screens = if *max == 1 { "screen" } else { "screens" },
        list = elsewhere.join(", ")
    )]
    TooManyStreams { max: u8, elsewhere: Vec<String> },
}

pub type Outcome = Result<Applied, Rejection>;

fn row(account_id: &str, session: &str) -> Vec<u8> {
    key::join(&[account_id.as_bytes(), session.as_bytes()])
}

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::Claim {
            account_id,
            session,
            lease,
            max_streams,
            now,
        } => {
            let all = leases(tx, account_id)?;
            let mine = all.iter().any(|(s, _)| s == session);
            let others: Vec<&Lease> = all
                .iter()
                .filter(|(s, l)| s != session && l.expires_at > *now)
                .map(|(_, l)| l)
                .collect();
            if !mine && others.len() >= usize::from(*max_streams) {
                return Ok(Err(Rejection::TooManyStreams {
                    max: *max_streams,
                    elsewhere: others.iter().map(|l| l.label()).collect(),
                }));
            }
            for (s, l) in &all {
                if s != session && l.expires_at <= *now {
                    LEASES.remove(tx, &row(account_id, s))?;
                }
            }
            LEASES.put(tx, &row(account_id, session), lease)?;
            Ok(Ok(Applied::Held))
        }
        Command::Release {
            account_id,
            session,
        } => {
            LEASES.remove(tx, &row(account_id, session))?;
            Ok(Ok(Applied::Released))
        }
    }
}

/// The account's leases (expired ones included): (session, lease).
pub fn leases(tx: &impl Reads, account_id: &str) -> Result<Vec<(String, Lease)>, StoreError> {
    let prefix = key::join(&[account_id.as_bytes(), b""]);
    Ok(LEASES
        .prefix(tx, &prefix, false, 1_000)?
        .into_iter()
        .map(|(k, l)| (key::last_part(&k), l))
        .collect())
}
