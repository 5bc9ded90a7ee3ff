//! Storage behind two small interfaces: the durable store (diesel over
//! PostgreSQL or SQLite, one query code path) and the ephemeral store
//! (Redis or an in-process map, same semantics). Nothing here knows about
//! HTTP or protocol rules; functions take and return rows.

pub mod audit;
pub mod clients;
pub mod consents;
pub mod db;
pub mod ephemeral;
pub mod keys;
mod memory;
pub mod passkeys;
mod redis_store;
pub mod refresh;
pub mod users;

pub use db::{Db, DbConnection};
pub use ephemeral::Ephemeral;

/// Errors of the storage layer. Callers log the cause and answer with a
/// generic server error; the text is never sent to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("background task failed: {0}")]
    Task(String),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// True when the error is a unique-constraint violation: the durable
    /// guard against a replay or a duplicate.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}
