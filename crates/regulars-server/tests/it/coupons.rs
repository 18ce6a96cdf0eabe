//! Coupons through the API: a template saved and shown with its figures, a coupon issued once
//! per key and within its limits, checked against baskets, redeemed once against an order,
//! exchanged for points, issued to a saved audience, and voided.

use regulars_api_types::{
    AudienceSaveRequest, BasketJson, BasketLineJson, CouponCheckRequest, CouponIssueRequest,
    CouponRedeemRequest, CouponTemplateRequest, CouponVoidRequest, EligibilityJson, MemberRequest,
    OfferJson, PointsChangeRequest, ValidityJson,
};
use regulars_domain::ApiRole;

use crate::{error_code, order, spawn_or_skip};

fn pastry_deal() -> CouponTemplateRequest {
    CouponTemplateRequest {
        title: "NT$30 off pastry over NT$100".to_owned(),
        currency: None,
        offer: OfferJson {
            kind: "amount_off".to_owned(),
            amount: Some(30),
            ..OfferJson::default()
        },
        eligibility: EligibilityJson {
            categories: vec!["pastry".to_owned()],
            min_spend: Some(100),
            ..EligibilityJson::default()
        },
        validity: ValidityJson {
            days: Some(30),
            ..ValidityJson::default()
        },
        per_member: Some(1),
        total: None,
        combines_with: None,
        points_cost: Some(50),
        codes: None,
    }
}

fn to_member(member: &str, key: &str) -> CouponIssueRequest {
    CouponIssueRequest {
        member_id: Some(member.to_owned()),
        audience: None,
        idempotency_key: key.to_owned(),
        cause: None,
        with_points: false,
    }
}

fn basket(lines: &[(&str, &str, u32, i64)]) -> BasketJson {
    BasketJson {
        currency: None,
        store_id: Some("S01".to_owned()),
        channel: None,
        lines: lines
            .iter()
            .map(|(sku, category, quantity, unit_price)| BasketLineJson {
                sku: (*sku).to_owned(),
                category: Some((*category).to_owned()),
                quantity: *quantity,
                unit_price: *unit_price,
            })
            .collect(),
        shipping: 0,
    }
}

#[tokio::test]
async fn a_coupon_is_issued_once_checked_against_baskets_and_redeemed_once() {
    let app = spawn_or_skip!();
    for id in ["M1", "M2"] {
        let member = MemberRequest {
            member_id: id.to_owned(),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
    let saved = app
        .client
        .save_coupon_template("pastry-30", &pastry_deal())
        .await
        .unwrap();
    assert_eq!(saved.template.offer.kind, "amount_off");
    assert_eq!(saved.template.codes.as_deref(), Some("generated"));

    let issued = app
        .client
        .issue_coupon("pastry-30", &to_member("M1", "welcome-M1"))
        .await
        .unwrap();
    assert!(!issued.replayed);
    assert_eq!(issued.coupon.state, "active");
    assert_eq!(issued.coupon.code.len(), 10);
    let code = issued.coupon.code.clone();
    let again = app
        .client
        .issue_coupon("pastry-30", &to_member("M1", "welcome-M1"))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.coupon.code, code);
    let limited = app
        .client
        .issue_coupon("pastry-30", &to_member("M1", "welcome-M1-again"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&limited), (409, "coupon_limit_reached"));

    // The till checks the coupon against what is in the basket.
    let till = app.client_with_role(ApiRole::Ingest).await;
    let check = |basket: BasketJson| CouponCheckRequest {
        member_id: "M1".to_owned(),
        codes: vec![code.to_lowercase()],
        basket,
    };
    let small = till
        .check_coupons(&check(basket(&[
            ("scone", "pastry", 1, 65),
            ("latte", "coffee", 1, 120),
        ])))
        .await
        .unwrap();
    assert!(!small.checks[0].applies);
    assert_eq!(
        small.checks[0].reason.as_deref(),
        Some("eligible items cost 65, the minimum is 100")
    );
    let enough = basket(&[("scone", "pastry", 2, 65), ("latte", "coffee", 1, 120)]);
    let checked = till.check_coupons(&check(enough.clone())).await.unwrap();
    assert_eq!((checked.checks[0].items, checked.total), (30, 30));

    let redeem = CouponRedeemRequest {
        member_id: "M1".to_owned(),
        order_id: "O-1".to_owned(),
        basket: enough,
        idempotency_key: "till-1/receipt-9".to_owned(),
    };
    let redeemed = till.redeem_coupon(&code, &redeem).await.unwrap();
    assert_eq!((redeemed.discount, redeemed.replayed), (30, false));
    assert_eq!(redeemed.coupon.state, "redeemed");
    let replay = till.redeem_coupon(&code, &redeem).await.unwrap();
    assert!(replay.replayed);
    let twice = till
        .redeem_coupon(
            &code,
            &CouponRedeemRequest {
                order_id: "O-2".to_owned(),
                idempotency_key: "till-1/receipt-10".to_owned(),
                ..redeem.clone()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error_code(&twice), (409, "coupon_not_usable"));
    let not_hers = till
        .redeem_coupon(
            &code,
            &CouponRedeemRequest {
                member_id: "M2".to_owned(),
                idempotency_key: "till-1/receipt-11".to_owned(),
                ..redeem
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error_code(&not_hers), (404, "not_found"));

    // The order arrives: the template's figures count its revenue.
    app.client
        .record_order(&order("O-1", "M1", 220), None)
        .await
        .unwrap();
    let stats = app.client.coupon_template("pastry-30").await.unwrap().stats;
    assert_eq!(
        (stats.issued, stats.redeemed, stats.discount, stats.revenue),
        (1, 1, 30, 220)
    );
    assert!((stats.redemption_rate - 1.0).abs() < f64::EPSILON);
    // A used coupon cannot be voided.
    let used = app
        .client
        .void_coupon(
            &code,
            &CouponVoidRequest {
                reason: "too late".to_owned(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error_code(&used), (409, "coupon_not_usable"));
    let shown = app.client.coupon(&code).await.unwrap();
    assert_eq!(shown.redemptions.len(), 1);
    assert_eq!(shown.redemptions[0].order_id, "O-1");
}

#[tokio::test]
async fn points_buy_a_coupon_only_when_they_suffice_and_an_audience_gets_one_each() {
    let app = spawn_or_skip!();
    for id in ["M1", "M2", "M3"] {
        let member = MemberRequest {
            member_id: id.to_owned(),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
    app.client
        .save_coupon_template("pastry-30", &pastry_deal())
        .await
        .unwrap();
    app.client
        .change_points(
            "M1",
            &PointsChangeRequest {
                kind: "earn".to_owned(),
                points: 70,
                idempotency_key: "grant".to_owned(),
                reason: "welcome".to_owned(),
                cause: None,
            },
        )
        .await
        .unwrap();
    let member_app = app.client_with_role(ApiRole::Ingest).await;
    let exchange = |member: &str, key: &str| CouponIssueRequest {
        with_points: true,
        ..to_member(member, key)
    };
    let bought = member_app
        .issue_coupon("pastry-30", &exchange("M1", "swap-1"))
        .await
        .unwrap();
    assert_eq!(bought.coupon.points_key.as_deref(), Some("coupon:swap-1"));
    assert_eq!(
        app.client
            .points("M1", None, None)
            .await
            .unwrap()
            .balance
            .available,
        20
    );
    let short = member_app
        .issue_coupon("pastry-30", &exchange("M2", "swap-2"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&short), (409, "insufficient_points"));
    assert!(
        app.client
            .member_coupons("M2")
            .await
            .unwrap()
            .coupons
            .is_empty()
    );
    // An ingest key may exchange points but not hand out coupons.
    let refused = member_app
        .issue_coupon("pastry-30", &to_member("M2", "gift"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&refused).0, 403);

    let list = AudienceSaveRequest {
        rule: None,
        text: None,
        members: Some(vec!["M1".to_owned(), "M2".to_owned(), "M3".to_owned()]),
        phones: None,
        emails: None,
        tag: None,
        description: None,
    };
    app.client.save_audience("regulars", &list).await.unwrap();
    let to_all = CouponIssueRequest {
        member_id: None,
        audience: Some("regulars".to_owned()),
        ..to_member("", "december-push")
    };
    let bulk = app
        .client
        .issue_coupons_to_audience("pastry-30", &to_all)
        .await
        .unwrap();
    // M1 has one already and the template allows one each.
    assert_eq!((bulk.issued, bulk.replayed), (2, 0));
    assert_eq!(bulk.refused.len(), 1);
    assert_eq!(bulk.refused[0].member_id, "M1");
    let rerun = app
        .client
        .issue_coupons_to_audience("pastry-30", &to_all)
        .await
        .unwrap();
    assert_eq!((rerun.issued, rerun.replayed), (0, 2));

    let m3 = app.client.member_coupons("M3").await.unwrap().coupons;
    let voided = app
        .client
        .void_coupon(
            &m3[0].code,
            &CouponVoidRequest {
                reason: "sent twice".to_owned(),
            },
        )
        .await
        .unwrap();
    assert_eq!(voided.state, "voided");
    // Voiding twice changes nothing more.
    let again = app
        .client
        .void_coupon(
            &m3[0].code,
            &CouponVoidRequest {
                reason: "sent twice".to_owned(),
            },
        )
        .await
        .unwrap();
    assert_eq!(again, voided);
}

#[tokio::test]
async fn a_broken_template_is_refused_field_by_field_and_saves_nothing() {
    let app = spawn_or_skip!();
    let mut broken = pastry_deal();
    broken.offer = OfferJson {
        kind: "percent_off".to_owned(),
        percent: Some(120),
        ..OfferJson::default()
    };
    broken.validity = ValidityJson::default();
    let error = app
        .client
        .save_coupon_template("pastry-30", &broken)
        .await
        .unwrap_err();
    assert_eq!(error_code(&error), (422, "validation_failed"));
    let regulars_client::ClientError::Api { body, .. } = &error else {
        panic!("{error}")
    };
    let fields: Vec<_> = body
        .details
        .iter()
        .filter_map(|d| d.field.as_deref())
        .collect();
    assert_eq!(fields, ["offer", "validity"]);
    assert!(
        app.client
            .coupon_templates()
            .await
            .unwrap()
            .templates
            .is_empty()
    );
}

#[tokio::test]
async fn coupons_redeemed_together_stack_in_order_and_are_all_used_or_none_is() {
    use regulars_api_types::CouponsRedeemRequest;
    let app = spawn_or_skip!();
    let member = MemberRequest {
        member_id: "M1".to_owned(),
        ..MemberRequest::default()
    };
    app.client.upsert_member(&member, None).await.unwrap();
    let offer = |kind: &str, amount: i64| CouponTemplateRequest {
        title: format!("{kind} {amount}"),
        offer: OfferJson {
            kind: kind.to_owned(),
            amount: Some(amount),
            ..OfferJson::default()
        },
        eligibility: EligibilityJson::default(),
        per_member: None,
        points_cost: None,
        ..pastry_deal()
    };
    let templates = [
        ("pastry-30", pastry_deal()),
        ("coffee-20", offer("amount_off", 20)),
        ("credit-100", offer("store_credit", 100)),
    ];
    let mut codes = std::collections::HashMap::new();
    for (name, template) in templates {
        app.client
            .save_coupon_template(name, &template)
            .await
            .unwrap();
        let issued = app
            .client
            .issue_coupon(name, &to_member("M1", &format!("gift-{name}")))
            .await
            .unwrap();
        codes.insert(name, issued.coupon.code);
    }
    let till = app.client_with_role(ApiRole::Ingest).await;
    let together = |order: &str, names: &[&str], key: &str| CouponsRedeemRequest {
        member_id: "M1".to_owned(),
        order_id: order.to_owned(),
        codes: names.iter().map(|name| codes[name].clone()).collect(),
        basket: basket(&[("scone", "pastry", 2, 65), ("latte", "coffee", 1, 120)]),
        idempotency_key: key.to_owned(),
    };
    let state = |name: &'static str| {
        let (client, code) = (&app.client, codes[name].clone());
        async move { client.coupon(&code).await.unwrap().state }
    };

    // Two amount-off coupons do not combine: neither is used.
    let refused = till
        .redeem_coupons(&together("O-1", &["pastry-30", "coffee-20"], "till-1/r1"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&refused), (422, "coupon_not_applicable"));
    assert_eq!(state("pastry-30").await, "active");
    assert_eq!(state("coffee-20").await, "active");

    // NT$30 off the pastry, then the store credit pays 100 of the 220 left.
    let request = together("O-1", &["pastry-30", "credit-100"], "till-1/r2");
    let redeemed = till.redeem_coupons(&request).await.unwrap();
    let discounts: Vec<i64> = redeemed.redemptions.iter().map(|r| r.discount).collect();
    assert_eq!((discounts, redeemed.total), (vec![30, 100], 130));
    assert!(!redeemed.replayed);
    let replay = till.redeem_coupons(&request).await.unwrap();
    assert_eq!((replay.total, replay.replayed), (130, true));

    // The credit is spent: with it, the coffee coupon is not used either.
    let spent = till
        .redeem_coupons(&together("O-2", &["coffee-20", "credit-100"], "till-1/r3"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&spent), (409, "coupon_not_usable"));
    assert_eq!(state("coffee-20").await, "active");
    // The same code twice is refused before anything is looked at.
    let twice = till
        .redeem_coupons(&together("O-3", &["coffee-20", "coffee-20"], "till-1/r4"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&twice), (422, "validation_failed"));
    let alone = till
        .redeem_coupons(&together("O-3", &["coffee-20"], "till-1/r5"))
        .await
        .unwrap();
    assert_eq!(alone.total, 20);
}
