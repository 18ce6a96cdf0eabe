//! The HTTP API end to end: the real server on 127.0.0.1:0 over a fresh database, driven through
//! `regulars-client`. Runs on SQLite, or PostgreSQL with `REGULARS_TEST_BACKEND=postgres`.

mod audiences;
mod auth;
mod coupons;
mod facts;
mod idempotency;
mod points;
mod referrals;
mod saved;
mod segments;
mod system;
mod tiers;

use regulars_api_types::{OrderLineRequest, OrderRequest};

/// Starts a test server, or skips the test (outside CI) when its backend is not configured.
macro_rules! spawn_or_skip {
    () => {
        match regulars_test_support::TestApp::spawn().await {
            Some(app) => app,
            None => return,
        }
    };
}
pub(crate) use spawn_or_skip;

pub fn order(id: &str, member: &str, amount: i64) -> OrderRequest {
    OrderRequest {
        order_id: id.to_owned(),
        member_id: member.to_owned(),
        store_id: Some("S01".to_owned()),
        placed_at: "2026-11-20 09:30".to_owned(),
        status: None,
        status_at: None,
        currency: None,
        amount,
        discount: None,
        shipping: None,
        coupon_codes: vec![],
        lines: vec![OrderLineRequest {
            line_no: None,
            sku: "CF-LAT".to_owned(),
            name: Some("Latte".to_owned()),
            category: Some("coffee".to_owned()),
            quantity: 1,
            unit_price: amount,
        }],
    }
}

/// An order of two croissants (category `pastry`, 150 in all) placed at `placed_at`.
pub fn pastry_order(id: &str, member: &str, placed_at: &str) -> OrderRequest {
    let mut pastry = order(id, member, 150);
    pastry.placed_at = placed_at.to_owned();
    pastry.lines = vec![OrderLineRequest {
        line_no: Some(1),
        sku: "PS-CRO".to_owned(),
        name: None,
        category: Some("pastry".to_owned()),
        quantity: 2,
        unit_price: 75,
    }];
    pastry
}

pub fn error_code(error: &regulars_client::ClientError) -> (u16, &'static str) {
    match error {
        regulars_client::ClientError::Api { status, body } => (*status, body.code.as_str()),
        other => panic!("expected an API error, got {other}"),
    }
}

/// A saved audience of the rule written as `text`.
pub fn rule(text: &str) -> regulars_api_types::AudienceSaveRequest {
    regulars_api_types::AudienceSaveRequest {
        rule: None,
        text: Some(text.to_owned()),
        members: None,
        phones: None,
        emails: None,
        tag: None,
        description: None,
    }
}

/// The members of a saved audience, in id order.
pub async fn member_ids(app: &regulars_test_support::TestApp, name: &str) -> Vec<String> {
    app.client
        .audience_members(name, None, None)
        .await
        .unwrap()
        .members
}
