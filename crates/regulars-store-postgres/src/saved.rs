//! Saved audiences and tags on PostgreSQL: definitions, memberships, the move log, manual tags
//! and the tag log.

use async_trait::async_trait;
use regulars_store::rows::micros;
use regulars_store::{
    AudienceMove, AudienceStore, LogFilter, Logged, SavedAudience, StoreError, StoreResult,
    TagChange,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row as _};

use crate::facts::insert_values;
use crate::{PostgresStore, db_error};

pub(crate) fn timestamp(micros: i64) -> StoreResult<jiff::Timestamp> {
    jiff::Timestamp::from_microsecond(micros).map_err(|e| StoreError::Other(e.into()))
}

/// A value a domain parser accepted, or its reason as a store error (a row that broke a rule).
pub(crate) fn parsed<T>(value: Result<T, String>) -> StoreResult<T> {
    value.map_err(|e| StoreError::Other(anyhow::anyhow!(e)))
}

pub(crate) fn date(text: &str) -> StoreResult<jiff::civil::Date> {
    text.parse()
        .map_err(|e| StoreError::Other(anyhow::anyhow!("stored day `{text}` is invalid: {e}")))
}

fn saved_audience(row: &PgRow) -> StoreResult<SavedAudience> {
    Ok(SavedAudience {
        name: row.try_get("name").map_err(db_error)?,
        rule: row.try_get("rule").map_err(db_error)?,
        tag: row.try_get("tag").map_err(db_error)?,
        description: row.try_get("description").map_err(db_error)?,
        created_at: timestamp(row.try_get("created_at").map_err(db_error)?)?,
        updated_at: timestamp(row.try_get("updated_at").map_err(db_error)?)?,
    })
}

fn audience_move(row: &PgRow) -> StoreResult<Logged<AudienceMove>> {
    Ok(Logged {
        seq: row.try_get("seq").map_err(db_error)?,
        entry: AudienceMove {
            audience: row.try_get("audience").map_err(db_error)?,
            member_id: row.try_get("member_id").map_err(db_error)?,
            entered: row.try_get("entered").map_err(db_error)?,
            day: date(row.try_get("day").map_err(db_error)?)?,
            at: timestamp(row.try_get("at").map_err(db_error)?)?,
            cause: row.try_get("cause").map_err(db_error)?,
        },
    })
}

fn tag_change(row: &PgRow) -> StoreResult<Logged<TagChange>> {
    Ok(Logged {
        seq: row.try_get("seq").map_err(db_error)?,
        entry: TagChange {
            member_id: row.try_get("member_id").map_err(db_error)?,
            tag: row.try_get("tag").map_err(db_error)?,
            added: row.try_get("added").map_err(db_error)?,
            source: row.try_get("source").map_err(db_error)?,
            day: date(row.try_get("day").map_err(db_error)?)?,
            at: timestamp(row.try_get("at").map_err(db_error)?)?,
            cause: row.try_get("cause").map_err(db_error)?,
        },
    })
}

fn pair(row: &PgRow) -> StoreResult<(String, String)> {
    Ok((
        row.try_get(0).map_err(db_error)?,
        row.try_get(1).map_err(db_error)?,
    ))
}

/// Logs moves and applies them to `audience_members`.
async fn write_moves(conn: &mut PgConnection, moves: &[AudienceMove]) -> StoreResult<()> {
    insert_values(
        conn,
        "INSERT INTO audience_moves (audience, member_id, entered, day, at, cause) ",
        6,
        moves,
        "",
        |values, m| {
            values
                .push_bind(m.audience.as_str())
                .push_bind(m.member_id.as_str())
                .push_bind(m.entered)
                .push_bind(m.day.to_string())
                .push_bind(micros(m.at))
                .push_bind(m.cause.as_str());
        },
    )
    .await?;
    let entered: Vec<&AudienceMove> = moves.iter().filter(|m| m.entered).collect();
    insert_values(
        conn,
        "INSERT INTO audience_members (audience, member_id) ",
        2,
        &entered,
        " ON CONFLICT DO NOTHING",
        |values, m| {
            values
                .push_bind(m.audience.as_str())
                .push_bind(m.member_id.as_str());
        },
    )
    .await?;
    for m in moves.iter().filter(|m| !m.entered) {
        sqlx::query("DELETE FROM audience_members WHERE audience = $1 AND member_id = $2")
            .bind(&m.audience)
            .bind(&m.member_id)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// Logs tag changes and applies the manual ones to `member_tags`.
async fn write_tag_changes(conn: &mut PgConnection, changes: &[TagChange]) -> StoreResult<()> {
    insert_values(
        conn,
        "INSERT INTO tag_changes (member_id, tag, added, source, day, at, cause) ",
        7,
        changes,
        "",
        |values, c| {
            values
                .push_bind(c.member_id.as_str())
                .push_bind(c.tag.as_str())
                .push_bind(c.added)
                .push_bind(c.source.as_str())
                .push_bind(c.day.to_string())
                .push_bind(micros(c.at))
                .push_bind(c.cause.as_str());
        },
    )
    .await?;
    for c in changes.iter().filter(|c| c.source == TagChange::MANUAL) {
        let sql = if c.added {
            "INSERT INTO member_tags (member_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM member_tags WHERE member_id = $1 AND tag = $2"
        };
        sqlx::query(sql)
            .bind(&c.member_id)
            .bind(&c.tag)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

impl PostgresStore {
    /// `select` with the filter's conditions, in log order.
    async fn read_log<T>(
        &self,
        select: &str,
        subject_column: &str,
        filter: &LogFilter,
        read: fn(&PgRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut query: QueryBuilder<'_, Postgres> = QueryBuilder::new(select);
        query
            .push(" WHERE seq > ")
            .push_bind(filter.after_seq.unwrap_or(0));
        if let Some(subject) = filter.subject.as_deref() {
            query
                .push(format!(" AND {subject_column} = "))
                .push_bind(subject);
        }
        if let Some(member_id) = filter.member_id.as_deref() {
            query.push(" AND member_id = ").push_bind(member_id);
        }
        query
            .push(" ORDER BY seq LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(read).collect()
    }

    async fn read_all<T>(
        &self,
        sql: &str,
        read: fn(&PgRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(read).collect()
    }
}

#[async_trait]
impl AudienceStore for PostgresStore {
    async fn save_audience(
        &self,
        audience: &SavedAudience,
        moves: &[AudienceMove],
        tags: &[TagChange],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(
            "INSERT INTO audiences (name, rule, tag, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name) DO UPDATE SET rule = excluded.rule, tag = excluded.tag, \
             description = excluded.description, updated_at = excluded.updated_at",
        )
        .bind(&audience.name)
        .bind(&audience.rule)
        .bind(&audience.tag)
        .bind(&audience.description)
        .bind(micros(audience.created_at))
        .bind(micros(audience.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        write_moves(&mut tx, moves).await?;
        write_tag_changes(&mut tx, tags).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn delete_audience(
        &self,
        name: &str,
        moves: &[AudienceMove],
        tags: &[TagChange],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        write_moves(&mut tx, moves).await?;
        write_tag_changes(&mut tx, tags).await?;
        let deleted = sqlx::query("DELETE FROM audiences WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db_error)
    }

    async fn list_audiences(&self) -> StoreResult<Vec<SavedAudience>> {
        self.read_all(
            "SELECT name, rule, tag, description, created_at, updated_at FROM audiences \
             ORDER BY name",
            saved_audience,
        )
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
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        write_moves(&mut tx, moves).await?;
        write_tag_changes(&mut tx, tags).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn audience_memberships(&self) -> StoreResult<Vec<(String, String)>> {
        self.read_all(
            "SELECT audience, member_id FROM audience_members ORDER BY audience, member_id",
            pair,
        )
        .await
    }

    async fn list_audience_moves(
        &self,
        filter: &LogFilter,
    ) -> StoreResult<Vec<Logged<AudienceMove>>> {
        self.read_log(
            "SELECT seq, audience, member_id, entered, day, at, cause FROM audience_moves",
            "audience",
            filter,
            audience_move,
        )
        .await
    }

    async fn record_tag_changes(&self, changes: &[TagChange]) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        write_tag_changes(&mut tx, changes).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn manual_tags(&self) -> StoreResult<Vec<(String, String)>> {
        self.read_all(
            "SELECT member_id, tag FROM member_tags ORDER BY member_id, tag",
            pair,
        )
        .await
    }

    async fn list_tag_changes(&self, filter: &LogFilter) -> StoreResult<Vec<Logged<TagChange>>> {
        self.read_log(
            "SELECT seq, member_id, tag, added, source, day, at, cause FROM tag_changes",
            "tag",
            filter,
            tag_change,
        )
        .await
    }
}
