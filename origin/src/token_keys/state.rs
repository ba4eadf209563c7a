//! Rotated signing keys in the replicated state: every node signs with the active one.
//!
//! The private half travels in the Raft log and snapshots (as the key file sits on each node's
//! disk); it is redacted from every `Debug` print so it never reaches a log line.

use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use crate::raft::StoreError;
use crate::raft::tables::{Reads, Table};

/// A PKCS#8 private key, base64url; never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretKey(pub String);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(redacted)")
    }
}

/// A key origin signed or signs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    /// Raw Ed25519 public key, base64url.
    pub public_key: String,
    /// Kept while the key signs; dropped once replaced (its tokens only need checking).
    pub private_key: Option<SecretKey>,
    pub created_at: u64,
    /// When its tokens stop being accepted (set when it is replaced).
    pub retire_at: Option<u64>,
}

/// Kid → key.
const KEYS: Table<StoredKey> = Table::new("token_keys");
/// The one row `b""` → the kid nodes sign with (absent: the key file's).
const ACTIVE: Table<String> = Table::new("token_key_active");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// `kid` becomes the signing key; `previous` (the key signing until now, the key file's
    /// when no rotation happened yet) is accepted until `previous_retire_at`.
    Rotate {
        kid: String,
        public_key: String,
        private_key: SecretKey,
        previous_kid: String,
        previous_public_key: String,
        previous_retire_at: u64,
        now: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Rotated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("key id {0:?} was used before")]
    KidTaken(String),
    /// Another rotation landed first: `previous` is no longer the signing key.
    #[error("the signing key changed meanwhile (now {0:?}); rotate again")]
    Raced(String),
}

pub type Outcome = Result<Applied, Rejection>;

pub fn apply(tx: &WriteTransaction, cmd: &Command) -> Result<Outcome, StoreError> {
    let Command::Rotate {
        kid,
        public_key,
        private_key,
        previous_kid,
        previous_public_key,
        previous_retire_at,
        now,
    } = cmd;
    if KEYS.contains(tx, kid.as_bytes())? {
        return Ok(Err(Rejection::KidTaken(kid.clone())));
    }
    if let Some(active) = ACTIVE.get(tx, b"")?
        && &active != previous_kid
    {
        return Ok(Err(Rejection::Raced(active)));
    }
    let previous = match KEYS.get(tx, previous_kid.as_bytes())? {
        Some(mut key) => {
            key.private_key = None;
            key.retire_at = Some(*previous_retire_at);
            key
        }
        None => StoredKey {
            public_key: previous_public_key.clone(),
            private_key: None,
            created_at: *now,
            retire_at: Some(*previous_retire_at),
        },
    };
    KEYS.put(tx, previous_kid.as_bytes(), &previous)?;
    let key = StoredKey {
        public_key: public_key.clone(),
        private_key: Some(private_key.clone()),
        created_at: *now,
        retire_at: None,
    };
    KEYS.put(tx, kid.as_bytes(), &key)?;
    ACTIVE.put(tx, b"", kid)?;
    Ok(Ok(Applied::Rotated))
}

/// The kid nodes sign with, when a rotation happened.
pub fn active(tx: &impl Reads) -> Result<Option<String>, StoreError> {
    ACTIVE.get(tx, b"")
}

pub fn key(tx: &impl Reads, kid: &str) -> Result<Option<StoredKey>, StoreError> {
    KEYS.get(tx, kid.as_bytes())
}

/// Every key rotated to or from, by kid.
pub fn all(tx: &impl Reads) -> Result<Vec<(String, StoredKey)>, StoreError> {
    let rows = KEYS.prefix(tx, b"", false, usize::MAX)?;
    Ok(rows
        .into_iter()
        .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
        .collect())
}
