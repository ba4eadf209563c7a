use std::sync::Arc;

use super::keyring::Keyring;
use super::state::{self, Command, Rejection, SecretKey};
use crate::state::testing::TestState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use marquee_proto::token::{TokenRejection, TokenSigner};
use marquee_proto::v1::PlaybackClaims;

fn signer(kid: &str) -> (TokenSigner, Vec<u8>) {
    let pkcs8 = TokenSigner::generate_pkcs8().unwrap();
    (TokenSigner::from_pkcs8(kid, &pkcs8).unwrap(), pkcs8)
}

fn rotate(from: &TokenSigner, to: &TokenSigner, pkcs8: &[u8], retire_at: u64) -> Command {
    Command::Rotate {
        kid: to.kid().into(),
        public_key: URL_SAFE_NO_PAD.encode(to.public_key()),
        private_key: SecretKey(URL_SAFE_NO_PAD.encode(pkcs8)),
        previous_kid: from.kid().into(),
        previous_public_key: URL_SAFE_NO_PAD.encode(from.public_key()),
        previous_retire_at: retire_at,
        now: 100,
    }
}

fn token(s: &TokenSigner) -> String {
    s.sign(PlaybackClaims {
        path_prefix: "/media/t1/".into(),
        expires_at_unix: 10_000,
        ..Default::default()
    })
}

#[test]
fn a_rotation_signs_with_the_new_key_and_accepts_the_old_until_it_retires() {
    let db = TestState::new();
    let (file, file_pkcs8) = signer("k1");
    let old_token = token(&file);
    let ring = Keyring::new(TokenSigner::from_pkcs8("k1", &file_pkcs8).unwrap());
    assert_eq!(db.read(|tx| ring.signer(tx)).kid(), "k1");

    let (k2, pkcs8) = signer("k2");
    db.apply(rotate(&file, &k2, &pkcs8, 500)).unwrap();
    let now_signing = db.read(|tx| ring.signer(tx));
    assert_eq!(now_signing.kid(), "k2");
    let new_token = now_signing.sign(PlaybackClaims {
        path_prefix: "/media/t1/".into(),
        expires_at_unix: 10_000,
        ..Default::default()
    });
    let path = "/media/t1/a.m4s";
    let before = db.read(|tx| ring.verifier(tx, 499));
    assert!(
        before.verify(&old_token, path, 499).is_ok(),
        "k1 within its lifetime"
    );
    assert!(before.verify(&new_token, path, 499).is_ok());
    let after = db.read(|tx| ring.verifier(tx, 500));
    assert_eq!(
        after.verify(&old_token, path, 500),
        Err(TokenRejection::UnknownKey("k1".into()))
    );
    assert!(after.verify(&new_token, path, 500).is_ok());
    // Checked again before the retirement, the same verifier serves (no rebuild per request).
    let k2_only = db.read(|tx| ring.verifier(tx, 501));
    assert!(Arc::ptr_eq(&after, &db.read(|tx| ring.verifier(tx, 502))));
    let (k3, pkcs8_3) = signer("k3");
    db.apply(rotate(&k2, &k3, &pkcs8_3, 900)).unwrap();
    let rotated_again = db.read(|tx| ring.verifier(tx, 503));
    assert!(
        !Arc::ptr_eq(&k2_only, &rotated_again),
        "a rotation rebuilds it"
    );
    assert!(rotated_again.kids().any(|kid| kid == "k3"));
    // The replaced key keeps only its public half.
    let k1 = db.read(|tx| state::key(tx, "k1")).unwrap();
    assert!(k1.private_key.is_none());
}

#[test]
fn a_stale_or_repeated_rotation_is_refused_and_changes_nothing() {
    let db = TestState::new();
    let (file, _) = signer("k1");
    let (k2, pkcs8) = signer("k2");
    db.apply(rotate(&file, &k2, &pkcs8, 500)).unwrap();
    let (k3, pkcs8_3) = signer("k3");
    // Made while k1 still signed: another rotation (to k2) landed first.
    assert_eq!(
        db.apply(rotate(&file, &k3, &pkcs8_3, 600)),
        Err(Rejection::Raced("k2".into()))
    );
    assert_eq!(
        db.apply(rotate(&k2, &k2, &pkcs8, 600)),
        Err(Rejection::KidTaken("k2".into()))
    );
}

#[test]
fn the_private_key_never_prints() {
    let (k2, pkcs8) = signer("k2");
    let (file, _) = signer("k1");
    let cmd = rotate(&file, &k2, &pkcs8, 500);
    let secret = URL_SAFE_NO_PAD.encode(&pkcs8);
    assert!(!format!("{cmd:?}").contains(&secret));
    assert!(format!("{cmd:?}").contains("redacted"));
}
