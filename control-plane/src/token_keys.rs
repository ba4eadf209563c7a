//! Playback-token public keys, handed to every edge so that origin can rotate its signing key.
//!
//! Origin publishes a new key here (`PUT /v1/token-keys/{kid}`), waits until every live edge
//! holds it (edges report the key-set version they verify with in each heartbeat, and fetch
//! `GET /v1/token-keys` when the acknowledgement names a different one), and only then signs
//! with it. The key it stopped signing with is retired at that moment plus the token lifetime,
//! so tokens already handed out keep playing; after that edges stop accepting it.
//!
//! [`TokenKeys`] is pure and tested without I/O; the handlers live in [`crate::server`].

use std::collections::BTreeMap;

use marquee_proto::v1::{TokenKey, TokenKeySet};
use serde::{Deserialize, Serialize};

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{0:?} is not a key id: use 1 to 64 letters, digits, '-' and '_'")]
    BadKid(String),
    #[error("the public key must be 32 bytes (an Ed25519 key), base64url without padding")]
    BadKey,
    #[error("key id {0:?} is already published with another key; a key id names one key forever")]
    Conflict(String),
    #[error("no key {0:?} is published")]
    Unknown(String),
}

/// One published key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// Raw Ed25519 public key.
    pub public_key: Vec<u8>,
    /// The set version that first held it: an edge at this version or later has it.
    pub added_in: u64,
    /// When edges stop accepting it (`None`: no end set).
    pub retire_at_unix: Option<u64>,
}

/// The published keys and the set's version, bumped at every change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenKeys {
    version: u64,
    keys: BTreeMap<String, KeyEntry>,
}

fn check_kid(kid: &str) -> Result<(), KeyError> {
    let ok = (1..=64).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(KeyError::BadKid(kid.to_owned()))
    }
}

impl TokenKeys {
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn get(&self, kid: &str) -> Option<&KeyEntry> {
        self.keys.get(kid)
    }

    /// Adds `kid`; publishing the same key again changes nothing (origin republishes its
    /// signing key at every start). Returns whether the set changed.
    pub fn publish(&mut self, kid: &str, public_key: Vec<u8>) -> Result<bool, KeyError> {
        check_kid(kid)?;
        if public_key.len() != 32 {
            return Err(KeyError::BadKey);
        }
        match self.keys.get(kid) {
            Some(entry) if entry.public_key == public_key => Ok(false),
            Some(_) => Err(KeyError::Conflict(kid.to_owned())),
            None => {
                self.version += 1;
                let entry = KeyEntry {
                    public_key,
                    added_in: self.version,
                    retire_at_unix: None,
                };
                self.keys.insert(kid.to_owned(), entry);
                Ok(true)
            }
        }
    }

    /// Sets when `kid` stops being accepted (a later call moves it).
    pub fn retire(&mut self, kid: &str, at_unix: u64) -> Result<(), KeyError> {
        let entry = self
            .keys
            .get_mut(kid)
            .ok_or_else(|| KeyError::Unknown(kid.to_owned()))?;
        if entry.retire_at_unix != Some(at_unix) {
            entry.retire_at_unix = Some(at_unix);
            self.version += 1;
        }
        Ok(())
    }

    /// Drops keys whose retirement time has come; true when any went.
    pub fn sweep(&mut self, now_unix: u64) -> bool {
        let before = self.keys.len();
        self.keys
            .retain(|_, e| e.retire_at_unix.is_none_or(|at| at > now_unix));
        let changed = self.keys.len() != before;
        if changed {
            self.version += 1;
        }
        changed
    }

    /// What edges fetch.
    pub fn set(&self) -> TokenKeySet {
        TokenKeySet {
            version: self.version,
            keys: self
                .keys
                .iter()
                .map(|(kid, e)| TokenKey {
                    kid: kid.clone(),
                    public_key: e.public_key.clone(),
                    retire_at_unix: e.retire_at_unix.unwrap_or(0),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_moves_the_version_and_republishing_does_not() {
        let mut keys = TokenKeys::default();
        assert!(keys.publish("k1", vec![1; 32]).unwrap());
        assert_eq!(keys.version(), 1);
        assert!(!keys.publish("k1", vec![1; 32]).unwrap(), "same key again");
        assert_eq!(keys.version(), 1);
        assert!(keys.publish("k2", vec![2; 32]).unwrap());
        assert_eq!(keys.get("k2").unwrap().added_in, 2);
        keys.retire("k1", 1_000).unwrap();
        keys.retire("k1", 1_000).unwrap();
        assert_eq!(
            keys.version(),
            3,
            "retiring twice at one time is one change"
        );
        let set = keys.set();
        assert_eq!(set.version, 3);
        assert_eq!(set.keys.len(), 2);
        assert_eq!(set.keys[0].retire_at_unix, 1_000);
    }

    #[test]
    fn retired_keys_leave_the_set_when_their_time_comes() {
        let mut keys = TokenKeys::default();
        keys.publish("k1", vec![1; 32]).unwrap();
        keys.publish("k2", vec![2; 32]).unwrap();
        keys.retire("k1", 1_000).unwrap();
        assert!(!keys.sweep(999), "still within the token lifetime");
        assert!(keys.sweep(1_000));
        let set = keys.set();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].kid, "k2");
        assert_eq!(set.version, 4);
    }

    #[test]
    fn bad_keys_are_refused_and_change_nothing() {
        let mut keys = TokenKeys::default();
        keys.publish("k1", vec![1; 32]).unwrap();
        let before = keys.clone();
        assert_eq!(
            keys.publish("k1", vec![9; 32]),
            Err(KeyError::Conflict("k1".into()))
        );
        assert_eq!(
            keys.publish("k 2", vec![1; 32]),
            Err(KeyError::BadKid("k 2".into()))
        );
        assert_eq!(
            keys.publish("", vec![1; 32]),
            Err(KeyError::BadKid(String::new()))
        );
        assert_eq!(keys.publish("k3", vec![1; 31]), Err(KeyError::BadKey));
        assert_eq!(
            keys.retire("nope", 5),
            Err(KeyError::Unknown("nope".into()))
        );
        assert_eq!(keys, before);
    }
}
