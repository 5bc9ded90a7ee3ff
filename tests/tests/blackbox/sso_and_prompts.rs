//! Single sign-on across clients and the OIDC Core 3.1.2.1 request parameters that steer it:
//! `prompt=login`, `max_age`, `login_hint`; and the ID token's `acr`, `amr`, `sid` and
//! `auth_time` for a fresh login versus a single sign-on reuse.
//!
//! Whether a login happened "during this request" (for `prompt=login` and `acr`) is recorded on
//! the pending request itself, so these tests deliberately reuse a session within the same
//! second as its login. Only `max_age` compares whole-second times, and its test waits a
//! little over a second.

use std::time::Duration;

use serde_json::{json, Value};
use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::steps::{self, land, Landing};
use tessera_tests::{
    both_backends, jwt, Authorize, Backend, ClientSpec, Provider, RegisteredClient, TokenSet,
    PASSWORD,
};

/// Just over a second: enough for the provider's whole-second clock to move on.
const NEXT_SECOND: Duration = Duration::from_millis(1200);

const SECOND_REDIRECT_URI: &str = "https://rp2.example.test/callback";

/// A first-party client with its own redirect URI.
fn second_first_party() -> ClientSpec {
    let mut spec = ClientSpec::confidential("Second app").first_party();
    spec.redirect_uris = vec![SECOND_REDIRECT_URI.to_string()];
    spec.post_logout_redirect_uris = Vec::new();
    spec
}

/// Redeems `code` and returns the tokens with the ID token's claims, verified against /jwks.
async fn redeem(
    p: &Provider,
    client: &RegisteredClient,
    req: &Authorize,
    code: &str,
) -> (TokenSet, Value) {
    let tokens = TokenSet::from_response(
        &exchange_code(&p.server, client, code, Some(req.verifier())).await,
    );
    let id_token = tokens
        .id_token
        .clone()
        .unwrap_or_else(|| panic!("no id_token: {}", tokens.raw));
    let jwks = oauth::get_json(&p.server.url("/jwks")).await;
    jwks.assert_ok();
    let verified = jwt::verify(&id_token, &jwks.body)
        .unwrap_or_else(|e| panic!("ID token does not verify: {e}"));
    let claims = verified.claims;
    assert_eq!(claims["iss"], json!(p.server.issuer()), "iss: {claims}");
    assert_eq!(claims["aud"], json!(client.client_id), "aud: {claims}");
    assert_eq!(claims["nonce"], json!(req.nonce), "nonce: {claims}");
    (tokens, claims)
}

fn int(claims: &Value, name: &str) -> i64 {
    claims
        .get(name)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("claim `{name}` is not an integer: {claims}"))
}

fn string(claims: &Value, name: &str) -> String {
    claims
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("claim `{name}` is not a string: {claims}"))
        .to_string()
}

both_backends!(
    single_sign_on_across_first_party_clients,
    prompt_login_with_a_live_session_asks_for_the_password,
    max_age_exceeded_asks_for_the_password,
    bad_prompt_and_max_age_values_are_refused,
    login_hint_prefills_the_username,
    acr_amr_sid_for_fresh_login_and_sso_reuse
);

async fn single_sign_on_across_first_party_clients(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let first = admin.add_client(&ClientSpec::confidential("First app").first_party());
    let second = admin.add_client(&second_first_party());
    let browser = p.browser();

    let req1 = Authorize::new(&p.server, &first);
    let outcome = req1.run(&browser, &p.server, &user).await;
    assert!(
        outcome.saw_login,
        "the first client did not ask for a login"
    );
    assert!(!outcome.saw_consent, "first-party client asked for consent");
    let (_, claims1) = redeem(&p, &first, &req1, &outcome.code()).await;

    // The second client: /authorize itself redirects back with a code, /login never shows.
    let req2 = Authorize::new(&p.server, &second);
    let resp = browser.get(&req2.url()).await;
    assert_eq!(resp.status.as_u16(), 303, "{}", resp.describe());
    let loc = resp.expect_location();
    assert!(
        !browser.is_provider(&loc),
        "the second client was sent to {loc} (expected its redirect URI)"
    );
    let code = steps::assert_code(&loc, &req2, &p.server);
    let (_, claims2) = redeem(&p, &second, &req2, &code).await;
    assert_eq!(claims1["sub"], claims2["sub"], "SSO changed the subject");

    // The session belongs to that browser: another browser must log in.
    let req3 = Authorize::new(&p.server, &second);
    land(&p.browser(), &req3.url())
        .await
        .expect_login("the second client in another browser");
}

async fn prompt_login_with_a_live_session_asks_for_the_password(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("App").first_party());
    let browser = p.browser();

    let req = Authorize::new(&p.server, &client);
    let code = req.run(&browser, &p.server, &user).await.code();
    let (_, before) = redeem(&p, &client, &req, &code).await;
    assert!(
        steps::session_alive(&browser, &p.server, &Authorize::new(&p.server, &client)).await,
        "no session after the login"
    );
    // Deliberately in the same second as the login: whole-second times must not decide.

    // With a live session, prompt=login still sends the browser to /login.
    let req = Authorize::new(&p.server, &client).param("prompt", "login");
    let resp = browser.get(&req.url()).await;
    assert_eq!(resp.status.as_u16(), 303, "{}", resp.describe());
    let loc = resp.expect_location();
    assert_eq!(loc.path(), "/login", "prompt=login went to {loc}");
    let page = Landing::from_page(&browser, resp)
        .await
        .expect_login("prompt=login with a session");

    // A wrong password is not waved through by the existing session.
    let bad = browser
        .submit_login(&page, &user.username, "wrong password")
        .await;
    assert_eq!(bad.status.as_u16(), 401, "{}", bad.describe());

    let loc = steps::login(&browser, &page, &user.username, &user.password)
        .await
        .expect_client("after re-entering the password");
    let code = steps::assert_code(&loc, &req, &p.server);
    let (_, after) = redeem(&p, &client, &req, &code).await;
    // A new login: a new session (new sid), at the same time or later.
    assert!(
        int(&after, "auth_time") >= int(&before, "auth_time"),
        "auth_time went back: before {before}, after {after}"
    );
    assert_ne!(
        after["sid"], before["sid"],
        "prompt=login did not start a new session"
    );
    assert_eq!(after["acr"], json!("1"), "acr after prompt=login: {after}");
}

async fn max_age_exceeded_asks_for_the_password(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("App").first_party());
    let browser = p.browser();

    let req = Authorize::new(&p.server, &client);
    let code = req.run(&browser, &p.server, &user).await.code();
    let (_, before) = redeem(&p, &client, &req, &code).await;
    tokio::time::sleep(NEXT_SECOND).await;

    // A generous max_age is satisfied by the session.
    let req = Authorize::new(&p.server, &client).param("max_age", "3600");
    let loc = land(&browser, &req.url())
        .await
        .expect_client("max_age=3600 with a fresh session");
    steps::assert_code(&loc, &req, &p.server);

    // max_age=0 with a login a second or more ago: with prompt=none that is login_required...
    let none = Authorize::new(&p.server, &client)
        .param("max_age", "0")
        .param("prompt", "none");
    let loc = land(&browser, &none.url())
        .await
        .expect_client("max_age=0 prompt=none");
    steps::assert_error(&loc, &none, &p.server, "login_required");

    // ...and otherwise the login page.
    let req = Authorize::new(&p.server, &client).param("max_age", "0");
    let resp = browser.get(&req.url()).await;
    assert_eq!(resp.status.as_u16(), 303, "{}", resp.describe());
    assert_eq!(
        resp.expect_location().path(),
        "/login",
        "max_age=0 did not ask for a login"
    );
    let page = Landing::from_page(&browser, resp)
        .await
        .expect_login("max_age=0");
    let loc = steps::login(&browser, &page, &user.username, &user.password)
        .await
        .expect_client("after the new login");
    let code = steps::assert_code(&loc, &req, &p.server);
    let (_, after) = redeem(&p, &client, &req, &code).await;
    assert!(
        int(&after, "auth_time") > int(&before, "auth_time"),
        "auth_time not renewed for max_age=0: before {before}, after {after}"
    );
}

async fn bad_prompt_and_max_age_values_are_refused(backend: Backend) {
    let p = Provider::start(backend);
    let client = p
        .admin()
        .add_client(&ClientSpec::confidential("App").first_party());
    let browser = p.browser();
    for (param, value) in [
        ("prompt", "none login"),
        ("prompt", "none consent"),
        ("prompt", "select_account"),
        ("prompt", "create"),
        ("max_age", "-1"),
        ("max_age", "soon"),
        ("max_age", "1.5"),
    ] {
        let req = Authorize::new(&p.server, &client).param(param, value);
        let loc = land(&browser, &req.url())
            .await
            .expect_client(&format!("{param}={value}"));
        steps::assert_error(&loc, &req, &p.server, "invalid_request");
    }
}

async fn login_hint_prefills_the_username(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("App").first_party());

    let browser = p.browser();
    let req = Authorize::new(&p.server, &client).param("login_hint", "alice");
    let page = land(&browser, &req.url())
        .await
        .expect_login("login_hint=alice");
    let form = page.form("/login").unwrap();
    assert_eq!(
        form.value("username"),
        Some("alice"),
        "username not pre-filled: {form:?}"
    );
    // The hint only pre-fills: the password is still needed, and the form works.
    assert_eq!(
        form.value("password").unwrap_or(""),
        "",
        "password pre-filled"
    );
    let loc = steps::login(&browser, &page, &user.username, &user.password)
        .await
        .expect_client("login with the pre-filled form");
    steps::assert_code(&loc, &req, &p.server);

    // Markup in the hint is escaped: the value round-trips, no element is injected.
    let hostile = "\"><script>alert(1)</script>";
    let req = Authorize::new(&p.server, &client).param("login_hint", hostile);
    let page = land(&p.browser(), &req.url())
        .await
        .expect_login("hostile login_hint");
    assert_eq!(
        page.form("/login").unwrap().value("username"),
        Some(hostile),
        "hostile hint not round-tripped as a value"
    );
    assert!(
        !page.body.contains("<script>alert(1)</script>"),
        "login_hint injected markup:\n{}",
        page.body
    );

    // Without a hint the field is empty.
    let req = Authorize::new(&p.server, &client);
    let page = land(&p.browser(), &req.url())
        .await
        .expect_login("no login_hint");
    assert_eq!(
        page.form("/login").unwrap().value("username").unwrap_or(""),
        "",
        "username pre-filled without a hint"
    );
}

async fn acr_amr_sid_for_fresh_login_and_sso_reuse(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("App").first_party());
    let second = admin.add_client(&second_first_party());
    let browser = p.browser();

    // Fresh login: acr "1".
    let req = Authorize::new(&p.server, &client);
    let code = req.run(&browser, &p.server, &user).await.code();
    let (tokens1, fresh) = redeem(&p, &client, &req, &code).await;
    assert_eq!(fresh["acr"], json!("1"), "acr after a fresh login: {fresh}");
    assert_eq!(
        fresh["amr"],
        json!(["pwd"]),
        "amr after a fresh login: {fresh}"
    );
    let sid = string(&fresh, "sid");
    assert!(!sid.is_empty(), "empty sid: {fresh}");

    // Deliberately in the same second as the login: whole-second times must not decide.

    // Single sign-on reuse, same client: acr "0", same sid and auth_time, amr unchanged.
    let req = Authorize::new(&p.server, &client);
    let loc = land(&browser, &req.url()).await.expect_client("SSO reuse");
    let code = steps::assert_code(&loc, &req, &p.server);
    let (tokens2, reused) = redeem(&p, &client, &req, &code).await;
    assert_eq!(reused["acr"], json!("0"), "acr on SSO reuse: {reused}");
    assert_eq!(reused["amr"], json!(["pwd"]), "amr on SSO reuse: {reused}");
    assert_eq!(
        string(&reused, "sid"),
        sid,
        "sid changed within one session"
    );
    assert_eq!(
        int(&reused, "auth_time"),
        int(&fresh, "auth_time"),
        "SSO reuse moved auth_time"
    );
    assert_eq!(reused["sub"], fresh["sub"]);

    // The access tokens carry the same acr and sid (RFC 9068 user claims).
    for (tokens, acr) in [(&tokens1, "1"), (&tokens2, "0")] {
        let at = jwt::decode_or_panic(&tokens.access_token).claims;
        assert_eq!(at["acr"], json!(acr), "access token acr: {at}");
        assert_eq!(at["sid"], json!(sid), "access token sid: {at}");
    }

    // Another client in the same session: the same sid, acr "0".
    let req = Authorize::new(&p.server, &second);
    let loc = land(&browser, &req.url())
        .await
        .expect_client("SSO to the second client");
    let code = steps::assert_code(&loc, &req, &p.server);
    let (_, other_client) = redeem(&p, &second, &req, &code).await;
    assert_eq!(other_client["acr"], json!("0"), "{other_client}");
    assert_eq!(
        string(&other_client, "sid"),
        sid,
        "sid differs across clients"
    );

    // Another browser is another session: a different sid.
    let req = Authorize::new(&p.server, &client);
    let code = req.run(&p.browser(), &p.server, &user).await.code();
    let (_, elsewhere) = redeem(&p, &client, &req, &code).await;
    assert_eq!(elsewhere["acr"], json!("1"), "{elsewhere}");
    assert_ne!(string(&elsewhere, "sid"), sid, "two browsers share one sid");
}
