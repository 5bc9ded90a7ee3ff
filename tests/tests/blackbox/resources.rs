//! Audience-restricted access tokens (RFC 8707 resource indicators), on both backend pairs:
//! registered resource servers, `resource` at /authorize and /token, `aud` set to the resource
//! or the client itself, `invalid_target` for anything else, and introspection that shows a
//! token only to its client and to the resource server it is for (RFC 7662 section 4).

use serde_json::Value;
use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::{
    both_backends, jwt, Authorize, Backend, ClientSpec, Provider, RegisteredClient, TokenSet, User,
    PASSWORD,
};

const API: &str = "https://api.example.test";

both_backends!(
    resource_servers_are_registered_with_checks,
    tokens_for_a_resource_are_shown_to_it_and_their_client_only,
    unknown_or_changed_targets_are_invalid_target,
    client_credentials_for_a_resource
);

fn aud(token: &str) -> Value {
    jwt::decode_or_panic(token).claims["aud"].clone()
}

/// A provider with alice, a web client, and the API registered with its own introspection
/// client; returns (provider, web, api's introspection client, alice).
fn setup(backend: Backend) -> (Provider, RegisteredClient, RegisteredClient, User) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let alice = admin.add_user("alice", PASSWORD);
    let web = admin.add_client(&ClientSpec::confidential("Web").first_party());
    let api = admin.add_client(&ClientSpec::service("API introspection"));
    let added = admin.json(
        &[
            "resource",
            "add",
            "--identifier",
            API,
            "--name",
            "Shop API",
            "--introspection-client",
            &api.client_id,
        ],
        None,
    );
    assert_eq!(added["identifier"], API, "{added}");
    (p, web, api, alice)
}

async fn resource_servers_are_registered_with_checks(backend: Backend) {
    let (p, _web, _api, _alice) = setup(backend);
    let admin = p.admin();
    let listed = admin.json(&["resource", "list"], None);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let public = admin.add_client(&ClientSpec::public("App"));
    for (what, args) in [
        (
            "a fragment",
            vec!["--identifier", "https://api.example.test/#x", "--name", "X"],
        ),
        ("not a URI", vec!["--identifier", "api", "--name", "X"]),
        ("a duplicate", vec!["--identifier", API, "--name", "Again"]),
        (
            "a public introspection client",
            vec![
                "--identifier",
                "https://b.example.test",
                "--name",
                "B",
                "--introspection-client",
                &public.client_id,
            ],
        ),
        (
            "an unknown introspection client",
            vec![
                "--identifier",
                "https://c.example.test",
                "--name",
                "C",
                "--introspection-client",
                "nobody",
            ],
        ),
    ] {
        let mut full = vec!["resource", "add"];
        full.extend(args);
        let out = admin.run(&full, None);
        assert!(!out.status.success(), "{what} was accepted: {}", out.stdout);
    }
    assert_eq!(
        admin
            .json(&["resource", "list"], None)
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

async fn tokens_for_a_resource_are_shown_to_it_and_their_client_only(backend: Backend) {
    let (p, web, api, user) = setup(backend);
    let other = p.admin().add_client(&ClientSpec::confidential("Other"));
    let browser = p.browser();
    let req = Authorize::new(&p.server, &web).param("resource", API);
    let code = req.run(&browser, &p.server, &user).await.code();
    let tokens =
        TokenSet::from_response(&exchange_code(&p.server, &web, &code, Some(req.verifier())).await);
    assert_eq!(aud(&tokens.access_token), API);
    // Its client and the API see it; any other client does not.
    assert!(oauth::is_active(&p.server, web.auth(), &tokens.access_token).await);
    let seen = oauth::introspect(&p.server, api.auth(), &tokens.access_token).await;
    assert_eq!(seen.assert_ok()["active"], true, "{}", seen.describe());
    assert_eq!(seen.body["aud"], API);
    let hidden = oauth::introspect(&p.server, other.auth(), &tokens.access_token).await;
    assert_eq!(hidden.assert_ok(), &serde_json::json!({ "active": false }));
    // The user's token still works at userinfo (it carries openid).
    oauth::userinfo(&p.server, &tokens.access_token)
        .await
        .assert_ok();
    // The refresh keeps the audience.
    let refreshed =
        TokenSet::from_response(&oauth::refresh(&p.server, &web, tokens.refresh()).await);
    assert_eq!(aud(&refreshed.access_token), API);

    // Without a resource the token is for the client itself, and the API does not see it.
    let plain = oauth::login_and_exchange(&browser, &p.server, &web, &user).await;
    assert_eq!(aud(&plain.access_token), web.client_id.as_str());
    assert!(!oauth::is_active(&p.server, api.auth(), &plain.access_token).await);
}

async fn unknown_or_changed_targets_are_invalid_target(backend: Backend) {
    let (p, web, _api, user) = setup(backend);
    let browser = p.browser();
    // At /authorize: an error redirect with state and iss.
    for bad in [
        "https://unknown.example.test",
        "https://api.example.test/#frag",
        "relative",
    ] {
        let req = Authorize::new(&p.server, &web).param("resource", bad);
        let outcome = req.run(&browser, &p.server, &user).await;
        tessera_tests::steps::assert_error(&outcome.redirect, &req, &p.server, "invalid_target");
    }
    // At /token: another resource than the authorization request's.
    let req = Authorize::new(&p.server, &web).param("resource", API);
    let code = req.run(&browser, &p.server, &user).await.code();
    let p2 = p.admin();
    p2.json(
        &[
            "resource",
            "add",
            "--identifier",
            "https://other.example.test",
            "--name",
            "O",
        ],
        None,
    );
    oauth::token(
        &p.server,
        web.auth(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", web.redirect()),
            ("code_verifier", req.verifier()),
            ("resource", "https://other.example.test"),
        ],
    )
    .await
    .assert_error(400, "invalid_target");
    // A refresh cannot move the grant to another resource.
    let req = Authorize::new(&p.server, &web).param("resource", API);
    let code = req.run(&browser, &p.server, &user).await.code();
    let t =
        TokenSet::from_response(&exchange_code(&p.server, &web, &code, Some(req.verifier())).await);
    oauth::token(
        &p.server,
        web.auth(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t.refresh()),
            ("resource", "https://other.example.test"),
        ],
    )
    .await
    .assert_error(400, "invalid_target");
}

async fn client_credentials_for_a_resource(backend: Backend) {
    let (p, _web, api, _alice) = setup(backend);
    let backend_client = p.admin().add_client(&ClientSpec::service("Backend"));
    let resp = oauth::token(
        &p.server,
        backend_client.auth(),
        &[("grant_type", "client_credentials"), ("resource", API)],
    )
    .await;
    let token = TokenSet::from_response(&resp).access_token;
    assert_eq!(aud(&token), API);
    assert!(oauth::is_active(&p.server, api.auth(), &token).await);
    let own = TokenSet::from_response(
        &oauth::token(
            &p.server,
            backend_client.auth(),
            &[("grant_type", "client_credentials")],
        )
        .await,
    )
    .access_token;
    assert_eq!(aud(&own), backend_client.client_id.as_str());
    oauth::token(
        &p.server,
        backend_client.auth(),
        &[
            ("grant_type", "client_credentials"),
            ("resource", "https://nope.example.test"),
        ],
    )
    .await
    .assert_error(400, "invalid_target");
}
