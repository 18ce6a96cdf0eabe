//! The one error type of every storage port.

/// What a storage operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique key is taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;
