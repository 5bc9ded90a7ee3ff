//! Errors at /token, each with the exact RFC 6749 section 5.2 code and status.

use std::time::Duration;

use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::{
    both_backends, Authorize, Backend, ClientAuth, ClientSpec, Provider, TokenSet, PASSWORD,
};

both_backends!(
    code_replay_fails_and_revokes_its_tokens,
    wrong_pkce_verifier,
    code_is_bound_to_client_and_redirect_uri,
    wrong_client_secret,
    unsupported_grant_type,
    grant_not_registered_for_client,
    expired_code,
    refresh_reuse_revokes_the_family
);

async fn code_replay_fails_and_revokes_its_tokens(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let req = Authorize::new(&p.server, &client);
    let code = req.run(&p.browser(), &p.server, &user).await.code();

    let first = exchange_code(&p.server, &client, &code, Some(req.verifier())).await;
    let tokens = TokenSet::from_response(&first);
    assert!(oauth::is_active(&p.server, client.auth(), &tokens.access_token).await);

    let second = exchange_code(&p.server, &client, &code, Some(req.verifier())).await;
    second.assert_error(400, "invalid_grant");

    // RFC 6749 4.1.2 / RFC 9700 4.2.4: what the first redemption issued is revoked.
    assert!(
        !oauth::is_active(&p.server, client.auth(), &tokens.access_token).await,
        "access token from a replayed code still active"
    );
    oauth::assert_invalid_token(&oauth::userinfo(&p.server, &tokens.access_token).await);
    oauth::refresh(&p.server, &client, tokens.refresh())
        .await
        .assert_error(400, "invalid_grant");
}

async fn wrong_pkce_verifier(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    for spec in [ClientSpec::confidential("Web"), ClientSpec::public("SPA")] {
        let client = admin.add_client(&spec);
        let req = Authorize::new(&p.server, &client);
        let code = req.run(&p.browser(), &p.server, &user).await.code();
        let wrong = tessera_tests::random_token(32);
        exchange_code(&p.server, &client, &code, Some(&wrong))
            .await
            .assert_error(400, "invalid_grant");
    }
}

async fn code_is_bound_to_client_and_redirect_uri(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let other = admin.add_client(&ClientSpec::confidential("Other"));

    // Redeemed by another (authenticated) client.
    let req = Authorize::new(&p.server, &client);
    let browser = p.browser();
    let code = req.run(&browser, &p.server, &user).await.code();
    exchange_code(&p.server, &other, &code, Some(req.verifier()))
        .await
        .assert_error(400, "invalid_grant");

    // Redeemed with a different redirect_uri than the one authorized.
    let req = Authorize::new(&p.server, &client);
    let code = req.run(&browser, &p.server, &user).await.code();
    oauth::token(
        &p.server,
        client.auth(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://rp.example.test/elsewhere"),
            ("code_verifier", req.verifier()),
        ],
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn wrong_client_secret(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::service("Backend"));
    let params = [("grant_type", "client_credentials"), ("scope", "api.read")];

    // Sanity: the right secret works.
    oauth::token(&p.server, client.auth(), &params)
        .await
        .assert_ok();

    // client_secret_basic with a wrong secret: 401 + WWW-Authenticate (RFC 6749 5.2).
    for auth in [
        ClientAuth::Basic(&client.client_id, "wrong-secret"),
        ClientAuth::Basic("no-such-client", "whatever"),
    ] {
        let resp = oauth::token(&p.server, auth, &params).await;
        resp.assert_error(401, "invalid_client");
        let www = resp.header("www-authenticate").unwrap_or_else(|| {
            panic!(
                "401 invalid_client without WWW-Authenticate: {}",
                resp.describe()
            )
        });
        assert!(
            www.to_ascii_lowercase().starts_with("basic"),
            "WWW-Authenticate should offer Basic: {www}"
        );
    }

    // client_secret_post with a wrong secret: invalid_client (401 or 400 allowed).
    let resp = oauth::token(
        &p.server,
        ClientAuth::Post(&client.client_id, "wrong-secret"),
        &params,
    )
    .await;
    assert!(
        matches!(resp.status.as_u16(), 400 | 401),
        "wrong client_secret_post: {}",
        resp.describe()
    );
    assert_eq!(
        resp.str("error"),
        Some("invalid_client"),
        "{}",
        resp.describe()
    );

    // A confidential client presenting no secret at all.
    let resp = oauth::token(&p.server, ClientAuth::None(&client.client_id), &params).await;
    assert!(
        matches!(resp.status.as_u16(), 400 | 401),
        "missing secret: {}",
        resp.describe()
    );
    assert_eq!(
        resp.str("error"),
        Some("invalid_client"),
        "{}",
        resp.describe()
    );
}

async fn unsupported_grant_type(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    for grant in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "made_up",
    ] {
        let resp = oauth::token(
            &p.server,
            client.auth(),
            &[
                ("grant_type", grant),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
        resp.assert_error(400, "unsupported_grant_type");
    }
}

async fn grant_not_registered_for_client(backend: Backend) {
    let p = Provider::start(backend);
    // Registered for authorization_code + refresh_token only.
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    oauth::token(
        &p.server,
        client.auth(),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(400, "unauthorized_client");
}

async fn expired_code(backend: Backend) {
    let p = Provider::start_with(backend, &[("TESSERA_CODE_TTL_SECS", "1")]);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let req = Authorize::new(&p.server, &client);
    let code = req.run(&p.browser(), &p.server, &user).await.code();
    tokio::time::sleep(Duration::from_secs(2)).await;
    exchange_code(&p.server, &client, &code, Some(req.verifier()))
        .await
        .assert_error(400, "invalid_grant");
}

async fn refresh_reuse_revokes_the_family(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let t1 = oauth::login_and_exchange(&p.browser(), &p.server, &client, &user).await;
    let rt1 = t1.refresh().to_string();

    let t2 = TokenSet::from_response(&oauth::refresh(&p.server, &client, &rt1).await);
    let rt2 = t2.refresh().to_string();
    assert_ne!(rt1, rt2, "refresh token not rotated");
    let t3 = TokenSet::from_response(&oauth::refresh(&p.server, &client, &rt2).await);
    let rt3 = t3.refresh().to_string();

    // Reuse of a rotated token (RFC 9700 4.14.2): refused...
    oauth::refresh(&p.server, &client, &rt1)
        .await
        .assert_error(400, "invalid_grant");
    // ...and the whole family is revoked: the newest refresh token no longer works either.
    oauth::refresh(&p.server, &client, &rt3)
        .await
        .assert_error(400, "invalid_grant");
    assert!(
        !oauth::is_active(&p.server, client.auth(), &rt3).await,
        "newest refresh token still active after reuse"
    );
}
