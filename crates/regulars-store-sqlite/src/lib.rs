//! The SQLite backend: one file in WAL mode, the embedded default.
//!
//! Writes go through a pool of one connection, each batch in one `BEGIN IMMEDIATE` transaction,
//! so writers in this process queue instead of failing and writers in other processes wait on
//! the busy timeout. Reads use a separate pool. Batches are planned by `regulars_store::plan`;
//! this crate only moves rows. The full scan of facts at startup reads the file with rusqlite
//! instead (see `scan`).

mod facts;
mod keys;
mod migrations;
mod rows;
mod scan;
mod segments;

use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use regulars_store::{Backend, DatabaseUrl, Store, StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The most variables one statement may bind (SQLite's default limit).
const MAX_VARIABLES: usize = 32_766;

/// A store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    /// The file, for the full scan (see `scan`).
    path: std::path::PathBuf,
    default_time_zone: String,
}

impl SqliteStore {
    /// Opens (creating if needed) the file the URL names. Stores that orders name before they are
    /// described get `default_time_zone`.
    pub async fn connect(url: &DatabaseUrl, default_time_zone: &str) -> anyhow::Result<Self> {
        let path = url.sqlite_path().context("not a SQLite URL")?;
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the data directory {}", parent.display()))?;
        }
        let options = SqliteConnectOptions::from_str(url.expose())
            .with_context(|| format!("reading the database URL {url}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Self {
            write,
            read,
            path,
            default_time_zone: default_time_zone.to_owned(),
        })
    }

    /// Closes both pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrations::migrator()
            .run(&self.write)
            .await
            .context("migrating the SQLite database")?;
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
