//! The ledger's invariants under random sequences of operations, on each backend: whatever
//! mix of grants (pending or not, expiring or not), redemptions, adjustments, reversals, days
//! passing and expiry a member sees, no lot goes below zero, the entries add up to the points
//! held (and, once expiry has run, to what is available and pending), a redemption goes through
//! exactly when the spendable points suffice and takes exactly what it asks, and what a
//! reversal cannot draw is owed, never a negative balance.

use jiff::civil::Date;
use proptest::prelude::*;
use regulars_domain::{MemberId, MemberProfile, PointsBalance, PointsKind};
use regulars_store::{Draw, PointsOutcome, PointsRequest};

use crate::{DynStore, TestDb, at};

const NOW: &str = "2026-03-01T04:00:00Z";

#[derive(Debug, Clone)]
enum Op {
    /// A grant, spendable after `pending` days, counting `life` days (or forever).
    Earn {
        points: i64,
        pending: u8,
        life: Option<u8>,
    },
    Redeem(i64),
    Adjust(i64),
    /// Takes back points of the `grant`-th grant so far (modulo their number).
    Reverse {
        grant: usize,
        points: i64,
    },
    /// Days pass, and the expiry runs.
    Advance(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1i64..200, 0u8..5, proptest::option::of(1u8..30))
            .prop_map(|(points, pending, life)| Op::Earn { points, pending, life }),
        3 => (1i64..250).prop_map(Op::Redeem),
        1 => (-150i64..150).prop_filter("not zero", |p| *p != 0).prop_map(Op::Adjust),
        2 => (0usize..8, 1i64..200).prop_map(|(grant, points)| Op::Reverse { grant, points }),
        2 => (1u8..15).prop_map(Op::Advance),
    ]
}

fn days_after(day: Date, days: u8) -> Date {
    day.checked_add(jiff::Span::new().days(i64::from(days)))
        .unwrap()
}

/// What the expiry writes for every lot that stopped counting by `today`, as the server does.
async fn expire(store: &DynStore, today: Date) {
    loop {
        let lots = store.expired_lots(today, 500).await.unwrap();
        for (member_id, lot) in &lots {
            let request = PointsRequest::expire_lot(member_id, lot, today, at(NOW));
            store.record_points(&request).await.unwrap();
        }
        if lots.len() < 500 {
            return;
        }
    }
}

/// Runs `ops` for a new member and checks the invariants after each.
async fn check(store: &DynStore, member: MemberId, ops: Vec<Op>) -> Result<(), TestCaseError> {
    store
        .upsert_members(&[MemberProfile::empty(member.clone())], at(NOW))
        .await
        .unwrap();
    let mut today = Date::constant(2026, 3, 1);
    let mut grants: Vec<i64> = Vec::new();
    for (n, op) in ops.into_iter().enumerate() {
        let before = store.points_holdings(&member).await.unwrap();
        let available = PointsBalance::of(&before.lots, today).available;
        let request = |kind: PointsKind, points: i64| PointsRequest {
            member_id: member.clone(),
            key: format!("{member}:{n}"),
            kind,
            points,
            available_on: today,
            expires_on: None,
            draw: Draw::Spendable,
            reason: format!("step {n}"),
            cause: "operator:proptest".to_owned(),
            day: today,
            at: at(NOW),
            cap: None,
        };
        match op {
            Op::Earn {
                points,
                pending,
                life,
            } => {
                let available_on = days_after(today, pending);
                let grant = PointsRequest {
                    available_on,
                    expires_on: life.map(|days| days_after(available_on, days)),
                    ..request(PointsKind::Earn, points)
                };
                let PointsOutcome::Recorded(op) = store.record_points(&grant).await.unwrap() else {
                    return Err(TestCaseError::fail("a grant was not recorded"));
                };
                prop_assert_eq!(op.points, points);
                grants.push(op.entries[0].seq);
                // A debt is paid off from the grant first.
                let after = store.points_holdings(&member).await.unwrap();
                prop_assert_eq!(after.debt, (before.debt - points).max(0));
            }
            Op::Redeem(points) | Op::Adjust(points) => {
                let kind = if matches!(op, Op::Redeem(_)) {
                    PointsKind::Redeem
                } else {
                    PointsKind::Adjust
                };
                let signed = if kind == PointsKind::Redeem {
                    -points
                } else {
                    points
                };
                let outcome = store.record_points(&request(kind, signed)).await.unwrap();
                let after = store.points_holdings(&member).await.unwrap();
                let now_available = PointsBalance::of(&after.lots, today).available;
                if signed < 0 {
                    let asked = -signed;
                    if asked <= available {
                        prop_assert!(matches!(outcome, PointsOutcome::Recorded(_)));
                        prop_assert_eq!(now_available, available - asked);
                    } else {
                        prop_assert_eq!(outcome, PointsOutcome::Short(available));
                        prop_assert_eq!(now_available, available);
                    }
                } else {
                    prop_assert!(matches!(outcome, PointsOutcome::Recorded(_)));
                    let settled = before.debt.min(signed);
                    prop_assert_eq!(now_available, available + signed - settled);
                }
            }
            Op::Reverse { grant, points } => {
                if grants.is_empty() {
                    continue;
                }
                let lot = grants[grant % grants.len()];
                let reversal = PointsRequest {
                    draw: Draw::Reverse(vec![lot]),
                    ..request(PointsKind::Reverse, -points)
                };
                let PointsOutcome::Recorded(op) = store.record_points(&reversal).await.unwrap()
                else {
                    return Err(TestCaseError::fail("a reversal was not recorded"));
                };
                let drawn: i64 = op.entries.iter().map(|e| -e.points).sum();
                prop_assert_eq!(drawn + op.owed, points);
                prop_assert!(op.owed >= 0);
                let after = store.points_holdings(&member).await.unwrap();
                prop_assert_eq!(after.debt, before.debt + op.owed);
            }
            Op::Advance(days) => {
                today = days_after(today, days);
                expire(store, today).await;
            }
        }
        let holdings = store.points_holdings(&member).await.unwrap();
        prop_assert!(holdings.debt >= 0);
        for lot in &holdings.lots {
            prop_assert!(lot.remaining >= 0, "lot {} at {}", lot.seq, lot.remaining);
        }
        let entries = store.points_history(&member, None, 10_000).await.unwrap();
        let held: i64 = holdings.lots.iter().map(|lot| lot.remaining).sum();
        prop_assert_eq!(entries.iter().map(|e| e.points).sum::<i64>(), held);
        // Expiry has run for today, so every point held is available or pending.
        let balance = PointsBalance::of(&holdings.lots, today);
        prop_assert_eq!(balance.available + balance.pending, held);
    }
    Ok(())
}

fn run_on(db: TestDb, runtime: &tokio::runtime::Runtime, cases: u32) {
    let store = db.store.clone();
    // Each case (shrinking included) is a new member of the one database.
    let case = std::sync::atomic::AtomicU32::new(0);
    proptest!(ProptestConfig::with_cases(cases), |(ops in prop::collection::vec(op(), 1..40))| {
        let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let member = MemberId::parse(&format!("P{n}")).unwrap();
        runtime.block_on(check(&store, member, ops))?;
    });
    drop(db);
}

#[test]
fn random_points_operations_keep_the_ledger_whole_on_sqlite() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDb::sqlite());
    run_on(db, &runtime, 48);
}

#[test]
fn random_points_operations_keep_the_ledger_whole_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = runtime.block_on(TestDb::postgres()) else {
        return;
    };
    run_on(db, &runtime, 24);
}
