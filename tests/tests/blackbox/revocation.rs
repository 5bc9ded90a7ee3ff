//! What revocation takes with it, on both backend pairs:
//! - revoking a refresh token takes every access token of its grant (RFC 7009 2.1);
//! - a credential change (password set, account disabled) ends the user's grants (refresh and
//!   access tokens) and browser sessions; withdrawing consent ends that client's grants;
//!   removing a client ends its grants;
//! - a refresh-token family has an absolute lifetime that rotation does not extend.

use std::time::Duration;
use tessera_tests::oauth::{self, login_and_exchange};
use tessera_tests::steps::session_alive;
use tessera_tests::{
    both_backends, Authorize, Backend, Browser, ClientSpec, Provider, RegisteredClient, TokenSet,
    User, PASSWORD,
};

const API: &str = "https://api.example.test";

both_backends!(
    revoking_a_refresh_token_takes_its_access_tokens,
    password_change_ends_grants_and_sessions,
    disabling_ends_grants_and_sessions,
    consent_withdrawal_ends_that_clients_grants,
    client_removal_ends_its_grants,
    refresh_family_has_an_absolute_lifetime
);

/// Asserts the access token is refused at introspection (`active: false`) and at userinfo.
async fn assert_access_dead(p: &Provider, client: &RegisteredClient, token: &str, what: &str) {
    assert!(
        !oauth::is_active(&p.server, client.auth(), token).await,
        "{what}: the access token is still active"
    );
    oauth::assert_invalid_token(&oauth::userinfo(&p.server, token).await);
}

async fn assert_grant_alive(p: &Provider, client: &RegisteredClient, t: &TokenSet, what: &str) {
    assert!(
        oauth::is_active(&p.server, client.auth(), &t.access_token).await,
        "{what}: access token no longer active"
    );
    assert!(
        oauth::is_active(&p.server, client.auth(), t.refresh()).await,
        "{what}: refresh token no longer active"
    );
}

/// Both tokens of `t` are dead and the refresh token is refused with invalid_grant.
async fn assert_grant_dead(p: &Provider, client: &RegisteredClient, t: &TokenSet, what: &str) {
    assert_access_dead(p, client, &t.access_token, what).await;
    oauth::refresh(&p.server, client, t.refresh())
        .await
        .assert_error(400, "invalid_grant");
}

struct Signed {
    user: User,
    web: RegisteredClient,
    browser: Browser,
    tokens: TokenSet,
}

async fn signed_in(p: &Provider) -> Signed {
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let web = admin.add_client(&ClientSpec::confidential("Web").first_party());
    let browser = p.browser();
    let tokens = login_and_exchange(&browser, &p.server, &web, &user).await;
    Signed {
        user,
        web,
        browser,
        tokens,
    }
}

async fn revoking_a_refresh_token_takes_its_access_tokens(backend: Backend) {
    let p = Provider::start(backend);
    let s = signed_in(&p).await;
    let other = login_and_exchange(&s.browser, &p.server, &s.web, &s.user).await;
    // A rotation: the new access token belongs to the same grant as the first one.
    let rotated =
        TokenSet::from_response(&oauth::refresh(&p.server, &s.web, s.tokens.refresh()).await);
    oauth::revoke(
        &p.server,
        s.web.auth(),
        rotated.refresh(),
        Some("refresh_token"),
    )
    .await;
    assert_access_dead(&p, &s.web, &s.tokens.access_token, "first access token").await;
    assert_access_dead(&p, &s.web, &rotated.access_token, "rotated access token").await;
    // Another grant of the same user and client is untouched.
    assert_grant_alive(&p, &s.web, &other, "another grant").await;
}

async fn password_change_ends_grants_and_sessions(backend: Backend) {
    let p = Provider::start(backend);
    let s = signed_in(&p).await;
    let out = p.admin().run(
        &["user", "set-password", "alice", "--password-stdin"],
        Some("a brand new password 42"),
    );
    assert!(out.status.success(), "set-password: {}", out.stderr);
    assert_grant_dead(&p, &s.web, &s.tokens, "after a password change").await;
    assert!(
        !session_alive(&s.browser, &p.server, &Authorize::new(&p.server, &s.web)).await,
        "the browser session survived a password change"
    );
    // The new password signs in and its grant lives.
    let user = User {
        password: "a brand new password 42".into(),
        ..s.user.clone()
    };
    let fresh = login_and_exchange(&p.browser(), &p.server, &s.web, &user).await;
    assert_grant_alive(&p, &s.web, &fresh, "a grant after the change").await;
}

async fn disabling_ends_grants_and_sessions(backend: Backend) {
    let p = Provider::start(backend);
    let s = signed_in(&p).await;
    p.admin().disable_user("alice");
    p.admin().enable_user("alice");
    // Enabling again does not bring anything back.
    assert_grant_dead(&p, &s.web, &s.tokens, "after disable + enable").await;
    assert!(
        !session_alive(&s.browser, &p.server, &Authorize::new(&p.server, &s.web)).await,
        "the browser session survived disabling"
    );
}

async fn consent_withdrawal_ends_that_clients_grants(backend: Backend) {
    let p = Provider::start(backend);
    let s = signed_in(&p).await;
    let partner = p.admin().add_client(&ClientSpec::confidential("Partner"));
    let partner_tokens = login_and_exchange(&s.browser, &p.server, &partner, &s.user).await;
    p.admin().revoke_consent("alice", &partner.client_id);
    assert_grant_dead(&p, &partner, &partner_tokens, "the partner's grant").await;
    // The first-party app's grant and the browser session are not the partner's.
    assert_grant_alive(&p, &s.web, &s.tokens, "the app's grant").await;
    assert!(session_alive(&s.browser, &p.server, &Authorize::new(&p.server, &s.web)).await);
}

async fn client_removal_ends_its_grants(backend: Backend) {
    let p = Provider::start(backend);
    let s = signed_in(&p).await;
    let admin = p.admin();
    // An API that introspects, so someone other than the removed client can look.
    let api = admin.add_client(&ClientSpec::service("API introspection"));
    admin.json(
        &[
            "resource",
            "add",
            "--identifier",
            API,
            "--name",
            "API",
            "--introspection-client",
            &api.client_id,
        ],
        None,
    );
    let req = Authorize::new(&p.server, &s.web).param("resource", API);
    let code = req.run(&s.browser, &p.server, &s.user).await.code();
    let for_api = TokenSet::from_response(
        &oauth::exchange_code(&p.server, &s.web, &code, Some(req.verifier())).await,
    );
    let service = admin.add_client(&ClientSpec::service("Backend"));
    let machine = TokenSet::from_response(
        &oauth::token(
            &p.server,
            service.auth(),
            &[("grant_type", "client_credentials"), ("resource", API)],
        )
        .await,
    )
    .access_token;
    let shop = admin.add_client(&ClientSpec::confidential("Shop").first_party());
    let shop_tokens = login_and_exchange(&s.browser, &p.server, &shop, &s.user).await;
    for token in [&for_api.access_token, &machine] {
        assert!(
            oauth::is_active(&p.server, api.auth(), token).await,
            "active before removal"
        );
    }

    for client in [&s.web.client_id, &service.client_id] {
        let out = admin.run(&["client", "remove", client], None);
        assert!(out.status.success(), "client remove: {}", out.stderr);
    }
    // The user's token dies at once (its grant is revoked); the resource server sees it.
    assert!(
        !oauth::is_active(&p.server, api.auth(), &for_api.access_token).await,
        "the removed client's user token is still active"
    );
    oauth::assert_invalid_token(&oauth::userinfo(&p.server, &s.tokens.access_token).await);
    // The client_credentials token has no grant: it dies when the server's client cache
    // (5 s) forgets the removed client.
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    while oauth::is_active(&p.server, api.auth(), &machine).await {
        assert!(
            std::time::Instant::now() < deadline,
            "the removed client's client_credentials token is still active"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_grant_alive(&p, &shop, &shop_tokens, "another client's grant").await;
}

async fn refresh_family_has_an_absolute_lifetime(backend: Backend) {
    let p = Provider::start_with(backend, &[("TESSERA_REFRESH_TOKEN_MAX_LIFETIME_SECS", "3")]);
    let s = signed_in(&p).await;
    let started = tessera_tests::now_secs();
    let rotated =
        TokenSet::from_response(&oauth::refresh(&p.server, &s.web, s.tokens.refresh()).await);
    let seen = oauth::introspect(&p.server, s.web.auth(), rotated.refresh()).await;
    let exp = seen.assert_ok()["exp"].as_i64().expect("exp");
    assert!(
        exp <= started + 4,
        "rotation extended the family: exp {exp}, family started about {started}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(4200)).await;
    oauth::refresh(&p.server, &s.web, rotated.refresh())
        .await
        .assert_error(400, "invalid_grant");
}
