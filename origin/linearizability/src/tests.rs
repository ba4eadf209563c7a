//! Histories with a known verdict, including the anomalies a broken replicated store produces.

use super::*;

fn create(
    client: u64,
    call: u64,
    ret: Option<u64>,
    key: &str,
    created: Option<bool>,
) -> Op<CreateOnceOp, bool> {
    Op::new(client, call, ret, CreateOnceOp::create(key), created)
}

fn exists(client: u64, call: u64, ret: u64, key: &str, found: bool) -> Op<CreateOnceOp, bool> {
    Op::new(
        client,
        call,
        Some(ret),
        CreateOnceOp::exists(key),
        Some(found),
    )
}

#[test]
fn a_sequential_history_that_follows_the_model_passes() {
    let h = vec![
        exists(0, 0, 1, "a", false),
        create(0, 2, Some(3), "a", Some(true)),
        exists(1, 4, 5, "a", true),
        create(1, 6, Some(7), "a", Some(false)),
    ];
    assert_eq!(check(&CreateOnce, &h), Ok(()));
}

#[test]
fn concurrent_operations_may_take_effect_in_either_order() {
    // The read overlaps the create: seeing it or not are both fine.
    for found in [true, false] {
        let h = vec![
            create(0, 10, Some(30), "a", Some(true)),
            exists(1, 20, 40, "a", found),
        ];
        assert_eq!(check(&CreateOnce, &h), Ok(()), "found = {found}");
    }
}

#[test]
fn a_stale_read_after_an_acknowledged_create_is_caught() {
    // What a follower answering guarded reads from its own state produces in a partition.
    let h = vec![
        create(0, 10, Some(20), "ada", Some(true)),
        exists(1, 30, 40, "ada", false),
    ];
    let v = check(&CreateOnce, &h).unwrap_err();
    assert_eq!(v.key, "ada");
    assert_eq!(v.longest_prefix, [0]);
    assert_eq!(v.stuck, [1]);
}

#[test]
fn two_successful_creates_of_one_key_are_caught() {
    // Two sign-ups with one email both acknowledged: a lost update (split brain).
    let h = vec![
        create(0, 10, Some(20), "ada", Some(true)),
        create(1, 15, Some(25), "ada", Some(true)),
    ];
    assert!(check(&CreateOnce, &h).is_err());
}

#[test]
fn an_unanswered_create_may_or_may_not_have_happened() {
    // The client timed out; later reads may see it or not, but not flip back.
    let seen = vec![create(0, 10, None, "a", None), exists(1, 50, 60, "a", true)];
    assert_eq!(check(&CreateOnce, &seen), Ok(()));
    let unseen = vec![
        create(0, 10, None, "a", None),
        exists(1, 50, 60, "a", false),
    ];
    assert_eq!(check(&CreateOnce, &unseen), Ok(()));
    let flip = vec![
        create(0, 10, None, "a", None),
        exists(1, 50, 60, "a", true),
        exists(1, 70, 80, "a", false),
    ];
    assert!(
        check(&CreateOnce, &flip).is_err(),
        "once seen, it cannot vanish"
    );
}

#[test]
fn keys_are_checked_apart_and_the_bad_one_is_named() {
    let h = vec![
        create(0, 10, Some(20), "good", Some(true)),
        create(1, 10, Some(20), "bad", Some(true)),
        exists(2, 30, 40, "good", true),
        exists(3, 30, 40, "bad", false),
    ];
    let v = check(&CreateOnce, &h).unwrap_err();
    assert_eq!(v.key, "bad");
    assert_eq!(v.stuck, [3]);
}

#[test]
fn a_register_read_must_see_the_latest_completed_write() {
    let w = |c, call, ret, v: &str| {
        Op::new(
            c,
            call,
            Some(ret),
            RegisterOp::Write("t".into(), v.into()),
            None,
        )
    };
    let r = |c, call, ret, v: Option<&str>| {
        Op::new(
            c,
            call,
            Some(ret),
            RegisterOp::Read("t".into()),
            Some(v.map(str::to_owned)),
        )
    };
    let ok = vec![w(0, 0, 10, "x"), w(1, 20, 30, "y"), r(2, 40, 50, Some("y"))];
    assert_eq!(check(&Register, &ok), Ok(()));
    let stale = vec![w(0, 0, 10, "x"), w(1, 20, 30, "y"), r(2, 40, 50, Some("x"))];
    assert!(check(&Register, &stale).is_err());
    let racing = vec![w(0, 0, 30, "x"), w(1, 10, 40, "y"), r(2, 50, 60, Some("x"))];
    assert_eq!(
        check(&Register, &racing),
        Ok(()),
        "the writes overlap: x may win"
    );
}

#[test]
fn a_long_concurrent_history_is_checked_quickly() {
    // 8 clients, 200 operations on 10 keys, all overlapping in windows: memoisation keeps the
    // search small.
    let mut h = Vec::new();
    for i in 0..200u64 {
        let key = format!("k{}", i % 10);
        let t = i * 10;
        if i < 10 {
            h.push(create(i % 8, t, Some(t + 35), &key, Some(true)));
        } else {
            h.push(exists(i % 8, t, t + 35, &key, true));
        }
    }
    let started = std::time::Instant::now();
    assert_eq!(check(&CreateOnce, &h), Ok(()));
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

#[test]
fn many_unanswered_operations_on_one_key_do_not_blow_up_the_search() {
    // What a fault run on a slow machine records: most requests time out. 40 unanswered
    // creates and 40 unanswered reads of one key, and a stale read at the end that no order
    // can explain, so the search must rule out every placement of the unanswered ones.
    let mut h = vec![create(0, 0, Some(5), "k", Some(true))];
    for i in 0..40u64 {
        h.push(create(1 + i % 6, 10 + i, None, "k", None));
        h.push(Op::new(
            1 + i % 6,
            10 + i,
            None,
            CreateOnceOp::exists("k"),
            None,
        ));
    }
    h.push(exists(7, 100, 110, "k", false));
    let started = std::time::Instant::now();
    let v = check(&CreateOnce, &h).expect_err("the last read is stale");
    assert_eq!(v.stuck, [h.len() - 1]);
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

#[test]
fn unanswered_writes_nobody_read_are_left_out_and_the_verdict_stands() {
    let write = |c, call, ret, v: &str| {
        Op::new(c, call, ret, RegisterOp::Write("t".into(), v.into()), None)
    };
    let read = |c, call, ret, v: &str| {
        Op::new(
            c,
            call,
            Some(ret),
            RegisterOp::Read("t".into()),
            Some(Some(v.to_owned())),
        )
    };
    // 30 unanswered writes of values nobody saw, one unanswered write that a read saw.
    let mut h = vec![write(0, 0, Some(5), "first")];
    for i in 0..30u64 {
        h.push(write(1 + i % 5, 10 + i, None, &format!("lost{i}")));
    }
    h.push(write(6, 50, None, "seen"));
    h.push(read(7, 100, 110, "seen"));
    let pruned = Register::without_unseen_unanswered_writes(&h);
    assert_eq!(pruned.len(), 3, "{pruned:?}");
    assert_eq!(check(&Register, &pruned), Ok(()));
    // A read of the first value after the seen write returned is stale either way.
    h.push(read(8, 200, 210, "first"));
    let pruned = Register::without_unseen_unanswered_writes(&h);
    assert_eq!(pruned.len(), 4);
    let started = std::time::Instant::now();
    assert!(check(&Register, &pruned).is_err());
    assert!(started.elapsed().as_secs() < 5);
}
