//! Reading Postgres rows into the shared row structs of `regulars_store::rows`.

use regulars_store::rows::{
    ApiKeyRow, ConsentColumns, EventRow, InteractionRow, MemberRow, OrderLineRow, OrderRow,
    ReturnRow, StoreRow,
};
use sqlx::Row as _;
use sqlx::postgres::PgRow;

type RowResult<T> = Result<T, sqlx::Error>;

pub(crate) const STORE_SELECT: &str =
    "SELECT store_id, name, channel, time_zone, created_from_order FROM stores";

pub(crate) fn store_row(row: &PgRow) -> RowResult<StoreRow> {
    Ok(StoreRow {
        store_id: row.try_get(0)?,
        name: row.try_get(1)?,
        channel: row.try_get(2)?,
        time_zone: row.try_get(3)?,
        created_from_order: row.try_get(4)?,
    })
}

/// Reads the columns of `regulars_store::rows::MEMBER_COLUMNS`, in order.
pub(crate) fn member_row(row: &PgRow) -> RowResult<MemberRow> {
    let consent = |first: usize| -> RowResult<ConsentColumns> {
        Ok(ConsentColumns {
            granted: row.try_get(first)?,
            at: row.try_get(first + 1)?,
            source: row.try_get(first + 2)?,
        })
    };
    Ok(MemberRow {
        member_id: row.try_get(0)?,
        name: row.try_get(1)?,
        phone: row.try_get(2)?,
        email: row.try_get(3)?,
        line_user_id: row.try_get(4)?,
        birthday: row.try_get(5)?,
        gender: row.try_get(6)?,
        region: row.try_get(7)?,
        joined_at: row.try_get(8)?,
        home_store_id: row.try_get(9)?,
        referrer_id: row.try_get(10)?,
        consents: [consent(11)?, consent(14)?, consent(17)?, consent(20)?],
        created_from: row.try_get(23)?,
        revision: row.try_get(24)?,
    })
}

pub(crate) const ORDER_COLUMNS: &str = "order_id, member_id, store_id, placed_at, status, \
    status_at, currency, amount, discount, shipping, coupon_codes";

pub(crate) fn order_row(row: &PgRow) -> RowResult<OrderRow> {
    Ok(OrderRow {
        order_id: row.try_get(0)?,
        member_id: row.try_get(1)?,
        store_id: row.try_get(2)?,
        placed_at: row.try_get(3)?,
        status: row.try_get(4)?,
        status_at: row.try_get(5)?,
        currency: row.try_get(6)?,
        amount: row.try_get(7)?,
        discount: row.try_get(8)?,
        shipping: row.try_get(9)?,
        coupon_codes: row.try_get(10)?,
    })
}

pub(crate) const LINE_COLUMNS: &str =
    "order_id, line_no, sku, name, category, quantity, unit_price";

pub(crate) fn line_row(row: &PgRow) -> RowResult<OrderLineRow> {
    Ok(OrderLineRow {
        order_id: row.try_get(0)?,
        line_no: row.try_get(1)?,
        sku: row.try_get(2)?,
        name: row.try_get(3)?,
        category: row.try_get(4)?,
        quantity: row.try_get(5)?,
        unit_price: row.try_get(6)?,
    })
}

pub(crate) const RETURN_COLUMNS: &str = "return_id, order_id, currency, amount, completed_at";

pub(crate) fn return_row(row: &PgRow) -> RowResult<ReturnRow> {
    Ok(ReturnRow {
        return_id: row.try_get(0)?,
        order_id: row.try_get(1)?,
        currency: row.try_get(2)?,
        amount: row.try_get(3)?,
        completed_at: row.try_get(4)?,
    })
}

pub(crate) const INTERACTION_COLUMNS: &str = "interaction_id, member_id, at, channel, kind";

pub(crate) fn interaction_row(row: &PgRow) -> RowResult<InteractionRow> {
    Ok(InteractionRow {
        interaction_id: row.try_get(0)?,
        member_id: row.try_get(1)?,
        at: row.try_get(2)?,
        channel: row.try_get(3)?,
        kind: row.try_get(4)?,
    })
}

pub(crate) const EVENT_COLUMNS: &str = "event_id, member_id, at, kind, sku, category, query";

pub(crate) fn event_row(row: &PgRow) -> RowResult<EventRow> {
    Ok(EventRow {
        event_id: row.try_get(0)?,
        member_id: row.try_get(1)?,
        at: row.try_get(2)?,
        kind: row.try_get(3)?,
        sku: row.try_get(4)?,
        category: row.try_get(5)?,
        query: row.try_get(6)?,
    })
}

pub(crate) const API_KEY_COLUMNS: &str =
    "key_id, role, secret_sha256, label, created_at, revoked_at";

pub(crate) fn api_key_row(row: &PgRow) -> RowResult<ApiKeyRow> {
    Ok(ApiKeyRow {
        key_id: row.try_get(0)?,
        role: row.try_get(1)?,
        secret_sha256: row.try_get(2)?,
        label: row.try_get(3)?,
        created_at: row.try_get(4)?,
        revoked_at: row.try_get(5)?,
    })
}
