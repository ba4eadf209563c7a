//! Leases: a plan's streams are shared by sessions; a session renews its own; a lease left
//! unrenewed frees its stream; a refusal names the devices and changes nothing.

use super::state::{Applied, Command, LEASE_SECS, Lease, Rejection, leases};
use crate::state::testing::TestState;

fn claim(s: &TestState, session: &str, device: &str, now: u64) -> Result<Applied, Rejection> {
    s.apply(Command::Claim {
        account_id: "a1".into(),
        session: session.into(),
        lease: Lease {
            device: device.into(),
            profile: if session == "s1" {
                "Alex".into()
            } else {
                String::new()
            },
            title_id: "t1".into(),
            expires_at: now + LEASE_SECS,
        },
        max_streams: 2,
        now,
    })
}

#[test]
fn a_third_stream_on_a_two_stream_plan_is_refused_naming_the_other_two() {
    let s = TestState::new();
    claim(&s, "s1", "Chrome on Linux", 100).unwrap();
    claim(&s, "s2", "Safari on iPhone", 101).unwrap();
    let refused = claim(&s, "s3", "Firefox on Windows", 102).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "your plan allows 2 screens at once and Marquee is playing on Chrome on Linux (Alex), \
         Safari on iPhone; stop one of them to watch here"
    );
    // A session renewing its own stream is never refused.
    claim(&s, "s1", "Chrome on Linux", 120).unwrap();
    s.apply(Command::Release {
        account_id: "a1".into(),
        session: "s2".into(),
    })
    .unwrap();
    claim(&s, "s3", "Firefox on Windows", 121).unwrap();
}

#[test]
fn a_lease_not_renewed_frees_its_stream() {
    let s = TestState::new();
    claim(&s, "s1", "Chrome on Linux", 100).unwrap();
    claim(&s, "s2", "TV", 100).unwrap();
    assert!(claim(&s, "s3", "Phone", 100 + LEASE_SECS - 1).is_err());
    claim(&s, "s1", "Chrome on Linux", 130).unwrap();
    // s2 stopped renewing at 100: at 160 its stream is free, and the stale lease is gone.
    claim(&s, "s3", "Phone", 100 + LEASE_SECS).unwrap();
    let sessions: Vec<String> = s
        .read(|tx| leases(tx, "a1"))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(sessions, ["s1", "s3"]);
}
