//! Facts: idempotent by kind and id, defined updates, conflicts that change nothing, references
//! created or refused, and reads that give back what was written.

use regulars_domain::{
    BehaviourEvent, Consent, ConsentChannel, Currency, Email, EventId, EventKind, FactOrigin,
    Interaction, InteractionChannel, InteractionId, InteractionKind, MemberId, MemberProfile,
    Money, NewReturn, OrderId, OrderStatus, Phone, ReturnId, ReturnLine, Sku, Store, StoreChannel,
    StoreId,
};
use regulars_store::{Accepted, IngestOptions, Rejection, StoreError};

use crate::{DynStore, at, line, order, store_test};

const NOW: &str = "2026-11-22T04:00:00Z";

fn lenient() -> IngestOptions {
    IngestOptions::default()
}

store_test!(
    migrating_twice_changes_nothing,
    |store: DynStore| async move {
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(store.count_facts().await.unwrap().orders, 0);
    }
);

store_test!(
    an_order_sent_twice_is_stored_once_with_its_lines,
    |store: DynStore| async move {
        let mut first = order("O1", "M1", 24_000);
        first.lines = vec![line(1, "CF-LAT", 2, 12_000)];
        let outcomes = store
            .record_orders(std::slice::from_ref(&first), lenient(), at(NOW))
            .await
            .unwrap()
            .outcomes;
        assert_eq!(outcomes, [Ok(Accepted::Created)]);
        let again = store
            .record_orders(std::slice::from_ref(&first), lenient(), at(NOW))
            .await
            .unwrap()
            .outcomes;
        assert_eq!(again, [Ok(Accepted::Duplicate)]);
        let counts = store.count_facts().await.unwrap();
        assert_eq!((counts.orders, counts.order_lines), (1, 1));

        let facts = store
            .get_member_facts(&MemberId::parse("M1").unwrap(), 10)
            .await
            .unwrap();
        let mut expected = first;
        expected.status_at = Some(expected.placed_at);
        assert_eq!(facts.orders, [expected]);
    }
);

store_test!(
    an_order_keeps_none_one_or_several_coupon_codes_as_sent,
    |store: DynStore| async move {
        let mut orders = Vec::new();
        for (id, codes) in [
            ("O1", vec![]),
            ("O2", vec!["WELCOME10"]),
            ("O3", vec!["WELCOME10", "BDAY-2026"]),
        ] {
            let mut order = order(id, "M1", 10_000);
            order.coupon_codes = codes.into_iter().map(str::to_owned).collect();
            order.lines = vec![line(1, "CF-LAT", 1, 10_000)];
            orders.push(order);
        }
        store
            .record_orders(&orders, lenient(), at(NOW))
            .await
            .unwrap();
        let facts = store
            .get_member_facts(&MemberId::parse("M1").unwrap(), 10)
            .await
            .unwrap();
        let mut stored: Vec<(String, Vec<String>)> = facts
            .orders
            .iter()
            .map(|o| (o.order_id.to_string(), o.coupon_codes.clone()))
            .collect();
        stored.sort();
        let sent: Vec<(String, Vec<String>)> = orders
            .iter()
            .map(|o| (o.order_id.to_string(), o.coupon_codes.clone()))
            .collect();
        assert_eq!(stored, sent);
    }
);

store_test!(
    an_order_for_an_unknown_member_creates_the_member_marked_from_the_order,
    |store: DynStore| async move {
        store
            .record_orders(&[order("O1", "M9", 100)], lenient(), at(NOW))
            .await
            .unwrap();
        let member = store
            .get_member(&MemberId::parse("M9").unwrap())
            .await
            .unwrap();
        assert_eq!(member.created_from, Some(FactOrigin::Order));
        assert_eq!(member.revision, 0);
        let stores = store.list_stores().await.unwrap();
        assert_eq!(stores.len(), 1);
        assert!(stores[0].created_from_order);
        assert_eq!(stores[0].time_zone_name(), "Asia/Taipei");

        // The profile arriving later fills the member in and keeps where it came from.
        let mut profile = MemberProfile::empty(MemberId::parse("M9").unwrap());
        profile.name = Some("林小美".to_owned());
        profile.phone = Some(Phone::parse("0912-345-678").unwrap());
        assert_eq!(
            store.upsert_members(&[profile], at(NOW)).await.unwrap(),
            [Ok(Accepted::Updated)]
        );
        let member = store
            .get_member(&MemberId::parse("M9").unwrap())
            .await
            .unwrap();
        assert_eq!(member.profile.phone.unwrap().as_str(), "+886912345678");
        assert_eq!(member.created_from, Some(FactOrigin::Order));
        assert_eq!(member.revision, 1);
    }
);

store_test!(
    strict_ingest_refuses_unknown_members_and_writes_nothing,
    |store: DynStore| async move {
        let strict = IngestOptions { strict: true };
        let outcomes = store
            .record_orders(&[order("O1", "M1", 100)], strict, at(NOW))
            .await
            .unwrap()
            .outcomes;
        assert_eq!(
            outcomes,
            [Err(Rejection::UnknownMember(
                MemberId::parse("M1").unwrap()
            ))]
        );
        let counts = store.count_facts().await.unwrap();
        assert_eq!((counts.orders, counts.members, counts.stores), (0, 0, 0));
    }
);

store_test!(
    a_different_resend_is_a_conflict_and_the_stored_order_stays,
    |store: DynStore| async move {
        store
            .record_orders(&[order("O1", "M1", 100)], lenient(), at(NOW))
            .await
            .unwrap();
        let outcomes = store
            .record_orders(&[order("O1", "M1", 999)], lenient(), at(NOW))
            .await
            .unwrap()
            .outcomes;
        assert_eq!(
            outcomes,
            [Err(Rejection::Conflict {
                kind: "order",
                id: "O1".to_owned(),
                fields: vec!["amount"]
            })]
        );
        let facts = store
            .get_member_facts(&MemberId::parse("M1").unwrap(), 10)
            .await
            .unwrap();
        assert_eq!(facts.orders[0].amount.minor(), 100);
    }
);

store_test!(
    a_status_moves_forward_once_and_a_late_older_status_is_ignored,
    |store: DynStore| async move {
        store
            .record_orders(&[order("O1", "M1", 100)], lenient(), at(NOW))
            .await
            .unwrap();
        let mut completed = order("O1", "M1", 100);
        completed.status = OrderStatus::Completed;
        completed.status_at = Some(at("2026-03-02T00:00:00Z"));
        assert_eq!(
            store
                .record_orders(std::slice::from_ref(&completed), lenient(), at(NOW))
                .await
                .unwrap()
                .outcomes,
            [Ok(Accepted::Updated)]
        );
        assert_eq!(
            store
                .record_orders(&[completed], lenient(), at(NOW))
                .await
                .unwrap()
                .outcomes,
            [Ok(Accepted::Duplicate)]
        );
        assert_eq!(
            store
                .record_orders(&[order("O1", "M1", 100)], lenient(), at(NOW))
                .await
                .unwrap()
                .outcomes,
            [Ok(Accepted::Duplicate)]
        );
        let facts = store
            .get_member_facts(&MemberId::parse("M1").unwrap(), 10)
            .await
            .unwrap();
        assert_eq!(facts.orders[0].status, OrderStatus::Completed);
        assert_eq!(facts.orders[0].status_at, Some(at("2026-03-02T00:00:00Z")));
    }
);

store_test!(
    a_batch_with_bad_items_stores_the_good_ones,
    |store: DynStore| async move {
        store
            .record_orders(&[order("O1", "M1", 100)], lenient(), at(NOW))
            .await
            .unwrap();
        let batch = [
            order("O2", "M1", 200),
            order("O1", "M1", 555),
            order("O3", "M2", 300),
            order("O2", "M1", 200),
        ];
        let outcomes = store
            .record_orders(&batch, lenient(), at(NOW))
            .await
            .unwrap()
            .outcomes;
        assert_eq!(outcomes[0], Ok(Accepted::Created));
        assert!(matches!(outcomes[1], Err(Rejection::Conflict { .. })));
        assert_eq!(outcomes[2], Ok(Accepted::Created));
        assert_eq!(outcomes[3], Ok(Accepted::Duplicate));
        assert_eq!(store.count_facts().await.unwrap().orders, 3);
    }
);

store_test!(
    lines_sent_apart_join_their_order_once,
    |store: DynStore| async move {
        store
            .record_orders(&[order("O1", "M1", 24_000)], lenient(), at(NOW))
            .await
            .unwrap();
        let o1 = OrderId::parse("O1").unwrap();
        let lines = [
            (o1.clone(), line(1, "CF-LAT", 1, 12_000)),
            (o1.clone(), line(2, "PS-CRO", 1, 12_000)),
        ];
        assert_eq!(
            store.record_order_lines(&lines, at(NOW)).await.unwrap(),
            [Ok(Accepted::Created), Ok(Accepted::Created)]
        );
        assert_eq!(
            store.record_order_lines(&lines, at(NOW)).await.unwrap(),
            [Ok(Accepted::Duplicate), Ok(Accepted::Duplicate)]
        );
        let changed = [(o1.clone(), line(1, "CF-AME", 1, 12_000))];
        assert!(matches!(
            store.record_order_lines(&changed, at(NOW)).await.unwrap()[0],
            Err(Rejection::Conflict { .. })
        ));
        let orphan = [(OrderId::parse("O404").unwrap(), line(1, "CF-LAT", 1, 100))];
        assert_eq!(
            store.record_order_lines(&orphan, at(NOW)).await.unwrap(),
            [Err(Rejection::UnknownOrder(
                OrderId::parse("O404").unwrap()
            ))]
        );
        let facts = store
            .get_member_facts(&MemberId::parse("M1").unwrap(), 10)
            .await
            .unwrap();
        assert_eq!(facts.orders[0].lines.len(), 2);
    }
);

store_test!(
    returns_stay_within_what_their_order_paid,
    |store: DynStore| async move {
        let mut paid = order("O1", "M1", 30_000);
        paid.lines = vec![line(1, "BN-HOU", 2, 15_000)];
        store
            .record_orders(&[paid], lenient(), at(NOW))
            .await
            .unwrap();
        let refund = |id: &str, amount: i64, quantity: u32| NewReturn {
            return_id: ReturnId::parse(id).unwrap(),
            order_id: OrderId::parse("O1").unwrap(),
            amount: Money::from_minor(amount, Currency::TWD),
            completed_at: at("2026-03-05T00:00:00Z"),
            lines: vec![ReturnLine {
                sku: Sku::parse("BN-HOU").unwrap(),
                quantity,
            }],
        };
        let outcomes = store
            .record_returns(
                &[
                    refund("R1", 15_000, 1),
                    refund("R2", 20_000, 1),
                    refund("R1", 15_000, 1),
                ],
                at(NOW),
            )
            .await
            .unwrap();
        assert_eq!(outcomes[0], Ok(Accepted::Created));
        assert!(
            matches!(&outcomes[1], Err(Rejection::Invalid { reason, .. }) if reason.contains("was paid 300.00 TWD"))
        );
        assert_eq!(outcomes[2], Ok(Accepted::Duplicate));
        // Earlier returns count across batches too.
        let outcomes = store
            .record_returns(&[refund("R3", 15_000, 2)], at(NOW))
            .await
            .unwrap();
        assert!(
            matches!(&outcomes[0], Err(Rejection::Invalid { reason, .. }) if reason.contains("1 returned before"))
        );
        let facts = store
            .get_member_facts(&MemberId::parse("M1").unwrap(), 10)
            .await
            .unwrap();
        assert_eq!(facts.returns.len(), 1);
        assert_eq!(facts.returns[0].lines[0].quantity, 1);
        let unknown = NewReturn {
            order_id: OrderId::parse("O404").unwrap(),
            ..refund("R9", 1, 1)
        };
        assert!(matches!(
            store.record_returns(&[unknown], at(NOW)).await.unwrap()[0],
            Err(Rejection::UnknownOrder(_))
        ));
    }
);

store_test!(
    interactions_and_events_are_idempotent_and_name_their_members,
    |store: DynStore| async move {
        let interaction = Interaction {
            interaction_id: InteractionId::parse("I1").unwrap(),
            member_id: MemberId::parse("M5").unwrap(),
            at: at("2026-11-01T10:00:00Z"),
            channel: InteractionChannel::Line,
            kind: InteractionKind::Message,
        };
        assert_eq!(
            store
                .record_interactions(std::slice::from_ref(&interaction), lenient(), at(NOW))
                .await
                .unwrap(),
            [Ok(Accepted::Created)]
        );
        assert_eq!(
            store
                .record_interactions(std::slice::from_ref(&interaction), lenient(), at(NOW))
                .await
                .unwrap(),
            [Ok(Accepted::Duplicate)]
        );
        let changed = Interaction {
            kind: InteractionKind::Like,
            ..interaction.clone()
        };
        assert!(matches!(
            store
                .record_interactions(&[changed], lenient(), at(NOW))
                .await
                .unwrap()[0],
            Err(Rejection::Conflict { .. })
        ));
        let member = store
            .get_member(&MemberId::parse("M5").unwrap())
            .await
            .unwrap();
        assert_eq!(member.created_from, Some(FactOrigin::Interaction));

        let event = BehaviourEvent {
            event_id: EventId::parse("E1").unwrap(),
            member_id: MemberId::parse("M5").unwrap(),
            at: at("2026-11-02T10:00:00Z"),
            kind: EventKind::CartAdd,
            sku: Some(Sku::parse("BN-ETH").unwrap()),
            category: Some("beans".to_owned()),
            query: None,
        };
        assert_eq!(
            store
                .record_events(&[event.clone(), event.clone()], lenient(), at(NOW))
                .await
                .unwrap(),
            [Ok(Accepted::Created), Ok(Accepted::Duplicate)]
        );
        let facts = store
            .get_member_facts(&MemberId::parse("M5").unwrap(), 10)
            .await
            .unwrap();
        assert_eq!(facts.interactions, [interaction]);
        assert_eq!(facts.events, [event]);
    }
);

store_test!(
    profiles_merge_and_record_each_revision,
    |store: DynStore| async move {
        let mut profile = MemberProfile::empty(MemberId::parse("M1").unwrap());
        profile.name = Some("Amy".to_owned());
        profile.set_consent(Consent {
            channel: ConsentChannel::Sms,
            granted: true,
            at: Some(at("2026-01-01T00:00:00Z")),
            source: Some("pos".to_owned()),
        });
        assert_eq!(
            store
                .upsert_members(std::slice::from_ref(&profile), at(NOW))
                .await
                .unwrap(),
            [Ok(Accepted::Created)]
        );
        assert_eq!(
            store
                .upsert_members(std::slice::from_ref(&profile), at(NOW))
                .await
                .unwrap(),
            [Ok(Accepted::Duplicate)]
        );
        let mut withdrawn = MemberProfile::empty(MemberId::parse("M1").unwrap());
        withdrawn.set_consent(Consent {
            channel: ConsentChannel::Sms,
            granted: false,
            at: Some(at("2026-06-01T00:00:00Z")),
            source: Some("sms_reply".to_owned()),
        });
        assert_eq!(
            store.upsert_members(&[withdrawn], at(NOW)).await.unwrap(),
            [Ok(Accepted::Updated)]
        );
        let member = store
            .get_member(&MemberId::parse("M1").unwrap())
            .await
            .unwrap();
        assert_eq!(
            member.profile.name.as_deref(),
            Some("Amy"),
            "absent fields keep their value"
        );
        assert!(!member.profile.consent(ConsentChannel::Sms).unwrap().granted);
        // Creation with a profile is revision 1; the withdrawal is revision 2.
        assert_eq!(member.revision, 2);
        assert!(matches!(
            store.get_member(&MemberId::parse("nobody").unwrap()).await,
            Err(StoreError::NotFound)
        ));
    }
);

store_test!(
    stores_are_described_and_redescribed,
    |store: DynStore| async move {
        let shop = Store {
            store_id: StoreId::parse("S01").unwrap(),
            name: "台北信義店".to_owned(),
            channel: StoreChannel::Offline,
            time_zone: Store::parse_time_zone("Asia/Taipei").unwrap(),
            created_from_order: false,
        };
        assert_eq!(
            store
                .upsert_stores(std::slice::from_ref(&shop))
                .await
                .unwrap(),
            [Ok(Accepted::Created)]
        );
        assert_eq!(
            store
                .upsert_stores(std::slice::from_ref(&shop))
                .await
                .unwrap(),
            [Ok(Accepted::Duplicate)]
        );
        let moved = Store {
            time_zone: Store::parse_time_zone("Asia/Tokyo").unwrap(),
            ..shop
        };
        assert_eq!(
            store
                .upsert_stores(std::slice::from_ref(&moved))
                .await
                .unwrap(),
            [Ok(Accepted::Updated)]
        );
        assert_eq!(store.list_stores().await.unwrap(), [moved]);
    }
);

store_test!(
    concurrent_batches_of_the_same_orders_store_each_once,
    |store: DynStore| async move {
        let batch: Vec<_> = (0..200)
            .map(|i| order(&format!("O{i}"), &format!("M{}", i % 7), 100 + i))
            .collect();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                let batch = batch.clone();
                tokio::spawn(async move {
                    store
                        .record_orders(&batch, IngestOptions::default(), at(NOW))
                        .await
                        .unwrap()
                        .outcomes
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            created += task
                .await
                .unwrap()
                .iter()
                .filter(|o| **o == Ok(Accepted::Created))
                .count();
        }
        assert_eq!(created, 200);
        let counts = store.count_facts().await.unwrap();
        assert_eq!((counts.orders, counts.members), (200, 7));
    }
);

store_test!(
    a_full_scan_reads_every_member_order_return_and_interaction,
    |store: DynStore| async move {
        #[derive(Default)]
        struct Seen {
            members: Vec<String>,
            orders: Vec<(String, String, String, i64, i64)>,
            returns: Vec<(String, String, i64)>,
            interactions: Vec<(String, i64)>,
        }
        impl regulars_store::FactVisitor for Seen {
            fn member(&mut self, member_id: &str) {
                self.members.push(member_id.to_owned());
            }
            fn return_(&mut self, row: regulars_store::ReturnScan<'_>) {
                self.returns.push((
                    row.member_id.to_owned(),
                    row.order_id.to_owned(),
                    row.amount,
                ));
            }
            fn order(&mut self, row: regulars_store::OrderScan<'_>) {
                self.orders.push((
                    row.member_id.to_owned(),
                    row.order_id.to_owned(),
                    row.status.to_owned(),
                    row.amount,
                    row.shipping,
                ));
            }
            fn interaction(&mut self, member_id: &str, at: i64) {
                self.interactions.push((member_id.to_owned(), at));
            }
        }
        let mut shipped = order("O1", "M2", 500);
        shipped.shipping = Money::from_minor(80, Currency::TWD);
        store
            .record_orders(&[shipped, order("O2", "M1", 200)], lenient(), at(NOW))
            .await
            .unwrap();
        let refund = NewReturn {
            return_id: ReturnId::parse("R1").unwrap(),
            order_id: OrderId::parse("O1").unwrap(),
            amount: Money::from_minor(50, Currency::TWD),
            completed_at: at("2026-03-02T00:00:00Z"),
            lines: vec![],
        };
        store.record_returns(&[refund], at(NOW)).await.unwrap();
        let interaction = Interaction {
            interaction_id: InteractionId::parse("I1").unwrap(),
            member_id: MemberId::parse("M3").unwrap(),
            at: at("2026-03-03T00:00:00Z"),
            channel: InteractionChannel::Line,
            kind: InteractionKind::Like,
        };
        store
            .record_interactions(&[interaction], lenient(), at(NOW))
            .await
            .unwrap();

        let mut seen = Seen::default();
        store.scan_facts(&mut seen).await.unwrap();
        assert_eq!(seen.members, ["M1", "M2", "M3"], "members come in id order");
        seen.orders.sort();
        assert_eq!(
            seen.orders,
            [
                ("M1".to_owned(), "O2".to_owned(), "paid".to_owned(), 200, 0),
                ("M2".to_owned(), "O1".to_owned(), "paid".to_owned(), 500, 80),
            ]
        );
        assert_eq!(seen.returns, [("M2".to_owned(), "O1".to_owned(), 50)]);
        assert_eq!(
            seen.interactions,
            [("M3".to_owned(), at("2026-03-03T00:00:00Z").as_microsecond())]
        );
    }
);

store_test!(
    an_orders_completion_is_kept_through_a_later_cancellation_and_scanned,
    |store: DynStore| async move {
        let with = |id: &str, status: OrderStatus, when: &str| {
            let mut o = order(id, "M1", 100);
            o.status = status;
            o.status_at = Some(at(when));
            o
        };
        let first = store
            .record_orders(
                &[
                    with("O1", OrderStatus::Completed, "2026-03-01T00:00:00Z"),
                    order("O2", "M1", 100),
                    order("O3", "M1", 100),
                ],
                lenient(),
                at(NOW),
            )
            .await
            .unwrap();
        assert!(first.status_changes.is_empty(), "creations are not moves");
        let moved = store
            .record_orders(
                &[
                    with("O2", OrderStatus::Completed, "2026-03-05T00:00:00Z"),
                    with("O3", OrderStatus::Cancelled, "2026-03-06T00:00:00Z"),
                    with("O1", OrderStatus::Cancelled, "2026-03-07T00:00:00Z"),
                ],
                lenient(),
                at(NOW),
            )
            .await
            .unwrap();
        let moves: Vec<(&str, OrderStatus, OrderStatus)> = moved
            .status_changes
            .iter()
            .map(|c| (c.order_id.as_str(), c.from, c.to))
            .collect();
        assert_eq!(
            moves,
            [
                ("O2", OrderStatus::Paid, OrderStatus::Completed),
                ("O3", OrderStatus::Paid, OrderStatus::Cancelled),
                ("O1", OrderStatus::Completed, OrderStatus::Cancelled),
            ]
        );

        #[derive(Default)]
        struct Completions(Vec<(String, String, Option<i64>)>);
        impl regulars_store::FactVisitor for Completions {
            fn member(&mut self, _: &str) {}
            fn return_(&mut self, _: regulars_store::ReturnScan<'_>) {}
            fn order(&mut self, row: regulars_store::OrderScan<'_>) {
                self.0.push((
                    row.order_id.to_owned(),
                    row.status.to_owned(),
                    row.completed_at,
                ));
            }
            fn interaction(&mut self, _: &str, _: i64) {}
        }
        let mut seen = Completions::default();
        store.scan_facts(&mut seen).await.unwrap();
        seen.0.sort();
        let micros = |when: &str| Some(at(when).as_microsecond());
        assert_eq!(
            seen.0,
            [
                (
                    "O1".to_owned(),
                    "cancelled".to_owned(),
                    micros("2026-03-01T00:00:00Z")
                ),
                (
                    "O2".to_owned(),
                    "completed".to_owned(),
                    micros("2026-03-05T00:00:00Z")
                ),
                ("O3".to_owned(), "cancelled".to_owned(), None),
            ]
        );
    }
);

store_test!(
    orders_are_read_back_by_id_with_their_lines_and_unknown_ids_left_out,
    |store: DynStore| async move {
        let mut first = order("O2", "M1", 24_000);
        first.lines = vec![line(1, "CF-LAT", 2, 12_000)];
        let second = order("O1", "M2", 9_000);
        store
            .record_orders(&[first.clone(), second.clone()], lenient(), at(NOW))
            .await
            .unwrap();
        let ids = ["O2", "O9", "O1"].map(|id| OrderId::parse(id).unwrap());
        let found = store.get_orders(&ids).await.unwrap();
        let summary: Vec<(&str, &str, i64, usize)> = found
            .iter()
            .map(|o| {
                (
                    o.order_id.as_str(),
                    o.member_id.as_str(),
                    o.amount.minor(),
                    o.lines.len(),
                )
            })
            .collect();
        assert_eq!(summary, [("O1", "M2", 9_000, 0), ("O2", "M1", 24_000, 1)]);
        assert!(store.get_orders(&[]).await.unwrap().is_empty());
    }
);

store_test!(
    the_audience_scan_reads_profiles_orders_with_stores_and_lines_returns_events_and_interactions,
    |store: DynStore| async move {
        #[derive(Default)]
        struct Seen {
            members: Vec<String>,
            orders: Vec<String>,
            lines: Vec<String>,
            returns: Vec<String>,
            events: Vec<String>,
            interactions: Vec<String>,
            orders_before_lines: bool,
        }
        impl regulars_store::AudienceVisitor for Seen {
            fn member(&mut self, row: regulars_store::MemberScan<'_>) {
                self.members.push(format!(
                    "{} {:?} {:?} {:?} {:?} {:?} {:?}",
                    row.member_id,
                    row.gender,
                    row.birthday,
                    row.region,
                    row.joined_at,
                    row.home_store_id,
                    row.consents
                ));
            }
            fn order(
                &mut self,
                row: regulars_store::OrderScan<'_>,
                store: Option<&str>,
                channel: Option<&str>,
            ) {
                self.orders.push(format!(
                    "{} {} {} {:?} {:?}",
                    row.member_id, row.order_id, row.amount, store, channel
                ));
            }
            fn line(&mut self, row: regulars_store::LineScan<'_>) {
                self.orders_before_lines = !self.orders.is_empty();
                self.lines.push(format!(
                    "{} {} {} {:?} {}x{}",
                    row.member_id,
                    row.order_id,
                    row.sku,
                    row.category,
                    row.quantity,
                    row.unit_price
                ));
            }
            fn return_(&mut self, row: regulars_store::ReturnScan<'_>) {
                self.returns
                    .push(format!("{} {} {}", row.member_id, row.order_id, row.amount));
            }
            fn event(&mut self, row: regulars_store::EventScan<'_>) {
                self.events.push(format!(
                    "{} {} {} {:?} {:?}",
                    row.member_id, row.at, row.kind, row.sku, row.category
                ));
            }
            fn interaction(&mut self, member_id: &str, at: i64, channel: &str) {
                self.interactions
                    .push(format!("{member_id} {at} {channel}"));
            }
        }
        let web = Store {
            store_id: StoreId::parse("WEB").unwrap(),
            name: "網路商店".to_owned(),
            channel: StoreChannel::Online,
            time_zone: Store::parse_time_zone("Asia/Taipei").unwrap(),
            created_from_order: false,
        };
        store.upsert_stores(&[web]).await.unwrap();
        let mut profile = MemberProfile::empty(MemberId::parse("M2").unwrap());
        profile.gender = Some(regulars_domain::Gender::Female);
        profile.birthday = Some(jiff::civil::date(1990, 11, 5));
        profile.region = Some("Taipei".to_owned());
        profile.joined_at = Some(at("2025-01-01T00:00:00Z"));
        profile.home_store = Some(StoreId::parse("WEB").unwrap());
        profile.set_consent(Consent {
            channel: ConsentChannel::Line,
            granted: true,
            at: Some(at("2025-01-01T00:00:00Z")),
            source: None,
        });
        store.upsert_members(&[profile], at(NOW)).await.unwrap();
        let mut online = order("O1", "M2", 500);
        online.store_id = Some(StoreId::parse("WEB").unwrap());
        online.lines = vec![line(1, "CF-LAT", 2, 120), line(2, "PS-CRO", 1, 260)];
        store
            .record_orders(&[online, order("O2", "M1", 200)], lenient(), at(NOW))
            .await
            .unwrap();
        let refund = NewReturn {
            return_id: ReturnId::parse("R1").unwrap(),
            order_id: OrderId::parse("O1").unwrap(),
            amount: Money::from_minor(120, Currency::TWD),
            completed_at: at("2026-03-02T00:00:00Z"),
            lines: vec![],
        };
        store.record_returns(&[refund], at(NOW)).await.unwrap();
        let event = BehaviourEvent {
            event_id: EventId::parse("E1").unwrap(),
            member_id: MemberId::parse("M1").unwrap(),
            at: at("2026-03-04T00:00:00Z"),
            kind: EventKind::CartAdd,
            sku: Some(Sku::parse("CF-BEAN").unwrap()),
            category: Some("beans".to_owned()),
            query: None,
        };
        store
            .record_events(&[event], lenient(), at(NOW))
            .await
            .unwrap();
        let interaction = Interaction {
            interaction_id: InteractionId::parse("I1").unwrap(),
            member_id: MemberId::parse("M2").unwrap(),
            at: at("2026-03-03T00:00:00Z"),
            channel: InteractionChannel::Line,
            kind: InteractionKind::Like,
        };
        store
            .record_interactions(&[interaction], lenient(), at(NOW))
            .await
            .unwrap();

        let mut seen = Seen::default();
        store.scan_audience_facts(&mut seen).await.unwrap();
        let micros = |when: &str| at(when).as_microsecond();
        assert_eq!(
            seen.members,
            [
                "M1 None None None None None [None, None, None, None]".to_owned(),
                format!(
                    "M2 Some(\"female\") Some(\"1990-11-05\") Some(\"Taipei\") Some({}) Some(\"WEB\") [Some(true), None, None, None]",
                    micros("2025-01-01T00:00:00Z")
                ),
            ],
            "members come first, in id order, with their profiles"
        );
        seen.orders.sort();
        assert_eq!(
            seen.orders,
            [
                "M1 O2 200 Some(\"S01\") Some(\"offline\")",
                "M2 O1 500 Some(\"WEB\") Some(\"online\")",
            ]
        );
        seen.lines.sort();
        assert_eq!(
            seen.lines,
            [
                "M2 O1 CF-LAT Some(\"coffee\") 2x120",
                "M2 O1 PS-CRO Some(\"coffee\") 1x260",
            ]
        );
        assert!(seen.orders_before_lines, "orders come before their lines");
        assert_eq!(seen.returns, ["M2 O1 120"]);
        assert_eq!(
            seen.events,
            [format!(
                "M1 {} cart_add Some(\"CF-BEAN\") Some(\"beans\")",
                micros("2026-03-04T00:00:00Z")
            )]
        );
        assert_eq!(
            seen.interactions,
            [format!("M2 {} line", micros("2026-03-03T00:00:00Z"))]
        );
    }
);

store_test!(
    members_are_read_in_bulk_in_id_order_and_unknown_ids_are_left_out,
    |store: DynStore| async move {
        let profiles: Vec<MemberProfile> = ["M10", "M2", "M1"]
            .iter()
            .map(|id| {
                let mut profile = MemberProfile::empty(MemberId::parse(id).unwrap());
                profile.name = Some(format!("member {id}"));
                profile
            })
            .collect();
        store.upsert_members(&profiles, at(NOW)).await.unwrap();
        let ids: Vec<MemberId> = ["M2", "M404", "M10", "M1"]
            .iter()
            .map(|id| MemberId::parse(id).unwrap())
            .collect();
        let read = store.get_members(&ids).await.unwrap();
        let seen: Vec<(&str, Option<&str>)> = read
            .iter()
            .map(|m| (m.profile.member_id.as_str(), m.profile.name.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                ("M1", Some("member M1")),
                ("M10", Some("member M10")),
                ("M2", Some("member M2"))
            ]
        );
    }
);

store_test!(
    members_are_found_by_phone_and_email_with_a_shared_phone_naming_each,
    |store: DynStore| async move {
        let mut a = MemberProfile::empty(MemberId::parse("M1").unwrap());
        a.phone = Some(Phone::parse("0912-345-678").unwrap());
        a.email = Some(Email::parse("amy@example.com").unwrap());
        let mut b = MemberProfile::empty(MemberId::parse("M2").unwrap());
        b.phone = Some(Phone::parse("+886912345678").unwrap());
        let mut c = MemberProfile::empty(MemberId::parse("M3").unwrap());
        c.email = Some(Email::parse("cai@example.com").unwrap());
        store.upsert_members(&[a, b, c], at(NOW)).await.unwrap();

        let found = store
            .find_members_by_contact(
                &[
                    Phone::parse("0912345678").unwrap(),
                    Phone::parse("0987654321").unwrap(),
                ],
                &[
                    Email::parse("Cai@Example.com").unwrap(),
                    Email::parse("nobody@example.com").unwrap(),
                ],
            )
            .await
            .unwrap();
        let seen: Vec<(&str, &str)> = found
            .iter()
            .map(|(c, m)| (c.as_str(), m.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("+886912345678", "M1"),
                ("+886912345678", "M2"),
                ("cai@example.com", "M3")
            ]
        );
        assert!(
            store
                .find_members_by_contact(&[], &[])
                .await
                .unwrap()
                .is_empty()
        );
    }
);

store_test!(
    a_members_orders_are_listed_by_member,
    |store: DynStore| async move {
        store
            .upsert_members(
                &["M1", "M2", "M3"].map(|id| MemberProfile::empty(MemberId::parse(id).unwrap())),
                at(NOW),
            )
            .await
            .unwrap();
        store
            .record_orders(
                &[
                    order("O2", "M1", 100),
                    order("O1", "M1", 100),
                    order("O3", "M2", 100),
                    order("O4", "M3", 100),
                ],
                IngestOptions::default(),
                at(NOW),
            )
            .await
            .unwrap();
        let pairs = store
            .member_order_ids(&[
                MemberId::parse("M2").unwrap(),
                MemberId::parse("M1").unwrap(),
            ])
            .await
            .unwrap();
        let pairs: Vec<_> = pairs
            .iter()
            .map(|(m, o)| (m.to_string(), o.to_string()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("M1".to_owned(), "O1".to_owned()),
                ("M1".to_owned(), "O2".to_owned()),
                ("M2".to_owned(), "O3".to_owned())
            ]
        );
    }
);
