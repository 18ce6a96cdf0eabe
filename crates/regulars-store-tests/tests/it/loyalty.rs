//! Members' loyalty as audiences read it: the tier, the lots with points left that still count,
//! the active coupons not past their last day; for the members asked about or for everyone,
//! leaving out members who hold none of these.

use jiff::civil::{Date, date};
use regulars_domain::{
    CodeSource, CouponCode, CouponTemplate, Currency, Eligibility, MemberId, MemberProfile, Offer,
    OrderId, PointsKind, TemplateName, Validity,
};
use regulars_store::{Draw, IssueRequest, LoyaltyCoupon, MemberTier, PointsRequest, RedeemRequest};

use crate::{DynStore, at, store_test};

const NOW: &str = "2026-03-01T04:00:00Z";
const TODAY: Date = date(2026, 3, 1);

fn id(text: &str) -> MemberId {
    MemberId::parse(text).unwrap()
}

fn credit(member: &str, key: &str, points: i64, expires_on: Date) -> PointsRequest {
    PointsRequest {
        member_id: id(member),
        key: key.to_owned(),
        kind: PointsKind::Earn,
        points,
        available_on: date(2026, 2, 1),
        expires_on: Some(expires_on),
        draw: Draw::Spendable,
        reason: "earned".to_owned(),
        cause: "operator:test".to_owned(),
        day: date(2026, 2, 1),
        at: at(NOW),
        cap: None,
    }
}

fn coupon(member: &str, code: &str, from: Date, until: Date) -> IssueRequest {
    IssueRequest {
        key: code.to_owned(),
        template: TemplateName::parse("welcome").unwrap(),
        member_id: id(member),
        code: Some(CouponCode::parse(code).unwrap()),
        valid_from: from,
        valid_until: until,
        credit: 0,
        cause: "operator:test".to_owned(),
        points: None,
        day: date(2026, 1, 1),
        at: at(NOW),
    }
}

store_test!(
    loyalty_reads_the_tier_the_lots_with_points_left_and_the_coupons_still_usable,
    |store: DynStore| async move {
        let profiles: Vec<_> = ["M1", "M2", "M3"]
            .iter()
            .map(|m| MemberProfile::empty(id(m)))
            .collect();
        store.upsert_members(&profiles, at(NOW)).await.unwrap();
        store
            .save_tiers(
                &[MemberTier {
                    member_id: id("M1"),
                    tier: "silver".to_owned(),
                    since: Some(date(2026, 2, 1)),
                    until: None,
                    order_id: None,
                    value: 6_000,
                    next_tier: None,
                    to_next: None,
                    due_on: None,
                    evaluated_on: TODAY,
                }],
                &[],
                at(NOW),
            )
            .await
            .unwrap();
        // M1: 300, 80 that expired yesterday, and 40; spending 140 takes the 40 (expiring
        // first of what still counts) and 100 of the 300.
        for request in [
            credit("M1", "earn-1", 300, date(2027, 2, 1)),
            credit("M1", "earn-2", 80, date(2026, 2, 28)),
            credit("M1", "earn-3", 40, date(2026, 12, 31)),
        ] {
            store.record_points(&request).await.unwrap();
        }
        let mut spend = credit("M1", "spend", -140, TODAY);
        spend.kind = PointsKind::Redeem;
        spend.expires_on = None;
        spend.day = TODAY;
        store.record_points(&spend).await.unwrap();
        store
            .save_template(
                &CouponTemplate {
                    name: TemplateName::parse("welcome").unwrap(),
                    title: "Welcome".to_owned(),
                    currency: Currency::TWD,
                    offer: Offer::AmountOff(50),
                    eligibility: Eligibility::default(),
                    validity: Validity::Days(30),
                    per_member: None,
                    total: None,
                    combines_with: Vec::new(),
                    points_cost: None,
                    codes: CodeSource::Generated,
                },
                at(NOW),
            )
            .await
            .unwrap();
        let coupons = [
            coupon("M1", "C-OPEN", date(2026, 2, 20), date(2026, 3, 20)),
            coupon("M1", "C-LATER", date(2026, 4, 1), date(2026, 4, 30)),
            coupon("M1", "C-PAST", date(2026, 1, 1), date(2026, 2, 28)),
            coupon("M1", "C-VOID", date(2026, 2, 1), date(2026, 3, 31)),
            coupon("M1", "C-USED", date(2026, 2, 1), date(2026, 3, 31)),
            coupon("M3", "C-M3", date(2026, 3, 1), date(2026, 3, 1)),
        ];
        store.issue_coupons(&coupons).await.unwrap();
        store
            .void_coupon(&CouponCode::parse("C-VOID").unwrap(), "test", at(NOW))
            .await
            .unwrap();
        store
            .redeem_coupon(&RedeemRequest {
                key: "use".to_owned(),
                code: CouponCode::parse("C-USED").unwrap(),
                member_id: id("M1"),
                order_id: OrderId::parse("O1").unwrap(),
                discount: 50,
                day: TODAY,
                at: at(NOW),
            })
            .await
            .unwrap();

        let asked = store
            .loyalty_facts(Some(&[id("M1"), id("M2")]), TODAY)
            .await
            .unwrap();
        assert_eq!(asked.len(), 1, "M2 holds nothing: {asked:?}");
        let (member, m1) = &asked[0];
        assert_eq!(member, &id("M1"));
        assert_eq!(m1.tier.as_deref(), Some("silver"));
        // Neither the lot spent whole nor the expired one is read.
        let lots: Vec<(i64, Option<Date>)> = m1
            .lots
            .iter()
            .map(|l| (l.remaining, l.expires_on))
            .collect();
        assert_eq!(lots, vec![(200, Some(date(2027, 2, 1)))]);
        let codes: Vec<&LoyaltyCoupon> = m1.coupons.iter().collect();
        assert_eq!(
            codes
                .iter()
                .map(|c| (c.valid_from, c.valid_until))
                .collect::<Vec<_>>(),
            vec![
                (date(2026, 4, 1), date(2026, 4, 30)),
                (date(2026, 2, 20), date(2026, 3, 20)),
            ],
            "active coupons not past their last day, in code order"
        );

        let everyone = store.loyalty_facts(None, TODAY).await.unwrap();
        let members: Vec<&str> = everyone.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(members, ["M1", "M3"]);
        assert_eq!(everyone[0].1, *m1);
        assert_eq!(everyone[1].1.coupons.len(), 1, "usable on its only day");
    }
);
