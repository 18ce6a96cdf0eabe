//! Reading SQLite rows into the shared row structs of `regulars_store::rows`: each reader takes
//! the columns of the list named beside it, in order.

use regulars_store::rows::{
    ApiKeyRow, ConsentColumns, EventRow, InteractionRow, MemberRow, OrderLineRow, OrderRow,
    ReturnRow, StoreRow,
};
use rusqlite::Row;

type RowResult<T> = rusqlite::Result<T>;

pub(crate) const STORE_SELECT: &str =
    "SELECT store_id, name, channel, time_zone, created_from_order FROM stores";

pub(crate) fn store_row(row: &Row<'_>) -> RowResult<StoreRow> {
    Ok(StoreRow {
        store_id: row.get(0)?,
        name: row.get(1)?,
        channel: row.get(2)?,
        time_zone: row.get(3)?,
        created_from_order: row.get(4)?,
    })
}

/// Reads the columns of `regulars_store::rows::MEMBER_COLUMNS`, in order.
pub(crate) fn member_row(row: &Row<'_>) -> RowResult<MemberRow> {
    let consent = |first: usize| -> RowResult<ConsentColumns> {
        Ok(ConsentColumns {
            granted: row.get(first)?,
            at: row.get(first + 1)?,
            source: row.get(first + 2)?,
        })
    };
    Ok(MemberRow {
        member_id: row.get(0)?,
        name: row.get(1)?,
        phone: row.get(2)?,
        email: row.get(3)?,
        line_user_id: row.get(4)?,
        birthday: row.get(5)?,
        gender: row.get(6)?,
        region: row.get(7)?,
        joined_at: row.get(8)?,
        home_store_id: row.get(9)?,
        referrer_id: row.get(10)?,
        consents: [consent(11)?, consent(14)?, consent(17)?, consent(20)?],
        created_from: row.get(23)?,
        revision: row.get(24)?,
    })
}

pub(crate) const ORDER_COLUMNS: &str = "order_id, member_id, store_id, placed_at, status, \
    status_at, currency, amount, discount, shipping, coupon_codes";

pub(crate) fn order_row(row: &Row<'_>) -> RowResult<OrderRow> {
    Ok(OrderRow {
        order_id: row.get(0)?,
        member_id: row.get(1)?,
        store_id: row.get(2)?,
        placed_at: row.get(3)?,
        status: row.get(4)?,
        status_at: row.get(5)?,
        currency: row.get(6)?,
        amount: row.get(7)?,
        discount: row.get(8)?,
        shipping: row.get(9)?,
        coupon_codes: row.get(10)?,
    })
}

pub(crate) const LINE_COLUMNS: &str =
    "order_id, line_no, sku, name, category, quantity, unit_price";

pub(crate) fn line_row(row: &Row<'_>) -> RowResult<OrderLineRow> {
    Ok(OrderLineRow {
        order_id: row.get(0)?,
        line_no: row.get(1)?,
        sku: row.get(2)?,
        name: row.get(3)?,
        category: row.get(4)?,
        quantity: row.get(5)?,
        unit_price: row.get(6)?,
    })
}

pub(crate) const RETURN_COLUMNS: &str = "return_id, order_id, currency, amount, completed_at";

pub(crate) fn return_row(row: &Row<'_>) -> RowResult<ReturnRow> {
    Ok(ReturnRow {
        return_id: row.get(0)?,
        order_id: row.get(1)?,
        currency: row.get(2)?,
        amount: row.get(3)?,
        completed_at: row.get(4)?,
    })
}

pub(crate) const INTERACTION_COLUMNS: &str = "interaction_id, member_id, at, channel, kind";

pub(crate) fn interaction_row(row: &Row<'_>) -> RowResult<InteractionRow> {
    Ok(InteractionRow {
        interaction_id: row.get(0)?,
        member_id: row.get(1)?,
        at: row.get(2)?,
        channel: row.get(3)?,
        kind: row.get(4)?,
    })
}

pub(crate) const EVENT_COLUMNS: &str = "event_id, member_id, at, kind, sku, category, query";

pub(crate) fn event_row(row: &Row<'_>) -> RowResult<EventRow> {
    Ok(EventRow {
        event_id: row.get(0)?,
        member_id: row.get(1)?,
        at: row.get(2)?,
        kind: row.get(3)?,
        sku: row.get(4)?,
        category: row.get(5)?,
        query: row.get(6)?,
    })
}

pub(crate) const API_KEY_COLUMNS: &str =
    "key_id, role, secret_sha256, label, created_at, revoked_at";

pub(crate) fn api_key_row(row: &Row<'_>) -> RowResult<ApiKeyRow> {
    Ok(ApiKeyRow {
        key_id: row.get(0)?,
        role: row.get(1)?,
        secret_sha256: row.get(2)?,
        label: row.get(3)?,
        created_at: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}
