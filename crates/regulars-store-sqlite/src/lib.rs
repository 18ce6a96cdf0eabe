//! The SQLite backend: one file in WAL mode, the embedded default.
//!
//! Every write is a job on one writer thread, each in one `BEGIN IMMEDIATE` transaction; reads
//! use a few reader connections on tokio's blocking threads (see `connections`). Batches are
//! planned by `regulars_store::plan`; this crate only moves rows. The migrations run through
//! sqlx, whose migrator keeps the record of which ran.

mod connections;
mod coupons;
mod facts;
mod insert;
mod keys;
mod loyalty;
mod migrations;
mod points;
mod referrals;
mod rows;
mod saved;
mod scan;
mod segments;
mod tiers;

use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use regulars_store::{Backend, DatabaseUrl, Store, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::connections::{Readers, Writer};

/// A store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
    /// The file, for migrations and the full scans.
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
        let opened = path.clone();
        let writer = tokio::task::spawn_blocking(move || Writer::open(&opened))
            .await
            .context("opening the database stopped")?
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Self {
            writer,
            readers: Readers::new(&path),
            path,
            default_time_zone: default_time_zone.to_owned(),
        })
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.readers.close();
        self.writer.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    /// Runs on a connection of its own, opened for the purpose: the writer thread's connection
    /// is rusqlite's, and the migrator wants sqlx's.
    async fn migrate(&self) -> StoreResult<()> {
        let options = SqliteConnectOptions::new()
            .filename(&self.path)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("opening {} to migrate it", self.path.display()))?;
        let migrated = migrations::migrator().run(&pool).await;
        pool.close().await;
        migrated.context("migrating the SQLite database")?;
        Ok(())
    }
}
