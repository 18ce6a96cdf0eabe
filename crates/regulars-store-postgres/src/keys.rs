//! API keys and idempotency claims on PostgreSQL.

use async_trait::async_trait;
use jiff::Timestamp;
use regulars_store::rows::{ApiKeyRow, micros};
use regulars_store::{
    ApiKeyRecord, IdempotencyClaim, IdempotencyStore, KeyStore, StoreError, StoreResult,
};
use sqlx::Row as _;

use crate::rows::{API_KEY_COLUMNS, api_key_row};
use crate::{PostgresStore, db_error};

#[async_trait]
impl KeyStore for PostgresStore {
    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let row = ApiKeyRow::from(key);
        sqlx::query(&format!(
            "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&row.key_id)
        .bind(&row.role)
        .bind(&row.secret_sha256)
        .bind(&row.label)
        .bind(row.created_at)
        .bind(row.revoked_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn get_api_key(&self, key_id: &str) -> StoreResult<ApiKeyRecord> {
        let row = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_id = $1"
        ))
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .ok_or(StoreError::NotFound)?;
        Ok(ApiKeyRecord::try_from(
            api_key_row(&row).map_err(db_error)?,
        )?)
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| Ok(ApiKeyRecord::try_from(api_key_row(row).map_err(db_error)?)?))
            .collect()
    }
}

#[async_trait]
impl IdempotencyStore for PostgresStore {
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<IdempotencyClaim> {
        let mut tx = self.begin_writes().await?;
        let existing = sqlx::query(
            "SELECT fingerprint, status, body, created_at FROM idempotency_keys WHERE scope = $1 AND idem_key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let claim = match existing {
            None => {
                sqlx::query(
                    "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(scope)
                .bind(key)
                .bind(fingerprint)
                .bind(micros(now))
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                IdempotencyClaim::Claimed
            }
            Some(row) => {
                let stored_fingerprint: String = row.try_get(0).map_err(db_error)?;
                let status: Option<i64> = row.try_get(1).map_err(db_error)?;
                let body: Option<String> = row.try_get(2).map_err(db_error)?;
                let created_at: i64 = row.try_get(3).map_err(db_error)?;
                if stored_fingerprint != fingerprint {
                    IdempotencyClaim::Mismatch
                } else if let (Some(status), Some(body)) = (status, body) {
                    IdempotencyClaim::Replay {
                        status: u16::try_from(status).unwrap_or(500),
                        body,
                    }
                } else if created_at < micros(stale_before) {
                    sqlx::query("UPDATE idempotency_keys SET created_at = $3 WHERE scope = $1 AND idem_key = $2")
                        .bind(scope)
                        .bind(key)
                        .bind(micros(now))
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                    IdempotencyClaim::Claimed
                } else {
                    IdempotencyClaim::InFlight
                }
            }
        };
        tx.commit().await.map_err(db_error)?;
        Ok(claim)
    }

    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $3, body = $4 WHERE scope = $1 AND idem_key = $2",
        )
        .bind(scope)
        .bind(key)
        .bind(i64::from(status))
        .bind(body)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn release_idempotency_key(&self, scope: &str, key: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND status IS NULL",
        )
        .bind(scope)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn forget_idempotency_keys(&self, claimed_before: Timestamp) -> StoreResult<u64> {
        let forgotten = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(micros(claimed_before))
            .execute(&self.pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        Ok(forgotten)
    }
}
