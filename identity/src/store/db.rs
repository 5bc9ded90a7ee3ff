//! The durable store: one `MultiConnection` over PostgreSQL and SQLite in an
//! r2d2 pool. Diesel is synchronous, so every query runs on tokio's blocking
//! pool through [`Db::run`], off the async workers.

use super::outage::{Breaker, StoreName};
use super::StoreError;
use crate::config::DatabaseKind;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::MigrationHarness;
use std::sync::Arc;
use std::time::Duration;

/// The longest a call waits for a pooled connection. Bounded so that a
/// request during a database outage answers 503 within 2 s; after one such
/// wait the breaker makes the following calls fail at once.
const POOL_WAIT: Duration = Duration::from_millis(1000);

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Establishes connections for the pool. The backend is chosen from the URL
/// scheme and that backend's own `establish` is called, so an unreachable
/// PostgreSQL reports its real error.
#[derive(Debug, Clone)]
pub struct ConnectionFactory {
    kind: DatabaseKind,
}

impl r2d2::ManageConnection for ConnectionFactory {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        match &self.kind {
            DatabaseKind::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Pg)
                .map_err(|e| StoreError::Connect(e.to_string())),
            DatabaseKind::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(|e| StoreError::Connect(e.to_string()))?;
                // WAL lets readers proceed during a write; busy_timeout makes
                // concurrent writers wait instead of failing.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                )?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// r2d2 logs every failed connection attempt as an error, several a second
/// during an outage; the outage is reported once per request (503) and by
/// `/readyz` instead, so attempts are logged at debug level.
#[derive(Debug)]
struct QuietPoolErrors;

impl r2d2::HandleError<StoreError> for QuietPoolErrors {
    fn handle_error(&self, error: StoreError) {
        tracing::debug!(%error, "database connection attempt failed");
    }
}

/// `BEGIN IMMEDIATE` ... `COMMIT` on SQLite (diesel's own
/// `immediate_transaction` needs the backend's connection type, and our
/// closures are written against the multi-backend one). The closures run
/// plain statements only, never a nested `transaction`. If `f` fails, or
/// panics, the transaction is rolled back before the connection goes back
/// to the pool.
fn immediate_transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    struct Open<'a>(Option<&'a mut DbConnection>);
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            if let Some(conn) = self.0.take() {
                if let Err(e) = conn.batch_execute("ROLLBACK") {
                    tracing::warn!(error = %e, "rollback failed");
                }
            }
        }
    }
    conn.batch_execute("BEGIN IMMEDIATE")?;
    let mut open = Open(Some(conn));
    let conn = open.0.as_deref_mut().expect("open transaction");
    let value = f(conn)?;
    conn.batch_execute("COMMIT")?;
    open.0 = None;
    Ok(value)
}

/// A pooled handle to the durable store; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnectionFactory>,
    kind: DatabaseKind,
    breaker: Arc<Breaker>,
}

impl Db {
    /// Opens the pool and checks one connection, so a wrong URL fails at
    /// start with the database's own message.
    pub fn open(kind: DatabaseKind, pool_size: u32) -> Result<Db, StoreError> {
        if let DatabaseKind::Sqlite(path) = &kind {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Connect(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
        }
        let factory = ConnectionFactory { kind: kind.clone() };
        // Fail fast with the real error instead of r2d2's generic timeout.
        use r2d2::ManageConnection;
        drop(factory.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            // No idle minimum: r2d2 would open replacement connections on a
            // background thread, which a short-lived process (the admin CLI)
            // can still be running when it exits (libpq/OpenSSL then crash
            // in their exit handlers). Connections stay pooled after use.
            .min_idle(Some(0))
            .connection_timeout(POOL_WAIT)
            .error_handler(Box::new(QuietPoolErrors))
            .build(factory)?;
        Ok(Db {
            pool,
            kind,
            breaker: Arc::new(Breaker::new(StoreName::Database)),
        })
    }

    pub fn kind(&self) -> &DatabaseKind {
        &self.kind
    }

    /// Applies the embedded migrations of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.pool.get()?;
        let applied = match &mut *conn {
            DbConnection::Pg(c) => c
                .run_pending_migrations(tessera_schema::POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
            DbConnection::Sqlite(c) => c
                .run_pending_migrations(tessera_schema::SQLITE_MIGRATIONS)
                .map(|v| v.len()),
        };
        applied.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Runs `f` with a pooled connection on the blocking pool. Fails at
    /// once while the database is known to be unreachable (see
    /// [`super::outage`]).
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        self.breaker.check()?;
        let pool = self.pool.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        self.breaker.observe(result)
    }

    /// Runs `f` inside one transaction: all of it is committed or none.
    ///
    /// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the
    /// write lock before the first read: with a deferred `BEGIN`, two
    /// transactions that both read and then write (two refreshes of one
    /// token) deadlock on the lock upgrade and one fails with "database is
    /// locked" at once, whatever `busy_timeout` says. Immediate ones queue
    /// on `busy_timeout` instead, and the second sees what the first wrote.
    pub async fn transaction<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(move |conn| match conn {
            DbConnection::Sqlite(_) => immediate_transaction(conn, f),
            DbConnection::Pg(_) => conn.transaction(f),
        })
        .await
    }

    /// Readiness probe: the database answers a trivial query. It bypasses
    /// the breaker, so it sees a recovered database at once.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        let result = tokio::task::spawn_blocking(move || {
            pool.get()?
                .batch_execute("SELECT 1")
                .map_err(StoreError::from)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        self.breaker.observe(result)
    }
}
