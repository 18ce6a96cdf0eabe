//! The points ledger: each operation recorded once under its key, debits drawn earliest expiry
//! first, never more than the spendable points, even when fifty arrive at once; reversals that
//! owe what they cannot draw and credits that pay it off; earning caps that grant what a period
//! has left, even to credits arriving at once; the queue of orders to earn from.

use jiff::civil::{Date, date};
use regulars_domain::{MemberId, MemberProfile, PointsKind};
use regulars_store::{Draw, PointsCap, PointsOutcome, PointsRequest, StoreError};

use crate::{DynStore, at, store_test};

const NOW: &str = "2026-03-01T04:00:00Z";
const TODAY: Date = date(2026, 3, 1);

async fn member(store: &DynStore, id: &str) -> MemberId {
    let id = MemberId::parse(id).unwrap();
    store
        .upsert_members(&[MemberProfile::empty(id.clone())], at(NOW))
        .await
        .unwrap();
    id
}

fn request(member: &MemberId, key: &str, kind: PointsKind, points: i64) -> PointsRequest {
    PointsRequest {
        member_id: member.clone(),
        key: key.to_owned(),
        kind,
        points,
        available_on: TODAY,
        expires_on: Some(date(2027, 3, 1)),
        draw: Draw::Spendable,
        reason: format!("{} {points}", kind.as_str()),
        cause: "operator:test".to_owned(),
        day: TODAY,
        at: at(NOW),
        cap: None,
    }
}

fn recorded(outcome: PointsOutcome) -> Vec<(PointsKind, i64, Option<i64>)> {
    match outcome {
        PointsOutcome::Recorded(operation) => operation
            .entries
            .iter()
            .map(|e| (e.kind, e.points, e.lot))
            .collect(),
        other => panic!("expected entries, got {other:?}"),
    }
}

store_test!(
    each_operation_is_recorded_once_under_its_key_and_a_debit_never_overspends,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let earned = store
            .record_points(&request(&amy, "earn-1", PointsKind::Earn, 100))
            .await
            .unwrap();
        let PointsOutcome::Recorded(earned) = earned else {
            panic!("{earned:?}")
        };
        let lot = earned.entries[0].seq;
        assert_eq!(earned.entries[0].available_on, Some(TODAY));
        assert_eq!(earned.entries[0].expires_on, Some(date(2027, 3, 1)));
        assert_eq!(
            (earned.kind, earned.points, earned.owed),
            (PointsKind::Earn, 100, 0)
        );
        let spend = request(&amy, "redeem-1", PointsKind::Redeem, -30);
        assert_eq!(
            recorded(store.record_points(&spend).await.unwrap()),
            [(PointsKind::Redeem, -30, Some(lot))]
        );
        // The same request again records nothing and answers what the first recorded.
        let again = store.record_points(&spend).await.unwrap();
        let PointsOutcome::Replayed(replayed) = again else {
            panic!("{again:?}")
        };
        assert_eq!(
            (replayed.entries.len(), replayed.entries[0].points),
            (1, -30)
        );
        // The key with another operation is refused.
        let other = request(&amy, "redeem-1", PointsKind::Redeem, -40);
        assert_eq!(
            store.record_points(&other).await.unwrap(),
            PointsOutcome::KeyReused
        );
        assert_eq!(
            store
                .record_points(&request(&amy, "redeem-2", PointsKind::Redeem, -71))
                .await
                .unwrap(),
            PointsOutcome::Short(70)
        );
        let lots = store.points_holdings(&amy).await.unwrap().lots;
        assert_eq!(
            lots.iter()
                .map(|l| (l.seq, l.remaining))
                .collect::<Vec<_>>(),
            [(lot, 70)]
        );
        let history = store.points_history(&amy, None, 10).await.unwrap();
        let seen: Vec<(&str, i64)> = history.iter().map(|e| (e.key.as_str(), e.points)).collect();
        assert_eq!(seen, [("redeem-1", -30), ("earn-1", 100)]);
        let older = store
            .points_history(&amy, Some(history[0].seq), 10)
            .await
            .unwrap();
        assert_eq!(older.len(), 1);

        let nobody = MemberId::parse("M404").unwrap();
        assert!(matches!(
            store
                .record_points(&request(&nobody, "x", PointsKind::Earn, 5))
                .await,
            Err(StoreError::NotFound)
        ));
    }
);

store_test!(
    a_debit_draws_on_the_earliest_expiring_spendable_points_first,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let mut later = request(&amy, "later", PointsKind::Earn, 50);
        later.expires_on = Some(date(2027, 1, 1));
        let mut sooner = request(&amy, "sooner", PointsKind::Earn, 50);
        sooner.expires_on = Some(date(2026, 6, 1));
        let mut pending = request(&amy, "pending", PointsKind::Earn, 500);
        pending.available_on = date(2026, 3, 15);
        let mut lots = Vec::new();
        for credit in [&later, &sooner, &pending] {
            let PointsOutcome::Recorded(operation) = store.record_points(credit).await.unwrap()
            else {
                panic!("recorded")
            };
            lots.push(operation.entries[0].seq);
        }
        let spend = request(&amy, "spend", PointsKind::Adjust, -60);
        assert_eq!(
            recorded(store.record_points(&spend).await.unwrap()),
            [
                (PointsKind::Adjust, -50, Some(lots[1])),
                (PointsKind::Adjust, -10, Some(lots[0]))
            ]
        );
        // The pending 500 are not spendable yet.
        assert_eq!(
            store
                .record_points(&request(&amy, "big", PointsKind::Redeem, -41))
                .await
                .unwrap(),
            PointsOutcome::Short(40)
        );
    }
);

store_test!(
    fifty_concurrent_redemptions_spend_exactly_what_the_balance_allows,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        store
            .record_points(&request(&amy, "earn", PointsKind::Earn, 100))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..50)
            .map(|n| {
                let store = store.clone();
                let spend = request(&amy, &format!("redeem-{n}"), PointsKind::Redeem, -3);
                tokio::spawn(async move { store.record_points(&spend).await.unwrap() })
            })
            .collect();
        let mut spent = 0;
        let mut short = 0;
        for task in tasks {
            match task.await.unwrap() {
                PointsOutcome::Recorded(operation) => {
                    spent += operation.entries.iter().map(|e| -e.points).sum::<i64>();
                }
                PointsOutcome::Short(available) => {
                    assert!(available < 3, "refused with {available} spendable");
                    short += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((spent, short), (99, 17));
        let history = store.points_history(&amy, None, 100).await.unwrap();
        assert_eq!(history.iter().map(|e| e.points).sum::<i64>(), 1);
        let lots = store.points_holdings(&amy).await.unwrap().lots;
        assert_eq!(lots.iter().map(|l| l.remaining).sum::<i64>(), 1);
    }
);

store_test!(
    expired_lots_with_points_left_are_found_and_drawn_dry_one_lot_at_a_time,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let bo = member(&store, "M2").await;
        let mut old = request(&amy, "old", PointsKind::Earn, 40);
        old.expires_on = Some(date(2026, 3, 10));
        let mut fresh = request(&amy, "fresh", PointsKind::Earn, 25);
        fresh.expires_on = Some(date(2026, 12, 1));
        let mut spent = request(&bo, "spent", PointsKind::Earn, 10);
        spent.expires_on = Some(date(2026, 3, 5));
        for credit in [&old, &fresh, &spent] {
            store.record_points(credit).await.unwrap();
        }
        store
            .record_points(&request(&amy, "latte", PointsKind::Redeem, -15))
            .await
            .unwrap();
        store
            .record_points(&request(&bo, "cake", PointsKind::Redeem, -10))
            .await
            .unwrap();
        // On 2026-03-10 Amy's old grant has 25 left and stops counting; Bo's is spent.
        let day = date(2026, 3, 10);
        assert!(
            store
                .expired_lots(date(2026, 3, 9), 10)
                .await
                .unwrap()
                .is_empty()
        );
        let expired = store.expired_lots(day, 10).await.unwrap();
        let seen: Vec<(&str, i64)> = expired
            .iter()
            .map(|(m, lot)| (m.as_str(), lot.remaining))
            .collect();
        assert_eq!(seen, [("M1", 25)]);
        let lot = expired[0].1.seq;
        let mut expire = request(&amy, &format!("expire:{lot}"), PointsKind::Expire, -26);
        expire.draw = Draw::Lot(lot);
        expire.day = day;
        assert_eq!(
            store.record_points(&expire).await.unwrap(),
            PointsOutcome::Short(25)
        );
        expire.points = -25;
        assert_eq!(
            recorded(store.record_points(&expire).await.unwrap()),
            [(PointsKind::Expire, -25, Some(lot))]
        );
        assert!(store.expired_lots(day, 10).await.unwrap().is_empty());
        let history = store.points_history(&amy, None, 10).await.unwrap();
        assert_eq!(history.iter().map(|e| e.points).sum::<i64>(), 25);
    }
);

store_test!(
    a_reversal_owes_what_it_cannot_draw_and_the_next_credit_pays_it_off,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let mut order = request(&amy, "earn:order:O1", PointsKind::Earn, 40);
        order.available_on = date(2026, 3, 15);
        let PointsOutcome::Recorded(earned) = store.record_points(&order).await.unwrap() else {
            panic!("recorded")
        };
        let own = earned.entries[0].seq;
        let gift = request(&amy, "gift", PointsKind::Adjust, 30);
        let PointsOutcome::Recorded(gift_lot) = store.record_points(&gift).await.unwrap() else {
            panic!("recorded")
        };
        let gift_lot = gift_lot.entries[0].seq;
        store
            .record_points(&request(&amy, "spend", PointsKind::Redeem, -25))
            .await
            .unwrap();
        // The order is returned for 60 points' worth: its own pending 40 first, then the 5
        // spendable left of the gift, and 15 owed.
        let mut reverse = request(&amy, "reverse:return:R1", PointsKind::Reverse, -60);
        reverse.draw = Draw::Reverse(vec![own]);
        let PointsOutcome::Recorded(reversed) = store.record_points(&reverse).await.unwrap() else {
            panic!("recorded")
        };
        let draws: Vec<(Option<i64>, i64)> =
            reversed.entries.iter().map(|e| (e.lot, e.points)).collect();
        assert_eq!(draws, [(Some(own), -40), (Some(gift_lot), -5)]);
        assert_eq!((reversed.points, reversed.owed), (-60, 15));
        let holdings = store.points_holdings(&amy).await.unwrap();
        assert_eq!(holdings.debt, 15);
        assert!(holdings.lots.iter().all(|lot| lot.remaining == 0));
        // The same reversal again owes nothing more.
        let again = store.record_points(&reverse).await.unwrap();
        assert!(matches!(again, PointsOutcome::Replayed(ref op) if op.owed == 15));
        assert_eq!(store.points_holdings(&amy).await.unwrap().debt, 15);
        // A credit of 10 pays 10 off; one of 20 the last 5 and keeps 15.
        for (key, points, settled) in [("c1", 10, 10), ("c2", 20, 5)] {
            let PointsOutcome::Recorded(credit) = store
                .record_points(&request(&amy, key, PointsKind::Earn, points))
                .await
                .unwrap()
            else {
                panic!("recorded")
            };
            assert_eq!(credit.owed, -settled);
            let lot = credit.entries[0].seq;
            assert_eq!(
                credit.entries[1..]
                    .iter()
                    .map(|e| (e.kind, e.lot, e.points))
                    .collect::<Vec<_>>(),
                [(PointsKind::Settle, Some(lot), -settled)]
            );
        }
        let holdings = store.points_holdings(&amy).await.unwrap();
        assert_eq!(holdings.debt, 0);
        let held: i64 = holdings.lots.iter().map(|l| l.remaining).sum();
        assert_eq!(held, 15);
        // The ledger adds up to what is held.
        let history = store.points_history(&amy, None, 100).await.unwrap();
        assert_eq!(history.iter().map(|e| e.points).sum::<i64>(), held);
        let found = store
            .points_operations(&["reverse:return:R1".to_owned(), "nope".to_owned()])
            .await
            .unwrap();
        assert_eq!(
            found
                .iter()
                .map(|op| (op.key.as_str(), op.points))
                .collect::<Vec<_>>(),
            [("reverse:return:R1", -60)]
        );
    }
);

store_test!(
    recorded_moved_and_returned_orders_wait_on_the_points_queue_until_taken_off,
    |store: DynStore| async move {
        use regulars_domain::{Currency, Money, NewReturn, Order, OrderId, OrderStatus, ReturnId};
        use regulars_store::IngestOptions;
        let amy = member(&store, "M1").await;
        let twd = |major: i64| Money::from_minor(major * 100, Currency::TWD);
        let order = |id: &str, status| Order {
            order_id: OrderId::parse(id).unwrap(),
            member_id: amy.clone(),
            store_id: None,
            placed_at: at(NOW),
            status,
            status_at: Some(at(NOW)),
            amount: twd(500),
            discount: twd(0),
            shipping: twd(0),
            coupon_codes: Vec::new(),
            lines: Vec::new(),
        };
        let options = IngestOptions::default();
        store
            .record_orders(
                &[
                    order("O1", OrderStatus::Paid),
                    order("O2", OrderStatus::Paid),
                ],
                options,
                at(NOW),
            )
            .await
            .unwrap();
        // Sent again unchanged: not queued again.
        store
            .record_orders(&[order("O1", OrderStatus::Paid)], options, at(NOW))
            .await
            .unwrap();
        store
            .record_orders(&[order("O2", OrderStatus::Cancelled)], options, at(NOW))
            .await
            .unwrap();
        let refund = NewReturn {
            return_id: ReturnId::parse("R1").unwrap(),
            order_id: OrderId::parse("O1").unwrap(),
            amount: twd(100),
            completed_at: at(NOW),
            lines: Vec::new(),
        };
        store
            .record_returns(std::slice::from_ref(&refund), at(NOW))
            .await
            .unwrap();
        let queued = store.queued_point_orders(10).await.unwrap();
        let ids: Vec<&str> = queued.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["O1", "O2", "O2", "O1"]);
        assert_eq!(
            store
                .get_returns(&[OrderId::parse("O1").unwrap()])
                .await
                .unwrap(),
            [refund]
        );
        let first_two: Vec<i64> = queued[..2].iter().map(|(seq, _)| *seq).collect();
        store.dequeue_point_orders(&first_two).await.unwrap();
        let left = store.queued_point_orders(10).await.unwrap();
        assert_eq!(left, queued[2..]);
    }
);

store_test!(
    a_batch_plans_each_operation_after_the_ones_before_it_and_an_unknown_member_records_none,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let batch = [
            request(&amy, "b-earn", PointsKind::Earn, 10),
            request(&amy, "b-spend", PointsKind::Redeem, -10),
            request(&amy, "b-more", PointsKind::Redeem, -1),
        ];
        let outcomes = store.record_points_batch(&batch).await.unwrap();
        assert!(matches!(outcomes[0], PointsOutcome::Recorded(ref op) if op.points == 10));
        assert!(matches!(outcomes[1], PointsOutcome::Recorded(ref op) if op.points == -10));
        assert_eq!(outcomes[2], PointsOutcome::Short(0));

        let nobody = MemberId::parse("M404").unwrap();
        let mixed = [
            request(&amy, "m-earn", PointsKind::Earn, 5),
            request(&nobody, "m-ghost", PointsKind::Earn, 5),
        ];
        assert!(matches!(
            store.record_points_batch(&mixed).await,
            Err(StoreError::NotFound)
        ));
        let keys = ["b-earn".to_owned(), "m-earn".to_owned()];
        let found = store.points_operations(&keys).await.unwrap();
        assert_eq!(
            found.iter().map(|op| op.key.as_str()).collect::<Vec<_>>(),
            ["b-earn"]
        );
        assert_eq!(found[0].entries.len(), 1);
    }
);

store_test!(
    a_capped_credit_grants_what_its_period_has_left_and_a_reversal_gives_room_back,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let capped = |key: &str, kind: PointsKind, points: i64, period: &str| PointsRequest {
            cap: Some(PointsCap {
                period: period.to_owned(),
                limit: 100,
            }),
            draw: if points < 0 {
                Draw::Reverse(Vec::new())
            } else {
                Draw::Spendable
            },
            ..request(&amy, key, kind, points)
        };
        let granted = |outcome: PointsOutcome| match outcome {
            PointsOutcome::Recorded(op) | PointsOutcome::Replayed(op) => (op.points, op.capped),
            other => panic!("{other:?}"),
        };
        let first = capped("earn:o1", PointsKind::Earn, 70, "month:2026-03");
        assert_eq!(granted(store.record_points(&first).await.unwrap()), (70, 0));
        // 60 more in the same month: 30 fit, and the entry says what the cap held back.
        let second = capped("earn:o2", PointsKind::Earn, 60, "month:2026-03");
        let outcome = store.record_points(&second).await.unwrap();
        let PointsOutcome::Recorded(op) = &outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!((op.points, op.capped), (30, 30));
        assert_eq!(op.entries[0].points, 30);
        assert_eq!(
            op.entries[0].reason,
            "earn 60 (30 over the cap of 100 for month:2026-03)"
        );
        // Asking again replays what was granted; another amount under the key is refused.
        assert_eq!(
            granted(store.record_points(&second).await.unwrap()),
            (30, 30)
        );
        assert_eq!(
            store
                .record_points(&capped("earn:o2", PointsKind::Earn, 30, "month:2026-03"))
                .await
                .unwrap(),
            PointsOutcome::KeyReused
        );
        // The month is full: a third order is recorded with nothing granted, once.
        let third = capped("earn:o3", PointsKind::Earn, 10, "month:2026-03");
        assert_eq!(granted(store.record_points(&third).await.unwrap()), (0, 10));
        assert_eq!(granted(store.record_points(&third).await.unwrap()), (0, 10));
        // Another month has its own room, and an uncapped credit is not counted.
        let april = capped("earn:o4", PointsKind::Earn, 90, "month:2026-04");
        assert_eq!(granted(store.record_points(&april).await.unwrap()), (90, 0));
        store
            .record_points(&request(&amy, "bonus", PointsKind::Earn, 500))
            .await
            .unwrap();
        // A return taking 40 back gives the month 40 of room again.
        let back = capped("reverse:r1", PointsKind::Reverse, -40, "month:2026-03");
        assert_eq!(granted(store.record_points(&back).await.unwrap()), (-40, 0));
        let fifth = capped("earn:o5", PointsKind::Earn, 50, "month:2026-03");
        assert_eq!(
            granted(store.record_points(&fifth).await.unwrap()),
            (40, 10)
        );
        let holdings = store.points_holdings(&amy).await.unwrap();
        let held: i64 = holdings.lots.iter().map(|lot| lot.remaining).sum();
        assert_eq!(held, 70 + 30 + 90 + 500 - 40 + 40);
    }
);

store_test!(
    credits_under_one_cap_arriving_at_once_never_grant_more_than_it,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let mut tasks = Vec::new();
        for n in 0..20 {
            let store = store.clone();
            let mut request = request(&amy, &format!("earn:{n}"), PointsKind::Earn, 15);
            request.cap = Some(PointsCap {
                period: "day:2026-03-01".to_owned(),
                limit: 100,
            });
            tasks.push(tokio::spawn(async move {
                store.record_points(&request).await.unwrap()
            }));
        }
        let mut granted = 0;
        for task in tasks {
            match task.await.unwrap() {
                PointsOutcome::Recorded(op) => {
                    assert_eq!(op.points + op.capped, 15);
                    granted += op.points;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(granted, 100);
    }
);

store_test!(
    expiring_points_are_summed_per_day_and_member_and_warnings_are_recorded_once,
    |store: DynStore| async move {
        let (amy, bob) = (member(&store, "M1").await, member(&store, "M2").await);
        let grant = |who: &MemberId, key: &str, points: i64, expires_on: Date| PointsRequest {
            expires_on: Some(expires_on),
            ..request(who, key, PointsKind::Earn, points)
        };
        for request in [
            grant(&amy, "a1", 40, date(2026, 3, 10)),
            grant(&amy, "a2", 60, date(2026, 3, 10)),
            grant(&bob, "b1", 25, date(2026, 3, 10)),
            grant(&bob, "b2", 70, date(2026, 3, 20)),
            // Out of the window, or never expiring.
            grant(&amy, "a3", 10, date(2026, 5, 1)),
            PointsRequest {
                expires_on: None,
                ..request(&bob, "b3", PointsKind::Earn, 5)
            },
        ] {
            store.record_points(&request).await.unwrap();
        }
        // What is spent no longer expires: amy's 100 on the 10th are 70 after spending 30.
        store
            .record_points(&request(&amy, "spend", PointsKind::Redeem, -30))
            .await
            .unwrap();
        let rows = |rows: Vec<regulars_store::ExpiringPoints>| -> Vec<(String, Date, i64)> {
            rows.into_iter()
                .map(|r| (r.member_id.to_string(), r.expires_on, r.points))
                .collect()
        };
        let through = date(2026, 3, 31);
        let all = store
            .expiring_points(TODAY, through, None, 10)
            .await
            .unwrap();
        assert_eq!(
            rows(all),
            [
                ("M1".to_owned(), date(2026, 3, 10), 70),
                ("M2".to_owned(), date(2026, 3, 10), 25),
                ("M2".to_owned(), date(2026, 3, 20), 70),
            ]
        );
        // Paged after a row.
        let after = (date(2026, 3, 10), amy.clone());
        let page = store
            .expiring_points(TODAY, through, Some(&after), 1)
            .await
            .unwrap();
        assert_eq!(rows(page), [("M2".to_owned(), date(2026, 3, 10), 25)]);
        // Points that stopped counting today are not expiring any more.
        assert!(
            store
                .expiring_points(date(2026, 3, 10), date(2026, 3, 15), None, 10)
                .await
                .unwrap()
                .is_empty()
        );

        let warning = |who: &MemberId, days_before: u32| regulars_store::PointsWarning {
            seq: 0,
            member_id: who.clone(),
            expires_on: date(2026, 3, 10),
            days_before,
            points: 70,
            day: TODAY,
            recorded_at: at(NOW),
        };
        let first = [warning(&amy, 30), warning(&bob, 30)];
        assert_eq!(store.record_points_warnings(&first).await.unwrap(), 2);
        assert_eq!(store.record_points_warnings(&first).await.unwrap(), 0);
        assert_eq!(
            store
                .record_points_warnings(&[warning(&amy, 7)])
                .await
                .unwrap(),
            1
        );
        let log = store.points_warnings(None, None, 10).await.unwrap();
        let stages: Vec<(String, u32)> = log
            .iter()
            .map(|w| (w.member_id.to_string(), w.days_before))
            .collect();
        assert_eq!(
            stages,
            [
                ("M1".to_owned(), 7),
                ("M2".to_owned(), 30),
                ("M1".to_owned(), 30)
            ]
        );
        let amys = store.points_warnings(Some(&amy), None, 10).await.unwrap();
        assert_eq!(amys.len(), 2);
        let older = store
            .points_warnings(Some(&amy), Some(amys[0].seq), 10)
            .await
            .unwrap();
        assert_eq!((older.len(), older[0].days_before), (1, 30));
        assert_eq!(older[0].recorded_at, at(NOW));
    }
);
