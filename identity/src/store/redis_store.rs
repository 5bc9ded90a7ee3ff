//! The Redis ephemeral store. Every key carries the configured prefix, so
//! several deployments (or test runs) can share one Redis.
//!
//! Every command is bounded by [`COMMAND_WAIT`] and goes through the
//! breaker of [`super::outage`]: during an outage a request waits at most
//! once, and the connection manager reconnects by itself when Redis is back.

use super::ephemeral::{AttemptPolicy, Reservation};
use super::outage::{Breaker, StoreName};
use super::StoreError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Attempt reservation: a hash {attempts, locked_until}. Returns minus the
/// seconds left when locked, else the attempt's number.
static RESERVE_ATTEMPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local locked_until = tonumber(redis.call('HGET', KEYS[1], 'locked_until') or '0')
if locked_until > now then
  return -(locked_until - now)
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts == 1 then
  redis.call('EXPIRE', KEYS[1], window)
end
if attempts >= max then
  local doublings = math.min(attempts - max, 16)
  local secs = math.min(base * (2 ^ doublings), cap)
  redis.call('HSET', KEYS[1], 'locked_until', now + secs)
end
return attempts
",
    )
});

/// Take one key and, if it was there, set another: GETDEL + SET EX in one
/// step on the server.
static TAKE_AND_MARK: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
local taken = redis.call('GETDEL', KEYS[1])
if taken then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
end
return taken
",
    )
});

/// Store a value anonymous callers created: a new key spends one unit of
/// the per-minute budget (KEYS[2]) and is refused once it is spent; a key
/// that exists (a pending request updated mid-flow) is rewritten freely.
/// Returns 1 when stored, 0 when refused.
static PUT_WITHIN_BUDGET: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  local spent = redis.call('INCR', KEYS[2])
  if spent == 1 then
    redis.call('EXPIRE', KEYS[2], 60)
  end
  if spent > tonumber(ARGV[3]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
",
    )
});

/// The longest one Redis command may take, reconnecting included.
const COMMAND_WAIT: Duration = Duration::from_millis(1000);

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    breaker: Arc<Breaker>,
}

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url)?;
        // Few, short reconnect attempts: callers are bounded by COMMAND_WAIT
        // anyway, and a failed reconnect is retried by the next command.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(COMMAND_WAIT))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(250));
        let conn = tokio::time::timeout(
            Duration::from_secs(5),
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| StoreError::Timeout(StoreName::Ephemeral))??;
        Ok(RedisStore {
            conn,
            prefix: prefix.to_string(),
            breaker: Arc::new(Breaker::new(StoreName::Ephemeral)),
        })
    }

    /// Runs one command within [`COMMAND_WAIT`], through the breaker.
    async fn bounded<T>(
        &self,
        command: impl Future<Output = Result<T, redis::RedisError>>,
    ) -> Result<T, StoreError> {
        self.breaker.check()?;
        let result = match tokio::time::timeout(COMMAND_WAIT, command).await {
            Ok(result) => result.map_err(StoreError::from),
            Err(_) => Err(StoreError::Timeout(StoreName::Ephemeral)),
        };
        self.breaker.observe(result)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(conn.set_ex::<_, _, ()>(self.key(key), value, ttl_secs))
            .await
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(conn.get(self.key(key))).await
    }

    /// GETDEL: atomic on the server, so two provider processes racing for
    /// one code cannot both get it.
    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(conn.get_del(self.key(key))).await
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(conn.del::<_, ()>(self.key(key))).await
    }

    /// `SET key 0 EX ttl NX` then `INCR`, in one MULTI: the expiry is set by
    /// the first increment only, and INCR keeps it.
    pub async fn incr(&self, key: &str, ttl_secs: u64) -> Result<i64, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("EX")
            .arg(ttl_secs)
            .arg("NX")
            .cmd("INCR")
            .arg(&key);
        let (_, count): (Option<String>, i64) = self.bounded(pipe.query_async(&mut conn)).await?;
        Ok(count)
    }

    /// Readiness probe; bypasses the breaker so a recovered Redis is seen
    /// at once.
    /// See [`PUT_WITHIN_BUDGET`]: false when the budget was spent.
    pub async fn put_within_budget(
        &self,
        key: &str,
        value: &[u8],
        ttl_secs: u64,
        budget_key: &str,
        per_minute: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let mut invocation = PUT_WITHIN_BUDGET.key(self.key(key));
        invocation
            .key(self.key(budget_key))
            .arg(value)
            .arg(ttl_secs)
            .arg(per_minute);
        let stored: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(stored == 1)
    }

    /// See [`super::Ephemeral::take_and_mark`].
    pub async fn take_and_mark(
        &self,
        key: &str,
        marker: &str,
        mark: &[u8],
        ttl_secs: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        let mut invocation = TAKE_AND_MARK.key(self.key(key));
        invocation.key(self.key(marker)).arg(mark).arg(ttl_secs);
        self.bounded(invocation.invoke_async(&mut conn)).await
    }

    /// See [`super::Ephemeral::reserve_attempt`]: one Lua script, so the
    /// check, the count and the lock are one step on the server.
    pub async fn reserve_attempt(
        &self,
        key: &str,
        policy: &AttemptPolicy,
        now: i64,
    ) -> Result<Reservation, StoreError> {
        let mut conn = self.conn.clone();
        let mut invocation = RESERVE_ATTEMPT.key(self.key(key));
        invocation
            .arg(now)
            .arg(policy.max)
            .arg(policy.base_lock_secs)
            .arg(policy.max_lock_secs)
            .arg(policy.window_secs.max(1));
        let answer: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        Ok(if answer < 0 {
            Reservation::Locked {
                retry_after: -answer,
            }
        } else {
            Reservation::Allowed
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let result = match tokio::time::timeout(
            COMMAND_WAIT,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await
        {
            Ok(result) => result.map(drop).map_err(StoreError::from),
            Err(_) => Err(StoreError::Timeout(StoreName::Ephemeral)),
        };
        self.breaker.observe(result)
    }
}
