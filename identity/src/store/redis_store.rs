//! The Redis ephemeral store. Every key carries the configured prefix, so
//! several deployments (or test runs) can share one Redis.

use super::StoreError;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisStore {
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(RedisStore {
            conn,
            prefix: prefix.to_string(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: () = conn.set_ex(self.key(key), value, ttl_secs).await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        Ok(conn.get(self.key(key)).await?)
    }

    /// GETDEL: atomic on the server, so two provider processes racing for
    /// one code cannot both get it.
    pub async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        Ok(conn.get_del(self.key(key)).await?)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: () = conn.del(self.key(key)).await?;
        Ok(())
    }

    /// `SET key 0 EX ttl NX` then `INCR`, in one MULTI: the expiry is set by
    /// the first increment only, and INCR keeps it.
    pub async fn incr(&self, key: &str, ttl_secs: u64) -> Result<i64, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let (_, count): (Option<String>, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("EX")
            .arg(ttl_secs)
            .arg("NX")
            .cmd("INCR")
            .arg(&key)
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}
