//! Referrals: a member keeps the first code claimed and a code belongs to one member; a referee
//! is referred once; the cap per referrer and a device's one referral hold even when twenty
//! referrals race; open referrals are paged by referee and a settled one stays settled.

use jiff::civil::date;
use regulars_domain::{MemberId, MemberProfile, OrderId, ReferralCode, ReferralStatus};
use regulars_store::{Referral, ReferralOutcome, StoreError};

use crate::{DynStore, at, store_test};

const NOW: &str = "2026-03-01T04:00:00Z";

async fn members(store: &DynStore, count: usize) {
    let profiles: Vec<_> = (0..count)
        .map(|i| MemberProfile::empty(MemberId::parse(&format!("M{i:02}")).unwrap()))
        .collect();
    store.upsert_members(&profiles, at(NOW)).await.unwrap();
}

fn id(i: usize) -> MemberId {
    MemberId::parse(&format!("M{i:02}")).unwrap()
}

fn code(text: &str) -> ReferralCode {
    ReferralCode::parse(text).unwrap()
}

fn referral(referee: usize, referrer: usize, device: Option<&str>) -> Referral {
    Referral {
        referee: id(referee),
        referrer: id(referrer),
        code: code("AMY-2026"),
        device_id: device.map(str::to_owned),
        status: ReferralStatus::Pending,
        note: None,
        order_id: None,
        referred_on: date(2026, 3, 1),
        settled_on: None,
        at: at(NOW),
    }
}

store_test!(
    a_member_keeps_their_first_code_and_a_code_belongs_to_one_member,
    |store: DynStore| async move {
        members(&store, 2).await;
        assert_eq!(store.referral_code(&id(0)).await.unwrap(), None);
        let first = store
            .claim_referral_code(&id(0), &code("AMY-2026"), at(NOW))
            .await
            .unwrap();
        assert_eq!(first, Some(code("AMY-2026")));
        let again = store
            .claim_referral_code(&id(0), &code("OTHER-1"), at(NOW))
            .await
            .unwrap();
        assert_eq!(again, Some(code("AMY-2026")));
        let taken = store
            .claim_referral_code(&id(1), &code("AMY-2026"), at(NOW))
            .await
            .unwrap();
        assert_eq!(taken, None);
        assert_eq!(
            store.code_owner(&code("AMY-2026")).await.unwrap(),
            Some(id(0))
        );
        assert_eq!(store.code_owner(&code("NOBODY-1")).await.unwrap(), None);
        let unknown = store
            .claim_referral_code(&MemberId::parse("M404").unwrap(), &code("X-1234"), at(NOW))
            .await
            .unwrap_err();
        assert!(matches!(unknown, StoreError::NotFound), "{unknown:?}");
    }
);

store_test!(
    a_referee_is_referred_once_and_a_device_refers_once,
    |store: DynStore| async move {
        members(&store, 4).await;
        let made = store
            .record_referral(&referral(1, 0, Some("dev-1")), 10)
            .await
            .unwrap();
        assert_eq!(
            made,
            ReferralOutcome::Recorded(referral(1, 0, Some("dev-1")))
        );
        let again = store
            .record_referral(&referral(1, 2, None), 10)
            .await
            .unwrap();
        assert_eq!(
            again,
            ReferralOutcome::Exists(referral(1, 0, Some("dev-1")))
        );
        let same_device = store
            .record_referral(&referral(3, 2, Some("dev-1")), 10)
            .await
            .unwrap();
        assert_eq!(same_device, ReferralOutcome::DeviceUsed);
        assert_eq!(store.referral(&id(3)).await.unwrap(), None);
        assert_eq!(store.referrals_by(&id(0)).await.unwrap().len(), 1);
    }
);

store_test!(
    racing_referrals_never_pass_the_cap_per_referrer,
    |store: DynStore| async move {
        members(&store, 21).await;
        let mut tasks = Vec::new();
        for referee in 1..=20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .record_referral(&referral(referee, 0, None), 5)
                    .await
                    .unwrap()
            }));
        }
        let mut recorded = 0;
        let mut capped = 0;
        for task in tasks {
            match task.await.unwrap() {
                ReferralOutcome::Recorded(_) => recorded += 1,
                ReferralOutcome::CapReached => capped += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((recorded, capped), (5, 15));
        // A rejected referral frees its place under the cap.
        let first = store.referrals_by(&id(0)).await.unwrap()[0].referee.clone();
        store
            .update_referral(
                &first,
                ReferralStatus::Rejected,
                Some("too small"),
                None,
                Some(date(2026, 3, 2)),
            )
            .await
            .unwrap();
        let more = store
            .record_referral(&referral(20, 0, None), 5)
            .await
            .unwrap();
        assert!(
            matches!(
                more,
                ReferralOutcome::Recorded(_) | ReferralOutcome::Exists(_)
            ),
            "{more:?}"
        );
    }
);

store_test!(
    open_referrals_are_paged_and_a_settled_one_stays_settled,
    |store: DynStore| async move {
        members(&store, 5).await;
        for referee in 1..=4 {
            store
                .record_referral(&referral(referee, 0, None), 10)
                .await
                .unwrap();
        }
        let order = OrderId::parse("O1").unwrap();
        store
            .update_referral(
                &id(2),
                ReferralStatus::Rewarded,
                None,
                Some(&order),
                Some(date(2026, 3, 20)),
            )
            .await
            .unwrap();
        store
            .update_referral(
                &id(3),
                ReferralStatus::Qualified,
                Some("pays on 2026-03-15"),
                Some(&order),
                None,
            )
            .await
            .unwrap();
        let page = store.open_referrals(None, 2).await.unwrap();
        let ids: Vec<_> = page.iter().map(|r| r.referee.to_string()).collect();
        assert_eq!(ids, ["M01", "M03"]);
        let rest = store.open_referrals(Some(&id(3)), 2).await.unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].referee, id(4));

        let rewarded = store.referral(&id(2)).await.unwrap().unwrap();
        assert_eq!(
            (
                rewarded.status,
                rewarded.order_id.clone(),
                rewarded.settled_on
            ),
            (
                ReferralStatus::Rewarded,
                Some(order.clone()),
                Some(date(2026, 3, 20))
            )
        );
        // Once rewarded, it is not moved back.
        store
            .update_referral(&id(2), ReferralStatus::Rejected, Some("late"), None, None)
            .await
            .unwrap();
        assert_eq!(
            store.referral(&id(2)).await.unwrap().unwrap().status,
            ReferralStatus::Rewarded
        );
    }
);
