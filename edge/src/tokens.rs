//! Playback-token gate: Ed25519 verification once per token, claims checks on every request.
//!
//! A player fetches hundreds of segments with one token, so verified claims are kept in a
//! bounded moka map keyed by the token string. Only tokens whose signature verified enter the
//! map; expiry and path scope are still checked on every request against the cached claims.
//!
//! The keys come from `--token-public-key` until the control-plane hands over its key set
//! ([`TokenGate::install`]); from then on that set is the whole truth, so a key origin retired
//! stops being accepted everywhere. Swapping the set is one atomic pointer store: requests
//! never wait on it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use marquee_proto::token::{TokenRejection, TokenVerifier, check_claims};
use marquee_proto::v1::{PlaybackClaims, TokenKeySet};
use moka::sync::Cache;

/// Verified tokens kept at most this long (tokens live hours; this bounds memory churn only).
const VERIFIED_TTL: Duration = Duration::from_secs(600);
const VERIFIED_MAX_ENTRIES: u64 = 100_000;

pub struct TokenGate {
    verifier: ArcSwap<TokenVerifier>,
    verified: Cache<String, Arc<PlaybackClaims>>,
    /// The control-plane key set version installed (0: still the configured keys).
    version: AtomicU64,
}

/// A key set from the control-plane that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("token key {kid:?} from the control-plane is not a 32-byte Ed25519 key")]
pub struct BadKeySet {
    pub kid: String,
}

impl TokenGate {
    pub fn new(verifier: TokenVerifier) -> Self {
        let verified = Cache::builder()
            .max_capacity(VERIFIED_MAX_ENTRIES)
            .time_to_live(VERIFIED_TTL)
            .build();
        Self {
            verifier: ArcSwap::from_pointee(verifier),
            verified,
            version: AtomicU64::new(0),
        }
    }

    /// The control-plane key set version in use (0: none installed yet).
    pub fn keys_version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The key ids accepted now, sorted.
    pub fn kids(&self) -> Vec<String> {
        let set: BTreeSet<String> = self.verifier.load().kids().map(str::to_owned).collect();
        set.into_iter().collect()
    }

    /// Makes `set` the keys accepted. An empty set (origin has published nothing yet) keeps
    /// the current keys. When a key leaves, tokens verified with it are forgotten so they are
    /// refused from the next request on.
    pub fn install(&self, set: &TokenKeySet) -> Result<(), BadKeySet> {
        if !set.keys.is_empty() {
            let mut verifier = TokenVerifier::default();
            for key in &set.keys {
                if key.public_key.len() != 32 || key.kid.is_empty() {
                    return Err(BadKeySet {
                        kid: key.kid.clone(),
                    });
                }
                verifier.add_key(key.kid.clone(), key.public_key.clone());
            }
            let before = self.kids();
            let removed = before
                .iter()
                .any(|kid| !set.keys.iter().any(|k| &k.kid == kid));
            self.verifier.store(Arc::new(verifier));
            if removed {
                self.verified.invalidate_all();
            }
        }
        self.version.store(set.version, Ordering::Release);
        Ok(())
    }

    /// Checks `token` for `path` (the path with `/t/<token>` removed) at `now_unix`.
    pub fn authorize(
        &self,
        token: &str,
        path: &str,
        now_unix: u64,
    ) -> Result<Arc<PlaybackClaims>, TokenRejection> {
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.verifier.load().verify_signature(token)?);
                self.verified.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        check_claims(&claims, path, now_unix)?;
        Ok(claims)
    }

    /// Number of verified tokens remembered (for tests and metrics).
    pub fn remembered(&self) -> u64 {
        self.verified.run_pending_tasks();
        self.verified.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_proto::token::TokenSigner;

    fn setup() -> (TokenSigner, TokenGate) {
        let signer =
            TokenSigner::from_pkcs8("k1", &TokenSigner::generate_pkcs8().unwrap()).unwrap();
        let mut v = TokenVerifier::default();
        v.add_key_spec(&signer.public_key_spec()).unwrap();
        (signer, TokenGate::new(v))
    }

    fn claims(exp: u64) -> PlaybackClaims {
        PlaybackClaims {
            path_prefix: "/media/t1/".into(),
            expires_at_unix: exp,
            ..Default::default()
        }
    }

    #[test]
    fn cached_tokens_still_expire_and_stay_scoped() {
        let (signer, gate) = setup();
        let tok = signer.sign(claims(100));
        assert!(gate.authorize(&tok, "/media/t1/a", 10).is_ok());
        assert_eq!(gate.remembered(), 1);
        assert_eq!(
            gate.authorize(&tok, "/media/t2/a", 10),
            Err(TokenRejection::OutOfScope)
        );
        assert_eq!(
            gate.authorize(&tok, "/media/t1/a", 100),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn rejected_tokens_are_not_remembered() {
        let (_, gate) = setup();
        let other = TokenSigner::from_pkcs8("k2", &TokenSigner::generate_pkcs8().unwrap()).unwrap();
        let tok = other.sign(claims(100));
        assert_eq!(
            gate.authorize(&tok, "/media/t1/a", 10),
            Err(TokenRejection::UnknownKey("k2".into()))
        );
        assert_eq!(
            gate.authorize("garbage!", "/media/t1/a", 10),
            Err(TokenRejection::Malformed)
        );
        assert_eq!(gate.remembered(), 0);
    }

    fn key_set(version: u64, signers: &[&TokenSigner]) -> TokenKeySet {
        TokenKeySet {
            version,
            keys: signers
                .iter()
                .map(|s| marquee_proto::v1::TokenKey {
                    kid: s.kid().to_owned(),
                    public_key: s.public_key(),
                    retire_at_unix: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn the_control_plane_set_replaces_the_keys_and_a_retired_one_stops_at_once() {
        let (k1, gate) = setup();
        let k2 = TokenSigner::from_pkcs8("k2", &TokenSigner::generate_pkcs8().unwrap()).unwrap();
        let (old, new) = (k1.sign(claims(100)), k2.sign(claims(100)));
        assert!(gate.authorize(&old, "/media/t1/a", 10).is_ok());
        assert!(gate.authorize(&new, "/media/t1/a", 10).is_err());

        // Rotation: both keys for the token lifetime.
        gate.install(&key_set(2, &[&k1, &k2])).unwrap();
        assert_eq!(gate.keys_version(), 2);
        assert_eq!(gate.kids(), ["k1", "k2"]);
        assert!(gate.authorize(&old, "/media/t1/a", 10).is_ok());
        assert!(gate.authorize(&new, "/media/t1/a", 10).is_ok());

        // k1 retired: refused even though it was verified (and remembered) before.
        gate.install(&key_set(3, &[&k2])).unwrap();
        assert_eq!(
            gate.authorize(&old, "/media/t1/a", 10),
            Err(TokenRejection::UnknownKey("k1".into()))
        );
        assert!(gate.authorize(&new, "/media/t1/a", 10).is_ok());

        // An empty set (nothing published yet) keeps what is there; a broken one changes nothing.
        gate.install(&key_set(4, &[])).unwrap();
        assert_eq!(gate.kids(), ["k2"]);
        let mut broken = key_set(5, &[&k1]);
        broken.keys[0].public_key.truncate(5);
        assert!(gate.install(&broken).is_err());
        assert_eq!(
            (gate.keys_version(), gate.kids()),
            (4, vec!["k2".to_owned()])
        );
    }
}
