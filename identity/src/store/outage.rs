//! Store outages: answering fast and telling the caller which store failed.
//!
//! Without this, a request during a PostgreSQL or Redis outage waits for the
//! pool's connection timeout or the Redis client's reconnect back-off (5 to
//! 10 s), and several store calls in one request add up. Two things fix it:
//!
//! - a [`Breaker`] per store: after a call fails because the store is
//!   unreachable, calls in the next [`OPEN_FOR`] fail at once without
//!   touching the network; the first call after that window tries for real,
//!   so service resumes by itself as soon as the store answers again;
//! - a request-scoped note ([`watch`]): the store layer records that a store
//!   was unavailable while serving the current request, so the HTTP layer
//!   can answer 503 `temporarily_unavailable` instead of 500 however the
//!   domain code carried the error up.

use super::StoreError;
use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a tripped breaker fails calls without trying.
pub const OPEN_FOR: Duration = Duration::from_millis(1000);

/// Which store an outage concerns; also the name `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreName {
    Database,
    Ephemeral,
}

impl StoreName {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreName::Database => "database",
            StoreName::Ephemeral => "ephemeral",
        }
    }
}

impl std::fmt::Display for StoreName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fails calls fast for [`OPEN_FOR`] after the store was found unreachable.
pub struct Breaker {
    store: StoreName,
    epoch: Instant,
    /// Milliseconds since `epoch` until which calls fail without trying.
    open_until_ms: AtomicU64,
}

impl Breaker {
    pub fn new(store: StoreName) -> Breaker {
        Breaker {
            store,
            epoch: Instant::now(),
            open_until_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// `Err(Unavailable)` while the breaker is open.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.now_ms() < self.open_until_ms.load(Ordering::Relaxed) {
            note(self.store);
            return Err(StoreError::Unavailable(self.store));
        }
        Ok(())
    }

    /// Looks at the result of a real call: an unreachable store opens the
    /// breaker and is noted for the current request; a call that reached
    /// the store closes it (the readiness probe tries even while it is open,
    /// so a returning store is used again at once).
    pub fn observe<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match &result {
            Err(e) if e.is_unavailable() => {
                let until = self.now_ms() + OPEN_FOR.as_millis() as u64;
                self.open_until_ms.fetch_max(until, Ordering::Relaxed);
                note(self.store);
            }
            Err(_) => {}
            Ok(_) => {
                if self.open_until_ms.load(Ordering::Relaxed) != 0 {
                    self.open_until_ms.store(0, Ordering::Relaxed);
                }
            }
        }
        result
    }
}

tokio::task_local! {
    static UNAVAILABLE: Cell<Option<StoreName>>;
}

/// Records that `store` was unavailable for the request being served (a
/// no-op outside [`watch`]).
pub fn note(store: StoreName) {
    let _ = UNAVAILABLE.try_with(|cell| cell.set(Some(store)));
}

/// Runs `future` and tells which store, if any, was found unavailable while
/// it ran.
pub async fn watch<F: Future>(future: F) -> (F::Output, Option<StoreName>) {
    UNAVAILABLE
        .scope(Cell::new(None), async move {
            let output = future.await;
            (output, UNAVAILABLE.with(Cell::get))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tripped_breaker_fails_fast_and_is_noted() {
        let breaker = Breaker::new(StoreName::Ephemeral);
        assert!(breaker.check().is_ok());
        let ((), seen) = watch(async {
            let failed: Result<(), StoreError> = Err(StoreError::Timeout(StoreName::Ephemeral));
            assert!(breaker.observe(failed).is_err());
        })
        .await;
        assert_eq!(seen, Some(StoreName::Ephemeral));
        let (result, seen) = watch(async { breaker.check() }).await;
        assert!(matches!(
            result,
            Err(StoreError::Unavailable(StoreName::Ephemeral))
        ));
        assert_eq!(seen, Some(StoreName::Ephemeral));
        // A call that reached the store closes the breaker.
        assert!(breaker.observe(Ok(())).is_ok());
        assert!(breaker.check().is_ok());
    }

    #[tokio::test]
    async fn ordinary_errors_do_not_trip_the_breaker() {
        let breaker = Breaker::new(StoreName::Database);
        let ((), seen) = watch(async {
            let failed: Result<(), StoreError> = Err(StoreError::Corrupt("x".into()));
            assert!(breaker.observe(failed).is_err());
        })
        .await;
        assert_eq!(seen, None);
        assert!(breaker.check().is_ok());
    }
}
