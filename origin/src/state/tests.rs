//! The application as a whole: log entries of every era decode, and a legacy JSON state imports.

use super::testing::TestState;
use super::{Command, Origin};
use crate::catalogue::state::{self as catalogue, TitleState};
use crate::jobs::state::{self as jobs, JobState};
use crate::raft::App;
use crate::{accounts, catalogue as cat_domain};

#[test]
fn commands_keep_the_log_format_of_before_domains() {
    let cmd: Command = cat_domain::tests::create("t1", 5).into();
    let json = serde_json::to_string(&cmd).unwrap();
    assert!(json.starts_with(r#"{"CreateTitle":"#), "{json}");
    let back: Command = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cmd);
    let old = r#"{"DeleteSession":{"token_hash":"h"}}"#;
    assert!(matches!(
        serde_json::from_str::<Command>(old).unwrap(),
        Command::Accounts(accounts::state::Command::DeleteSession { .. })
    ));
    assert!(serde_json::from_str::<Command>(r#"{"Nonsense":{}}"#).is_err());
}

#[test]
fn log_entries_from_before_package_folders_replay_as_a_package_at_the_root() {
    let s = TestState::new();
    s.apply(cat_domain::tests::create("t1", 5)).unwrap();
    for entry in [
        r#"{"VideoUploaded":{"title_id":"t1","job_id":"j1","blob":"b","sha256":"ab","size":3,"now":7}}"#,
        r#"{"StartJob":{"job_id":"j1","now":8}}"#,
        r#"{"JobSucceeded":{"job_id":"j1","duration_secs":6.0,"now":9}}"#,
    ] {
        let cmd: Command = serde_json::from_str(entry).expect("an old entry still parses");
        s.write(|tx| {
            Origin.apply(tx, &cmd).unwrap();
        });
    }
    let title = s.read(|tx| catalogue::title(tx, "t1")).unwrap();
    assert_eq!(
        (title.state, title.package_path().as_str()),
        (TitleState::Ready, "/media/t1")
    );
}

/// The JSON an origin from before state files kept as its snapshot (fields as it wrote them).
pub(crate) const LEGACY_STATE: &str = r#"{
  "accounts": {"a1": {"id": "a1", "email": "ada@example.com", "display_name": "Ada",
                      "password_hash": "$argon2id$x", "is_admin": true, "created_at": 3}},
  "emails": {"ada@example.com": "a1"},
  "sessions": {"h1": {"account_id": "a1", "created_at": 4, "expires_at": 4000000000}},
  "titles": {"t1": {"id": "t1", "meta": {"name": "Bear", "synopsis": "A bear.", "year": 2020,
                    "genres": ["nature"], "maturity_rating": "G", "kind": "film",
                    "attribution": null},
                    "state": "ready", "duration_secs": 6.0, "poster": null, "job_id": "j1",
                    "package_dir": "j1", "created_at": 5}},
  "jobs": {"j1": {"id": "j1", "title_id": "t1", "state": "succeeded", "stage": "done",
                  "progress": 1.0, "error": null, "source_blob": "uploads/t1/j1",
                  "source_sha256": "ab", "source_size": 3, "created_at": 6, "updated_at": 7}}
}"#;

#[test]
fn a_legacy_json_state_imports_into_the_domain_tables() {
    let s = TestState::new();
    s.write(|tx| Origin.import_legacy(tx, LEGACY_STATE.as_bytes()).unwrap());
    let a = s.read(|tx| accounts::state::account_by_email(tx, "ada@example.com"));
    assert_eq!(a.map(|a| (a.id, a.is_admin)), Some(("a1".into(), true)));
    let session = s.read(|tx| accounts::state::session_account(tx, "h1", 10));
    assert_eq!(session.map(|a| a.id), Some("a1".into()));
    let title = s.read(|tx| catalogue::title(tx, "t1")).unwrap();
    assert_eq!(title.package_path(), "/media/t1/j1");
    assert_eq!(s.read(|tx| catalogue::titles(tx, false)).len(), 1);
    assert_eq!(s.read(jobs::counts)[2], (JobState::Succeeded, 1));
}

#[test]
fn a_guarded_command_applies_only_while_its_session_may_make_it() {
    use accounts::state::{Command as Accounts, Guard, GuardRefusal, NewAccount};
    let s = TestState::new();
    for (id, admin) in [("admin", true), ("viewer", false)] {
        s.apply(Accounts::CreateAccount(NewAccount {
            id: id.into(),
            email: format!("{id}@example.com"),
            display_name: id.into(),
            password_hash: "$argon2id$x".into(),
            is_admin: admin,
            now: 1,
        }))
        .unwrap();
        s.apply(Accounts::CreateSession {
            token_hash: format!("{id}-session"),
            account_id: id.into(),
            expires_at: 100,
            now: 1,
            device: String::new(),
        })
        .unwrap();
    }
    let guarded = |session: &str, now: u64, title: &str| {
        Command::Guarded(super::Guarded {
            guard: Guard {
                token_hash: session.into(),
                now,
                admin: true,
            },
            command: Box::new(cat_domain::tests::create(title, now).into()),
        })
    };
    let apply = |cmd: Command| {
        let mut out = None;
        s.write(|tx| out = Some(Origin.apply(tx, &cmd).unwrap()));
        out.unwrap()
    };
    let titles = || s.read(|tx| catalogue::title(tx, "t1")).is_some();
    for (session, now, why) in [
        ("admin-session", 100, GuardRefusal::SessionEnded),
        ("nobody", 5, GuardRefusal::SessionEnded),
        ("viewer-session", 5, GuardRefusal::NotAdmin),
    ] {
        assert_eq!(
            apply(guarded(session, now, "t1")),
            super::Outcome::Refused(why)
        );
        assert!(!titles(), "{session} at {now} created a title");
    }
    assert!(matches!(
        apply(guarded("admin-session", 5, "t1")),
        super::Outcome::Catalogue(Ok(_))
    ));
    assert!(titles());
    let json = serde_json::to_string(&guarded("admin-session", 5, "t2")).unwrap();
    assert!(json.starts_with(r#"{"guard":"#), "{json}");
    assert_eq!(
        serde_json::from_str::<Command>(&json).unwrap(),
        guarded("admin-session", 5, "t2")
    );
}
