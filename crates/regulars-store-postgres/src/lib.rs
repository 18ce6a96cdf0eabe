//! The PostgreSQL backend: the production store.
//!
//! Every write batch runs in one transaction that first takes a transaction-scoped advisory
//! lock, so concurrent batches (from any process) apply one after another exactly as on SQLite,
//! and a plan made from the rows a batch read is never invalidated before it commits.
//! Batches are planned by `regulars_store::plan`; this crate only moves rows.

mod coupons;
mod facts;
mod keys;
mod loyalty;
mod migrations;
mod points;
mod referrals;
mod rows;
mod saved;
mod segments;
mod tiers;

use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use regulars_store::{Backend, DatabaseUrl, Store, StoreError, StoreResult};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

/// The most parameters one statement may bind.
const MAX_VARIABLES: usize = 65_535;

/// The advisory lock key that serialises write batches.
const WRITE_LOCK: i64 = 0x5265_6775_6c61_7273; // "Regulars"

/// A store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    default_time_zone: String,
}

impl PostgresStore {
    /// Connects to the database the URL names, with at most `max_connections`. Stores that
    /// orders name before they are described get `default_time_zone`.
    pub async fn connect(
        url: &DatabaseUrl,
        max_connections: u32,
        default_time_zone: &str,
    ) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url.expose())
            .await
            .with_context(|| format!("connecting to {url}"))?;
        Ok(Self {
            pool,
            default_time_zone: default_time_zone.to_owned(),
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a write transaction holding the write lock.
    async fn begin_writes(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        Ok(tx)
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrations::migrator()
            .run(&self.pool)
            .await
            .context("migrating the PostgreSQL database")?;
        Ok(())
    }
}

/// Maps a database error: unique-key violations are conflicts, the rest is `Other`.
fn db_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.is_unique_violation()
    {
        return StoreError::Conflict(db.message().to_owned());
    }
    StoreError::Other(error.into())
}
