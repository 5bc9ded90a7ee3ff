//! Two provider processes sharing one PostgreSQL database and one Redis prefix behave as one
//! provider: codes are redeemed once across both, revocation on one is seen by the other.

use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::server::free_port;
use tessera_tests::{
    production_only, Authorize, Backend, ClientSpec, Server, TestEnv, TokenSet, PASSWORD,
};

/// Two servers on one env with the same explicit TESSERA_ISSUER (that of the first one's
/// address, so browser redirects stay valid). Returned in drop order: servers first.
fn two_servers(backend: Backend) -> (Server, Server, TestEnv) {
    assert_eq!(backend, Backend::Production);
    let env = TestEnv::new(backend);
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let issuer = format!("http://{bind}");
    let a = Server::start(
        &env,
        &[
            ("TESSERA_BIND", bind.as_str()),
            ("TESSERA_ISSUER", issuer.as_str()),
        ],
    );
    let b = Server::start(&env, &[("TESSERA_ISSUER", issuer.as_str())]);
    assert_eq!(a.issuer(), issuer);
    assert_eq!(b.issuer(), issuer);
    assert_ne!(a.base_url(), b.base_url());
    (a, b, env)
}

production_only!(
    code_redeemed_once_across_processes,
    concurrent_redemption_on_two_processes,
    revocation_seen_by_the_other_process
);

async fn code_redeemed_once_across_processes(backend: Backend) {
    let (a, b, env) = two_servers(backend);
    let admin = env.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let browser = tessera_tests::Browser::new(a.base_url());

    let req = Authorize::new(&a, &client);
    let code = req.run(&browser, &a, &user).await.code();

    // Issued by A, redeemed at B...
    let first = exchange_code(&b, &client, &code, Some(req.verifier())).await;
    let tokens = TokenSet::from_response(&first);
    // ...and not again at A.
    exchange_code(&a, &client, &code, Some(req.verifier()))
        .await
        .assert_error(400, "invalid_grant");
    // The replay revoked what B issued, as seen by both.
    assert!(!oauth::is_active(&a, client.auth(), &tokens.access_token).await);
    assert!(!oauth::is_active(&b, client.auth(), &tokens.access_token).await);

    // Tokens issued by A are honoured by B (same keys, same refresh-token store).
    let req = Authorize::new(&a, &client);
    let code = req.run(&browser, &a, &user).await.code();
    let t = TokenSet::from_response(&exchange_code(&a, &client, &code, Some(req.verifier())).await);
    let info = oauth::userinfo(&b, &t.access_token).await;
    info.assert_ok();
    let refreshed = oauth::refresh(&b, &client, t.refresh()).await;
    refreshed.assert_ok();
}

async fn concurrent_redemption_on_two_processes(backend: Backend) {
    let (a, b, env) = two_servers(backend);
    let admin = env.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let browser = tessera_tests::Browser::new(a.base_url());

    for round in 0..5 {
        let req = Authorize::new(&a, &client);
        let code = req.run(&browser, &a, &user).await.code();
        let (ra, rb) = tokio::join!(
            exchange_code(&a, &client, &code, Some(req.verifier())),
            exchange_code(&b, &client, &code, Some(req.verifier())),
        );
        let successes: Vec<_> = [&ra, &rb]
            .into_iter()
            .filter(|r| r.status.as_u16() == 200)
            .collect();
        assert!(
            successes.len() <= 1,
            "round {round}: a code was redeemed twice\nA: {}\nB: {}",
            ra.describe(),
            rb.describe()
        );
        for r in [&ra, &rb].into_iter().filter(|r| r.status.as_u16() != 200) {
            r.assert_error(400, "invalid_grant");
        }
        // RFC 6749 4.1.2: a code used twice revokes what it issued, on both processes. (When
        // the two arrive together, the replay is seen by the first redemption too, and both
        // are refused.)
        for won in successes {
            let t = TokenSet::from_response(won);
            assert!(!oauth::is_active(&a, client.auth(), &t.access_token).await);
            assert!(!oauth::is_active(&b, client.auth(), &t.access_token).await);
        }
    }
}

async fn revocation_seen_by_the_other_process(backend: Backend) {
    let (a, b, env) = two_servers(backend);
    let admin = env.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let browser = tessera_tests::Browser::new(a.base_url());
    let tokens = oauth::login_and_exchange(&browser, &a, &client, &user).await;

    assert!(oauth::is_active(&b, client.auth(), &tokens.access_token).await);
    oauth::revoke(
        &a,
        client.auth(),
        &tokens.access_token,
        Some("access_token"),
    )
    .await;
    assert!(
        !oauth::is_active(&b, client.auth(), &tokens.access_token).await,
        "access token revoked on A still active on B"
    );
    oauth::assert_invalid_token(&oauth::userinfo(&b, &tokens.access_token).await);

    // And the other way round for the refresh token.
    oauth::revoke(&b, client.auth(), tokens.refresh(), Some("refresh_token")).await;
    oauth::refresh(&a, &client, tokens.refresh())
        .await
        .assert_error(400, "invalid_grant");

    // client_credentials tokens too.
    let service = admin.add_client(&ClientSpec::service("Backend"));
    let cc = oauth::token(
        &b,
        service.auth(),
        &[("grant_type", "client_credentials"), ("scope", "api.read")],
    )
    .await;
    let at = cc.assert_ok()["access_token"].as_str().unwrap().to_string();
    assert!(oauth::is_active(&a, service.auth(), &at).await);
    oauth::revoke(&b, service.auth(), &at, None).await;
    assert!(!oauth::is_active(&a, service.auth(), &at).await);
}
