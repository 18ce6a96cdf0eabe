//! `regulars points …` from many processes at once: one key counts once, and redemptions
//! together never spend more than the balance; the points expiring soon, and the warnings the
//! expiry records once.

use crate::{regulars, stderr, stdout, write};

#[test]
fn points_commands_from_many_processes_count_each_key_once_and_never_overspend() {
    let dir = tempfile::tempdir().unwrap();
    let members = write(dir.path(), "members.csv", "member_id,name\nM1,Amy\n");
    let out = regulars(
        dir.path(),
        &["import", "members", members.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let run = |args: &[&str]| regulars(dir.path(), args);
    let earned = run(&["points", "earn", "M1", "100", "--reason", "welcome"]);
    assert_eq!(
        stdout(&earned),
        "+100 points; 100 available\n",
        "{}",
        stderr(&earned)
    );

    // Six processes run the same redemption: it is recorded once.
    let same: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    run(&[
                        "points",
                        "redeem",
                        "M1",
                        "10",
                        "--reason",
                        "latte",
                        "--idempotency-key",
                        "receipt-1",
                    ])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        same.iter().all(|o| o.status.success()),
        "{}",
        stderr(&same[0])
    );
    let first = same
        .iter()
        .filter(|o| stdout(o).starts_with("-10 points"))
        .count();
    assert_eq!(first, 1);

    // Ten processes each redeem 30 of the 90 left: three go through, seven are refused.
    let many: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|n| {
                let run = &run;
                scope.spawn(move || {
                    let key = format!("receipt-2-{n}");
                    run(&[
                        "points",
                        "redeem",
                        "M1",
                        "30",
                        "--reason",
                        "cake",
                        "--idempotency-key",
                        &key,
                    ])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let done = many.iter().filter(|o| o.status.success()).count();
    assert_eq!(done, 3);
    let refused = many.iter().find(|o| !o.status.success()).unwrap();
    assert!(
        stderr(refused).contains("30 points asked, 0 available"),
        "{}",
        stderr(refused)
    );

    let history = run(&["--json", "points", "history", "M1"]);
    let history: serde_json::Value = serde_json::from_str(&stdout(&history)).unwrap();
    assert_eq!(history["available"], 0);
    let points: Vec<i64> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["points"].as_i64().unwrap())
        .collect();
    assert_eq!(points.iter().sum::<i64>(), 0);
    assert_eq!(points.len(), 5, "{points:?}");

    let adjusted = run(&["points", "adjust", "M1", "-5", "--reason", "oops"]);
    assert_eq!(adjusted.status.code(), Some(1));
    assert!(
        stderr(&adjusted).contains("5 points asked, 0 available"),
        "{}",
        stderr(&adjusted)
    );
}

#[test]
fn points_expiring_soon_are_listed_and_warned_of_once_by_the_expiry_command() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "regulars.toml", "[points]\nexpiry_days = 10\n");
    let members = write(dir.path(), "members.csv", "member_id,name\nM1,Amy\nM2,Bo\n");
    let run = |args: &[&str]| regulars(dir.path(), args);
    let out = run(&["import", "members", members.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&["points", "earn", "M1", "120", "--reason", "welcome"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let expiring = run(&["--json", "points", "expiring", "--within", "30"]);
    assert!(expiring.status.success(), "{}", stderr(&expiring));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&expiring)).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(
        (rows[0]["member_id"].as_str(), rows[0]["points"].as_i64()),
        (Some("M1"), Some(120))
    );
    // Ten days left: the 30-day warning, recorded once however often the expiry runs.
    let first = run(&["points", "expire"]);
    assert_eq!(stdout(&first), "0 points expired; 1 new expiry warnings\n");
    let again = run(&["points", "expire"]);
    assert_eq!(stdout(&again), "0 points expired; 0 new expiry warnings\n");
    let warnings = run(&["--json", "points", "warnings", "--member", "M1"]);
    let warnings: serde_json::Value = serde_json::from_str(&stdout(&warnings)).unwrap();
    assert_eq!(warnings[0]["days_before"], 30);
    assert_eq!(warnings[0]["points"], 120);
    let unknown = run(&["points", "warnings", "--member", "M9"]);
    assert_eq!(unknown.status.code(), Some(1));
}
