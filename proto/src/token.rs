//! Playback tokens: Ed25519-signed [`PlaybackClaims`], carried in the URL path as `/t/<token>/…`.
//!
//! Origin holds the private key and signs; edges hold only public keys, so a compromised edge
//! cannot mint tokens. Each key has a `kid` so keys can be rotated: edges accept every kid they
//! were given, origin signs with one. Everything here is pure (no I/O, no clock): callers pass
//! `now`, which keeps verification deterministic in tests.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost::Message;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::v1::{PlaybackClaims, SignedToken};

/// Longest token accepted; a real one is ~200 bytes. Bounds work done on hostile input.
const MAX_TOKEN_LEN: usize = 2048;

/// Why a token was refused. The edge answers 403 with [`TokenRejection::reason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("the URL has no playback token (expected /t/<token>/...)")]
    Missing,
    #[error("the playback token is not valid base64url protobuf")]
    Malformed,
    #[error("the playback token was signed with an unknown key id {0:?}")]
    UnknownKey(String),
    #[error("the playback token's signature does not match its claims")]
    BadSignature,
    #[error("the playback token expired")]
    Expired,
    #[error("the playback token does not grant this path")]
    OutOfScope,
    #[error("this video rung is above the resolution the viewer's plan includes")]
    AbovePlan,
}

impl TokenRejection {
    /// Stable machine-readable code for logs, metrics labels and 403 bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::Malformed => "token_malformed",
            Self::UnknownKey(_) => "token_unknown_key",
            Self::BadSignature => "token_bad_signature",
            Self::Expired => "token_expired",
            Self::OutOfScope => "token_out_of_scope",
            Self::AbovePlan => "token_above_plan",
        }
    }
}

/// Errors loading key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the signing key is not a valid Ed25519 PKCS#8 document")]
    BadPrivateKey,
    #[error("could not generate a key: the system random source failed")]
    Random,
    #[error("public key spec {0:?} must look like <kid>=<base64url 32-byte Ed25519 key>")]
    BadPublicKeySpec(String),
}

/// Signs playback claims (origin side).
pub struct TokenSigner {
    kid: String,
    key: Ed25519KeyPair,
}

impl TokenSigner {
    /// A fresh Ed25519 private key as a PKCS#8 document, to be stored by the operator.
    pub fn generate_pkcs8() -> Result<Vec<u8>, KeyError> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| KeyError::Random)
    }

    pub fn from_pkcs8(kid: impl Into<String>, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let key = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| KeyError::BadPrivateKey)?;
        Ok(Self {
            kid: kid.into(),
            key,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The raw 32-byte public key edges need to verify this signer's tokens.
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }

    /// `<kid>=<base64url public key>`: the form edges take on their command line.
    pub fn public_key_spec(&self) -> String {
        format!("{}={}", self.kid, URL_SAFE_NO_PAD.encode(self.public_key()))
    }

    /// Signs `claims` (its `kid` is set to this signer's) and returns the URL-safe token.
    pub fn sign(&self, mut claims: PlaybackClaims) -> String {
        claims.kid = self.kid.clone();
        let claims = claims.encode_to_vec();
        let signature = self.key.sign(&claims).as_ref().to_vec();
        URL_SAFE_NO_PAD.encode(SignedToken { claims, signature }.encode_to_vec())
    }
}

/// Verifies playback tokens (edge side). Holds public keys only.
#[derive(Default, Clone)]
pub struct TokenVerifier {
    keys: HashMap<String, Vec<u8>>,
}

impl TokenVerifier {
    pub fn add_key(&mut self, kid: impl Into<String>, public_key: Vec<u8>) {
        self.keys.insert(kid.into(), public_key);
    }

    /// Adds a key given as `<kid>=<base64url public key>` (see [`TokenSigner::public_key_spec`]).
    pub fn add_key_spec(&mut self, spec: &str) -> Result<(), KeyError> {
        let bad = || KeyError::BadPublicKeySpec(spec.to_owned());
        let (kid, key) = spec.split_once('=').ok_or_else(bad)?;
        let key = URL_SAFE_NO_PAD.decode(key.trim()).map_err(|_| bad())?;
        if kid.is_empty() || key.len() != 32 {
            return Err(bad());
        }
        self.add_key(kid, key);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids accepted, in no particular order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Checks signature, key id, expiry and that `path` lies under the granted prefix.
    ///
    /// `path` is the request path with the `/t/<token>` part already removed.
    pub fn verify(
        &self,
        token: &str,
        path: &str,
        now_unix: u64,
    ) -> Result<PlaybackClaims, TokenRejection> {
        let claims = self.verify_signature(token)?;
        check_claims(&claims, path, now_unix)?;
        Ok(claims)
    }

    /// Checks only the signature and key id; callers that cache verified tokens use this once
    /// per token and [`check_claims`] on every request.
    pub fn verify_signature(&self, token: &str) -> Result<PlaybackClaims, TokenRejection> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(TokenRejection::Malformed);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenRejection::Malformed)?;
        let signed = SignedToken::decode(raw.as_slice()).map_err(|_| TokenRejection::Malformed)?;
        let claims = PlaybackClaims::decode(signed.claims.as_slice())
            .map_err(|_| TokenRejection::Malformed)?;
        let key = self
            .keys
            .get(&claims.kid)
            .ok_or_else(|| TokenRejection::UnknownKey(claims.kid.clone()))?;
        UnparsedPublicKey::new(&ED25519, key)
            .verify(&signed.claims, &signed.signature)
            .map_err(|_| TokenRejection::BadSignature)?;
        Ok(claims)
    }
}

/// Expiry and path scope. A path with `..` or `.` segments is refused outright, so a
/// scope can never be escaped by path tricks further down the chain.
pub fn check_claims(
    claims: &PlaybackClaims,
    path: &str,
    now_unix: u64,
) -> Result<(), TokenRejection> {
    if now_unix >= claims.expires_at_unix {
        return Err(TokenRejection::Expired);
    }
    let dotted = path.split('/').any(|s| s == ".." || s == ".");
    let encoded = path.contains('%');
    if claims.path_prefix.is_empty() || dotted || encoded || !path.starts_with(&claims.path_prefix)
    {
        return Err(TokenRejection::OutOfScope);
    }
    if claims.max_height > 0 && rung_height(path).is_some_and(|h| h > claims.max_height) {
        return Err(TokenRejection::AbovePlan);
    }
    Ok(())
}

/// The height of the video rung a package path is in: `…/video/<height>p/…` (the packager's
/// layout); `None` for manifests, audio, subtitles and thumbnails.
pub fn rung_height(path: &str) -> Option<u32> {
    let mut parts = path.split('/');
    while let Some(part) = parts.next() {
        if part == "video" {
            return parts.next()?.strip_suffix('p')?.parse().ok();
        }
    }
    None
}

/// Splits `/t/<token>/rest…` into the token and `/rest…`.
pub fn split_token_path(path: &str) -> Result<(&str, &str), TokenRejection> {
    let after = path.strip_prefix("/t/").ok_or(TokenRejection::Missing)?;
    let slash = after.find('/').ok_or(TokenRejection::Missing)?;
    let (token, rest) = after.split_at(slash);
    if token.is_empty() {
        return Err(TokenRejection::Missing);
    }
    Ok((token, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(kid: &str) -> TokenSigner {
        TokenSigner::from_pkcs8(kid, &TokenSigner::generate_pkcs8().unwrap()).unwrap()
    }

    fn claims(prefix: &str, exp: u64) -> PlaybackClaims {
        PlaybackClaims {
            path_prefix: prefix.into(),
            expires_at_unix: exp,
            title_id: "t1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_plan_cap_refuses_taller_rungs_only() {
        let mut c = claims("/media/t1/", 100);
        c.max_height = 720;
        let at = |c: &PlaybackClaims, path: &str| check_claims(c, path, 10);
        assert_eq!(at(&c, "/media/t1/j1/video/720p/seg-1.m4s"), Ok(()));
        assert_eq!(at(&c, "/media/t1/j1/video/360p/init.mp4"), Ok(()));
        assert_eq!(
            at(&c, "/media/t1/j1/video/1080p/seg-1.m4s"),
            Err(TokenRejection::AbovePlan)
        );
        let manifest = at(&c, "/media/t1/j1/manifest.mpd");
        assert_eq!(manifest, Ok(()), "manifests are not rungs");
        assert_eq!(at(&c, "/media/t1/j1/audio/en/seg-1.m4s"), Ok(()));
        c.max_height = 0;
        let uncapped = at(&c, "/media/t1/j1/video/2160p/seg-1.m4s");
        assert_eq!(uncapped, Ok(()), "0: no cap");
        assert_eq!(rung_height("/m/video/1080p/x"), Some(1080));
        assert_eq!(rung_height("/m/video/odd/x"), None);
    }

    fn verifier_for(s: &TokenSigner) -> TokenVerifier {
        let mut v = TokenVerifier::default();
        v.add_key_spec(&s.public_key_spec()).unwrap();
        v
    }

    #[test]
    fn valid_token_grants_paths_under_its_prefix() {
        let s = signer("k1");
        let tok = s.sign(claims("/media/t1/", 100));
        let got = verifier_for(&s)
            .verify(&tok, "/media/t1/a/seg-1.m4s", 99)
            .unwrap();
        assert_eq!(got.title_id, "t1");
        assert_eq!(got.kid, "k1");
    }

    #[test]
    fn expired_token_is_refused_at_the_expiry_second() {
        let s = signer("k1");
        let tok = s.sign(claims("/media/t1/", 100));
        let r = verifier_for(&s).verify(&tok, "/media/t1/x", 100);
        assert_eq!(r, Err(TokenRejection::Expired));
    }

    #[test]
    fn other_titles_and_dot_segments_are_out_of_scope() {
        let s = signer("k1");
        let v = verifier_for(&s);
        let tok = s.sign(claims("/media/t1/", 100));
        for p in [
            "/media/t2/x",
            "/media/t1/../t2/x",
            "/media/t1/./x",
            "/media/t1/%2e%2e/x",
        ] {
            assert_eq!(v.verify(&tok, p, 1), Err(TokenRejection::OutOfScope), "{p}");
        }
    }

    #[test]
    fn tampered_claims_fail_the_signature() {
        let s = signer("k1");
        let v = verifier_for(&s);
        let tok = s.sign(claims("/media/t1/", 100));
        let mut raw = URL_SAFE_NO_PAD.decode(&tok).unwrap();
        let mut signed = SignedToken::decode(raw.as_slice()).unwrap();
        let mut c = PlaybackClaims::decode(signed.claims.as_slice()).unwrap();
        c.expires_at_unix = u64::MAX;
        signed.claims = c.encode_to_vec();
        raw = signed.encode_to_vec();
        let forged = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(
            v.verify(&forged, "/media/t1/x", 1),
            Err(TokenRejection::BadSignature)
        );
    }

    #[test]
    fn unknown_kid_and_garbage_are_refused() {
        let a = signer("old");
        let b = signer("new");
        let tok = b.sign(claims("/media/t1/", 100));
        let v = verifier_for(&a);
        assert_eq!(
            v.verify(&tok, "/media/t1/x", 1),
            Err(TokenRejection::UnknownKey("new".into()))
        );
        assert_eq!(
            v.verify("!!!", "/media/t1/x", 1),
            Err(TokenRejection::Malformed)
        );
        assert_eq!(
            v.verify("", "/media/t1/x", 1),
            Err(TokenRejection::Malformed)
        );
        let long = "A".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            v.verify(&long, "/media/t1/x", 1),
            Err(TokenRejection::Malformed)
        );
    }

    #[test]
    fn rotation_accepts_both_kids() {
        let a = signer("old");
        let b = signer("new");
        let mut v = verifier_for(&a);
        v.add_key_spec(&b.public_key_spec()).unwrap();
        for s in [&a, &b] {
            let tok = s.sign(claims("/media/t1/", 100));
            assert!(v.verify(&tok, "/media/t1/x", 1).is_ok());
        }
    }

    #[test]
    fn bad_public_key_specs_say_what_is_wrong() {
        let mut v = TokenVerifier::default();
        for spec in ["nokey", "=AAAA", "k=notbase64!", "k=AAAA"] {
            assert!(
                matches!(v.add_key_spec(spec), Err(KeyError::BadPublicKeySpec(_))),
                "{spec}"
            );
        }
    }

    #[test]
    fn token_path_is_split_from_the_rest() {
        assert_eq!(
            split_token_path("/t/abc/media/t1/x"),
            Ok(("abc", "/media/t1/x"))
        );
        assert_eq!(
            split_token_path("/media/t1/x"),
            Err(TokenRejection::Missing)
        );
        assert_eq!(split_token_path("/t//media"), Err(TokenRejection::Missing));
        assert_eq!(split_token_path("/t/abc"), Err(TokenRejection::Missing));
    }
}
