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
