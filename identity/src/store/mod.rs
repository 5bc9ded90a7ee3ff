//! Storage behind two small interfaces: the durable store (diesel over
//! PostgreSQL or SQLite, one query code path) and the ephemeral store
//! (Redis or an in-process map, same semantics). Nothing here knows about
//! HTTP or protocol rules; functions take and return rows.

pub mod audit;
pub mod clients;
pub mod consents;
pub mod db;
pub mod ephemeral;
pub mod key_space;
pub mod keys;
mod memory;
pub mod outage;
pub mod passkeys;
mod redis_store;
pub mod refresh;
pub mod resources;
pub mod users;

pub use db::{Db, DbConnection};

/// The default capacity of the in-process store.
pub fn memory_default_max_entries() -> usize {
    memory::DEFAULT_MAX_ENTRIES
}
pub use ephemeral::{Ephemeral, Key};

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
    /// A call to the store took longer than its bound.
    #[error("the {0} store did not answer in time")]
    Timeout(outage::StoreName),
    /// The in-process store is full of state it may not evict.
    #[error("the in-process store is full")]
    Full,
    /// The store failed moments ago; the call was not tried (see [`outage`]).
    #[error("the {0} store is unavailable")]
    Unavailable(outage::StoreName),
}

impl StoreError {
    /// True when the store could not be reached (down, refusing connections,
    /// dropped the connection, or too slow), as opposed to refusing this one
    /// query. These errors become 503 `temporarily_unavailable`, never 500.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable_store().is_some()
    }

    /// The store that could not be reached, when that is the error.
    pub fn unavailable_store(&self) -> Option<outage::StoreName> {
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        use outage::StoreName;
        match self {
            StoreError::Timeout(store) | StoreError::Unavailable(store) => Some(*store),
            StoreError::Full => Some(StoreName::Ephemeral),
            StoreError::Connect(_) | StoreError::Pool(_) => Some(StoreName::Database),
            StoreError::Database(Diesel::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )) => Some(StoreName::Database),
            StoreError::Redis(e)
                if e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal() =>
            {
                Some(StoreName::Ephemeral)
            }
            _ => None,
        }
    }

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
