//! The storage contract: every behaviour of the store ports, run on SQLite and on PostgreSQL.
//!
//! `store_test!` emits one test per backend. Without `TEST_POSTGRES_URL` the PostgreSQL variant
//! reports itself skipped; with `CI=true` it fails instead.

mod coupons;
mod facts;
mod keys;
mod ledger_properties;
mod loyalty;
mod points;
mod referrals;
mod saved;
mod schema;
mod segments;
mod tiers;

use std::sync::Arc;

use regulars_domain::{
    Currency, MemberId, Money, Order, OrderId, OrderLine, OrderStatus, Sku, StoreId,
};
use regulars_store::Store;
pub use regulars_test_support::TestDb;

macro_rules! store_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let db = $crate::TestDb::sqlite().await;
                ($body)(db.store.clone()).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = $crate::TestDb::postgres().await else {
                    return;
                };
                ($body)(db.store.clone()).await;
            }
        }
    };
}
pub(crate) use store_test;

pub type DynStore = Arc<dyn Store>;

pub fn at(text: &str) -> jiff::Timestamp {
    text.parse().expect("an RFC 3339 instant")
}

pub fn order(id: &str, member: &str, amount: i64) -> Order {
    let twd = Currency::TWD;
    Order {
        order_id: OrderId::parse(id).unwrap(),
        member_id: MemberId::parse(member).unwrap(),
        store_id: Some(StoreId::parse("S01").unwrap()),
        placed_at: at("2026-03-01T01:30:00Z"),
        status: OrderStatus::Paid,
        status_at: None,
        amount: Money::from_minor(amount, twd),
        discount: Money::zero(twd),
        shipping: Money::zero(twd),
        coupon_codes: vec!["WELCOME10".to_owned()],
        lines: vec![],
    }
}

pub fn line(line_no: u32, sku: &str, quantity: u32, unit_price: i64) -> OrderLine {
    OrderLine {
        line_no,
        sku: Sku::parse(sku).unwrap(),
        name: Some(format!("{sku} name")),
        category: Some("coffee".to_owned()),
        quantity,
        unit_price: Money::from_minor(unit_price, Currency::TWD),
    }
}
