//! client_credentials: RFC 9068 JWT access tokens verifiable with /jwks, and key rotation via
//! the admin CLI that keeps existing tokens verifiable.

use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_tests::oauth::{self, get_json, JsonResponse};
use tessera_tests::{both_backends, jwt, Backend, ClientAuth, ClientSpec, Provider};

async fn client_credentials(p: &Provider, auth: ClientAuth<'_>, scope: &str) -> JsonResponse {
    oauth::token(
        &p.server,
        auth,
        &[("grant_type", "client_credentials"), ("scope", scope)],
    )
    .await
}

async fn jwks(p: &Provider) -> Value {
    let resp = get_json(&p.server.url("/jwks")).await;
    resp.assert_ok().clone()
}

both_backends!(
    client_credentials_issues_at_jwt,
    client_secret_post_and_scope_checks,
    key_rotation_keeps_tokens_verifiable
);

async fn client_credentials_issues_at_jwt(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::service("Backend"));
    let resp = client_credentials(&p, client.auth(), "api.read").await;
    let body = resp.assert_ok();
    assert!(
        resp.header("cache-control")
            .unwrap_or("")
            .contains("no-store"),
        "token response without Cache-Control: no-store: {}",
        resp.describe()
    );
    assert!(
        body["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "token_type: {body}"
    );
    assert_eq!(body["expires_in"], 600, "default access_token_ttl_secs");
    assert!(
        body.get("refresh_token").is_none(),
        "client_credentials must not issue a refresh token: {body}"
    );
    assert!(
        body.get("id_token").is_none(),
        "no ID token without a user: {body}"
    );

    let token = body["access_token"].as_str().expect("access_token");
    let jwks = jwks(&p).await;
    let jws = jwt::verify(token, &jwks).unwrap_or_else(|e| panic!("access token: {e}"));
    let h = &jws.header;
    let c = &jws.claims;
    assert_eq!(
        h["typ"].as_str().map(str::to_ascii_lowercase).as_deref(),
        Some("at+jwt"),
        "RFC 9068 typ header: {h}"
    );
    assert_eq!(h["alg"], "ES256", "access tokens are ES256 by default: {h}");
    assert_eq!(c["iss"], p.server.issuer(), "{c}");
    assert_eq!(c["sub"], client.client_id.as_str(), "{c}");
    assert_eq!(c["client_id"], client.client_id.as_str(), "{c}");
    assert_eq!(c["scope"], "api.read", "{c}");
    let aud_ok = match &c["aud"] {
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => {
            !a.is_empty() && a.iter().all(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        }
        _ => false,
    };
    assert!(aud_ok, "aud missing: {c}");
    assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()), "jti: {c}");
    let now = tessera_tests::now_secs();
    let iat = c["iat"].as_i64().expect("iat");
    let exp = c["exp"].as_i64().expect("exp");
    assert!(
        (now - 60..=now + 60).contains(&iat),
        "iat {iat} vs now {now}"
    );
    assert_eq!(exp - iat, 600, "exp - iat");

    // Two tokens never share a jti.
    let again = client_credentials(&p, client.auth(), "api.read").await;
    let t2 = jwt::decode_or_panic(again.assert_ok()["access_token"].as_str().unwrap());
    assert_ne!(t2.claims["jti"], c["jti"]);

    // Introspection by the same client: active with the RFC 7662 members.
    let intro = oauth::introspect(&p.server, client.auth(), token).await;
    let i = intro.assert_ok();
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["client_id"], client.client_id.as_str(), "{i}");
    assert_eq!(i["scope"], "api.read", "{i}");
    assert_eq!(i["exp"], exp, "{i}");

    // Revoked: inactive at once.
    oauth::revoke(&p.server, client.auth(), token, None).await;
    assert!(!oauth::is_active(&p.server, client.auth(), token).await);
}

async fn client_secret_post_and_scope_checks(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::service("Backend"));
    let post = ClientAuth::Post(&client.client_id, client.secret());
    let resp = client_credentials(&p, post, "api.read api.write").await;
    let jws = jwt::decode_or_panic(resp.assert_ok()["access_token"].as_str().unwrap());
    let mut scopes: Vec<&str> = jws.claims["scope"].as_str().unwrap().split(' ').collect();
    scopes.sort();
    assert_eq!(scopes, ["api.read", "api.write"]);

    // A scope the client is not registered for: invalid_scope (RFC 6749 5.2).
    client_credentials(&p, client.auth(), "api.admin")
        .await
        .assert_error(400, "invalid_scope");
}

async fn key_rotation_keeps_tokens_verifiable(backend: Backend) {
    let p = Provider::start_with(backend, &[("TESSERA_KEY_RELOAD_SECS", "1")]);
    let admin = p.admin();
    let client = admin.add_client(&ClientSpec::service("Backend"));

    let old = client_credentials(&p, client.auth(), "api.read").await;
    let old_token = old.assert_ok()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let old_kid = jwt::decode_or_panic(&old_token).header["kid"]
        .as_str()
        .expect("kid")
        .to_string();
    jwt::verify(&old_token, &jwks(&p).await).expect("verifies before rotation");

    admin.rotate_keys(Some("ES256"));
    let _ = admin.list_keys();

    // Within a few reload periods, new tokens are signed with a different key.
    let deadline = Instant::now() + Duration::from_secs(20);
    let new_token = loop {
        let resp = client_credentials(&p, client.auth(), "api.read").await;
        let t = resp.assert_ok()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        if jwt::decode_or_panic(&t).header["kid"] != old_kid.as_str() {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "after `keys rotate --alg ES256` the server still signs with {old_kid}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    let set = jwks(&p).await;
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()),
        "retired key {old_kid} dropped from /jwks while a token signed by it is valid: {kids:?}"
    );
    jwt::verify(&old_token, &set).expect("old token still verifies after rotation");
    jwt::verify(&new_token, &set).expect("new token verifies");
    assert!(
        oauth::is_active(&p.server, client.auth(), &old_token).await,
        "old token inactive after rotation"
    );
}
