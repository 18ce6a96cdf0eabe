//! Tiers on PostgreSQL: members' tiers saved with the changes their evaluation found, in one
//! transaction, each change recorded once (the log's unique key turns a repeat into nothing,
//! even when two processes evaluate the same member at once).

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{MemberId, OrderId};
use regulars_store::rows::{json_array, micros};
use regulars_store::{
    LoggedTierChange, MemberTier, StoreResult, TierChangeFilter, TierChangeRecord, TierStore,
};
use sqlx::Row as _;
use sqlx::postgres::PgRow;

use crate::saved::{date, parsed, timestamp};
use crate::{PostgresStore, db_error};

const TIER_COLUMNS: &str =
    "member_id, tier, since, until, order_id, value, next_tier, to_next, due_on, evaluated_on";

const CHANGE_COLUMNS: &str =
    "seq, member_id, day, from_tier, to_tier, kind, value, order_id, reason, recorded_at";

fn optional_date(text: Option<&str>) -> StoreResult<Option<Date>> {
    text.map(date).transpose()
}

fn optional_order(text: Option<&str>) -> StoreResult<Option<OrderId>> {
    text.map(|id| parsed(OrderId::parse(id))).transpose()
}

fn member_tier(row: &PgRow) -> StoreResult<MemberTier> {
    let member: String = row.try_get("member_id").map_err(db_error)?;
    let evaluated: String = row.try_get("evaluated_on").map_err(db_error)?;
    Ok(MemberTier {
        member_id: parsed(MemberId::parse(&member))?,
        tier: row.try_get("tier").map_err(db_error)?,
        since: optional_date(
            row.try_get::<Option<String>, _>("since")
                .map_err(db_error)?
                .as_deref(),
        )?,
        until: optional_date(
            row.try_get::<Option<String>, _>("until")
                .map_err(db_error)?
                .as_deref(),
        )?,
        order_id: optional_order(
            row.try_get::<Option<String>, _>("order_id")
                .map_err(db_error)?
                .as_deref(),
        )?,
        value: row.try_get("value").map_err(db_error)?,
        next_tier: row.try_get("next_tier").map_err(db_error)?,
        to_next: row.try_get("to_next").map_err(db_error)?,
        due_on: optional_date(
            row.try_get::<Option<String>, _>("due_on")
                .map_err(db_error)?
                .as_deref(),
        )?,
        evaluated_on: date(&evaluated)?,
    })
}

fn logged_change(row: &PgRow) -> StoreResult<LoggedTierChange> {
    let member: String = row.try_get("member_id").map_err(db_error)?;
    let day: String = row.try_get("day").map_err(db_error)?;
    Ok(LoggedTierChange {
        seq: row.try_get("seq").map_err(db_error)?,
        change: TierChangeRecord {
            member_id: parsed(MemberId::parse(&member))?,
            day: date(&day)?,
            from_tier: row.try_get("from_tier").map_err(db_error)?,
            to_tier: row.try_get("to_tier").map_err(db_error)?,
            kind: row.try_get("kind").map_err(db_error)?,
            value: row.try_get("value").map_err(db_error)?,
            order_id: optional_order(
                row.try_get::<Option<String>, _>("order_id")
                    .map_err(db_error)?
                    .as_deref(),
            )?,
            reason: row.try_get("reason").map_err(db_error)?,
        },
        recorded_at: timestamp(row.try_get("recorded_at").map_err(db_error)?)?,
    })
}

#[async_trait]
impl TierStore for PostgresStore {
    async fn save_tiers(
        &self,
        tiers: &[MemberTier],
        changes: &[TierChangeRecord],
        at: Timestamp,
    ) -> StoreResult<Vec<bool>> {
        let updates = TIER_COLUMNS
            .split(", ")
            .skip(1)
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let upsert = format!(
            "INSERT INTO member_tiers ({TIER_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (member_id) DO UPDATE SET {updates}"
        );
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        for tier in tiers {
            sqlx::query(&upsert)
                .bind(tier.member_id.as_str())
                .bind(&tier.tier)
                .bind(tier.since.map(|d| d.to_string()))
                .bind(tier.until.map(|d| d.to_string()))
                .bind(tier.order_id.as_ref().map(OrderId::as_str))
                .bind(tier.value)
                .bind(&tier.next_tier)
                .bind(tier.to_next)
                .bind(tier.due_on.map(|d| d.to_string()))
                .bind(tier.evaluated_on.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        let mut recorded = Vec::with_capacity(changes.len());
        for change in changes {
            let inserted = sqlx::query(
                "INSERT INTO tier_changes (member_id, day, from_tier, to_tier, kind, value, \
                 order_id, reason, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (member_id, day, kind, to_tier) DO NOTHING",
            )
            .bind(change.member_id.as_str())
            .bind(change.day.to_string())
            .bind(&change.from_tier)
            .bind(&change.to_tier)
            .bind(&change.kind)
            .bind(change.value)
            .bind(change.order_id.as_ref().map(OrderId::as_str))
            .bind(&change.reason)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            recorded.push(inserted.rows_affected() == 1);
        }
        tx.commit().await.map_err(db_error)?;
        Ok(recorded)
    }

    async fn member_tiers(&self, member_ids: &[MemberId]) -> StoreResult<Vec<MemberTier>> {
        let sql = format!(
            "SELECT {TIER_COLUMNS} FROM member_tiers \
             WHERE member_id IN (SELECT jsonb_array_elements_text($1::jsonb))"
        );
        let rows = sqlx::query(&sql)
            .bind(json_array(member_ids.iter().map(MemberId::as_str)))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(member_tier).collect()
    }

    async fn tiers_due(&self, day: Date, limit: u32) -> StoreResult<Vec<MemberId>> {
        let rows = sqlx::query(
            "SELECT member_id FROM member_tiers WHERE due_on IS NOT NULL AND due_on <= $1 \
             ORDER BY member_id COLLATE \"C\" LIMIT $2",
        )
        .bind(day.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get(0).map_err(db_error)?;
                parsed(MemberId::parse(&id))
            })
            .collect()
    }

    async fn tier_counts(&self) -> StoreResult<Vec<(String, u64)>> {
        let rows = sqlx::query(
            "SELECT tier, COUNT(*) FROM member_tiers GROUP BY tier ORDER BY tier COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let count: i64 = row.try_get(1).map_err(db_error)?;
                Ok((
                    row.try_get(0).map_err(db_error)?,
                    u64::try_from(count).unwrap_or(0),
                ))
            })
            .collect()
    }

    async fn near_next_tier(
        &self,
        within: Option<i64>,
        percent: Option<u32>,
        limit: u32,
    ) -> StoreResult<Vec<MemberTier>> {
        let sql = format!(
            "SELECT {TIER_COLUMNS} FROM member_tiers \
             WHERE to_next IS NOT NULL AND to_next > 0 \
             AND ($1::BIGINT IS NULL OR to_next <= $1) \
             AND ($2::BIGINT IS NULL OR to_next * 100 <= $2 * (value + to_next)) \
             ORDER BY to_next, member_id COLLATE \"C\" LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(within)
            .bind(percent.map(i64::from))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(member_tier).collect()
    }

    async fn tier_changes(
        &self,
        filter: &TierChangeFilter,
        limit: u32,
    ) -> StoreResult<Vec<LoggedTierChange>> {
        // Only the filters given, so the planner can use the member's index.
        enum Arg {
            Text(String),
            Int(i64),
        }
        let mut clauses = Vec::new();
        let mut args = Vec::new();
        let mut filter_on = |clause: &str, value: Option<Arg>| {
            if let Some(value) = value {
                args.push(value);
                clauses.push(format!("{clause} ${}", args.len()));
            }
        };
        filter_on(
            "member_id =",
            filter.member_id.as_ref().map(|m| Arg::Text(m.to_string())),
        );
        filter_on("to_tier =", filter.to_tier.clone().map(Arg::Text));
        filter_on("kind =", filter.kind.clone().map(Arg::Text));
        filter_on("day >=", filter.from.map(|d| Arg::Text(d.to_string())));
        filter_on("day <=", filter.to.map(|d| Arg::Text(d.to_string())));
        filter_on("seq <", filter.before.map(Arg::Int));
        let clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM tier_changes {clause} ORDER BY seq DESC LIMIT {limit}"
        );
        let mut query = sqlx::query(&sql);
        for arg in args {
            query = match arg {
                Arg::Text(text) => query.bind(text),
                Arg::Int(number) => query.bind(number),
            };
        }
        let rows = query.fetch_all(&self.pool).await.map_err(db_error)?;
        rows.iter().map(logged_change).collect()
    }

    async fn birthday_members(
        &self,
        month: i8,
    ) -> StoreResult<Vec<(MemberId, Date, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT m.member_id, m.birthday, t.tier FROM members m \
             LEFT JOIN member_tiers t ON t.member_id = m.member_id \
             WHERE m.birthday IS NOT NULL AND substring(m.birthday from 6 for 2) = $1 \
             ORDER BY m.member_id COLLATE \"C\"",
        )
        .bind(format!("{month:02}"))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let member: String = row.try_get(0).map_err(db_error)?;
                let birthday: String = row.try_get(1).map_err(db_error)?;
                Ok((
                    parsed(MemberId::parse(&member))?,
                    date(&birthday)?,
                    row.try_get(2).map_err(db_error)?,
                ))
            })
            .collect()
    }
}
