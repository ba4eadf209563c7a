//! Which key signs now and which keys a token may carry: the key file's until a rotation, then
//! the replicated ones ([`super::state`]), each accepted until its retirement time.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use marquee_proto::token::{TokenSigner, TokenVerifier};

use super::state;
use crate::raft::StoreError;
use crate::raft::tables::Reads;

pub struct Keyring {
    file: Arc<TokenSigner>,
    /// The last signer made from the state (parsing a PKCS#8 key on every playback is waste).
    rotated: Mutex<Option<Arc<TokenSigner>>>,
    /// The last verifier built, for every edge miss to reuse (decoding keys each time is waste).
    accepted: Mutex<Option<CachedVerifier>>,
}

/// A verifier and the span it is right for. Keys change only by a rotation, and a rotation
/// always changes the active kid, so the active kid and the time window identify it.
struct CachedVerifier {
    active: Option<String>,
    built_at: u64,
    /// The earliest retirement among its keys: from then on one of them must go.
    valid_until: u64,
    verifier: Arc<TokenVerifier>,
}

impl CachedVerifier {
    fn fits(&self, active: &Option<String>, now_unix: u64) -> bool {
        &self.active == active && (self.built_at..self.valid_until).contains(&now_unix)
    }
}

fn corrupt(kid: &str, what: &str) -> StoreError {
    StoreError::Other(format!("token key {kid:?}: {what}"))
}

fn decode(kid: &str, b64: &str) -> Result<Vec<u8>, StoreError> {
    URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| corrupt(kid, "not base64url"))
}

impl Keyring {
    pub fn new(file: TokenSigner) -> Self {
        Self {
            file: Arc::new(file),
            rotated: Mutex::new(None),
            accepted: Mutex::new(None),
        }
    }

    /// The key from `--token-key-file`.
    pub fn file_key(&self) -> &TokenSigner {
        &self.file
    }

    /// The key every node signs with now.
    pub fn signer(&self, tx: &impl Reads) -> Result<Arc<TokenSigner>, StoreError> {
        let Some(kid) = state::active(tx)? else {
            return Ok(self.file.clone());
        };
        let mut cached = self.rotated.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(signer) = cached.as_ref().filter(|s| s.kid() == kid) {
            return Ok(signer.clone());
        }
        let private = state::key(tx, &kid)?
            .and_then(|k| k.private_key)
            .ok_or_else(|| corrupt(&kid, "active but without its private half"))?;
        let pkcs8 = decode(&kid, &private.0)?;
        let signer = TokenSigner::from_pkcs8(&kid, &pkcs8)
            .map(Arc::new)
            .map_err(|e| corrupt(&kid, &e.to_string()))?;
        *cached = Some(signer.clone());
        Ok(signer)
    }

    /// Every key a token may be signed with at `now_unix`.
    pub fn verifier(
        &self,
        tx: &impl Reads,
        now_unix: u64,
    ) -> Result<Arc<TokenVerifier>, StoreError> {
        let active = state::active(tx)?;
        let mut cached = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = cached.as_ref().filter(|c| c.fits(&active, now_unix)) {
            return Ok(hit.verifier.clone());
        }
        let mut verifier = TokenVerifier::default();
        let mut valid_until = u64::MAX;
        let rotated = state::all(tx)?;
        // The key file's key has a row once a rotation replaced it; until then it is current.
        if !rotated.iter().any(|(kid, _)| kid == self.file.kid()) {
            verifier.add_key(self.file.kid(), self.file.public_key());
        }
        for (kid, key) in rotated {
            if key.retire_at.is_none_or(|at| at > now_unix) {
                let public = decode(&kid, &key.public_key)?;
                verifier.add_key(kid, public);
                valid_until = valid_until.min(key.retire_at.unwrap_or(u64::MAX));
            }
        }
        let verifier = Arc::new(verifier);
        *cached = Some(CachedVerifier {
            active,
            built_at: now_unix,
            valid_until,
            verifier: verifier.clone(),
        });
        Ok(verifier)
    }
}
