//! The points ledger on PostgreSQL, with the debts reversals leave, the queue of orders to earn
//! from and the expiry warnings. Each operation locks its member's row first, so the lots a
//! debit plans from are the lots it writes against: concurrent debits never overspend.

use async_trait::async_trait;
use jiff::civil::Date;
use regulars_domain::{Lot, MemberId, OrderId, PointsKind};
use regulars_store::rows::{json_array, json_numbers, micros};
use regulars_store::{
    ExpiringPoints, Planned, PointsEntry, PointsHoldings, PointsOperation, PointsOutcome,
    PointsRequest, PointsStore, PointsWarning, SETTLE_REASON, StoreError, StoreResult, apply_cap,
    plan_entries, same_operation,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};

use crate::saved::{date, parsed, timestamp};
use crate::{PostgresStore, db_error};

/// What a credit `c` has left: its points less every draw on it (SQL, for `concat!`).
macro_rules! lot_remaining {
    () => {
        "(c.points + COALESCE((SELECT SUM(d.points) FROM points_entries d \
         WHERE d.lot = c.seq), 0))::BIGINT"
    };
}
pub(crate) use lot_remaining;

const ENTRY_COLUMNS: &str = "seq, member_id, kind, points, lot, available_on, expires_on, key, \
                             reason, cause, day, at";

fn entry(row: &PgRow) -> StoreResult<PointsEntry> {
    let text = |name: &str| -> StoreResult<String> { row.try_get(name).map_err(db_error) };
    let optional_day = |name: &str| -> StoreResult<Option<Date>> {
        let value: Option<String> = row.try_get(name).map_err(db_error)?;
        value.as_deref().map(date).transpose()
    };
    let invalid = |e: String| StoreError::Other(anyhow::anyhow!(e));
    Ok(PointsEntry {
        seq: row.try_get("seq").map_err(db_error)?,
        member_id: MemberId::parse(&text("member_id")?).map_err(invalid)?,
        kind: PointsKind::parse(&text("kind")?).map_err(invalid)?,
        points: row.try_get("points").map_err(db_error)?,
        lot: row.try_get("lot").map_err(db_error)?,
        available_on: optional_day("available_on")?,
        expires_on: optional_day("expires_on")?,
        key: text("key")?,
        reason: text("reason")?,
        cause: text("cause")?,
        day: date(&text("day")?)?,
        at: timestamp(row.try_get("at").map_err(db_error)?)?,
    })
}

/// The operations recorded under the keys of `keys` (a JSON array), in key order; with their
/// entries and what each owed or paid off.
async fn operations(conn: &mut PgConnection, keys: &str) -> StoreResult<Vec<PointsOperation>> {
    let rows = sqlx::query(
        "SELECT key, kind, points, capped FROM points_operations \
         WHERE key IN (SELECT jsonb_array_elements_text($1::jsonb))",
    )
    .bind(keys)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut operations = rows
        .iter()
        .map(|row| {
            let kind: String = row.try_get("kind").map_err(db_error)?;
            Ok(PointsOperation {
                key: row.try_get("key").map_err(db_error)?,
                kind: PointsKind::parse(&kind)
                    .map_err(|e| StoreError::Other(anyhow::anyhow!(e)))?,
                points: row.try_get("points").map_err(db_error)?,
                entries: Vec::new(),
                owed: 0,
                capped: row.try_get("capped").map_err(db_error)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    if operations.is_empty() {
        return Ok(operations);
    }
    operations.sort_by(|a, b| a.key.cmp(&b.key));
    let found = json_array(operations.iter().map(|op| op.key.as_str()));
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM points_entries \
         WHERE key IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY seq"
    );
    let entries = sqlx::query(&sql)
        .bind(&found)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    for row in &entries {
        let entry = entry(row)?;
        if let Ok(at) = operations.binary_search_by(|op| op.key.cmp(&entry.key)) {
            operations[at].entries.push(entry);
        }
    }
    let owed = sqlx::query(
        "SELECT key, SUM(points)::BIGINT AS owed FROM points_debts \
         WHERE key IN (SELECT jsonb_array_elements_text($1::jsonb)) GROUP BY key",
    )
    .bind(&found)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    for row in &owed {
        let key: String = row.try_get("key").map_err(db_error)?;
        if let Ok(at) = operations.binary_search_by(|op| op.key.cmp(&key)) {
            operations[at].owed = row.try_get("owed").map_err(db_error)?;
        }
    }
    Ok(operations)
}

/// The operation just found or written under `key`.
async fn recorded(conn: &mut PgConnection, key: &str) -> StoreResult<PointsOperation> {
    operations(conn, &json_array([key]))
        .await?
        .pop()
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("operation {key} is gone")))
}

async fn holdings(conn: &mut PgConnection, member_id: &str) -> StoreResult<PointsHoldings> {
    let debt: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(points), 0)::BIGINT FROM points_debts WHERE member_id = $1",
    )
    .bind(member_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(PointsHoldings {
        lots: lots(conn, member_id).await?,
        debt,
    })
}

/// Writes one ledger entry and returns its sequence number.
#[allow(clippy::too_many_arguments)]
async fn insert_entry(
    conn: &mut PgConnection,
    request: &PointsRequest,
    kind: PointsKind,
    points: i64,
    lot: Option<i64>,
    credit: bool,
    reason: &str,
) -> StoreResult<i64> {
    let available_on = credit.then(|| request.available_on.to_string());
    let expires_on = request.expires_on.filter(|_| credit).map(|d| d.to_string());
    sqlx::query_scalar(
        "INSERT INTO points_entries (member_id, key, kind, points, lot, available_on, \
         expires_on, reason, cause, day, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq",
    )
    .bind(request.member_id.as_str())
    .bind(&request.key)
    .bind(kind.as_str())
    .bind(points)
    .bind(lot)
    .bind(available_on)
    .bind(expires_on)
    .bind(reason)
    .bind(&request.cause)
    .bind(request.day.to_string())
    .bind(micros(request.at))
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)
}

async fn insert_debt(
    conn: &mut PgConnection,
    request: &PointsRequest,
    points: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO points_debts (member_id, key, points, day, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(request.member_id.as_str())
    .bind(&request.key)
    .bind(points)
    .bind(request.day.to_string())
    .bind(micros(request.at))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn lots(conn: &mut PgConnection, member_id: &str) -> StoreResult<Vec<Lot>> {
    let rows = sqlx::query(concat!(
        "SELECT c.seq, ",
        lot_remaining!(),
        " AS remaining, c.available_on, c.expires_on \
             FROM points_entries c WHERE c.member_id = $1 AND c.points > 0 ORDER BY c.seq"
    ))
    .bind(member_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let available_on: String = row.try_get("available_on").map_err(db_error)?;
            let expires_on: Option<String> = row.try_get("expires_on").map_err(db_error)?;
            Ok(Lot {
                seq: row.try_get("seq").map_err(db_error)?,
                remaining: row.try_get("remaining").map_err(db_error)?,
                available_on: date(&available_on)?,
                expires_on: expires_on.as_deref().map(date).transpose()?,
            })
        })
        .collect()
}

/// Records one operation inside `conn`'s transaction, its member's row locked.
/// Locks the members' rows, the lock every operation on their points takes first, in id order
/// so two transactions never wait on each other in a circle; `NotFound` when one is unknown.
pub(crate) async fn lock_members<'a>(
    conn: &mut PgConnection,
    members: impl Iterator<Item = &'a str>,
) -> StoreResult<()> {
    let mut members: Vec<&str> = members.collect();
    members.sort_unstable();
    members.dedup();
    let locked: Vec<String> = sqlx::query_scalar(
        "SELECT member_id FROM members \
         WHERE member_id IN (SELECT jsonb_array_elements_text($1::jsonb)) \
         ORDER BY member_id FOR UPDATE",
    )
    .bind(json_array(members.iter().copied()))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    if locked.len() == members.len() {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub(crate) async fn record_one(
    conn: &mut PgConnection,
    request: &PointsRequest,
) -> StoreResult<PointsOutcome> {
    let member = request.member_id.as_str();
    let stored =
        sqlx::query("SELECT member_id, kind, points, capped FROM points_operations WHERE key = $1")
            .bind(&request.key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
    if let Some(row) = stored {
        let stored_member: String = row.try_get("member_id").map_err(db_error)?;
        let kind: String = row.try_get("kind").map_err(db_error)?;
        let points: i64 = row.try_get("points").map_err(db_error)?;
        let capped: i64 = row.try_get("capped").map_err(db_error)?;
        if !same_operation(request, &stored_member, &kind, points, capped) {
            return Ok(PointsOutcome::KeyReused);
        }
        return Ok(PointsOutcome::Replayed(
            recorded(&mut *conn, &request.key).await?,
        ));
    }
    let used: i64 = match &request.cap {
        Some(cap) if request.points > 0 => sqlx::query_scalar(
            "SELECT COALESCE(SUM(points), 0)::BIGINT FROM points_operations \
             WHERE member_id = $1 AND cap_period = $2",
        )
        .bind(member)
        .bind(&cap.period)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?,
        _ => 0,
    };
    let (request, capped) = apply_cap(request, used);
    let request = request.as_ref();
    let planned = match plan_entries(request, &holdings(&mut *conn, member).await?) {
        Ok(planned) => planned,
        Err(available) => return Ok(PointsOutcome::Short(available)),
    };
    sqlx::query(
        "INSERT INTO points_operations (key, member_id, kind, points, at, cap_period, capped) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&request.key)
    .bind(member)
    .bind(request.kind.as_str())
    .bind(request.points)
    .bind(micros(request.at))
    .bind(request.cap.as_ref().map(|cap| cap.period.as_str()))
    .bind(capped)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut credit = None;
    for planned in planned {
        match planned {
            Planned::Credit(points) => {
                let seq = insert_entry(
                    &mut *conn,
                    request,
                    request.kind,
                    points,
                    None,
                    true,
                    &request.reason,
                )
                .await?;
                credit = Some(seq);
            }
            Planned::Draw { lot, points } => {
                insert_entry(
                    &mut *conn,
                    request,
                    request.kind,
                    points,
                    Some(lot),
                    false,
                    &request.reason,
                )
                .await?;
            }
            Planned::Settle(points) => {
                insert_entry(
                    &mut *conn,
                    request,
                    PointsKind::Settle,
                    points,
                    credit,
                    false,
                    SETTLE_REASON,
                )
                .await?;
                insert_debt(&mut *conn, request, points).await?;
            }
            Planned::Owe(points) => insert_debt(&mut *conn, request, points).await?,
        }
    }
    Ok(PointsOutcome::Recorded(
        recorded(&mut *conn, &request.key).await?,
    ))
}

#[async_trait]
impl PointsStore for PostgresStore {
    async fn record_points_batch(
        &self,
        requests: &[PointsRequest],
    ) -> StoreResult<Vec<PointsOutcome>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_members(&mut tx, requests.iter().map(|r| r.member_id.as_str())).await?;
        let mut outcomes = Vec::with_capacity(requests.len());
        for request in requests {
            outcomes.push(record_one(&mut tx, request).await?);
        }
        tx.commit().await.map_err(db_error)?;
        Ok(outcomes)
    }

    async fn points_holdings(&self, member_id: &MemberId) -> StoreResult<PointsHoldings> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        holdings(&mut conn, member_id.as_str()).await
    }

    async fn points_operations(&self, keys: &[String]) -> StoreResult<Vec<PointsOperation>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        operations(&mut conn, &json_array(keys.iter().map(String::as_str))).await
    }

    async fn queued_point_orders(&self, limit: u32) -> StoreResult<Vec<(i64, OrderId)>> {
        let rows =
            sqlx::query("SELECT seq, order_id FROM points_order_queue ORDER BY seq LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let order: String = row.try_get("order_id").map_err(db_error)?;
                Ok((
                    row.try_get("seq").map_err(db_error)?,
                    OrderId::parse(&order).map_err(|e| StoreError::Other(anyhow::anyhow!(e)))?,
                ))
            })
            .collect()
    }

    async fn dequeue_point_orders(&self, seqs: &[i64]) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM points_order_queue \
             WHERE seq IN (SELECT jsonb_array_elements_text($1::jsonb)::BIGINT)",
        )
        .bind(json_numbers(seqs))
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn expired_lots(&self, today: Date, limit: u32) -> StoreResult<Vec<(MemberId, Lot)>> {
        let rows = sqlx::query(concat!(
            "SELECT member_id, seq, remaining, available_on, expires_on FROM ( \
                 SELECT c.member_id, c.seq, c.available_on, c.expires_on, ",
            lot_remaining!(),
            " AS remaining \
                 FROM points_entries c WHERE c.points > 0 AND c.expires_on <= $1) lots \
                 WHERE remaining > 0 ORDER BY seq LIMIT $2"
        ))
        .bind(today.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let member: String = row.try_get("member_id").map_err(db_error)?;
                let available_on: String = row.try_get("available_on").map_err(db_error)?;
                let expires_on: String = row.try_get("expires_on").map_err(db_error)?;
                Ok((
                    MemberId::parse(&member).map_err(|e| StoreError::Other(anyhow::anyhow!(e)))?,
                    Lot {
                        seq: row.try_get("seq").map_err(db_error)?,
                        remaining: row.try_get("remaining").map_err(db_error)?,
                        available_on: date(&available_on)?,
                        expires_on: Some(date(&expires_on)?),
                    },
                ))
            })
            .collect()
    }

    async fn points_history(
        &self,
        member_id: &MemberId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<PointsEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM points_entries \
             WHERE member_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(member_id.as_str())
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(entry).collect()
    }
    async fn expiring_points(
        &self,
        today: Date,
        through: Date,
        after: Option<&(Date, MemberId)>,
        limit: u32,
    ) -> StoreResult<Vec<ExpiringPoints>> {
        let (after_day, after_member) = after.map_or((String::new(), String::new()), |(d, m)| {
            (d.to_string(), m.to_string())
        });
        let rows = sqlx::query(concat!(
            "SELECT member_id, expires_on, SUM(remaining)::BIGINT AS points FROM ( \
                 SELECT c.member_id, c.expires_on, ",
            lot_remaining!(),
            " AS remaining FROM points_entries c \
             WHERE c.points > 0 AND c.expires_on > $1 AND c.expires_on <= $2 \
             AND c.expires_on >= $3 \
             AND (c.expires_on > $3 OR c.member_id COLLATE \"C\" > $4)) lots \
             WHERE remaining > 0 GROUP BY expires_on, member_id \
             ORDER BY expires_on, member_id COLLATE \"C\" LIMIT $5"
        ))
        .bind(today.to_string())
        .bind(through.to_string())
        .bind(after_day)
        .bind(after_member)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let member: String = row.try_get("member_id").map_err(db_error)?;
                let expires_on: String = row.try_get("expires_on").map_err(db_error)?;
                Ok(ExpiringPoints {
                    member_id: parsed(MemberId::parse(&member))?,
                    expires_on: date(&expires_on)?,
                    points: row.try_get("points").map_err(db_error)?,
                })
            })
            .collect()
    }

    async fn record_points_warnings(&self, warnings: &[PointsWarning]) -> StoreResult<u64> {
        if warnings.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let mut recorded = 0;
        for warning in warnings {
            recorded += sqlx::query(
                "INSERT INTO points_warnings \
                 (member_id, expires_on, days_before, points, day, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (member_id, expires_on, days_before) DO NOTHING",
            )
            .bind(warning.member_id.as_str())
            .bind(warning.expires_on.to_string())
            .bind(i32::try_from(warning.days_before).unwrap_or(i32::MAX))
            .bind(warning.points)
            .bind(warning.day.to_string())
            .bind(micros(warning.recorded_at))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        }
        tx.commit().await.map_err(db_error)?;
        Ok(recorded)
    }

    async fn points_warnings(
        &self,
        member_id: Option<&MemberId>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<PointsWarning>> {
        let columns = "seq, member_id, expires_on, days_before, points, day, recorded_at";
        let before = before_seq.unwrap_or(i64::MAX);
        // Two statements, so the member's index serves the one that names a member.
        let rows = match member_id {
            Some(member) => {
                sqlx::query(&format!(
                    "SELECT {columns} FROM points_warnings \
                     WHERE member_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
                ))
                .bind(member.as_str())
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {columns} FROM points_warnings \
                     WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
                ))
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let text =
                    |name: &str| -> StoreResult<String> { row.try_get(name).map_err(db_error) };
                let days_before: i32 = row.try_get("days_before").map_err(db_error)?;
                Ok(PointsWarning {
                    seq: row.try_get("seq").map_err(db_error)?,
                    member_id: parsed(MemberId::parse(&text("member_id")?))?,
                    expires_on: date(&text("expires_on")?)?,
                    days_before: u32::try_from(days_before).unwrap_or_default(),
                    points: row.try_get("points").map_err(db_error)?,
                    day: date(&text("day")?)?,
                    recorded_at: timestamp(row.try_get("recorded_at").map_err(db_error)?)?,
                })
            })
            .collect()
    }
}
