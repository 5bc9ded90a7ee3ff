//! `tessera-admin user disable`: everything the user holds stops working at once (refresh,
//! introspection, userinfo, the browser session, unredeemed codes), and `user enable` allows
//! logging in again.

use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::steps::{self, land};
use tessera_tests::{both_backends, Authorize, Backend, ClientSpec, Provider, TokenSet, PASSWORD};

both_backends!(
    disabling_refuses_every_token_and_the_session,
    unredeemed_code_of_a_disabled_user_is_refused
);

async fn disabling_refuses_every_token_and_the_session(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let bob = admin.add_user("bob", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("App").first_party());
    let browser = p.browser();
    let tokens = oauth::login_and_exchange(&browser, &p.server, &client, &user).await;
    let bobs = oauth::login_and_exchange(&p.browser(), &p.server, &client, &bob).await;

    // Before: everything works (and the access token's verification is now cached).
    assert!(oauth::is_active(&p.server, client.auth(), &tokens.access_token).await);
    assert!(oauth::is_active(&p.server, client.auth(), tokens.refresh()).await);
    oauth::userinfo(&p.server, &tokens.access_token)
        .await
        .assert_ok();

    let shown = admin.disable_user(&user.username);
    assert_eq!(
        shown.get("disabled").and_then(serde_json::Value::as_bool),
        Some(true),
        "`user disable` output: {shown}"
    );

    // Refresh: invalid_grant.
    oauth::refresh(&p.server, &client, tokens.refresh())
        .await
        .assert_error(400, "invalid_grant");
    // Introspection: inactive, for the access and the refresh token.
    assert!(
        !oauth::is_active(&p.server, client.auth(), &tokens.access_token).await,
        "a disabled user's access token is still active"
    );
    assert!(
        !oauth::is_active(&p.server, client.auth(), tokens.refresh()).await,
        "a disabled user's refresh token is still active"
    );
    // Userinfo: 401 invalid_token, GET and POST.
    oauth::assert_invalid_token(&oauth::userinfo(&p.server, &tokens.access_token).await);
    oauth::assert_invalid_token(&oauth::userinfo_post(&p.server, &tokens.access_token).await);

    // The browser session no longer counts: prompt=none is login_required, and otherwise the
    // login page comes back, where the right password is refused.
    assert!(
        !steps::session_alive(&browser, &p.server, &Authorize::new(&p.server, &client)).await,
        "a disabled user's session still yields codes"
    );
    let req = Authorize::new(&p.server, &client);
    let page = land(&browser, &req.url())
        .await
        .expect_login("disabled user's session");
    let resp = browser
        .submit_login(&page, &user.username, &user.password)
        .await;
    assert_eq!(resp.status.as_u16(), 401, "{}", resp.describe());
    assert!(resp.header("location").is_none(), "{}", resp.describe());

    // Another user is unaffected.
    assert!(oauth::is_active(&p.server, client.auth(), &bobs.access_token).await);
    oauth::userinfo(&p.server, &bobs.access_token)
        .await
        .assert_ok();
    TokenSet::from_response(&oauth::refresh(&p.server, &client, bobs.refresh()).await);

    // Enabled again: logging in works and issues working tokens...
    let shown = admin.enable_user(&user.username);
    assert_eq!(
        shown.get("disabled").and_then(serde_json::Value::as_bool),
        Some(false),
        "`user enable` output: {shown}"
    );
    let fresh = oauth::login_and_exchange(&p.browser(), &p.server, &client, &user).await;
    oauth::userinfo(&p.server, &fresh.access_token)
        .await
        .assert_ok();
    TokenSet::from_response(&oauth::refresh(&p.server, &client, fresh.refresh()).await);
    // ...but the refresh token from before stays revoked.
    oauth::refresh(&p.server, &client, tokens.refresh())
        .await
        .assert_error(400, "invalid_grant");
}

async fn unredeemed_code_of_a_disabled_user_is_refused(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("App").first_party());
    let req = Authorize::new(&p.server, &client);
    let code = req.run(&p.browser(), &p.server, &user).await.code();

    admin.disable_user(&user.username);
    exchange_code(&p.server, &client, &code, Some(req.verifier()))
        .await
        .assert_error(400, "invalid_grant");
}
