//! Domain rules at fixed times, through the in-process test kit (a real `App` on SQLite and
//! the in-process store, no server, no sleeping).

mod kit;

use kit::{Kit, T0};
use tessera_identity::accounts::Account;
use tessera_identity::oauth::refresh::{self, Family, Lifetimes};

fn family(id: &str, client_id: &str, user_id: &str) -> Family {
    Family {
        id: id.into(),
        client_id: client_id.into(),
        user_id: user_id.into(),
        scopes: vec!["openid".into()],
        auth_time: T0,
        amr: vec!["pwd".into()],
        acr: "1".into(),
        sid: "sid".into(),
        created_at: T0,
        resource: None,
    }
}

#[tokio::test]
async fn a_refresh_family_ends_at_its_absolute_lifetime_however_often_it_rotates() {
    let kit = Kit::new(|_| {}).await;
    let (user, client) = (
        kit.user("alice", "a long enough password").await,
        kit.client("Web").await,
    );
    let lifetimes = Lifetimes {
        token_secs: 3600,
        family_secs: 86_400,
    };
    let db = &kit.app.db;
    let mut token = refresh::start_family(db, &family("f1", &client, &user), Some(3600), T0)
        .await
        .expect("family")
        .expect("token");
    // Rotating every 50 minutes keeps it alive for the day...
    let mut now = T0;
    while now + 3000 < T0 + 86_400 {
        now += 3000;
        token = refresh::rotate(db, &token, &client, None, lifetimes, now)
            .await
            .expect("rotation within the lifetime")
            .0;
    }
    // ...and not a second past it.
    let refused = refresh::rotate(db, &token, &client, None, lifetimes, T0 + 86_400).await;
    assert_eq!(
        refused.expect_err("rotation past the lifetime").code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn an_account_lock_doubles_and_a_success_clears_it() {
    let kit = Kit::new(|c| c.login_max_failures = 3).await;
    let throttle = &kit.app.throttle;
    let alice = Account::User("u-alice");
    for _ in 0..3 {
        assert_eq!(throttle.reserve(alice, "ip", T0).await.unwrap(), Ok(()));
    }
    assert_eq!(
        throttle.reserve(alice, "ip", T0 + 29).await.unwrap(),
        Err(1)
    );
    // After 30 s one more attempt, then 60 s.
    assert_eq!(
        throttle.reserve(alice, "ip", T0 + 30).await.unwrap(),
        Ok(())
    );
    assert_eq!(
        throttle.reserve(alice, "ip", T0 + 30).await.unwrap(),
        Err(60)
    );
    throttle.record_success(alice).await.unwrap();
    assert_eq!(
        throttle.reserve(alice, "ip", T0 + 31).await.unwrap(),
        Ok(())
    );
}

#[tokio::test]
async fn a_password_change_ends_every_session_issued_before_it() {
    let kit = Kit::new(|_| {}).await;
    let id = kit.user("alice", "a long enough password").await;
    let user = |kit: &Kit| {
        let users = kit.app.users.clone();
        let id = id.clone();
        async move { users.by_id(&id).await.unwrap().expect("alice") }
    };
    let sessions = &kit.app.sessions;
    let (cookie, _) = sessions
        .start(&user(&kit).await, vec!["pwd".into()], T0)
        .await
        .unwrap();
    let live = sessions
        .live(&kit.app.users, &cookie, T0 + 1)
        .await
        .unwrap();
    assert!(live.is_some(), "a fresh session is live");
    // A sign-in that read the user before the change but stores its session after it.
    let before_change = user(&kit).await;
    kit.app
        .users
        .set_password(&id, "another long password".into(), T0 + 2)
        .await
        .unwrap();
    // In the same second: no clock decides, the generation does.
    let (late, _) = sessions
        .start(&before_change, vec!["pwd".into()], T0 + 2)
        .await
        .unwrap();
    for (what, cookie) in [("earlier", &cookie), ("racing", &late)] {
        let live = sessions.live(&kit.app.users, cookie, T0 + 2).await.unwrap();
        assert!(
            live.is_none(),
            "the {what} session survived a password change"
        );
    }
    // A session started after the change is live.
    let (fresh, _) = sessions
        .start(&user(&kit).await, vec!["pwd".into()], T0 + 2)
        .await
        .unwrap();
    assert!(sessions
        .live(&kit.app.users, &fresh, T0 + 2)
        .await
        .unwrap()
        .is_some());
}
