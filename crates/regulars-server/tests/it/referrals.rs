//! Referrals and the wallet through the API: a code per member, a referral refused with the rule
//! it breaks, a welcome coupon at once, both sides rewarded once the first order's return window
//! has passed (and never twice), a first order under the minimum rejected; the wallet shows
//! points, coupons usable now, the tier and the code in one call.

use regulars_api_types::{
    CouponTemplateRequest, MemberRequest, OfferJson, ReferralRequest, ValidityJson,
};
use regulars_domain::{ReferralRules, TemplateName};
use regulars_test_support::{TestApp, TestBackend};

use crate::{error_code, order};

async fn spawn() -> Option<TestApp> {
    TestApp::spawn_configured(TestBackend::from_env(), |config| {
        config.referrals = Some(ReferralRules {
            referrer_points: 100,
            referee_points: 50,
            referrer_coupon: None,
            referee_coupon: None,
            welcome_coupon: Some(TemplateName::parse("friend-50").unwrap()),
            min_order: 30_000,
            max_per_referrer: 2,
            wait_days: 14,
        });
    })
    .await
}

async fn member(app: &TestApp, id: &str, email: &str, phone: Option<&str>) {
    let request = MemberRequest {
        member_id: id.to_owned(),
        email: Some(email.to_owned()),
        phone: phone.map(str::to_owned),
        ..MemberRequest::default()
    };
    app.client.upsert_member(&request, None).await.unwrap();
}

fn refer(code: &str, referee: &str, device: Option<&str>) -> ReferralRequest {
    ReferralRequest {
        code: code.to_owned(),
        referee_member_id: referee.to_owned(),
        device_id: device.map(str::to_owned),
        referred_on: None,
    }
}

#[tokio::test]
async fn a_referral_pays_both_sides_once_after_the_first_orders_return_window() {
    let Some(app) = spawn().await else {
        return;
    };
    let welcome = CouponTemplateRequest {
        title: "NT$50 off your first order".to_owned(),
        currency: None,
        offer: OfferJson {
            kind: "amount_off".to_owned(),
            amount: Some(5_000),
            ..OfferJson::default()
        },
        eligibility: regulars_api_types::EligibilityJson::default(),
        validity: ValidityJson {
            days: Some(30),
            ..ValidityJson::default()
        },
        per_member: Some(1),
        total: None,
        combines_with: None,
        points_cost: None,
        codes: None,
    };
    app.client
        .save_coupon_template("friend-50", &welcome)
        .await
        .unwrap();
    member(&app, "M1", "amy.lin@example.com", Some("0912345678")).await;
    member(&app, "M2", "bo@example.com", None).await;
    member(&app, "M3", "amylin+2@example.com", None).await;
    member(&app, "M4", "cy@example.com", Some("0912345678")).await;
    member(&app, "M5", "di@example.com", None).await;
    member(&app, "M6", "ed@example.com", None).await;
    member(&app, "M7", "fu@example.com", None).await;

    let amy = app.client.member_referrals("M1").await.unwrap();
    assert_eq!(amy.code.len(), 8);
    assert_eq!(
        app.client.member_referrals("M1").await.unwrap().code,
        amy.code
    );
    let code = amy.code.clone();

    let made = app
        .client
        .refer(&refer(&code, "M2", Some("phone-2")))
        .await
        .unwrap();
    assert_eq!(
        (made.status.as_str(), made.referrer_member_id.as_str()),
        ("pending", "M1")
    );
    // The same referral again answers with it.
    let again = app
        .client
        .refer(&refer(&code, "M2", Some("phone-2")))
        .await
        .unwrap();
    assert_eq!(again, made);
    // The referee has their first-order coupon at once.
    let coupons = app.client.member_coupons("M2").await.unwrap().coupons;
    assert_eq!(coupons.len(), 1);
    assert_eq!(coupons[0].template, "friend-50");

    for (referee, device, rule) in [
        ("M1", None, "themselves"),
        ("M3", None, "e-mail"),
        ("M4", None, "phone"),
        ("M5", Some("phone-2"), "device"),
    ] {
        let refused = app
            .client
            .refer(&refer(&code, referee, device))
            .await
            .unwrap_err();
        assert_eq!(error_code(&refused), (422, "referral_refused"), "{referee}");
        assert!(refused.to_string().contains(rule), "{referee}: {refused}");
    }
    // M6 has ordered before: not a first-time customer.
    app.client
        .record_order(&order("O6", "M6", 50_000), None)
        .await
        .unwrap();
    let returning = app
        .client
        .refer(&refer(&code, "M6", None))
        .await
        .unwrap_err();
    assert!(returning.to_string().contains("first-time"), "{returning}");
    // M5 is the second referral, the cap; M7 is one too many.
    app.client.refer(&refer(&code, "M5", None)).await.unwrap();
    let capped = app
        .client
        .refer(&refer(&code, "M7", None))
        .await
        .unwrap_err();
    assert!(capped.to_string().contains("most referrals"), "{capped}");
    let unknown = app
        .client
        .refer(&refer("NOSUCH-1", "M7", None))
        .await
        .unwrap_err();
    assert_eq!(error_code(&unknown), (404, "not_found"));

    // M2's first order (NT$450, placed 2026-11-20) qualifies; it pays on 2026-12-04.
    app.client
        .record_order(&order("O2", "M2", 45_000), None)
        .await
        .unwrap();
    // M5's first order is under the minimum NT$300.
    app.client
        .record_order(&order("O5", "M5", 20_000), None)
        .await
        .unwrap();
    let settled = app.client.settle_referrals().await.unwrap();
    assert_eq!(
        (
            settled.open,
            settled.qualified,
            settled.rewarded,
            settled.rejected
        ),
        (2, 1, 0, 1)
    );
    let amy = app.client.member_referrals("M1").await.unwrap();
    let states: Vec<(&str, &str)> = amy
        .referrals
        .iter()
        .map(|r| (r.referee_member_id.as_str(), r.status.as_str()))
        .collect();
    assert!(states.contains(&("M2", "qualified")) && states.contains(&("M5", "rejected")));
    let m2 = app.client.member_referrals("M2").await.unwrap();
    assert_eq!(
        m2.referred_by.as_ref().unwrap().note.as_deref(),
        Some("pays on 2026-12-04")
    );

    app.clock.advance(jiff::SignedDuration::from_hours(24 * 13));
    let settled = app.client.settle_referrals().await.unwrap();
    assert_eq!((settled.open, settled.rewarded), (1, 1));
    let again = app.client.settle_referrals().await.unwrap();
    assert_eq!((again.open, again.rewarded), (0, 0));
    let referrer_points = app.client.points("M1", None, None).await.unwrap();
    assert_eq!(referrer_points.entries.len(), 1);
    assert_eq!(
        (
            referrer_points.entries[0].points,
            referrer_points.entries[0].cause.as_str()
        ),
        (100, "referral:M2")
    );
    let referee_points = app.client.points("M2", None, None).await.unwrap();
    assert!(
        referee_points
            .entries
            .iter()
            .any(|e| e.points == 50 && e.cause == "referral:M2")
    );
    assert_eq!(app.client.member_referrals("M1").await.unwrap().rewarded, 1);

    // The wallet shows it all in one call.
    let wallet = app.client.wallet("M2").await.unwrap();
    assert_eq!(wallet.member_id, "M2");
    assert!(wallet.points.available >= 50, "{:?}", wallet.points);
    assert_eq!(wallet.coupons.len(), 1);
    assert_eq!(wallet.coupons[0].state, "active");
    assert_eq!(wallet.referral_code.as_ref().map(String::len), Some(8));
    assert!(wallet.tier.is_none());
    let missing = app.client.wallet("M404").await.unwrap_err();
    assert_eq!(error_code(&missing), (404, "not_found"));
}

#[tokio::test]
async fn a_brand_without_referrals_answers_not_found_and_the_wallet_has_no_code() {
    let Some(app) = TestApp::spawn().await else {
        return;
    };
    member(&app, "M1", "amy@example.com", None).await;
    let missing = app.client.member_referrals("M1").await.unwrap_err();
    assert_eq!(error_code(&missing), (404, "not_found"));
    let wallet = app.client.wallet("M1").await.unwrap();
    assert_eq!(wallet.referral_code, None);
    assert_eq!(wallet.points.available, 0);
}
