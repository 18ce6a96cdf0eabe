//! Stored API keys and idempotency claims.

use jiff::Timestamp;
use regulars_domain::ApiRole;

/// An API key as stored: never the secret, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public part of the key, also its id.
    pub key_id: String,
    /// Its role.
    pub role: ApiRole,
    /// Hex SHA-256 of the secret part.
    pub secret_sha256: String,
    /// What it is for.
    pub label: Option<String>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// The answer to claiming an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is ours: run the request, then complete or release it.
    Claimed,
    /// The request ran before: answer this again.
    Replay {
        /// HTTP status.
        status: u16,
        /// Response body.
        body: String,
    },
    /// The same key is being used by a request that has not finished.
    InFlight,
    /// The key was used by a different request.
    Mismatch,
}
