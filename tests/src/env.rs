//! Per-test storage: a fresh SQLite file (embedded) or a fresh PostgreSQL database and a unique
//! Redis key prefix (production), plus a random key-encryption key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::admin::Admin;

/// Env var naming the PostgreSQL server used for the production backend (a maintenance
/// database the tests may `CREATE DATABASE` from).
pub const PG_URL_VAR: &str = "TESSERA_TEST_PG_URL";
/// Env var naming the Redis server used for the production backend.
pub const REDIS_URL_VAR: &str = "TESSERA_TEST_REDIS_URL";
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Which backend pair a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process ephemeral store.
    Embedded,
    /// PostgreSQL + Redis (real servers).
    Production,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Embedded => "embedded",
            Backend::Production => "production",
        }
    }
}

struct PgDatabase {
    admin_url: String,
    name: String,
}

struct RedisPrefix {
    url: String,
    prefix: String,
}

/// One test's isolated storage and secrets. Dropping it removes the database / keys / files.
/// Declare it *before* the [`crate::Server`]s that use it so the servers stop first.
pub struct TestEnv {
    backend: Backend,
    dir: PathBuf,
    database_url: String,
    key_encryption_key: String,
    pg: Option<PgDatabase>,
    redis: Option<RedisPrefix>,
}

impl TestEnv {
    /// Creates the storage for `backend`. Panics (never skips) when PostgreSQL or Redis does
    /// not answer for the production backend.
    pub fn new(backend: Backend) -> TestEnv {
        let servers = (backend == Backend::Production).then(|| {
            (
                std::env::var(PG_URL_VAR).unwrap_or_else(|_| DEFAULT_PG_URL.to_string()),
                std::env::var(REDIS_URL_VAR).unwrap_or_else(|_| DEFAULT_REDIS_URL.to_string()),
            )
        });
        TestEnv::create(backend, servers)
    }

    /// Production storage on the given servers (a PostgreSQL admin URL and a Redis URL), e.g.
    /// the throwaway ones of [`crate::services`].
    pub fn production_on(pg_admin_url: &str, redis_url: &str) -> TestEnv {
        TestEnv::create(
            Backend::Production,
            Some((pg_admin_url.to_string(), redis_url.to_string())),
        )
    }

    fn create(backend: Backend, servers: Option<(String, String)>) -> TestEnv {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("tessera-test-{id}"));
        let key_encryption_key = crate::random_token(32);

        let (database_url, pg, redis) = match backend {
            Backend::Embedded => {
                let url = format!("sqlite://{}", dir.join("tessera.db").display());
                (url, None, None)
            }
            Backend::Production => {
                let (admin_url, redis_url) = servers.expect("production storage needs servers");
                // Check Redis first so a missing Redis never leaves a database behind.
                let mut rc = redis_connect(&redis_url);
                let pong: String = redis::cmd("PING").query(&mut rc).unwrap_or_else(|e| {
                    panic!("Redis at {redis_url} ({REDIS_URL_VAR}) does not answer PING: {e}")
                });
                assert_eq!(
                    pong, "PONG",
                    "unexpected PING answer from Redis at {redis_url}"
                );

                let name = format!("tessera_t_{id}");
                let mut conn = pg_connect(&admin_url);
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .unwrap_or_else(|e| {
                        panic!("CREATE DATABASE {name} failed on {admin_url} ({PG_URL_VAR}): {e}")
                    });
                let database_url = database_url_for(&admin_url, &name);

                let prefix = format!("tessera-test-{id}:");
                (
                    database_url,
                    Some(PgDatabase { admin_url, name }),
                    Some(RedisPrefix {
                        url: redis_url,
                        prefix,
                    }),
                )
            }
        };
        // Created last so a failed backend check leaves nothing behind.
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create temp dir {}: {e}", dir.display()));

        TestEnv {
            backend,
            dir,
            database_url,
            key_encryption_key,
            pg,
            redis,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Scratch directory of this test (holds the SQLite file for the embedded backend).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn redis_url(&self) -> Option<&str> {
        self.redis.as_ref().map(|r| r.url.as_str())
    }

    pub fn redis_prefix(&self) -> Option<&str> {
        self.redis.as_ref().map(|r| r.prefix.as_str())
    }

    pub fn key_encryption_key(&self) -> &str {
        &self.key_encryption_key
    }

    /// Configuration shared by the server and the admin CLI.
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            (
                "TESSERA_DATABASE_URL".to_string(),
                self.database_url.clone(),
            ),
            (
                "TESSERA_KEY_ENCRYPTION_KEY".to_string(),
                self.key_encryption_key.clone(),
            ),
            ("TESSERA_LOG".to_string(), "warn".to_string()),
        ];
        if let Some(r) = &self.redis {
            vars.push(("TESSERA_REDIS_URL".to_string(), r.url.clone()));
            vars.push(("TESSERA_REDIS_PREFIX".to_string(), r.prefix.clone()));
        }
        vars
    }

    /// The admin CLI bound to this environment.
    pub fn admin(&self) -> Admin {
        Admin::new(self.vars())
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if let Some(pg) = &self.pg {
            match PgConnection::establish(&with_connect_timeout(&pg.admin_url)) {
                Ok(mut conn) => {
                    let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", pg.name);
                    if let Err(e) = diesel::sql_query(sql).execute(&mut conn) {
                        eprintln!("warning: dropping database {} failed: {e}", pg.name);
                    }
                }
                Err(e) => eprintln!("warning: cannot reconnect to drop {}: {e}", pg.name),
            }
        }
        if let Some(r) = &self.redis {
            if let Err(e) = delete_prefix(&r.url, &r.prefix) {
                eprintln!("warning: deleting Redis keys {}* failed: {e}", r.prefix);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn with_connect_timeout(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.query_pairs().any(|(k, _)| k == "connect_timeout") => {
            u.query_pairs_mut().append_pair("connect_timeout", "10");
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn pg_connect(admin_url: &str) -> PgConnection {
    PgConnection::establish(&with_connect_timeout(admin_url)).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL does not answer at {admin_url}: {e}\n\
             The production-backend tests need a PostgreSQL server; set {PG_URL_VAR} \
             (default {DEFAULT_PG_URL}) to a superuser URL of a running server."
        )
    })
}

fn database_url_for(admin_url: &str, name: &str) -> String {
    let mut u = url::Url::parse(admin_url)
        .unwrap_or_else(|e| panic!("{PG_URL_VAR}={admin_url} is not a URL: {e}"));
    u.set_path(&format!("/{name}"));
    u.to_string()
}

fn redis_connect(url: &str) -> redis::Connection {
    let client = redis::Client::open(url)
        .unwrap_or_else(|e| panic!("{REDIS_URL_VAR}={url} is not a Redis URL: {e}"));
    client
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| {
            panic!(
                "Redis does not answer at {url}: {e}\n\
                 The production-backend tests need a Redis server; set {REDIS_URL_VAR} \
                 (default {DEFAULT_REDIS_URL}) to a running server."
            )
        })
}

fn delete_prefix(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(5))?;
    let pattern = format!("{prefix}*");
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(&keys).query::<i64>(&mut conn)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// Number of Redis keys currently under this env's prefix (production only).
pub fn redis_key_count(env: &TestEnv) -> usize {
    let (Some(url), Some(prefix)) = (env.redis_url(), env.redis_prefix()) else {
        return 0;
    };
    let mut conn = redis_connect(url);
    let pattern = format!("{prefix}*");
    let mut cursor: u64 = 0;
    let mut n = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)
            .expect("SCAN");
        n += keys.len();
        if next == 0 {
            return n;
        }
        cursor = next;
    }
}
