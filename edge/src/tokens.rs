//! Playback-token gate: Ed25519 verification once per token, claims checks on every request.
//!
//! A player fetches hundreds of segments with one token, so verified claims are kept in a
//! bounded moka map keyed by the token string. Only tokens whose signature verified enter the
//! map; expiry and path scope are still checked on every request against the cached claims.

use std::sync::Arc;
use std::time::Duration;

use marquee_proto::token::{TokenRejection, TokenVerifier, check_claims};
use marquee_proto::v1::PlaybackClaims;
use moka::sync::Cache;

/// Verified tokens kept at most this long (tokens live hours; this bounds memory churn only).
const VERIFIED_TTL: Duration = Duration::from_secs(600);
const VERIFIED_MAX_ENTRIES: u64 = 100_000;

pub struct TokenGate {
    verifier: TokenVerifier,
    verified: Cache<String, Arc<PlaybackClaims>>,
}

impl TokenGate {
    pub fn new(verifier: TokenVerifier) -> Self {
        let verified = Cache::builder()
            .max_capacity(VERIFIED_MAX_ENTRIES)
            .time_to_live(VERIFIED_TTL)
            .build();
        Self { verifier, verified }
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
                let claims = Arc::new(self.verifier.verify_signature(token)?);
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
}
