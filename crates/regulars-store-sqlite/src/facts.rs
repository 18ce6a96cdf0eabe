//! The fact ports on SQLite: each batch loads the stored rows its ids name, asks
//! `regulars_store::plan` what to do, and writes the plan, all in one job on the writer thread
//! (see `connections`); reads run on the reader connections.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use jiff::Timestamp;
use regulars_domain::{
    BehaviourEvent, Email, FactOrigin, Interaction, Member, MemberId, MemberProfile, NewReturn,
    Order, OrderId, OrderLine, OrderStatus, Phone, ReturnId, Store as ShopStore, StoreId,
};
use regulars_store::plan::{
    MemberFact, Refunded, plan_member_facts, plan_members, plan_order_lines, plan_orders,
    plan_returns, plan_stores,
};
use regulars_store::rows::{
    EventRow, InteractionRow, MEMBER_COLUMNS, MemberRow, OrderLineRow, OrderRow, ReturnRow,
    StoreRow, coupon_codes_column, json_array, micros, placeholder_member, placeholder_store,
};
use regulars_store::{
    AudienceVisitor, FactCounts, FactStore, FactVisitor, IngestOptions, ItemOutcome, MemberFacts,
    MemberLoyalty, Recorded, StoreError, StoreResult,
};
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row, params};

use crate::SqliteStore;
use crate::connections::DbResult;
use crate::insert::insert_rows;
use crate::rows::{
    EVENT_COLUMNS, INTERACTION_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS, RETURN_COLUMNS, STORE_SELECT,
    event_row, interaction_row, line_row, member_row, order_row, return_row, store_row,
};
use crate::saved::parsed;

/// `INSERT INTO {into} VALUES (?1, …, ?{count}) {tail}`: one row, for a cached statement.
fn insert_sql(into: &str, count: usize, tail: &str) -> String {
    let placeholders: Vec<String> = (1..=count).map(|n| format!("?{n}")).collect();
    format!(
        "INSERT INTO {into} VALUES ({}) {tail}",
        placeholders.join(", ")
    )
}

/// Runs `sql`, whose one parameter is a JSON array of ids, reading each row with `read`.
fn fetch_for_ids<T>(
    conn: &Connection,
    sql: &str,
    ids_json: &str,
    read: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> DbResult<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map([ids_json], read)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn first_text(row: &Row<'_>) -> rusqlite::Result<String> {
    row.get(0)
}

fn unique<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let mut seen = HashSet::new();
    json_array(ids.filter(|id| seen.insert(*id)))
}

fn known_members(conn: &Connection, ids_json: &str) -> DbResult<HashSet<MemberId>> {
    let sql = "SELECT member_id FROM members WHERE member_id IN (SELECT value FROM json_each(?1))";
    fetch_for_ids(conn, sql, ids_json, first_text)?
        .iter()
        .map(|id| Ok(MemberId::parse(id).map_err(|e| anyhow::anyhow!(e))?))
        .collect()
}

fn known_stores(conn: &Connection, ids_json: &str) -> DbResult<HashSet<StoreId>> {
    let sql = "SELECT store_id FROM stores WHERE store_id IN (SELECT value FROM json_each(?1))";
    fetch_for_ids(conn, sql, ids_json, first_text)?
        .iter()
        .map(|id| Ok(StoreId::parse(id).map_err(|e| anyhow::anyhow!(e))?))
        .collect()
}

/// Orders (with their lines) among the ids of a JSON array.
fn load_orders(conn: &Connection, ids_json: &str) -> DbResult<HashMap<OrderId, Order>> {
    let orders = fetch_for_ids(
        conn,
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE order_id IN (SELECT value FROM json_each(?1))"
        ),
        ids_json,
        order_row,
    )?;
    if orders.is_empty() {
        return Ok(HashMap::new());
    }
    let lines = fetch_for_ids(
        conn,
        &format!(
            "SELECT {LINE_COLUMNS} FROM order_lines WHERE order_id IN (SELECT value FROM json_each(?1)) ORDER BY order_id, line_no"
        ),
        ids_json,
        line_row,
    )?;
    assemble_orders(orders, lines)
}

fn assemble_orders(
    orders: Vec<OrderRow>,
    lines: Vec<OrderLineRow>,
) -> DbResult<HashMap<OrderId, Order>> {
    let mut lines_by_order: HashMap<String, Vec<OrderLineRow>> = HashMap::new();
    for line in lines {
        lines_by_order
            .entry(line.order_id.clone())
            .or_default()
            .push(line);
    }
    let mut out = HashMap::with_capacity(orders.len());
    for row in orders {
        let currency =
            regulars_domain::Currency::parse(&row.currency).map_err(|e| anyhow::anyhow!(e))?;
        let lines = lines_by_order
            .remove(&row.order_id)
            .unwrap_or_default()
            .into_iter()
            .map(|line| line.into_line(currency))
            .collect::<anyhow::Result<Vec<OrderLine>>>()?;
        let order = row.into_order(lines)?;
        out.insert(order.order_id.clone(), order);
    }
    Ok(out)
}

/// Inserts or overwrites members (all profile columns), keeping `created_at` of stored ones.
fn write_members(conn: &Connection, rows: &[MemberRow], now: i64) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let updates: Vec<String> = MEMBER_COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|c| *c != "member_id")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let sql = insert_sql(
        &format!("members ({MEMBER_COLUMNS}, created_at, updated_at)"),
        27,
        &format!(
            "ON CONFLICT (member_id) DO UPDATE SET {}, updated_at = excluded.updated_at",
            updates.join(", ")
        ),
    );
    let mut statement = conn.prepare_cached(&sql)?;
    for row in rows {
        let [line, sms, email, push] = &row.consents;
        let values: [&dyn ToSql; 27] = [
            &row.member_id,
            &row.name,
            &row.phone,
            &row.email,
            &row.line_user_id,
            &row.birthday,
            &row.gender,
            &row.region,
            &row.joined_at,
            &row.home_store_id,
            &row.referrer_id,
            &line.granted,
            &line.at,
            &line.source,
            &sms.granted,
            &sms.at,
            &sms.source,
            &email.granted,
            &email.at,
            &email.source,
            &push.granted,
            &push.at,
            &push.source,
            &row.created_from,
            &row.revision,
            &now,
            &now,
        ];
        statement.execute(&values[..])?;
    }
    Ok(())
}

fn insert_placeholder_members(
    conn: &Connection,
    ids: &[MemberId],
    origin: FactOrigin,
    now: i64,
) -> DbResult<()> {
    let rows: Vec<MemberRow> = ids
        .iter()
        .map(|id| placeholder_member(id, origin))
        .collect();
    write_members(conn, &rows, now)
}

fn write_stores(conn: &Connection, rows: &[StoreRow]) -> DbResult<()> {
    let mut statement = conn.prepare_cached(
        "INSERT INTO stores (store_id, name, channel, time_zone, created_from_order) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (store_id) DO UPDATE SET name = excluded.name, channel = excluded.channel, \
         time_zone = excluded.time_zone, created_from_order = excluded.created_from_order",
    )?;
    for row in rows {
        statement.execute(params![
            row.store_id,
            row.name,
            row.channel,
            row.time_zone,
            row.created_from_order
        ])?;
    }
    Ok(())
}

fn write_orders(conn: &Connection, orders: &[Order], now: i64) -> DbResult<()> {
    let into = format!("orders ({ORDER_COLUMNS}, recorded_at, completed_at)");
    // Bound from the order itself, not through an [`OrderRow`]: the writer copies no text.
    insert_rows(conn, &into, 13, "", orders, |statement, at, order| {
        let status_at = micros(order.status_at.unwrap_or(order.placed_at));
        let completed_at = (order.status == OrderStatus::Completed).then_some(status_at);
        let coupon_codes = coupon_codes_column(&order.coupon_codes);
        statement.raw_bind_parameter(at + 1, order.order_id.as_str())?;
        statement.raw_bind_parameter(at + 2, order.member_id.as_str())?;
        statement.raw_bind_parameter(at + 3, order.store_id.as_ref().map(StoreId::as_str))?;
        statement.raw_bind_parameter(at + 4, micros(order.placed_at))?;
        statement.raw_bind_parameter(at + 5, order.status.as_str())?;
        statement.raw_bind_parameter(at + 6, status_at)?;
        statement.raw_bind_parameter(at + 7, order.amount.currency().as_str())?;
        statement.raw_bind_parameter(at + 8, order.amount.minor())?;
        statement.raw_bind_parameter(at + 9, order.discount.minor())?;
        statement.raw_bind_parameter(at + 10, order.shipping.minor())?;
        statement.raw_bind_parameter(at + 11, coupon_codes.as_ref())?;
        statement.raw_bind_parameter(at + 12, now)?;
        statement.raw_bind_parameter(at + 13, completed_at)
    })
}

fn write_lines(conn: &Connection, lines: &[(&OrderId, &OrderLine)]) -> DbResult<()> {
    let into = format!("order_lines ({LINE_COLUMNS})");
    insert_rows(
        conn,
        &into,
        7,
        "",
        lines,
        |statement, at, (order_id, line)| {
            statement.raw_bind_parameter(at + 1, order_id.as_str())?;
            statement.raw_bind_parameter(at + 2, i64::from(line.line_no))?;
            statement.raw_bind_parameter(at + 3, line.sku.as_str())?;
            statement.raw_bind_parameter(at + 4, line.name.as_deref())?;
            statement.raw_bind_parameter(at + 5, line.category.as_deref())?;
            statement.raw_bind_parameter(at + 6, i64::from(line.quantity))?;
            statement.raw_bind_parameter(at + 7, line.unit_price.minor())
        },
    )
}

fn write_status_changes(
    conn: &Connection,
    changes: &[regulars_store::plan::StatusChange],
    now: i64,
) -> DbResult<()> {
    let mut update = conn.prepare_cached(
        "UPDATE orders SET status = ?1, status_at = ?2, \
         completed_at = CASE WHEN ?1 = 'completed' THEN ?2 ELSE completed_at END \
         WHERE order_id = ?3",
    )?;
    let mut history = conn.prepare_cached(
        "INSERT INTO order_status_changes (order_id, from_status, to_status, at, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for change in changes {
        let at = micros(change.at);
        update.execute(params![change.to.as_str(), at, change.order_id.as_str()])?;
        history.execute(params![
            change.order_id.as_str(),
            change.from.as_str(),
            change.to.as_str(),
            at,
            now
        ])?;
    }
    Ok(())
}

/// Puts orders on the points queue, in the fact's own transaction.
fn queue_point_orders<'a>(
    conn: &Connection,
    order_ids: impl Iterator<Item = &'a str>,
) -> DbResult<()> {
    let ids = json_array(order_ids);
    if ids == "[]" {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO points_order_queue (order_id) SELECT value FROM json_each(?1)",
    )?
    .execute([ids])?;
    Ok(())
}

/// Returns (with their lines) chosen by `filter`, whose one parameter is a JSON array of ids.
fn load_returns(
    conn: &Connection,
    filter: &str,
    ids_json: &str,
) -> DbResult<HashMap<ReturnId, NewReturn>> {
    let rows = fetch_for_ids(
        conn,
        &format!("SELECT {RETURN_COLUMNS} FROM returns {filter}"),
        ids_json,
        return_row,
    )?;
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let return_ids = json_array(rows.iter().map(|r| r.return_id.as_str()));
    let lines = fetch_for_ids(
        conn,
        "SELECT return_id, sku, quantity FROM return_lines WHERE return_id IN (SELECT value FROM json_each(?1)) ORDER BY return_id, position",
        &return_ids,
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        },
    )?;
    let mut lines_by_return: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for (return_id, sku, quantity) in lines {
        lines_by_return
            .entry(return_id)
            .or_default()
            .push((sku, quantity));
    }
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let lines = lines_by_return.remove(&row.return_id).unwrap_or_default();
        let item = row.into_return(lines)?;
        out.insert(item.return_id.clone(), item);
    }
    Ok(out)
}

fn write_returns(conn: &Connection, returns: &[NewReturn], now: i64) -> DbResult<()> {
    let mut insert = conn.prepare_cached(&insert_sql(
        &format!("returns ({RETURN_COLUMNS}, recorded_at)"),
        6,
        "",
    ))?;
    let mut insert_line = conn.prepare_cached(
        "INSERT INTO return_lines (return_id, position, sku, quantity) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for item in returns {
        let row = ReturnRow::from(item);
        insert.execute(params![
            row.return_id,
            row.order_id,
            row.currency,
            row.amount,
            row.completed_at,
            now
        ])?;
        for (position, line) in item.lines.iter().enumerate() {
            insert_line.execute(params![
                item.return_id.as_str(),
                position as i64,
                line.sku.as_str(),
                i64::from(line.quantity)
            ])?;
        }
    }
    Ok(())
}

/// A member's orders, newest first, with their lines.
fn member_orders(conn: &Connection, member_id: &str) -> DbResult<Vec<Order>> {
    let order_rows = conn
        .prepare_cached(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE member_id = ?1"
        ))?
        .query_map([member_id], order_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let order_ids = json_array(order_rows.iter().map(|o| o.order_id.as_str()));
    let line_rows = fetch_for_ids(
        conn,
        &format!(
            "SELECT {LINE_COLUMNS} FROM order_lines WHERE order_id IN (SELECT value FROM json_each(?1)) ORDER BY order_id, line_no"
        ),
        &order_ids,
        line_row,
    )?;
    let mut orders: Vec<Order> = assemble_orders(order_rows, line_rows)?
        .into_values()
        .collect();
    orders.sort_by(|a, b| {
        b.placed_at
            .cmp(&a.placed_at)
            .then_with(|| a.order_id.cmp(&b.order_id))
    });
    Ok(orders)
}

fn get_member(conn: &Connection, member_id: &str) -> DbResult<Member> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {MEMBER_COLUMNS} FROM members WHERE member_id = ?1"
    ))?;
    let row = statement
        .query_map([member_id], member_row)?
        .next()
        .transpose()?
        .ok_or(StoreError::NotFound)?;
    Ok(Member::try_from(row)?)
}

/// The newest `limit` rows of a member's `table`, read with `read` and converted by `T::try_from`.
fn newest<R, T: TryFrom<R, Error = anyhow::Error>>(
    conn: &Connection,
    sql: &str,
    member_id: &str,
    limit: u32,
    read: fn(&Row<'_>) -> rusqlite::Result<R>,
) -> DbResult<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params![member_id, i64::from(limit)], read)?;
    rows.map(|row| Ok(T::try_from(row?)?)).collect()
}

#[async_trait]
impl FactStore for SqliteStore {
    async fn upsert_stores(&self, stores: &[ShopStore]) -> StoreResult<Vec<ItemOutcome>> {
        let stores = stores.to_vec();
        self.writer
            .write(move |tx| {
                let ids = unique(stores.iter().map(|s| s.store_id.as_str()));
                let stored = fetch_for_ids(
                    tx,
                    &format!("{STORE_SELECT} WHERE store_id IN (SELECT value FROM json_each(?1))"),
                    &ids,
                    store_row,
                )?
                .into_iter()
                .map(|row| ShopStore::try_from(row).map(|s| (s.store_id.clone(), s)))
                .collect::<anyhow::Result<HashMap<_, _>>>()?;
                let plan = plan_stores(&stores, &stored);
                let rows: Vec<StoreRow> = plan.upserts.iter().map(StoreRow::from).collect();
                write_stores(tx, &rows)?;
                Ok(plan.outcomes)
            })
            .await
    }

    async fn upsert_members(
        &self,
        profiles: &[MemberProfile],
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let profiles = profiles.to_vec();
        self.writer
            .write(move |tx| {
                let now = micros(recorded_at);
                let ids = unique(profiles.iter().map(|p| p.member_id.as_str()));
                let stored = fetch_for_ids(
                    tx,
                    &format!("SELECT {MEMBER_COLUMNS} FROM members WHERE member_id IN (SELECT value FROM json_each(?1))"),
                    &ids,
                    member_row,
                )?
                .into_iter()
                .map(|row| Member::try_from(row).map(|m| (m.profile.member_id.clone(), m)))
                .collect::<anyhow::Result<HashMap<_, _>>>()?;
                let plan = plan_members(&profiles, &stored);
                let rows: Vec<MemberRow> = plan
                    .inserts
                    .iter()
                    .chain(&plan.updates)
                    .map(MemberRow::from)
                    .collect();
                write_members(tx, &rows, now)?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO member_changes (member_id, revision, field, old_value, new_value, recorded_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for (id, revision, changes) in &plan.changes {
                    for change in changes {
                        insert.execute(params![
                            id.as_str(),
                            revision,
                            change.field.as_str(),
                            change.old,
                            change.new,
                            now
                        ])?;
                    }
                }
                Ok(plan.outcomes)
            })
            .await
    }

    async fn record_orders(
        &self,
        orders: &[Order],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Recorded> {
        let orders = orders.to_vec();
        let zone = self.default_time_zone.clone();
        self.writer
            .write(move |tx| {
                let now = micros(recorded_at);
                let stored = load_orders(tx, &unique(orders.iter().map(|o| o.order_id.as_str())))?;
                let members =
                    known_members(tx, &unique(orders.iter().map(|o| o.member_id.as_str())))?;
                let stores = known_stores(
                    tx,
                    &unique(
                        orders
                            .iter()
                            .filter_map(|o| o.store_id.as_ref().map(StoreId::as_str)),
                    ),
                )?;
                let plan = plan_orders(&orders, &stored, &members, &stores, options, recorded_at);
                insert_placeholder_members(tx, &plan.new_members, FactOrigin::Order, now)?;
                let store_rows: Vec<StoreRow> = plan
                    .new_stores
                    .iter()
                    .map(|id| placeholder_store(id, &zone))
                    .collect();
                write_stores(tx, &store_rows)?;
                write_orders(tx, &plan.inserts, now)?;
                write_lines(tx, &plan.lines())?;
                write_status_changes(tx, &plan.status_changes, now)?;
                queue_point_orders(
                    tx,
                    plan.inserts
                        .iter()
                        .map(|o| o.order_id.as_str())
                        .chain(plan.status_changes.iter().map(|c| c.order_id.as_str())),
                )?;

                Ok(Recorded {
                    outcomes: plan.outcomes,
                    status_changes: plan.status_changes,
                })
            })
            .await
    }

    async fn record_order_lines(
        &self,
        lines: &[(OrderId, OrderLine)],
        _recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let lines = lines.to_vec();
        self.writer
            .write(move |tx| {
                let orders = load_orders(tx, &unique(lines.iter().map(|(id, _)| id.as_str())))?;
                let plan = plan_order_lines(&lines, &orders);
                write_lines(tx, &plan.lines())?;
                Ok(plan.outcomes)
            })
            .await
    }

    async fn record_returns(
        &self,
        returns: &[NewReturn],
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let returns = returns.to_vec();
        self.writer
            .write(move |tx| {
                let stored = load_returns(
                    tx,
                    "WHERE return_id IN (SELECT value FROM json_each(?1))",
                    &unique(returns.iter().map(|r| r.return_id.as_str())),
                )?;
                let order_ids = unique(returns.iter().map(|r| r.order_id.as_str()));
                let orders = load_orders(tx, &order_ids)?;
                let earlier = load_returns(
                    tx,
                    "WHERE order_id IN (SELECT value FROM json_each(?1))",
                    &order_ids,
                )?;
                let mut refunded: HashMap<OrderId, Refunded> = HashMap::new();
                for item in earlier.values() {
                    let entry = refunded.entry(item.order_id.clone()).or_default();
                    entry.amount += item.amount.minor();
                    entry.lines.extend(item.lines.iter().cloned());
                }
                let plan = plan_returns(&returns, &stored, &orders, &refunded);
                write_returns(tx, &plan.inserts, micros(recorded_at))?;
                queue_point_orders(tx, plan.inserts.iter().map(|r| r.order_id.as_str()))?;
                Ok(plan.outcomes)
            })
            .await
    }

    async fn record_interactions(
        &self,
        interactions: &[Interaction],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let interactions = interactions.to_vec();
        self.writer
            .write(move |tx| {
                let now = micros(recorded_at);
                let stored = fetch_for_ids(
                    tx,
                    &format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE interaction_id IN (SELECT value FROM json_each(?1))"),
                    &unique(interactions.iter().map(|i| i.interaction_id.as_str())),
                    interaction_row,
                )?
                .into_iter()
                .map(|row| Interaction::try_from(row).map(|i| (i.interaction_id.to_string(), i)))
                .collect::<anyhow::Result<HashMap<_, _>>>()?;
                let members =
                    known_members(tx, &unique(interactions.iter().map(|i| i.member_id().as_str())))?;
                let plan = plan_member_facts(&interactions, &stored, &members, options);
                insert_placeholder_members(tx, &plan.new_members, FactOrigin::Interaction, now)?;
                let mut insert = tx.prepare_cached(&insert_sql(
                    &format!("interactions ({INTERACTION_COLUMNS}, recorded_at)"),
                    6,
                    "",
                ))?;
                for row in plan.inserts.iter().map(InteractionRow::from) {
                    insert.execute(params![
                        row.interaction_id,
                        row.member_id,
                        row.at,
                        row.channel,
                        row.kind,
                        now
                    ])?;
                }
                Ok(plan.outcomes)
            })
            .await
    }

    async fn record_events(
        &self,
        events: &[BehaviourEvent],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let events = events.to_vec();
        self.writer
            .write(move |tx| {
                let now = micros(recorded_at);
                let stored = fetch_for_ids(
                    tx,
                    &format!("SELECT {EVENT_COLUMNS} FROM behaviour_events WHERE event_id IN (SELECT value FROM json_each(?1))"),
                    &unique(events.iter().map(|e| e.event_id.as_str())),
                    event_row,
                )?
                .into_iter()
                .map(|row| BehaviourEvent::try_from(row).map(|e| (e.event_id.to_string(), e)))
                .collect::<anyhow::Result<HashMap<_, _>>>()?;
                let members =
                    known_members(tx, &unique(events.iter().map(|e| e.member_id().as_str())))?;
                let plan = plan_member_facts(&events, &stored, &members, options);
                insert_placeholder_members(tx, &plan.new_members, FactOrigin::Event, now)?;
                let mut insert = tx.prepare_cached(&insert_sql(
                    &format!("behaviour_events ({EVENT_COLUMNS}, recorded_at)"),
                    8,
                    "",
                ))?;
                for row in plan.inserts.iter().map(EventRow::from) {
                    insert.execute(params![
                        row.event_id,
                        row.member_id,
                        row.at,
                        row.kind,
                        row.sku,
                        row.category,
                        row.query,
                        now
                    ])?;
                }
                Ok(plan.outcomes)
            })
            .await
    }

    async fn get_member(&self, member_id: &MemberId) -> StoreResult<Member> {
        let member_id = member_id.to_string();
        self.readers
            .read(move |conn| get_member(conn, &member_id))
            .await
    }

    async fn get_orders(&self, order_ids: &[OrderId]) -> StoreResult<Vec<Order>> {
        let ids = json_array(order_ids.iter().map(OrderId::as_str));
        self.readers
            .read(move |conn| {
                let snapshot = conn.unchecked_transaction()?;
                let mut orders: Vec<Order> = load_orders(&snapshot, &ids)?.into_values().collect();
                orders.sort_by(|a, b| a.order_id.cmp(&b.order_id));
                Ok(orders)
            })
            .await
    }

    async fn get_returns(&self, order_ids: &[OrderId]) -> StoreResult<Vec<NewReturn>> {
        let ids = json_array(order_ids.iter().map(OrderId::as_str));
        self.readers
            .read(move |conn| {
                let snapshot = conn.unchecked_transaction()?;
                let mut returns: Vec<NewReturn> = load_returns(
                    &snapshot,
                    "WHERE order_id IN (SELECT value FROM json_each(?1))",
                    &ids,
                )?
                .into_values()
                .collect();
                returns.sort_by(|a, b| {
                    (a.completed_at, &a.return_id).cmp(&(b.completed_at, &b.return_id))
                });
                Ok(returns)
            })
            .await
    }

    async fn member_order_ids(
        &self,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<(MemberId, OrderId)>> {
        let ids = json_array(member_ids.iter().map(MemberId::as_str));
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT member_id, order_id FROM orders \
                     WHERE member_id IN (SELECT value FROM json_each(?1)) \
                     ORDER BY member_id, order_id",
                )?;
                let pairs = statement
                    .query_map([ids], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                pairs
                    .iter()
                    .map(|(member, order)| {
                        Ok((
                            parsed(MemberId::parse(member))?,
                            parsed(OrderId::parse(order))?,
                        ))
                    })
                    .collect()
            })
            .await
    }

    async fn get_members(&self, member_ids: &[MemberId]) -> StoreResult<Vec<Member>> {
        let ids = json_array(member_ids.iter().map(MemberId::as_str));
        self.readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT {MEMBER_COLUMNS} FROM members \
                     WHERE member_id IN (SELECT value FROM json_each(?1)) ORDER BY member_id"
                );
                fetch_for_ids(conn, &sql, &ids, member_row)?
                    .into_iter()
                    .map(|row| Ok(Member::try_from(row)?))
                    .collect()
            })
            .await
    }

    async fn find_members_by_contact(
        &self,
        phones: &[Phone],
        emails: &[Email],
    ) -> StoreResult<Vec<(String, MemberId)>> {
        let phones = json_array(phones.iter().map(Phone::as_str));
        let emails = json_array(emails.iter().map(Email::as_str));
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT phone, member_id FROM members \
                     WHERE phone IN (SELECT value FROM json_each(?1)) \
                     UNION ALL SELECT email, member_id FROM members \
                     WHERE email IN (SELECT value FROM json_each(?2)) \
                     ORDER BY 1, 2",
                )?;
                let rows = statement.query_map([&phones, &emails], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?;
                let mut found = Vec::new();
                for row in rows {
                    let (contact, id) = row?;
                    found.push((
                        contact,
                        MemberId::parse(&id).map_err(|e| anyhow::anyhow!(e))?,
                    ));
                }
                Ok(found)
            })
            .await
    }

    async fn get_member_facts(&self, member_id: &MemberId, limit: u32) -> StoreResult<MemberFacts> {
        let member_id = member_id.to_string();
        self.readers
            .read(move |conn| {
                // One snapshot, so the member's facts agree with each other.
                let snapshot = conn.unchecked_transaction()?;
                let member = get_member(&snapshot, &member_id)?;
                let orders = member_orders(&snapshot, &member_id)?;
                let order_ids = json_array(orders.iter().map(|o| o.order_id.as_str()));
                let mut returns: Vec<NewReturn> = load_returns(
                    &snapshot,
                    "WHERE order_id IN (SELECT value FROM json_each(?1))",
                    &order_ids,
                )?
                .into_values()
                .collect();
                returns.sort_by(|a, b| {
                    b.completed_at
                        .cmp(&a.completed_at)
                        .then_with(|| a.return_id.cmp(&b.return_id))
                });
                let interactions = newest::<_, Interaction>(
                    &snapshot,
                    &format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE member_id = ?1 ORDER BY at DESC, interaction_id LIMIT ?2"),
                    &member_id,
                    limit,
                    interaction_row,
                )?;
                let events = newest::<_, BehaviourEvent>(
                    &snapshot,
                    &format!("SELECT {EVENT_COLUMNS} FROM behaviour_events WHERE member_id = ?1 ORDER BY at DESC, event_id LIMIT ?2"),
                    &member_id,
                    limit,
                    event_row,
                )?;
                Ok(MemberFacts {
                    member,
                    orders,
                    returns,
                    interactions,
                    events,
                })
            })
            .await
    }

    async fn list_stores(&self) -> StoreResult<Vec<ShopStore>> {
        self.readers
            .read(|conn| {
                let mut statement =
                    conn.prepare_cached(&format!("{STORE_SELECT} ORDER BY store_id"))?;
                let rows = statement.query_map([], store_row)?;
                rows.map(|row| Ok(ShopStore::try_from(row?)?)).collect()
            })
            .await
    }

    async fn scan_facts(&self, visitor: &mut dyn FactVisitor) -> StoreResult<()> {
        crate::scan::scan_facts(&self.path, visitor).await
    }

    async fn scan_audience_facts(&self, visitor: &mut dyn AudienceVisitor) -> StoreResult<()> {
        crate::scan::scan_audience_facts(&self.path, visitor).await
    }

    async fn loyalty_facts(
        &self,
        members: Option<&[MemberId]>,
        from: jiff::civil::Date,
    ) -> StoreResult<Vec<(MemberId, MemberLoyalty)>> {
        let ids = members.map(|ids| json_array(ids.iter().map(MemberId::as_str)));
        let from = from.to_string();
        self.readers
            .read(move |conn| crate::loyalty::loyalty_facts(conn, ids.as_deref(), &from))
            .await
    }

    async fn count_facts(&self) -> StoreResult<FactCounts> {
        self.readers
            .read(|conn| {
                let counts: [i64; 7] = conn.query_row(
                    "SELECT (SELECT COUNT(*) FROM members), (SELECT COUNT(*) FROM stores), \
                     (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_lines), \
                     (SELECT COUNT(*) FROM returns), (SELECT COUNT(*) FROM interactions), \
                     (SELECT COUNT(*) FROM behaviour_events)",
                    [],
                    |row| {
                        Ok([
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                            row.get(5)?,
                            row.get(6)?,
                        ])
                    },
                )?;
                let count = |idx: usize| u64::try_from(counts[idx]).unwrap_or_default();
                Ok(FactCounts {
                    members: count(0),
                    stores: count(1),
                    orders: count(2),
                    order_lines: count(3),
                    returns: count(4),
                    interactions: count(5),
                    events: count(6),
                })
            })
            .await
    }
}
