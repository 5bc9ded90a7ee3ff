//! The audit log records security events, read back with `tessera-admin
//! audit`, and never holds a token or a code.

use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::{both_backends, Authorize, Backend, ClientSpec, Provider, TokenSet, PASSWORD};

both_backends!(security_events_are_audited);

async fn security_events_are_audited(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let req = Authorize::new(&p.server, &client);
    let code = req.run(&p.browser(), &p.server, &user).await.code();
    let tokens = TokenSet::from_response(
        &exchange_code(&p.server, &client, &code, Some(req.verifier())).await,
    );
    exchange_code(&p.server, &client, &code, Some(req.verifier()))
        .await
        .assert_error(400, "invalid_grant");

    let req = Authorize::new(&p.server, &client);
    let code = req.run(&p.browser(), &p.server, &user).await.code();
    let second = TokenSet::from_response(
        &exchange_code(&p.server, &client, &code, Some(req.verifier())).await,
    );
    oauth::refresh(&p.server, &client, second.refresh())
        .await
        .assert_ok();
    oauth::refresh(&p.server, &client, second.refresh())
        .await
        .assert_error(400, "invalid_grant");
    admin.rotate_keys(Some("ES256"));
    admin.disable_user(&user.username);

    let events = admin.json(&["audit", "--limit", "100"], None);
    let kinds: Vec<&str> = events
        .as_array()
        .expect("audit --json prints an array")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for expected in [
        "user.created",
        "client.created",
        "login.succeeded",
        "code.replayed",
        "refresh_token.reused",
        "keys.rotated",
        "user.disabled",
    ] {
        assert!(kinds.contains(&expected), "no {expected} in {kinds:?}");
    }
    let reuse = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "refresh_token.reused")
        .unwrap();
    assert_eq!(reuse["client_id"], client.client_id.as_str());
    assert_eq!(reuse["user_id"], user.id.as_str());

    let text = events.to_string();
    for secret in [
        code.as_str(),
        tokens.access_token.as_str(),
        tokens.refresh(),
        second.refresh(),
        client.secret(),
        PASSWORD,
    ] {
        assert!(!text.contains(secret), "the audit log holds a secret");
    }

    let bad = admin.run(&["audit", "--limit", "0"], None);
    assert!(!bad.status.success(), "--limit 0 must be refused");
}
