//! The points ledger on SQLite, with the debts reversals leave, the queue of orders to earn
//! from and the expiry warnings. Every operation runs on the one writer connection, so the lots
//! a debit plans from are the lots it writes against: concurrent debits never overspend.

use async_trait::async_trait;
use jiff::civil::Date;
use regulars_domain::{Lot, MemberId, OrderId, PointsKind};
use regulars_store::rows::{json_array, json_numbers, micros};
use regulars_store::{
    ExpiringPoints, Planned, PointsEntry, PointsHoldings, PointsOperation, PointsOutcome,
    PointsRequest, PointsStore, PointsWarning, SETTLE_REASON, StoreError, StoreResult, apply_cap,
    plan_entries, same_operation,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::connections::DbResult;
use crate::saved::{date, parsed, timestamp};

/// What a credit `c` has left: its points less every draw on it (SQL, for `concat!`).
macro_rules! lot_remaining {
    () => {
        "(c.points + COALESCE((SELECT SUM(d.points) FROM points_entries d \
         WHERE d.lot = c.seq), 0))"
    };
}
pub(crate) use lot_remaining;

const ENTRY_COLUMNS: &str = "seq, member_id, kind, points, lot, available_on, expires_on, key, \
                             reason, cause, day, at";

fn entry(row: &Row<'_>) -> DbResult<PointsEntry> {
    let member: String = row.get(1)?;
    let kind: String = row.get(2)?;
    let optional_day = |text: Option<String>| text.as_deref().map(date).transpose();
    let day: String = row.get(10)?;
    Ok(PointsEntry {
        seq: row.get(0)?,
        member_id: MemberId::parse(&member).map_err(anyhow::Error::msg)?,
        kind: PointsKind::parse(&kind).map_err(anyhow::Error::msg)?,
        points: row.get(3)?,
        lot: row.get(4)?,
        available_on: optional_day(row.get(5)?)?,
        expires_on: optional_day(row.get(6)?)?,
        key: row.get(7)?,
        reason: row.get(8)?,
        cause: row.get(9)?,
        day: date(&day)?,
        at: timestamp(row.get(11)?)?,
    })
}

fn entries(
    conn: &Connection,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
) -> DbResult<Vec<PointsEntry>> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(values)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(entry(row)?);
    }
    Ok(out)
}

/// The operations recorded under the keys of `keys` (a JSON array), in key order; with their
/// entries and what each owed or paid off.
fn operations(conn: &Connection, keys: &str) -> DbResult<Vec<PointsOperation>> {
    let mut operations: Vec<PointsOperation> = Vec::new();
    {
        let mut statement = conn.prepare_cached(
            "SELECT key, kind, points, capped FROM points_operations \
             WHERE key IN (SELECT value FROM json_each(?1))",
        )?;
        let mut rows = statement.query([keys])?;
        while let Some(row) = rows.next()? {
            let kind: String = row.get(1)?;
            operations.push(PointsOperation {
                key: row.get(0)?,
                kind: PointsKind::parse(&kind).map_err(anyhow::Error::msg)?,
                points: row.get(2)?,
                entries: Vec::new(),
                owed: 0,
                capped: row.get(3)?,
            });
        }
    }
    if operations.is_empty() {
        return Ok(operations);
    }
    operations.sort_by(|a, b| a.key.cmp(&b.key));
    let found = json_array(operations.iter().map(|op| op.key.as_str()));
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM points_entries \
         WHERE key IN (SELECT value FROM json_each(?1)) ORDER BY seq"
    );
    for entry in entries(conn, &sql, &[&found])? {
        if let Ok(at) = operations.binary_search_by(|op| op.key.cmp(&entry.key)) {
            operations[at].entries.push(entry);
        }
    }
    let mut statement = conn.prepare_cached(
        "SELECT key, SUM(points) FROM points_debts \
         WHERE key IN (SELECT value FROM json_each(?1)) GROUP BY key",
    )?;
    let mut rows = statement.query([&found])?;
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        if let Ok(at) = operations.binary_search_by(|op| op.key.cmp(&key)) {
            operations[at].owed = row.get(1)?;
        }
    }
    Ok(operations)
}

/// The operation just found or written under `key`.
fn recorded(conn: &Connection, key: &str) -> DbResult<PointsOperation> {
    operations(conn, &json_array([key]))?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("operation {key} is gone").into())
}

fn holdings(conn: &Connection, member_id: &str) -> DbResult<PointsHoldings> {
    let debt: i64 = conn
        .prepare_cached("SELECT COALESCE(SUM(points), 0) FROM points_debts WHERE member_id = ?1")?
        .query_row([member_id], |row| row.get(0))?;
    Ok(PointsHoldings {
        lots: lots(conn, member_id)?,
        debt,
    })
}

fn lots(conn: &Connection, member_id: &str) -> DbResult<Vec<Lot>> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT c.seq, ",
        lot_remaining!(),
        ", c.available_on, c.expires_on \
             FROM points_entries c WHERE c.member_id = ?1 AND c.points > 0 ORDER BY c.seq"
    ))?;
    let mut rows = statement.query([member_id])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let available_on: String = row.get(2)?;
        let expires_on: Option<String> = row.get(3)?;
        out.push(Lot {
            seq: row.get(0)?,
            remaining: row.get(1)?,
            available_on: date(&available_on)?,
            expires_on: expires_on.as_deref().map(date).transpose()?,
        });
    }
    Ok(out)
}

/// Records one operation inside the writer's transaction (its member known).
pub(crate) fn record_one(tx: &Connection, request: &PointsRequest) -> DbResult<PointsOutcome> {
    let member = request.member_id.as_str();
    let stored: Option<(String, String, i64, i64)> = tx
        .prepare_cached(
            "SELECT member_id, kind, points, capped FROM points_operations WHERE key = ?1",
        )?
        .query_row([&request.key], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .optional()?;
    if let Some((stored_member, kind, points, capped)) = stored {
        if !same_operation(request, &stored_member, &kind, points, capped) {
            return Ok(PointsOutcome::KeyReused);
        }
        return Ok(PointsOutcome::Replayed(recorded(tx, &request.key)?));
    }
    let used: i64 = match &request.cap {
        Some(cap) if request.points > 0 => tx
            .prepare_cached(
                "SELECT COALESCE(SUM(points), 0) FROM points_operations \
                 WHERE member_id = ?1 AND cap_period = ?2",
            )?
            .query_row(params![member, cap.period], |row| row.get(0))?,
        _ => 0,
    };
    let (request, capped) = apply_cap(request, used);
    let request = request.as_ref();
    let planned = match plan_entries(request, &holdings(tx, member)?) {
        Ok(planned) => planned,
        Err(available) => return Ok(PointsOutcome::Short(available)),
    };
    let at = micros(request.at);
    tx.execute(
        "INSERT INTO points_operations (key, member_id, kind, points, at, cap_period, capped) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            request.key,
            member,
            request.kind.as_str(),
            request.points,
            at,
            request.cap.as_ref().map(|cap| cap.period.as_str()),
            capped,
        ],
    )?;
    let day = request.day.to_string();
    let mut insert = tx.prepare_cached(
        "INSERT INTO points_entries (member_id, key, kind, points, lot, available_on, \
                     expires_on, reason, cause, day, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut owe = tx.prepare_cached(
        "INSERT INTO points_debts (member_id, key, points, day, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut credit = None;
    for planned in planned {
        match planned {
            Planned::Credit(points) => {
                insert.execute(params![
                    member,
                    request.key,
                    request.kind.as_str(),
                    points,
                    None::<i64>,
                    request.available_on.to_string(),
                    request.expires_on.map(|d| d.to_string()),
                    request.reason,
                    request.cause,
                    day,
                    at,
                ])?;
                credit = Some(tx.last_insert_rowid());
            }
            Planned::Draw { lot, points } => {
                insert.execute(params![
                    member,
                    request.key,
                    request.kind.as_str(),
                    points,
                    lot,
                    None::<String>,
                    None::<String>,
                    request.reason,
                    request.cause,
                    day,
                    at,
                ])?;
            }
            Planned::Settle(points) => {
                insert.execute(params![
                    member,
                    request.key,
                    PointsKind::Settle.as_str(),
                    points,
                    credit,
                    None::<String>,
                    None::<String>,
                    SETTLE_REASON,
                    request.cause,
                    day,
                    at,
                ])?;
                owe.execute(params![member, request.key, points, day, at])?;
            }
            Planned::Owe(points) => {
                owe.execute(params![member, request.key, points, day, at])?;
            }
        }
    }
    Ok(PointsOutcome::Recorded(recorded(tx, &request.key)?))
}

#[async_trait]
impl PointsStore for SqliteStore {
    async fn record_points_batch(
        &self,
        requests: &[PointsRequest],
    ) -> StoreResult<Vec<PointsOutcome>> {
        let requests = requests.to_vec();
        self.writer
            .write(move |tx| {
                let mut members: Vec<&str> =
                    requests.iter().map(|r| r.member_id.as_str()).collect();
                members.sort_unstable();
                members.dedup();
                let known: i64 = tx
                    .prepare_cached(
                        "SELECT COUNT(*) FROM members \
                         WHERE member_id IN (SELECT value FROM json_each(?1))",
                    )?
                    .query_row([json_array(members.iter().copied())], |row| row.get(0))?;
                if usize::try_from(known).ok() != Some(members.len()) {
                    return Err(StoreError::NotFound.into());
                }
                requests
                    .iter()
                    .map(|request| record_one(tx, request))
                    .collect()
            })
            .await
    }

    async fn points_holdings(&self, member_id: &MemberId) -> StoreResult<PointsHoldings> {
        let member = member_id.to_string();
        self.readers.read(move |conn| holdings(conn, &member)).await
    }

    async fn points_operations(&self, keys: &[String]) -> StoreResult<Vec<PointsOperation>> {
        let keys = json_array(keys.iter().map(String::as_str));
        self.readers
            .read(move |conn| {
                let snapshot = conn.unchecked_transaction()?;
                operations(&snapshot, &keys)
            })
            .await
    }

    async fn queued_point_orders(&self, limit: u32) -> StoreResult<Vec<(i64, OrderId)>> {
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT seq, order_id FROM points_order_queue ORDER BY seq LIMIT ?1",
                )?;
                let mut rows = statement.query([limit])?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let order: String = row.get(1)?;
                    out.push((
                        row.get(0)?,
                        OrderId::parse(&order).map_err(anyhow::Error::msg)?,
                    ));
                }
                Ok(out)
            })
            .await
    }

    async fn dequeue_point_orders(&self, seqs: &[i64]) -> StoreResult<()> {
        let seqs = json_numbers(seqs);
        self.writer
            .write(move |tx| {
                tx.execute(
                    "DELETE FROM points_order_queue WHERE seq IN (SELECT value FROM json_each(?1))",
                    [seqs],
                )?;
                Ok(())
            })
            .await
    }

    async fn expired_lots(&self, today: Date, limit: u32) -> StoreResult<Vec<(MemberId, Lot)>> {
        let today = today.to_string();
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(concat!(
                    "SELECT member_id, seq, remaining, available_on, expires_on FROM ( \
                         SELECT c.member_id, c.seq, c.available_on, c.expires_on, ",
                    lot_remaining!(),
                    " AS remaining \
                         FROM points_entries c WHERE c.points > 0 AND c.expires_on <= ?1) \
                         WHERE remaining > 0 ORDER BY seq LIMIT ?2"
                ))?;
                let mut rows = statement.query(params![today, limit])?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let member: String = row.get(0)?;
                    let available_on: String = row.get(3)?;
                    let expires_on: String = row.get(4)?;
                    out.push((
                        MemberId::parse(&member).map_err(anyhow::Error::msg)?,
                        Lot {
                            seq: row.get(1)?,
                            remaining: row.get(2)?,
                            available_on: date(&available_on)?,
                            expires_on: Some(date(&expires_on)?),
                        },
                    ));
                }
                Ok(out)
            })
            .await
    }

    async fn points_history(
        &self,
        member_id: &MemberId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<PointsEntry>> {
        let member = member_id.to_string();
        let before = before_seq.unwrap_or(i64::MAX);
        self.readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT {ENTRY_COLUMNS} FROM points_entries \
                     WHERE member_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
                );
                entries(conn, &sql, &[&member, &before, &limit])
            })
            .await
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
        let (today, through) = (today.to_string(), through.to_string());
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(concat!(
                    "SELECT member_id, expires_on, SUM(remaining) FROM ( \
                         SELECT c.member_id, c.expires_on, ",
                    lot_remaining!(),
                    " AS remaining FROM points_entries c \
                     WHERE c.points > 0 AND c.expires_on > ?1 AND c.expires_on <= ?2 \
                     AND c.expires_on >= ?3 AND (c.expires_on > ?3 OR c.member_id > ?4)) \
                     WHERE remaining > 0 GROUP BY expires_on, member_id \
                     ORDER BY expires_on, member_id LIMIT ?5"
                ))?;
                let mut rows =
                    statement.query(params![today, through, after_day, after_member, limit])?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let member: String = row.get(0)?;
                    let expires_on: String = row.get(1)?;
                    out.push(ExpiringPoints {
                        member_id: parsed(MemberId::parse(&member))?,
                        expires_on: date(&expires_on)?,
                        points: row.get(2)?,
                    });
                }
                Ok(out)
            })
            .await
    }

    async fn record_points_warnings(&self, warnings: &[PointsWarning]) -> StoreResult<u64> {
        if warnings.is_empty() {
            return Ok(0);
        }
        let warnings = warnings.to_vec();
        self.writer
            .write(move |tx| {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO points_warnings \
                     (member_id, expires_on, days_before, points, day, recorded_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (member_id, expires_on, days_before) DO NOTHING",
                )?;
                let mut recorded = 0;
                for warning in &warnings {
                    recorded += insert.execute(params![
                        warning.member_id.as_str(),
                        warning.expires_on.to_string(),
                        warning.days_before,
                        warning.points,
                        warning.day.to_string(),
                        micros(warning.recorded_at),
                    ])? as u64;
                }
                Ok(recorded)
            })
            .await
    }

    async fn points_warnings(
        &self,
        member_id: Option<&MemberId>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<PointsWarning>> {
        let member = member_id.map(ToString::to_string);
        let before = before_seq.unwrap_or(i64::MAX);
        self.readers
            .read(move |conn| {
                // Two statements, so the member's index serves the one that names a member.
                let columns = "seq, member_id, expires_on, days_before, points, day, recorded_at";
                let mut statement;
                let mut rows = match &member {
                    Some(member) => {
                        statement = conn.prepare_cached(&format!(
                            "SELECT {columns} FROM points_warnings \
                             WHERE member_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"
                        ))?;
                        statement.query(params![member, before, limit])?
                    }
                    None => {
                        statement = conn.prepare_cached(&format!(
                            "SELECT {columns} FROM points_warnings \
                             WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2"
                        ))?;
                        statement.query(params![before, limit])?
                    }
                };
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let member: String = row.get(1)?;
                    let expires_on: String = row.get(2)?;
                    let day: String = row.get(5)?;
                    out.push(PointsWarning {
                        seq: row.get(0)?,
                        member_id: parsed(MemberId::parse(&member))?,
                        expires_on: date(&expires_on)?,
                        days_before: row.get(3)?,
                        points: row.get(4)?,
                        day: date(&day)?,
                        recorded_at: timestamp(row.get(6)?)?,
                    });
                }
                Ok(out)
            })
            .await
    }
}
