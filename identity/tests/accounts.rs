//! Accounts against a real SQLite store: hash upgrade at login, and the
//! same argon2 work for an unknown user as for a wrong password.

use std::time::{Duration, Instant};
use tessera_identity::accounts::{
    authenticate, LoginError, LoginThrottle, NewUser, PasswordHasher, PasswordPolicy,
    ThrottleLimits, Users,
};
use tessera_identity::config::DatabaseKind;
use tessera_identity::store::{Db, Ephemeral};

fn hasher(memory_kib: u32) -> PasswordHasher {
    PasswordHasher::new(
        PasswordPolicy {
            memory_kib,
            iterations: 2,
            parallelism: 1,
        },
        2,
    )
    .unwrap()
}

fn db() -> (Db, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tessera-accounts-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::open(DatabaseKind::Sqlite(dir.join("t.db")), 2).unwrap();
    db.migrate().unwrap();
    (db, dir)
}

fn throttle() -> LoginThrottle {
    LoginThrottle::new(
        Ephemeral::in_process(),
        ThrottleLimits {
            account_max_failures: 100,
            ip_max_failures: 100,
        },
    )
}

async fn stored_hash(db: &Db, id: &str) -> String {
    let id = id.to_string();
    db.run(move |c| tessera_identity::store::users::by_id(c, &id))
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap()
}

#[tokio::test]
async fn login_upgrades_a_hash_made_with_old_parameters() {
    let (db, dir) = db();
    let old = Users::new(db.clone(), hasher(8192));
    let user = old
        .create(
            NewUser {
                username: "alice".into(),
                email: None,
                email_verified: false,
                name: None,
                password: Some("correct horse".into()),
            },
            1,
        )
        .await
        .unwrap();
    assert!(stored_hash(&db, &user.id).await.contains("m=8192,"));

    let current = Users::new(db.clone(), hasher(9216));
    let t = throttle();
    let wrong = authenticate(&current, &t, "alice", "wrong horse", "ip", 2).await;
    assert!(matches!(wrong, Err(LoginError::InvalidCredentials)));
    assert!(
        stored_hash(&db, &user.id).await.contains("m=8192,"),
        "a failed login changes nothing"
    );
    authenticate(&current, &t, "alice", "correct horse", "ip", 3)
        .await
        .unwrap();
    let upgraded = stored_hash(&db, &user.id).await;
    assert!(upgraded.contains("m=9216,"), "{upgraded}");
    // The upgraded hash still verifies.
    authenticate(&current, &t, "alice", "correct horse", "ip", 4)
        .await
        .unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

async fn fastest(users: &Users, t: &LoginThrottle, login: &str) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let result = authenticate(users, t, login, "not the password", "ip", 10).await;
        assert!(matches!(result, Err(LoginError::InvalidCredentials)));
        best = best.min(started.elapsed());
    }
    best
}

#[tokio::test]
async fn unknown_user_costs_a_hash_like_a_wrong_password() {
    let (db, dir) = db();
    let users = Users::new(db, hasher(19456));
    users
        .create(
            NewUser {
                username: "bob".into(),
                email: None,
                email_verified: false,
                name: None,
                password: Some("bob's password".into()),
            },
            1,
        )
        .await
        .unwrap();
    let t = throttle();
    let known = fastest(&users, &t, "bob").await;
    let unknown = fastest(&users, &t, "nobody").await;
    // Without the dummy hash an unknown user answers in microseconds; with
    // it, both cost one argon2 verification (milliseconds).
    assert!(
        unknown * 2 > known && known * 2 > unknown,
        "known {known:?} vs unknown {unknown:?}"
    );
    assert!(unknown > Duration::from_millis(2), "unknown {unknown:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
