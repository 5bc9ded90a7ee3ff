//! The ephemeral store: short-lived state with a time to live (codes,
//! sessions, pending authorization requests, counters, revoked token ids).
//! Two implementations with the same semantics: Redis for production (shared
//! by every provider process) and an in-process map for the embedded default.

pub use super::key_space::Key;
use super::memory::MemoryStore;
use super::redis_store::RedisStore;
use super::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// The default `anonymous_state_per_minute`.
pub const DEFAULT_ANONYMOUS_PER_MINUTE: i64 = 10_000;

/// The rule behind [`Ephemeral::reserve_attempt`]: `max` attempts, then a
/// lock of `base_lock_secs` doubling with each further attempt up to
/// `max_lock_secs`; attempts are counted over `window_secs` from the first.
#[derive(Debug, Clone, Copy)]
pub struct AttemptPolicy {
    pub max: i64,
    pub base_lock_secs: i64,
    pub max_lock_secs: i64,
    pub window_secs: i64,
}

impl AttemptPolicy {
    /// The lock that attempt number `attempt` sets, if any.
    pub fn lock_secs(&self, attempt: i64) -> Option<i64> {
        if attempt < self.max {
            return None;
        }
        let doublings = (attempt - self.max).min(16) as u32;
        Some((self.base_lock_secs << doublings).min(self.max_lock_secs))
    }
}

/// The answer to an attempt reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// This attempt may be evaluated; it is already counted.
    Allowed,
    /// Locked for this many more seconds; the attempt was not counted.
    Locked { retry_after: i64 },
}

#[derive(Clone)]
pub enum Ephemeral {
    Memory(Arc<MemoryStore>),
    /// Redis, and how many evictable values anonymous callers may create
    /// per minute across all processes (`anonymous_state_per_minute`).
    Redis(RedisStore, i64),
}

impl Ephemeral {
    /// The in-process store with the default capacity.
    pub fn in_process() -> Ephemeral {
        Ephemeral::in_process_with_capacity(super::memory::DEFAULT_MAX_ENTRIES)
    }

    /// The in-process store holding at most about `max_entries` values.
    pub fn in_process_with_capacity(max_entries: usize) -> Ephemeral {
        Ephemeral::Memory(Arc::new(MemoryStore::with_capacity(max_entries)))
    }

    /// Entries held and entries evicted so far (in-process store only).
    pub fn memory_stats(&self) -> Option<(usize, u64)> {
        match self {
            Ephemeral::Memory(m) => Some(m.stats()),
            Ephemeral::Redis(..) => None,
        }
    }

    pub async fn redis(url: &str, prefix: &str) -> Result<Ephemeral, StoreError> {
        Ephemeral::redis_with_budget(url, prefix, DEFAULT_ANONYMOUS_PER_MINUTE).await
    }

    /// Redis where anonymous callers may create at most `per_minute` new
    /// pending requests and ceremonies a minute: with their TTLs (10 and 5
    /// minutes) that bounds what a flood can store. Past it a new one is
    /// refused (`Full`, answered 503) until the minute is over; updating one
    /// that exists, and sessions, codes, revocations and throttling state,
    /// never are.
    pub async fn redis_with_budget(
        url: &str,
        prefix: &str,
        per_minute: i64,
    ) -> Result<Ephemeral, StoreError> {
        Ok(Ephemeral::Redis(
            RedisStore::connect(url, prefix).await?,
            per_minute,
        ))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Ephemeral::Memory(_) => "in-process",
            Ephemeral::Redis(..) => "redis",
        }
    }

    /// Stores `value` under `key` for `ttl_secs` seconds, replacing any value.
    pub async fn put(&self, key: Key<'_>, value: &[u8], ttl_secs: i64) -> Result<(), StoreError> {
        let ttl = ttl_secs.max(1) as u64;
        match self {
            Ephemeral::Memory(m) => m.put(&key.render(), value, ttl, key.evictable()),
            Ephemeral::Redis(r, per_minute) if key.evictable() => {
                let budget = Key::AnonymousBudget.render();
                if r.put_within_budget(&key.render(), value, ttl, &budget, *per_minute)
                    .await?
                {
                    return Ok(());
                }
                super::outage::note(super::outage::StoreName::Ephemeral);
                tracing::warn!(per_minute, "anonymous state budget spent for this minute");
                Err(StoreError::Full)
            }
            Ephemeral::Redis(r, _) => r.put(&key.render(), value, ttl).await,
        }
    }

    pub async fn get(&self, key: Key<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Ephemeral::Memory(m) => Ok(m.get(&key.render())),
            Ephemeral::Redis(r, _) => r.get(&key.render()).await,
        }
    }

    /// Removes and returns the value in one atomic step: of two callers
    /// racing for the same key, at most one gets it.
    pub async fn take(&self, key: Key<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Ephemeral::Memory(m) => Ok(m.take(&key.render())),
            Ephemeral::Redis(r, _) => r.take(&key.render()).await,
        }
    }

    /// Takes `key` and, if it was there, stores `mark` under `marker` in
    /// the same atomic step: whoever comes after the taker finds the mark
    /// (an authorization code's redemption record), never a gap between.
    pub async fn take_and_mark(
        &self,
        key: Key<'_>,
        marker: Key<'_>,
        mark: &[u8],
        ttl_secs: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let ttl = ttl_secs.max(1) as u64;
        match self {
            Ephemeral::Memory(m) => Ok(m.take_and_mark(&key.render(), &marker.render(), mark, ttl)),
            Ephemeral::Redis(r, _) => {
                r.take_and_mark(&key.render(), &marker.render(), mark, ttl)
                    .await
            }
        }
    }

    pub async fn delete(&self, key: Key<'_>) -> Result<(), StoreError> {
        match self {
            Ephemeral::Memory(m) => {
                m.take(&key.render());
                Ok(())
            }
            Ephemeral::Redis(r, _) => r.delete(&key.render()).await,
        }
    }

    /// Increments a counter that expires `ttl_secs` after its first
    /// increment; returns the new count.
    pub async fn incr(&self, key: Key<'_>, ttl_secs: i64) -> Result<i64, StoreError> {
        let ttl = ttl_secs.max(1) as u64;
        match self {
            Ephemeral::Memory(m) => Ok(m.incr(&key.render(), ttl)),
            Ephemeral::Redis(r, _) => r.incr(&key.render(), ttl).await,
        }
    }

    /// Counts an attempt *before* it is evaluated, in one atomic step: of
    /// any number of parallel attempts at most `policy.max` are allowed
    /// before the lock, and the attempt that reaches `max` sets the lock at
    /// once (as if it failed; a success clears it with [`Self::delete`]).
    /// After a lock runs out, one more attempt is allowed, which locks again
    /// for twice as long.
    pub async fn reserve_attempt(
        &self,
        key: Key<'_>,
        policy: &AttemptPolicy,
        now: i64,
    ) -> Result<Reservation, StoreError> {
        match self {
            Ephemeral::Memory(m) => Ok(m.reserve_attempt(&key.render(), policy, now)),
            Ephemeral::Redis(r, _) => r.reserve_attempt(&key.render(), policy, now).await,
        }
    }

    /// Readiness probe.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Ephemeral::Memory(_) => Ok(()),
            Ephemeral::Redis(r, _) => r.ping().await,
        }
    }

    pub async fn put_json<T: Serialize>(
        &self,
        key: Key<'_>,
        value: &T,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.put(key, &bytes, ttl_secs).await
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        key: Key<'_>,
    ) -> Result<Option<T>, StoreError> {
        decode(self.get(key).await?)
    }

    pub async fn take_json<T: DeserializeOwned>(
        &self,
        key: Key<'_>,
    ) -> Result<Option<T>, StoreError> {
        decode(self.take(key).await?)
    }
}

fn decode<T: DeserializeOwned>(bytes: Option<Vec<u8>>) -> Result<Option<T>, StoreError> {
    bytes
        .map(|b| serde_json::from_slice(&b).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}
