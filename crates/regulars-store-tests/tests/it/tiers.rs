//! Tiers: a member's tier saved and replaced by the next evaluation; each change recorded once
//! however often it is saved, also when evaluations race; the log filtered and paged; members
//! due by day, counted per tier, and found near their next tier; members by birthday month
//! with their tier.

use jiff::civil::{Date, date};
use regulars_domain::{MemberId, MemberProfile, OrderId};
use regulars_store::{MemberTier, TierChangeFilter, TierChangeRecord};

use crate::{DynStore, at, store_test};

const NOW: &str = "2026-03-01T04:00:00Z";
const TODAY: Date = date(2026, 3, 1);

async fn members(store: &DynStore, ids: &[&str]) {
    let profiles: Vec<_> = ids
        .iter()
        .map(|id| MemberProfile::empty(MemberId::parse(id).unwrap()))
        .collect();
    store.upsert_members(&profiles, at(NOW)).await.unwrap();
}

fn tier(member: &str, name: &str, value: i64, to_next: Option<i64>) -> MemberTier {
    MemberTier {
        member_id: MemberId::parse(member).unwrap(),
        tier: name.to_owned(),
        since: Some(date(2026, 2, 1)),
        until: Some(date(2027, 1, 31)),
        order_id: Some(OrderId::parse("O1").unwrap()),
        value,
        next_tier: to_next.map(|_| "gold".to_owned()),
        to_next,
        due_on: Some(date(2027, 2, 1)),
        evaluated_on: TODAY,
    }
}

fn change(member: &str, day: Date, kind: &str, to: &str) -> TierChangeRecord {
    TierChangeRecord {
        member_id: MemberId::parse(member).unwrap(),
        day,
        from_tier: "member".to_owned(),
        to_tier: to.to_owned(),
        kind: kind.to_owned(),
        value: 6_000,
        order_id: Some(OrderId::parse("O1").unwrap()),
        reason: format!("{kind} to {to}"),
    }
}

store_test!(
    a_tier_reads_back_as_saved_and_the_next_evaluation_replaces_it,
    |store: DynStore| async move {
        members(&store, &["M1", "M2"]).await;
        let silver = tier("M1", "silver", 6_000, Some(14_000));
        store
            .save_tiers(std::slice::from_ref(&silver), &[], at(NOW))
            .await
            .unwrap();
        let ids = [
            MemberId::parse("M1").unwrap(),
            MemberId::parse("M2").unwrap(),
        ];
        assert_eq!(store.member_tiers(&ids).await.unwrap(), vec![silver]);

        let mut base = tier("M1", "member", 0, None);
        base.since = None;
        base.until = None;
        base.order_id = None;
        base.due_on = None;
        store
            .save_tiers(std::slice::from_ref(&base), &[], at(NOW))
            .await
            .unwrap();
        assert_eq!(store.member_tiers(&ids).await.unwrap(), vec![base]);
    }
);

store_test!(
    a_change_is_recorded_once_however_often_it_is_saved,
    |store: DynStore| async move {
        members(&store, &["M1"]).await;
        let upgrade = change("M1", date(2026, 2, 1), "upgrade", "silver");
        let renewal = change("M1", date(2027, 2, 1), "renewal", "silver");
        let first = store
            .save_tiers(&[], std::slice::from_ref(&upgrade), at(NOW))
            .await
            .unwrap();
        assert_eq!(first, vec![true]);
        let again = store
            .save_tiers(&[], &[upgrade.clone(), renewal.clone()], at(NOW))
            .await
            .unwrap();
        assert_eq!(again, vec![false, true]);

        let log = store
            .tier_changes(&TierChangeFilter::default(), 10)
            .await
            .unwrap();
        let changes: Vec<_> = log.iter().map(|logged| logged.change.clone()).collect();
        assert_eq!(changes, vec![renewal, upgrade]);
        assert!(log[0].seq > log[1].seq);
        assert_eq!(log[0].recorded_at, at(NOW));
    }
);

store_test!(
    racing_evaluations_record_each_change_once,
    |store: DynStore| async move {
        members(&store, &["M1"]).await;
        let upgrade = change("M1", date(2026, 2, 1), "upgrade", "silver");
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let store = store.clone();
            let upgrade = upgrade.clone();
            let tier = tier("M1", "silver", 6_000, Some(14_000));
            tasks.push(tokio::spawn(async move {
                store
                    .save_tiers(&[tier], &[upgrade], at(NOW))
                    .await
                    .unwrap()
            }));
        }
        let mut recorded = 0;
        for task in tasks {
            recorded += task.await.unwrap().into_iter().filter(|now| *now).count();
        }
        assert_eq!(recorded, 1);
        let log = store
            .tier_changes(&TierChangeFilter::default(), 10)
            .await
            .unwrap();
        assert_eq!(log.len(), 1);
    }
);

store_test!(
    the_log_is_filtered_by_member_tier_kind_and_days_and_paged_back,
    |store: DynStore| async move {
        members(&store, &["M1", "M2"]).await;
        let changes = [
            change("M1", date(2026, 1, 5), "upgrade", "silver"),
            change("M2", date(2026, 1, 9), "upgrade", "silver"),
            change("M1", date(2026, 2, 1), "fast_upgrade", "gold"),
            change("M2", date(2026, 3, 1), "upgrade", "gold"),
        ];
        store.save_tiers(&[], &changes, at(NOW)).await.unwrap();
        let read = |filter: TierChangeFilter, limit| {
            let store = store.clone();
            async move {
                store
                    .tier_changes(&filter, limit)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|logged| (logged.change.member_id.to_string(), logged.change.day))
                    .collect::<Vec<_>>()
            }
        };
        let m1 = TierChangeFilter {
            member_id: Some(MemberId::parse("M1").unwrap()),
            ..TierChangeFilter::default()
        };
        assert_eq!(
            read(m1, 10).await,
            vec![
                ("M1".to_owned(), date(2026, 2, 1)),
                ("M1".to_owned(), date(2026, 1, 5))
            ]
        );
        let gold_upgrades = TierChangeFilter {
            to_tier: Some("gold".to_owned()),
            kind: Some("upgrade".to_owned()),
            ..TierChangeFilter::default()
        };
        assert_eq!(
            read(gold_upgrades, 10).await,
            vec![("M2".to_owned(), date(2026, 3, 1))]
        );
        let january = TierChangeFilter {
            from: Some(date(2026, 1, 1)),
            to: Some(date(2026, 1, 31)),
            ..TierChangeFilter::default()
        };
        assert_eq!(read(january, 10).await.len(), 2);

        let newest = store
            .tier_changes(&TierChangeFilter::default(), 2)
            .await
            .unwrap();
        assert_eq!(newest.len(), 2);
        let older = TierChangeFilter {
            before: Some(newest[1].seq),
            ..TierChangeFilter::default()
        };
        assert_eq!(
            read(older, 10).await,
            vec![
                ("M2".to_owned(), date(2026, 1, 9)),
                ("M1".to_owned(), date(2026, 1, 5))
            ]
        );
    }
);

store_test!(
    members_are_found_by_due_day_counted_per_tier_and_near_their_next_tier,
    |store: DynStore| async move {
        members(&store, &["M1", "M2", "M3", "M4"]).await;
        let mut due_soon = tier("M2", "silver", 18_000, Some(2_000));
        due_soon.due_on = Some(date(2026, 3, 2));
        let mut top = tier("M4", "gold", 30_000, None);
        top.due_on = None;
        store
            .save_tiers(
                &[
                    tier("M1", "silver", 6_000, Some(14_000)),
                    due_soon,
                    tier("M3", "silver", 15_000, Some(5_000)),
                    top,
                ],
                &[],
                at(NOW),
            )
            .await
            .unwrap();

        assert!(store.tiers_due(TODAY, 10).await.unwrap().is_empty());
        let due = store.tiers_due(date(2027, 2, 1), 10).await.unwrap();
        let ids: Vec<_> = due.iter().map(ToString::to_string).collect();
        assert_eq!(ids, ["M1", "M2", "M3"]);
        assert_eq!(store.tiers_due(date(2027, 2, 1), 2).await.unwrap().len(), 2);

        assert_eq!(
            store.tier_counts().await.unwrap(),
            vec![("gold".to_owned(), 1), ("silver".to_owned(), 3)]
        );

        let near = |within, percent| {
            let store = store.clone();
            async move {
                store
                    .near_next_tier(within, percent, 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|t| t.member_id.to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(near(Some(5_000), None).await, ["M2", "M3"]);
        assert_eq!(near(None, Some(10)).await, ["M2"]);
        assert_eq!(near(None, None).await, ["M2", "M3", "M1"]);
    }
);

store_test!(
    members_born_in_a_month_are_listed_with_their_tier,
    |store: DynStore| async move {
        let mut profiles = Vec::new();
        for (id, birthday) in [
            ("M1", Some("1990-03-14")),
            ("M2", Some("1985-04-01")),
            ("M3", Some("2000-03-31")),
            ("M4", None),
        ] {
            let mut profile = MemberProfile::empty(MemberId::parse(id).unwrap());
            profile.birthday = birthday.map(|b| b.parse().unwrap());
            profiles.push(profile);
        }
        store.upsert_members(&profiles, at(NOW)).await.unwrap();
        store
            .save_tiers(&[tier("M3", "gold", 30_000, None)], &[], at(NOW))
            .await
            .unwrap();
        let march = store.birthday_members(3).await.unwrap();
        let march: Vec<_> = march
            .iter()
            .map(|(id, day, tier)| (id.to_string(), *day, tier.clone()))
            .collect();
        assert_eq!(
            march,
            [
                ("M1".to_owned(), date(1990, 3, 14), None),
                ("M3".to_owned(), date(2000, 3, 31), Some("gold".to_owned()))
            ]
        );
        assert!(store.birthday_members(12).await.unwrap().is_empty());
    }
);
