//! Points through the API: earned, redeemed earliest-expiring first and adjusted, each once
//! under its key; a redemption beyond the balance refused whole; the balance and the ledger.

use regulars_api_types::{MemberRequest, PointsChangeRequest};
use regulars_domain::ApiRole;

use crate::{error_code, spawn_or_skip};

fn change(kind: &str, points: i64, key: &str) -> PointsChangeRequest {
    PointsChangeRequest {
        kind: kind.to_owned(),
        points,
        idempotency_key: key.to_owned(),
        reason: format!("{kind} {points}"),
        cause: None,
    }
}

#[tokio::test]
async fn points_are_earned_redeemed_and_adjusted_once_per_key_and_never_overspent() {
    let app = spawn_or_skip!();
    let member = MemberRequest {
        member_id: "M1".to_owned(),
        ..MemberRequest::default()
    };
    app.client.upsert_member(&member, None).await.unwrap();

    let earned = app
        .client
        .change_points("M1", &change("earn", 120, "welcome-M1"))
        .await
        .unwrap();
    assert!(!earned.replayed);
    assert_eq!(earned.balance.available, 120);
    assert_eq!(earned.entries[0].cause, "operator:api");
    // The till redeems with an ingest key; a retry of the same request spends nothing more.
    let till = app.client_with_role(ApiRole::Ingest).await;
    let redeem = change("redeem", 50, "till-7/receipt-123");
    let spent = till.change_points("M1", &redeem).await.unwrap();
    assert_eq!(
        (spent.entries[0].points, spent.balance.available),
        (-50, 70)
    );
    let again = till.change_points("M1", &redeem).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.balance.available, 70);

    let refused = till
        .change_points("M1", &change("redeem", 71, "till-7/receipt-124"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&refused), (409, "insufficient_points"));
    let reused = till
        .change_points("M1", &change("redeem", 5, "till-7/receipt-123"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&reused), (422, "idempotency_key_reused"));
    let invalid = app
        .client
        .change_points("M1", &change("adjust", 0, "fix-1"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&invalid), (422, "validation_failed"));
    let unknown = app
        .client
        .change_points("M404", &change("earn", 1, "x"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&unknown), (404, "not_found"));

    app.client
        .change_points("M1", &change("adjust", -20, "fix-2"))
        .await
        .unwrap();
    let account = app.client.points("M1", Some(2), None).await.unwrap();
    assert_eq!(account.balance.available, 50);
    assert_eq!(account.balance.expiring_within_30_days, 0);
    assert_eq!(account.balance.expiring.len(), 1);
    let kinds: Vec<(&str, i64)> = account
        .entries
        .iter()
        .map(|e| (e.kind.as_str(), e.points))
        .collect();
    assert_eq!(kinds, [("adjust", -20), ("redeem", -50)]);
    let older = app
        .client
        .points("M1", Some(2), account.next_before)
        .await
        .unwrap();
    assert_eq!(older.entries.len(), 1);
    assert_eq!(older.entries[0].kind, "earn");
    assert_eq!(older.next_before, None);
}

#[tokio::test]
async fn what_an_expired_grant_has_left_leaves_the_ledger_once() {
    let app = spawn_or_skip!();
    let member = MemberRequest {
        member_id: "M1".to_owned(),
        ..MemberRequest::default()
    };
    app.client.upsert_member(&member, None).await.unwrap();
    app.client
        .change_points("M1", &change("earn", 100, "welcome"))
        .await
        .unwrap();
    app.client
        .change_points("M1", &change("redeem", 30, "latte"))
        .await
        .unwrap();
    // A year and a day later (points count 365 days by default), the 70 left expire.
    app.clock
        .advance(jiff::SignedDuration::from_hours(24 * 366));
    assert_eq!(app.app.expire_points().await.unwrap(), 70);
    assert_eq!(app.app.expire_points().await.unwrap(), 0);
    let account = app.client.points("M1", None, None).await.unwrap();
    assert_eq!(account.balance.available, 0);
    assert_eq!(account.entries[0].kind, "expire");
    assert_eq!(account.entries[0].points, -70);
    assert_eq!(account.entries.iter().map(|e| e.points).sum::<i64>(), 0);
}

#[tokio::test]
async fn orders_earn_pending_points_and_returns_and_cancellations_take_them_back() {
    use regulars_api_types::{OrderLineRequest, ReturnLineRequest, ReturnRequest};
    use regulars_domain::Multiplier;
    let Some(app) = regulars_test_support::TestApp::spawn_configured(
        regulars_test_support::TestBackend::from_env(),
        |config| {
            let earn = config
                .points
                .earn
                .as_mut()
                .expect("earning is on by default");
            earn.categories = vec![("coffee".to_owned(), Multiplier::from_decimal(2.0).unwrap())];
        },
    )
    .await
    else {
        return;
    };
    let line = |sku: &str, category: &str, quantity: i64, unit_price: i64| OrderLineRequest {
        line_no: None,
        sku: sku.to_owned(),
        name: None,
        category: Some(category.to_owned()),
        quantity,
        unit_price,
    };
    // NT$1,060 with NT$60 shipping: 600 of coffee (×2) and 400 of pastry count 1,600: 16 points.
    let mut first = crate::order("O1", "M1", 106_000);
    first.shipping = Some(6_000);
    first.lines = vec![
        line("CF-LAT", "coffee", 2, 30_000),
        line("PS-CAK", "pastry", 1, 40_000),
    ];
    // The server works the points queue as orders arrive; working it here as well (as a second
    // process would) changes nothing, and returns once this order's points are settled.
    app.client.record_order(&first, None).await.unwrap();
    app.app.accrue_points().await.unwrap();
    let account = app.client.points("M1", None, None).await.unwrap();
    assert_eq!(
        (account.balance.available, account.balance.pending),
        (0, 16)
    );
    assert_eq!(account.entries[0].cause, "order:O1");
    // Placed on 2026-11-20, pending 14 days: spendable from 2026-12-04, for 365 days.
    assert_eq!(
        account.entries[0].available_on.as_deref(),
        Some("2026-12-04")
    );
    assert_eq!(account.entries[0].expires_on.as_deref(), Some("2027-12-04"));
    // Working the order again earns nothing more.
    app.client.record_order(&first, None).await.unwrap();
    app.app.accrue_points().await.unwrap();
    let again = app.client.points("M1", None, None).await.unwrap();
    assert_eq!((again.balance.pending, again.entries.len()), (16, 1));

    app.clock.advance(jiff::SignedDuration::from_hours(24 * 13));
    let spent = app
        .client
        .change_points("M1", &change("redeem", 10, "till/receipt-9"))
        .await
        .unwrap();
    assert_eq!(spent.balance.available, 6);
    // The coffee comes back: the order now earns 4, so 12 are taken back; 6 are left to take
    // and 6 are owed, never a negative balance.
    let refund = ReturnRequest {
        return_id: "R1".to_owned(),
        order_id: "O1".to_owned(),
        amount: 60_000,
        currency: None,
        completed_at: "2026-12-05 10:00".to_owned(),
        lines: vec![ReturnLineRequest {
            sku: "CF-LAT".to_owned(),
            quantity: 2,
        }],
    };
    app.client.record_return(&refund, None).await.unwrap();
    app.app.accrue_points().await.unwrap();
    let account = app.client.points("M1", None, None).await.unwrap();
    assert_eq!((account.balance.available, account.balance.owed), (0, 6));
    assert_eq!(
        (
            account.entries[0].kind.as_str(),
            account.entries[0].points,
            account.entries[0].cause.as_str()
        ),
        ("reverse", -6, "return:R1")
    );

    // The next order's 3 points pay off 3 of the debt.
    let mut second = crate::order("O2", "M1", 30_000);
    second.placed_at = "2026-12-05 11:00".to_owned();
    second.lines = vec![line("PS-CRO", "pastry", 1, 30_000)];
    app.client.record_order(&second, None).await.unwrap();
    app.app.accrue_points().await.unwrap();
    let account = app.client.points("M1", None, None).await.unwrap();
    assert_eq!((account.balance.pending, account.balance.owed), (0, 3));
    assert_eq!(account.entries[0].kind, "settle");
    // It is cancelled: the 3 it paid off are owed again.
    second.status = Some("cancelled".to_owned());
    second.status_at = Some("2026-12-05 12:00".to_owned());
    app.client.record_order(&second, None).await.unwrap();
    app.app.accrue_points().await.unwrap();
    let account = app.client.points("M1", None, None).await.unwrap();
    assert_eq!(account.balance.owed, 6);
    // The ledger adds up to what is held: 16 + 3 earned, 10 redeemed, 6 + 3 taken back, 3 settled.
    let held: i64 = account.entries.iter().map(|e| e.points).sum();
    assert_eq!(held, 0);
}

#[tokio::test]
async fn a_monthly_cap_limits_what_orders_earn_and_calendar_expiry_ends_at_the_month_end() {
    use regulars_api_types::ReturnRequest;
    use regulars_domain::{CapPeriod, EarnCap, PointsExpiry};
    let Some(app) = regulars_test_support::TestApp::spawn_configured(
        regulars_test_support::TestBackend::from_env(),
        |config| {
            config.points.expiry = PointsExpiry::MonthEnd(2);
            config.points.pending_days = 0;
            let earn = config
                .points
                .earn
                .as_mut()
                .expect("earning is on by default");
            earn.cap = Some(EarnCap {
                points: 50,
                period: CapPeriod::Month,
            });
        },
    )
    .await
    else {
        return;
    };
    let earn_order = |id: &str, placed_at: &str, amount: i64| {
        let mut order = crate::order(id, "M1", amount);
        order.placed_at = placed_at.to_owned();
        order
    };
    // November: 30 points, then 40 of which 20 fit under the cap of 50, then none.
    for (id, amount) in [("O1", 300_000), ("O2", 400_000), ("O3", 100_000)] {
        app.client
            .record_order(&earn_order(id, "2026-11-20 09:30", amount), None)
            .await
            .unwrap();
        app.app.accrue_points().await.unwrap();
    }
    let account = app.client.points("M1", None, None).await.unwrap();
    assert_eq!(account.balance.available, 50);
    let earned: Vec<(&str, i64)> = account
        .entries
        .iter()
        .map(|e| (e.cause.as_str(), e.points))
        .collect();
    assert_eq!(earned, [("order:O2", 20), ("order:O1", 30)]);
    assert_eq!(
        account.entries[0].reason,
        "order O2 (20 over the cap of 50 for month:2026-11)"
    );
    // Granted in November under month_end with 2 months: they count through 31 January.
    assert_eq!(account.entries[0].expires_on.as_deref(), Some("2027-02-01"));
    // A December order has December's room.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 11));
    app.client
        .record_order(&earn_order("O4", "2026-12-01 10:00", 700_000), None)
        .await
        .unwrap();
    app.app.accrue_points().await.unwrap();
    assert_eq!(
        app.client
            .points("M1", None, None)
            .await
            .unwrap()
            .balance
            .available,
        100
    );
    // O1 is returned in full: November gets its 30 back, and O3, worked again, still earns
    // nothing (it was settled at 0), while a new November order earns into the room.
    let refund = ReturnRequest {
        return_id: "R1".to_owned(),
        order_id: "O1".to_owned(),
        amount: 300_000,
        currency: None,
        completed_at: "2026-12-02 10:00".to_owned(),
        lines: vec![],
    };
    app.client.record_return(&refund, None).await.unwrap();
    app.client
        .record_order(&earn_order("O3", "2026-11-20 09:30", 100_000), None)
        .await
        .unwrap();
    app.client
        .record_order(&earn_order("O5", "2026-11-25 09:30", 500_000), None)
        .await
        .unwrap();
    app.app.accrue_points().await.unwrap();
    let account = app.client.points("M1", None, None).await.unwrap();
    assert_eq!(account.balance.available, 100 - 30 + 30);
    let o5 = account
        .entries
        .iter()
        .find(|e| e.cause == "order:O5")
        .unwrap();
    assert_eq!(o5.points, 30);
    assert!(!account.entries.iter().any(|e| e.cause == "order:O3"));
    // On 1 February the November points are gone, the December ones stay until March.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 62));
    assert_eq!(app.app.expire_points().await.unwrap(), 50);
    let account = app.client.points("M1", None, None).await.unwrap();
    assert_eq!(account.balance.available, 50);
}

#[tokio::test]
async fn members_are_warned_once_per_stage_before_their_points_expire() {
    use regulars_domain::PointsExpiry;
    let Some(app) = regulars_test_support::TestApp::spawn_configured(
        regulars_test_support::TestBackend::from_env(),
        |config| config.points.expiry = PointsExpiry::PerGrant(40),
    )
    .await
    else {
        return;
    };
    for id in ["M1", "M2"] {
        let member = MemberRequest {
            member_id: id.to_owned(),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
    // Granted on 2026-11-22, counting 40 days: they stop counting on 2027-01-01.
    app.client
        .change_points("M1", &change("earn", 120, "welcome-1"))
        .await
        .unwrap();
    app.client
        .change_points("M2", &change("earn", 80, "welcome-2"))
        .await
        .unwrap();
    app.client
        .change_points("M2", &change("redeem", 30, "latte"))
        .await
        .unwrap();
    // 40 days away: not within 30 yet.
    assert_eq!(app.app.warn_expiring_points().await.unwrap(), 0);
    let soon = app.client.expiring_points(30, None, None).await.unwrap();
    assert!(soon.members.is_empty());
    let later = app.client.expiring_points(40, None, None).await.unwrap();
    let rows: Vec<(&str, &str, i64)> = later
        .members
        .iter()
        .map(|m| (m.member_id.as_str(), m.expires_on.as_str(), m.points))
        .collect();
    assert_eq!(rows, [("M1", "2027-01-01", 120), ("M2", "2027-01-01", 50)]);
    let paged = app.client.expiring_points(40, Some(1), None).await.unwrap();
    assert_eq!(paged.next_after.as_deref(), Some("2027-01-01/M1"));
    let next = app
        .client
        .expiring_points(40, Some(1), paged.next_after.as_deref())
        .await
        .unwrap();
    assert_eq!(next.members[0].member_id, "M2");

    // 25 days left: the 30-day warning, once however often the pass runs.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 15));
    assert_eq!(app.app.warn_expiring_points().await.unwrap(), 2);
    assert_eq!(app.app.warn_expiring_points().await.unwrap(), 0);
    // 5 days left: the 7-day warning.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 20));
    assert_eq!(app.app.warn_expiring_points().await.unwrap(), 2);
    let log = app
        .client
        .points_warnings(Some("M2"), None, None)
        .await
        .unwrap();
    let stages: Vec<(u32, i64, &str)> = log
        .warnings
        .iter()
        .map(|w| (w.days_before, w.points, w.expires_on.as_str()))
        .collect();
    assert_eq!(stages, [(7, 50, "2027-01-01"), (30, 50, "2027-01-01")]);
    assert_eq!(log.warnings[1].day, "2026-12-07");
    let all = app
        .client
        .points_warnings(None, Some(3), None)
        .await
        .unwrap();
    assert_eq!(all.warnings.len(), 3);
    assert!(all.next_before.is_some());
    // A bad bound is refused with the field named.
    let error = app.client.expiring_points(0, None, None).await.unwrap_err();
    assert_eq!(error_code(&error), (422, "validation_failed"));
    let regulars_client::ClientError::Api { body, .. } = error else {
        unreachable!()
    };
    assert_eq!(body.details[0].field.as_deref(), Some("within_days"));
}
