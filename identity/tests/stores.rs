//! Both store backends against real servers: every table migrates and every
//! column reads back on SQLite and PostgreSQL (so the hand-kept `table!`
//! definitions cannot drift from the SQL), and the ephemeral store keeps
//! its single-use and counter semantics on Redis and in process.

use diesel::prelude::*;
use diesel::sql_query;
use std::path::PathBuf;
use tessera_identity::config::DatabaseKind;
use tessera_identity::store::ephemeral::{AttemptPolicy, Reservation};
use tessera_identity::store::{Db, DbConnection, Ephemeral, Key, StoreError};
use tessera_schema::rows::*;
use tessera_schema::tables::*;

/// Migrations shipped per backend (the folders must stay in step).
const MIGRATIONS: usize = 5;

fn pg_admin_url() -> String {
    std::env::var("TESSERA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn redis_url() -> String {
    std::env::var("TESSERA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A throwaway PostgreSQL database, dropped at the end.
struct PgDatabase {
    admin: String,
    name: String,
}

impl PgDatabase {
    fn create() -> PgDatabase {
        let admin = pg_admin_url();
        let name = format!("tessera_store_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
            panic!("PostgreSQL at TESSERA_TEST_PG_URL={admin} does not answer: {e}")
        });
        sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap();
        PgDatabase { admin, name }
    }

    fn url(&self) -> String {
        let mut url = url::Url::parse(&self.admin).unwrap();
        url.set_path(&self.name);
        url.to_string()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

fn sqlite_path() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("t.db")
}

/// Writes one row to every table and reads every column back.
fn round_trip_every_table(conn: &mut DbConnection) -> Result<(), StoreError> {
    let user = UserRow {
        id: "u1".into(),
        username: "alice".into(),
        email: Some("a@example.com".into()),
        email_verified: true,
        name: Some("Alice".into()),
        password_hash: Some("$argon2id$x".into()),
        disabled: false,
        created_at: 1,
        updated_at: 2,
        passkey_second_factor: true,
        session_generation: 0,
    };
    diesel::insert_into(users::table)
        .values(&user)
        .execute(conn)?;
    let read: UserRow = users::table.select(UserRow::as_select()).first(conn)?;
    assert_eq!(read.email, user.email);
    assert_eq!(read.updated_at, 2);
    assert!(read.passkey_second_factor);

    let client = ClientRow {
        id: "c1".into(),
        name: "App".into(),
        secret_hash: None,
        redirect_uris: "[]".into(),
        post_logout_redirect_uris: "[]".into(),
        grant_types: "[]".into(),
        scopes: "[]".into(),
        first_party: true,
        id_token_signed_response_alg: Some("ES256".into()),
        created_at: 3,
    };
    diesel::insert_into(clients::table)
        .values(&client)
        .execute(conn)?;
    let read: ClientRow = clients::table.select(ClientRow::as_select()).first(conn)?;
    assert!(read.first_party);

    let key = SigningKeyRow {
        kid: "k1".into(),
        alg: "ES256".into(),
        state: "active".into(),
        private_key: vec![0, 1, 2, 255],
        public_jwk: "{}".into(),
        created_at: 4,
        activated_at: Some(4),
        retired_at: None,
    };
    diesel::insert_into(signing_keys::table)
        .values(&key)
        .execute(conn)?;
    let read: SigningKeyRow = signing_keys::table
        .select(SigningKeyRow::as_select())
        .first(conn)?;
    assert_eq!(read.private_key, vec![0, 1, 2, 255]);
    // The partial unique index: a second active ES256 key is refused.
    let second = SigningKeyRow {
        kid: "k2".into(),
        ..key.clone()
    };
    let err = diesel::insert_into(signing_keys::table)
        .values(&second)
        .execute(conn);
    assert!(StoreError::from(err.unwrap_err()).is_unique_violation());

    let family = RefreshFamilyRow {
        id: "f1".into(),
        client_id: "c1".into(),
        user_id: "u1".into(),
        scope: "openid".into(),
        auth_time: 5,
        amr: "pwd".into(),
        acr: "1".into(),
        sid: "s1".into(),
        created_at: 5,
        revoked_at: None,
        resource: Some("https://api.example.test".into()),
    };
    diesel::insert_into(refresh_families::table)
        .values(&family)
        .execute(conn)?;
    let token = RefreshTokenRow {
        token_hash: "h1".into(),
        family_id: "f1".into(),
        created_at: 6,
        expires_at: 7,
        rotated_at: None,
    };
    diesel::insert_into(refresh_tokens::table)
        .values(&token)
        .execute(conn)?;
    let (t, f): (RefreshTokenRow, RefreshFamilyRow) = refresh_tokens::table
        .inner_join(refresh_families::table)
        .select((RefreshTokenRow::as_select(), RefreshFamilyRow::as_select()))
        .first(conn)?;
    assert_eq!((t.expires_at, f.sid.as_str()), (7, "s1"));
    // A token cannot point at a family that does not exist.
    let orphan = RefreshTokenRow {
        token_hash: "h2".into(),
        family_id: "nope".into(),
        ..token
    };
    assert!(diesel::insert_into(refresh_tokens::table)
        .values(&orphan)
        .execute(conn)
        .is_err());

    let consent = ConsentRow {
        user_id: "u1".into(),
        client_id: "c1".into(),
        scope: "openid".into(),
        granted_at: 8,
    };
    diesel::insert_into(consents::table)
        .values(&consent)
        .execute(conn)?;
    let read: ConsentRow = consents::table
        .select(ConsentRow::as_select())
        .first(conn)?;
    assert_eq!(read.granted_at, 8);

    let event = AuditEventRow {
        id: "e1".into(),
        at: 9,
        kind: "login".into(),
        user_id: None,
        client_id: Some("c1".into()),
        detail: "{}".into(),
    };
    diesel::insert_into(audit_events::table)
        .values(&event)
        .execute(conn)?;
    let read: AuditEventRow = audit_events::table
        .select(AuditEventRow::as_select())
        .first(conn)?;
    assert_eq!(read.client_id.as_deref(), Some("c1"));

    let resource = ResourceServerRow {
        identifier: "https://api.example.test".into(),
        name: "API".into(),
        introspection_client_id: Some("c1".into()),
        created_at: 7,
    };
    diesel::insert_into(resource_servers::table)
        .values(&resource)
        .execute(conn)?;
    let read: ResourceServerRow = resource_servers::table
        .select(ResourceServerRow::as_select())
        .first(conn)?;
    assert_eq!(read.introspection_client_id.as_deref(), Some("c1"));
    assert_eq!(read.created_at, 7);
    Ok(())
}

#[tokio::test]
async fn sqlite_migrates_and_every_column_reads_back() {
    let path = sqlite_path();
    let db = Db::open(DatabaseKind::Sqlite(path.clone()), 2).unwrap();
    assert_eq!(db.migrate().unwrap(), MIGRATIONS);
    assert_eq!(db.migrate().unwrap(), 0, "migrations are idempotent");
    db.run(round_trip_every_table).await.unwrap();
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn postgres_migrates_and_every_column_reads_back() {
    let database = PgDatabase::create();
    let db = Db::open(DatabaseKind::Postgres(database.url()), 2).unwrap();
    assert_eq!(db.migrate().unwrap(), MIGRATIONS);
    assert_eq!(db.migrate().unwrap(), 0);
    db.run(round_trip_every_table).await.unwrap();
    drop(db);
}

#[tokio::test]
async fn unreachable_postgres_reports_its_real_error() {
    let err = Db::open(
        DatabaseKind::Postgres("postgres://nobody@127.0.0.1:1/x".into()),
        1,
    )
    .err()
    .expect("port 1 has no PostgreSQL");
    let text = err.to_string();
    assert!(text.contains("connect"), "{text}");
    assert!(!text.contains("multiconnection"), "{text}");
}

async fn ephemeral_semantics(store: Ephemeral) {
    store.put(Key::Code("a"), b"1", 60).await.unwrap();
    assert_eq!(
        store.get(Key::Code("a")).await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(
        store.take(Key::Code("a")).await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(
        store.take(Key::Code("a")).await.unwrap(),
        None,
        "take is single use"
    );
    assert_eq!(store.incr(Key::IpFailures("n"), 60).await.unwrap(), 1);
    assert_eq!(store.incr(Key::IpFailures("n"), 60).await.unwrap(), 2);
    store.put(Key::Code("gone"), b"x", 1).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        store.get(Key::Code("gone")).await.unwrap(),
        None,
        "values expire"
    );
    // Racing takers: exactly one wins.
    store.put(Key::Code("code"), b"c", 60).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.take(Key::Code("code")).await.unwrap().is_some()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += t.await.unwrap() as usize;
    }
    assert_eq!(winners, 1);
    store.delete(Key::IpFailures("n")).await.unwrap();
    // Attempt reservations: of 20 at once, exactly `max` are allowed.
    let policy = AttemptPolicy {
        max: 5,
        base_lock_secs: 30,
        max_lock_secs: 900,
        window_secs: 60,
    };
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.reserve_attempt(Key::LoginAttempts("acct"), &policy, 1_000)
                .await
                .unwrap()
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        allowed += (t.await.unwrap() == Reservation::Allowed) as usize;
    }
    assert_eq!(allowed, 5);
    assert_eq!(
        store
            .reserve_attempt(Key::LoginAttempts("acct"), &policy, 1_000)
            .await
            .unwrap(),
        Reservation::Locked { retry_after: 30 }
    );
    store.delete(Key::LoginAttempts("acct")).await.unwrap();
}

#[tokio::test]
async fn in_process_store_semantics() {
    ephemeral_semantics(Ephemeral::in_process()).await;
}

#[tokio::test]
async fn redis_store_semantics_and_prefix_isolation() {
    let prefix = format!("tessera-store-test-{}:", uuid::Uuid::new_v4().simple());
    let url = redis_url();
    let store = Ephemeral::redis(&url, &prefix)
        .await
        .unwrap_or_else(|e| panic!("Redis at TESSERA_TEST_REDIS_URL={url} does not answer: {e}"));
    ephemeral_semantics(store.clone()).await;
    // Two connections (two provider processes) see one value once.
    let other = Ephemeral::redis(&url, &prefix).await.unwrap();
    store.put(Key::Code("shared"), b"v", 60).await.unwrap();
    let (a, b) = tokio::join!(
        store.take(Key::Code("shared")),
        other.take(Key::Code("shared"))
    );
    assert_eq!(a.unwrap().is_some() as u8 + b.unwrap().is_some() as u8, 1);
    // Another prefix does not see this one's keys.
    let foreign = Ephemeral::redis(&url, "tessera-other:").await.unwrap();
    store.put(Key::Code("k"), b"v", 60).await.unwrap();
    assert_eq!(foreign.get(Key::Code("k")).await.unwrap(), None);
    store.delete(Key::Code("k")).await.unwrap();
}
