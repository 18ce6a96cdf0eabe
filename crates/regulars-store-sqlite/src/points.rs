//! The points ledger on SQLite. Every operation runs on the one writer connection, so the lots a
//! debit plans from are the lots it writes against: concurrent debits never overspend.

use async_trait::async_trait;
use jiff::civil::Date;
use regulars_domain::{Lot, MemberId, PointsKind};
use regulars_store::rows::micros;
use regulars_store::{
    PointsEntry, PointsOutcome, PointsRequest, PointsStore, StoreError, StoreResult, entry_draws,
    same_operation,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::connections::DbResult;
use crate::saved::{date, timestamp};

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

fn lots(conn: &Connection, member_id: &str) -> DbResult<Vec<Lot>> {
    let mut statement = conn.prepare_cached(
        "SELECT c.seq, c.points + COALESCE((SELECT SUM(d.points) FROM points_entries d \
         WHERE d.lot = c.seq), 0), c.available_on, c.expires_on \
         FROM points_entries c WHERE c.member_id = ?1 AND c.points > 0 ORDER BY c.seq",
    )?;
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

#[async_trait]
impl PointsStore for SqliteStore {
    async fn record_points(&self, request: &PointsRequest) -> StoreResult<PointsOutcome> {
        let request = request.clone();
        self.writer
            .write(move |tx| {
                let member = request.member_id.as_str();
                let known: Option<i64> = tx
                    .query_row(
                        "SELECT 1 FROM members WHERE member_id = ?1",
                        [member],
                        |row| row.get(0),
                    )
                    .optional()?;
                if known.is_none() {
                    return Err(StoreError::NotFound.into());
                }
                let stored: Option<(String, String, i64)> = tx
                    .query_row(
                        "SELECT member_id, kind, points FROM points_operations WHERE key = ?1",
                        [&request.key],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .optional()?;
                if let Some((stored_member, kind, points)) = stored {
                    if !same_operation(&request, &stored_member, &kind, points) {
                        return Ok(PointsOutcome::KeyReused);
                    }
                    let sql = format!(
                        "SELECT {ENTRY_COLUMNS} FROM points_entries WHERE key = ?1 ORDER BY seq"
                    );
                    return Ok(PointsOutcome::Replayed(entries(tx, &sql, &[&request.key])?));
                }
                let draws = match entry_draws(&request, &lots(tx, member)?) {
                    Ok(draws) => draws,
                    Err(available) => return Ok(PointsOutcome::Short(available)),
                };
                let at = micros(request.at);
                tx.execute(
                    "INSERT INTO points_operations (key, member_id, kind, points, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        request.key,
                        member,
                        request.kind.as_str(),
                        request.points,
                        at
                    ],
                )?;
                let credit = request.points > 0;
                let available_on = credit.then(|| request.available_on.to_string());
                let expires_on = request.expires_on.filter(|_| credit).map(|d| d.to_string());
                let mut insert = tx.prepare_cached(
                    "INSERT INTO points_entries (member_id, key, kind, points, lot, available_on, \
                     expires_on, reason, cause, day, at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?;
                for (lot, points) in &draws {
                    insert.execute(params![
                        member,
                        request.key,
                        request.kind.as_str(),
                        points,
                        lot,
                        available_on,
                        expires_on,
                        request.reason,
                        request.cause,
                        request.day.to_string(),
                        at,
                    ])?;
                }
                let sql = format!(
                    "SELECT {ENTRY_COLUMNS} FROM points_entries WHERE key = ?1 ORDER BY seq"
                );
                Ok(PointsOutcome::Recorded(entries(tx, &sql, &[&request.key])?))
            })
            .await
    }

    async fn points_lots(&self, member_id: &MemberId) -> StoreResult<Vec<Lot>> {
        let member = member_id.to_string();
        self.readers.read(move |conn| lots(conn, &member)).await
    }

    async fn expired_lots(&self, today: Date, limit: u32) -> StoreResult<Vec<(MemberId, Lot)>> {
        let today = today.to_string();
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT member_id, seq, remaining, available_on, expires_on FROM ( \
                     SELECT c.member_id, c.seq, c.available_on, c.expires_on, \
                     c.points + COALESCE((SELECT SUM(d.points) FROM points_entries d \
                     WHERE d.lot = c.seq), 0) AS remaining \
                     FROM points_entries c WHERE c.points > 0 AND c.expires_on <= ?1) \
                     WHERE remaining > 0 ORDER BY seq LIMIT ?2",
                )?;
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
}
