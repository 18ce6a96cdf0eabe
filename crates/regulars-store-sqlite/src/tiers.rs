//! Tiers on SQLite: members' tiers saved with the changes their evaluation found, in one write,
//! each change recorded once (the log's unique key turns a repeat into nothing).

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{MemberId, OrderId};
use regulars_store::rows::{json_array, micros};
use regulars_store::{
    LoggedTierChange, MemberTier, StoreResult, TierChangeFilter, TierChangeRecord, TierStore,
};
use rusqlite::types::Value;
use rusqlite::{Row, params, params_from_iter};

use crate::SqliteStore;
use crate::connections::DbResult;
use crate::saved::{date, parsed, timestamp};

const TIER_COLUMNS: &str =
    "member_id, tier, since, until, order_id, value, next_tier, to_next, due_on, evaluated_on";

const CHANGE_COLUMNS: &str =
    "seq, member_id, day, from_tier, to_tier, kind, value, order_id, reason, recorded_at";

fn optional_date(text: Option<&str>) -> DbResult<Option<Date>> {
    text.map(date).transpose()
}

fn optional_order(text: Option<&str>) -> DbResult<Option<OrderId>> {
    text.map(|id| parsed(OrderId::parse(id))).transpose()
}

fn member_tier(row: &Row<'_>) -> DbResult<MemberTier> {
    let member: String = row.get(0)?;
    Ok(MemberTier {
        member_id: parsed(MemberId::parse(&member))?,
        tier: row.get(1)?,
        since: optional_date(row.get::<_, Option<String>>(2)?.as_deref())?,
        until: optional_date(row.get::<_, Option<String>>(3)?.as_deref())?,
        order_id: optional_order(row.get::<_, Option<String>>(4)?.as_deref())?,
        value: row.get(5)?,
        next_tier: row.get(6)?,
        to_next: row.get(7)?,
        due_on: optional_date(row.get::<_, Option<String>>(8)?.as_deref())?,
        evaluated_on: date(&row.get::<_, String>(9)?)?,
    })
}

fn logged_change(row: &Row<'_>) -> DbResult<LoggedTierChange> {
    let member: String = row.get(1)?;
    Ok(LoggedTierChange {
        seq: row.get(0)?,
        change: TierChangeRecord {
            member_id: parsed(MemberId::parse(&member))?,
            day: date(&row.get::<_, String>(2)?)?,
            from_tier: row.get(3)?,
            to_tier: row.get(4)?,
            kind: row.get(5)?,
            value: row.get(6)?,
            order_id: optional_order(row.get::<_, Option<String>>(7)?.as_deref())?,
            reason: row.get(8)?,
        },
        recorded_at: timestamp(row.get(9)?)?,
    })
}

fn tiers_where(
    conn: &rusqlite::Connection,
    clause: &str,
    args: Vec<Value>,
) -> DbResult<Vec<MemberTier>> {
    let sql = format!("SELECT {TIER_COLUMNS} FROM member_tiers WHERE {clause}");
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(params_from_iter(args))?;
    let mut tiers = Vec::new();
    while let Some(row) = rows.next()? {
        tiers.push(member_tier(row)?);
    }
    Ok(tiers)
}

#[async_trait]
impl TierStore for SqliteStore {
    async fn save_tiers(
        &self,
        tiers: &[MemberTier],
        changes: &[TierChangeRecord],
        at: Timestamp,
    ) -> StoreResult<Vec<bool>> {
        let tiers = tiers.to_vec();
        let changes = changes.to_vec();
        self.writer
            .write(move |tx| {
                let updates = TIER_COLUMNS
                    .split(", ")
                    .skip(1)
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut upsert = tx.prepare_cached(&format!(
                    "INSERT INTO member_tiers ({TIER_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     ON CONFLICT (member_id) DO UPDATE SET {updates}"
                ))?;
                for tier in &tiers {
                    upsert.execute(params![
                        tier.member_id.as_str(),
                        tier.tier,
                        tier.since.map(|d| d.to_string()),
                        tier.until.map(|d| d.to_string()),
                        tier.order_id.as_ref().map(OrderId::as_str),
                        tier.value,
                        tier.next_tier,
                        tier.to_next,
                        tier.due_on.map(|d| d.to_string()),
                        tier.evaluated_on.to_string(),
                    ])?;
                }
                let mut insert = tx.prepare_cached(
                    "INSERT INTO tier_changes (member_id, day, from_tier, to_tier, kind, value, \
                     order_id, reason, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                     ON CONFLICT (member_id, day, kind, to_tier) DO NOTHING",
                )?;
                let mut recorded = Vec::with_capacity(changes.len());
                for change in &changes {
                    let inserted = insert.execute(params![
                        change.member_id.as_str(),
                        change.day.to_string(),
                        change.from_tier,
                        change.to_tier,
                        change.kind,
                        change.value,
                        change.order_id.as_ref().map(OrderId::as_str),
                        change.reason,
                        micros(at),
                    ])?;
                    recorded.push(inserted == 1);
                }
                Ok(recorded)
            })
            .await
    }

    async fn member_tiers(&self, member_ids: &[MemberId]) -> StoreResult<Vec<MemberTier>> {
        let ids = json_array(member_ids.iter().map(MemberId::as_str));
        self.readers
            .read(move |conn| {
                tiers_where(
                    conn,
                    "member_id IN (SELECT value FROM json_each(?1))",
                    vec![Value::Text(ids)],
                )
            })
            .await
    }

    async fn tiers_due(&self, day: Date, limit: u32) -> StoreResult<Vec<MemberId>> {
        let day = day.to_string();
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT member_id FROM member_tiers WHERE due_on IS NOT NULL AND due_on <= ?1 \
                     ORDER BY member_id LIMIT ?2",
                )?;
                let ids = statement
                    .query_map(params![day, limit], |row| row.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                ids.iter().map(|id| parsed(MemberId::parse(id))).collect()
            })
            .await
    }

    async fn tier_counts(&self) -> StoreResult<Vec<(String, u64)>> {
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT tier, COUNT(*) FROM member_tiers GROUP BY tier ORDER BY tier",
                )?;
                let counts = statement
                    .query_map([], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(counts
                    .into_iter()
                    .map(|(tier, n)| (tier, u64::try_from(n).unwrap_or(0)))
                    .collect())
            })
            .await
    }

    async fn near_next_tier(
        &self,
        within: Option<i64>,
        percent: Option<u32>,
        limit: u32,
    ) -> StoreResult<Vec<MemberTier>> {
        self.readers
            .read(move |conn| {
                tiers_where(
                    conn,
                    "to_next IS NOT NULL AND to_next > 0 \
                     AND (?1 IS NULL OR to_next <= ?1) \
                     AND (?2 IS NULL OR to_next * 100 <= ?2 * (value + to_next)) \
                     ORDER BY to_next, member_id LIMIT ?3",
                    vec![
                        within.map_or(Value::Null, Value::Integer),
                        percent.map_or(Value::Null, |p| Value::Integer(i64::from(p))),
                        Value::Integer(i64::from(limit)),
                    ],
                )
            })
            .await
    }

    async fn tier_changes(
        &self,
        filter: &TierChangeFilter,
        limit: u32,
    ) -> StoreResult<Vec<LoggedTierChange>> {
        // Only the filters given, so the planner can use the member's index.
        let mut clauses = Vec::new();
        let mut args = Vec::new();
        let mut filter_on = |clause: &str, value: Option<Value>| {
            if let Some(value) = value {
                args.push(value);
                clauses.push(format!("{clause} ?{}", args.len()));
            }
        };
        filter_on(
            "member_id =",
            filter
                .member_id
                .as_ref()
                .map(|m| Value::Text(m.to_string())),
        );
        filter_on("to_tier =", filter.to_tier.clone().map(Value::Text));
        filter_on("kind =", filter.kind.clone().map(Value::Text));
        filter_on("day >=", filter.from.map(|d| Value::Text(d.to_string())));
        filter_on("day <=", filter.to.map(|d| Value::Text(d.to_string())));
        filter_on("seq <", filter.before.map(Value::Integer));
        let clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        self.readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT {CHANGE_COLUMNS} FROM tier_changes {clause} \
                     ORDER BY seq DESC LIMIT {limit}"
                );
                let mut statement = conn.prepare_cached(&sql)?;
                let mut rows = statement.query(params_from_iter(args))?;
                let mut changes = Vec::new();
                while let Some(row) = rows.next()? {
                    changes.push(logged_change(row)?);
                }
                Ok(changes)
            })
            .await
    }

    async fn birthday_members(
        &self,
        month: i8,
    ) -> StoreResult<Vec<(MemberId, Date, Option<String>)>> {
        let month = format!("{month:02}");
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT m.member_id, m.birthday, t.tier FROM members m \
                     LEFT JOIN member_tiers t ON t.member_id = m.member_id \
                     WHERE m.birthday IS NOT NULL AND substr(m.birthday, 6, 2) = ?1 \
                     ORDER BY m.member_id",
                )?;
                let rows = statement
                    .query_map([month], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, Option<String>>(2)?,
                        ))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                rows.into_iter()
                    .map(|(member, birthday, tier)| {
                        Ok((parsed(MemberId::parse(&member))?, date(&birthday)?, tier))
                    })
                    .collect()
            })
            .await
    }
}
