//! Segment memberships on PostgreSQL: the transition log, the memberships now, daily snapshots.

use async_trait::async_trait;
use jiff::civil::Date;
use regulars_store::rows::micros;
use regulars_store::{
    LoggedTransition, Membership, MigrationCell, SegmentStore, SegmentTransition, StoreError,
    StoreResult, TransitionFilter,
};
use sqlx::{Postgres, QueryBuilder, Row as _};

use crate::facts::insert_values;
use crate::saved::{date, timestamp};
use crate::{PostgresStore, db_error};

fn transition(row: &sqlx::postgres::PgRow) -> StoreResult<LoggedTransition> {
    let model: String = row.try_get("model").map_err(db_error)?;
    Ok(LoggedTransition {
        seq: row.try_get("seq").map_err(db_error)?,
        transition: SegmentTransition {
            member_id: row.try_get("member_id").map_err(db_error)?,
            model: regulars_store::model_column(&model).ok_or_else(|| {
                StoreError::Other(anyhow::anyhow!("stored model `{model}` is unknown"))
            })?,
            from: row.try_get("from_segment").map_err(db_error)?,
            to: row.try_get("to_segment").map_err(db_error)?,
            day: date(row.try_get("day").map_err(db_error)?)?,
            at: timestamp(row.try_get("at").map_err(db_error)?)?,
            cause: row.try_get("cause").map_err(db_error)?,
        },
    })
}

#[async_trait]
impl SegmentStore for PostgresStore {
    async fn record_transitions(
        &self,
        transitions: &[SegmentTransition],
        memberships: &[Membership],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        insert_values(
            &mut tx,
            "INSERT INTO segment_transitions (member_id, model, from_segment, to_segment, day, at, cause) ",
            7,
            transitions,
            "",
            |values, t| {
                values
                    .push_bind(t.member_id.as_str())
                    .push_bind(t.model)
                    .push_bind(t.from.as_str())
                    .push_bind(t.to.as_str())
                    .push_bind(t.day.to_string())
                    .push_bind(micros(t.at))
                    .push_bind(t.cause.as_str());
            },
        )
        .await?;
        insert_values(
            &mut tx,
            "INSERT INTO segment_memberships (member_id, rfm, rfm8, nesl, rfim, lifecycle) ",
            6,
            memberships,
            " ON CONFLICT (member_id) DO UPDATE SET rfm = excluded.rfm, rfm8 = excluded.rfm8, \
             nesl = excluded.nesl, rfim = excluded.rfim, lifecycle = excluded.lifecycle",
            |values, m| {
                values.push_bind(m.member_id.as_str());
                for segment in &m.segments {
                    values.push_bind(segment.as_str());
                }
            },
        )
        .await?;
        tx.commit().await.map_err(db_error)
    }

    async fn memberships(&self) -> StoreResult<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT member_id, rfm, rfm8, nesl, rfim, lifecycle FROM segment_memberships",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let get = |column: &str| row.try_get::<String, _>(column).map_err(db_error);
                Ok(Membership {
                    member_id: get("member_id")?,
                    segments: [
                        get("rfm")?,
                        get("rfm8")?,
                        get("nesl")?,
                        get("rfim")?,
                        get("lifecycle")?,
                    ],
                })
            })
            .collect()
    }

    async fn list_transitions(
        &self,
        filter: &TransitionFilter,
    ) -> StoreResult<Vec<LoggedTransition>> {
        // Only the filters given become conditions, so a member's filter can use its index.
        let mut query: QueryBuilder<'_, Postgres> = QueryBuilder::new(
            "SELECT seq, member_id, model, from_segment, to_segment, day, at, cause \
             FROM segment_transitions WHERE seq > ",
        );
        query.push_bind(filter.after_seq.unwrap_or(0));
        if let Some(model) = filter.model {
            query.push(" AND model = ").push_bind(model);
        }
        if let Some(segment) = filter.segment.as_deref() {
            query.push(" AND (from_segment = ").push_bind(segment);
            query.push(" OR to_segment = ").push_bind(segment).push(")");
        }
        if let Some(member_id) = filter.member_id.as_deref() {
            query.push(" AND member_id = ").push_bind(member_id);
        }
        if let Some(from_day) = filter.from_day {
            query.push(" AND day >= ").push_bind(from_day.to_string());
        }
        if let Some(to_day) = filter.to_day {
            query.push(" AND day <= ").push_bind(to_day.to_string());
        }
        query
            .push(" ORDER BY seq LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(transition).collect()
    }

    async fn snapshot_memberships(&self, day: Date, keep_from: Date) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("DELETE FROM segment_snapshots WHERE day = $1 OR day < $2")
            .bind(day.to_string())
            .bind(keep_from.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let copied = sqlx::query(
            "INSERT INTO segment_snapshots (day, member_id, rfm, rfm8, nesl, rfim, lifecycle) \
             SELECT $1::TEXT, member_id, rfm, rfm8, nesl, rfim, lifecycle FROM segment_memberships",
        )
        .bind(day.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        tx.commit().await.map_err(db_error)?;
        Ok(copied)
    }

    async fn snapshot_days(&self) -> StoreResult<Vec<Date>> {
        let rows = sqlx::query("SELECT DISTINCT day FROM segment_snapshots ORDER BY day")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|row| date(row.try_get("day").map_err(db_error)?))
            .collect()
    }

    async fn migration_matrix(
        &self,
        model: &'static str,
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<MigrationCell>> {
        let column = regulars_store::model_column(model)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown model `{model}`")))?;
        let rows = sqlx::query(&format!(
            "SELECT a.{column} AS from_segment, b.{column} AS to_segment, COUNT(*) AS members \
             FROM segment_snapshots a JOIN segment_snapshots b ON b.member_id = a.member_id AND b.day = $2 \
             WHERE a.day = $1 GROUP BY a.{column}, b.{column} ORDER BY a.{column}, b.{column}"
        ))
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                Ok(MigrationCell {
                    from: row.try_get("from_segment").map_err(db_error)?,
                    to: row.try_get("to_segment").map_err(db_error)?,
                    members: u64::try_from(row.try_get::<i64, _>("members").map_err(db_error)?)
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}
