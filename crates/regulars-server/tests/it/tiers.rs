//! Tiers through the API: orders upgrade a member at once (by spend over the window, or by one
//! large order), the upgrade is logged once with its rule and rewarded once, later orders earn
//! at the new tier's multiplier, a return takes a member back down, members near their next
//! tier are found, and birthday coupons follow the tier, once per member and year.

use regulars_api_types::{
    CouponTemplateRequest, MemberRequest, OfferJson, ReturnRequest, TierEvaluateRequest,
    ValidityJson,
};
use regulars_app::BirthdayIssue;
use regulars_domain::{
    DowngradeMode, Multiplier, RenewalWindow, TemplateName, TierBenefits, TierLevel, TierMetric,
    TierName, TierRules,
};
use regulars_test_support::{TestApp, TestBackend};

use crate::{error_code, member_ids, order, rule};

/// Member; silver from NT$5,000 over 365 days (×1.5, 100 points on entry); gold from NT$20,000
/// or one order of NT$10,000 (×2), each with a birthday coupon.
fn ladder() -> TierRules {
    let level = |name: &str, entry: i64, fast: Option<i64>, multiplier: f64| TierLevel {
        name: TierName::parse(name).unwrap(),
        title: format!("{name} card"),
        entry,
        retain: entry / 2,
        fast_upgrade: fast,
        benefits: TierBenefits {
            multiplier: Multiplier::from_decimal(multiplier).unwrap(),
            birthday_coupon: Some(TemplateName::parse(&format!("bday-{name}")).unwrap()),
            free_shipping: name == "gold",
            entry_points: if name == "silver" { 100 } else { 0 },
            entry_coupon: None,
        },
    };
    TierRules::new(
        vec![
            level("member", 0, None, 1.0),
            level("silver", 500_000, None, 1.5),
            level("gold", 2_000_000, Some(1_000_000), 2.0),
        ],
        TierMetric::Spend,
        365,
        Some(12),
        RenewalWindow::Term,
        false,
        DowngradeMode::ToQualifying,
        0,
        true,
    )
    .unwrap()
}

async fn spawn(birthday: BirthdayIssue) -> Option<TestApp> {
    TestApp::spawn_configured(TestBackend::from_env(), move |config| {
        config.tiers = Some(ladder());
        config.birthday_coupon_on = birthday;
    })
    .await
}

fn placed(id: &str, member: &str, amount: i64, at: &str) -> regulars_api_types::OrderRequest {
    let mut order = order(id, member, amount);
    order.placed_at = at.to_owned();
    order
}

#[tokio::test]
async fn orders_upgrade_at_once_are_logged_and_rewarded_once_and_returns_take_members_down() {
    let Some(app) = spawn(BirthdayIssue::MonthStart).await else {
        return;
    };
    // Today is 2026-11-22 in Taipei. NT$3,000 on the 20th: still a member, NT$2,000 short.
    app.client
        .record_order(&placed("O1", "M1", 300_000, "2026-11-20 09:30"), None)
        .await
        .unwrap();
    app.app.accrue_points().await.unwrap();
    let tier = app.client.member_tier("M1").await.unwrap();
    assert_eq!(
        (tier.tier.name.as_str(), tier.value, tier.to_next),
        ("member", 300_000, Some(200_000))
    );
    // NT$2,500 on the 21st reaches silver that day; the order itself earns at ×1.
    app.client
        .record_order(&placed("O2", "M1", 250_000, "2026-11-21 10:00"), None)
        .await
        .unwrap();
    app.app.accrue_points().await.unwrap();
    // NT$1,000 today earns at silver's ×1.5.
    app.client
        .record_order(&placed("O3", "M1", 100_000, "2026-11-22 11:00"), None)
        .await
        .unwrap();
    app.app.accrue_points().await.unwrap();

    let tier = app.client.member_tier("M1").await.unwrap();
    assert_eq!(tier.tier.name, "silver");
    assert_eq!(tier.since.as_deref(), Some("2026-11-21"));
    assert_eq!(tier.until.as_deref(), Some("2027-11-20"));
    assert_eq!(tier.value, 650_000);
    assert_eq!(tier.next_tier.as_ref().unwrap().name, "gold");
    assert_eq!(tier.to_next, Some(1_350_000));
    // Renewal counts from the term's start without the upgrading order: O3 so far.
    assert_eq!(
        (tier.renewal_value, tier.to_renew),
        (Some(100_000), Some(150_000))
    );
    assert_eq!(tier.changes.len(), 1);
    let upgrade = &tier.changes[0];
    assert_eq!(
        (
            upgrade.kind.as_str(),
            upgrade.from_tier.as_str(),
            upgrade.order_id.as_deref()
        ),
        ("upgrade", "member", Some("O2"))
    );
    assert!(
        upgrade.reason.contains("meets the entry 500000"),
        "{}",
        upgrade.reason
    );

    let points = app.client.points("M1", None, None).await.unwrap();
    let by_cause = |cause: &str| -> Vec<i64> {
        points
            .entries
            .iter()
            .filter(|e| e.cause == cause)
            .map(|e| e.points)
            .collect()
    };
    assert_eq!(by_cause("order:O2"), [25]);
    assert_eq!(by_cause("order:O3"), [15]);
    assert_eq!(by_cause("tier:silver"), [100]);

    // Evaluating again, as another process would, records and rewards nothing twice.
    let again = app
        .client
        .evaluate_tiers(&TierEvaluateRequest::default())
        .await
        .unwrap();
    assert_eq!((again.members, again.changes, again.rewards), (1, 0, 0));
    let points = app.client.points("M1", None, None).await.unwrap();
    assert_eq!(
        points
            .entries
            .iter()
            .filter(|e| e.cause == "tier:silver")
            .count(),
        1
    );

    // One order of NT$12,000 makes M2 gold at once.
    app.client
        .record_order(&placed("O9", "M2", 1_200_000, "2026-11-22 09:00"), None)
        .await
        .unwrap();
    app.app.accrue_points().await.unwrap();
    let fast = app.client.tier_changes("kind=fast_upgrade").await.unwrap();
    assert_eq!(fast.changes.len(), 1);
    assert_eq!(
        (
            fast.changes[0].member_id.as_str(),
            fast.changes[0].to_tier.as_str()
        ),
        ("M2", "gold")
    );
    let program = app.client.tiers().await.unwrap();
    let counts: Vec<(&str, Option<u64>)> = program
        .levels
        .iter()
        .map(|level| (level.name.as_str(), level.members))
        .collect();
    assert_eq!(
        counts,
        [("member", Some(0)), ("silver", Some(1)), ("gold", Some(1))]
    );
    let near = app
        .client
        .near_next_tier(Some(1_400_000), None)
        .await
        .unwrap();
    let near: Vec<_> = near.members.iter().map(|m| m.member_id.as_str()).collect();
    assert_eq!(near, ["M1"]);
    assert!(
        app.client
            .near_next_tier(None, Some(50))
            .await
            .unwrap()
            .members
            .is_empty()
    );

    // NT$9,000 of it comes back: M2 no longer qualifies for gold, or silver's entry by spend
    // (NT$3,000 left), and goes down to member.
    let refund = ReturnRequest {
        return_id: "R9".to_owned(),
        order_id: "O9".to_owned(),
        amount: 900_000,
        currency: None,
        completed_at: "2026-11-22 15:00".to_owned(),
        lines: vec![],
    };
    app.client.record_return(&refund, None).await.unwrap();
    app.app.accrue_points().await.unwrap();
    let tier = app.client.member_tier("M2").await.unwrap();
    assert_eq!(tier.tier.name, "member");
    let kinds: Vec<&str> = tier.changes.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["return_downgrade", "fast_upgrade"]);

    // The wallet shows the tier and what is missing for the next one.
    let wallet = app.client.wallet("M1").await.unwrap();
    let tier = wallet.tier.unwrap();
    assert_eq!(
        (tier.name.as_str(), tier.to_next, tier.points_multiplier),
        ("silver", Some(1_350_000), 1.5)
    );
    assert_eq!(tier.next_title.as_deref(), Some("gold card"));
    assert_eq!(wallet.points.pending, 30 + 25 + 15);
    assert_eq!(wallet.points.available, 100);

    let unknown = app.client.member_tier("M404").await.unwrap_err();
    assert_eq!(error_code(&unknown), (404, "not_found"));
    let bad = app.client.tier_changes("kind=promotion").await.unwrap_err();
    assert_eq!(error_code(&bad), (422, "validation_failed"));
}

#[tokio::test]
async fn a_brand_without_tiers_answers_not_found() {
    let Some(app) = TestApp::spawn().await else {
        return;
    };
    let missing = app.client.tiers().await.unwrap_err();
    assert_eq!(error_code(&missing), (404, "not_found"));
}

fn birthday_template(amount: i64) -> CouponTemplateRequest {
    CouponTemplateRequest {
        title: format!("NT${amount} birthday treat"),
        currency: None,
        offer: OfferJson {
            kind: "amount_off".to_owned(),
            amount: Some(amount),
            ..OfferJson::default()
        },
        eligibility: regulars_api_types::EligibilityJson::default(),
        validity: ValidityJson {
            days: Some(30),
            ..ValidityJson::default()
        },
        per_member: None,
        total: None,
        combines_with: None,
        points_cost: None,
        codes: None,
    }
}

async fn birthday_members(app: &TestApp) {
    for (id, birthday) in [
        ("M3", "1990-11-05"),
        ("M4", "1988-11-30"),
        ("M5", "1995-12-01"),
    ] {
        let member = MemberRequest {
            member_id: id.to_owned(),
            birthday: Some(birthday.to_owned()),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
    for (name, amount) in [
        ("bday-member", 50),
        ("bday-silver", 100),
        ("bday-gold", 200),
    ] {
        app.client
            .save_coupon_template(name, &birthday_template(amount))
            .await
            .unwrap();
    }
    // M4 is gold.
    app.client
        .record_order(&placed("O4", "M4", 1_500_000, "2026-11-02 09:00"), None)
        .await
        .unwrap();
    app.app.accrue_points().await.unwrap();
}

#[tokio::test]
async fn birthday_coupons_follow_the_tier_from_the_start_of_the_month_once_a_year() {
    let Some(app) = spawn(BirthdayIssue::MonthStart).await else {
        return;
    };
    birthday_members(&app).await;
    let issued = app.app.issue_birthday_coupons().await.unwrap();
    assert_eq!((issued.issued, issued.replayed), (2, 0));
    let again = app.app.issue_birthday_coupons().await.unwrap();
    assert_eq!((again.issued, again.replayed), (0, 2));
    let templates = |member: &'static str| {
        let client = app.client.clone();
        async move {
            client
                .member_coupons(member)
                .await
                .unwrap()
                .coupons
                .into_iter()
                .map(|c| (c.template, c.idempotency_key))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        templates("M3").await,
        [("bday-member".to_owned(), "birthday:2026:M3".to_owned())]
    );
    assert_eq!(
        templates("M4").await,
        [("bday-gold".to_owned(), "birthday:2026:M4".to_owned())]
    );
    assert!(templates("M5").await.is_empty());
}

#[tokio::test]
async fn birthday_coupons_on_the_day_wait_for_the_day() {
    let Some(app) = spawn(BirthdayIssue::Birthday).await else {
        return;
    };
    birthday_members(&app).await;
    // The 22nd: M3's birthday (the 5th) has passed and is caught up; M4's (the 30th) has not.
    let issued = app.app.issue_birthday_coupons().await.unwrap();
    assert_eq!(issued.issued, 1);
    assert_eq!(
        app.client.member_coupons("M4").await.unwrap().coupons.len(),
        0
    );
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 8));
    let issued = app.app.issue_birthday_coupons().await.unwrap();
    assert_eq!((issued.issued, issued.replayed), (1, 1));
    assert_eq!(
        app.client.member_coupons("M4").await.unwrap().coupons.len(),
        1
    );
}

#[tokio::test]
async fn loyalty_audiences_follow_tiers_points_and_coupons_as_they_change() {
    let Some(app) = spawn(BirthdayIssue::MonthStart).await else {
        return;
    };
    for id in ["M1", "M2"] {
        let member = MemberRequest {
            member_id: id.to_owned(),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
    app.client
        .save_coupon_template("welcome", &birthday_template(50))
        .await
        .unwrap();
    app.app.start_segments().await.unwrap();
    for (name, text) in [
        ("silver and up", "tier >= silver"),
        ("holders", "points >= 100"),
        ("welcomed", r#"unused_coupons(template = "welcome") >= 1"#),
    ] {
        let saved = app.client.save_audience(name, &rule(text)).await.unwrap();
        assert_eq!(saved.audience.members, 0, "{name}");
    }
    let unknown = app
        .client
        .save_audience(
            "ghosts",
            &rule(r#"unused_coupons(template = "ghost") >= 1"#),
        )
        .await
        .unwrap_err();
    assert_eq!(error_code(&unknown), (422, "validation_failed"));
    let no_level = app
        .client
        .save_audience("diamonds", &rule("tier = diamond"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&no_level), (422, "validation_failed"));

    // NT$5,000 makes M1 silver at once, with 100 points on entry (the order's own points wait
    // out the return window).
    app.client
        .record_order(&placed("O1", "M1", 500_000, "2026-11-21 10:00"), None)
        .await
        .unwrap();
    app.app.accrue_points().await.unwrap();
    assert_eq!(member_ids(&app, "silver and up").await, ["M1"]);
    assert_eq!(member_ids(&app, "holders").await, ["M1"]);

    // Spending 1 point takes M1 below 100.
    let spend = regulars_api_types::PointsChangeRequest {
        kind: "redeem".to_owned(),
        points: 1,
        idempotency_key: "till/1".to_owned(),
        reason: "a sticker".to_owned(),
        cause: None,
    };
    app.client.change_points("M1", &spend).await.unwrap();
    assert!(member_ids(&app, "holders").await.is_empty());

    // A coupon issued to M2 brings them in; voiding it takes them out.
    let issue = regulars_api_types::CouponIssueRequest {
        member_id: Some("M2".to_owned()),
        audience: None,
        idempotency_key: "welcome-M2".to_owned(),
        cause: None,
        with_points: false,
    };
    let issued = app.client.issue_coupon("welcome", &issue).await.unwrap();
    assert_eq!(member_ids(&app, "welcomed").await, ["M2"]);
    app.client
        .void_coupon(
            &issued.coupon.code,
            &regulars_api_types::CouponVoidRequest {
                reason: "sent twice".to_owned(),
            },
        )
        .await
        .unwrap();
    assert!(member_ids(&app, "welcomed").await.is_empty());
    let moves = app
        .client
        .audience_moves("welcomed", None)
        .await
        .unwrap()
        .moves;
    let causes: Vec<(bool, &str)> = moves
        .iter()
        .map(|m| (m.entered, m.cause.as_str()))
        .collect();
    let voided = format!("coupon:{}", issued.coupon.code);
    assert_eq!(causes, [(true, "coupon:welcome"), (false, voided.as_str())]);

    // A preview reads the same facts.
    let preview = app
        .client
        .preview_audience(&regulars_api_types::AudiencePreviewRequest {
            rule: None,
            text: Some("tier = silver and points = 99".to_owned()),
            as_of: None,
            sample: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (preview.count, preview.sample.as_slice()),
        (1, &["M1".to_owned()][..])
    );
}
