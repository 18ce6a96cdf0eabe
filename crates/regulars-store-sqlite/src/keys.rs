//! API keys and idempotency claims on SQLite.

use async_trait::async_trait;
use jiff::Timestamp;
use regulars_store::rows::{ApiKeyRow, micros};
use regulars_store::{
    ApiKeyRecord, IdempotencyClaim, IdempotencyStore, KeyStore, StoreError, StoreResult,
};
use rusqlite::{OptionalExtension as _, params};

use crate::SqliteStore;
use crate::rows::{API_KEY_COLUMNS, api_key_row};

#[async_trait]
impl KeyStore for SqliteStore {
    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let row = ApiKeyRow::from(key);
        self.writer
            .write(move |tx| {
                tx.execute(
                    &format!(
                        "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                    ),
                    params![
                        row.key_id,
                        row.role,
                        row.secret_sha256,
                        row.label,
                        row.created_at,
                        row.revoked_at
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn get_api_key(&self, key_id: &str) -> StoreResult<ApiKeyRecord> {
        let key_id = key_id.to_owned();
        self.readers
            .read(move |conn| {
                let row = conn
                    .prepare_cached(&format!(
                        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_id = ?1"
                    ))?
                    .query_row([key_id], api_key_row)
                    .optional()?
                    .ok_or(StoreError::NotFound)?;
                Ok(ApiKeyRecord::try_from(row)?)
            })
            .await
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.readers
            .read(|conn| {
                let mut statement = conn.prepare_cached(&format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_id"
                ))?;
                let rows = statement.query_map([], api_key_row)?;
                rows.map(|row| Ok(ApiKeyRecord::try_from(row?)?)).collect()
            })
            .await
    }
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<IdempotencyClaim> {
        let (scope, key, fingerprint) = (scope.to_owned(), key.to_owned(), fingerprint.to_owned());
        self.writer
            .write(move |tx| {
                let existing = tx
                    .prepare_cached(
                        "SELECT fingerprint, status, body, created_at FROM idempotency_keys \
                         WHERE scope = ?1 AND idem_key = ?2",
                    )?
                    .query_row(params![scope, key], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Option<i64>>(1)?,
                            row.get::<_, Option<String>>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    })
                    .optional()?;
                let claim = match existing {
                    None => {
                        tx.execute(
                            "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, created_at) \
                             VALUES (?1, ?2, ?3, ?4)",
                            params![scope, key, fingerprint, micros(now)],
                        )?;
                        IdempotencyClaim::Claimed
                    }
                    Some((stored_fingerprint, _, _, _)) if stored_fingerprint != fingerprint => {
                        IdempotencyClaim::Mismatch
                    }
                    Some((_, Some(status), Some(body), _)) => IdempotencyClaim::Replay {
                        status: u16::try_from(status).unwrap_or(500),
                        body,
                    },
                    Some((_, _, _, created_at)) if created_at < micros(stale_before) => {
                        tx.execute(
                            "UPDATE idempotency_keys SET created_at = ?3 \
                             WHERE scope = ?1 AND idem_key = ?2",
                            params![scope, key, micros(now)],
                        )?;
                        IdempotencyClaim::Claimed
                    }
                    Some(_) => IdempotencyClaim::InFlight,
                };
                Ok(claim)
            })
            .await
    }

    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        let (scope, key, body) = (scope.to_owned(), key.to_owned(), body.to_owned());
        self.writer
            .write(move |tx| {
                tx.execute(
                    "UPDATE idempotency_keys SET status = ?3, body = ?4 \
                     WHERE scope = ?1 AND idem_key = ?2",
                    params![scope, key, i64::from(status), body],
                )?;
                Ok(())
            })
            .await
    }

    async fn release_idempotency_key(&self, scope: &str, key: &str) -> StoreResult<()> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.writer
            .write(move |tx| {
                tx.execute(
                    "DELETE FROM idempotency_keys \
                     WHERE scope = ?1 AND idem_key = ?2 AND status IS NULL",
                    params![scope, key],
                )?;
                Ok(())
            })
            .await
    }

    async fn forget_idempotency_keys(&self, claimed_before: Timestamp) -> StoreResult<u64> {
        self.writer
            .write(move |tx| {
                let forgotten = tx.execute(
                    "DELETE FROM idempotency_keys WHERE created_at < ?1",
                    [micros(claimed_before)],
                )?;
                Ok(forgotten as u64)
            })
            .await
    }
}
