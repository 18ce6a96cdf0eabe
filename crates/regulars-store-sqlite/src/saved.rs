//! Saved audiences and tags on SQLite: definitions, memberships, the move log, manual tags and
//! the tag log.

use async_trait::async_trait;
use regulars_store::rows::micros;
use regulars_store::{
    AudienceMove, AudienceStore, LogFilter, Logged, SavedAudience, StoreError, StoreResult,
    TagChange,
};
use rusqlite::types::Value;
use rusqlite::{Row, Transaction, params, params_from_iter};

use crate::SqliteStore;
use crate::connections::DbResult;
use crate::insert::insert_rows;

pub(crate) fn timestamp(micros: i64) -> DbResult<jiff::Timestamp> {
    Ok(jiff::Timestamp::from_microsecond(micros).map_err(anyhow::Error::from)?)
}

/// A value a domain parser accepted, or its reason as a store error (a row that broke a rule).
pub(crate) fn parsed<T>(value: Result<T, String>) -> DbResult<T> {
    Ok(value.map_err(anyhow::Error::msg)?)
}

pub(crate) fn date(text: &str) -> DbResult<jiff::civil::Date> {
    Ok(text
        .parse()
        .map_err(|e| anyhow::anyhow!("stored day `{text}` is invalid: {e}"))?)
}

fn saved_audience(row: &Row<'_>) -> DbResult<SavedAudience> {
    Ok(SavedAudience {
        name: row.get(0)?,
        rule: row.get(1)?,
        tag: row.get(2)?,
        description: row.get(3)?,
        created_at: timestamp(row.get(4)?)?,
        updated_at: timestamp(row.get(5)?)?,
    })
}

fn audience_move(row: &Row<'_>) -> DbResult<Logged<AudienceMove>> {
    let day: String = row.get(4)?;
    Ok(Logged {
        seq: row.get(0)?,
        entry: AudienceMove {
            audience: row.get(1)?,
            member_id: row.get(2)?,
            entered: row.get(3)?,
            day: date(&day)?,
            at: timestamp(row.get(5)?)?,
            cause: row.get(6)?,
        },
    })
}

fn tag_change(row: &Row<'_>) -> DbResult<Logged<TagChange>> {
    let day: String = row.get(5)?;
    Ok(Logged {
        seq: row.get(0)?,
        entry: TagChange {
            member_id: row.get(1)?,
            tag: row.get(2)?,
            added: row.get(3)?,
            source: row.get(4)?,
            day: date(&day)?,
            at: timestamp(row.get(6)?)?,
            cause: row.get(7)?,
        },
    })
}

/// Logs moves and applies them to `audience_members`.
fn write_moves(tx: &Transaction<'_>, moves: &[AudienceMove]) -> DbResult<()> {
    let into = "audience_moves (audience, member_id, entered, day, at, cause)";
    insert_rows(tx, into, 6, "", moves, |statement, at, m| {
        statement.raw_bind_parameter(at + 1, &m.audience)?;
        statement.raw_bind_parameter(at + 2, &m.member_id)?;
        statement.raw_bind_parameter(at + 3, m.entered)?;
        statement.raw_bind_parameter(at + 4, m.day.to_string())?;
        statement.raw_bind_parameter(at + 5, micros(m.at))?;
        statement.raw_bind_parameter(at + 6, &m.cause)
    })?;
    let entered: Vec<&AudienceMove> = moves.iter().filter(|m| m.entered).collect();
    insert_rows(
        tx,
        "audience_members (audience, member_id)",
        2,
        "ON CONFLICT DO NOTHING",
        &entered,
        |statement, at, m| {
            statement.raw_bind_parameter(at + 1, &m.audience)?;
            statement.raw_bind_parameter(at + 2, &m.member_id)
        },
    )?;
    let mut leave =
        tx.prepare_cached("DELETE FROM audience_members WHERE audience = ?1 AND member_id = ?2")?;
    for m in moves.iter().filter(|m| !m.entered) {
        leave.execute(params![m.audience, m.member_id])?;
    }
    Ok(())
}

/// Logs tag changes and applies the manual ones to `member_tags`.
fn write_tag_changes(tx: &Transaction<'_>, changes: &[TagChange]) -> DbResult<()> {
    let into = "tag_changes (member_id, tag, added, source, day, at, cause)";
    insert_rows(tx, into, 7, "", changes, |statement, at, c| {
        statement.raw_bind_parameter(at + 1, &c.member_id)?;
        statement.raw_bind_parameter(at + 2, &c.tag)?;
        statement.raw_bind_parameter(at + 3, c.added)?;
        statement.raw_bind_parameter(at + 4, &c.source)?;
        statement.raw_bind_parameter(at + 5, c.day.to_string())?;
        statement.raw_bind_parameter(at + 6, micros(c.at))?;
        statement.raw_bind_parameter(at + 7, &c.cause)
    })?;
    let mut add = tx.prepare_cached(
        "INSERT INTO member_tags (member_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    let mut remove =
        tx.prepare_cached("DELETE FROM member_tags WHERE member_id = ?1 AND tag = ?2")?;
    for c in changes.iter().filter(|c| c.source == TagChange::MANUAL) {
        if c.added {
            add.execute(params![c.member_id, c.tag])?;
        } else {
            remove.execute(params![c.member_id, c.tag])?;
        }
    }
    Ok(())
}

/// `SELECT … WHERE seq > ?` with the filter's conditions, in log order.
fn log_query(select: &str, subject_column: &str, filter: &LogFilter) -> (String, Vec<Value>) {
    let mut sql = format!("{select} WHERE seq > ?");
    let mut values = vec![Value::Integer(filter.after_seq.unwrap_or(0))];
    if let Some(subject) = &filter.subject {
        sql.push_str(&format!(" AND {subject_column} = ?"));
        values.push(Value::Text(subject.clone()));
    }
    if let Some(member_id) = &filter.member_id {
        sql.push_str(" AND member_id = ?");
        values.push(Value::Text(member_id.clone()));
    }
    sql.push_str(" ORDER BY seq LIMIT ?");
    values.push(Value::Integer(i64::from(filter.limit)));
    (sql, values)
}

impl SqliteStore {
    /// Runs `sql` with `values`, reading every row with `read`.
    pub(crate) async fn read_all<T: Send + 'static>(
        &self,
        sql: String,
        values: Vec<Value>,
        read: fn(&Row<'_>) -> DbResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.readers
            .read(move |conn| {
                let mut statement = conn.prepare_cached(&sql)?;
                let mut rows = statement.query(params_from_iter(values))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(read(row)?);
                }
                Ok(out)
            })
            .await
    }
}

fn pair(row: &Row<'_>) -> DbResult<(String, String)> {
    Ok((row.get(0)?, row.get(1)?))
}

#[async_trait]
impl AudienceStore for SqliteStore {
    async fn save_audience(
        &self,
        audience: &SavedAudience,
        moves: &[AudienceMove],
        tags: &[TagChange],
    ) -> StoreResult<()> {
        let audience = audience.clone();
        let moves = moves.to_vec();
        let tags = tags.to_vec();
        self.writer
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO audiences (name, rule, tag, description, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (name) DO UPDATE SET rule = excluded.rule, tag = excluded.tag, \
                     description = excluded.description, updated_at = excluded.updated_at",
                    params![
                        audience.name,
                        audience.rule,
                        audience.tag,
                        audience.description,
                        micros(audience.created_at),
                        micros(audience.updated_at)
                    ],
                )?;
                write_moves(tx, &moves)?;
                write_tag_changes(tx, &tags)
            })
            .await
    }

    async fn delete_audience(
        &self,
        name: &str,
        moves: &[AudienceMove],
        tags: &[TagChange],
    ) -> StoreResult<()> {
        let name = name.to_owned();
        let moves = moves.to_vec();
        let tags = tags.to_vec();
        self.writer
            .write(move |tx| {
                write_moves(tx, &moves)?;
                write_tag_changes(tx, &tags)?;
                if tx.execute("DELETE FROM audiences WHERE name = ?1", [&name])? == 0 {
                    return Err(StoreError::NotFound.into());
                }
                Ok(())
            })
            .await
    }

    async fn list_audiences(&self) -> StoreResult<Vec<SavedAudience>> {
        let sql = "SELECT name, rule, tag, description, created_at, updated_at FROM audiences \
                   ORDER BY name";
        self.read_all(sql.to_owned(), Vec::new(), saved_audience)
            .await
    }

    async fn record_audience_moves(
        &self,
        moves: &[AudienceMove],
        tags: &[TagChange],
    ) -> StoreResult<()> {
        if moves.is_empty() && tags.is_empty() {
            return Ok(());
        }
        let moves = moves.to_vec();
        let tags = tags.to_vec();
        self.writer
            .write(move |tx| {
                write_moves(tx, &moves)?;
                write_tag_changes(tx, &tags)
            })
            .await
    }

    async fn audience_memberships(&self) -> StoreResult<Vec<(String, String)>> {
        let sql = "SELECT audience, member_id FROM audience_members ORDER BY audience, member_id";
        self.read_all(sql.to_owned(), Vec::new(), pair).await
    }

    async fn list_audience_moves(
        &self,
        filter: &LogFilter,
    ) -> StoreResult<Vec<Logged<AudienceMove>>> {
        let (sql, values) = log_query(
            "SELECT seq, audience, member_id, entered, day, at, cause FROM audience_moves",
            "audience",
            filter,
        );
        self.read_all(sql, values, audience_move).await
    }

    async fn record_tag_changes(&self, changes: &[TagChange]) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let changes = changes.to_vec();
        self.writer
            .write(move |tx| write_tag_changes(tx, &changes))
            .await
    }

    async fn manual_tags(&self) -> StoreResult<Vec<(String, String)>> {
        let sql = "SELECT member_id, tag FROM member_tags ORDER BY member_id, tag";
        self.read_all(sql.to_owned(), Vec::new(), pair).await
    }

    async fn list_tag_changes(&self, filter: &LogFilter) -> StoreResult<Vec<Logged<TagChange>>> {
        let (sql, values) = log_query(
            "SELECT seq, member_id, tag, added, source, day, at, cause FROM tag_changes",
            "tag",
            filter,
        );
        self.read_all(sql, values, tag_change).await
    }
}
