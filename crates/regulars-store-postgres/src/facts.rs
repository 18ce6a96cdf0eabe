//! The fact ports on PostgreSQL: each batch loads the stored rows its ids name, asks
//! `regulars_store::plan` what to do, and writes the plan in one transaction.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use futures_util::TryStreamExt as _;
use jiff::Timestamp;
use regulars_domain::{
    BehaviourEvent, Email, FactOrigin, Interaction, Member, MemberId, MemberProfile, NewReturn,
    Order, OrderId, OrderLine, OrderStatus, Phone, ReturnId, ReturnLine, Store as ShopStore,
    StoreId,
};
use regulars_store::plan::{
    MemberFact, Refunded, plan_member_facts, plan_members, plan_order_lines, plan_orders,
    plan_returns, plan_stores,
};
use regulars_store::rows::{
    EventRow, InteractionRow, MEMBER_COLUMNS, MemberRow, OrderLineRow, OrderRow, ReturnRow,
    StoreRow, json_array, micros, placeholder_member, placeholder_store,
};
use regulars_store::{
    AudienceVisitor, EventScan, FactCounts, FactStore, FactVisitor, IngestOptions, ItemOutcome,
    LineScan, MemberFacts, MemberLoyalty, MemberScan, OrderScan, Recorded, ReturnScan, StoreError,
    StoreResult,
};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row as _};

use crate::rows::{
    EVENT_COLUMNS, INTERACTION_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS, RETURN_COLUMNS, STORE_SELECT,
    event_row, interaction_row, line_row, member_row, order_row, return_row, store_row,
};
use crate::saved::parsed;
use crate::{MAX_VARIABLES, PostgresStore, db_error};

/// Inserts `rows` with multi-row `INSERT … VALUES` statements of at most 500 rows.
pub(crate) async fn insert_values<'a, T>(
    conn: &mut PgConnection,
    head: &str,
    columns: usize,
    rows: &'a [T],
    tail: &str,
    mut bind: impl FnMut(&mut Separated<'_, 'a, Postgres, &'static str>, &'a T),
) -> StoreResult<()> {
    let per_statement = (MAX_VARIABLES / columns).clamp(1, 500);
    for chunk in rows.chunks(per_statement) {
        let mut builder: QueryBuilder<'a, Postgres> = QueryBuilder::new(head);
        builder.push_values(chunk, |mut values, row| bind(&mut values, row));
        builder.push(tail);
        builder
            .build()
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// Runs `sql`, whose one parameter is a JSON array of ids, mapping each row.
async fn fetch_for_ids<T>(
    conn: &mut PgConnection,
    sql: &str,
    ids_json: &str,
    map: fn(&PgRow) -> Result<T, sqlx::Error>,
) -> StoreResult<Vec<T>> {
    let rows = sqlx::query(sql)
        .bind(ids_json)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    rows.iter().map(|row| map(row).map_err(db_error)).collect()
}

fn first_text(row: &PgRow) -> Result<String, sqlx::Error> {
    row.try_get(0)
}

fn unique<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let mut seen = HashSet::new();
    json_array(ids.filter(|id| seen.insert(*id)))
}

async fn known_members(conn: &mut PgConnection, ids_json: &str) -> StoreResult<HashSet<MemberId>> {
    let sql = "SELECT member_id FROM members WHERE member_id IN (SELECT jsonb_array_elements_text($1::jsonb))";
    fetch_for_ids(conn, sql, ids_json, first_text)
        .await?
        .iter()
        .map(|id| MemberId::parse(id).map_err(|e| StoreError::Other(anyhow::anyhow!(e))))
        .collect()
}

async fn known_stores(conn: &mut PgConnection, ids_json: &str) -> StoreResult<HashSet<StoreId>> {
    let sql = "SELECT store_id FROM stores WHERE store_id IN (SELECT jsonb_array_elements_text($1::jsonb))";
    fetch_for_ids(conn, sql, ids_json, first_text)
        .await?
        .iter()
        .map(|id| StoreId::parse(id).map_err(|e| StoreError::Other(anyhow::anyhow!(e))))
        .collect()
}

/// Orders (with their lines) among the ids of a JSON array.
async fn load_orders(
    conn: &mut PgConnection,
    ids_json: &str,
) -> StoreResult<HashMap<OrderId, Order>> {
    let orders = fetch_for_ids(
        conn,
        &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_id IN (SELECT jsonb_array_elements_text($1::jsonb))"),
        ids_json,
        order_row,
    )
    .await?;
    let lines = fetch_for_ids(
        conn,
        &format!(
            "SELECT {LINE_COLUMNS} FROM order_lines WHERE order_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY order_id, line_no"
        ),
        ids_json,
        line_row,
    )
    .await?;
    assemble_orders(orders, lines)
}

fn assemble_orders(
    orders: Vec<OrderRow>,
    lines: Vec<OrderLineRow>,
) -> StoreResult<HashMap<OrderId, Order>> {
    let mut lines_by_order: HashMap<String, Vec<OrderLineRow>> = HashMap::new();
    for line in lines {
        lines_by_order
            .entry(line.order_id.clone())
            .or_default()
            .push(line);
    }
    let mut out = HashMap::with_capacity(orders.len());
    for row in orders {
        let currency = regulars_domain::Currency::parse(&row.currency)
            .map_err(|e| StoreError::Other(anyhow::anyhow!(e)))?;
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

async fn insert_placeholder_members(
    conn: &mut PgConnection,
    ids: &[MemberId],
    origin: FactOrigin,
    now: i64,
) -> StoreResult<()> {
    let rows: Vec<MemberRow> = ids
        .iter()
        .map(|id| placeholder_member(id, origin))
        .collect();
    write_members(conn, &rows, now).await
}

/// Inserts or overwrites members (all profile columns), keeping `created_at` of stored ones.
async fn write_members(conn: &mut PgConnection, rows: &[MemberRow], now: i64) -> StoreResult<()> {
    let head = format!("INSERT INTO members ({MEMBER_COLUMNS}, created_at, updated_at) ");
    let updates: Vec<String> = MEMBER_COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|c| *c != "member_id")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let tail = format!(
        " ON CONFLICT (member_id) DO UPDATE SET {}, updated_at = excluded.updated_at",
        updates.join(", ")
    );
    insert_values(conn, &head, 27, rows, &tail, |values, row| {
        values
            .push_bind(row.member_id.as_str())
            .push_bind(row.name.as_deref())
            .push_bind(row.phone.as_deref())
            .push_bind(row.email.as_deref())
            .push_bind(row.line_user_id.as_deref())
            .push_bind(row.birthday.as_deref())
            .push_bind(row.gender.as_deref())
            .push_bind(row.region.as_deref())
            .push_bind(row.joined_at)
            .push_bind(row.home_store_id.as_deref())
            .push_bind(row.referrer_id.as_deref());
        for consent in &row.consents {
            values
                .push_bind(consent.granted)
                .push_bind(consent.at)
                .push_bind(consent.source.as_deref());
        }
        values
            .push_bind(row.created_from.as_deref())
            .push_bind(row.revision)
            .push_bind(now)
            .push_bind(now);
    })
    .await
}

async fn write_stores(conn: &mut PgConnection, rows: &[StoreRow]) -> StoreResult<()> {
    insert_values(
        conn,
        "INSERT INTO stores (store_id, name, channel, time_zone, created_from_order) ",
        5,
        rows,
        " ON CONFLICT (store_id) DO UPDATE SET name = excluded.name, channel = excluded.channel, \
          time_zone = excluded.time_zone, created_from_order = excluded.created_from_order",
        |values, row| {
            values
                .push_bind(row.store_id.as_str())
                .push_bind(row.name.as_str())
                .push_bind(row.channel.as_str())
                .push_bind(row.time_zone.as_str())
                .push_bind(row.created_from_order);
        },
    )
    .await
}

async fn write_lines(conn: &mut PgConnection, lines: &[(&OrderId, &OrderLine)]) -> StoreResult<()> {
    let rows: Vec<OrderLineRow> = lines
        .iter()
        .map(|(id, line)| OrderLineRow::new(id, line))
        .collect();
    insert_values(
        conn,
        &format!("INSERT INTO order_lines ({LINE_COLUMNS}) "),
        7,
        &rows,
        "",
        |values, row| {
            values
                .push_bind(row.order_id.as_str())
                .push_bind(row.line_no)
                .push_bind(row.sku.as_str())
                .push_bind(row.name.as_deref())
                .push_bind(row.category.as_deref())
                .push_bind(row.quantity)
                .push_bind(row.unit_price);
        },
    )
    .await
}

/// Returns with their order's member, as both scans read them.
const RETURNS_WITH_MEMBERS: &str = "SELECT o.member_id, r.order_id, r.completed_at, r.amount \
     FROM returns r JOIN orders o ON o.order_id = r.order_id";

fn return_scan(row: &PgRow) -> StoreResult<ReturnScan<'_>> {
    Ok(ReturnScan {
        member_id: row.try_get_unchecked(0).map_err(db_error)?,
        order_id: row.try_get_unchecked(1).map_err(db_error)?,
        completed_at: row.try_get_unchecked(2).map_err(db_error)?,
        amount: row.try_get_unchecked(3).map_err(db_error)?,
    })
}

/// The order columns both scans select first, in this order.
const ORDER_SCAN_COLUMNS: &str = "o.member_id, o.order_id, o.placed_at, o.status, o.status_at, \
     o.amount, o.shipping, o.completed_at";

fn order_scan(row: &PgRow) -> StoreResult<OrderScan<'_>> {
    Ok(OrderScan {
        member_id: row.try_get_unchecked(0).map_err(db_error)?,
        order_id: row.try_get_unchecked(1).map_err(db_error)?,
        placed_at: row.try_get_unchecked(2).map_err(db_error)?,
        status: row.try_get_unchecked(3).map_err(db_error)?,
        status_at: row.try_get_unchecked(4).map_err(db_error)?,
        amount: row.try_get_unchecked(5).map_err(db_error)?,
        shipping: row.try_get_unchecked(6).map_err(db_error)?,
        completed_at: row.try_get_unchecked(7).map_err(db_error)?,
    })
}

#[async_trait]
impl FactStore for PostgresStore {
    async fn upsert_stores(&self, stores: &[ShopStore]) -> StoreResult<Vec<ItemOutcome>> {
        let mut tx = self.begin_writes().await?;
        let ids = unique(stores.iter().map(|s| s.store_id.as_str()));
        let stored = fetch_for_ids(
            &mut tx,
            &format!(
                "{STORE_SELECT} WHERE store_id IN (SELECT jsonb_array_elements_text($1::jsonb))"
            ),
            &ids,
            store_row,
        )
        .await?
        .into_iter()
        .map(|row| ShopStore::try_from(row).map(|s| (s.store_id.clone(), s)))
        .collect::<anyhow::Result<HashMap<_, _>>>()?;
        let plan = plan_stores(stores, &stored);
        let rows: Vec<StoreRow> = plan.upserts.iter().map(StoreRow::from).collect();
        write_stores(&mut tx, &rows).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(plan.outcomes)
    }

    async fn upsert_members(
        &self,
        profiles: &[MemberProfile],
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let now = micros(recorded_at);
        let mut tx = self.begin_writes().await?;
        let ids = unique(profiles.iter().map(|p| p.member_id.as_str()));
        let stored = fetch_for_ids(
            &mut tx,
            &format!("SELECT {MEMBER_COLUMNS} FROM members WHERE member_id IN (SELECT jsonb_array_elements_text($1::jsonb))"),
            &ids,
            member_row,
        )
        .await?
        .into_iter()
        .map(|row| Member::try_from(row).map(|m| (m.profile.member_id.clone(), m)))
        .collect::<anyhow::Result<HashMap<_, _>>>()?;
        let plan = plan_members(profiles, &stored);
        let rows: Vec<MemberRow> = plan
            .inserts
            .iter()
            .chain(&plan.updates)
            .map(MemberRow::from)
            .collect();
        write_members(&mut tx, &rows, now).await?;
        let changes: Vec<(&MemberId, i64, &regulars_domain::MemberChange)> = plan
            .changes
            .iter()
            .flat_map(|(id, revision, changes)| changes.iter().map(move |c| (id, *revision, c)))
            .collect();
        insert_values(
            &mut tx,
            "INSERT INTO member_changes (member_id, revision, field, old_value, new_value, recorded_at) ",
            6,
            &changes,
            "",
            |values, (id, revision, change)| {
                values
                    .push_bind(id.as_str())
                    .push_bind(*revision)
                    .push_bind(change.field.as_str())
                    .push_bind(change.old.as_deref())
                    .push_bind(change.new.as_deref())
                    .push_bind(now);
            },
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(plan.outcomes)
    }

    async fn record_orders(
        &self,
        orders: &[Order],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Recorded> {
        let now = micros(recorded_at);
        let mut tx = self.begin_writes().await?;
        let stored =
            load_orders(&mut tx, &unique(orders.iter().map(|o| o.order_id.as_str()))).await?;
        let members = known_members(
            &mut tx,
            &unique(orders.iter().map(|o| o.member_id.as_str())),
        )
        .await?;
        let stores = known_stores(
            &mut tx,
            &unique(
                orders
                    .iter()
                    .filter_map(|o| o.store_id.as_ref().map(StoreId::as_str)),
            ),
        )
        .await?;
        let plan = plan_orders(orders, &stored, &members, &stores, options, recorded_at);
        insert_placeholder_members(&mut tx, &plan.new_members, FactOrigin::Order, now).await?;
        let store_rows: Vec<StoreRow> = plan
            .new_stores
            .iter()
            .map(|id| placeholder_store(id, &self.default_time_zone))
            .collect();
        write_stores(&mut tx, &store_rows).await?;
        let rows: Vec<OrderRow> = plan.inserts.iter().map(OrderRow::from).collect();
        insert_values(
            &mut tx,
            &format!("INSERT INTO orders ({ORDER_COLUMNS}, recorded_at, completed_at) "),
            13,
            &rows,
            "",
            |values, row| {
                values
                    .push_bind(row.order_id.as_str())
                    .push_bind(row.member_id.as_str())
                    .push_bind(row.store_id.as_deref())
                    .push_bind(row.placed_at)
                    .push_bind(row.status.as_str())
                    .push_bind(row.status_at)
                    .push_bind(row.currency.as_str())
                    .push_bind(row.amount)
                    .push_bind(row.discount)
                    .push_bind(row.shipping)
                    .push_bind(row.coupon_codes.as_str())
                    .push_bind(now)
                    .push_bind(
                        (row.status.as_str() == OrderStatus::Completed.as_str())
                            .then_some(row.status_at),
                    );
            },
        )
        .await?;
        write_lines(&mut tx, &plan.lines()).await?;
        for change in &plan.status_changes {
            sqlx::query(
                "UPDATE orders SET status = $1, status_at = $2, \
                 completed_at = CASE WHEN $1 = 'completed' THEN $2 ELSE completed_at END \
                 WHERE order_id = $3",
            )
            .bind(change.to.as_str())
            .bind(micros(change.at))
            .bind(change.order_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            sqlx::query(
                "INSERT INTO order_status_changes (order_id, from_status, to_status, at, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(change.order_id.as_str())
            .bind(change.from.as_str())
            .bind(change.to.as_str())
            .bind(micros(change.at))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        queue_point_orders(
            &mut tx,
            plan.inserts
                .iter()
                .map(|o| o.order_id.as_str())
                .chain(plan.status_changes.iter().map(|c| c.order_id.as_str())),
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Recorded {
            outcomes: plan.outcomes,
            status_changes: plan.status_changes,
        })
    }

    async fn record_order_lines(
        &self,
        lines: &[(OrderId, OrderLine)],
        _recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let mut tx = self.begin_writes().await?;
        let orders = load_orders(&mut tx, &unique(lines.iter().map(|(id, _)| id.as_str()))).await?;
        let plan = plan_order_lines(lines, &orders);
        write_lines(&mut tx, &plan.lines()).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(plan.outcomes)
    }

    async fn record_returns(
        &self,
        returns: &[NewReturn],
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let now = micros(recorded_at);
        let mut tx = self.begin_writes().await?;
        let stored = load_returns(
            &mut tx,
            "WHERE return_id IN (SELECT jsonb_array_elements_text($1::jsonb))",
            &unique(returns.iter().map(|r| r.return_id.as_str())),
        )
        .await?;
        let order_ids = unique(returns.iter().map(|r| r.order_id.as_str()));
        let orders = load_orders(&mut tx, &order_ids).await?;
        let earlier = load_returns(
            &mut tx,
            "WHERE order_id IN (SELECT jsonb_array_elements_text($1::jsonb))",
            &order_ids,
        )
        .await?;
        let mut refunded: HashMap<OrderId, Refunded> = HashMap::new();
        for item in earlier.values() {
            let entry = refunded.entry(item.order_id.clone()).or_default();
            entry.amount += item.amount.minor();
            entry.lines.extend(item.lines.iter().cloned());
        }
        let plan = plan_returns(returns, &stored, &orders, &refunded);
        let rows: Vec<ReturnRow> = plan.inserts.iter().map(ReturnRow::from).collect();
        insert_values(
            &mut tx,
            &format!("INSERT INTO returns ({RETURN_COLUMNS}, recorded_at) "),
            6,
            &rows,
            "",
            |values, row| {
                values
                    .push_bind(row.return_id.as_str())
                    .push_bind(row.order_id.as_str())
                    .push_bind(row.currency.as_str())
                    .push_bind(row.amount)
                    .push_bind(row.completed_at)
                    .push_bind(now);
            },
        )
        .await?;
        let lines: Vec<(&ReturnId, i64, &ReturnLine)> = plan
            .inserts
            .iter()
            .flat_map(|r| {
                r.lines
                    .iter()
                    .enumerate()
                    .map(move |(idx, line)| (&r.return_id, idx as i64, line))
            })
            .collect();
        insert_values(
            &mut tx,
            "INSERT INTO return_lines (return_id, position, sku, quantity) ",
            4,
            &lines,
            "",
            |values, (id, position, line)| {
                values
                    .push_bind(id.as_str())
                    .push_bind(*position)
                    .push_bind(line.sku.as_str())
                    .push_bind(i64::from(line.quantity));
            },
        )
        .await?;
        queue_point_orders(&mut tx, plan.inserts.iter().map(|r| r.order_id.as_str())).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(plan.outcomes)
    }

    async fn record_interactions(
        &self,
        interactions: &[Interaction],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let now = micros(recorded_at);
        let mut tx = self.begin_writes().await?;
        let stored = fetch_for_ids(
            &mut tx,
            &format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE interaction_id IN (SELECT jsonb_array_elements_text($1::jsonb))"),
            &unique(interactions.iter().map(|i| i.interaction_id.as_str())),
            interaction_row,
        )
        .await?
        .into_iter()
        .map(|row| Interaction::try_from(row).map(|i| (i.interaction_id.to_string(), i)))
        .collect::<anyhow::Result<HashMap<_, _>>>()?;
        let members = known_members(
            &mut tx,
            &unique(interactions.iter().map(|i| i.member_id().as_str())),
        )
        .await?;
        let plan = plan_member_facts(interactions, &stored, &members, options);
        insert_placeholder_members(&mut tx, &plan.new_members, FactOrigin::Interaction, now)
            .await?;
        let rows: Vec<InteractionRow> = plan.inserts.iter().map(InteractionRow::from).collect();
        insert_values(
            &mut tx,
            &format!("INSERT INTO interactions ({INTERACTION_COLUMNS}, recorded_at) "),
            6,
            &rows,
            "",
            |values, row| {
                values
                    .push_bind(row.interaction_id.as_str())
                    .push_bind(row.member_id.as_str())
                    .push_bind(row.at)
                    .push_bind(row.channel.as_str())
                    .push_bind(row.kind.as_str())
                    .push_bind(now);
            },
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(plan.outcomes)
    }

    async fn record_events(
        &self,
        events: &[BehaviourEvent],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>> {
        let now = micros(recorded_at);
        let mut tx = self.begin_writes().await?;
        let stored = fetch_for_ids(
            &mut tx,
            &format!("SELECT {EVENT_COLUMNS} FROM behaviour_events WHERE event_id IN (SELECT jsonb_array_elements_text($1::jsonb))"),
            &unique(events.iter().map(|e| e.event_id.as_str())),
            event_row,
        )
        .await?
        .into_iter()
        .map(|row| BehaviourEvent::try_from(row).map(|e| (e.event_id.to_string(), e)))
        .collect::<anyhow::Result<HashMap<_, _>>>()?;
        let members = known_members(
            &mut tx,
            &unique(events.iter().map(|e| e.member_id().as_str())),
        )
        .await?;
        let plan = plan_member_facts(events, &stored, &members, options);
        insert_placeholder_members(&mut tx, &plan.new_members, FactOrigin::Event, now).await?;
        let rows: Vec<EventRow> = plan.inserts.iter().map(EventRow::from).collect();
        insert_values(
            &mut tx,
            &format!("INSERT INTO behaviour_events ({EVENT_COLUMNS}, recorded_at) "),
            8,
            &rows,
            "",
            |values, row| {
                values
                    .push_bind(row.event_id.as_str())
                    .push_bind(row.member_id.as_str())
                    .push_bind(row.at)
                    .push_bind(row.kind.as_str())
                    .push_bind(row.sku.as_deref())
                    .push_bind(row.category.as_deref())
                    .push_bind(row.query.as_deref())
                    .push_bind(now);
            },
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(plan.outcomes)
    }

    async fn get_member(&self, member_id: &MemberId) -> StoreResult<Member> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE member_id = $1"
        ))
        .bind(member_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(Member::try_from(member_row(&row).map_err(db_error)?)?)
    }

    async fn get_members(&self, member_ids: &[MemberId]) -> StoreResult<Vec<Member>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let ids = json_array(member_ids.iter().map(MemberId::as_str));
        let rows = fetch_for_ids(
            &mut conn,
            &format!("SELECT {MEMBER_COLUMNS} FROM members WHERE member_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY member_id COLLATE \"C\""),
            &ids,
            member_row,
        )
        .await?;
        rows.into_iter()
            .map(|row| Ok(Member::try_from(row)?))
            .collect()
    }

    async fn find_members_by_contact(
        &self,
        phones: &[Phone],
        emails: &[Email],
    ) -> StoreResult<Vec<(String, MemberId)>> {
        let phones = json_array(phones.iter().map(Phone::as_str));
        let emails = json_array(emails.iter().map(Email::as_str));
        let rows = sqlx::query(
            "SELECT contact, member_id FROM ( \
             SELECT phone AS contact, member_id FROM members \
             WHERE phone IN (SELECT jsonb_array_elements_text($1::jsonb)) \
             UNION ALL SELECT email, member_id FROM members \
             WHERE email IN (SELECT jsonb_array_elements_text($2::jsonb))) found \
             ORDER BY contact COLLATE \"C\", member_id COLLATE \"C\"",
        )
        .bind(phones)
        .bind(emails)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let contact: String = row.try_get(0).map_err(db_error)?;
                let id: String = row.try_get(1).map_err(db_error)?;
                let id = MemberId::parse(&id).map_err(|e| StoreError::Other(anyhow::anyhow!(e)))?;
                Ok((contact, id))
            })
            .collect()
    }

    async fn get_orders(&self, order_ids: &[OrderId]) -> StoreResult<Vec<Order>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let ids = json_array(order_ids.iter().map(OrderId::as_str));
        let order_rows = fetch_for_ids(
            &mut conn,
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_id IN (SELECT jsonb_array_elements_text($1::jsonb))"),
            &ids,
            order_row,
        )
        .await?;
        let line_rows = fetch_for_ids(
            &mut conn,
            &format!("SELECT {LINE_COLUMNS} FROM order_lines WHERE order_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY order_id, line_no"),
            &ids,
            line_row,
        )
        .await?;
        let mut orders: Vec<Order> = assemble_orders(order_rows, line_rows)?
            .into_values()
            .collect();
        orders.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        Ok(orders)
    }

    async fn get_returns(&self, order_ids: &[OrderId]) -> StoreResult<Vec<NewReturn>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let ids = json_array(order_ids.iter().map(OrderId::as_str));
        let mut returns: Vec<NewReturn> = load_returns(
            &mut conn,
            "WHERE order_id IN (SELECT jsonb_array_elements_text($1::jsonb))",
            &ids,
        )
        .await?
        .into_values()
        .collect();
        returns.sort_by(|a, b| (a.completed_at, &a.return_id).cmp(&(b.completed_at, &b.return_id)));
        Ok(returns)
    }

    async fn member_order_ids(
        &self,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<(MemberId, OrderId)>> {
        let rows = sqlx::query(
            "SELECT member_id, order_id FROM orders \
             WHERE member_id IN (SELECT jsonb_array_elements_text($1::jsonb)) \
             ORDER BY member_id COLLATE \"C\", order_id COLLATE \"C\"",
        )
        .bind(json_array(member_ids.iter().map(MemberId::as_str)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let member: String = row.try_get(0).map_err(db_error)?;
                let order: String = row.try_get(1).map_err(db_error)?;
                Ok((
                    parsed(MemberId::parse(&member))?,
                    parsed(OrderId::parse(&order))?,
                ))
            })
            .collect()
    }

    async fn get_member_facts(&self, member_id: &MemberId, limit: u32) -> StoreResult<MemberFacts> {
        let member = self.get_member(member_id).await?;
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let id = json_array([member_id.as_str()]);
        let order_rows = fetch_for_ids(
            &mut conn,
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE member_id IN (SELECT jsonb_array_elements_text($1::jsonb))"),
            &id,
            order_row,
        )
        .await?;
        let order_ids = json_array(order_rows.iter().map(|o| o.order_id.as_str()));
        let line_rows = fetch_for_ids(
            &mut conn,
            &format!("SELECT {LINE_COLUMNS} FROM order_lines WHERE order_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY order_id, line_no"),
            &order_ids,
            line_row,
        )
        .await?;
        let mut orders: Vec<Order> = assemble_orders(order_rows, line_rows)?
            .into_values()
            .collect();
        orders.sort_by(|a, b| {
            b.placed_at
                .cmp(&a.placed_at)
                .then_with(|| a.order_id.cmp(&b.order_id))
        });
        let mut returns: Vec<NewReturn> = load_returns(
            &mut conn,
            "WHERE order_id IN (SELECT jsonb_array_elements_text($1::jsonb))",
            &order_ids,
        )
        .await?
        .into_values()
        .collect();
        returns.sort_by(|a, b| {
            b.completed_at
                .cmp(&a.completed_at)
                .then_with(|| a.return_id.cmp(&b.return_id))
        });
        let interactions = sqlx::query(&format!(
            "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE member_id = $1 ORDER BY at DESC, interaction_id LIMIT $2"
        ))
        .bind(member_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?
        .iter()
        .map(|row| Ok(Interaction::try_from(interaction_row(row).map_err(db_error)?)?))
        .collect::<StoreResult<Vec<_>>>()?;
        let events = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM behaviour_events WHERE member_id = $1 ORDER BY at DESC, event_id LIMIT $2"
        ))
        .bind(member_id.as_str())
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?
        .iter()
        .map(|row| Ok(BehaviourEvent::try_from(event_row(row).map_err(db_error)?)?))
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(MemberFacts {
            member,
            orders,
            returns,
            interactions,
            events,
        })
    }

    async fn list_stores(&self) -> StoreResult<Vec<ShopStore>> {
        let rows = sqlx::query(&format!("{STORE_SELECT} ORDER BY store_id"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|row| Ok(ShopStore::try_from(store_row(row).map_err(db_error)?)?))
            .collect()
    }

    async fn scan_facts(&self, visitor: &mut dyn FactVisitor) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let mut rows =
            sqlx::query("SELECT member_id FROM members ORDER BY member_id").fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.member(row.try_get_unchecked::<&str, _>(0).map_err(db_error)?);
        }
        drop(rows);
        let mut rows = sqlx::query(RETURNS_WITH_MEMBERS).fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.return_(return_scan(&row)?);
        }
        drop(rows);
        let sql = format!("SELECT {ORDER_SCAN_COLUMNS} FROM orders o");
        let mut rows = sqlx::query(&sql).fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.order(order_scan(&row)?);
        }
        drop(rows);
        let mut rows = sqlx::query("SELECT member_id, at FROM interactions").fetch(&mut *conn);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.interaction(
                row.try_get_unchecked(0).map_err(db_error)?,
                row.try_get_unchecked(1).map_err(db_error)?,
            );
        }
        Ok(())
    }

    async fn loyalty_facts(
        &self,
        members: Option<&[MemberId]>,
        from: jiff::civil::Date,
    ) -> StoreResult<Vec<(MemberId, MemberLoyalty)>> {
        let ids = members.map(|ids| json_array(ids.iter().map(MemberId::as_str)));
        crate::loyalty::loyalty_facts(&self.pool, ids.as_deref(), &from.to_string()).await
    }

    async fn scan_audience_facts(&self, visitor: &mut dyn AudienceVisitor) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let mut rows = sqlx::query(
            "SELECT member_id, gender, birthday, region, joined_at, home_store_id, \
             consent_line, consent_sms, consent_email, consent_push FROM members ORDER BY member_id",
        )
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            let consent = |c: usize| row.try_get::<Option<bool>, _>(c).map_err(db_error);
            visitor.member(MemberScan {
                member_id: row.try_get_unchecked(0).map_err(db_error)?,
                gender: row.try_get_unchecked(1).map_err(db_error)?,
                birthday: row.try_get_unchecked(2).map_err(db_error)?,
                region: row.try_get_unchecked(3).map_err(db_error)?,
                joined_at: row.try_get_unchecked(4).map_err(db_error)?,
                home_store_id: row.try_get_unchecked(5).map_err(db_error)?,
                consents: [consent(6)?, consent(7)?, consent(8)?, consent(9)?],
            });
        }
        drop(rows);
        let sql = format!(
            "SELECT {ORDER_SCAN_COLUMNS}, o.store_id, s.channel \
             FROM orders o LEFT JOIN stores s ON s.store_id = o.store_id"
        );
        let mut rows = sqlx::query(&sql).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.order(
                order_scan(&row)?,
                row.try_get_unchecked(8).map_err(db_error)?,
                row.try_get_unchecked(9).map_err(db_error)?,
            );
        }
        drop(rows);
        let mut rows = sqlx::query(
            "SELECT o.member_id, l.order_id, l.sku, l.category, l.quantity, l.unit_price \
             FROM order_lines l JOIN orders o ON o.order_id = l.order_id",
        )
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.line(LineScan {
                member_id: row.try_get_unchecked(0).map_err(db_error)?,
                order_id: row.try_get_unchecked(1).map_err(db_error)?,
                sku: row.try_get_unchecked(2).map_err(db_error)?,
                category: row.try_get_unchecked(3).map_err(db_error)?,
                quantity: row.try_get_unchecked(4).map_err(db_error)?,
                unit_price: row.try_get_unchecked(5).map_err(db_error)?,
            });
        }
        drop(rows);
        let mut rows = sqlx::query(RETURNS_WITH_MEMBERS).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.return_(return_scan(&row)?);
        }
        drop(rows);
        let mut rows =
            sqlx::query("SELECT member_id, at, kind, sku, category FROM behaviour_events")
                .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.event(EventScan {
                member_id: row.try_get_unchecked(0).map_err(db_error)?,
                at: row.try_get_unchecked(1).map_err(db_error)?,
                kind: row.try_get_unchecked(2).map_err(db_error)?,
                sku: row.try_get_unchecked(3).map_err(db_error)?,
                category: row.try_get_unchecked(4).map_err(db_error)?,
            });
        }
        drop(rows);
        let mut rows =
            sqlx::query("SELECT member_id, at, channel FROM interactions").fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(db_error)? {
            visitor.interaction(
                row.try_get_unchecked(0).map_err(db_error)?,
                row.try_get_unchecked(1).map_err(db_error)?,
                row.try_get_unchecked(2).map_err(db_error)?,
            );
        }
        drop(rows);
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }

    async fn count_facts(&self) -> StoreResult<FactCounts> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM members), (SELECT COUNT(*) FROM stores), \
             (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_lines), \
             (SELECT COUNT(*) FROM returns), (SELECT COUNT(*) FROM interactions), \
             (SELECT COUNT(*) FROM behaviour_events)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        let count = |idx: usize| -> StoreResult<u64> {
            let value: i64 = row.try_get(idx).map_err(db_error)?;
            Ok(u64::try_from(value).unwrap_or_default())
        };
        Ok(FactCounts {
            members: count(0)?,
            stores: count(1)?,
            orders: count(2)?,
            order_lines: count(3)?,
            returns: count(4)?,
            interactions: count(5)?,
            events: count(6)?,
        })
    }
}

/// Returns (with their lines) chosen by `filter`, whose one parameter is a JSON array of ids.
/// Puts orders on the points queue, in the fact's own transaction.
async fn queue_point_orders<'a>(
    conn: &mut PgConnection,
    order_ids: impl Iterator<Item = &'a str>,
) -> StoreResult<()> {
    let ids = json_array(order_ids);
    if ids == "[]" {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO points_order_queue (order_id) SELECT jsonb_array_elements_text($1::jsonb)",
    )
    .bind(ids)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn load_returns(
    conn: &mut PgConnection,
    filter: &str,
    ids_json: &str,
) -> StoreResult<HashMap<ReturnId, NewReturn>> {
    let rows = fetch_for_ids(
        conn,
        &format!("SELECT {RETURN_COLUMNS} FROM returns {filter}"),
        ids_json,
        return_row,
    )
    .await?;
    let return_ids = json_array(rows.iter().map(|r| r.return_id.as_str()));
    let lines = fetch_for_ids(
        conn,
        "SELECT return_id, sku, quantity FROM return_lines WHERE return_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY return_id, position",
        &return_ids,
        |row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?, row.try_get::<i64, _>(2)?)),
    )
    .await?;
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
