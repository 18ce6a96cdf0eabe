//! Coupons: templates kept as saved; each coupon issued once under its key, within the
//! template's limits even when many issues arrive at once, from a generated code or the pool;
//! an exchange paid with points in the same transaction or not at all; a coupon redeemed once
//! (store credit spent down), never twice even when twenty tries race; several on one order used
//! all or none, even when sets race in opposite orders; voids and the figures.

use jiff::civil::{Date, date};
use regulars_domain::{
    CodeSource, CouponCode, CouponTemplate, Currency, DiscountClass, Eligibility, MemberId,
    MemberProfile, Offer, OrderId, PointsKind, TemplateName, Validity,
};
use regulars_store::{
    CouponStatus, Draw, IngestOptions, IssueOutcome, IssueRequest, PointsRequest, RedeemOutcome,
    RedeemRequest, StoreError,
};

use crate::{DynStore, at, order, store_test};

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

fn template(name: &str, offer: Offer) -> CouponTemplate {
    CouponTemplate {
        name: TemplateName::parse(name).unwrap(),
        title: format!("{name} for you"),
        currency: Currency::TWD,
        offer,
        eligibility: Eligibility::default(),
        validity: Validity::Days(30),
        per_member: None,
        total: None,
        combines_with: vec![DiscountClass::Shipping],
        points_cost: None,
        codes: CodeSource::Generated,
    }
}

fn issue(
    template: &CouponTemplate,
    member: &MemberId,
    key: &str,
    code: Option<&str>,
) -> IssueRequest {
    IssueRequest {
        key: key.to_owned(),
        template: template.name.clone(),
        member_id: member.clone(),
        code: code.map(|c| CouponCode::parse(c).unwrap()),
        valid_from: TODAY,
        valid_until: date(2026, 3, 30),
        credit: template.offer.credit(),
        cause: "operator:test".to_owned(),
        points: None,
        day: TODAY,
        at: at(NOW),
    }
}

fn redeem(code: &str, member: &MemberId, order: &str, key: &str, discount: i64) -> RedeemRequest {
    RedeemRequest {
        key: key.to_owned(),
        code: CouponCode::parse(code).unwrap(),
        member_id: member.clone(),
        order_id: OrderId::parse(order).unwrap(),
        discount,
        day: TODAY,
        at: at(NOW),
    }
}

async fn issue_one(store: &DynStore, request: IssueRequest) -> IssueOutcome {
    store
        .issue_coupons(&[request])
        .await
        .unwrap()
        .pop()
        .unwrap()
}

store_test!(
    a_template_reads_back_as_saved_and_a_second_save_replaces_it,
    |store: DynStore| async move {
        let mut credit = template("credit", Offer::StoreCredit(500));
        credit.eligibility.categories = vec!["beans".to_owned()];
        credit.validity = Validity::Between {
            from: date(2026, 1, 1),
            until: date(2026, 12, 31),
        };
        store.save_template(&credit, at(NOW)).await.unwrap();
        let off = template("off", Offer::AmountOff(100));
        store.save_template(&off, at(NOW)).await.unwrap();
        assert_eq!(
            store.get_template(&credit.name).await.unwrap(),
            Some(credit.clone())
        );
        credit.offer = Offer::StoreCredit(800);
        credit.per_member = Some(2);
        store.save_template(&credit, at(NOW)).await.unwrap();
        assert_eq!(store.list_templates().await.unwrap(), vec![credit, off]);
        let unknown = TemplateName::parse("nope").unwrap();
        assert_eq!(store.get_template(&unknown).await.unwrap(), None);
    }
);

store_test!(
    a_coupon_is_issued_once_per_key_and_within_the_member_and_total_limits,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let bo = member(&store, "M2").await;
        let mut welcome = template("welcome", Offer::AmountOff(100));
        welcome.per_member = Some(1);
        welcome.total = Some(2);
        store.save_template(&welcome, at(NOW)).await.unwrap();

        let IssueOutcome::Issued(first) =
            issue_one(&store, issue(&welcome, &amy, "k1", Some("AMY-0001"))).await
        else {
            panic!("not issued")
        };
        assert_eq!(first.code.as_str(), "AMY-0001");
        assert_eq!(first.status, CouponStatus::Active);
        assert_eq!(
            issue_one(&store, issue(&welcome, &amy, "k1", Some("AMY-0002"))).await,
            IssueOutcome::Replayed(first.clone())
        );
        assert_eq!(
            issue_one(&store, issue(&welcome, &bo, "k1", Some("BO-0001"))).await,
            IssueOutcome::KeyReused
        );
        assert_eq!(
            issue_one(&store, issue(&welcome, &amy, "k2", Some("AMY-0002"))).await,
            IssueOutcome::MemberLimit
        );
        assert_eq!(
            issue_one(&store, issue(&welcome, &bo, "k3", Some("AMY-0001"))).await,
            IssueOutcome::CodeTaken
        );
        // In one batch, the second sees the first: the total limit of 2 is reached.
        let carl = member(&store, "M3").await;
        let outcomes = store
            .issue_coupons(&[
                issue(&welcome, &bo, "k4", Some("BO-0001")),
                issue(&welcome, &carl, "k5", Some("CARL-0001")),
            ])
            .await
            .unwrap();
        assert!(matches!(outcomes[0], IssueOutcome::Issued(_)));
        assert_eq!(outcomes[1], IssueOutcome::TotalLimit);
        // A voided coupon no longer counts against the limits.
        let voided = store
            .void_coupon(&first.code, "sent by mistake", at(NOW))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(voided.status, CouponStatus::Voided);
        assert!(matches!(
            issue_one(&store, issue(&welcome, &amy, "k6", Some("AMY-0003"))).await,
            IssueOutcome::Issued(_)
        ));
        assert_eq!(store.member_coupons(&amy).await.unwrap().len(), 2);
        // An unknown member or template refuses the whole batch.
        let ghost = MemberId::parse("GHOST").unwrap();
        let refused = store
            .issue_coupons(&[
                issue(&welcome, &carl, "k7", Some("CARL-0002")),
                issue(&welcome, &ghost, "k8", Some("GHOST-0001")),
            ])
            .await;
        assert!(matches!(refused, Err(StoreError::NotFound)));
        assert!(store.member_coupons(&carl).await.unwrap().is_empty());
        let stats = store.coupon_stats(&welcome.name).await.unwrap();
        assert_eq!((stats.issued, stats.voided), (3, 1));
    }
);

store_test!(
    pool_codes_are_issued_once_each_in_the_order_they_came,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let mut partner = template("partner", Offer::AmountOff(50));
        partner.codes = CodeSource::Pool;
        store.save_template(&partner, at(NOW)).await.unwrap();
        let codes: Vec<CouponCode> = ["PX-0001", "PX-0002", "PX-0001"]
            .iter()
            .map(|c| CouponCode::parse(c).unwrap())
            .collect();
        assert_eq!(
            store.add_pool_codes(&partner.name, &codes).await.unwrap(),
            2
        );
        let mut issued = Vec::new();
        for key in ["p1", "p2", "p3"] {
            issued.push(issue_one(&store, issue(&partner, &amy, key, None)).await);
        }
        let codes: Vec<&str> = issued
            .iter()
            .filter_map(|o| match o {
                IssueOutcome::Issued(c) => Some(c.code.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(codes, ["PX-0001", "PX-0002"]);
        assert_eq!(issued[2], IssueOutcome::PoolEmpty);
        // An issued code cannot come back through the pool.
        let again = [CouponCode::parse("PX-0001").unwrap()];
        assert_eq!(
            store.add_pool_codes(&partner.name, &again).await.unwrap(),
            0
        );
        let unknown = TemplateName::parse("nope").unwrap();
        assert!(matches!(
            store.add_pool_codes(&unknown, &again).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.coupon_stats(&partner.name).await.unwrap().pool_left,
            0
        );
    }
);

store_test!(
    an_exchange_spends_its_points_with_the_coupon_or_neither_happens,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let points = |key: &str, kind: PointsKind, points: i64| PointsRequest {
            member_id: amy.clone(),
            key: key.to_owned(),
            kind,
            points,
            available_on: TODAY,
            expires_on: None,
            draw: Draw::Spendable,
            reason: "test".to_owned(),
            cause: "operator:test".to_owned(),
            day: TODAY,
            at: at(NOW),
            cap: None,
        };
        store
            .record_points(&points("earn", PointsKind::Earn, 250))
            .await
            .unwrap();
        let mut latte = template("free-latte", Offer::AmountOff(120));
        latte.points_cost = Some(200);
        store.save_template(&latte, at(NOW)).await.unwrap();
        let mut exchange = issue(&latte, &amy, "x1", Some("LATTE-0001"));
        exchange.points = Some(points("coupon:x1", PointsKind::Redeem, -200));
        let IssueOutcome::Issued(coupon) = issue_one(&store, exchange).await else {
            panic!("not issued")
        };
        assert_eq!(coupon.points_key.as_deref(), Some("coupon:x1"));
        let mut again = issue(&latte, &amy, "x2", Some("LATTE-0002"));
        again.points = Some(points("coupon:x2", PointsKind::Redeem, -200));
        assert_eq!(issue_one(&store, again).await, IssueOutcome::Short(50));
        assert_eq!(store.member_coupons(&amy).await.unwrap().len(), 1);
        let left: i64 = store
            .points_holdings(&amy)
            .await
            .unwrap()
            .lots
            .iter()
            .map(|l| l.remaining)
            .sum();
        assert_eq!(left, 50);
    }
);

store_test!(
    a_coupon_is_redeemed_once_and_store_credit_is_spent_down,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let bo = member(&store, "M2").await;
        let off = template("off", Offer::AmountOff(100));
        let credit = template("credit", Offer::StoreCredit(300));
        store.save_template(&off, at(NOW)).await.unwrap();
        store.save_template(&credit, at(NOW)).await.unwrap();
        issue_one(&store, issue(&off, &amy, "i1", Some("OFF-0001"))).await;
        issue_one(&store, issue(&credit, &amy, "i2", Some("CREDIT-0001"))).await;
        store
            .record_orders(
                &[order("O1", "M1", 900), order("O2", "M1", 400)],
                IngestOptions::default(),
                at(NOW),
            )
            .await
            .unwrap();

        let RedeemOutcome::Redeemed(used, coupon) = store
            .redeem_coupon(&redeem("OFF-0001", &amy, "O1", "r1", 100))
            .await
            .unwrap()
        else {
            panic!("not redeemed")
        };
        assert_eq!(coupon.status, CouponStatus::Redeemed);
        let replay = store
            .redeem_coupon(&redeem("OFF-0001", &amy, "O1", "r1", 100))
            .await
            .unwrap();
        assert_eq!(replay, RedeemOutcome::Replayed(used, coupon));
        let cases = [
            (
                redeem("OFF-0001", &amy, "O2", "r1", 100),
                RedeemOutcome::KeyReused,
            ),
            (
                redeem("OFF-0001", &amy, "O2", "r2", 100),
                RedeemOutcome::NotUsable("redeemed"),
            ),
            (
                redeem("CREDIT-0001", &bo, "O3", "r3", 10),
                RedeemOutcome::Unknown,
            ),
            (
                redeem("NOPE-0001", &amy, "O3", "r4", 10),
                RedeemOutcome::Unknown,
            ),
        ];
        for (request, expected) in cases {
            assert_eq!(store.redeem_coupon(&request).await.unwrap(), expected);
        }
        let RedeemOutcome::Redeemed(_, left) = store
            .redeem_coupon(&redeem("CREDIT-0001", &amy, "O1", "c1", 200))
            .await
            .unwrap()
        else {
            panic!("not redeemed")
        };
        assert_eq!((left.credit, left.status), (100, CouponStatus::Active));
        assert_eq!(
            store
                .redeem_coupon(&redeem("CREDIT-0001", &amy, "O1", "c2", 50))
                .await
                .unwrap(),
            RedeemOutcome::AlreadyOnOrder
        );
        assert_eq!(
            store
                .redeem_coupon(&redeem("CREDIT-0001", &amy, "O2", "c3", 150))
                .await
                .unwrap(),
            RedeemOutcome::CreditShort(100)
        );
        let RedeemOutcome::Redeemed(_, spent) = store
            .redeem_coupon(&redeem("CREDIT-0001", &amy, "O2", "c4", 100))
            .await
            .unwrap()
        else {
            panic!("not redeemed")
        };
        assert_eq!((spent.credit, spent.status), (0, CouponStatus::Redeemed));
        let code = CouponCode::parse("CREDIT-0001").unwrap();
        assert_eq!(store.coupon_redemptions(&code).await.unwrap().len(), 2);
        // A used coupon cannot be voided.
        let kept = store.void_coupon(&code, "late", at(NOW)).await.unwrap();
        assert_eq!(kept.map(|c| c.status), Some(CouponStatus::Redeemed));
        let stats = store.coupon_stats(&credit.name).await.unwrap();
        assert_eq!(
            (stats.issued, stats.redeemed, stats.discount, stats.revenue),
            (1, 1, 300, 1_300)
        );
    }
);

store_test!(
    a_coupon_outside_its_days_is_not_usable,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let off = template("off", Offer::AmountOff(100));
        store.save_template(&off, at(NOW)).await.unwrap();
        issue_one(&store, issue(&off, &amy, "i1", Some("OFF-0001"))).await;
        let mut late = redeem("OFF-0001", &amy, "O1", "r1", 100);
        late.day = date(2026, 3, 31);
        assert_eq!(
            store.redeem_coupon(&late).await.unwrap(),
            RedeemOutcome::NotUsable("expired")
        );
        let mut early = redeem("OFF-0001", &amy, "O1", "r2", 100);
        early.day = date(2026, 2, 28);
        assert_eq!(
            store.redeem_coupon(&early).await.unwrap(),
            RedeemOutcome::NotUsable("scheduled")
        );
    }
);

store_test!(
    twenty_racing_redemptions_of_one_coupon_let_exactly_one_through,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let off = template("off", Offer::AmountOff(100));
        store.save_template(&off, at(NOW)).await.unwrap();
        issue_one(&store, issue(&off, &amy, "i1", Some("OFF-0001"))).await;
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let store = store.clone();
                let request = redeem("OFF-0001", &amy, &format!("O{n}"), &format!("r{n}"), 100);
                tokio::spawn(async move { store.redeem_coupon(&request).await.unwrap() })
            })
            .collect();
        let mut redeemed = 0;
        for task in tasks {
            match task.await.unwrap() {
                RedeemOutcome::Redeemed(..) => redeemed += 1,
                RedeemOutcome::NotUsable("redeemed") => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(redeemed, 1);
        let code = CouponCode::parse("OFF-0001").unwrap();
        assert_eq!(store.coupon_redemptions(&code).await.unwrap().len(), 1);
    }
);

store_test!(
    coupons_redeemed_together_are_all_used_or_none_is,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let off = template("off", Offer::AmountOff(100));
        let credit = template("credit", Offer::StoreCredit(300));
        store.save_template(&off, at(NOW)).await.unwrap();
        store.save_template(&credit, at(NOW)).await.unwrap();
        issue_one(&store, issue(&off, &amy, "i1", Some("OFF-0001"))).await;
        issue_one(&store, issue(&off, &amy, "i2", Some("OFF-0002"))).await;
        issue_one(&store, issue(&credit, &amy, "i3", Some("CREDIT-0001"))).await;
        let used = |code: &str| {
            let store = store.clone();
            let code = CouponCode::parse(code).unwrap();
            async move { store.coupon_redemptions(&code).await.unwrap().len() }
        };
        // The credit has 300: asking 400 of it refuses the set, and OFF-0001, redeemed before
        // it in the same call, is not used either.
        let refused = store
            .redeem_coupons(&[
                redeem("OFF-0001", &amy, "O1", "O1/OFF-0001", 100),
                redeem("CREDIT-0001", &amy, "O1", "O1/CREDIT-0001", 400),
                redeem("OFF-0002", &amy, "O1", "O1/OFF-0002", 100),
            ])
            .await
            .unwrap();
        assert_eq!(refused.len(), 2);
        assert!(refused[0].taken());
        assert_eq!(refused[1], RedeemOutcome::CreditShort(300));
        assert_eq!((used("OFF-0001").await, used("CREDIT-0001").await), (0, 0));
        // Within what the credit holds, all three are used, once.
        let set = [
            redeem("OFF-0001", &amy, "O1", "O1/OFF-0001", 100),
            redeem("CREDIT-0001", &amy, "O1", "O1/CREDIT-0001", 250),
            redeem("OFF-0002", &amy, "O1", "O1/OFF-0002", 100),
        ];
        let outcomes = store.redeem_coupons(&set).await.unwrap();
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, RedeemOutcome::Redeemed(..)))
        );
        let again = store.redeem_coupons(&set).await.unwrap();
        assert!(
            again
                .iter()
                .all(|o| matches!(o, RedeemOutcome::Replayed(..)))
        );
        for code in ["OFF-0001", "OFF-0002", "CREDIT-0001"] {
            assert_eq!(used(code).await, 1, "{code}");
        }
        let credit_left = store
            .get_coupon(&CouponCode::parse("CREDIT-0001").unwrap())
            .await
            .unwrap()
            .unwrap()
            .credit;
        assert_eq!(credit_left, 50);
    }
);

store_test!(
    sets_of_the_same_coupons_racing_in_opposite_orders_let_one_set_through,
    |store: DynStore| async move {
        let amy = member(&store, "M1").await;
        let off = template("off", Offer::AmountOff(100));
        store.save_template(&off, at(NOW)).await.unwrap();
        issue_one(&store, issue(&off, &amy, "i1", Some("OFF-0001"))).await;
        issue_one(&store, issue(&off, &amy, "i2", Some("OFF-0002"))).await;
        let tasks: Vec<_> = (0..10)
            .map(|n| {
                let store = store.clone();
                let order = format!("O{n}");
                let mut set = vec![
                    redeem("OFF-0001", &amy, &order, &format!("{order}/1"), 100),
                    redeem("OFF-0002", &amy, &order, &format!("{order}/2"), 100),
                ];
                if n % 2 == 1 {
                    set.reverse();
                }
                tokio::spawn(async move { store.redeem_coupons(&set).await.unwrap() })
            })
            .collect();
        let mut through = 0;
        for task in tasks {
            let outcomes = task.await.unwrap();
            if outcomes.iter().all(RedeemOutcome::taken) && outcomes.len() == 2 {
                through += 1;
            }
        }
        assert_eq!(through, 1);
        for code in ["OFF-0001", "OFF-0002"] {
            let code = CouponCode::parse(code).unwrap();
            let uses = store.coupon_redemptions(&code).await.unwrap();
            assert_eq!(uses.len(), 1);
        }
        let first = store
            .coupon_redemptions(&CouponCode::parse("OFF-0001").unwrap())
            .await
            .unwrap();
        let second = store
            .coupon_redemptions(&CouponCode::parse("OFF-0002").unwrap())
            .await
            .unwrap();
        assert_eq!(first[0].order_id, second[0].order_id);
    }
);

store_test!(
    twenty_racing_issues_never_pass_the_total_limit,
    |store: DynStore| async move {
        let mut members = Vec::new();
        for n in 0..20 {
            members.push(member(&store, &format!("M{n}")).await);
        }
        let mut scarce = template("scarce", Offer::AmountOff(100));
        scarce.total = Some(5);
        store.save_template(&scarce, at(NOW)).await.unwrap();
        let tasks: Vec<_> = members
            .iter()
            .enumerate()
            .map(|(n, member)| {
                let store = store.clone();
                let request = issue(
                    &scarce,
                    member,
                    &format!("k{n}"),
                    Some(&format!("SCARCE-{n:04}")),
                );
                tokio::spawn(async move { store.issue_coupons(&[request]).await.unwrap() })
            })
            .collect();
        let mut issued = 0;
        for task in tasks {
            match task.await.unwrap().pop().unwrap() {
                IssueOutcome::Issued(_) => issued += 1,
                IssueOutcome::TotalLimit => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(issued, 5);
        assert_eq!(store.coupon_stats(&scarce.name).await.unwrap().issued, 5);
    }
);
