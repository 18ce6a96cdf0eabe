//! The points ledger on PostgreSQL. Each operation locks its member's row first, so the lots a
//! debit plans from are the lots it writes against: concurrent debits never overspend.

use async_trait::async_trait;
use jiff::civil::Date;
use regulars_domain::{Lot, MemberId, PointsKind};
use regulars_store::rows::micros;
use regulars_store::{
    PointsEntry, PointsOutcome, PointsRequest, PointsStore, StoreError, StoreResult, entry_draws,
    same_operation,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};

use crate::saved::{date, timestamp};
use crate::{PostgresStore, db_error};

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

async fn entries_of_key(conn: &mut PgConnection, key: &str) -> StoreResult<Vec<PointsEntry>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM points_entries WHERE key = $1 ORDER BY seq");
    let rows = sqlx::query(&sql)
        .bind(key)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    rows.iter().map(entry).collect()
}

async fn lots(conn: &mut PgConnection, member_id: &str) -> StoreResult<Vec<Lot>> {
    let rows = sqlx::query(
        "SELECT c.seq, (c.points + COALESCE((SELECT SUM(d.points) FROM points_entries d \
         WHERE d.lot = c.seq), 0))::BIGINT AS remaining, c.available_on, c.expires_on \
         FROM points_entries c WHERE c.member_id = $1 AND c.points > 0 ORDER BY c.seq",
    )
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

#[async_trait]
impl PointsStore for PostgresStore {
    async fn record_points(&self, request: &PointsRequest) -> StoreResult<PointsOutcome> {
        let member = request.member_id.as_str();
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // The member's row is the lock every operation on their points takes first.
        let known = sqlx::query("SELECT 1 FROM members WHERE member_id = $1 FOR UPDATE")
            .bind(member)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if known.is_none() {
            return Err(StoreError::NotFound);
        }
        let stored =
            sqlx::query("SELECT member_id, kind, points FROM points_operations WHERE key = $1")
                .bind(&request.key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        if let Some(row) = stored {
            let stored_member: String = row.try_get("member_id").map_err(db_error)?;
            let kind: String = row.try_get("kind").map_err(db_error)?;
            let points: i64 = row.try_get("points").map_err(db_error)?;
            if !same_operation(request, &stored_member, &kind, points) {
                return Ok(PointsOutcome::KeyReused);
            }
            return Ok(PointsOutcome::Replayed(
                entries_of_key(&mut tx, &request.key).await?,
            ));
        }
        let draws = match entry_draws(request, &lots(&mut tx, member).await?) {
            Ok(draws) => draws,
            Err(available) => return Ok(PointsOutcome::Short(available)),
        };
        let at = micros(request.at);
        sqlx::query(
            "INSERT INTO points_operations (key, member_id, kind, points, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&request.key)
        .bind(member)
        .bind(request.kind.as_str())
        .bind(request.points)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let credit = request.points > 0;
        let available_on = credit.then(|| request.available_on.to_string());
        let expires_on = request.expires_on.filter(|_| credit).map(|d| d.to_string());
        for (lot, points) in &draws {
            sqlx::query(
                "INSERT INTO points_entries (member_id, key, kind, points, lot, available_on, \
                 expires_on, reason, cause, day, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(member)
            .bind(&request.key)
            .bind(request.kind.as_str())
            .bind(points)
            .bind(lot)
            .bind(&available_on)
            .bind(&expires_on)
            .bind(&request.reason)
            .bind(&request.cause)
            .bind(request.day.to_string())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        let recorded = entries_of_key(&mut tx, &request.key).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(PointsOutcome::Recorded(recorded))
    }

    async fn points_lots(&self, member_id: &MemberId) -> StoreResult<Vec<Lot>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        lots(&mut conn, member_id.as_str()).await
    }

    async fn expired_lots(&self, today: Date, limit: u32) -> StoreResult<Vec<(MemberId, Lot)>> {
        let rows = sqlx::query(
            "SELECT member_id, seq, remaining, available_on, expires_on FROM ( \
             SELECT c.member_id, c.seq, c.available_on, c.expires_on, \
             (c.points + COALESCE((SELECT SUM(d.points) FROM points_entries d \
             WHERE d.lot = c.seq), 0))::BIGINT AS remaining \
             FROM points_entries c WHERE c.points > 0 AND c.expires_on <= $1) lots \
             WHERE remaining > 0 ORDER BY seq LIMIT $2",
        )
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
}
