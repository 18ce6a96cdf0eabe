//! Segment memberships on SQLite: the transition log, the memberships now, daily snapshots.

use async_trait::async_trait;
use jiff::civil::Date;
use regulars_store::rows::micros;
use regulars_store::{
    LoggedTransition, Membership, MigrationCell, SegmentStore, SegmentTransition, StoreError,
    StoreResult, TransitionFilter,
};
use rusqlite::types::Value;
use rusqlite::{Row, params};

use crate::SqliteStore;
use crate::connections::DbResult;
use crate::insert::insert_rows;
use crate::saved::{date, timestamp};

/// The columns `list_transitions` selects, as a logged transition.
fn transition(row: &Row<'_>) -> DbResult<LoggedTransition> {
    let model: String = row.get(2)?;
    let day: String = row.get(5)?;
    Ok(LoggedTransition {
        seq: row.get(0)?,
        transition: SegmentTransition {
            member_id: row.get(1)?,
            model: regulars_store::model_column(&model)
                .ok_or_else(|| anyhow::anyhow!("stored model `{model}` is unknown"))?,
            from: row.get(3)?,
            to: row.get(4)?,
            day: date(&day)?,
            at: timestamp(row.get(6)?)?,
            cause: row.get(7)?,
        },
    })
}

#[async_trait]
impl SegmentStore for SqliteStore {
    async fn record_transitions(
        &self,
        transitions: &[SegmentTransition],
        memberships: &[Membership],
    ) -> StoreResult<()> {
        let transitions = transitions.to_vec();
        let memberships = memberships.to_vec();
        self.writer
            .write(move |tx| {
                let into = "segment_transitions \
                            (member_id, model, from_segment, to_segment, day, at, cause)";
                insert_rows(tx, into, 7, "", &transitions, |statement, at, t| {
                    statement.raw_bind_parameter(at + 1, &t.member_id)?;
                    statement.raw_bind_parameter(at + 2, t.model)?;
                    statement.raw_bind_parameter(at + 3, &t.from)?;
                    statement.raw_bind_parameter(at + 4, &t.to)?;
                    statement.raw_bind_parameter(at + 5, t.day.to_string())?;
                    statement.raw_bind_parameter(at + 6, micros(t.at))?;
                    statement.raw_bind_parameter(at + 7, &t.cause)
                })?;
                let into = "segment_memberships (member_id, rfm, rfm8, nesl, rfim, lifecycle)";
                let tail = "ON CONFLICT (member_id) DO UPDATE SET rfm = excluded.rfm, \
                            rfm8 = excluded.rfm8, nesl = excluded.nesl, rfim = excluded.rfim, \
                            lifecycle = excluded.lifecycle";
                insert_rows(tx, into, 6, tail, &memberships, |statement, at, m| {
                    statement.raw_bind_parameter(at + 1, &m.member_id)?;
                    for (column, segment) in m.segments.iter().enumerate() {
                        statement.raw_bind_parameter(at + 2 + column, segment)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })
            .await
    }

    async fn memberships(&self) -> StoreResult<Vec<Membership>> {
        crate::scan::read_memberships(&self.path).await
    }

    async fn list_transitions(
        &self,
        filter: &TransitionFilter,
    ) -> StoreResult<Vec<LoggedTransition>> {
        // Only the filters given become conditions, so a member's filter can use its index.
        let mut sql = String::from(
            "SELECT seq, member_id, model, from_segment, to_segment, day, at, cause \
             FROM segment_transitions WHERE seq > ?",
        );
        let mut values = vec![Value::Integer(filter.after_seq.unwrap_or(0))];
        if let Some(model) = filter.model {
            sql.push_str(" AND model = ?");
            values.push(Value::Text(model.to_owned()));
        }
        if let Some(segment) = &filter.segment {
            sql.push_str(" AND (from_segment = ? OR to_segment = ?)");
            values.push(Value::Text(segment.clone()));
            values.push(Value::Text(segment.clone()));
        }
        if let Some(member_id) = &filter.member_id {
            sql.push_str(" AND member_id = ?");
            values.push(Value::Text(member_id.clone()));
        }
        if let Some(from_day) = filter.from_day {
            sql.push_str(" AND day >= ?");
            values.push(Value::Text(from_day.to_string()));
        }
        if let Some(to_day) = filter.to_day {
            sql.push_str(" AND day <= ?");
            values.push(Value::Text(to_day.to_string()));
        }
        sql.push_str(" ORDER BY seq LIMIT ?");
        values.push(Value::Integer(i64::from(filter.limit)));
        self.read_all(sql, values, transition).await
    }

    async fn snapshot_memberships(&self, day: Date, keep_from: Date) -> StoreResult<u64> {
        self.writer
            .write(move |tx| {
                tx.execute(
                    "DELETE FROM segment_snapshots WHERE day = ?1 OR day < ?2",
                    params![day.to_string(), keep_from.to_string()],
                )?;
                let copied = tx.execute(
                    "INSERT INTO segment_snapshots (day, member_id, rfm, rfm8, nesl, rfim, lifecycle) \
                     SELECT ?1, member_id, rfm, rfm8, nesl, rfim, lifecycle FROM segment_memberships",
                    [day.to_string()],
                )?;
                Ok(copied as u64)
            })
            .await
    }

    async fn snapshot_days(&self) -> StoreResult<Vec<Date>> {
        self.readers
            .read(|conn| {
                let mut statement =
                    conn.prepare_cached("SELECT DISTINCT day FROM segment_snapshots ORDER BY day")?;
                let days = statement.query_map([], |row| row.get::<_, String>(0))?;
                days.map(|day| date(&day?)).collect()
            })
            .await
    }

    async fn migration_matrix(
        &self,
        model: &'static str,
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<MigrationCell>> {
        let column = regulars_store::model_column(model)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown model `{model}`")))?;
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(&format!(
                    "SELECT a.{column}, b.{column}, COUNT(*) \
                     FROM segment_snapshots a JOIN segment_snapshots b ON b.member_id = a.member_id AND b.day = ?2 \
                     WHERE a.day = ?1 GROUP BY a.{column}, b.{column} ORDER BY a.{column}, b.{column}"
                ))?;
                let cells = statement.query_map(params![from.to_string(), to.to_string()], |row| {
                    Ok(MigrationCell {
                        from: row.get(0)?,
                        to: row.get(1)?,
                        members: u64::try_from(row.get::<_, i64>(2)?).unwrap_or_default(),
                    })
                })?;
                Ok(cells.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }
}
