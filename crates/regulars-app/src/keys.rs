//! API keys: made with a random secret shown once, kept as a SHA-256, checked in constant time;
//! and the idempotency claims of writes.

use regulars_domain::ApiRole;
use regulars_store::{ApiKeyRecord, IdempotencyClaim, StoreError};
use sha2::{Digest as _, Sha256};

use crate::{App, AppResult};

/// Every token starts with this, so leaked tokens are easy to find.
pub const KEY_PREFIX: &str = "rg_";

/// How long an idempotency claim that never completed blocks its key.
const STALE_CLAIM: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's public id.
    pub key_id: String,
    /// Its role.
    pub role: ApiRole,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is not one of ours.
    #[error("the API key is not valid")]
    Invalid,
    /// The key was revoked.
    #[error("the API key was revoked")]
    Revoked,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn random_hex(n_bytes: usize) -> anyhow::Result<String> {
    let mut bytes = vec![0u8; n_bytes];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(hex(&bytes))
}

/// Compares without stopping at the first difference, so timing says nothing of the secret.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl App {
    /// Makes an API key; returns the token (shown once) and the stored record.
    pub async fn create_api_key(
        &self,
        role: ApiRole,
        label: Option<String>,
    ) -> AppResult<(String, ApiKeyRecord)> {
        let key_id = random_hex(6).map_err(StoreError::Other)?;
        let secret = random_hex(20).map_err(StoreError::Other)?;
        let record = ApiKeyRecord {
            key_id: key_id.clone(),
            role,
            secret_sha256: sha256_hex(&secret),
            label,
            created_at: self.now(),
            revoked_at: None,
        };
        self.store.create_api_key(&record).await?;
        Ok((format!("{KEY_PREFIX}{key_id}_{secret}"), record))
    }

    /// Every API key (without secrets).
    pub async fn api_keys(&self) -> AppResult<Vec<ApiKeyRecord>> {
        Ok(self.store.list_api_keys().await?)
    }

    /// Checks a bearer token.
    pub async fn authenticate(&self, token: &str) -> Result<ApiKey, AuthError> {
        let rest = token
            .trim()
            .strip_prefix(KEY_PREFIX)
            .ok_or(AuthError::Invalid)?;
        let (key_id, secret) = rest.split_once('_').ok_or(AuthError::Invalid)?;
        let record = match self.store.get_api_key(key_id).await {
            Ok(record) => record,
            Err(StoreError::NotFound) => return Err(AuthError::Invalid),
            Err(other) => return Err(other.into()),
        };
        if !constant_time_eq(&record.secret_sha256, &sha256_hex(secret)) {
            return Err(AuthError::Invalid);
        }
        if record.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        Ok(ApiKey {
            key_id: record.key_id,
            role: record.role,
        })
    }

    /// Claims an idempotency key for a request with this fingerprint (see
    /// [`regulars_store::IdempotencyStore::claim_idempotency_key`]).
    pub async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        request: &[u8],
    ) -> AppResult<IdempotencyClaim> {
        let now = self.now();
        let fingerprint = hex(&Sha256::digest(request));
        Ok(self
            .store
            .claim_idempotency_key(scope, key, &fingerprint, now, now - STALE_CLAIM)
            .await?)
    }

    /// Stores the response of a claimed idempotency key.
    pub async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> AppResult<()> {
        Ok(self
            .store
            .complete_idempotency_key(scope, key, status, body)
            .await?)
    }

    /// Gives a claimed idempotency key back.
    pub async fn release_idempotency_key(&self, scope: &str, key: &str) -> AppResult<()> {
        Ok(self.store.release_idempotency_key(scope, key).await?)
    }

    /// Forgets the idempotency keys claimed more than `keep` ago, with their stored answers;
    /// returns how many.
    pub async fn forget_idempotency_keys(&self, keep: jiff::SignedDuration) -> AppResult<u64> {
        Ok(self
            .store
            .forget_idempotency_keys(self.now() - keep)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison_still_compares() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }

    #[test]
    fn hashes_are_lower_hex_sha256() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
