//! Exact outcomes of the accounts commands, applied to a real state file.

use super::state::{self, Applied, Command, NewAccount, Rejection};
use crate::state::testing::TestState;

fn new_account(id: &str, email: &str) -> Command {
    Command::CreateAccount(NewAccount {
        id: id.into(),
        email: email.into(),
        display_name: "Ada".into(),
        password_hash: "$argon2id$x".into(),
        is_admin: false,
        now: 10,
    })
}

fn session(hash: &str, expires_at: u64, now: u64) -> Command {
    Command::CreateSession {
        token_hash: hash.into(),
        account_id: "a1".into(),
        expires_at,
        now,
        device: "Chrome on Linux".into(),
    }
}

#[test]
fn account_is_created_then_the_email_is_taken() {
    let s = TestState::new();
    let Ok(Applied::Account(a)) = s.apply(new_account("a1", "ada@example.com")) else {
        panic!("not created")
    };
    assert_eq!((a.id.as_str(), a.created_at, a.is_admin), ("a1", 10, false));
    assert_eq!(
        s.apply(new_account("a2", "ada@example.com")),
        Err(Rejection::EmailTaken)
    );
    assert_eq!(
        s.apply(new_account("a1", "bob@example.com")),
        Err(Rejection::AccountExists)
    );
    let found = s.read(|tx| state::account_by_email(tx, "ada@example.com"));
    assert_eq!(found.map(|a| a.id), Some("a1".to_owned()));
    assert_eq!(
        s.read(|tx| state::account_by_email(tx, "bob@example.com")),
        None
    );
}

#[test]
fn sessions_expire_and_expired_ones_are_pruned() {
    let s = TestState::new();
    s.apply(new_account("a1", "ada@example.com")).unwrap();
    s.apply(session("h1", 100, 0)).unwrap();
    let at = |h: &str, now| {
        s.read(|tx| state::session_account(tx, h, now))
            .map(|a| a.id)
    };
    assert_eq!(at("h1", 99), Some("a1".to_owned()));
    assert_eq!(at("h1", 100), None);
    // A sign-in after h1 expired drops it.
    s.apply(session("h2", 300, 200)).unwrap();
    assert_eq!(s.read(state::session_count), 1);
    s.apply(Command::DeleteSession {
        token_hash: "h2".into(),
    })
    .unwrap();
    assert_eq!(at("h2", 201), None);
    assert_eq!(s.read(state::session_count), 0);
    let unknown = Command::CreateSession {
        token_hash: "h3".into(),
        account_id: "nobody".into(),
        expires_at: 1,
        now: 0,
        device: String::new(),
    };
    assert_eq!(s.apply(unknown), Err(Rejection::AccountNotFound));
}

#[test]
fn pruning_is_bounded_per_sign_in_and_keeps_live_sessions() {
    let s = TestState::new();
    s.apply(new_account("a1", "ada@example.com")).unwrap();
    for i in 0..100 {
        s.apply(session(&format!("old{i:03}"), 50, 0)).unwrap();
    }
    s.apply(session("live", 1_000, 10)).unwrap();
    s.apply(session("new1", 1_000, 60)).unwrap();
    // 64 of the 100 expired ones went with that sign-in, the rest with the next.
    assert_eq!(s.read(state::session_count), 100 + 2 - 64);
    s.apply(session("new2", 1_000, 61)).unwrap();
    assert_eq!(s.read(state::session_count), 3);
    let live = s.read(|tx| state::session_account(tx, "live", 61));
    assert_eq!(live.map(|a| a.id), Some("a1".to_owned()));
}

#[test]
fn sessions_from_before_devices_are_filed_under_their_account_by_the_upgrade() {
    let s = TestState::new();
    s.apply(new_account("a1", "ada@example.com")).unwrap();
    s.apply(session("h1", 100, 1)).unwrap();
    // A state written before the index: the sessions are there, the index is not.
    s.write(|tx| {
        let def = redb::TableDefinition::<&[u8], &[u8]>::new("sessions_by_account");
        tx.delete_table(def).unwrap();
    });
    assert!(s.read(|tx| state::sessions_of(tx, "a1")).is_empty());
    s.write(|tx| state::upgrade(tx).unwrap());
    let listed = s.read(|tx| state::sessions_of(tx, "a1"));
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].0.as_str(), listed[0].1.device.as_str()),
        ("h1", "Chrome on Linux")
    );
}
